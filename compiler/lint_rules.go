package compiler

import (
	"strconv"

	"github.com/nftflow/nftflow/parser"
)

// checkRules runs the per-rule checks: statement context (hook and chain
// type), flowtable pitfalls, constant types, and dead code.
func (l *linter) checkRules() {
	for _, t := range l.tables {
		reach := l.reachers(t)
		for _, c := range t.chainOrder {
			ctx := reach[c]
			for _, r := range c.rules {
				for _, st := range r.Stmts {
					l.checkStmtContext(t, c, ctx, st)
				}
				l.checkRuleTypes(t, r)
				l.checkL4Mapping(r)
				l.checkExprs(t, r)
				ruleWalk(r, func(e parser.Expr) bool {
					if se, ok := e.(*parser.SetExpr); ok {
						l.checkDuplicateElements(se)
					}
					return true
				})
			}
			l.checkFlowPitfalls(t, c)
			l.checkDeadRules(c)
		}
		for _, s := range t.setOrder {
			for _, d := range s.decls {
				if d.Elements != nil {
					l.checkDuplicateElements(d.Elements)
				}
			}
		}
	}
}

// checkL4Mapping reports NAT and tproxy ports with no transport protocol
// match before them in the rule: nft refuses them ("transport protocol
// mapping is only valid after transport protocol match").
func (l *linter) checkL4Mapping(r *parser.Rule) {
	for i, st := range r.Stmts {
		var port parser.Expr
		var at parser.Node
		what := ""
		switch s := st.(type) {
		case *parser.NatStmt:
			port, what = s.Port, s.Kind
			if isNil(port) {
				port = l.mapPortValue(s.Addr)
			}
		case *parser.TproxyStmt:
			port, what = s.Port, "tproxy"
			if isNil(port) {
				at = s // tproxy always needs the transport protocol
			}
		}
		if !isNil(port) {
			at = port
		}
		if at == nil || l.restrictsL4(r.Stmts[:i], false) || (!isNil(port) && mentionsL4(port)) {
			continue
		}
		d := l.report(CodeStatementHook, at, "%s with a port needs a transport protocol match earlier in the rule (nft: \"transport protocol mapping is only valid after transport protocol match\"); add `meta l4proto tcp` (or udp) before it", what)
		d.Suggestion = "meta l4proto tcp"
	}
}

// terminal reports whether a rule ends evaluation of the chain for every
// packet: it has no match and ends in accept, drop, return, goto, queue
// or reject. (jump is not terminal: the rules after it run when the
// jumped-to chain returns.)
func terminal(r *parser.Rule) (string, bool) {
	if len(r.Stmts) == 0 {
		return "", false
	}
	for _, st := range r.Stmts[:len(r.Stmts)-1] {
		switch x := st.(type) {
		case *parser.CounterStmt, *parser.LogStmt, *parser.SetStmt, *parser.NotrackStmt, *parser.LastStmt:
		case *parser.ObjRefStmt:
			if x.Kind != "counter" {
				return "", false
			}
		default:
			return "", false
		}
	}
	switch x := r.Stmts[len(r.Stmts)-1].(type) {
	case *parser.VerdictStmt:
		switch x.Kind {
		case "accept", "drop", "return", "queue":
			return x.Kind, true
		case "goto":
			return "goto " + x.Target.Name(), true
		}
	case *parser.RejectStmt:
		return "reject", true
	}
	return "", false
}

// checkDeadRules reports the rules after an unconditional verdict.
func (l *linter) checkDeadRules(c *lchain) {
	for i, r := range c.rules {
		what, ok := terminal(r)
		if !ok || i == len(c.rules)-1 {
			continue
		}
		dead := c.rules[i+1:]
		p := r.Pos()
		more := ""
		if len(dead) > 1 {
			more = " (and the " + strconv.Itoa(len(dead)-1) + " rules after it)"
		}
		l.report(CodeUnreachableRule, dead[0], "this rule%s can never run: the rule at line %d (`%s`) ends chain %s for every packet; remove it or move it before line %d", more, p.Line, what, c.name, p.Line)
		return
	}
}

// checkDuplicateElements warns about an element listed twice in one
// set literal.
func (l *linter) checkDuplicateElements(s *parser.SetExpr) {
	seen := map[string]bool{}
	for _, el := range s.Elems() {
		k := el
		switch y := el.(type) {
		case *parser.Elem:
			k = y.Key
		case *parser.MapElem:
			k = y.Key
		}
		text := exprText(k)
		if text == "" {
			continue
		}
		if seen[text] {
			l.report(CodeDuplicateElement, k, "element %s is listed twice; remove the duplicate", text)
			continue
		}
		seen[text] = true
	}
}

// checkSystem runs the topology checks on every flowtable.
func (l *linter) checkSystem(sys System) {
	topo, feat := sys.Topology(), sys.Features()
	for _, t := range l.tables {
		for _, ft := range t.ftOrder {
			decl := FlowtableDecl{Name: ft.name, Pos: PosOf(ft.decls[0].Name)}
			for _, d := range ft.decls {
				if d.Counter {
					decl.Counter = true
				}
				if d.Flags != nil {
					for _, f := range d.Flags.Flags {
						if f.Name() == "offload" {
							decl.HWOffload = true
							decl.FlagsPos = PosOf(d.Flags)
						}
					}
				}
			}
			for _, dv := range l.flowtableDevices(ft) {
				decl.Devices = append(decl.Devices, DeviceDecl{Name: dv.name, Pos: PosOf(dv.node)})
			}
			l.diags = append(l.diags, CheckFlowtableDevices(decl, topo, feat)...)
		}
	}
}

// mapPortValue returns the map of a NAT address whose values are
// address . port concatenations (they map the port too), else nil.
func (l *linter) mapPortValue(addr parser.Expr) parser.Expr {
	ml, ok := l.resolve(addr).(*parser.MapLookup)
	if !ok {
		return nil
	}
	set, ok := l.resolve(ml.Map).(*parser.SetExpr)
	if !ok {
		return nil
	}
	for _, el := range set.Elems() {
		if me, ok := el.(*parser.MapElem); ok {
			if _, ok := me.Value.(*parser.Concat); ok {
				return ml
			}
		}
	}
	return nil
}

// mentionsL4 reports whether an expression reads a tcp or udp header
// field, which gives nft the transport protocol (`redirect to :tcp dport
// map { ... }`).
func mentionsL4(e parser.Expr) bool {
	found := false
	walkExpr(e, func(x parser.Expr) bool {
		if sel, ok := x.(*parser.Selector); ok {
			switch sel.Head() {
			case "tcp", "udp", "udplite", "sctp", "dccp":
				found = true
			}
		}
		return !found
	})
	return found
}
