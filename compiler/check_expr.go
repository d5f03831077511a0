package compiler

import (
	"strings"

	"github.com/nftflow/nftflow/parser"
)

// terminalStmt reports whether a statement ends the rule's evaluation
// (nft: STMT_F_TERMINAL): verdicts including jump and goto, reject,
// queue and the NAT statements.
func terminalStmt(s parser.Stmt) bool {
	switch s.(type) {
	case *parser.VerdictStmt, *parser.RejectStmt, *parser.NatStmt:
		return true
	}
	return false
}

// checkExprs runs the expression-level checks of one rule: statements
// after a terminal one, values nft refuses in a position, option
// combinations, ct and meta keys, and the network family NAT needs.
func (l *linter) checkExprs(t *ltable, r *parser.Rule) {
	for i, st := range r.Stmts {
		if terminalStmt(st) && i+1 < len(r.Stmts) {
			l.report(CodeAfterTerminal, r.Stmts[i+1], "statement after %s has no effect: %s ends the rule; nft refuses this (\"Statement after terminal statement has no effect\"): move it before %s", stmtWord(st), stmtWord(st), stmtWord(st))
			break
		}
	}
	if _, conflict := netContexts(r.Stmts); conflict != nil {
		l.report(CodeAddressFamily, conflict, "this match needs the other IP version than an earlier match in the rule, so the rule can never match; nft refuses it (\"conflicting protocols specified\")")
	}
	for i, st := range r.Stmts {
		switch s := st.(type) {
		case *parser.SetStmt:
			if se, ok := l.resolve(s.Value).(*parser.SetExpr); ok {
				l.report(CodeInvalidExpr, se, "%s set takes one value, not a set; to pick the value by a key use a map: `%s set KEY map { ... }`", exprText(s.Left), exprText(s.Left))
			}
		case *parser.LogStmt:
			l.checkLogOptions(s)
		case *parser.VerdictStmt:
			if s.Kind == "queue" {
				for _, o := range s.Opts {
					if o.Key == "num" {
						for _, a := range o.Args {
							l.checkValue(valueType{dt: DatatypeByName("integer"), bits: 16, name: "queue num"}, a, typeCtx{})
						}
					}
				}
			}
		case *parser.NatStmt:
			l.checkNatFamily(t, r.Stmts[:i], s, s.Kind, s.Family, s.Addr)
			l.checkFamilyKeyword(r.Stmts[:i], s, s.Kind, s.Family)
		case *parser.TproxyStmt:
			l.checkNatFamily(t, r.Stmts[:i], s, "tproxy", s.Family, s.Addr)
			l.checkFamilyKeyword(r.Stmts[:i], s, "tproxy", s.Family)
		case *parser.RejectStmt:
			l.checkRejectWith(r.Stmts[:i], s)
		}
		for _, e := range stmtExprs(st) {
			l.checkSelectors(e)
		}
		if es, ok := st.(*parser.ExprStmt); ok {
			l.checkSetRefTypes(t, es.X)
		}
	}
}

func stmtWord(s parser.Stmt) string {
	switch x := s.(type) {
	case *parser.VerdictStmt:
		if x.Target != nil {
			return x.Kind + " " + x.Target.Name()
		}
		return x.Kind
	case *parser.RejectStmt:
		return "reject"
	case *parser.NatStmt:
		return x.Kind
	}
	return "the statement"
}

// checkLogOptions reports the option combinations nft refuses.
func (l *linter) checkLogOptions(s *parser.LogStmt) {
	has := map[string]*parser.Option{}
	level := ""
	for _, o := range s.Opts {
		has[o.Key] = o
		if o.Key == "level" && len(o.Args) > 0 {
			level = strings.ToLower(exprText(o.Args[0]))
		}
	}
	switch {
	case level == "audit" && len(s.Opts) > 1:
		l.report(CodeInvalidExpr, s, "log level audit takes no other options; nft refuses it (\"log level audit doesn't support any further options\")")
	case has["level"] != nil && has["group"] != nil:
		l.report(CodeInvalidExpr, has["group"], "log level and group are mutually exclusive: group sends to nflog, level to the kernel log; keep one")
	case has["flags"] != nil && has["group"] != nil:
		l.report(CodeInvalidExpr, has["group"], "log flags and group are mutually exclusive; keep one")
	}
}

// checkSelectors reports ct and meta selectors nft does not know.
func (l *linter) checkSelectors(e parser.Expr) {
	walkExpr(e, func(x parser.Expr) bool {
		sel, ok := x.(*parser.Selector)
		if !ok {
			return true
		}
		p := sel.Path
		switch {
		case len(p) == 2 && p[0] == "meta":
			if MetaKeyByName(p[1]) == nil && !metaAlias(p[1]) {
				l.report(CodeInvalidExpr, sel, "unknown meta key %q%s", p[1], didYouMean(p[1], metaKeyNames()))
			}
		case len(p) >= 2 && p[0] == "ct":
			l.checkCtSelector(sel)
		}
		return true
	})
}

// metaAlias reports the old meta key names nft still accepts.
func metaAlias(k string) bool {
	switch k {
	case "secpath", "ibriport", "obriport", "ibridgename", "obridgename":
		return true
	}
	return false
}

func metaKeyNames() []string {
	var out []string
	for _, k := range MetaKeys() {
		out = append(out, k.Name)
	}
	return out
}

// checkCtSelector checks `ct [original|reply] KEY`: the key exists, takes
// a direction when one is given, and has one when it needs it.
func (l *linter) checkCtSelector(sel *parser.Selector) {
	rest := sel.Path[1:]
	dir := ""
	if rest[0] == "original" || rest[0] == "reply" {
		dir, rest = rest[0], rest[1:]
	}
	if len(rest) == 0 {
		l.report(CodeInvalidExpr, sel, "ct %s needs a key (`ct %s bytes`, `ct %s ip saddr`, ...)", dir, dir, dir)
		return
	}
	key := strings.Join(rest, " ")
	k := CtKeyByName(key)
	if k == nil {
		var names []string
		for _, c := range CtKeys() {
			names = append(names, c.Name)
		}
		l.report(CodeInvalidExpr, sel, "unknown ct key %q%s", key, didYouMean(key, names))
		return
	}
	switch {
	case dir != "" && !k.Dir:
		l.report(CodeInvalidExpr, sel, "ct %s has no direction: write `ct %s`, without %s", key, key, dir)
	case dir == "" && strings.Contains(key, " "):
		l.report(CodeInvalidExpr, sel, "ct %s needs a direction: `ct original %s` or `ct reply %s`", key, key, key)
	}
}

// netContext says which network protocol earlier matches of a rule
// establish: "ip", "ip6" or "".
func netContext(stmts []parser.Stmt) string {
	ctx, _ := netContexts(stmts)
	return ctx
}

// netContexts returns the network protocol the matches establish and the
// first match that contradicts it (ip6 saddr after meta nfproto ipv4).
func netContexts(stmts []parser.Stmt) (string, parser.Node) {
	ctx := ""
	var conflict parser.Node
	set := func(v string, n parser.Node) {
		if ctx != "" && ctx != v && conflict == nil {
			conflict = n
		}
		if ctx == "" {
			ctx = v
		}
	}
	for _, st := range stmts {
		es, ok := st.(*parser.ExprStmt)
		if !ok {
			continue
		}
		walkExpr(es.X, func(x parser.Expr) bool {
			switch y := x.(type) {
			case *parser.Relational:
				if sel, ok := y.Left.(*parser.Selector); ok {
					switch sel.Field() {
					case "meta nfproto", "meta protocol", "ether type":
						if lit, ok := y.Right.(*parser.Literal); ok && (y.Op == "" || y.Op == "==") {
							switch strings.ToLower(lit.Value()) {
							case "ipv4", "ip":
								set("ip", y)
							case "ipv6", "ip6":
								set("ip6", y)
							}
						}
						return false
					}
				}
			case *parser.Selector:
				// icmp and icmpv6 headers do not fix the IP version: nft
				// reaches them through meta l4proto.
				switch y.Head() {
				case "ip":
					set("ip", y)
				case "ip6":
					set("ip6", y)
				}
			}
			return true
		})
	}
	return ctx, conflict
}

// checkFamilyKeyword: `tproxy ip6 to` (or `dnat ip6 to`) after matches
// that fix IPv4, or the reverse.
func (l *linter) checkFamilyKeyword(before []parser.Stmt, s parser.Stmt, kind, family string) {
	if family == "" {
		return
	}
	if ctx := netContext(before); ctx != "" && ctx != family {
		l.report(CodeAddressFamily, s, "%s %s after a match on %s packets can never apply; nft refuses it (\"conflicting protocols specified\"): use %s %s", kind, family, ctx, kind, ctx)
	}
}

// checkRejectWith: `reject with icmp` needs IPv4 packets, `with icmpv6`
// IPv6 ones, `with tcp reset` tcp.
func (l *linter) checkRejectWith(before []parser.Stmt, s *parser.RejectStmt) {
	if len(s.With) == 0 {
		return
	}
	kind := strings.ToLower(exprText(s.With[0]))
	ctx := netContext(before)
	switch {
	case kind == "icmp" && ctx == "ip6":
		l.report(CodeAddressFamily, s, "reject with icmp after a match on IPv6 packets; use `reject with icmpv6 ...` or `reject with icmpx ...`")
	case (kind == "icmpv6" || kind == "icmp6") && ctx == "ip":
		l.report(CodeAddressFamily, s, "reject with icmpv6 after a match on IPv4 packets; use `reject with icmp ...` or `reject with icmpx ...`")
	case kind == "tcp" && l4Only(before, "udp"):
		l.report(CodeInvalidExpr, s, "reject with tcp reset after matching udp: a tcp reset only answers tcp; match tcp, or use `reject with icmpx port-unreachable`")
	}
}

// l4Only reports whether the matches restrict the packet to protocol p.
func l4Only(stmts []parser.Stmt, p string) bool {
	found := false
	for _, st := range stmts {
		es, ok := st.(*parser.ExprStmt)
		if !ok {
			continue
		}
		walkExpr(es.X, func(x parser.Expr) bool {
			if rel, ok := x.(*parser.Relational); ok && (rel.Op == "" || rel.Op == "==") {
				if sel, ok := rel.Left.(*parser.Selector); ok {
					switch sel.Field() {
					case "meta l4proto", "ip protocol", "ip6 nexthdr":
						if lit, ok := rel.Right.(*parser.Literal); ok && strings.EqualFold(lit.Value(), p) {
							found = true
						}
					}
				}
			}
			if sel, ok := x.(*parser.Selector); ok && sel.Head() == p {
				found = true
			}
			return true
		})
	}
	return found
}

// checkNatFamily: in an inet table, an address in snat/dnat/tproxy needs
// `ip` or `ip6`, or an earlier match that fixes the network protocol; an
// address of the other family is an error.
func (l *linter) checkNatFamily(t *ltable, before []parser.Stmt, s parser.Stmt, kind, family string, addr parser.Expr) {
	if t.family != "inet" || isNil(addr) {
		return
	}
	a, ok := l.resolve(addr).(*parser.Literal)
	if !ok {
		if family == "" && netContext(before) == "" {
			if _, isMap := l.resolve(addr).(*parser.MapLookup); !isMap {
				l.report(CodeAddressFamily, s, "%s in an inet table needs `%s ip to ...` or `%s ip6 to ...` (or an earlier ip/ip6 match); nft refuses it (\"ip or ip6 must be specified with address for inet tables\")", kind, kind, kind)
			}
		}
		return
	}
	fam := family
	if fam == "" {
		fam = netContext(before)
	}
	if fam == "" {
		d := l.report(CodeAddressFamily, s, "%s in an inet table needs `%s ip to ...` or `%s ip6 to ...` (or an earlier ip/ip6 match); nft refuses it (\"ip or ip6 must be specified with address for inet tables\")", kind, kind, kind)
		if addrFamily(a.Value()) == 6 {
			d.Suggestion = kind + " ip6 to " + exprText(addr)
		} else {
			d.Suggestion = kind + " ip to " + exprText(addr)
		}
		return
	}
	if family != "" {
		return // checked with the table family rules in checkNatTypes
	}
	switch {
	case fam == "ip" && addrFamily(a.Value()) == 6:
		l.report(CodeAddressFamily, a, "%s is an IPv6 address but the rule matches IPv4 packets; use an IPv4 address", a.Value())
	case fam == "ip6" && addrFamily(a.Value()) == 4:
		l.report(CodeAddressFamily, a, "%s is an IPv4 address but the rule matches IPv6 packets; use an IPv6 address", a.Value())
	}
}

// checkSetRefTypes reports a lookup of a named set whose key type does not
// match the selector (`ip saddr @s` with s of type ipv6_addr).
func (l *linter) checkSetRefTypes(t *ltable, e parser.Expr) {
	walkExpr(e, func(x parser.Expr) bool {
		rel, ok := x.(*parser.Relational)
		if !ok {
			return true
		}
		ref, ok := rel.Right.(*parser.SetRef)
		if !ok {
			return true
		}
		s := t.sets[ref.Name]
		if s == nil {
			return true
		}
		left, _ := l.leftTypes(t.family, rel.Left)
		var keys []valueType
		for _, d := range s.decls {
			if keys = l.setKeyTypes(t.family, d); keys != nil {
				break
			}
		}
		if left == nil || len(left) != len(keys) {
			return true
		}
		for i := range left {
			if conflicting(left[i].dt, keys[i].dt) {
				l.report(CodeElementType, ref, "@%s holds %s but %s is %s; nft refuses the lookup (\"datatype mismatch\")", ref.Name, keys[i].dt.Desc, left[i].name, left[i].dt.Desc)
				return false
			}
		}
		return true
	})
}

// conflicting reports whether two datatypes can never match: both
// specific (not plain integer, string or bitmask) and neither refining
// the other.
func conflicting(a, b *Datatype) bool {
	if a == nil || b == nil || a.Name == b.Name {
		return false
	}
	generic := func(d *Datatype) bool {
		return d.Name == "integer" || d.Name == "string" || d.Name == "bitmask" || d.Name == "ll_addr"
	}
	if generic(a) || generic(b) || a.IsA(b.Name) || b.IsA(a.Name) {
		return false
	}
	return true
}
