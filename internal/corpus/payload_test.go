package corpus

import (
	"errors"
	"path/filepath"
	"testing"
)

func TestReadPayload(t *testing.T) {
	d, err := Dir()
	if errors.Is(err, ErrMissing) {
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	es, err := ReadPayload(filepath.Join(d, "nftables/tests/py/ip/ip.t.payload"))
	if err != nil {
		t.Fatal(err)
	}
	var found bool
	for _, e := range es {
		if e.Rule != "ip dscp != {cs0, cs3}" {
			continue
		}
		found = true
		if e.Family != "ip" || e.Table != "test-ip4" || e.Chain != "input" {
			t.Errorf("header = %s %s %s", e.Family, e.Table, e.Chain)
		}
		if len(e.Sets) != 1 || e.Sets[0].Header != "__set%d test-ip4 3" || e.Sets[0].ElemHeader != "__set%d test-ip4 0" {
			t.Errorf("sets = %#v", e.Sets)
		}
		if len(e.Sets) == 1 && len(e.Sets[0].Elements) != 2 {
			t.Errorf("elements = %q", e.Sets[0].Elements)
		}
		if len(e.Exprs) != 3 || e.Exprs[2] != "[ lookup reg 1 set __set%d 0x1 ]" {
			t.Errorf("exprs = %q", e.Exprs)
		}
	}
	if !found {
		t.Fatal("entry not found")
	}
}
