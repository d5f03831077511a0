package kernel

import (
	"context"
	"regexp"
	"strconv"
	"testing"

	"github.com/nftflow/nftflow/model"
)

// TestApplyEchoesRuleHandles checks that the handles Apply reports for
// echoed rules are the ones nft lists, and that a commit moves the
// ruleset state by exactly one generation (what callers rely on to know
// the state their own commit produced).
func TestApplyEchoesRuleHandles(t *testing.T) {
	ns := netnsForTest(t)
	before, err := ReadRulesetState(ns)
	if err != nil {
		t.Fatal(err)
	}
	if before.NetnsCookie == 0 || before.BootID == "" {
		t.Fatalf("state without identity: %+v", before)
	}
	b := sampleBatch()
	handles := map[int]uint64{}
	opts := Options{NetNS: ns,
		Echo:       func(op int) bool { _, ok := b.Ops[op].Obj.(*model.Rule); return ok },
		RuleHandle: func(op int, h uint64) { handles[op] = h },
	}
	if err := Apply(context.Background(), b, opts); err != nil {
		t.Fatalf("Apply: %v", err)
	}
	after, err := ReadRulesetState(ns)
	if err != nil {
		t.Fatal(err)
	}
	if after != before.Next() {
		t.Errorf("state after one commit = %+v, want %+v", after, before.Next())
	}
	var want []uint64
	for _, m := range regexp.MustCompile(`(?m)^\t\t.* # handle (\d+)$`).FindAllStringSubmatch(nftIn(t, ns, "-a", "list", "chain", "ip", "t", "input")+nftIn(t, ns, "-a", "list", "chain", "ip", "t", "other"), -1) {
		h, _ := strconv.ParseUint(m[1], 10, 64)
		want = append(want, h)
	}
	var got []uint64
	for i, op := range b.Ops {
		if _, ok := op.Obj.(*model.Rule); ok {
			got = append(got, handles[i])
		}
	}
	if len(want) != 4 || len(got) != 4 {
		t.Fatalf("rule handles: echoed %v, nft lists %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("rule %d: echoed handle %d, nft lists %d", i, got[i], want[i])
		}
	}
	for i, h := range got {
		chain := "input"
		if i == 3 {
			chain = "other"
		}
		if ok, err := RuleHandleIs(ns, model.FamilyIP, "t", chain, h); err != nil || !ok {
			t.Errorf("RuleHandleIs(%s, %d) = %v, %v; want true", chain, h, ok, err)
		}
	}
	if ok, err := RuleHandleIs(ns, model.FamilyIP, "t", "input", got[3]); err != nil || ok {
		t.Errorf("RuleHandleIs(input, %d) of a rule of chain other = %v, %v; want false", got[3], ok, err)
	}
	other, err := ReadRulesetState("")
	if err == nil && other.NetnsCookie == after.NetnsCookie {
		t.Errorf("two namespaces share cookie %d", other.NetnsCookie)
	}
}
