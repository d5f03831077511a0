package plan

import (
	"github.com/nftflow/nftflow/model"
)

// sets compares the named sets and maps: new ones are created with their
// elements, sets whose definition changed are rebuilt (with the rules
// that use them), and otherwise elements are added and removed one by
// one. Sets with the timeout or dynamic flag keep elements the file does
// not list: the packet path adds those.
func (tp *tablePlan) sets() {
	have := map[string]*model.Set{}
	for _, s := range tp.have.Sets {
		if s.Flags&setAnonymous == 0 {
			have[s.Name] = s
		}
	}
	for _, s := range tp.want.Sets {
		if isAnon(s.Name) {
			continue
		}
		hs := have[s.Name]
		delete(have, s.Name)
		switch {
		case hs == nil:
			tp.ph.addDefs = append(tp.ph.addDefs, op(model.VerbAdd, s, s.Pos))
			tp.change(Change{Mark: Add, Kind: "set", Name: s.Name, New: s, NewSet: s, Drift: tp.drift(Add, 0, hashSet(tp.id, s))})
		case setDefKey(hs, s.Size) != setDefKey(s, s.Size):
			tp.dirtySets[s.Name] = true
			tp.ph.delDefs = append(tp.ph.delDefs, op(model.VerbDelete, &model.Set{Family: hs.Family, Table: hs.Table, Name: hs.Name}, s.Pos))
			tp.ph.reAddDefs = append(tp.ph.reAddDefs, op(model.VerbAdd, s, s.Pos))
			tp.change(Change{Mark: Replace, Kind: "set", Name: s.Name, Old: hs, New: s, OldSet: hs, NewSet: s, Drift: tp.drift(Replace, hashSet(tp.id, hs), 0)})
		default:
			tp.elements(hs, s)
		}
	}
	for _, name := range sortedKeys(have) {
		hs := have[name]
		tp.dirtySets[name] = true
		tp.ph.delDefs = append(tp.ph.delDefs, op(model.VerbDelete, &model.Set{Family: hs.Family, Table: hs.Table, Name: hs.Name}, model.Pos{}))
		tp.change(Change{Mark: Remove, Kind: "set", Name: name, Old: hs, OldSet: hs, Drift: tp.drift(Remove, hashSet(tp.id, hs), 0)})
	}
}

// elements adds and removes the elements that differ between the kernel's
// set hs and the file's set s.
func (tp *tablePlan) elements(hs, s *model.Set) {
	hk := make([]string, len(hs.Elements))
	haveKeys := make(map[string]int, len(hs.Elements))
	for i := range hs.Elements {
		hk[i] = elemKey(hs, &hs.Elements[i])
		haveKeys[hk[i]] = i
	}
	var add []model.SetElem
	var addKeys []string
	// seen: keys of the file met already (a file may list an element
	// twice; the kernel keeps it once, and so does the plan).
	seen := make(map[string]bool)
	for i := range s.Elements {
		k := elemKey(s, &s.Elements[i])
		if seen[k] {
			continue
		}
		seen[k] = true
		if _, ok := haveKeys[k]; ok {
			delete(haveKeys, k)
			continue
		}
		add = append(add, s.Elements[i])
		addKeys = append(addKeys, k)
	}
	keepExtra := s.Flags&(setTimeout|setEval) != 0
	var del []model.SetElem
	var delKeys []string
	if !keepExtra {
		// Keep the kernel's order for the deletions.
		for i, k := range hk {
			if _, ok := haveKeys[k]; ok {
				del = append(del, hs.Elements[i])
				delKeys = append(delKeys, k)
			}
		}
	}
	if len(del) > 0 {
		tp.ph.delElems = append(tp.ph.delElems, op(model.VerbDelete, &model.SetElems{Family: hs.Family, Table: hs.Table, Set: hs.Name, Elements: del}, s.Pos))
		for i := range del {
			tp.change(Change{Mark: Remove, Kind: "element", Name: s.Name, Old: &del[i], OldSet: hs, NewSet: s,
				Drift: tp.drift(Remove, hashElem(tp.id, s.Name, delKeys[i]), 0)})
		}
	}
	if len(add) > 0 {
		tp.ph.addElems = append(tp.ph.addElems, op(model.VerbAdd, &model.SetElems{Family: s.Family, Table: s.Table, Set: s.Name, Elements: add, Pos: s.Pos}, s.Pos))
		for i := range add {
			tp.change(Change{Mark: Add, Kind: "element", Name: s.Name, New: &add[i], OldSet: hs, NewSet: s,
				Drift: tp.drift(Add, 0, hashElem(tp.id, s.Name, addKeys[i]))})
		}
	}
}
