package plan

import (
	"testing"

	"github.com/nftflow/nftflow/model"
)

// bindingBatch is what the compiler makes of
//
//	table inet t { chain c { tcp dport 22 jump { accept } } }
//
// with the binding's verdict given.
func bindingBatch(inner int32) model.Batch {
	fam := model.FamilyInet
	return model.Batch{Ops: []model.Op{
		{Verb: model.VerbAdd, Obj: &model.Table{Family: fam, Name: "t"}},
		{Verb: model.VerbAdd, Obj: &model.Chain{Family: fam, Table: "t", Name: "c"}},
		{Verb: model.VerbAdd, Obj: &model.Chain{Family: fam, Table: "t", Flags: chainFlagBinding, ID: 1}},
		{Verb: model.VerbAdd, Obj: &model.Rule{Family: fam, Table: "t", ChainID: 1, Exprs: []model.Expr{
			&model.Immediate{Verdict: &model.Verdict{Code: inner}}}}},
		{Verb: model.VerbAdd, Obj: &model.Rule{Family: fam, Table: "t", Chain: "c", Exprs: []model.Expr{
			&model.Payload{DReg: 1, Base: model.BaseTransport, Offset: 2, Len: 2},
			&model.Cmp{SReg: 1, Data: []byte{0, 22}},
			&model.Immediate{Verdict: &model.Verdict{Code: -3, ChainID: 1}}}}},
	}}
}

// kernelWithBinding is the kernel's view of bindingBatch(inner).
func kernelWithBinding(inner int32) *model.TableState {
	fam := model.FamilyInet
	ts := &model.TableState{
		Table: &model.Table{Family: fam, Name: "t"},
		Chains: []*model.Chain{{Family: fam, Table: "t", Name: "c"},
			{Family: fam, Table: "t", Name: "__chain0", Flags: chainFlagBinding}},
		Rules: map[string][]*model.Rule{},
	}
	ts.Rules["__chain0"] = []*model.Rule{{Family: fam, Table: "t", Chain: "__chain0", Handle: 3, Exprs: []model.Expr{
		&model.Immediate{Verdict: &model.Verdict{Code: inner}}}}}
	ts.Rules["c"] = []*model.Rule{{Family: fam, Table: "t", Chain: "c", Handle: 4, Exprs: []model.Expr{
		&model.Payload{DReg: 1, Base: model.BaseTransport, Offset: 2, Len: 2},
		&model.Cmp{SReg: 1, Data: []byte{0, 22}},
		&model.Immediate{Verdict: &model.Verdict{Code: -3, Chain: "__chain0"}}}}}
	return ts
}

func TestBindingSentBeforeItsRule(t *testing.T) {
	d, err := FromBatch(bindingBatch(1))
	if err != nil {
		t.Fatal(err)
	}
	p := Make(d, nil, Options{})
	var got []string
	for _, o := range p.Batch.Ops {
		switch x := o.Obj.(type) {
		case *model.Table:
			got = append(got, "table")
		case *model.Chain:
			if x.Name == "" && (x.ID != 1 || !isBinding(x)) {
				t.Errorf("binding chain sent as %+v", x)
			}
			got = append(got, "chain "+x.Name)
		case *model.Rule:
			if x.Chain == "" && x.ChainID != 1 {
				t.Errorf("binding rule without its chain id: %+v", x)
			}
			got = append(got, "rule "+x.Chain)
		}
	}
	want := []string{"table", "chain c", "chain ", "rule ", "rule c"}
	if len(got) != len(want) {
		t.Fatalf("ops %q, want %q", got, want)
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("ops %q, want %q", got, want)
		}
	}
	// The jumping rule keeps its verdict's chain id.
	last := p.Batch.Ops[len(p.Batch.Ops)-1].Obj.(*model.Rule)
	if v := last.Exprs[2].(*model.Immediate).Verdict; v.ChainID != 1 {
		t.Errorf("verdict %+v lost its chain id", v)
	}
}

func TestBindingComparedWithItsRule(t *testing.T) {
	d, err := FromBatch(bindingBatch(1))
	if err != nil {
		t.Fatal(err)
	}
	if p := Make(d, []*model.TableState{kernelWithBinding(1)}, Options{}); !p.Empty() {
		t.Errorf("same binding: %d ops, %+v", len(p.Batch.Ops), p.Changes)
	}
	// The binding's rule differs (drop instead of accept): the owning
	// rule is replaced, with a new binding sent just before it.
	p := Make(d, []*model.TableState{kernelWithBinding(0)}, Options{})
	if len(p.Batch.Ops) != 3 {
		t.Fatalf("changed binding: %d ops, want chain, rule, replace", len(p.Batch.Ops))
	}
	if c, ok := p.Batch.Ops[0].Obj.(*model.Chain); !ok || !isBinding(c) {
		t.Errorf("op 0 %+v, want the binding chain", p.Batch.Ops[0].Obj)
	}
	if r := p.Batch.Ops[2].Obj.(*model.Rule); p.Batch.Ops[2].Verb != model.VerbReplace || r.Handle != 4 {
		t.Errorf("op 2 %v %+v, want replace of handle 4", p.Batch.Ops[2].Verb, r)
	}
	if a := Record(d); !a.has(hashRule(TableID{model.FamilyInet, "t"}, "c", newBindingIndex(kernelWithBinding(1), func(string, uint32) (string, bool) { return "", false }).ruleKey(kernelWithBinding(1).Rules["c"][0]))) {
		t.Error("record of the applied rule does not match the kernel's rule with the same binding")
	}
}
