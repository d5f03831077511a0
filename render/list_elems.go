package render

import (
	"bytes"
	"slices"

	"github.com/nftflow/nftflow/model"
)

// eachElement calls fn with the text of each element of s in the order nft
// prints them, from s.Slab when the dump kept the elements compactly and
// from s.Elements otherwise.
func (l *Lister) eachElement(s *model.Set, kt, dt lsSetType, fn func(string)) {
	if s.Slab != nil && len(kt.fields) != 1 {
		cp := *s
		cp.Elements, cp.Slab = s.Slab.Elements(), nil
		s = &cp
	}
	if s.Slab == nil {
		for _, e := range l.setElements(s, kt, dt, false) {
			fn(e)
		}
		return
	}
	slabIntervals(s.Slab, kt, fn)
}

// hasElements reports whether s has elements to print.
func hasElements(s *model.Set) bool {
	return len(s.Elements) > 0 || s.Slab != nil && s.Slab.Len() > 0
}

// slabIntervals folds the start and end elements of a one-field interval
// set kept in a slab into ranges, as intervalElements does for SetElems:
// ordered by key, an end before a start of the same key, each start
// closed by the next element (an end, or an adjacent start) or by the end
// of the key space. The kernel dumps an interval set in key order (one way
// or the other), so the order is checked and the slab is only sorted, by
// index, when it is neither.
func slabIntervals(slab *model.ElemSlab, kt lsSetType, fn func(string)) {
	n := slab.Len()
	less := func(i, j int) bool {
		c := bytes.Compare(slab.Key(i), slab.Key(j))
		if c != 0 {
			return c < 0
		}
		return slab.Flags[i]&1 != 0 && slab.Flags[j]&1 == 0
	}
	at := func(k int) int { return k } // position k of the sorted order
	asc, desc := true, true
	for i := 0; i+1 < n && (asc || desc); i++ {
		if less(i+1, i) {
			asc = false
		}
		if less(i, i+1) {
			desc = false
		}
	}
	switch {
	case asc:
	case desc:
		at = func(k int) int { return n - 1 - k }
	default:
		idx := make([]int32, n)
		for i := range idx {
			idx[i] = int32(i)
		}
		slices.SortStableFunc(idx, func(a, b int32) int {
			switch {
			case less(int(a), int(b)):
				return -1
			case less(int(b), int(a)):
				return 1
			}
			return 0
		})
		at = func(k int) int { return int(idx[k]) }
	}
	f := kt.fields[0]
	f.host = false // nft keeps interval keys in network byte order
	for k := 0; k < n; k++ {
		i := at(k)
		if slab.Flags[i]&1 != 0 { // an interval end without a start
			continue
		}
		lo := slab.Key(i)
		var hi []byte
		if k+1 < n {
			// The next element ends this interval: an end element, or
			// the start of an adjacent interval.
			next := at(k + 1)
			hi = lsDecrement(slab.Key(next))
			if slab.Flags[next]&1 != 0 {
				k++
			}
		} else {
			hi = bytes.Repeat([]byte{0xff}, len(lo))
		}
		fn(lsRangeText(f, lo, hi))
	}
}
