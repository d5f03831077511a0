package plan

import (
	"slices"
	"sort"
	"strconv"

	"github.com/nftflow/nftflow/model"
)

// Mark says what a change does, as `nftflow diff` prints it.
type Mark byte

// The change marks.
const (
	Add     Mark = '+'
	Remove  Mark = '-'
	Replace Mark = '~'
)

// Change is one difference between the file and the kernel, for people
// and tools; the batch carries the operations that make it.
type Change struct {
	Mark  Mark
	Table TableID
	// Kind is "table", "chain", "rule", "set", "element", "flowtable",
	// "object" or "policy".
	Kind string
	// Name is the chain, set, flowtable or object name (for rules: the
	// chain; for elements: the set).
	Name string
	// Old is the kernel's object and New the file's (nil where absent):
	// *model.Table, *model.Chain, *model.Rule, *model.Set,
	// *model.SetElem, *model.Flowtable or *model.Object.
	Old, New any
	// OldSet and NewSet are the sets the elements belong to (Kind
	// "element"), for printing them.
	OldSet, NewSet *model.Set
	// Drift is true when the kernel's side is not what nftflow applied
	// last: another program changed it (see Options.Applied).
	Drift bool
}

// Plan is the result of comparing a file with the kernel.
type Plan struct {
	// Batch makes the managed tables equal to the file, in one
	// transaction; empty when nothing differs.
	Batch   model.Batch
	Changes []Change
	// Current holds the kernel's sets of the managed tables by table, for
	// printing rules that refer to them.
	Current []*model.TableState
	// Kept lists the file's rules the kernel already has, with the
	// handles they keep.
	Kept []KeptRule
}

// KeptRule is a rule of the file that stays in the kernel as it is.
type KeptRule struct {
	Family model.Family
	Table  string
	Chain  string
	Pos    model.Pos
	Handle uint64
}

// Options control Make.
type Options struct {
	// Applied is what nftflow applied last (for telling drift from
	// planned changes); nil when unknown.
	Applied *Applied
}

// Empty reports whether the plan changes nothing.
func (p *Plan) Empty() bool { return len(p.Batch.Ops) == 0 }

// phases collects operations by the order they must have in the batch.
type phases struct {
	addTables, addDefs, delRules, delElems, delDefs, reAddDefs, delChains, reChains, addElems, rules, chainUpd, delChainsLate, delTables []model.Op
}

func (ph *phases) batch() model.Batch {
	n := 0
	for _, p := range [][]model.Op{ph.addTables, ph.addDefs, ph.delRules, ph.delElems, ph.delDefs, ph.reAddDefs, ph.delChains, ph.reChains, ph.addElems, ph.rules, ph.chainUpd, ph.delChainsLate, ph.delTables} {
		n += len(p)
	}
	if n == 0 {
		return model.Batch{}
	}
	ops := make([]model.Op, 0, n)
	for _, p := range [][]model.Op{ph.addTables, ph.addDefs, ph.delRules, ph.delElems, ph.delDefs, ph.reAddDefs, ph.delChains, ph.reChains, ph.addElems, ph.rules, ph.chainUpd, ph.delChainsLate, ph.delTables} {
		ops = append(ops, p...)
	}
	return model.Batch{Ops: ops}
}

func op(v model.Verb, obj any, pos model.Pos) model.Op { return model.Op{Verb: v, Obj: obj, Pos: pos} }

// Make compares the desired tables with the kernel's (current: the tables
// Desired.Manages, read from the kernel) and returns the plan.
func Make(d *Desired, current []*model.TableState, opts Options) *Plan {
	p := &Plan{}
	ph := &phases{}
	cur := map[TableID]*model.TableState{}
	for _, ts := range current {
		if d.Manages(ts.Table.Family, ts.Table.Name) {
			cur[TableID{ts.Table.Family, ts.Table.Name}] = ts
			p.Current = append(p.Current, ts)
		}
	}
	seen := map[TableID]bool{}
	for _, want := range d.Tables {
		id := TableID{want.Table.Family, want.Table.Name}
		seen[id] = true
		tp := &tablePlan{p: p, ph: ph, id: id, want: want, have: cur[id], applied: opts.Applied}
		tp.run()
	}
	for _, ts := range current {
		id := TableID{ts.Table.Family, ts.Table.Name}
		if cur[id] == nil || seen[id] {
			continue
		}
		t := *ts.Table
		ph.delTables = append(ph.delTables, op(model.VerbDelete, &model.Table{Family: t.Family, Name: t.Name}, model.Pos{}))
		p.Changes = append(p.Changes, Change{Mark: Remove, Table: id, Kind: "table", Name: t.Name, Old: ts.Table,
			Drift: opts.Applied.known() && !opts.Applied.has(hashTable(id))})
	}
	p.Batch = ph.batch()
	return p
}

// tablePlan compares one table.
type tablePlan struct {
	p       *Plan
	ph      *phases
	id      TableID
	want    *model.TableState
	have    *model.TableState // nil: the table does not exist
	applied *Applied

	wantAnon map[uint32]*model.Set // the file's anonymous sets by batch id
	haveAnon map[string]*model.Set // the kernel's anonymous sets by name
	// dirty names the sets, objects and flowtables rebuilt (deleted and
	// created again): the kernel's rules that use them must go first.
	dirtySets, dirtyObjs, dirtyFts map[string]bool
	// wantBind and haveBind find the chain bindings of each side.
	wantBind, haveBind *bindingIndex
}

func (tp *tablePlan) change(c Change) {
	c.Table = tp.id
	tp.p.Changes = append(tp.p.Changes, c)
}

// drift classifies a change from the hashes of the kernel's side (old)
// and the file's side (new): the kernel differs from what was applied.
func (tp *tablePlan) drift(m Mark, oldHash, newHash uint64) bool {
	a := tp.applied
	if !a.known() || !a.hasTable(tp.id) {
		return false
	}
	switch m {
	case Add:
		return a.has(newHash) // it was applied, someone removed it
	default:
		return !a.has(oldHash) // the kernel's object is not what was applied
	}
}

func (tp *tablePlan) run() {
	w, h := tp.want, tp.have
	tp.wantAnon = map[uint32]*model.Set{}
	for _, s := range w.Sets {
		if isAnon(s.Name) && s.ID != 0 {
			tp.wantAnon[s.ID] = s
		}
	}
	tp.haveAnon = map[string]*model.Set{}
	tp.dirtySets, tp.dirtyObjs, tp.dirtyFts = map[string]bool{}, map[string]bool{}, map[string]bool{}
	tp.wantBind = newBindingIndex(w, tp.wantAnonKey)
	tp.haveBind = newBindingIndex(h, tp.haveAnonKey)
	if h == nil {
		tp.createTable()
		return
	}
	for _, s := range h.Sets {
		if s.Flags&setAnonymous != 0 {
			tp.haveAnon[s.Name] = s
		}
	}
	if w.Table.Flags != h.Table.Flags {
		t := &model.Table{Family: w.Table.Family, Name: w.Table.Name, Flags: w.Table.Flags, Pos: w.Table.Pos}
		tp.ph.addDefs = append(tp.ph.addDefs, op(model.VerbAdd, t, w.Table.Pos))
		tp.change(Change{Mark: Replace, Kind: "table", Name: t.Name, Old: h.Table, New: w.Table,
			Drift: tp.drift(Replace, hashTableFlags(tp.id, h.Table.Flags), 0)})
	}
	tp.objects()
	tp.flowtables()
	tp.sets()
	tp.chains()
}

// createTable adds a table the kernel does not have, with everything in it.
func (tp *tablePlan) createTable() {
	w := tp.want
	tp.ph.addTables = append(tp.ph.addTables, op(model.VerbAdd, w.Table, w.Table.Pos))
	tp.change(Change{Mark: Add, Kind: "table", Name: w.Table.Name, New: w.Table, Drift: tp.drift(Add, 0, hashTable(tp.id))})
	for _, o := range w.Objects {
		tp.ph.addDefs = append(tp.ph.addDefs, op(model.VerbAdd, o, o.Pos))
	}
	for _, f := range w.Flowtables {
		tp.ph.addDefs = append(tp.ph.addDefs, op(model.VerbAdd, f, f.Pos))
	}
	for _, c := range w.Chains {
		if !isBinding(c) {
			tp.ph.addDefs = append(tp.ph.addDefs, op(model.VerbAdd, c, c.Pos))
		}
	}
	for _, s := range w.Sets {
		if !isAnon(s.Name) {
			tp.ph.addDefs = append(tp.ph.addDefs, op(model.VerbAdd, s, s.Pos))
		}
	}
	n := 0
	for _, c := range w.Chains {
		if !isBinding(c) {
			n += len(w.Rules[c.Name])
		}
	}
	tp.ph.rules = slices.Grow(tp.ph.rules, n)
	for _, c := range w.Chains {
		if isBinding(c) {
			continue // sent with the rule that jumps to it
		}
		for _, r := range w.Rules[c.Name] {
			tp.addRule(r, 0, model.VerbAdd)
		}
	}
}

// addRule emits a rule of the file with the anonymous sets it uses.
func (tp *tablePlan) addRule(r *model.Rule, position uint64, v model.Verb) {
	tp.emitRule(r, 0, position, v)
}

func (tp *tablePlan) emitRule(r *model.Rule, handle, position uint64, v model.Verb) {
	tp.emitBindings(r)
	tp.emitAnonSets(r)
	if r.Handle == handle && r.Position == position && r.ChainID == 0 {
		// The file's rule is already what is sent: no copy (a 100,000-rule
		// table would otherwise hold every rule twice).
		tp.ph.rules = append(tp.ph.rules, op(v, r, r.Pos))
		return
	}
	nr := *r
	nr.Handle, nr.Position, nr.ChainID = handle, position, 0
	tp.ph.rules = append(tp.ph.rules, op(v, &nr, r.Pos))
}

// emitAnonSets adds the anonymous sets a rule of the file uses.
func (tp *tablePlan) emitAnonSets(r *model.Rule) {
	for _, id := range anonIDs(r) {
		if s := tp.wantAnon[id]; s != nil {
			tp.ph.rules = append(tp.ph.rules, op(model.VerbAdd, s, r.Pos))
		}
	}
}

// anonIDs returns the batch ids of the anonymous sets a rule uses.
func anonIDs(r *model.Rule) []uint32 {
	var ids []uint32
	var walk func(es []model.Expr)
	walk = func(es []model.Expr) {
		for _, e := range es {
			switch x := e.(type) {
			case *model.Lookup:
				if x.SetID != 0 && isAnon(x.Set) {
					ids = append(ids, x.SetID)
				}
			case *model.Dynset:
				if x.SetID != 0 && isAnon(x.Set) {
					ids = append(ids, x.SetID)
				}
				walk(x.Exprs)
			case *model.Objref:
				if x.SetID != 0 && isAnon(x.Set) {
					ids = append(ids, x.SetID)
				}
			case *model.Inner:
				if x.Expr != nil {
					walk([]model.Expr{x.Expr})
				}
			}
		}
	}
	walk(r.Exprs)
	return ids
}

// usesDirty reports whether a kernel rule uses a set, object or flowtable
// that is rebuilt.
func (tp *tablePlan) usesDirty(r *model.Rule) bool {
	var walk func(es []model.Expr) bool
	walk = func(es []model.Expr) bool {
		for _, e := range es {
			switch x := e.(type) {
			case *model.Lookup:
				if tp.dirtySets[x.Set] {
					return true
				}
			case *model.Dynset:
				if tp.dirtySets[x.Set] || walk(x.Exprs) {
					return true
				}
			case *model.Objref:
				if tp.dirtyObjs[x.Name] || x.Set != "" && tp.dirtySets[x.Set] {
					return true
				}
			case *model.FlowOffload:
				if tp.dirtyFts[x.Flowtable] {
					return true
				}
			case *model.Inner:
				if x.Expr != nil && walk([]model.Expr{x.Expr}) {
					return true
				}
			}
		}
		return false
	}
	return walk(r.Exprs)
}

func (tp *tablePlan) wantAnonKey(name string, id uint32) (string, bool) {
	s := tp.wantAnon[id]
	if s == nil {
		return "", false
	}
	return anonSetKey(s), true
}

func (tp *tablePlan) haveAnonKey(name string, _ uint32) (string, bool) {
	s := tp.haveAnon[name]
	if s == nil {
		return "", false
	}
	return anonSetKey(s), true
}

// objects compares the named objects: new ones are created, changed ones
// deleted and created again (with the rules that use them), and the
// kernel's objects the file does not declare are deleted.
func (tp *tablePlan) objects() {
	// Objects of different types may share a name.
	have := map[string]*model.Object{}
	okey := func(o *model.Object) string { return strconv.FormatUint(uint64(o.Type), 10) + " " + o.Name }
	for _, o := range tp.have.Objects {
		have[okey(o)] = o
	}
	for _, o := range tp.want.Objects {
		ho := have[okey(o)]
		delete(have, okey(o))
		switch {
		case ho == nil:
			tp.ph.addDefs = append(tp.ph.addDefs, op(model.VerbAdd, o, o.Pos))
			tp.change(Change{Mark: Add, Kind: "object", Name: o.Name, New: o, Drift: tp.drift(Add, 0, hashObject(tp.id, o))})
		case ho.Type != o.Type || objectKey(ho) != objectKey(o):
			tp.dirtyObjs[o.Name] = true
			tp.ph.delDefs = append(tp.ph.delDefs, op(model.VerbDelete, &model.Object{Family: ho.Family, Table: ho.Table, Name: ho.Name, Type: ho.Type}, o.Pos))
			tp.ph.reAddDefs = append(tp.ph.reAddDefs, op(model.VerbAdd, o, o.Pos))
			tp.change(Change{Mark: Replace, Kind: "object", Name: o.Name, Old: ho, New: o, Drift: tp.drift(Replace, hashObject(tp.id, ho), 0)})
		}
	}
	for _, ho := range sortedObjects(have) {
		tp.ph.delDefs = append(tp.ph.delDefs, op(model.VerbDelete, &model.Object{Family: ho.Family, Table: ho.Table, Name: ho.Name, Type: ho.Type}, model.Pos{}))
		tp.change(Change{Mark: Remove, Kind: "object", Name: ho.Name, Old: ho, Drift: tp.drift(Remove, hashObject(tp.id, ho), 0)})
	}
}

func sortedObjects(m map[string]*model.Object) []*model.Object {
	out := make([]*model.Object, 0, len(m))
	for _, o := range m {
		out = append(out, o)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// flowtables compares the flowtables: devices only added are added to the
// existing flowtable; anything else (a device removed, another hook,
// priority or flags) rebuilds it with the rules that offload to it, in
// the same transaction.
func (tp *tablePlan) flowtables() {
	have := map[string]*model.Flowtable{}
	for _, f := range tp.have.Flowtables {
		have[f.Name] = f
	}
	for _, f := range tp.want.Flowtables {
		hf := have[f.Name]
		delete(have, f.Name)
		if hf == nil {
			tp.ph.addDefs = append(tp.ph.addDefs, op(model.VerbAdd, f, f.Pos))
			tp.change(Change{Mark: Add, Kind: "flowtable", Name: f.Name, New: f, Drift: tp.drift(Add, 0, hashFlowtable(tp.id, f))})
			continue
		}
		added, removed := stringDiff(hf.Devices, f.Devices)
		if flowtableKey(hf) == flowtableKey(f) && len(removed) == 0 {
			if len(added) > 0 {
				upd := *f
				upd.Devices = added
				tp.ph.addDefs = append(tp.ph.addDefs, op(model.VerbAdd, &upd, f.Pos))
				tp.change(Change{Mark: Replace, Kind: "flowtable", Name: f.Name, Old: hf, New: f, Drift: tp.drift(Replace, hashFlowtable(tp.id, hf), 0)})
			}
			continue
		}
		tp.dirtyFts[f.Name] = true
		tp.ph.delDefs = append(tp.ph.delDefs, op(model.VerbDelete, &model.Flowtable{Family: hf.Family, Table: hf.Table, Name: hf.Name}, f.Pos))
		tp.ph.reAddDefs = append(tp.ph.reAddDefs, op(model.VerbAdd, f, f.Pos))
		tp.change(Change{Mark: Replace, Kind: "flowtable", Name: f.Name, Old: hf, New: f, Drift: tp.drift(Replace, hashFlowtable(tp.id, hf), 0)})
	}
	for _, name := range sortedKeys(have) {
		hf := have[name]
		tp.ph.delDefs = append(tp.ph.delDefs, op(model.VerbDelete, &model.Flowtable{Family: hf.Family, Table: hf.Table, Name: hf.Name}, model.Pos{}))
		tp.change(Change{Mark: Remove, Kind: "flowtable", Name: name, Old: hf, Drift: tp.drift(Remove, hashFlowtable(tp.id, hf), 0)})
	}
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// stringDiff returns the names only in b (added) and only in a (removed).
func stringDiff(a, b []string) (added, removed []string) {
	in := func(xs []string, s string) bool {
		for _, x := range xs {
			if x == s {
				return true
			}
		}
		return false
	}
	for _, s := range b {
		if !in(a, s) {
			added = append(added, s)
		}
	}
	for _, s := range a {
		if !in(b, s) {
			removed = append(removed, s)
		}
	}
	return added, removed
}
