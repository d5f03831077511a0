package compiler

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/nftflow/nftflow/parser"
)

// chainHooks lists, per family and chain type, the hooks the kernel
// accepts for a base chain (nf_tables chain types; measured with nft
// 1.0.6: `type nat hook forward` and `type route hook input` fail with
// "Operation not supported").
func chainHooks(family, typ string) ([]string, bool) {
	switch family {
	case "ip", "ip6", "inet":
		switch typ {
		case "filter":
			if family == "inet" {
				return []string{"prerouting", "input", "forward", "output", "postrouting", "ingress"}, true
			}
			return []string{"prerouting", "input", "forward", "output", "postrouting"}, true
		case "nat":
			return []string{"prerouting", "input", "output", "postrouting"}, true
		case "route":
			return []string{"output"}, true
		}
	case "arp":
		if typ == "filter" {
			return []string{"input", "output"}, true
		}
	case "bridge":
		if typ == "filter" {
			return []string{"prerouting", "input", "forward", "output", "postrouting"}, true
		}
		if typ == "nat" {
			return nil, false // depends on the kernel; not checked
		}
	case "netdev":
		if typ == "filter" {
			return []string{"ingress", "egress"}, true
		}
	}
	return nil, true
}

// stdPriority checks a named priority (nft's standard priority names)
// against family and hook, as nft's evaluate does. It returns false with
// a reason when nft rejects the name ("invalid priority expression value
// in this context"). Hook is "" for flowtables (netdev ingress rules).
func stdPriority(family, hook, name string) (bool, string) {
	switch family {
	case "ip", "ip6", "inet":
		switch name {
		case "raw", "mangle", "filter", "security":
			return true, ""
		case "dstnat":
			if hook == "prerouting" {
				return true, ""
			}
			return false, "dstnat is only valid at hook prerouting"
		case "srcnat":
			if hook == "postrouting" {
				return true, ""
			}
			return false, "srcnat is only valid at hook postrouting"
		}
	case "bridge":
		switch name {
		case "filter":
			return true, ""
		case "dstnat":
			if hook == "prerouting" {
				return true, ""
			}
			return false, "dstnat is only valid at hook prerouting in a bridge table"
		case "out":
			if hook == "output" {
				return true, ""
			}
			return false, "out is only valid at hook output in a bridge table"
		case "srcnat":
			if hook == "postrouting" {
				return true, ""
			}
			return false, "srcnat is only valid at hook postrouting in a bridge table"
		}
	case "arp", "netdev":
		if name == "filter" {
			return true, ""
		}
		return false, fmt.Sprintf("only the name filter (or a number) is valid in family %s", family)
	}
	return false, fmt.Sprintf("%s is not a priority name nft knows in family %s", name, family)
}

// priorityName extracts the standard name of a priority expression
// ("filter", "filter + 10"), "" when it is numeric. ok is false when the
// expression is neither a number nor NAME [+-] NUMBER.
func (l *linter) priorityName(e parser.Expr) (name string, ok bool) {
	switch x := l.resolve(e).(type) {
	case *parser.Literal:
		if x.Kind == parser.LitNumber {
			_, err := strconv.ParseInt(x.Value(), 0, 64)
			return "", err == nil
		}
		v := x.Value()
		if _, err := strconv.ParseInt(v, 0, 64); err == nil {
			return "", true
		}
		// A quoted or variable form "filter + 10".
		f := strings.Fields(v)
		if len(f) == 3 && (f[1] == "+" || f[1] == "-") {
			if _, err := strconv.Atoi(f[2]); err == nil {
				return f[0], true
			}
		}
		if len(f) == 1 {
			return v, true
		}
		return "", false
	case *parser.Ident:
		return x.Name(), true
	case *parser.Unary:
		if x.Op == "-" {
			return l.priorityName(x.X)
		}
	case *parser.Range:
		// "raw - 5" reads as a range.
		n, ok := l.priorityName(x.Lo)
		if _, ok2 := l.priorityName(x.Hi); !ok || !ok2 {
			return "", false
		}
		return n, true
	case *parser.Binary:
		if x.Op == "+" || x.Op == "-" {
			n, ok := l.priorityName(x.X)
			if _, ok2 := l.priorityName(x.Y); !ok || !ok2 {
				return "", false
			}
			return n, true
		}
	}
	return "", false
}

// checkChains checks base chain declarations: type, hook and priority.
func (l *linter) checkChains() {
	for _, t := range l.tables {
		for _, c := range t.chainOrder {
			d := c.base
			if d == nil {
				continue
			}
			typ, hook := d.Type.Name(), d.Hook.Name()
			if d.Type == nil || d.Hook == nil {
				l.report(CodeChainType, d.Name, "base chain %s needs both type and hook (`type filter hook input priority filter;`)", c.name)
				continue
			}
			hooks, known := chainHooks(t.family, typ)
			if !known {
				continue
			}
			if hooks == nil {
				l.report(CodeChainType, d.Type, "chain type %s does not exist in family %s%s", typ, t.family, typeHint(t.family))
				continue
			}
			if !contains(hooks, hook) {
				l.report(CodeChainType, d.Hook, "a %s chain cannot hook at %s in family %s: the kernel refuses it with \"Operation not supported\"; use one of %s", typ, hook, t.family, strings.Join(hooks, ", "))
				continue
			}
			if d.Priority == nil {
				l.report(CodeChainType, d.Name, "base chain %s has no priority; add `priority filter` (or a number)", c.name)
				continue
			}
			name, ok := l.priorityName(d.Priority)
			if !ok {
				l.report(CodeChainType, d.Priority, "priority %s is not a number or NAME [+-] NUMBER", exprText(d.Priority))
				continue
			}
			if name != "" {
				if good, why := stdPriority(t.family, hook, name); !good {
					l.report(CodeChainType, d.Priority, "priority %s is invalid here: %s; nft rejects it with \"invalid priority expression value in this context\"", exprText(d.Priority), why)
				}
			}
		}
	}
}

func typeHint(family string) string {
	switch family {
	case "ip", "ip6", "inet":
		return "; use filter, nat or route"
	}
	return "; use filter"
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// reachers returns, for every chain, the base chains from which a packet
// can reach it through jumps and gotos (a base chain reaches itself).
func (l *linter) reachers(t *ltable) map[*lchain][]*lchain {
	out := map[*lchain][]*lchain{}
	for _, b := range t.chainOrder {
		if b.base == nil {
			continue
		}
		seen := map[*lchain]bool{b: true}
		queue := []*lchain{b}
		for len(queue) > 0 {
			c := queue[0]
			queue = queue[1:]
			out[c] = append(out[c], b)
			for _, e := range c.out {
				if n := t.chains[e.to]; n != nil && !seen[n] {
					seen[n] = true
					queue = append(queue, n)
				}
			}
		}
	}
	return out
}

// stmtContext says where a statement may run: the chain types (nil: any)
// and hooks per family group. ok false: no constraint.
func stmtContext(s parser.Stmt, family string) (what string, types, hooks []string, ok bool) {
	inetish := family == "ip" || family == "ip6" || family == "inet"
	switch x := s.(type) {
	case *parser.NatStmt:
		if !inetish {
			return "", nil, nil, false
		}
		switch x.Kind {
		case "snat":
			return "snat", []string{"nat"}, []string{"postrouting", "input"}, true
		case "dnat":
			return "dnat", []string{"nat"}, []string{"prerouting", "output"}, true
		case "masquerade":
			return "masquerade", []string{"nat"}, []string{"postrouting"}, true
		case "redirect":
			return "redirect", []string{"nat"}, []string{"prerouting", "output"}, true
		}
	case *parser.RejectStmt:
		switch family {
		case "ip", "ip6":
			return "reject", nil, []string{"prerouting", "input", "forward", "output"}, true
		case "inet":
			return "reject", nil, []string{"prerouting", "input", "forward", "output", "ingress"}, true
		case "bridge":
			return "reject", nil, []string{"prerouting", "input", "forward", "output"}, true
		}
	case *parser.TproxyStmt:
		if inetish {
			return "tproxy", nil, []string{"prerouting"}, true
		}
	case *parser.SynproxyStmt:
		if inetish {
			return "synproxy", nil, []string{"input", "forward"}, true
		}
	case *parser.FlowStmt:
		return "flow " + x.Op, nil, []string{"forward"}, true
	}
	return "", nil, nil, false
}

// checkStmtContext reports statements the kernel refuses in the chain's
// type or hook, for base chains and for regular chains through every
// base chain that reaches them.
func (l *linter) checkStmtContext(t *ltable, c *lchain, reach []*lchain, s parser.Stmt) {
	what, types, hooks, ok := stmtContext(s, t.family)
	if !ok {
		return
	}
	code := CodeStatementHook
	if _, isFlow := s.(*parser.FlowStmt); isFlow {
		code = CodeFlowNotForward
		if t.family != "ip" && t.family != "ip6" && t.family != "inet" {
			l.report(code, s, "%s in %s: flowtables exist only in ip, ip6 and inet tables; move the rule to a forward chain of such a table", what, t)
			return
		}
	}
	for _, b := range reach {
		typ, hook := b.typ, b.hook
		bad := ""
		if types != nil && !contains(types, typ) {
			bad = fmt.Sprintf("a %s chain", typ)
		} else if !contains(hooks, hook) {
			bad = fmt.Sprintf("hook %s", hook)
		}
		if bad == "" {
			continue
		}
		need := "a chain hooked at " + orList(hooks)
		if types != nil {
			need = "a " + strings.Join(types, "/") + " chain hooked at " + orList(hooks)
		}
		via := ""
		if b != c {
			via = fmt.Sprintf(" (chain %s is reached from base chain %s)", c.name, b.name)
		}
		msg := fmt.Sprintf("%s is not allowed in %s%s: the kernel refuses it with \"Operation not supported\"; move it to %s", what, bad, via, need)
		if code == CodeFlowNotForward {
			msg = fmt.Sprintf("%s only works in a chain hooked at forward, not %s%s: the kernel refuses it with \"Operation not supported\"; move it to a `type filter hook forward` chain", what, bad, via)
		}
		l.diags = append(l.diags, Diagnostic{Code: code, Severity: SeverityError, Pos: PosOf(s), Message: msg})
		return
	}
}

func orList(xs []string) string {
	if len(xs) <= 1 {
		return strings.Join(xs, "")
	}
	return strings.Join(xs[:len(xs)-1], ", ") + " or " + xs[len(xs)-1]
}
