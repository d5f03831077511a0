package plan

import (
	"fmt"
	"slices"

	"github.com/nftflow/nftflow/model"
)

// TableID names a table: family and name.
type TableID struct {
	Family model.Family
	Name   string
}

func (t TableID) String() string { return t.Family.String() + " " + t.Name }

// Desired is what a declarative file asks for: the tables it declares and
// the families of `flush ruleset` commands in it.
type Desired struct {
	Tables []*model.TableState
	// Flush holds the families the file flushes the ruleset of
	// (`flush ruleset` is family 0: all); their tables that the file does
	// not declare are deleted.
	Flush []model.Family
}

// FromBatch groups a compiled declarative file (table blocks and
// `flush ruleset`) by table. Several blocks of one table merge, as nft
// merges them. Any other operation (delete, insert, replace, flush of a
// table or chain, ...) is an error: such files run imperatively.
func FromBatch(b model.Batch) (*Desired, error) {
	bd := newBuilder()
	for _, op := range b.Ops {
		if err := bd.add(op); err != nil {
			return nil, err
		}
	}
	return bd.d, nil
}

// builder groups the operations of a declarative file by table, one at a
// time (FromBatch, Recorder).
type builder struct {
	d          *Desired
	byID       map[TableID]*model.TableState
	bindings   map[uint32]bool // batch ids of chain bindings
	setsByID   map[uint32]*model.Set
	setsByName map[string]*model.Set
	// shed, when set, receives the ordinary rules (in a declared chain,
	// with no chain binding) instead of the tables (Recorder).
	shed func(ts *model.TableState, r *model.Rule) bool
}

func newBuilder() *builder {
	return &builder{d: &Desired{}, byID: map[TableID]*model.TableState{}, bindings: map[uint32]bool{},
		setsByID: map[uint32]*model.Set{}, setsByName: map[string]*model.Set{}}
}

func (bd *builder) table(fam model.Family, name string) *model.TableState {
	id := TableID{fam, name}
	ts := bd.byID[id]
	if ts == nil {
		ts = &model.TableState{Table: &model.Table{Family: fam, Name: name}, Rules: map[string][]*model.Rule{}}
		bd.byID[id] = ts
		bd.d.Tables = append(bd.d.Tables, ts)
	}
	return ts
}

func (bd *builder) add(op model.Op) error {
	d, table := bd.d, bd.table
	bindings, setsByID, setsByName := bd.bindings, bd.setsByID, bd.setsByName
	if rs, ok := op.Obj.(*model.Ruleset); ok && op.Verb == model.VerbFlush {
		d.Flush = append(d.Flush, rs.Family)
		return nil
	}
	if op.Verb != model.VerbAdd && op.Verb != model.VerbCreate {
		return fmt.Errorf("%s %s: not a declaration", op.Verb, objKind(op.Obj))
	}
	switch o := op.Obj.(type) {
	case *model.Table:
		ts := table(o.Family, o.Name)
		ts.Table.Flags |= o.Flags
		if o.Comment != "" {
			ts.Table.Comment = o.Comment
		}
		if !ts.Table.Pos.IsValid() {
			ts.Table.Pos = o.Pos
		}
	case *model.Chain:
		ts := table(o.Family, o.Table)
		if isBinding(o) && o.Name == "" {
			// An anonymous chain bound to the rule that follows.
			bindings[o.ID] = true
			ts.Chains = append(ts.Chains, o)
			return nil
		}
		if c := findChain(ts.Chains, o.Name); c != nil {
			// A later declaration of the same chain may add its
			// hook, policy or comment.
			if o.Hook != nil {
				c.Hook = o.Hook
			}
			if o.Policy != nil {
				c.Policy = o.Policy
			}
			if o.Comment != "" {
				c.Comment = o.Comment
			}
			return nil
		}
		ts.Chains = append(ts.Chains, o)
	case *model.Rule:
		ts := table(o.Family, o.Table)
		if o.Chain == "" && bindings[o.ChainID] {
			ts.Rules[bindingRulesKey(o.ChainID)] = append(ts.Rules[bindingRulesKey(o.ChainID)], o)
			return nil
		}
		if bd.shed != nil && bd.shed(ts, o) {
			return nil
		}
		ts.Rules[o.Chain] = append(ts.Rules[o.Chain], o)
	case *model.Set:
		ts := table(o.Family, o.Table)
		key := o.Family.String() + " " + o.Table + " " + o.Name
		if prev := setsByName[key]; prev != nil && !isAnon(o.Name) {
			prev.Elements = append(prev.Elements, o.Elements...)
			return nil
		}
		s := *o
		// Later blocks of the same set append to a copy, never into
		// the batch's slice; the elements themselves are shared (a
		// copy of a million elements costs 400 MB).
		s.Elements = slices.Clip(o.Elements)
		ts.Sets = append(ts.Sets, &s)
		if o.ID != 0 {
			setsByID[o.ID] = &s
		}
		if !isAnon(o.Name) {
			setsByName[key] = &s
		}
	case *model.SetElems:
		s := setsByID[o.SetID]
		if s == nil || o.SetID == 0 {
			s = setsByName[o.Family.String()+" "+o.Table+" "+o.Set]
		}
		if s == nil {
			return fmt.Errorf("elements for set %s of table %s %s, which the file does not declare", o.Set, o.Family, o.Table)
		}
		s.Elements = append(s.Elements, o.Elements...)
	case *model.Flowtable:
		ts := table(o.Family, o.Table)
		ts.Flowtables = append(ts.Flowtables, o)
	case *model.Object:
		ts := table(o.Family, o.Table)
		ts.Objects = append(ts.Objects, o)
	default:
		return fmt.Errorf("%s %s: not a declaration", op.Verb, objKind(op.Obj))
	}
	return nil
}

func findChain(cs []*model.Chain, name string) *model.Chain {
	for _, c := range cs {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// objKind names the kind of a batch object as nft's commands do.
func objKind(o any) string {
	switch o.(type) {
	case *model.Table:
		return "table"
	case *model.Chain:
		return "chain"
	case *model.Rule:
		return "rule"
	case *model.Set:
		return "set"
	case *model.SetElems:
		return "element"
	case *model.Flowtable:
		return "flowtable"
	case *model.Object:
		return "object"
	case *model.Ruleset:
		return "ruleset"
	}
	return fmt.Sprintf("%T", o)
}

// Manages reports whether a table belongs to what the file manages: the
// tables it declares, and with `flush ruleset` every table of the flushed
// families.
func (d *Desired) Manages(fam model.Family, name string) bool {
	for _, f := range d.Flush {
		if f == 0 || f == fam {
			return true
		}
	}
	for _, ts := range d.Tables {
		if ts.Table.Family == fam && ts.Table.Name == name {
			return true
		}
	}
	return false
}
