package render

import (
	"bytes"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/nftflow/nftflow/compiler"
	"github.com/nftflow/nftflow/model"
)

// TestSlabIntervalsMatchesSetElements prints random interval sets once
// from SetElems and once from an ElemSlab, in the kernel's order either
// way and shuffled: the texts must be the same.
func TestSlabIntervalsMatchesSetElements(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, typ := range []struct {
		id  uint32
		len int
	}{{compiler.TypeIPAddr, 4}, {compiler.TypeInetService, 2}} {
		for trial := range 30 {
			// Random disjoint intervals, some adjacent, some single values.
			var elems []model.SetElem
			v := uint64(rng.IntN(5))
			for range 1 + rng.IntN(40) {
				lo := v
				hi := lo + uint64(rng.IntN(4))
				key := func(x uint64) []byte {
					b := make([]byte, 8)
					for i := range b {
						b[7-i] = byte(x >> (8 * i))
					}
					return b[8-typ.len:]
				}
				elems = append(elems, model.SetElem{Key: key(lo)})
				if rng.IntN(3) > 0 { // otherwise the next interval starts right after
					elems = append(elems, model.SetElem{Key: key(hi + 1), Flags: 1})
					v = hi + 2 + uint64(rng.IntN(3))
				} else {
					v = hi + 1
				}
				if v >= 1<<(8*typ.len)-1 {
					break
				}
			}
			set := &model.Set{Family: model.FamilyIP, Flags: lsSetInterval, KeyType: typ.id, KeyLen: uint32(typ.len)}
			slab := &model.ElemSlab{KeyLen: typ.len}
			switch trial % 3 {
			case 1:
				slices.Reverse(elems)
			case 2:
				rng.Shuffle(len(elems), func(i, j int) { elems[i], elems[j] = elems[j], elems[i] })
			}
			for _, e := range elems {
				slab.Add(e.Key, uint8(e.Flags))
			}
			var want, got bytes.Buffer
			set.Elements = elems
			NewLister(&want, ListOptions{}).Set(set)
			set.Elements, set.Slab = nil, slab
			NewLister(&got, ListOptions{}).Set(set)
			if got.String() != want.String() {
				t.Fatalf("type %d trial %d: from the slab\n%s\nfrom SetElems\n%s", typ.id, trial, got.String(), want.String())
			}
		}
	}
}
