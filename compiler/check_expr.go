package compiler

import (
	"math/big"
	"net/netip"
	"sort"
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
		case *parser.ExprStmt:
			if sel, ok := s.X.(*parser.Selector); ok && !(sel.Head() == "tcp" && len(sel.Path) >= 2 && sel.Path[1] == "option") {
				l.report(CodeInvalidExpr, sel, "%s alone is not a match: compare it with a value (`%s VALUE`)", sel.Field(), sel.Field())
			}
		case *parser.SetStmt:
			if sel, ok := s.Left.(*parser.Selector); ok && len(sel.Path) > 2 {
				switch sel.Head() {
				case "gre", "gretap", "geneve", "vxlan":
					l.report(CodeInvalidExpr, sel, "%s: the headers inside a %s tunnel can be matched but not set", sel.Field(), sel.Head())
				}
			}
			if se, ok := l.resolve(s.Value).(*parser.SetExpr); ok {
				l.report(CodeInvalidExpr, se, "%s set takes one value, not a set; to pick the value by a key use a map: `%s set KEY map { ... }`", exprText(s.Left), exprText(s.Left))
			}
		case *parser.LogStmt:
			l.checkLogOptions(s)
		case *parser.VerdictStmt:
			if s.Kind == "queue" {
				l.checkQueue(s)
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
		before := r.Stmts[:i]
		netCtx := func() string { return netContext(before) } // rarely needed
		forStmtExprs(st, func(e parser.Expr) {
			l.checkSelectors(t, netCtx, e)
			l.checkIntervals(e)
		})
		if es, ok := st.(*parser.ExprStmt); ok {
			l.checkSetRefTypes(t, es.X)
			l.checkFib(es.X)
			l.checkOsf(es.X)
		}
	}
	l.checkLinkLayer(r)
}

// checkQueue checks queue numbers: each fits 16 bits, fanout needs a
// range, and a computed queue (to EXPR mod N offset M) stays below 65536.
func (l *linter) checkQueue(s *parser.VerdictStmt) {
	var flags *parser.Option
	for _, o := range s.Opts {
		switch o.Key {
		case "num":
			for _, a := range o.Args {
				switch x := l.resolve(a).(type) {
				case *parser.Literal:
					if x.Kind == parser.LitSymbol {
						l.report(CodeInvalidExpr, a, "queue num takes a number or a range, not %s; to compute the queue use `queue to ...`", x.Text)
						continue
					}
					l.checkValue(valueType{dt: DatatypeByName("integer"), bits: 16, name: "queue num"}, x, typeCtx{})
				case *parser.Range:
					l.checkValue(valueType{dt: DatatypeByName("integer"), bits: 16, name: "queue num"}, x, typeCtx{})
				case *parser.Selector, *parser.Primary, *parser.Ident:
					l.report(CodeInvalidExpr, a, "queue num takes a number or a range; to compute the queue use `queue to %s`", exprText(a))
				}
			}
		case "flags":
			flags = o
		case "to":
			for _, a := range o.Args {
				if sel, ok := a.(*parser.Selector); ok {
					l.report(CodeInvalidExpr, sel, "queue to %s: a field alone is not a queue number; map it (`queue to %s map { ... }`) or hash it (`queue to symhash mod N`)", sel.Field(), sel.Field())
				}
				if p, ok := a.(*parser.Primary); ok {
					mod, off := primaryNum(p, "mod"), primaryNum(p, "offset")
					if mod+off > 65536 {
						l.report(CodeValueRange, p, "queue numbers computed by %s reach %d, above the highest queue 65535; lower mod or offset", exprText(p), mod+off-1)
					}
				}
			}
		}
	}
	if flags != nil && strings.Contains(exprText(flags.Args[0]), "fanout") {
		isRange := false
		for _, o := range s.Opts {
			if (o.Key == "num" || o.Key == "to") && len(o.Args) == 1 {
				if _, ok := l.resolve(o.Args[0]).(*parser.Range); ok {
					isRange = true
				}
			}
		}
		if !isRange {
			l.report(CodeInvalidExpr, flags, "queue flags fanout spreads packets over a range of queues: give one with `num 0-3`")
		}
	}
}

// primaryNum returns the number after keyword kw in a primary expression
// (`symhash mod 2 offset 100`), 0 when absent.
func primaryNum(p *parser.Primary, kw string) uint64 {
	for i := 0; i+1 < len(p.Args); i++ {
		if exprText(p.Args[i]) == kw {
			if n, ok := parseUint(exprText(p.Args[i+1])); ok && n.IsUint64() {
				return n.Uint64()
			}
		}
	}
	return 0
}

// checkFib checks the flags of a fib expression (fib saddr . iif oif).
func (l *linter) checkFib(e parser.Expr) {
	walkExpr(e, func(x parser.Expr) bool {
		p, ok := x.(*parser.Primary)
		if !ok || p.Keyword != "fib" || len(p.Args) < 2 {
			return true
		}
		has := map[string]bool{}
		for _, a := range p.Args[:len(p.Args)-1] {
			has[exprText(a)] = true
		}
		switch {
		case has["saddr"] && has["daddr"]:
			l.report(CodeInvalidExpr, p, "fib: saddr and daddr are mutually exclusive; look up one of them")
		case has["iif"] && has["oif"]:
			l.report(CodeInvalidExpr, p, "fib: iif and oif are mutually exclusive; keep one")
		case !has["saddr"] && !has["daddr"]:
			l.report(CodeInvalidExpr, p, "fib needs saddr or daddr to look up (`fib daddr type local`)")
		}
		return false
	})
}

// checkOsf checks osf matches: names and versions are at most 16 bytes,
// and the ttl option is loose or skip.
func (l *linter) checkOsf(e parser.Expr) {
	walkExpr(e, func(x parser.Expr) bool {
		rel, ok := x.(*parser.Relational)
		if !ok {
			return true
		}
		sel, ok := rel.Left.(*parser.Selector)
		if !ok || sel.Head() != "osf" {
			return true
		}
		p := sel.Path
		if len(p) >= 3 && p[1] == "ttl" && p[2] != "loose" && p[2] != "skip" {
			l.report(CodeInvalidExpr, sel, "osf ttl %s: the ttl option is loose or skip", p[2])
		}
		if lit, ok := l.resolve(rel.Right).(*parser.Literal); ok && lit.Kind == parser.LitString && len(lit.Value()) > 16 {
			l.report(CodeValueRange, lit, "%q is %d bytes but osf %s holds at most 16", lit.Value(), len(lit.Value()), p[len(p)-1])
		}
		return false
	})
}

// checkLinkLayer: `ether type X` for something other than vlan, then a
// vlan header match: the packet cannot be both.
func (l *linter) checkLinkLayer(r *parser.Rule) {
	etherNonVlan := false
	for _, st := range r.Stmts {
		es, ok := st.(*parser.ExprStmt)
		if !ok {
			continue
		}
		walkExpr(es.X, func(x parser.Expr) bool {
			switch y := x.(type) {
			case *parser.Relational:
				if sel, ok := y.Left.(*parser.Selector); ok && sel.Field() == "ether type" && (y.Op == "" || y.Op == "==") {
					if lit, ok := y.Right.(*parser.Literal); ok {
						switch strings.ToLower(lit.Value()) {
						case "vlan", "8021q", "8021ad", "0x8100", "0x88a8":
						default:
							etherNonVlan = true
						}
					}
					return false
				}
			case *parser.Selector:
				if y.Head() == "vlan" && etherNonVlan {
					l.report(CodeInvalidExpr, y, "a vlan header match after `ether type` of another protocol can never match; nft refuses it (\"conflicting protocols specified: ether vs. vlan\"): drop the ether type match or use `vlan type`")
					etherNonVlan = false
				}
			}
			return true
		})
	}
}

// checkIntervals reports overlapping ranges among the keys of an
// anonymous map or verdict map: nft refuses them ("conflicting intervals
// specified"); sets merge them.
func (l *linter) checkIntervals(e parser.Expr) {
	walkExpr(e, func(x parser.Expr) bool {
		ml, ok := x.(*parser.MapLookup)
		if !ok {
			return true
		}
		if set, ok := l.resolve(ml.Map).(*parser.SetExpr); ok {
			l.checkOverlaps(set)
		}
		return true
	})
}

type lintInterval struct {
	lo, hi *big.Int
	v6     bool
	node   parser.Node
}

func (l *linter) checkOverlaps(set *parser.SetExpr) {
	var ivs []lintInterval
	for _, el := range set.Elems() {
		k := el
		if me, ok := el.(*parser.MapElem); ok {
			k = me.Key
		}
		if iv, ok := l.intervalOf(k); ok {
			iv.node = k
			ivs = append(ivs, iv)
		}
	}
	// Sort by family and low end; an interval overlaps an earlier one
	// exactly when it starts at or before the highest end seen so far.
	sort.SliceStable(ivs, func(i, j int) bool {
		if ivs[i].v6 != ivs[j].v6 {
			return !ivs[i].v6
		}
		return ivs[i].lo.Cmp(ivs[j].lo) < 0
	})
	var maxEnd *lintInterval
	for i := range ivs {
		iv := &ivs[i]
		if maxEnd != nil && maxEnd.v6 == iv.v6 && iv.lo.Cmp(maxEnd.hi) <= 0 {
			a, b := maxEnd.node, iv.node
			if b.Pos().Offset < a.Pos().Offset {
				a, b = b, a
			}
			l.report(CodeOverlap, b, "%s overlaps %s in the same map; nft refuses it (\"conflicting intervals specified\"): make the ranges disjoint", exprText(b.(parser.Expr)), exprText(a.(parser.Expr)))
			return
		}
		if maxEnd == nil || maxEnd.v6 != iv.v6 || iv.hi.Cmp(maxEnd.hi) > 0 {
			maxEnd = iv
		}
	}
}

// intervalOf reads an address or number, range or prefix as an interval.
func (l *linter) intervalOf(e parser.Expr) (lintInterval, bool) {
	point := func(e parser.Expr) (*big.Int, bool, bool) {
		lit, ok := l.resolve(e).(*parser.Literal)
		if !ok {
			return nil, false, false
		}
		if a, err := netip.ParseAddr(lit.Value()); err == nil {
			b := a.As16()
			return new(big.Int).SetBytes(b[:]), a.Is6() && !a.Is4In6(), true
		}
		if n, ok := parseUint(lit.Value()); ok {
			return n, false, true
		}
		return nil, false, false
	}
	switch x := l.resolve(e).(type) {
	case *parser.Range:
		lo, v6, ok1 := point(x.Lo)
		hi, _, ok2 := point(x.Hi)
		if ok1 && ok2 {
			return lintInterval{lo: lo, hi: hi, v6: v6}, true
		}
	case *parser.Prefix:
		lit, ok := l.resolve(x.X).(*parser.Literal)
		if !ok || x.Len == nil {
			break
		}
		pfx, err := netip.ParsePrefix(lit.Value() + "/" + x.Len.Value())
		if err != nil {
			break
		}
		pfx = pfx.Masked()
		b := pfx.Addr().As16()
		lo := new(big.Int).SetBytes(b[:])
		bits := 128 - pfx.Bits()
		if pfx.Addr().Is4() {
			bits = 32 - pfx.Bits()
		}
		span := new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), uint(bits)), big.NewInt(1))
		return lintInterval{lo: lo, hi: new(big.Int).Add(lo, span), v6: pfx.Addr().Is6()}, true
	case *parser.Literal:
		if p, v6, ok := point(x); ok {
			return lintInterval{lo: p, hi: p, v6: v6}, true
		}
	}
	return lintInterval{}, false
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

// checkSelectors reports selectors nft refuses: unknown ct and meta
// keys, meta nfproto outside inet, rt nexthop without an IP version,
// inner ethernet headers of gre.
func (l *linter) checkSelectors(t *ltable, netCtx func() string, e parser.Expr) {
	walkExpr(e, func(x parser.Expr) bool {
		sel, ok := x.(*parser.Selector)
		if !ok {
			return true
		}
		p := sel.Path
		switch {
		case len(p) == 2 && p[0] == "meta" && p[1] == "nfproto" && t.family != "inet":
			l.report(CodeInvalidExpr, sel, "meta nfproto is only useful in the inet family: every packet of %s is %s already", t, t.family)
		case len(p) == 2 && p[0] == "rt" && p[1] == "nexthop" && t.family != "ip" && t.family != "ip6" && netCtx() == "":
			d := l.report(CodeInvalidExpr, sel, "rt nexthop in %s: nft cannot tell the IP version; write `rt ip nexthop` or `rt ip6 nexthop`", t)
			d.Suggestion = "rt ip nexthop"
		case len(p) == 3 && p[0] == "rt" && p[2] == "nexthop" && (t.family == "ip" && p[1] == "ip6" || t.family == "ip6" && p[1] == "ip"):
			l.report(CodeInvalidExpr, sel, "rt %s nexthop in %s will never match: its packets are %s", p[1], t, t.family)
		case len(p) >= 3 && p[0] == "tcp" && p[1] == "option":
			l.checkTCPOption(sel)
		case len(p) >= 2 && p[0] == "gre" && (p[1] == "ether" || p[1] == "vlan"):
			l.report(CodeInvalidExpr, sel, "gre carries IP packets, not ethernet frames: match the inner ethernet or vlan header with gretap")
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

// checkTCPOption checks `tcp option NAME [FIELD]`: a known option (or a
// kind number up to 255, or a raw @kind,offset,length) and one of its
// fields.
func (l *linter) checkTCPOption(sel *parser.Selector) {
	p := sel.Path
	name := p[2]
	if strings.HasPrefix(name, "@") {
		return
	}
	if n, ok := parseUint(name); ok {
		if n.Cmp(big.NewInt(255)) > 0 {
			l.report(CodeValueRange, sel, "tcp option kind %s is above 255, the largest option kind", name)
		}
		return
	}
	switch name {
	case "noop", "mss", "wscale", "sack-permitted":
		return // older names nft still accepts
	}
	o := TCPOptionByName(name)
	if o == nil {
		names := []string{"eol", "nop", "maxseg", "window", "sack-perm", "sack", "sack0", "sack1", "sack2", "sack3", "timestamp", "md5sig", "mptcp", "fastopen"}
		l.report(CodeInvalidExpr, sel, "unknown tcp option %q%s; options: %s", name, didYouMean(name, names), strings.Join(names, ", "))
		return
	}
	if len(p) == 4 && o.Field(p[3]) == nil {
		var fields []string
		for _, f := range o.Fields {
			fields = append(fields, f.Name)
		}
		l.report(CodeInvalidExpr, sel, "tcp option %s has no field %s; its fields: %s", name, p[3], strings.Join(fields, ", "))
	}
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
	if len(s.With) > 1 {
		if lit, ok := l.resolve(s.With[len(s.With)-1]).(*parser.Literal); ok {
			dtName := map[string]string{"icmp": "icmp_code", "icmpv6": "icmpv6_code", "icmp6": "icmpv6_code", "icmpx": "icmpx_code"}[kind]
			if dt := DatatypeByName(dtName); dt != nil {
				l.checkValue(valueType{dt: dt, bits: dt.Bits, name: "reject with " + kind}, lit, typeCtx{})
			}
		}
	}
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
				l.report(CodeElementType, ref, "@%s holds %s but %s is %s; nft refuses the lookup (\"datatype mismatch\")", ref.Name, keys[i].dt.Desc, left[i].label(), left[i].dt.Desc)
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
