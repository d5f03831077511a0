package kernel

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/nftflow/nftflow/model"
)

// A batch planned from a snapshot is refused when the ruleset changed
// after the snapshot, and nothing of it is committed.
func TestApplyAtGenerationRefusesStalePlans(t *testing.T) {
	ns := netnsForTest(t)
	nftIn(t, ns, "add table inet mine; add chain inet mine c; add rule inet mine c tcp dport 22 accept; add set inet mine s { type ipv4_addr; elements = { 10.0.0.1 }; }; add table ip other")
	snap, err := ReadSnapshot(context.Background(), ns, func(f model.Family, name string) bool { return name == "mine" })
	if err != nil {
		t.Fatal(err)
	}
	if len(snap.Tables) != 1 || snap.GenID == 0 {
		t.Fatalf("snapshot: %d tables, generation %d; want 1 table (mine only) and a generation", len(snap.Tables), snap.GenID)
	}
	ts := snap.Tables[0]
	if len(ts.Chains) != 1 || len(ts.Rules["c"]) != 1 || len(ts.Sets) != 1 || len(ts.Sets[0].Elements) != 1 {
		t.Fatalf("snapshot of table mine: %d chains, %d rules, %d sets", len(ts.Chains), len(ts.Rules["c"]), len(ts.Sets))
	}
	r := ts.Rules["c"][0]
	del := model.Batch{Ops: []model.Op{{Verb: model.VerbDelete, Obj: &model.Rule{Family: r.Family, Table: r.Table, Chain: r.Chain, Handle: r.Handle}}}}

	// Another program changes the ruleset after the snapshot.
	nftIn(t, ns, "add table ip theirs")
	err = ApplyAtGeneration(context.Background(), del, Options{NetNS: ns}, snap.GenID)
	if !errors.Is(err, ErrGenerationChanged) {
		t.Fatalf("apply of a stale plan: %v, want ErrGenerationChanged", err)
	}
	if !strings.Contains(nftIn(t, ns, "list", "chain", "inet", "mine", "c"), "dport 22") {
		t.Fatal("the stale batch was committed")
	}
	// Planned again from a fresh snapshot, it goes through.
	snap, err = ReadSnapshot(context.Background(), ns, func(f model.Family, name string) bool { return name == "mine" })
	if err != nil {
		t.Fatal(err)
	}
	if err := ApplyAtGeneration(context.Background(), del, Options{NetNS: ns}, snap.GenID); err != nil {
		t.Fatalf("apply at the current generation: %v", err)
	}
	if strings.Contains(nftIn(t, ns, "list", "chain", "inet", "mine", "c"), "dport 22") {
		t.Fatal("the rule is still there")
	}
}
