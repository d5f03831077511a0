package parser

import (
	"fmt"
)

// parser is the hand-written recursive-descent core. It works on the
// compact token slice of one file; participle drives it one top-level
// command at a time (see participle.go).
type parser struct {
	src   *Source
	toks  []tok
	i     int // next token
	limit int // tokens at or past limit read as EOF (end of the current command)
	errs  ErrorList
	paths []string // arena for selector paths
	// slabs: AST nodes of the common kinds are carved out of chunks, so a
	// large ruleset costs few allocations.
	lits      []Literal
	sels      []Selector
	rels      []Relational
	exprs     []ExprStmt
	rules     []Rule
	verdicts  []VerdictStmt
	counters  []CounterStmt
	stmts     []Stmt            // arena for rule statement lists
	stmtStack []Stmt            // statements of the rules being parsed
	pending   []Command         // commands parsed from the current chunk after its first
	depth     int               // expression nesting, bounded against hostile input
	runs      map[int32][]int32 // the lexer's compact element lists (ElemRun tokens)
	pathCache map[[3]string][]string
	lazyRules bool // keep chain rules as spans (LazyRulesMinSize)
}

const maxDepth = 200

func (p *parser) peekN(n int) tok {
	j := p.i + n
	if j >= p.limit {
		end := int32(len(p.src.Text))
		if p.limit < len(p.toks) {
			end = p.toks[p.limit].start
		}
		return tok{EOF, end, end}
	}
	return p.toks[j]
}

func (p *parser) peek() tok { return p.peekN(0) }

func (p *parser) next() tok {
	t := p.peek()
	if p.i < p.limit {
		p.i++
	}
	return t
}

func (p *parser) text(t tok) string { return p.src.Text[t.start:t.end] }

// is reports whether the next token is the word w.
func (p *parser) is(w string) bool {
	t := p.peek()
	return t.kind == Word && p.text(t) == w
}

func (p *parser) isN(n int, w string) bool {
	t := p.peekN(n)
	return t.kind == Word && p.text(t) == w
}

// accept consumes the word w if it is next.
func (p *parser) accept(w string) bool {
	if p.is(w) {
		p.i++
		return true
	}
	return false
}

func (p *parser) got(k Kind) bool {
	if p.peek().kind == k {
		p.i++
		return true
	}
	return false
}

func (p *parser) span(start int32) Span {
	end := start
	if p.i > 0 && p.i-1 < len(p.toks) {
		end = p.toks[p.i-1].end
	}
	if end < start {
		end = start
	}
	return Span{Src: p.src, Start: start, Stop: end}
}

func (p *parser) tokSpan(t tok) Span { return Span{Src: p.src, Start: t.start, Stop: t.end} }

// bail is panicked to abandon the current statement after an error.
type bail struct{}

// maxCollected is how many errors a parse collects before it gives up.
const maxCollected = 1000

// tooMany is panicked when maxCollected errors were collected; parseSource
// stops there.
type tooMany struct{}

func (p *parser) errorAt(t tok, format string, args ...any) {
	if len(p.errs) >= maxCollected {
		panic(tooMany{})
	}
	pos := p.src.Position(int(t.start))
	end := p.src.Position(int(t.end))
	p.errs = append(p.errs, &Error{Pos: pos, End: end, Msg: fmt.Sprintf(format, args...), Line: p.src.Line(pos.Line)})
}

// fail records an error at the next token and abandons the statement.
func (p *parser) fail(expected string) {
	t := p.peek()
	p.errorAt(t, "syntax error, unexpected %s, expecting %s", p.describe(t), expected)
	panic(bail{})
}

func (p *parser) describe(t tok) string {
	switch t.kind {
	case Word, Number, String, Var:
		return fmt.Sprintf("%s %q", t.kind, p.text(t))
	}
	return t.kind.String()
}

func (p *parser) expect(k Kind, what string) tok {
	t := p.peek()
	if t.kind != k {
		p.fail(what)
	}
	p.i++
	return t
}

func (p *parser) expectWord(w string) tok {
	if !p.is(w) {
		p.fail("'" + w + "'")
	}
	return p.next()
}

// word consumes any bare word.
func (p *parser) word(what string) string {
	t := p.peek()
	if t.kind != Word {
		p.fail(what)
	}
	p.i++
	return p.text(t)
}

// ident consumes a name: a word, a number, a quoted string or a $variable.
func (p *parser) ident(what string) *Ident {
	t := p.peek()
	switch t.kind {
	case Word, Number, String, Var:
		p.i++
		return &Ident{Span: p.tokSpan(t), Text: p.text(t)}
	}
	p.fail(what)
	return nil
}

// endOfStmt reports whether the next token ends a line-level statement.
func (p *parser) endOfStmt() bool {
	switch p.peek().kind {
	case EOF, Newline, Semi, RBrace:
		return true
	}
	return false
}

func (p *parser) skipNewlines() {
	for {
		k := p.peek().kind
		if k != Newline && k != Semi {
			return
		}
		p.i++
	}
}

func (p *parser) skipNL() {
	for p.peek().kind == Newline {
		p.i++
	}
}

// recoverFrom skips to the end of the current line or statement, leaving
// a closing brace of the enclosing block in place; nested braces are
// skipped whole. A brace opened on the line of the error (token index
// errAt) and still open at the end of that line is taken as never closed
// (the usual typo), so recovery stops there rather than swallowing the
// enclosing blocks.
func (p *parser) recoverFrom(errAt int) {
	errLine := -1 // index of the newline that starts the error's line
	if errAt >= 0 {
		for j := errAt - 1; j >= 0 && j >= p.i; j-- {
			if p.toks[j].kind == Newline {
				errLine = j
				break
			}
		}
		if errLine < 0 {
			errLine = p.i - 1
		}
	}
	depth, outer := 0, -1
	for {
		t := p.peek()
		switch t.kind {
		case EOF:
			return
		case LBrace:
			if depth == 0 {
				outer = p.i
			}
			depth++
		case RBrace:
			if depth == 0 {
				return
			}
			depth--
		case Newline, Semi:
			if depth == 0 {
				p.i++
				return
			}
			if t.kind == Newline && errAt >= 0 && p.i > errAt && outer > errLine {
				p.i++
				return
			}
		}
		p.i++
	}
}

// try runs f and recovers from a bail, skipping the rest of the line.
// It reports whether f completed.
func (p *parser) try(f func()) (ok bool) {
	start := p.i
	depth := p.depth
	defer func() {
		if r := recover(); r != nil {
			if _, isBail := r.(bail); !isBail {
				panic(r)
			}
			ok = false
			p.depth = depth
			// skip from the start of the statement, balancing braces
			errAt := p.i
			p.i = start
			if p.peek().kind == RBrace {
				p.i++
			}
			p.recoverFrom(errAt)
		}
	}()
	f()
	return true
}

var families = map[string]bool{"ip": true, "ip6": true, "inet": true, "arp": true, "bridge": true, "netdev": true}

// family consumes an optional address family when a name follows it.
func (p *parser) family() string {
	t := p.peek()
	if t.kind == Word && families[p.text(t)] {
		switch p.peekN(1).kind {
		case Word, String, Var, Number:
			p.i++
			return p.text(t)
		}
	}
	return ""
}

var verbs = map[string]bool{"add": true, "create": true, "insert": true, "replace": true, "delete": true,
	"destroy": true, "flush": true, "reset": true, "list": true, "rename": true, "describe": true,
	"monitor": true, "export": true, "import": true, "get": true}

var knownObjects = map[string]bool{"table": true, "tables": true, "chain": true, "chains": true,
	"rule": true, "rules": true, "set": true, "sets": true, "map": true, "maps": true, "element": true,
	"flowtable": true, "flowtables": true, "counter": true, "counters": true, "quota": true,
	"quotas": true, "limit": true, "limits": true, "ct": true, "synproxy": true, "synproxys": true,
	"secmark": true, "secmarks": true, "tunnel": true, "tunnels": true, "ruleset": true,
	"meter": true, "meters": true, "hooks": true, "flow": true}

var objectKinds = map[string]bool{"counter": true, "quota": true, "limit": true, "synproxy": true,
	"secmark": true, "tunnel": true}

// command parses one top-level command from the current token window.
func (p *parser) command() Command {
	t := p.peek()
	start := t.start
	if t.kind != Word {
		p.fail("command")
	}
	w := p.text(t)
	switch w {
	case "include":
		p.i++
		s := p.expect(String, "quoted file name")
		return &Include{Span: p.span(start), Path: &Ident{Span: p.tokSpan(s), Text: p.text(s)}}
	case "define", "redefine":
		p.i++
		n := p.peek()
		if n.kind != Word && n.kind != Number {
			p.fail("variable name")
		}
		p.i++
		p.expect(Assign, "'='")
		v := p.defineValue()
		return &Define{Span: p.span(start), Redefine: w == "redefine", Name: p.text(n), NameSpan: p.tokSpan(n), Value: v}
	case "undefine":
		p.i++
		n := p.word("variable name")
		return &Undefine{Span: p.span(start), Name: n}
	}
	verb := ""
	if verbs[w] {
		verb = w
		p.i++
	}
	obj := p.peek()
	if obj.kind != Word {
		p.fail("object (table, chain, rule, set, map, element, ...)")
	}
	o := p.text(obj)
	blockVerb := verb == "" || verb == "add" || verb == "create"
	switch {
	case o == "table" && blockVerb:
		p.i++
		tb := &TableBlock{Verb: verb, Family: p.family()}
		tb.Name = p.ident("table name")
		if p.peek().kind == LBrace {
			tb.Block = true
			p.tableBody(tb)
		}
		tb.Span = p.span(start)
		return tb
	case o == "chain" && blockVerb:
		p.i++
		fam := p.family()
		table := p.ident("table name")
		c := p.chainHead(start, verb)
		c.Family, c.Table = fam, table
		c.Span = p.span(start)
		return c
	case (o == "set" || o == "map") && blockVerb:
		p.i++
		fam := p.family()
		table := p.ident("table name")
		s := p.setHead(start, verb, o == "map")
		s.Family, s.Table = fam, table
		s.Span = p.span(start)
		return s
	case o == "flowtable" && blockVerb:
		p.i++
		fam := p.family()
		table := p.ident("table name")
		f := p.flowtableHead(start, verb)
		f.Family, f.Table = fam, table
		f.Span = p.span(start)
		return f
	case (objectKinds[o] || o == "ct" && p.objectCtKind(1) != "") && blockVerb:
		kind := o
		p.i++
		if o == "ct" {
			kind = "ct " + p.text(p.next())
		}
		fam := p.family()
		table := p.ident("table name")
		ob := p.objectHead(start, verb, kind)
		ob.Family, ob.Table = fam, table
		ob.Span = p.span(start)
		return ob
	case o == "rule" && verb != "list" && verb != "flush" && verb != "reset":
		p.i++
		return p.ruleCmd(start, verb)
	}
	// generic command
	free := verb == "describe" || verb == "monitor" || verb == "export" || verb == "import"
	if !free && (!knownObjects[o] || verb == "" && o != "element" && o != "rule") {
		p.fail("command (table, chain, set, map, element, rule, flowtable, ... or a verb: add, delete, flush, list, ...)")
	}
	p.i++
	object := []string{o}
	if o == "ct" || o == "set" && p.is("element") {
		object = append(object, p.word("object kind"))
	}
	c := &CmdStmt{Verb: verb, Object: object, Family: p.family()}
	for !p.endOfStmt() {
		c.Args = append(c.Args, p.cmdArg())
	}
	c.Span = p.span(start)
	return c
}

// objectCtKind returns "helper", "timeout" or "expectation" when the word
// at offset n is one of them.
func (p *parser) objectCtKind(n int) string {
	t := p.peekN(n)
	if t.kind == Word {
		switch s := p.text(t); s {
		case "helper", "timeout", "expectation":
			return s
		}
	}
	return ""
}

// cmdArg parses one argument of a generic command.
func (p *parser) cmdArg() Expr {
	t := p.peek()
	switch t.kind {
	case LBrace:
		return p.setExpr(false)
	case Word, Number, String, Var:
		return p.rhsExpr()
	case At:
		return p.rhsExpr()
	}
	p.i++
	return p.newLit(p.tokSpan(t), LitSymbol, p.text(t))
}

// defineValue parses the value of a define: any rhs expression, a set,
// or a list of them.
func (p *parser) defineValue() Expr {
	if p.peek().kind == LBrace {
		return p.setExpr(false)
	}
	return p.rhsExpr()
}

// tableBody parses '{' items '}' into tb.
func (p *parser) tableBody(tb *TableBlock) {
	p.expect(LBrace, "'{'")
	p.blockItems(func() {
		if it := p.tableItem(); it != nil {
			tb.Items = append(tb.Items, it)
		}
		if !p.endOfStmt() {
			p.fail("newline or ';'")
		}
	})
}

func (p *parser) tableItem() TableItem {
	t := p.peek()
	start := t.start
	w := p.text(t)
	if t.kind != Word {
		p.fail("table item (chain, set, map, flowtable, flags, comment, ...)")
	}
	switch w {
	case "flags":
		return p.flagsDecl()
	case "comment":
		p.i++
		s := p.ident("comment string")
		return &CommentDecl{Span: p.span(start), Text: s}
	case "chain":
		p.i++
		c := p.chainHead(start, "")
		c.Span = p.span(start)
		return c
	case "set", "map", "meter":
		p.i++
		s := p.setHead(start, "", w == "map")
		s.Meter = w == "meter"
		s.Span = p.span(start)
		return s
	case "flowtable":
		p.i++
		f := p.flowtableHead(start, "")
		f.Span = p.span(start)
		return f
	case "define", "redefine":
		c := p.command()
		return c.(*Define)
	case "ct":
		if k := p.objectCtKind(1); k != "" {
			p.i += 2
			ob := p.objectHead(start, "", "ct "+k)
			ob.Span = p.span(start)
			return ob
		}
	default:
		if objectKinds[w] {
			p.i++
			ob := p.objectHead(start, "", w)
			ob.Span = p.span(start)
			return ob
		}
	}
	p.fail("table item (chain, set, map, flowtable, flags, comment, ...)")
	return nil
}

func (p *parser) flagsDecl() *FlagsDecl {
	start := p.next().start
	f := &FlagsDecl{}
	for {
		f.Flags = append(f.Flags, p.ident("flag"))
		if !p.got(Comma) {
			break
		}
		p.skipNL()
	}
	f.Span = p.span(start)
	return f
}

// chainHead parses NAME [{ body }] after the chain keyword.
func (p *parser) chainHead(start int32, verb string) *ChainBlock {
	c := &ChainBlock{Verb: verb}
	c.Name = p.ident("chain name")
	if p.peek().kind != LBrace {
		return c
	}
	c.Block = true
	p.chainBody(c)
	return c
}

// chainBody parses '{' chain items '}' into c.
func (p *parser) chainBody(c *ChainBlock) {
	p.enter()
	defer p.leave()
	p.i++
	c.HeaderEnd = -1
	p.blockItems(func() {
		p.chainItem(c)
		if !p.endOfStmt() {
			p.fail("newline or ';'")
		}
	})
}

func (p *parser) chainItem(c *ChainBlock) {
	t := p.peek()
	if t.kind == Word {
		switch p.text(t) {
		case "type":
			if len(c.RuleList) == 0 {
				p.i++
				c.Type = p.ident("chain type")
				p.expectWord("hook")
				c.Hook = p.ident("hook name")
				if p.is("device") {
					p.i++
					c.Device = p.rhsExpr()
				} else if p.is("devices") {
					p.i++
					p.expect(Assign, "'='")
					c.Device = p.devicesExpr()
					c.Devices = true
				}
				if p.accept("priority") {
					c.Priority = p.prioExpr()
				}
				c.HeaderEnd = p.span(t.start).Stop
				return
			}
		case "policy":
			p.i++
			c.Policy = p.rhsExpr()
			c.HeaderEnd = p.span(t.start).Stop
			return
		case "comment":
			if p.peekN(1).kind == String || p.peekN(1).kind == Var {
				p.i++
				c.Comment = p.ident("comment string")
				return
			}
		case "flags":
			c.Flags = p.flagsDecl()
			return
		case "devices":
			if p.peekN(1).kind == Assign {
				p.i += 2
				c.Device = p.devicesExpr()
				c.Devices = true
				return
			}
		}
	}
	nerrs := len(p.errs)
	r := p.rule()
	c.RuleList = append(c.RuleList, r)
	if p.lazyRules {
		c.spans = append(c.spans, r.Start, r.Stop)
		if len(p.errs) == nerrs {
			c.RuleList[len(c.RuleList)-1] = nil // parsed again when read
		}
	}
}

// devicesExpr parses { a, "b", $c } or a single device or $var.
func (p *parser) devicesExpr() Expr {
	if p.peek().kind == LBrace {
		return p.setExpr(false)
	}
	return p.rhsExpr()
}

// prioExpr parses a priority: NUMBER, -NUMBER, NAME, NAME + N, NAME - N, $var.
func (p *parser) prioExpr() Expr {
	start := p.peek().start
	var x Expr
	if p.peek().kind == Minus {
		p.i++
		n := p.expect(Number, "number")
		x = &Unary{Span: p.span(start), Op: "-", X: p.newLit(p.tokSpan(n), LitNumber, p.text(n))}
	} else {
		x = p.prioOperand()
	}
	for {
		k := p.peek().kind
		if k != Plus && k != Minus {
			return x
		}
		op := p.text(p.next())
		y := p.prioOperand()
		x = &Binary{Span: p.span(start), Op: op, X: x, Y: y}
	}
}

func (p *parser) prioOperand() Expr {
	t := p.peek()
	switch t.kind {
	case Word, Number, String:
		p.i++
		k := LitSymbol
		if t.kind == Number {
			k = LitNumber
		}
		return p.newLit(p.tokSpan(t), k, p.text(t))
	case Var:
		p.i++
		return &VarRef{Span: p.tokSpan(t), Name: p.text(t)[1:]}
	}
	p.fail("priority (a number or filter, raw, mangle, dstnat, srcnat, security, out)")
	return nil
}

// blockItems parses the items of a block up to and including its '}' (the
// '{' is consumed already). Each item is parsed under p.try, so an error
// skips to the next item and the rest of the block is still checked.
func (p *parser) blockItems(item func()) {
	for {
		p.skipNewlines()
		switch p.peek().kind {
		case RBrace:
			p.i++
			return
		case EOF:
			p.fail("'}'")
		}
		p.try(item)
	}
}

// setHead parses NAME [{ body }] after set/map.
func (p *parser) setHead(start int32, verb string, isMap bool) *SetBlock {
	s := &SetBlock{Verb: verb, IsMap: isMap}
	s.Name = p.ident("set name")
	if p.peek().kind != LBrace {
		return s
	}
	s.Block = true
	p.i++
	p.blockItems(func() {
		p.setItem(s)
		if !p.endOfStmt() {
			p.fail("newline or ';'")
		}
	})
	return s
}

func (p *parser) setItem(s *SetBlock) {
	t := p.peek()
	if t.kind != Word {
		p.fail("set property (type, typeof, flags, elements, ...)")
	}
	w := p.text(t)
	switch w {
	case "type":
		p.i++
		s.Key = p.typeConcat()
		if p.got(Colon) {
			s.Interval = p.accept("interval")
			s.Data = p.typeConcat()
		}
	case "typeof":
		p.i++
		s.Typeof = true
		s.Key = p.typeofExpr()
		if p.got(Colon) {
			s.Interval = p.accept("interval")
			s.Data = p.typeofExpr()
		}
	case "flags":
		s.Flags = p.flagsDecl()
	case "timeout":
		p.i++
		s.Timeout = p.value()
	case "gc-interval":
		p.i++
		s.GCInterval = p.value()
	case "size":
		p.i++
		s.Size = p.value()
	case "policy":
		p.i++
		s.Policy = p.value()
	case "auto-merge":
		p.i++
		s.AutoMerge = true
	case "elements":
		p.i++
		p.expect(Assign, "'='")
		if p.peek().kind == Var {
			v := p.next()
			s.Elements = &SetExpr{Span: p.tokSpan(v), Items: []Expr{&VarRef{Span: p.tokSpan(v), Name: p.text(v)[1:]}}}
		} else {
			s.Elements = p.setExpr(false)
		}
	case "comment":
		p.i++
		s.Comment = p.ident("comment string")
	case "counter", "quota", "limit", "last", "ct":
		s.Stmts = append(s.Stmts, p.stmt())
		for !p.endOfStmt() {
			s.Stmts = append(s.Stmts, p.stmt())
		}
	default:
		p.fail("set property (type, typeof, flags, elements, ...)")
	}
	s.Order = append(s.Order, w)
}

// typeConcat parses TYPE [. TYPE]*.
func (p *parser) typeConcat() Expr {
	start := p.peek().start
	first := p.ident("data type")
	if p.peek().kind != Dot {
		return first
	}
	c := &Concat{Parts: []Expr{first}}
	for p.got(Dot) {
		c.Parts = append(c.Parts, p.ident("data type"))
	}
	c.Span = p.span(start)
	return c
}

// typeofExpr parses EXPR [. EXPR]* of selectors.
func (p *parser) typeofExpr() Expr {
	start := p.peek().start
	first := p.orExpr(true)
	if p.peek().kind != Dot {
		return first
	}
	c := &Concat{Parts: []Expr{first}}
	for p.got(Dot) {
		c.Parts = append(c.Parts, p.orExpr(true))
	}
	c.Span = p.span(start)
	return c
}

func (p *parser) flowtableHead(start int32, verb string) *FlowtableBlock {
	f := &FlowtableBlock{Verb: verb}
	f.Name = p.ident("flowtable name")
	if p.peek().kind != LBrace {
		return f
	}
	f.Block = true
	p.i++
	p.blockItems(func() {
		for !p.endOfStmt() {
			p.flowtableItem(f)
		}
	})
	return f
}

func (p *parser) flowtableItem(f *FlowtableBlock) {
	t := p.peek()
	switch {
	case p.is("hook"):
		p.i++
		f.Hook = p.ident("hook name")
		if p.accept("priority") {
			f.Priority = p.prioExpr()
		}
	case p.is("priority"):
		p.i++
		f.Priority = p.prioExpr()
	case p.is("devices"):
		p.i++
		p.expect(Assign, "'='")
		f.Devices = p.devicesExpr()
	case p.is("counter"):
		p.i++
		f.Counter = true
	case p.is("flags"):
		f.Flags = p.flagsDecl()
	case p.is("comment"):
		p.i++
		f.Comment = p.ident("comment string")
	default:
		_ = t
		p.fail("flowtable property (hook, devices, counter, flags)")
	}
}

// objectHead parses NAME [{ lines }] of a named object.
func (p *parser) objectHead(start int32, verb, kind string) *ObjectBlock {
	ob := &ObjectBlock{Verb: verb, Kind: kind}
	ob.Name = p.ident(kind + " name")
	if p.peek().kind != LBrace {
		// command form: add counter t c [packets 0 bytes 0] / add quota t q 25 mbytes
		if !p.endOfStmt() {
			ls := p.peek().start
			l := &ObjLine{}
			for !p.endOfStmt() {
				l.Args = append(l.Args, p.objArg())
			}
			l.Span = p.span(ls)
			ob.Lines = append(ob.Lines, l)
		}
		return ob
	}
	ob.Block = true
	p.i++
	p.blockItems(func() {
		if p.is("comment") && (p.peekN(1).kind == String || p.peekN(1).kind == Var) {
			p.i++
			ob.Comment = p.ident("comment string")
			return
		}
		ob.Lines = append(ob.Lines, p.objLine())
	})
	return ob
}

// objLine parses one line of an object body; a '{' that does not follow
// '=' opens a nested block of lines.
func (p *parser) objLine() *ObjLine {
	ls := p.peek().start
	l := &ObjLine{}
	for !p.endOfStmt() {
		if p.peek().kind == LBrace && (len(l.Args) == 0 || !isAssign(l.Args[len(l.Args)-1])) {
			p.enter()
			p.i++
			for {
				p.skipNewlines()
				if p.got(RBrace) {
					break
				}
				if p.peek().kind == EOF {
					p.fail("'}'")
				}
				l.Block = append(l.Block, p.objLine())
			}
			p.leave()
			break
		}
		l.Args = append(l.Args, p.objArg())
	}
	l.Span = p.span(ls)
	return l
}

func isAssign(e Expr) bool {
	l, ok := e.(*Literal)
	return ok && l.Text == "="
}

func (p *parser) objArg() Expr {
	t := p.peek()
	switch t.kind {
	case Assign, Colon, Comma:
		p.i++
		return p.newLit(p.tokSpan(t), LitSymbol, p.text(t))
	}
	return p.cmdArg()
}

// ruleCmd parses [FAMILY] TABLE CHAIN [handle N|position N|index N] [RULE].
func (p *parser) ruleCmd(start int32, verb string) *RuleCmd {
	rc := &RuleCmd{Verb: verb, Family: p.family()}
	rc.Table = p.ident("table name")
	rc.Chain = p.ident("chain name")
	for _, w := range []string{"handle", "position", "index"} {
		if p.is(w) && p.peekN(1).kind == Number {
			p.i++
			n := p.next()
			rc.Where, rc.WhereVal = w, p.newLit(p.tokSpan(n), LitNumber, p.text(n))
			break
		}
	}
	if !p.endOfStmt() {
		rc.Rule = p.rule()
	}
	rc.Span = p.span(start)
	return rc
}

// rule parses statements up to the end of the line.
func (p *parser) rule() *Rule {
	start := p.peek().start
	r := p.newRule()
	base := len(p.stmtStack)
	defer func() { p.stmtStack = p.stmtStack[:base] }()
	for !p.endOfStmt() {
		if p.is("comment") && (p.peekN(1).kind == String || p.peekN(1).kind == Var) {
			p.i++
			r.Comment = p.ident("comment string")
			if !p.endOfStmt() {
				p.fail("end of rule after comment")
			}
			break
		}
		p.stmtStack = append(p.stmtStack, p.stmt())
	}
	r.Stmts = p.stmtArena(p.stmtStack[base:])
	if len(r.Stmts) == 0 && r.Comment == nil {
		p.fail("statement")
	}
	r.Span = p.span(start)
	return r
}

// newPath copies words into the selector arena. Paths of up to three
// words are shared: a big ruleset names the same few fields in every rule,
// and nothing changes a path once parsed.
func (p *parser) newPath(words ...string) []string {
	var key [3]string
	if len(words) <= len(key) {
		copy(key[:], words)
		if path, ok := p.pathCache[key]; ok && len(path) == len(words) {
			return path
		}
		defer func() { p.pathCache[key] = p.paths[len(p.paths)-len(words) : len(p.paths) : len(p.paths)] }()
		if p.pathCache == nil {
			p.pathCache = map[[3]string][]string{}
		}
	}
	if cap(p.paths)-len(p.paths) < len(words) {
		n := 4 * nextSlab(cap(p.paths)/4)
		if len(words) > n {
			n = len(words)
		}
		p.paths = make([]string, 0, n)
	}
	n := len(p.paths)
	p.paths = append(p.paths, words...)
	return p.paths[n:len(p.paths):len(p.paths)]
}

const slabSize = 1024

// nextSlab grows slabs from 16 elements to slabSize, so small inputs stay
// small.
func nextSlab(c int) int {
	switch {
	case c < 16:
		return 16
	case 2*c > slabSize:
		return slabSize
	}
	return 2 * c
}

func (p *parser) newLit(sp Span, k LitKind, text string) *Literal {
	if len(p.lits) == cap(p.lits) {
		p.lits = make([]Literal, 0, nextSlab(cap(p.lits)))
	}
	p.lits = append(p.lits, Literal{Span: sp, Kind: k, Text: text})
	return &p.lits[len(p.lits)-1]
}

func (p *parser) newSel(sp Span, path []string) *Selector {
	if len(p.sels) == cap(p.sels) {
		p.sels = make([]Selector, 0, nextSlab(cap(p.sels)))
	}
	p.sels = append(p.sels, Selector{Span: sp, Path: path})
	return &p.sels[len(p.sels)-1]
}

func (p *parser) newRel(sp Span, op string, l, r Expr) *Relational {
	if len(p.rels) == cap(p.rels) {
		p.rels = make([]Relational, 0, nextSlab(cap(p.rels)))
	}
	p.rels = append(p.rels, Relational{Span: sp, Op: op, Left: l, Right: r})
	return &p.rels[len(p.rels)-1]
}

func (p *parser) newExprStmt(sp Span, x Expr) *ExprStmt {
	if len(p.exprs) == cap(p.exprs) {
		p.exprs = make([]ExprStmt, 0, nextSlab(cap(p.exprs)))
	}
	p.exprs = append(p.exprs, ExprStmt{Span: sp, X: x})
	return &p.exprs[len(p.exprs)-1]
}

func (p *parser) newRule() *Rule {
	if len(p.rules) == cap(p.rules) {
		p.rules = make([]Rule, 0, nextSlab(cap(p.rules)))
	}
	p.rules = append(p.rules, Rule{})
	return &p.rules[len(p.rules)-1]
}

// stmtArena copies a statement list into the arena; the result has no
// spare capacity, so appending to it never overwrites a neighbour.
func (p *parser) stmtArena(l []Stmt) []Stmt {
	if len(l) == 0 {
		return nil
	}
	if cap(p.stmts)-len(p.stmts) < len(l) {
		n := 4 * nextSlab(cap(p.stmts)/4)
		if len(l) > n {
			n = len(l)
		}
		p.stmts = make([]Stmt, 0, n)
	}
	s := len(p.stmts)
	p.stmts = append(p.stmts, l...)
	return p.stmts[s:len(p.stmts):len(p.stmts)]
}

func (p *parser) newVerdict(sp Span, kind string) *VerdictStmt {
	if len(p.verdicts) == cap(p.verdicts) {
		p.verdicts = make([]VerdictStmt, 0, nextSlab(cap(p.verdicts)))
	}
	p.verdicts = append(p.verdicts, VerdictStmt{Span: sp, Kind: kind})
	return &p.verdicts[len(p.verdicts)-1]
}

func (p *parser) newCounter() *CounterStmt {
	if len(p.counters) == cap(p.counters) {
		p.counters = make([]CounterStmt, 0, nextSlab(cap(p.counters)))
	}
	p.counters = append(p.counters, CounterStmt{})
	return &p.counters[len(p.counters)-1]
}
