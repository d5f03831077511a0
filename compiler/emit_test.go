package compiler

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/nftflow/nftflow/model"
	"github.com/nftflow/nftflow/parser"
)

// Emitting, the compiler hands on the same operations as the batch it
// returns otherwise, but for big interval sets, whose elements come after
// the set in pieces: together the same elements, in the same order.
func TestEmitMatchesBatch(t *testing.T) {
	var b strings.Builder
	b.WriteString("table ip t {\n\tset a {\n\t\ttype ipv4_addr\n\t\tflags interval\n\t\tauto-merge\n\t\telements = { ")
	for i := 0; i < 3*lazyChunk; i++ {
		// pairs of adjacent ranges (merged), and gaps
		fmt.Fprintf(&b, "10.%d.%d.0/25, 10.%d.%d.128/26, ", i/256, i%256, i/256, i%256)
	}
	b.WriteString("}\n\t}\n\tset p {\n\t\ttype ipv4_addr\n\t\tflags interval\n\t\telements = { 0.0.0.0/8, 192.168.0.0/16, 255.255.255.0/24 }\n\t}\n")
	b.WriteString("\tchain c {\n\t\tip saddr @a accept\n\t\tip daddr { 1.1.1.1, 2.2.2.0/24 } drop\n\t}\n}\n")
	src := b.String()

	parse := func() *parser.File {
		f, err := parser.ParseString("t.nft", src)
		if err != nil {
			t.Fatal(err)
		}
		return f
	}
	batch, err := Compile(parse())
	if err != nil {
		t.Fatal(err)
	}
	var emitted []model.Op
	rest, err := CompileWith(parse(), Options{Release: true, Emit: func(op model.Op) error { emitted = append(emitted, op); return nil }})
	if err != nil {
		t.Fatal(err)
	}
	if len(rest.Ops) != 0 {
		t.Fatalf("emitting, the batch still holds %d operations", len(rest.Ops))
	}
	// Fold the emitted element operations into their sets.
	var folded []model.Op
	pieces := 0
	for _, op := range emitted {
		if se, ok := op.Obj.(*model.SetElems); ok {
			s := folded[len(folded)-1].Obj.(*model.Set)
			if se.Set != s.Name || se.SetID != s.ID {
				t.Fatalf("elements of set %s (id %d) after set %s", se.Set, se.SetID, s.Name)
			}
			s.Elements = append(s.Elements, se.Elements...)
			pieces++
			continue
		}
		folded = append(folded, op)
	}
	if pieces < 3 {
		t.Errorf("the big set came in %d pieces, want at least 3", pieces)
	}
	if len(folded) != len(batch.Ops) {
		t.Fatalf("emitted %d operations (folded), the batch has %d", len(folded), len(batch.Ops))
	}
	for i := range folded {
		if !reflect.DeepEqual(folded[i], batch.Ops[i]) {
			t.Errorf("operation %d differs:\nemitted %#v\nbatch   %#v", i, folded[i].Obj, batch.Ops[i].Obj)
		}
	}
}
