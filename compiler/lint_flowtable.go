package compiler

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/nftflow/nftflow/parser"
)

// checkFlowtables checks flowtable declarations against what the kernel
// and nft accept (family, hook, priority) and for the usual mistakes (no
// devices, a device listed twice, a flowtable no rule uses).
func (l *linter) checkFlowtables() {
	for _, t := range l.tables {
		owner := map[string]string{} // device -> the first flowtable listing it
		for _, ft := range t.ftOrder {
			seen := map[string]bool{}
			for _, d := range l.flowtableDevices(ft) {
				if seen[d.name] {
					continue
				}
				seen[d.name] = true
				if o, ok := owner[d.name]; ok {
					l.report(CodeFlowtableDevShared, d.node, "device %s is already in flowtable %s of %s; the kernel refuses a device in two flowtables of one table (\"File exists\"): keep it in one", d.name, o, t)
					continue
				}
				owner[d.name] = ft.name
			}
		}
		for _, ft := range t.ftOrder {
			first := ft.decls[0]
			if t.family != "ip" && t.family != "ip6" && t.family != "inet" {
				l.report(CodeFlowtableFamily, first.Name, "flowtable %s is in %s, but flowtables exist only in ip, ip6 and inet tables (the kernel answers \"No such file or directory\"); move it to an inet table", ft.name, t)
				continue
			}
			hooked := firstHooked(ft.decls)
			if hooked == nil {
				d := l.report(CodeFlowtableHook, first.Name, "flowtable %s has no hook; the kernel needs one to create it: add `hook ingress priority filter`", ft.name)
				d.Suggestion = "hook ingress priority filter"
			} else {
				if h := hooked.Hook.Name(); h != "ingress" {
					d := l.report(CodeFlowtableHook, hooked.Hook, "flowtable hook %s: flowtables only attach at ingress; write `hook ingress`", h)
					d.Suggestion = "hook ingress"
				}
				l.checkFlowtablePriority(ft, hooked)
			}
			l.checkFlowtableDevices(t, ft)
			if !ft.used {
				l.report(CodeUnusedFlowtable, first.Name, "flowtable %s is declared but no rule adds flows to it; add `meta l4proto { tcp, udp } flow add @%s` to a forward chain of %s, or remove it", ft.name, ft.name, t)
			}
		}
	}
}

func (l *linter) checkFlowtablePriority(ft *lflowtable, d *parser.FlowtableBlock) {
	if d.Priority == nil {
		l.report(CodeFlowtablePriority, d.Hook, "flowtable %s has a hook but no priority; write `hook ingress priority filter`", ft.name)
		return
	}
	name, ok := l.priorityName(d.Priority)
	if !ok {
		l.report(CodeFlowtablePriority, d.Priority, "flowtable priority %s is not a number or filter [+-] NUMBER", exprText(d.Priority))
		return
	}
	if name != "" && name != "filter" {
		d := l.report(CodeFlowtablePriority, d.Priority, "flowtable priority %s: a flowtable hooks at netdev ingress, where the only priority name is filter; nft rejects it (\"invalid priority expression\"): use filter, filter + N or a number", name)
		d.Suggestion = "priority filter"
		return
	}
	if lit, ok := l.resolve(d.Priority).(*parser.Literal); ok && name == "" {
		if v, err := strconv.ParseInt(lit.Value(), 0, 64); err == nil && (v > math.MaxInt32 || v < math.MinInt32) {
			l.report(CodeFlowtablePriority, d.Priority, "flowtable priority %d does not fit the kernel's 32-bit signed priority", v)
		}
	}
}

// deviceNames flattens a devices expression ({ a, b }, a $variable, a
// single name) into its names with their nodes.
func (l *linter) deviceNames(e parser.Expr, out *[]devName, depth int) {
	if isNil(e) || depth > 8 {
		return
	}
	switch x := l.resolve(e).(type) {
	case *parser.SetExpr:
		for _, el := range x.Elems() {
			l.deviceNames(el, out, depth+1)
		}
	case *parser.List:
		for _, el := range x.Elems {
			l.deviceNames(el, out, depth+1)
		}
	case *parser.Elem:
		l.deviceNames(x.Key, out, depth+1)
	case *parser.Literal:
		*out = append(*out, devName{x.Value(), x})
	case *parser.Ident:
		*out = append(*out, devName{x.Name(), x})
	}
}

type devName struct {
	name string
	node parser.Node
}

func (l *linter) flowtableDevices(ft *lflowtable) []devName {
	var devs []devName
	for _, d := range ft.decls {
		l.deviceNames(d.Devices, &devs, 0)
	}
	return devs
}

func (l *linter) checkFlowtableDevices(t *ltable, ft *lflowtable) {
	devs := l.flowtableDevices(ft)
	if len(devs) == 0 {
		d := l.report(CodeFlowtableNoDevices, ft.decls[0].Name, "flowtable %s lists no devices, so no flow can be offloaded; add `devices = { lan0, wan0 }` with the interfaces traffic is forwarded between", ft.name)
		d.Suggestion = "devices = { ... }"
		return
	}
	seen := map[string]bool{}
	for _, d := range devs {
		if seen[d.name] {
			l.report(CodeFlowtableDevDup, d.node, "device %s is listed twice in flowtable %s; remove the duplicate", d.name, ft.name)
			continue
		}
		seen[d.name] = true
	}
}

// bypassed says whether a statement after `flow add` misses offloaded
// packets, and what to call it.
func bypassed(s parser.Stmt) (string, bool) {
	switch x := s.(type) {
	case *parser.CounterStmt:
		return "counter", true
	case *parser.LogStmt:
		return "log", true
	case *parser.LimitStmt:
		return "limit", true
	case *parser.QuotaStmt:
		return "quota", true
	case *parser.ObjRefStmt:
		switch x.Kind {
		case "counter", "quota", "limit":
			return x.Kind + " name", true
		}
	case *parser.SetStmt:
		if sel, ok := x.Left.(*parser.Selector); ok {
			switch sel.Field() {
			case "meta mark", "mark", "ct mark", "ip dscp", "ip6 dscp", "meta priority", "priority":
				return sel.Field() + " set", true
			}
		}
	}
	return "", false
}

// checkFlowPitfalls warns about statements after `flow add` in a chain,
// which offloaded packets skip, and about `flow add` not restricted to
// tcp and udp.
func (l *linter) checkFlowPitfalls(t *ltable, c *lchain) {
	var flow *parser.FlowStmt
	var estAccept *parser.Rule // an earlier rule accepting all established packets
	restricted := false        // an earlier rule sent everything but tcp/udp away
	for _, r := range c.rules {
		if l.excludesNonL4(r) {
			restricted = true
		}
		for i, st := range r.Stmts {
			if fs, ok := st.(*parser.FlowStmt); ok {
				if estAccept != nil {
					p := estAccept.Pos()
					d := l.report(CodeFlowAfterAccept, fs, "flow %s never offloads tcp: the rule at line %d accepts established packets before they get here, and the kernel offloads a tcp flow only from a packet of an established connection (udp mostly escapes too once replies flow); move flow %s before line %d", fs.Op, p.Line, fs.Op, p.Line)
					d.Suggestion = "meta l4proto { tcp, udp } flow add " + exprText(fs.Ft)
				}
				if !restricted && !l.restrictsL4(r.Stmts[:i], true) {
					d := l.report(CodeFlowNotL4, fs, "flow %s is not restricted to tcp and udp, the only protocols the kernel offloads; match them first: `meta l4proto { tcp, udp } flow add %s`", fs.Op, exprText(fs.Ft))
					d.Suggestion = "meta l4proto { tcp, udp } flow add " + exprText(fs.Ft)
				}
				if flow == nil {
					flow = fs
				}
				continue
			}
			if flow == nil {
				continue
			}
			what, ok := bypassed(st)
			if !ok {
				continue
			}
			p := flow.Pos()
			l.report(CodeBypassedStatement, st, "%s after flow add (line %d) does not see offloaded packets: once a flow is in the flowtable its packets skip this chain; %s", what, p.Line, bypassAdvice(what, ftName(flow)))
		}
		if estAccept == nil && flow == nil && acceptsEstablished(r) {
			estAccept = r
		}
	}
}

// acceptsEstablished reports a rule that accepts every established packet:
// its only match is on ct state including established (`ct state
// established,related accept`, `ct state vmap { established : accept }`).
func acceptsEstablished(r *parser.Rule) bool {
	matches, accept := 0, false
	for _, st := range r.Stmts {
		switch x := st.(type) {
		case *parser.CounterStmt, *parser.LogStmt:
		case *parser.VerdictStmt:
			accept = x.Kind == "accept"
		case *parser.ExprStmt:
			matches++
			switch y := x.X.(type) {
			case *parser.Relational:
				sel, ok := y.Left.(*parser.Selector)
				if !ok || sel.Field() != "ct state" || (y.Op != "" && y.Op != "==") || !mentions(y.Right, "established") {
					return false
				}
			case *parser.MapLookup:
				sel, ok := y.Key.(*parser.Selector)
				set, ok2 := y.Map.(*parser.SetExpr)
				if !ok || !ok2 || sel.Field() != "ct state" || y.Kind != "vmap" {
					return false
				}
				for _, el := range set.Elems() {
					if me, ok := el.(*parser.MapElem); ok && mentions(me.Key, "established") {
						if v, ok := me.Value.(*parser.Verdict); ok && v.Kind == "accept" {
							accept = true
						}
					}
				}
			default:
				return false
			}
		default:
			return false
		}
	}
	return matches == 1 && accept
}

// mentions reports whether a constant expression names word.
func mentions(e parser.Expr, word string) bool {
	found := false
	walkExpr(e, func(x parser.Expr) bool {
		if lit, ok := x.(*parser.Literal); ok {
			for _, part := range strings.Split(lit.Value(), ",") {
				if strings.TrimSpace(part) == word {
					found = true
				}
			}
		}
		return !found
	})
	return found
}

func ftName(fs *parser.FlowStmt) string {
	return strings.TrimPrefix(exprText(fs.Ft), "@")
}

func bypassAdvice(what, ft string) string {
	switch {
	case strings.HasPrefix(what, "counter"):
		return fmt.Sprintf("add `counter` to flowtable %s to count offloaded flows (conntrack keeps the counts)", ft)
	case strings.HasPrefix(what, "ct mark"):
		return "set the ct mark before flow add, which conntrack keeps for the whole flow"
	case strings.Contains(what, "mark"), strings.Contains(what, "dscp"), strings.Contains(what, "priority"):
		return fmt.Sprintf("do it in a netdev ingress chain with a priority below flowtable %s's, which runs before the flowtable, or do not offload these flows", ft)
	}
	return "apply it before flow add or exclude these flows from offload"
}

// excludesNonL4 reports a rule like `meta l4proto != { tcp, udp } accept`:
// one negated protocol match and a verdict that leaves the chain, so the
// rules after it see only tcp and udp.
func (l *linter) excludesNonL4(r *parser.Rule) bool {
	if len(r.Stmts) != 2 {
		return false
	}
	if _, ok := terminal(&parser.Rule{Stmts: r.Stmts[1:]}); !ok {
		return false
	}
	es, ok := r.Stmts[0].(*parser.ExprStmt)
	if !ok {
		return false
	}
	rel, ok := es.X.(*parser.Relational)
	if !ok || (rel.Op != "!=" && rel.Op != "ne") {
		return false
	}
	sel, ok := rel.Left.(*parser.Selector)
	if !ok {
		return false
	}
	switch sel.Field() {
	case "meta l4proto", "ip protocol", "ip6 nexthdr":
		return l.protoValues(rel.Right, true)
	}
	return false
}

// restrictsL4 reports whether the statements restrict the packet to tcp
// or udp (or to a protocol set the linter cannot see into). With
// onlyTCPUDP, a restriction to other protocols does not count.
func (l *linter) restrictsL4(stmts []parser.Stmt, onlyTCPUDP bool) bool {
	for _, st := range stmts {
		es, ok := st.(*parser.ExprStmt)
		if !ok {
			continue
		}
		found := false
		walkExpr(es.X, func(x parser.Expr) bool {
			if found {
				return false
			}
			switch y := x.(type) {
			case *parser.Relational:
				if y.Op != "" && y.Op != "==" && y.Op != "eq" {
					return true
				}
				if sel, ok := y.Left.(*parser.Selector); ok {
					switch sel.Field() {
					case "meta l4proto", "ip protocol", "ip6 nexthdr", "ct protocol", "ct original protocol", "ct reply protocol":
						found = l.protoValues(y.Right, onlyTCPUDP)
						return false
					}
				}
			case *parser.Selector:
				switch y.Head() {
				case "tcp", "udp":
					found = true
				case "udplite", "sctp", "dccp":
					found = !onlyTCPUDP
				}
			}
			return true
		})
		if found {
			return true
		}
	}
	return false
}

// protoValues reports whether every protocol in e is tcp or udp (any
// protocol when !onlyTCPUDP); sets it cannot see into count as yes.
func (l *linter) protoValues(e parser.Expr, onlyTCPUDP bool) bool {
	ok := true
	any := false
	var visit func(parser.Expr)
	visit = func(e parser.Expr) {
		switch x := l.resolve(e).(type) {
		case *parser.SetExpr:
			for _, el := range x.Elems() {
				visit(el)
			}
		case *parser.List:
			for _, el := range x.Elems {
				visit(el)
			}
		case *parser.Elem:
			visit(x.Key)
		case *parser.Literal:
			any = true
			switch strings.ToLower(x.Value()) {
			case "tcp", "udp", "6", "17":
			default:
				if onlyTCPUDP {
					ok = false
				}
			}
		default:
			any = true // @set, $var to something else: trust it
		}
	}
	visit(e)
	return ok && any
}
