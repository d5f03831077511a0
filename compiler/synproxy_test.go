package compiler_test

import (
	"testing"

	"github.com/nftflow/nftflow/compiler"
	"github.com/nftflow/nftflow/model"
	"github.com/nftflow/nftflow/parser"
)

// TestSynproxyFlags checks the option flags of synproxy statements and
// objects against the uapi values (nf_synproxy.h: SACK_PERM 0x4,
// TIMESTAMP 0x8), which nft lists back by name.
func TestSynproxyFlags(t *testing.T) {
	src := `table ip t {
	synproxy o {
		mss 1460
		wscale 7
		timestamp
	}
	chain c {
		synproxy timestamp
		synproxy sack-perm
		synproxy mss 1460 wscale 5 timestamp sack-perm
	}
}
`
	f, err := parser.ParseString("sp.nft", src)
	if err != nil {
		t.Fatal(err)
	}
	b, err := compiler.Compile(f)
	if err != nil {
		t.Fatal(err)
	}
	var got []uint32
	for _, op := range b.Ops {
		switch x := op.Obj.(type) {
		case *model.Object:
			if sp, ok := x.Data.(*model.Synproxy); ok {
				got = append(got, sp.Flags)
			}
		case *model.Rule:
			for _, e := range x.Exprs {
				if sp, ok := e.(*model.Synproxy); ok {
					got = append(got, sp.Flags)
				}
			}
		}
	}
	want := []uint32{0x1 | 0x2 | 0x8, 0x8, 0x4, 0x1 | 0x2 | 0x4 | 0x8}
	if len(got) != len(want) {
		t.Fatalf("flags %#x, want %#x", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("synproxy %d: flags %#x, want %#x", i, got[i], want[i])
		}
	}
}
