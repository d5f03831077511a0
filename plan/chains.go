package plan

import (
	"strconv"

	"github.com/nftflow/nftflow/model"
)

// chains compares the chains and their rules.
func (tp *tablePlan) chains() {
	have := map[string]*model.Chain{}
	for _, c := range tp.have.Chains {
		if c.Flags&chainFlagBinding == 0 {
			have[c.Name] = c
		}
	}
	// New chains first: rules and map elements may jump to them.
	for _, c := range tp.want.Chains {
		if isBinding(c) {
			continue // sent with the rule that jumps to it
		}
		if have[c.Name] == nil {
			tp.ph.addDefs = append(tp.ph.addDefs, op(model.VerbAdd, c, c.Pos))
			tp.change(Change{Mark: Add, Kind: "chain", Name: c.Name, New: c, Drift: tp.drift(Add, 0, hashChain(tp.id, c))})
		}
	}
	for _, c := range tp.want.Chains {
		if isBinding(c) {
			continue
		}
		hc := have[c.Name]
		delete(have, c.Name)
		want := tp.want.Rules[c.Name]
		switch {
		case hc == nil:
			for _, r := range want {
				tp.addRule(r, 0, model.VerbAdd)
				tp.change(Change{Mark: Add, Kind: "rule", Name: c.Name, New: r, Drift: tp.drift(Add, 0, hashRule(tp.id, c.Name, tp.wantBind.ruleKey(r)))})
			}
		case chainKey(hc) != chainKey(c):
			// Another hook, priority, type or flags: the kernel cannot
			// change those, so the chain is deleted and created again.
			tp.ph.delRules = append(tp.ph.delRules, op(model.VerbFlush, &model.Chain{Family: hc.Family, Table: hc.Table, Name: hc.Name}, c.Pos))
			tp.ph.delChains = append(tp.ph.delChains, op(model.VerbDelete, &model.Chain{Family: hc.Family, Table: hc.Table, Name: hc.Name}, c.Pos))
			tp.ph.reChains = append(tp.ph.reChains, op(model.VerbAdd, c, c.Pos))
			tp.change(Change{Mark: Replace, Kind: "chain", Name: c.Name, Old: hc, New: c, Drift: tp.drift(Replace, hashChain(tp.id, hc), 0)})
			for _, r := range tp.have.Rules[hc.Name] {
				tp.change(Change{Mark: Remove, Kind: "rule", Name: c.Name, Old: r})
			}
			for _, r := range want {
				tp.addRule(r, 0, model.VerbAdd)
				tp.change(Change{Mark: Add, Kind: "rule", Name: c.Name, New: r})
			}
		default:
			if chainPolicy(hc) != chainPolicy(c) {
				tp.ph.chainUpd = append(tp.ph.chainUpd, op(model.VerbAdd, c, c.Pos))
				tp.change(Change{Mark: Replace, Kind: "policy", Name: c.Name, Old: hc, New: c, Drift: tp.drift(Replace, hashChain(tp.id, hc), 0)})
			}
			tp.rules(c.Name, tp.have.Rules[c.Name], want)
		}
	}
	for _, name := range sortedKeys(have) {
		hc := have[name]
		tp.ph.delRules = append(tp.ph.delRules, op(model.VerbFlush, &model.Chain{Family: hc.Family, Table: hc.Table, Name: hc.Name}, model.Pos{}))
		// Deleted last: rules replaced in this batch may still jump to it.
		tp.ph.delChainsLate = append(tp.ph.delChainsLate, op(model.VerbDelete, &model.Chain{Family: hc.Family, Table: hc.Table, Name: hc.Name}, model.Pos{}))
		tp.change(Change{Mark: Remove, Kind: "chain", Name: name, Old: hc, Drift: tp.drift(Remove, hashChain(tp.id, hc), 0)})
		for _, r := range tp.have.Rules[name] {
			tp.change(Change{Mark: Remove, Kind: "rule", Name: name, Old: r})
		}
	}
}

// rules makes the kernel's rules of one chain (have) equal to the file's
// (want), keeping the rules both have: the longest common subsequence
// stays untouched; between two kept rules, the kernel's rules are
// replaced in place by the file's one by one, the rest deleted or
// inserted before the next kept rule.
func (tp *tablePlan) rules(chain string, have, want []*model.Rule) {
	hk := make([]string, len(have))
	dirty := make([]bool, len(have))
	for i, r := range have {
		hk[i] = tp.haveBind.ruleKey(r)
		if tp.usesDirty(r) || tp.bindingUsesDirty(r) {
			dirty[i] = true
			hk[i] = "\x00dirty " + strconv.Itoa(i)
		}
	}
	wk := make([]string, len(want))
	for j, r := range want {
		wk[j] = tp.wantBind.ruleKey(r)
	}
	matches := lcs(hk, wk)
	matches = append(matches, [2]int{len(have), len(want)}) // sentinel
	i0, j0 := 0, 0
	for _, m := range matches {
		i1, j1 := m[0], m[1]
		var next uint64 // the handle of the next kept rule
		if i1 < len(have) {
			next = have[i1].Handle
			tp.p.Kept = append(tp.p.Kept, KeptRule{Family: tp.id.Family, Table: tp.id.Name, Chain: chain, Pos: want[j1].Pos, Handle: next})
		}
		var pairable []int
		for i := i0; i < i1; i++ {
			if dirty[i] {
				tp.deleteRule(chain, have[i], hk[i])
			} else {
				pairable = append(pairable, i)
			}
		}
		ws := want[j0:j1]
		k := min(len(pairable), len(ws))
		for t := 0; t < k; t++ {
			hr, wr := have[pairable[t]], ws[t]
			tp.emitRule(wr, hr.Handle, 0, model.VerbReplace)
			tp.change(Change{Mark: Replace, Kind: "rule", Name: chain, Old: hr, New: wr,
				Drift: tp.drift(Replace, hashRule(tp.id, chain, hk[pairable[t]]), 0)})
		}
		for _, i := range pairable[k:] {
			tp.deleteRule(chain, have[i], hk[i])
		}
		for t := k; t < len(ws); t++ {
			wr := ws[t]
			if next != 0 {
				tp.emitRule(wr, 0, next, model.VerbInsert)
			} else {
				tp.emitRule(wr, 0, 0, model.VerbAdd)
			}
			tp.change(Change{Mark: Add, Kind: "rule", Name: chain, New: wr,
				Drift: tp.drift(Add, 0, hashRule(tp.id, chain, wk[j0+t]))})
		}
		i0, j0 = i1+1, j1+1
	}
}

func (tp *tablePlan) deleteRule(chain string, r *model.Rule, key string) {
	tp.ph.delRules = append(tp.ph.delRules, op(model.VerbDelete, &model.Rule{Family: r.Family, Table: r.Table, Chain: r.Chain, Handle: r.Handle}, model.Pos{}))
	tp.change(Change{Mark: Remove, Kind: "rule", Name: chain, Old: r, Drift: tp.drift(Remove, hashRule(tp.id, chain, key), 0)})
}

// lcsDPLimit bounds the cells of the exact dynamic-programming LCS; larger
// differences use a greedy in-order matching (still correct, maybe not
// minimal).
const lcsDPLimit = 4 << 20

// lcs returns the index pairs of a longest common subsequence of a and b
// (exact for small differences after trimming the common prefix and
// suffix), in increasing order.
func lcs(a, b []string) [][2]int {
	var out [][2]int
	p := 0
	for p < len(a) && p < len(b) && a[p] == b[p] {
		out = append(out, [2]int{p, p})
		p++
	}
	s := 0
	for s < len(a)-p && s < len(b)-p && a[len(a)-1-s] == b[len(b)-1-s] {
		s++
	}
	ma, mb := a[p:len(a)-s], b[p:len(b)-s]
	if len(ma) > 0 && len(mb) > 0 {
		var mid [][2]int
		if len(ma)*len(mb) <= lcsDPLimit {
			mid = lcsDP(ma, mb)
		} else {
			mid = lcsGreedy(ma, mb)
		}
		for _, m := range mid {
			out = append(out, [2]int{m[0] + p, m[1] + p})
		}
	}
	for k := s; k > 0; k-- {
		out = append(out, [2]int{len(a) - k, len(b) - k})
	}
	return out
}

func lcsDP(a, b []string) [][2]int {
	n, m := len(a), len(b)
	t := make([]int32, (n+1)*(m+1))
	at := func(i, j int) int32 { return t[i*(m+1)+j] }
	for i := n - 1; i >= 0; i-- {
		for j := m - 1; j >= 0; j-- {
			v := at(i+1, j+1) + 1
			if a[i] != b[j] {
				v = max(at(i+1, j), at(i, j+1))
			}
			t[i*(m+1)+j] = v
		}
	}
	var out [][2]int
	for i, j := 0, 0; i < n && j < m; {
		switch {
		case a[i] == b[j]:
			out = append(out, [2]int{i, j})
			i++
			j++
		case at(i+1, j) >= at(i, j+1):
			i++
		default:
			j++
		}
	}
	return out
}

// lcsGreedy matches each element of b with the first unused equal element
// of a after the previous match.
func lcsGreedy(a, b []string) [][2]int {
	pos := map[string][]int{}
	for i, k := range a {
		pos[k] = append(pos[k], i)
	}
	var out [][2]int
	last := -1
	for j, k := range b {
		q := pos[k]
		for len(q) > 0 && q[0] <= last {
			q = q[1:]
		}
		pos[k] = q
		if len(q) == 0 {
			continue
		}
		last = q[0]
		pos[k] = q[1:]
		out = append(out, [2]int{last, j})
	}
	return out
}
