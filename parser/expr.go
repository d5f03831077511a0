package parser

import "strings"

// Statements and expressions: the context-sensitive part of nft's
// grammar. Keywords are only keywords where a keyword is expected; in
// value position every word is a symbol (a set named "ip", a chain named
// "input").

var singleFieldHeads = map[string]bool{
	"ether": true, "vlan": true, "icmp": true, "icmpv6": true, "igmp": true, "udp": true,
	"udplite": true, "dccp": true, "ah": true, "esp": true, "comp": true, "th": true,
	"hbh": true, "dst": true, "frag": true, "mh": true, "srh": true, "rt0": true,
	"rt2": true, "rt4": true, "ip6": true, "meta": true, "exthdr": true, "cgroupv2": true,
	"dst6": true, "ipcomp": true, "tunnel": true,
}

var encapHeads = map[string]bool{"vxlan": true, "geneve": true, "gre": true, "gretap": true}

var implicitMeta = map[string]bool{
	"iif": true, "oif": true, "iifname": true, "oifname": true, "iiftype": true, "oiftype": true,
	"mark": true, "skuid": true, "skgid": true, "nftrace": true, "rtclassid": true,
	"ibriport": true, "obriport": true, "ibrname": true, "obrname": true, "ibridgename": true,
	"obridgename": true, "pkttype": true, "cpu": true, "iifgroup": true, "oifgroup": true,
	"cgroup": true, "time": true, "day": true, "hour": true, "sdif": true, "sdifname": true,
	"iifkind": true, "oifkind": true,
}

var tcpOptFields = map[string]bool{"kind": true, "length": true, "size": true, "count": true,
	"left": true, "right": true, "tsval": true, "tsecr": true, "subtype": true, "type": true}

var ipOptFields = map[string]bool{"type": true, "length": true, "value": true, "ptr": true, "addr": true}

var sctpChunkFields = map[string]bool{"type": true, "flags": true, "length": true, "tsn": true,
	"stream": true, "ssn": true, "ppid": true, "init-tag": true, "a-rwnd": true,
	"num-outbound-streams": true, "num-inbound-streams": true, "initial-tsn": true,
	"cum-tsn-ack": true, "num-gap-ack-blocks": true, "num-dup-tsns": true, "lowest-tsn": true,
	"seqno": true, "new-cum-tsn": true}

func isStmtKeyword(w string) bool {
	switch w {
	case "saddr", "daddr", "dport", "sport", "protocol", "l4proto", "state", "mark", "type":
		return false
	}
	return stmtKeywords[w]
}

// stmtKeywords start a statement; a selector head followed by one of
// these is not a selector.
var stmtKeywords = map[string]bool{
	"accept": true, "drop": true, "continue": true, "return": true, "jump": true, "goto": true,
	"queue": true, "counter": true, "log": true, "limit": true, "quota": true, "reject": true,
	"snat": true, "dnat": true, "masquerade": true, "redirect": true, "notrack": true,
	"dup": true, "fwd": true, "tproxy": true, "synproxy": true, "add": true, "update": true,
	"delete": true, "flow": true, "xt": true, "last": true, "comment": true, "meter": true,
	"set": true, "tunnel": true,
}

func (p *parser) isSelectorHead(w string) bool {
	switch w {
	case "ip", "tcp", "arp", "sctp", "ct", "rt", "socket", "osf", "ipsec", "fib", "numgen",
		"jhash", "symhash", "udp", "meta", "ip6", "ether", "th", "icmp", "icmpv6", "vlan":
		return true
	case "accept", "drop", "counter", "log", "limit", "jump", "goto", "return", "continue":
		return false
	}
	return singleFieldHeads[w] || encapHeads[w] || implicitMeta[w]
}

func (p *parser) enter() {
	p.depth++
	if p.depth > maxDepth {
		p.errorAt(p.peek(), "nesting too deep (more than %d levels)", maxDepth)
		panic(bail{})
	}
}

func (p *parser) leave() { p.depth-- }

// stmt parses one statement.
func (p *parser) stmt() Stmt {
	p.enter()
	defer p.leave()
	t := p.peek()
	start := t.start
	if t.kind != Word {
		if t.kind == At || t.kind == LParen || t.kind == Var {
			return p.exprStmt()
		}
		p.fail("statement")
	}
	w := p.text(t)
	switch w {
	case "accept", "drop", "continue", "return":
		p.i++
		return p.newVerdict(p.span(start), w)
	case "jump", "goto":
		p.i++
		if p.peek().kind == LBrace {
			c := &ChainBlock{Block: true}
			p.chainBody(c)
			c.Span = p.span(start)
			return &VerdictStmt{Span: p.span(start), Kind: w, Chain: c}
		}
		target := p.ident("chain name")
		return &VerdictStmt{Span: p.span(start), Kind: w, Target: target}
	case "queue":
		p.i++
		v := &VerdictStmt{Kind: w}
		for {
			switch {
			case p.is("flags") || p.is("num"):
				os := p.peek().start
				k := p.word("")
				v.Opts = append(v.Opts, &Option{Span: p.span(os), Key: k, Args: []Expr{p.rhsExpr()}})
				v.Opts[len(v.Opts)-1].Span = p.span(os)
				continue
			case p.is("to"):
				os := p.peek().start
				p.i++
				v.Opts = append(v.Opts, &Option{Key: "to", Args: []Expr{p.lhs()}})
				v.Opts[len(v.Opts)-1].Span = p.span(os)
				continue
			case p.is("bypass") || p.is("fanout"):
				// old syntax: queue num 1-3 fanout,bypass (a flag list)
				os := p.peek().start
				l := p.rhsExpr()
				v.Opts = append(v.Opts, &Option{Span: p.span(os), Args: []Expr{l}})
				continue
			}
			break
		}
		v.Span = p.span(start)
		return v
	case "counter":
		p.i++
		if p.is("name") {
			p.i++
			return &ObjRefStmt{Kind: "counter", Name: p.lhs(), Span: p.span(start)}
		}
		c := p.newCounter()
		if p.accept("packets") {
			c.Packets = p.number()
		}
		if p.accept("bytes") {
			c.Bytes = p.number()
		}
		c.Span = p.span(start)
		return c
	case "log":
		p.i++
		l := &LogStmt{}
		for {
			os := p.peek().start
			switch {
			case p.is("prefix") || p.is("level") || p.is("group") || p.is("snaplen") || p.is("queue-threshold"):
				k := p.word("")
				l.Opts = append(l.Opts, &Option{Key: k, Args: []Expr{p.rhsExpr()}})
			case p.is("flags"):
				p.i++
				o := &Option{Key: "flags"}
				if p.is("tcp") || p.is("ip") {
					wt := p.next()
					o.Args = append(o.Args, p.newLit(p.tokSpan(wt), LitSymbol, p.text(wt)))
				}
				o.Args = append(o.Args, p.rhsExpr())
				l.Opts = append(l.Opts, o)
			default:
				l.Span = p.span(start)
				return l
			}
			l.Opts[len(l.Opts)-1].Span = p.span(os)
		}
	case "limit":
		p.i++
		if p.is("name") {
			p.i++
			return &ObjRefStmt{Kind: "limit", Name: p.lhs(), Span: p.span(start)}
		}
		l := &LimitStmt{}
		p.expectWord("rate")
		l.Over = p.accept("over")
		l.Rate = p.rate()
		if p.accept("burst") {
			l.Burst = p.quantity()
		}
		l.Span = p.span(start)
		return l
	case "quota":
		p.i++
		if p.is("name") {
			p.i++
			return &ObjRefStmt{Kind: "quota", Name: p.lhs(), Span: p.span(start)}
		}
		q := &QuotaStmt{}
		if p.is("over") || p.is("until") {
			q.Mode = p.word("")
		}
		q.Quota = p.quantity()
		if p.accept("used") {
			q.Used = p.quantity()
		}
		q.Span = p.span(start)
		return q
	case "reject":
		p.i++
		r := &RejectStmt{}
		if p.accept("with") {
			for !p.endOfStmt() && !(p.is("comment") && p.peekN(1).kind == String) {
				t := p.peek()
				if t.kind == Word && stmtKeywords[p.text(t)] && len(r.With) > 1 {
					break
				}
				r.With = append(r.With, p.value())
			}
		}
		r.Span = p.span(start)
		return r
	case "snat", "dnat", "masquerade", "redirect":
		return p.natStmt()
	case "reset":
		p.i++
		return &GenericStmt{Keyword: "reset", Args: []Expr{p.lhs()}, Span: p.span(start)}
	case "notrack":
		p.i++
		return &NotrackStmt{Span: p.span(start)}
	case "dup", "fwd":
		p.i++
		fam := ""
		if (p.is("ip") || p.is("ip6")) && p.isN(1, "to") {
			fam = p.word("")
		}
		var to, dev Expr
		if p.accept("to") {
			to = p.lhs()
		}
		if p.accept("device") {
			dev = p.lhs()
		}
		if w == "dup" {
			return &DupStmt{Span: p.span(start), Family: fam, To: to, Device: dev}
		}
		return &FwdStmt{Span: p.span(start), Family: fam, To: to, Device: dev}
	case "tproxy":
		p.i++
		tp := &TproxyStmt{}
		if (p.is("ip") || p.is("ip6")) && p.isN(1, "to") {
			tp.Family = p.word("")
		}
		p.expectWord("to")
		if p.peek().kind != Colon {
			tp.Addr = p.lhs()
		}
		if p.got(Colon) {
			tp.Port = p.lhs()
		}
		tp.Span = p.span(start)
		return tp
	case "synproxy":
		p.i++
		if p.is("name") {
			p.i++
			return &ObjRefStmt{Kind: "synproxy", Name: p.lhs(), Span: p.span(start)}
		}
		s := &SynproxyStmt{}
		for {
			os := p.peek().start
			if p.is("mss") || p.is("wscale") {
				k := p.word("")
				s.Opts = append(s.Opts, &Option{Key: k, Args: []Expr{p.number()}})
			} else if p.is("timestamp") || p.is("sack-perm") {
				s.Opts = append(s.Opts, &Option{Key: p.word("")})
			} else {
				break
			}
			s.Opts[len(s.Opts)-1].Span = p.span(os)
		}
		s.Span = p.span(start)
		return s
	case "tunnel":
		if p.isN(1, "name") {
			p.i += 2
			return &ObjRefStmt{Kind: "tunnel", Name: p.lhs(), Span: p.span(start)}
		}
	case "add", "update", "delete":
		if p.peekN(1).kind == At {
			p.i++
			return p.dynset(start, w)
		}
	case "set":
		if p.isN(1, "add") || p.isN(1, "update") || p.isN(1, "delete") {
			p.i++
			op := p.word("")
			d := &DynsetStmt{Op: op, OldSyntax: true}
			d.Key = p.lhs()
			d.Set = p.atExpr()
			d.Span = p.span(start)
			return d
		}
	case "meter":
		p.i++
		d := &DynsetStmt{Op: "meter"}
		d.Set = p.ident("meter name")
		if p.accept("size") {
			d.Value = p.number()
		}
		p.dynsetBody(d)
		d.Span = p.span(start)
		return d
	case "flow":
		if p.isN(1, "add") || p.isN(1, "offload") {
			p.i++
			op := p.word("")
			return &FlowStmt{Op: op, Ft: p.atExpr(), Span: p.span(start)}
		}
	case "xt":
		p.i++
		k := p.word("match or target")
		n := p.ident("extension name")
		return &XtStmt{Span: p.span(start), Kind: k, Name: n.Text}
	case "last":
		p.i++
		l := &LastStmt{}
		if p.accept("used") {
			l.Used = p.value()
		}
		l.Span = p.span(start)
		return l
	case "ct":
		if p.isN(1, "count") {
			p.i += 2
			c := &ConnlimitStmt{Over: p.accept("over")}
			c.Count = p.number()
			c.Span = p.span(start)
			return c
		}
		if k := p.objectCtKind(1); k != "" && p.isN(2, "set") {
			p.i += 3
			return &ObjRefStmt{Kind: "ct " + k, Name: p.lhs(), Span: p.span(start)}
		}
	case "meta":
		if p.isN(1, "secmark") && p.isN(2, "set") {
			p.i += 3
			return &ObjRefStmt{Kind: "secmark", Name: p.lhs(), Span: p.span(start)}
		}
	}
	return p.exprStmt()
}

// number consumes a number literal (or $var).
func (p *parser) number() *Literal {
	t := p.peek()
	if t.kind != Number && t.kind != Var {
		p.fail("number")
	}
	p.i++
	return p.newLit(p.tokSpan(t), LitNumber, p.text(t))
}

var byteUnits = map[string]bool{"bytes": true, "kbytes": true, "mbytes": true, "gbytes": true, "packets": true}

// quantity parses N [unit].
func (p *parser) quantity() *Quantity {
	start := p.peek().start
	q := &Quantity{Value: p.number()}
	if t := p.peek(); t.kind == Word && byteUnits[p.text(t)] {
		q.Unit = p.text(t)
		p.i++
	}
	q.Span = p.span(start)
	return q
}

// rate parses N [unit]/period; "kbytes/second" is one word to the lexer,
// as to nft's.
func (p *parser) rate() *Quantity {
	q := p.quantity()
	if t := p.peek(); q.Unit == "" && t.kind == Word {
		if unit, per, ok := strings.Cut(p.text(t), "/"); ok && byteUnits[unit] {
			p.i++
			q.Unit, q.Per = unit, per
			q.Span = p.span(q.Start)
			return q
		}
	}
	if p.got(Slash) {
		q.Per = p.word("time unit (second, minute, hour, day, week)")
	}
	q.Span = p.span(q.Start)
	return q
}

func (p *parser) natStmt() Stmt {
	t := p.next()
	start := t.start
	n := &NatStmt{Kind: p.text(t)}
	if (p.is("ip") || p.is("ip6")) && (p.isN(1, "to") || p.isN(1, "prefix") || p.isN(1, "addr")) {
		n.Family = p.word("")
	}
	if p.accept("prefix") {
		n.Prefix = true
	}
	// dnat ip addr . port to ...: the map yields address and port
	if p.is("addr") && p.peekN(1).kind == Dot && p.isN(2, "port") {
		p.i += 3
		n.AddrPort = true
	}
	if p.accept("to") {
		n.To = true
		if p.peek().kind != Colon {
			n.Addr = p.lhs()
		}
		if p.got(Colon) {
			n.Port = p.lhs()
		}
	} else if (n.Kind == "snat" || n.Kind == "dnat") && !p.endOfStmt() && !natFlags[p.text(p.peek())] {
		n.Addr = p.lhs()
		if p.got(Colon) {
			n.Port = p.lhs()
		}
	}
	if t := p.peek(); t.kind == Word && natFlags[p.text(t)] {
		ls := t.start
		l := &List{}
		for {
			f := p.next()
			l.Elems = append(l.Elems, p.newLit(p.tokSpan(f), LitSymbol, p.text(f)))
			if p.peek().kind != Comma {
				break
			}
			p.i++
		}
		l.Span = p.span(ls)
		n.Flags = l
	}
	n.Span = p.span(start)
	return n
}

var natFlags = map[string]bool{"random": true, "fully-random": true, "persistent": true, "netmap": true}

// dynset parses @set { key [: value] [stmts] } after add/update/delete.
func (p *parser) dynset(start int32, op string) Stmt {
	d := &DynsetStmt{Op: op}
	d.Set = p.atExpr()
	p.dynsetBody(d)
	d.Span = p.span(start)
	return d
}

func (p *parser) dynsetBody(d *DynsetStmt) {
	p.expect(LBrace, "'{'")
	d.Braces = true
	p.skipNL()
	ks := p.peek().start
	key := p.lhs()
	var opts []*Option
	for p.is("timeout") || p.is("expires") {
		os := p.peek().start
		k := p.word("")
		opts = append(opts, &Option{Key: k, Args: []Expr{p.value()}})
		opts[len(opts)-1].Span = p.span(os)
	}
	if opts != nil {
		key = &Elem{Span: p.span(ks), Key: key, Opts: opts}
	}
	d.Key = key
	if p.got(Colon) {
		d.Value = p.lhs()
	}
	p.skipNL()
	for p.peek().kind != RBrace {
		if p.peek().kind == EOF {
			p.fail("'}'")
		}
		d.Stmts = append(d.Stmts, p.stmt())
		p.skipNL()
	}
	p.i++
}

// atExpr parses @name (a set reference) or @base,off,len (raw payload).
func (p *parser) atExpr() Expr {
	at := p.expect(At, "'@'")
	n := p.peek()
	if n.kind != Word && n.kind != Number && n.kind != Var {
		p.fail("set name")
	}
	p.i++
	if p.peek().kind == Comma {
		// raw payload @th,160,32
		p.i++
		off := p.expect(Number, "offset")
		p.expect(Comma, "','")
		ln := p.expect(Number, "length")
		return p.newSel(p.span(at.start), p.newPath("@"+p.text(n), p.text(off), p.text(ln)))
	}
	return &SetRef{Span: p.span(at.start), Name: p.text(n)}
}

func isRelOp(k Kind) bool {
	switch k {
	case Eq, Ne, Lt, Gt, Le, Ge, Not:
		return true
	}
	return false
}

var wordRelOps = map[string]bool{"eq": true, "ne": true, "lt": true, "gt": true, "le": true, "ge": true}

// exprStmt parses a match (LHS [op] RHS), a vmap lookup, or a field
// assignment (LHS set VALUE).
func (p *parser) exprStmt() Stmt {
	first := p.peek()
	start := first.start
	left := p.lhs()
	if _, ok := left.(*Literal); ok {
		p.i--
		p.errorAt(first, "syntax error, unexpected %s, expecting statement", p.describe(first))
		panic(bail{})
	}
	if ml, ok := left.(*MapLookup); ok && ml.Kind == "vmap" {
		return &ExprStmt{Span: p.span(start), X: left}
	}
	t := p.peek()
	switch {
	case t.kind == Word && p.text(t) == "set":
		p.i++
		vs := p.peek().start
		v := p.lhs()
		if p.peek().kind == Comma {
			l := &List{Elems: []Expr{v}}
			for p.got(Comma) {
				l.Elems = append(l.Elems, p.lhs())
			}
			l.Span = p.span(vs)
			v = l
		}
		return &SetStmt{Span: p.span(start), Left: left, Value: v}
	case isRelOp(t.kind) || t.kind == Word && wordRelOps[p.text(t)] && p.startsValue(p.peekN(1)):
		p.i++
		right := p.rhsExpr()
		return p.newExprStmt(p.span(start), p.newRel(p.span(start), p.text(t), left, right))
	case p.endOfStmt():
		// a bare field (`osf name`): nft rejects it; kept in the AST so
		// the linter can say why
		return &ExprStmt{Span: p.span(start), X: left}
	}
	if !p.startsValue(t) {
		p.fail("value")
	}
	right := p.rhsExpr()
	return p.newExprStmt(p.span(start), p.newRel(p.span(start), "", left, right))
}

func (p *parser) startsValue(t tok) bool {
	switch t.kind {
	case Word, Number, String, Var, At, LBrace, LParen, LBrack, Not, Minus:
		return true
	}
	return false
}

// lhs parses a statement-level expression: selectors, bitwise operators,
// concatenations and map lookups.
func (p *parser) lhs() Expr {
	p.enter()
	defer p.leave()
	start := p.peek().start
	x := p.orExpr(true)
	if p.peek().kind == Dot {
		c := &Concat{Parts: []Expr{x}}
		for p.got(Dot) {
			c.Parts = append(c.Parts, p.orExpr(true))
		}
		c.Span = p.span(start)
		x = c
	}
	for p.is("map") || p.is("vmap") {
		kind := p.word("")
		var m Expr
		switch p.peek().kind {
		case LBrace:
			m = p.setExpr(false)
		case At:
			m = p.atExpr()
		case Var:
			v := p.next()
			m = &VarRef{Span: p.tokSpan(v), Name: p.text(v)[1:]}
		default:
			p.fail("map ('{', '@name' or $variable)")
		}
		x = &MapLookup{Span: p.span(start), Key: x, Kind: kind, Map: m}
	}
	return x
}

func binPrecOf(k Kind) (int, bool) {
	switch k {
	case Pipe:
		return 1, true
	case Caret:
		return 2, true
	case Amp:
		return 3, true
	case Shl, Shr:
		return 4, true
	}
	return 0, false
}

// wordOpPrec is the precedence of the word forms of the operators.
func wordOpPrec(w string) (int, bool) {
	switch w {
	case "or":
		return 1, true
	case "xor":
		return 2, true
	case "and":
		return 3, true
	case "lshift", "rshift":
		return 4, true
	}
	return 0, false
}

// orExpr parses operands joined by | ^ & << >> with C precedence.
func (p *parser) orExpr(sel bool) Expr { return p.binExpr(sel, 1) }

func (p *parser) binExpr(sel bool, prec int) Expr {
	start := p.peek().start
	var x Expr
	if prec > 4 {
		return p.primary(sel)
	}
	x = p.binExpr(sel, prec+1)
	for {
		t := p.peek()
		bp, ok := binPrecOf(t.kind)
		if t.kind == Word {
			bp, ok = wordOpPrec(p.text(t))
			if ok {
				switch p.peekN(1).kind {
				case Number, Word, LParen, Var:
				default:
					ok = false
				}
			}
		}
		if !ok || bp != prec {
			return x
		}
		p.i++
		y := p.binExpr(sel, prec+1)
		x = &Binary{Span: p.span(start), Op: p.text(t), X: x, Y: y}
	}
}

// primary parses one operand. With sel, selector keywords start
// selectors; otherwise every word is a value.
func (p *parser) primary(sel bool) Expr {
	t := p.peek()
	switch t.kind {
	case LParen:
		p.enter()
		defer p.leave()
		p.i++
		var x Expr
		if sel {
			x = p.lhs()
		} else {
			x = p.rhsConcat()
		}
		p.expect(RParen, "')'")
		return &Paren{Span: p.span(t.start), X: x}
	case Word:
		if sel && p.isSelectorHead(p.text(t)) {
			if x := p.selector(); x != nil {
				return x
			}
		}
	case At:
		if sel {
			return p.atExpr()
		}
	}
	return p.value()
}

// selector parses a keyword path; it returns nil (consuming nothing) when
// the head word is used as a plain value.
func (p *parser) selector() Expr {
	t := p.peek()
	start := t.start
	head := p.text(t)
	nextWord := func(n int) (string, bool) {
		u := p.peekN(n)
		if u.kind != Word {
			return "", false
		}
		s := p.text(u)
		return s, true
	}
	field, ok := nextWord(1)
	switch head {
	case "fib":
		p.i++
		pr := &Primary{Keyword: "fib"}
		for {
			f := p.next()
			if f.kind != Word {
				p.i--
				p.fail("fib key (saddr, daddr, mark, iif, oif)")
			}
			pr.Args = append(pr.Args, p.newLit(p.tokSpan(f), LitSymbol, p.text(f)))
			if p.peek().kind != Dot {
				break
			}
			d := p.next()
			pr.Args = append(pr.Args, p.newLit(p.tokSpan(d), LitSymbol, "."))
		}
		r := p.next()
		if r.kind != Word {
			p.i--
			p.fail("fib result (oif, oifname, type)")
		}
		pr.Args = append(pr.Args, p.newLit(p.tokSpan(r), LitSymbol, p.text(r)))
		pr.Span = p.span(start)
		return pr
	case "numgen", "jhash", "symhash":
		p.i++
		pr := &Primary{Keyword: head}
		if head == "numgen" {
			m := p.word("numgen mode (inc, random)")
			pr.Args = append(pr.Args, p.newLit(p.tokSpan(p.toks[p.i-1]), LitSymbol, m))
		}
		if head == "jhash" {
			pr.Args = append(pr.Args, p.lhs())
		}
		for p.is("mod") || p.is("seed") || p.is("offset") {
			k := p.next()
			pr.Args = append(pr.Args, p.newLit(p.tokSpan(k), LitSymbol, p.text(k)), p.number())
		}
		pr.Span = p.span(start)
		return pr
	}
	if !ok || isStmtKeyword(field) && head != "ct" && head != "meta" {
		if implicitMeta[head] {
			p.i++
			return p.newSel(p.span(start), p.newPath(head))
		}
		return nil
	}
	if head != "ipsec" && head != "ip" && head != "tcp" && head != "udp" && implicitMeta[head] {
		p.i++
		return p.newSel(p.span(start), p.newPath(head))
	}
	words := make([]string, 0, 5)
	words = append(words, head)
	n := 1
	take := func() string {
		w, _ := nextWord(n)
		words = append(words, w)
		n++
		return w
	}
	switch {
	case head == "ip" && field == "option":
		take()
		if _, ok := nextWord(n); !ok {
			p.i += n
			p.fail("ip option name")
		}
		take()
		if w, ok := nextWord(n); ok && ipOptFields[w] {
			take()
		}
	case head == "tcp" && field == "option":
		take()
		if p.peekN(n).kind == At {
			// tcp option @kind,off,len
			p.i += n
			switch raw := p.atExpr().(type) {
			case *Selector:
				words = append(words, raw.Path...)
			case *SetRef:
				words = append(words, "@"+raw.Name)
			}
			return p.newSel(p.span(start), p.newPath(words...))
		}
		if u := p.peekN(n); u.kind == Number {
			words = append(words, p.text(u))
			n++
		} else {
			take()
		}
		if w, ok := nextWord(n); ok && tcpOptFields[w] {
			take()
		}
	case head == "sctp" && field == "chunk":
		take()
		take()
		if w, ok := nextWord(n); ok && sctpChunkFields[w] {
			take()
		}
	case head == "arp" && (field == "saddr" || field == "daddr"):
		take()
		if w, ok := nextWord(n); ok && (w == "ip" || w == "ether") {
			take()
		}
	case encapHeads[head]:
		if p.isSelectorHead(field) && field != "ip" || field == "ip" || field == "ip6" || field == "ether" || field == "tcp" || field == "udp" {
			p.i++
			inner := p.selector()
			if inner == nil {
				p.fail("field")
			}
			if s, ok := inner.(*Selector); ok {
				return p.newSel(p.span(start), p.newPath(append([]string{head}, s.Path...)...))
			}
			return inner
		}
		take()
	case head == "ct":
		if field == "original" || field == "reply" {
			take()
		}
		w := take()
		if w == "ip" || w == "ip6" {
			take()
		}
	case head == "rt":
		if field == "ip" || field == "ip6" {
			take()
		}
		take()
	case head == "socket":
		take()
		if field == "cgroupv2" && p.isN(n, "level") {
			take()
			if u := p.peekN(n); u.kind == Number {
				words = append(words, p.text(u))
				n++
			}
		}
	case head == "osf":
		if field == "ttl" {
			take()
			take()
		}
		take()
	case head == "ipsec":
		if field != "in" && field != "out" {
			p.i++
			return p.newSel(p.span(start), p.newPath(head))
		}
		take()
		if p.isN(n, "spnum") {
			take()
			if u := p.peekN(n); u.kind == Number {
				words = append(words, p.text(u))
				n++
			}
		}
		if w, _ := nextWord(n); w == "ip" || w == "ip6" {
			take()
		}
		take()
	default:
		take()
	}
	for _, w := range words {
		if w == "" {
			p.i += n - 1
			p.fail("field name")
		}
	}
	// an index glued to the last field: srh sid[1]
	if last := p.peekN(n - 1); p.peekN(n).kind == LBrack && p.peekN(n).start == last.end &&
		p.peekN(n+1).kind == Number && p.peekN(n+2).kind == RBrack {
		words[len(words)-1] = p.src.Text[last.start:p.peekN(n+2).end]
		n += 3
	}
	p.i += n
	return p.newSel(p.span(start), p.newPath(words...))
}

// rhsExpr parses a value expression with comma lists (established,related).
func (p *parser) rhsExpr() Expr {
	start := p.peek().start
	x := p.rhsConcat()
	if p.peek().kind != Comma {
		return x
	}
	l := &List{Elems: []Expr{x}}
	for p.got(Comma) {
		l.Elems = append(l.Elems, p.rhsConcat())
	}
	l.Span = p.span(start)
	return l
}

// rhsConcat parses values joined by '.' and bitwise operators.
func (p *parser) rhsConcat() Expr {
	p.enter()
	defer p.leave()
	start := p.peek().start
	x := p.orExpr(false)
	if p.peek().kind != Dot {
		return x
	}
	c := &Concat{Parts: []Expr{x}}
	for p.got(Dot) {
		c.Parts = append(c.Parts, p.orExpr(false))
	}
	c.Span = p.span(start)
	return c
}

// value parses one constant with an optional range (-) or prefix (/).
func (p *parser) value() Expr {
	t := p.peek()
	start := t.start
	var x Expr
	switch t.kind {
	case Number, Word:
		p.i++
		k := LitSymbol
		if t.kind == Number {
			k = LitNumber
		}
		x = p.newLit(p.tokSpan(t), k, p.text(t))
	case String:
		p.i++
		x = p.newLit(p.tokSpan(t), LitString, p.text(t))
	case Var:
		p.i++
		x = &VarRef{Span: p.tokSpan(t), Name: p.text(t)[1:]}
	case Star:
		p.i++
		return p.newLit(p.tokSpan(t), LitSymbol, "*")
	case At:
		return p.atExpr()
	case LBrace:
		return p.setExpr(false)
	case LParen:
		return p.primary(false)
	case LBrack:
		p.i++
		p.expect(Number, "IPv6 address")
		e := p.expect(RBrack, "']'")
		x = p.newLit(Span{Src: p.src, Start: start, Stop: e.end}, LitNumber, p.src.Text[start:e.end])
	case Minus:
		p.enter()
		defer p.leave()
		p.i++
		y := p.value()
		return &Unary{Span: p.span(start), Op: "-", X: y}
	default:
		p.fail("value")
	}
	switch p.peek().kind {
	case Minus:
		p.i++
		hi := p.value()
		return &Range{Span: p.span(start), Lo: x, Hi: hi}
	case Slash:
		s := p.peek()
		spaced := s.start > 0 && (p.src.Text[s.start-1] == ' ' || p.src.Text[s.start-1] == '\t')
		p.i++
		if spaced {
			y := p.rhsExpr()
			return &Binary{Span: p.span(start), Op: "/", X: x, Y: y}
		}
		n := p.peek()
		if n.kind != Number && n.kind != Word && n.kind != Var {
			p.fail("prefix length")
		}
		p.i++
		return &Prefix{Span: p.span(start), X: x, Len: p.newLit(p.tokSpan(n), LitNumber, p.text(n))}
	}
	return x
}

// setExpr parses { elem, elem, ... }.
func (p *parser) setExpr(dyn bool) *SetExpr {
	p.enter()
	defer p.leave()
	lb := p.expect(LBrace, "'{'")
	s := &SetExpr{}
	if t := p.peek(); t.kind == ElemRun {
		p.i++
		s.compact = p.runs[t.start]
		p.skipNL()
		p.got(Comma)
		p.skipNL()
		p.expect(RBrace, "'}'")
		s.Span = p.span(lb.start)
		return s
	}
	for {
		p.skipNL()
		if p.got(RBrace) {
			break
		}
		s.Items = append(s.Items, p.setElem(dyn))
		p.skipNL()
		if p.got(Comma) {
			continue
		}
		p.skipNL()
		if p.got(RBrace) {
			break
		}
		p.fail("',' or '}'")
	}
	s.Span = p.span(lb.start)
	return s
}

var elemStmts = map[string]bool{"counter": true, "quota": true, "limit": true, "last": true}

func (p *parser) setElem(dyn bool) Expr {
	start := p.peek().start
	var key Expr
	if dyn {
		key = p.lhs()
	} else {
		key = p.rhsConcat()
	}
	var el *Elem
	for {
		t := p.peek()
		if t.kind != Word {
			break
		}
		w := p.text(t)
		if w == "timeout" || w == "expires" || w == "comment" {
			if el == nil {
				el = &Elem{Key: key}
			}
			os := t.start
			p.i++
			el.Opts = append(el.Opts, &Option{Key: w, Args: []Expr{p.value()}})
			el.Opts[len(el.Opts)-1].Span = p.span(os)
			continue
		}
		if elemStmts[w] || w == "ct" && p.isN(1, "count") {
			if el == nil {
				el = &Elem{Key: key}
			}
			el.Stmts = append(el.Stmts, p.stmt())
			continue
		}
		break
	}
	if el != nil {
		el.Span = p.span(start)
		key = el
	}
	if p.got(Colon) {
		v := p.mapValue()
		return &MapElem{Span: p.span(start), Key: key, Value: v}
	}
	return key
}

// mapValue parses the data of a map element: a verdict or a value.
func (p *parser) mapValue() Expr {
	t := p.peek()
	if t.kind == Word {
		switch w := p.text(t); w {
		case "accept", "drop", "continue", "return", "queue":
			p.i++
			return &Verdict{Span: p.tokSpan(t), Kind: w}
		case "jump", "goto":
			p.i++
			target := p.ident("chain name")
			return &Verdict{Span: p.span(t.start), Kind: w, Target: target}
		}
	}
	return p.rhsConcat()
}
