package compiler

import (
	"fmt"
	"sort"
	"strings"

	"github.com/nftflow/nftflow/parser"
)

// objMapKind maps the data type of an object map (`type ipv4_addr :
// counter`) to the object kind its values name; "" for other maps.
func objMapKind(data string) string {
	switch data {
	case "counter", "quota", "limit", "secmark", "synproxy", "ct helper", "ct timeout", "ct expectation":
		return data
	}
	return ""
}

// checkReferences resolves every name a rule or a map uses: chains,
// sets, maps, flowtables and named objects. It records the jump graph
// for checkLoops and the use marks for checkUnused.
func (l *linter) checkReferences() {
	for _, t := range l.tables {
		// Named maps: verdict targets and object names in elements.
		for _, s := range t.setOrder {
			for _, d := range s.decls {
				l.checkMapElements(t, s, d)
			}
		}
		for _, c := range t.chainOrder {
			for _, r := range c.rules {
				l.checkRuleRefs(t, c, r)
			}
		}
		for _, ec := range l.elemCmds {
			if ec.table != t {
				continue
			}
			name := l.resolveName(ec.set)
			s := t.sets[name]
			if s == nil {
				l.report(CodeUndefinedSet, ec.set, "set %s is not declared in %s%s; declare it before adding elements", name, t, didYouMean(name, setNames(t)))
				continue
			}
			l.checkElements(t, s, ec.elems)
		}
	}
}

func setNames(t *ltable) []string {
	var out []string
	for n := range t.sets {
		out = append(out, n)
	}
	return out
}

func chainNames(t *ltable) []string {
	var out []string
	for n, c := range t.chains {
		if c.declared {
			out = append(out, n)
		}
	}
	return out
}

// mapData returns a map declaration's data type as written ("verdict",
// "counter", "ipv4_addr"), or "" for a set or a typeof map.
func mapData(d *parser.SetBlock) string {
	if !d.IsMap || isNil(d.Data) {
		return ""
	}
	return exprText(d.Data)
}

func (s *lset) dataType() string {
	for _, d := range s.decls {
		if v := mapData(d); v != "" {
			return v
		}
	}
	return ""
}

// checkMapElements checks the values of a named map's elements: verdict
// targets and object names.
func (l *linter) checkMapElements(t *ltable, s *lset, d *parser.SetBlock) {
	if d.Elements == nil {
		return
	}
	l.checkElements(t, s, d.Elements)
}

// checkElements checks the values of elements added to named set s.
func (l *linter) checkElements(t *ltable, s *lset, elems *parser.SetExpr) {
	data := s.dataType()
	kind := objMapKind(data)
	for _, e := range elems.Elems() {
		me, ok := e.(*parser.MapElem)
		if !ok {
			continue
		}
		switch v := l.resolve(me.Value).(type) {
		case *parser.Verdict:
			if v.Kind == "jump" || v.Kind == "goto" {
				l.chainRef(t, nil, v.Target, v.Kind)
			}
		case *parser.Ident, *parser.Literal:
			if kind != "" {
				l.objRef(t, kind, v)
			}
		}
	}
	l.checkSetElementTypes(t, s, elems)
}

// chainRef checks a jump or goto target; from is the chain it leaves
// (nil for a named map's element, whose edges are added where the map
// is used).
func (l *linter) chainRef(t *ltable, from *lchain, target *parser.Ident, kind string) {
	if target == nil {
		return
	}
	name := l.resolveName(target)
	c := t.chains[name]
	if c == nil || !c.declared {
		l.report(CodeUndefinedChain, target, "%s to chain %s, which is not declared in %s%s; declare the chain or fix the name", kind, name, t, didYouMean(name, chainNames(t)))
		return
	}
	c.refs++
	if from != nil {
		from.out = append(from.out, edge{to: name, kind: kind, node: target})
	}
}

// mapTargets returns the jump/goto targets among a named map's elements
// (computed once per map: large maps are looked up by many rules).
func (l *linter) mapTargets(s *lset) []edge {
	if s.targetsDone {
		return s.targets
	}
	s.targetsDone = true
	var out []edge
	for _, d := range s.decls {
		if d.Elements == nil {
			continue
		}
		for _, e := range d.Elements.Elems() {
			if me, ok := e.(*parser.MapElem); ok {
				if v, ok := l.resolve(me.Value).(*parser.Verdict); ok && (v.Kind == "jump" || v.Kind == "goto") && v.Target != nil {
					out = append(out, edge{to: l.resolveName(v.Target), kind: v.Kind, node: v.Target})
				}
			}
		}
	}
	s.targets = out
	return out
}

func (l *linter) objRef(t *ltable, kind string, name parser.Expr) {
	var n string
	switch v := l.resolve(name).(type) {
	case *parser.Ident:
		n = v.Name()
	case *parser.Literal:
		n = v.Value()
	default:
		return
	}
	o := t.objs[kind+" "+n]
	if o == nil {
		var names []string
		for _, x := range t.objs {
			if x.kind == kind {
				names = append(names, x.name)
			}
		}
		l.report(CodeUndefinedObject, name, "%s %q is not declared in %s%s; declare it (`%s %s { ... }`) or fix the name", kind, n, t, didYouMean(n, names), kind, n)
		return
	}
	o.used = true
}

func (l *linter) checkRuleRefs(t *ltable, c *lchain, r *parser.Rule) {
	for _, st := range r.Stmts {
		switch s := st.(type) {
		case *parser.VerdictStmt:
			if s.Kind == "jump" || s.Kind == "goto" {
				l.chainRef(t, c, s.Target, s.Kind)
			}
		case *parser.FlowStmt:
			l.flowRef(t, s)
			continue
		case *parser.ObjRefStmt:
			l.objRefStmt(t, s)
		case *parser.DynsetStmt:
			if s.Op == "meter" {
				// A meter declares its own set.
				for _, e := range []parser.Expr{s.Key, s.Value} {
					l.walkRefs(t, c, e)
				}
				continue
			}
		}
		forStmtExprs(st, func(e parser.Expr) { l.walkRefs(t, c, e) })
	}
}

func (l *linter) walkRefs(t *ltable, c *lchain, e parser.Expr) {
	walkExpr(e, func(x parser.Expr) bool {
		switch x := x.(type) {
		case *parser.SetRef:
			s := t.sets[x.Name]
			if s == nil {
				l.report(CodeUndefinedSet, x, "@%s: no set or map %s is declared in %s%s; declare it or fix the name", x.Name, x.Name, t, didYouMean(x.Name, setNames(t)))
				return false
			}
			s.used = true
			for _, ed := range l.mapTargets(s) {
				if tc := t.chains[ed.to]; tc != nil && tc.declared {
					c.out = append(c.out, edge{to: ed.to, kind: ed.kind, node: x})
				}
			}
		case *parser.Verdict:
			if x.Kind == "jump" || x.Kind == "goto" {
				l.chainRef(t, c, x.Target, x.Kind)
			}
		}
		return true
	})
}

func (l *linter) flowRef(t *ltable, s *parser.FlowStmt) {
	var name string
	switch v := l.resolve(s.Ft).(type) {
	case *parser.SetRef:
		name = v.Name
	case *parser.Ident:
		name = v.Name()
	case *parser.Literal:
		name = v.Value()
	default:
		return
	}
	ft := t.fts[name]
	if ft == nil {
		var names []string
		for n := range t.fts {
			names = append(names, n)
		}
		l.report(CodeUndefinedFlowtable, s.Ft, "flow %s @%s: no flowtable %s is declared in %s%s; declare `flowtable %s { hook ingress priority filter; devices = { ... }; }` in the same table", s.Op, name, name, t, didYouMean(name, names), name)
		return
	}
	ft.used = true
}

func (l *linter) objRefStmt(t *ltable, s *parser.ObjRefStmt) {
	kind := s.Kind
	if kind == "meta secmark" {
		kind = "secmark"
	}
	switch v := l.resolve(s.Name).(type) {
	case *parser.Ident, *parser.Literal:
		l.objRef(t, kind, v)
	case *parser.MapLookup:
		switch m := l.resolve(v.Map).(type) {
		case *parser.SetExpr:
			for _, e := range m.Elems() {
				if me, ok := e.(*parser.MapElem); ok {
					l.objRef(t, kind, me.Value)
				}
			}
		case *parser.SetRef:
			if ms := t.sets[m.Name]; ms != nil {
				if data := ms.dataType(); objMapKind(data) != "" && objMapKind(data) != kind {
					l.report(CodeElementType, m, "map @%s holds %s objects but this statement needs %s objects; use a map of type ... : %s", m.Name, data, kind, kind)
				}
			}
		}
	}
}

// checkLoops reports cycles among chains through jump and goto: the
// kernel refuses them with "Too many levels of symbolic links" (ELOOP).
func (l *linter) checkLoops() {
	for _, t := range l.tables {
		// Tarjan's strongly connected components.
		index := map[string]int{}
		low := map[string]int{}
		on := map[string]bool{}
		var stack []string
		n := 0
		var comps [][]string
		var strong func(v string)
		strong = func(v string) {
			index[v], low[v] = n, n
			n++
			stack = append(stack, v)
			on[v] = true
			for _, e := range t.chains[v].out {
				if _, seen := index[e.to]; !seen {
					strong(e.to)
					low[v] = min(low[v], low[e.to])
				} else if on[e.to] {
					low[v] = min(low[v], index[e.to])
				}
			}
			if low[v] == index[v] {
				var comp []string
				for {
					w := stack[len(stack)-1]
					stack = stack[:len(stack)-1]
					on[w] = false
					comp = append(comp, w)
					if w == v {
						break
					}
				}
				comps = append(comps, comp)
			}
		}
		for _, c := range t.chainOrder {
			if _, seen := index[c.name]; !seen {
				strong(c.name)
			}
		}
		for _, comp := range comps {
			in := map[string]bool{}
			for _, v := range comp {
				in[v] = true
			}
			self := false
			if len(comp) == 1 {
				for _, e := range t.chains[comp[0]].out {
					if e.to == comp[0] {
						self = true
					}
				}
				if !self {
					continue
				}
			}
			l.reportLoop(t, in)
		}
	}
}

// reportLoop reports one cycle inside the component, at the edge that
// closes it, with the path.
func (l *linter) reportLoop(t *ltable, in map[string]bool) {
	// Start from the component's first chain in source order.
	var start *lchain
	for _, c := range t.chainOrder {
		if in[c.name] {
			start = c
			break
		}
	}
	path := []string{start.name}
	seen := map[string]int{start.name: 0}
	cur := start
	for {
		var next *edge
		for i := range cur.out {
			if in[cur.out[i].to] {
				next = &cur.out[i]
				break
			}
		}
		if next == nil {
			return
		}
		if at, ok := seen[next.to]; ok {
			cycle := append(append([]string(nil), path[at:]...), next.to)
			if len(l.reachers(t)[start]) == 0 {
				// The kernel checks loops from base chains only: this one
				// loads, and fails when a base chain starts jumping in.
				d := l.report(CodeJumpLoop, next.node, "%s %s closes a loop: %s; no base chain reaches it yet, but the kernel rejects the ruleset (\"Too many levels of symbolic links\") as soon as one does: break the cycle", next.kind, next.to, strings.Join(cycle, " -> "))
				d.Severity = SeverityWarning
				return
			}
			l.report(CodeJumpLoop, next.node, "%s %s closes a loop: %s; the kernel rejects the ruleset (\"Too many levels of symbolic links\"): break the cycle", next.kind, next.to, strings.Join(cycle, " -> "))
			return
		}
		seen[next.to] = len(path)
		path = append(path, next.to)
		cur = t.chains[next.to]
	}
}

// checkUnused reports declarations nothing uses.
func (l *linter) checkUnused() {
	for _, t := range l.tables {
		for _, c := range t.chainOrder {
			if c.declared && c.base == nil && c.refs == 0 && len(c.decls) > 0 {
				l.report(CodeUnusedChain, c.decls[0].Name, "chain %s in %s is not a base chain and no jump, goto or vmap reaches it, so its rules never run; jump to it or remove it", c.name, t)
			}
		}
		for _, s := range t.setOrder {
			if !s.used && !isDynamicSet(s) {
				kind := "set"
				if s.decls[0].IsMap {
					kind = "map"
				}
				l.report(CodeUnusedSet, s.decls[0].Name, "%s %s in %s is not used by any rule; use it (@%s) or remove it", kind, s.name, t, s.name)
			}
		}
	}
}

// isDynamicSet reports whether a set is filled or read from outside (a
// set with flags dynamic is often used by a daemon).
func isDynamicSet(s *lset) bool {
	for _, d := range s.decls {
		if d.Flags != nil && strings.Contains(flagsText(d.Flags), "dynamic") {
			return true
		}
	}
	return false
}

// didYouMean suggests the closest of names to n, as "; did you mean X?".
func didYouMean(n string, names []string) string {
	best, bestD := "", 0
	sort.Strings(names)
	for _, c := range names {
		d := editDistance(n, c)
		if d <= max(1, len(n)/3) && (best == "" || d < bestD) {
			best, bestD = c, d
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" (did you mean %s?)", best)
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
