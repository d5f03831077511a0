package plan

import (
	"testing"

	"github.com/nftflow/nftflow/model"
)

func tcpPortRule(chain string, port byte, handle uint64, verdict int32) *model.Rule {
	return &model.Rule{Family: model.FamilyInet, Table: "t", Chain: chain, Handle: handle, Exprs: []model.Expr{
		&model.Payload{DReg: 1, Base: model.BaseTransport, Offset: 2, Len: 2},
		&model.Cmp{SReg: 1, Data: []byte{0, port}, HostOrder: handle == 0},
		&model.Counter{Packets: handle * 10, Bytes: handle * 100},
		&model.Immediate{Verdict: &model.Verdict{Code: verdict}},
	}}
}

func table(rules ...*model.Rule) *model.TableState {
	ts := &model.TableState{
		Table:  &model.Table{Family: model.FamilyInet, Name: "t"},
		Chains: []*model.Chain{{Family: model.FamilyInet, Table: "t", Name: "c"}},
		Rules:  map[string][]*model.Rule{},
	}
	for _, r := range rules {
		ts.Rules[r.Chain] = append(ts.Rules[r.Chain], r)
	}
	return ts
}

func desired(ts ...*model.TableState) *Desired { return &Desired{Tables: ts} }

func TestSameRulesPlanNothing(t *testing.T) {
	want := table(tcpPortRule("c", 22, 0, 1), tcpPortRule("c", 80, 0, 1))
	have := table(tcpPortRule("c", 22, 4, 1), tcpPortRule("c", 80, 5, 1))
	if p := Make(desired(want), []*model.TableState{have}, Options{}); !p.Empty() || len(p.Changes) != 0 {
		t.Errorf("same rules (counters and printing hints aside): %d ops, %+v", len(p.Batch.Ops), p.Changes)
	}
}

func TestChangedRuleIsReplacedInPlace(t *testing.T) {
	want := table(tcpPortRule("c", 22, 0, 1), tcpPortRule("c", 81, 0, 1), tcpPortRule("c", 200, 0, 1), tcpPortRule("c", 53, 0, 0))
	have := table(tcpPortRule("c", 22, 4, 1), tcpPortRule("c", 80, 5, 1), tcpPortRule("c", 53, 6, 0), tcpPortRule("c", 99, 7, 0))
	p := Make(desired(want), []*model.TableState{have}, Options{})
	type got struct {
		verb             model.Verb
		handle, position uint64
	}
	var ops []got
	for _, o := range p.Batch.Ops {
		r := o.Obj.(*model.Rule)
		ops = append(ops, got{o.Verb, r.Handle, r.Position})
	}
	want2 := []got{{model.VerbDelete, 7, 0}, {model.VerbReplace, 5, 0}, {model.VerbInsert, 0, 6}}
	if len(ops) != len(want2) {
		t.Fatalf("ops %+v, want %+v", ops, want2)
	}
	for i := range ops {
		if ops[i] != want2[i] {
			t.Errorf("op %d: %+v, want %+v", i, ops[i], want2[i])
		}
	}
}

func TestAnonymousSetsCompareByContent(t *testing.T) {
	mk := func(name string, id uint32, handle uint64, elems ...byte) (*model.Set, *model.Rule) {
		s := &model.Set{Family: model.FamilyInet, Table: "t", Name: name, ID: id, Flags: setAnonymous | setConstant, KeyType: 13, KeyLen: 2}
		for _, e := range elems {
			s.Elements = append(s.Elements, model.SetElem{Key: []byte{0, e}})
		}
		r := &model.Rule{Family: model.FamilyInet, Table: "t", Chain: "c", Handle: handle, Exprs: []model.Expr{
			&model.Payload{DReg: 1, Base: model.BaseTransport, Offset: 2, Len: 2},
			&model.Lookup{SReg: 1, Set: name, SetID: id},
		}}
		return s, r
	}
	ws, wr := mk("__set%d", 7, 0, 80, 200)
	hs, hr := mk("__set3", 0, 9, 200, 80)
	want, have := table(wr), table(hr)
	want.Sets, have.Sets = []*model.Set{ws}, []*model.Set{hs}
	if p := Make(desired(want), []*model.TableState{have}, Options{}); !p.Empty() {
		t.Errorf("same anonymous set under another name: %+v", p.Changes)
	}
	hs.Elements = hs.Elements[:1]
	p := Make(desired(want), []*model.TableState{have}, Options{})
	if len(p.Batch.Ops) != 2 || p.Batch.Ops[0].Obj != ws || p.Batch.Ops[1].Verb != model.VerbReplace {
		t.Errorf("changed anonymous set: want its set then a replace, got %+v", p.Batch.Ops)
	}
}

func TestElementsAddedAndRemovedOneByOne(t *testing.T) {
	set := func(elems ...byte) *model.Set {
		s := &model.Set{Family: model.FamilyInet, Table: "t", Name: "s", KeyType: 7, KeyLen: 4}
		for _, e := range elems {
			s.Elements = append(s.Elements, model.SetElem{Key: []byte{10, 0, 0, e}})
		}
		return s
	}
	want, have := table(), table()
	want.Sets, have.Sets = []*model.Set{set(1, 2, 3)}, []*model.Set{set(2, 3, 4, 5)}
	p := Make(desired(want), []*model.TableState{have}, Options{})
	if len(p.Batch.Ops) != 2 {
		t.Fatalf("ops: %+v", p.Batch.Ops)
	}
	del, add := p.Batch.Ops[0], p.Batch.Ops[1]
	if del.Verb != model.VerbDelete || len(del.Obj.(*model.SetElems).Elements) != 2 || add.Verb != model.VerbAdd || len(add.Obj.(*model.SetElems).Elements) != 1 {
		t.Errorf("want delete of 2 elements then add of 1: %+v %+v", del, add)
	}
	// A dynamic set keeps what the packet path added.
	want.Sets[0].Flags |= setEval
	have.Sets[0].Flags |= setEval
	p = Make(desired(want), []*model.TableState{have}, Options{})
	if len(p.Batch.Ops) != 1 || p.Batch.Ops[0].Verb != model.VerbAdd {
		t.Errorf("dynamic set: want only the addition, got %+v", p.Batch.Ops)
	}
}

func TestFlowtableDevices(t *testing.T) {
	ft := func(devs ...string) *model.Flowtable {
		return &model.Flowtable{Family: model.FamilyInet, Table: "t", Name: "f", Hooknum: 0, Devices: devs}
	}
	offload := &model.Rule{Family: model.FamilyInet, Table: "t", Chain: "c", Exprs: []model.Expr{&model.FlowOffload{Flowtable: "f"}}}
	mkTables := func(w, h *model.Flowtable) (*model.TableState, *model.TableState) {
		hr := *offload
		hr.Handle = 3
		want, have := table(offload), table(&hr)
		want.Flowtables, have.Flowtables = []*model.Flowtable{w}, []*model.Flowtable{h}
		return want, have
	}
	want, have := mkTables(ft("eth0", "eth1"), ft("eth0"))
	p := Make(desired(want), []*model.TableState{have}, Options{})
	if len(p.Batch.Ops) != 1 || p.Batch.Ops[0].Verb != model.VerbAdd || len(p.Batch.Ops[0].Obj.(*model.Flowtable).Devices) != 1 {
		t.Errorf("added device: want one flowtable update with the new device, got %+v", p.Batch.Ops)
	}
	want, have = mkTables(ft("eth0"), ft("eth0", "eth1"))
	p = Make(desired(want), []*model.TableState{have}, Options{})
	var kinds []string
	for _, o := range p.Batch.Ops {
		kinds = append(kinds, o.Verb.String()+" "+objKind(o.Obj))
	}
	wantKinds := []string{"delete rule", "delete flowtable", "add flowtable", "add rule"}
	if len(kinds) != len(wantKinds) {
		t.Fatalf("removed device: %v, want %v", kinds, wantKinds)
	}
	for i := range kinds {
		if kinds[i] != wantKinds[i] {
			t.Errorf("removed device: %v, want %v", kinds, wantKinds)
			break
		}
	}
}

func TestLCS(t *testing.T) {
	a := []string{"a", "b", "c", "d", "e"}
	b := []string{"a", "x", "c", "e", "f"}
	got := lcs(a, b)
	want := [][2]int{{0, 0}, {2, 2}, {4, 3}}
	if len(got) != len(want) {
		t.Fatalf("lcs = %v, want %v", got, want)
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("lcs = %v, want %v", got, want)
		}
	}
	if g := lcsGreedy(a, b); len(g) != 3 {
		t.Errorf("greedy = %v", g)
	}
}

func TestDrift(t *testing.T) {
	want := table(tcpPortRule("c", 22, 0, 1))
	d := desired(want)
	applied := Record(d)
	have := table(tcpPortRule("c", 22, 4, 1), tcpPortRule("c", 23, 5, 1))
	p := Make(d, []*model.TableState{have}, Options{Applied: applied})
	if len(p.Changes) != 1 || p.Changes[0].Mark != Remove || !p.Changes[0].Drift {
		t.Errorf("a rule someone added: %+v, want one removal marked drift", p.Changes)
	}
	want2 := table(tcpPortRule("c", 22, 0, 1), tcpPortRule("c", 24, 0, 1))
	p = Make(desired(want2), []*model.TableState{table(tcpPortRule("c", 22, 4, 1))}, Options{Applied: applied})
	if len(p.Changes) != 1 || p.Changes[0].Mark != Add || p.Changes[0].Drift {
		t.Errorf("a rule the file adds: %+v, want one addition, not drift", p.Changes)
	}
}

// What the kernel fills in on its own (NAT range registers and flags,
// the size of verdict data, concatenation fields of hash maps) is not a
// difference.
func TestKernelFilledFieldsAreNoDifference(t *testing.T) {
	nat := func(max, flags uint32) *model.Rule {
		return &model.Rule{Family: model.FamilyInet, Table: "t", Chain: "c", Exprs: []model.Expr{
			&model.Immediate{DReg: 1, Data: []byte{1, 1, 1, 1}},
			&model.NAT{Type: 0, Family: 2, RegAddrMin: 1, RegAddrMax: max, Flags: flags},
		}}
	}
	vmap := func(dataLen uint32, fields []uint32) *model.Set {
		return &model.Set{Family: model.FamilyInet, Table: "t", Name: "m", Flags: setMap, KeyType: 461, KeyLen: 8, DataType: dataVerdict, DataLen: dataLen, FieldLens: fields}
	}
	want, have := table(nat(0, 0)), table(nat(1, 1))
	have.Rules["c"][0].Handle = 2
	want.Sets, have.Sets = []*model.Set{vmap(0, []uint32{4, 2})}, []*model.Set{vmap(16, nil)}
	if p := Make(desired(want), []*model.TableState{have}, Options{}); !p.Empty() {
		t.Errorf("kernel-filled fields planned as changes: %+v", p.Changes)
	}
}

func TestElementListedTwiceIsOneElement(t *testing.T) {
	set := func(elems ...byte) *model.Set {
		s := &model.Set{Family: model.FamilyInet, Table: "t", Name: "s", KeyType: 7, KeyLen: 4}
		for _, e := range elems {
			s.Elements = append(s.Elements, model.SetElem{Key: []byte{10, 0, 0, e}})
		}
		return s
	}
	want, have := table(), table()
	want.Sets, have.Sets = []*model.Set{set(1, 1, 2)}, []*model.Set{set(1, 2)}
	if p := Make(desired(want), []*model.TableState{have}, Options{}); !p.Empty() {
		t.Errorf("the kernel holds the file's elements (one listed twice), yet the plan sends %+v", p.Batch.Ops)
	}
	have.Sets = []*model.Set{set(2)}
	p := Make(desired(want), []*model.TableState{have}, Options{})
	if len(p.Batch.Ops) != 1 || len(p.Batch.Ops[0].Obj.(*model.SetElems).Elements) != 1 {
		t.Errorf("want one addition of one element, got %+v", p.Batch.Ops)
	}
}
