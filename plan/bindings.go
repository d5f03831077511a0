package plan

import (
	"strconv"
	"strings"

	"github.com/nftflow/nftflow/model"
)

// Chain bindings ("jump { ... }") are anonymous chains bound to the rule
// that jumps to them: the file's are model.Chains with NFT_CHAIN_BINDING,
// no name and a batch id (their rules carry Rule.ChainID, the jumping
// verdict Verdict.ChainID); the kernel's are named "__chain%d" and flagged
// the same way. A binding belongs to its rule: the rule is compared
// together with the binding's rules, and when the rule is added or
// replaced the binding and its rules go into the batch just before it.
// Deleting or replacing the owning rule deletes the old binding in the
// kernel, so bindings are never deleted on their own.

// bindingRulesKey is the private TableState.Rules key under which the
// file's rules of the binding chain with batch id id are kept.
func bindingRulesKey(id uint32) string { return "\x00binding " + strconv.FormatUint(uint64(id), 10) }

// isBinding reports whether a chain is a bound anonymous chain.
func isBinding(c *model.Chain) bool { return c.Flags&chainFlagBinding != 0 }

// bindingIndex finds the binding chains of one side of a comparison.
type bindingIndex struct {
	ts   *model.TableState
	byID map[uint32]*model.Chain // the file's, by batch id
	name map[string]bool         // the kernel's, by name
	anon setResolver
	cc   canonCache // nil: none kept between rules
}

func newBindingIndex(ts *model.TableState, anon setResolver) *bindingIndex {
	bi := &bindingIndex{ts: ts, byID: map[uint32]*model.Chain{}, name: map[string]bool{}, anon: anon, cc: canonCache{}}
	if ts == nil {
		return bi
	}
	for _, c := range ts.Chains {
		if !isBinding(c) {
			continue
		}
		if c.Name == "" && c.ID != 0 {
			bi.byID[c.ID] = c
		} else if c.Name != "" {
			bi.name[c.Name] = true
		}
	}
	return bi
}

// rulesOf returns the rules of the binding a verdict jumps to; ok is
// false when it jumps to an ordinary chain.
func (bi *bindingIndex) rulesOf(v *model.Verdict) (rules []*model.Rule, ok bool) {
	if v == nil || bi == nil {
		return nil, false
	}
	if v.ChainID != 0 && v.Chain == "" {
		if c := bi.byID[v.ChainID]; c != nil {
			return bi.ts.Rules[bindingRulesKey(c.ID)], true
		}
		return nil, false
	}
	if v.Chain != "" && bi.name[v.Chain] {
		return bi.ts.Rules[v.Chain], true
	}
	return nil, false
}

// ruleKey identifies a rule by what it does, with the verdicts that jump
// to bindings replaced by the bindings' contents (recursively).
func (bi *bindingIndex) ruleKey(r *model.Rule) string {
	es := r.Exprs
	copied := false
	for i, e := range es {
		im, ok := e.(*model.Immediate)
		if !ok || im.Verdict == nil {
			continue
		}
		rules, ok := bi.rulesOf(im.Verdict)
		if !ok {
			continue
		}
		keys := make([]string, len(rules))
		for k, br := range rules {
			keys[k] = bi.ruleKey(br)
		}
		if !copied {
			es = append([]model.Expr(nil), es...)
			copied = true
		}
		c := *im
		c.Verdict = &model.Verdict{Code: im.Verdict.Code, Chain: "binding {" + strings.Join(keys, ";") + "}"}
		es[i] = &c
	}
	cc := bi.cc
	if cc == nil {
		cc = canonCache{}
	}
	return exprsKeyWith(es, bi.anon, cc) + "#" + strconv.Quote(r.Comment)
}

// usesDirty reports whether the bindings a kernel rule jumps to have
// rules that use a rebuilt set, object or flowtable.
func (tp *tablePlan) bindingUsesDirty(r *model.Rule) bool {
	for _, e := range r.Exprs {
		im, ok := e.(*model.Immediate)
		if !ok {
			continue
		}
		rules, ok := tp.haveBind.rulesOf(im.Verdict)
		if !ok {
			continue
		}
		for _, br := range rules {
			if tp.usesDirty(br) || tp.bindingUsesDirty(br) {
				return true
			}
		}
	}
	return false
}

// emitBindings adds, before a rule of the file, the bindings it jumps to
// and their rules (with their own bindings and anonymous sets first).
func (tp *tablePlan) emitBindings(r *model.Rule) {
	for _, e := range r.Exprs {
		im, ok := e.(*model.Immediate)
		if !ok || im.Verdict == nil || im.Verdict.ChainID == 0 {
			continue
		}
		c := tp.wantBind.byID[im.Verdict.ChainID]
		if c == nil {
			continue
		}
		tp.ph.rules = append(tp.ph.rules, op(model.VerbAdd, c, c.Pos))
		for _, br := range tp.want.Rules[bindingRulesKey(c.ID)] {
			tp.emitBindings(br)
			tp.emitAnonSets(br)
			nr := *br
			nr.Handle, nr.Position = 0, 0
			tp.ph.rules = append(tp.ph.rules, op(model.VerbAdd, &nr, br.Pos))
		}
	}
}
