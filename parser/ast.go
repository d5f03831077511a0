package parser

import (
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
)

// Pos is a resolved source position. Line and Col are 1-based; Col counts
// bytes. Offset is the 0-based byte offset in File.
type Pos struct {
	File   string
	Offset int
	Line   int
	Col    int
}

// String formats the position as file:line:col (file omitted when empty).
func (p Pos) String() string {
	s := strconv.Itoa(p.Line) + ":" + strconv.Itoa(p.Col)
	if p.File != "" {
		s = p.File + ":" + s
	}
	return s
}

// IsValid reports whether the position was set.
func (p Pos) IsValid() bool { return p.Line > 0 }

// Source is one input text with its line table. Nodes keep a pointer to
// their Source and byte offsets, so a position costs no memory until asked
// for.
type Source struct {
	Name  string
	Text  string
	lines []int32 // offsets of line starts
	// hint is the line of the last position asked for: compilers walk a
	// file forwards, so most lookups land on it or the next line.
	hint atomic.Int32
}

// NewSource builds the line table of text.
func NewSource(name, text string) *Source {
	s := &Source{Name: name, Text: text}
	s.lines = make([]int32, 1, 64+len(text)/40)
	for i := 0; i < len(text); i++ {
		if text[i] == '\n' {
			s.lines = append(s.lines, int32(i+1))
		}
	}
	return s
}

// Position resolves a byte offset to a Pos.
func (s *Source) Position(off int) Pos {
	if s == nil {
		return Pos{}
	}
	if off > len(s.Text) {
		off = len(s.Text)
	}
	i := s.lineIndex(off)
	return Pos{File: s.Name, Offset: off, Line: i + 1, Col: off - int(s.lines[i]) + 1}
}

// lineIndex returns the 0-based line holding offset off (0 <= off <=
// len(Text)).
func (s *Source) lineIndex(off int) int {
	ls := s.lines
	if h := int(s.hint.Load()); h < len(ls) && int(ls[h]) <= off {
		if h+1 == len(ls) || off < int(ls[h+1]) {
			return h
		}
		if h+2 == len(ls) || off < int(ls[h+2]) {
			s.hint.Store(int32(h + 1))
			return h + 1
		}
	}
	lo, hi := 0, len(ls) // the answer is the last i with ls[i] <= off
	for hi-lo > 1 {
		m := int(uint(lo+hi) >> 1)
		if int(ls[m]) <= off {
			lo = m
		} else {
			hi = m
		}
	}
	s.hint.Store(int32(lo))
	return lo
}

// Line returns the text of 1-based line n without its newline.
func (s *Source) Line(n int) string {
	if s == nil || n < 1 || n > len(s.lines) {
		return ""
	}
	start := int(s.lines[n-1])
	end := len(s.Text)
	if n < len(s.lines) {
		end = int(s.lines[n]) - 1
	}
	return s.Text[start:end]
}

// Node is any AST node: it knows where it starts and ends.
type Node interface {
	Pos() Pos // first byte of the node
	End() Pos // the byte just after the node
}

// Span is the source range of a node. It is embedded in every node and
// implements Node.
type Span struct {
	Src         *Source
	Start, Stop int32
}

// Pos returns the start position.
func (s Span) Pos() Pos { return s.Src.Position(int(s.Start)) }

// End returns the position just after the node.
func (s Span) End() Pos { return s.Src.Position(int(s.Stop)) }

// Text returns the source text the node covers.
func (s Span) Text() string {
	if s.Src == nil || int(s.Stop) > len(s.Src.Text) || s.Start > s.Stop {
		return ""
	}
	return s.Src.Text[s.Start:s.Stop]
}

// Offset returns the start byte offset.
func (s Span) Offset() int { return int(s.Start) }

// EndOffset returns the byte offset just after the node.
func (s Span) EndOffset() int { return int(s.Stop) }

// ---------------------------------------------------------------------------
// File and commands

// File is one parsed input file.
type File struct {
	Span
	Name     string
	Commands []Command
	// Comments holds every '#' comment of the file in source order; the
	// printer interleaves them with the nodes by offset.
	Comments []*Comment
}

// Comment is one '#' comment, Text including the '#'.
type Comment struct {
	Span
	Text string
}

// Command is a top-level statement of an nft file.
type Command interface {
	Node
	commandNode()
}

// TableItem is a declaration inside a table block.
type TableItem interface {
	Node
	tableItem()
}

// Ident is a name as written: a bare word, a quoted string (Text keeps the
// quotes) or a $variable.
type Ident struct {
	Span
	Text string
}

// Name returns the identifier without surrounding quotes.
func (i *Ident) Name() string {
	if i == nil {
		return ""
	}
	return Unquote(i.Text)
}

// IsVar reports whether the identifier is a $variable reference.
func (i *Ident) IsVar() bool { return i != nil && strings.HasPrefix(i.Text, "$") }

// Unquote strips one pair of surrounding double or single quotes.
func Unquote(s string) string {
	if len(s) >= 2 && (s[0] == '"' && s[len(s)-1] == '"' || s[0] == '\'' && s[len(s)-1] == '\'') {
		return s[1 : len(s)-1]
	}
	return s
}

// TableBlock is `table FAMILY NAME { ... }` (Verb is "" for the bare
// declarative form, else "add", "create", ...: `add table ip t { }`).
type TableBlock struct {
	Span
	// Block is true when the declaration has a { } body.
	Block  bool
	Verb   string
	Family string // "" when omitted (ip)
	Name   *Ident
	Items  []TableItem // in source order
}

// FlagsDecl is `flags a, b` (table, chain, set, flowtable).
type FlagsDecl struct {
	Span
	Flags []*Ident
}

// CommentDecl is `comment "text"` as a declaration line.
type CommentDecl struct {
	Span
	Text *Ident
}

// ChainBlock is `chain NAME { ... }`.
type ChainBlock struct {
	Span
	// Block is true when the declaration has a { } body.
	Block    bool
	Verb     string // "" inside a table block; else the command verb
	Family   string // only for the command form
	Table    *Ident // only for the command form
	Name     *Ident
	Type     *Ident // base chain type: filter, nat, route
	Hook     *Ident
	Device   Expr // device "eth0" or devices = { ... }
	Devices  bool // Device was written as devices = ...
	Priority Expr
	Policy   Expr
	Comment  *Ident
	Flags    *FlagsDecl
	// RuleList holds the rules. In a big file (LazyRulesMinSize) each
	// rule is checked when parsed and then kept as its source span only:
	// its entry is nil until Rules builds it. Read them with Rules, Rule
	// and NumRules.
	RuleList []*Rule
	// HeaderEnd is the offset where the base chain header (type ... ;
	// policy ...;) ends; rules follow it.
	HeaderEnd int32
	spans     []int32 // lazy chains: start and stop offset of every rule
	once      sync.Once
	reparse   *parser // Rule's parser: its node slabs serve every rule
}

// LazyRulesMinSize is the file size from which rules are kept as spans
// and parsed again when read (see ChainBlock): the syntax tree of 100,000
// rules is about 60 MB, their spans 0.8 MB.
var LazyRulesMinSize = 1 << 20

// NumRules returns the number of rules.
func (c *ChainBlock) NumRules() int { return len(c.RuleList) }

// Rules returns the rules, parsing the ones kept as spans on the first
// call (the tree as a full parse makes it).
func (c *ChainBlock) Rules() []*Rule {
	if c.spans != nil {
		c.once.Do(func() {
			for i, r := range c.RuleList {
				if r == nil {
					c.RuleList[i] = c.parseRule(i)
				}
			}
		})
	}
	return c.RuleList
}

// Rule returns rule i; one kept as a span is parsed anew on each call and
// not kept (a compiler going through a big chain once). Rule is not safe
// for concurrent use.
func (c *ChainBlock) Rule(i int) *Rule {
	if r := c.RuleList[i]; r != nil {
		return r
	}
	return c.parseRule(i)
}

// RuleSpan returns the source span of rule i.
func (c *ChainBlock) RuleSpan(i int) Span {
	if c.spans != nil {
		return Span{Src: c.Src, Start: c.spans[2*i], Stop: c.spans[2*i+1]}
	}
	return c.RuleList[i].Span
}

// ReleaseRules lets the rules go (a compiler done with them).
func (c *ChainBlock) ReleaseRules() { c.RuleList, c.spans, c.reparse = nil, nil, nil }

func (c *ChainBlock) parseRule(i int) *Rule {
	if c.reparse == nil {
		c.reparse = &parser{src: c.Src}
	}
	p := c.reparse
	start, stop := int(c.spans[2*i]), int(c.spans[2*i+1])
	sc := &scanner{src: c.Src.Text, off: start}
	p.toks = p.toks[:0]
	for sc.off < stop {
		p.toks = append(p.toks, sc.next())
	}
	p.i, p.limit = 0, len(p.toks)
	return p.rule()
}

// SetBlock is `set NAME { ... }` or `map NAME { ... }`.
type SetBlock struct {
	Span
	// Block is true when the declaration has a { } body.
	Block      bool
	Verb       string
	Family     string
	Table      *Ident
	IsMap      bool
	Meter      bool // listed as `meter NAME { ... }` (a set with the meter flag)
	Name       *Ident
	Typeof     bool // key written as typeof EXPR rather than type T
	Key        Expr // data type names (Literal/Concat) or typeof expressions
	Data       Expr // maps: the data type (or typeof expression)
	Interval   bool // map data is "interval TYPE"
	Flags      *FlagsDecl
	Timeout    Expr
	GCInterval Expr
	Size       Expr
	Policy     Expr
	AutoMerge  bool
	Stmts      []Stmt // per-element statements: counter, quota, limit, last
	Elements   *SetExpr
	Comment    *Ident
	// Order lists the declaration keywords in source order (type, typeof,
	// flags, timeout, gc-interval, size, policy, auto-merge, counter,
	// elements, comment, ...), for faithful printing.
	Order []string
}

// FlowtableBlock is `flowtable NAME { hook ingress priority P; devices = {...}; }`.
type FlowtableBlock struct {
	Span
	// Block is true when the declaration has a { } body.
	Block    bool
	Verb     string
	Family   string
	Table    *Ident
	Name     *Ident
	Hook     *Ident
	Priority Expr
	Devices  Expr
	Counter  bool
	Flags    *FlagsDecl
	Comment  *Ident
}

// ObjectBlock is a named stateful object: counter, quota, limit,
// ct helper, ct timeout, ct expectation, synproxy, secmark, tunnel.
type ObjectBlock struct {
	Span
	// Block is true when the declaration has a { } body.
	Block   bool
	Verb    string
	Family  string
	Table   *Ident
	Kind    string // "counter", "quota", "ct helper", ...
	Name    *Ident
	Comment *Ident
	// Lines are the body's statements as written, one per line or
	// ';'-separated piece; each is a sequence of words and expressions
	// (e.g. [type "sip" protocol tcp], [policy = { ... }]).
	Lines []*ObjLine
}

// ObjLine is one statement of an object body.
type ObjLine struct {
	Span
	Args []Expr
	// Block holds the lines of a nested block that ends the line, e.g.
	// the `geneve { class 0x1 opt-type 0x1 data "..." }` of a tunnel.
	Block []*ObjLine
}

// RuleCmd is `add|insert|replace|create|delete|destroy|reset rule FAMILY TABLE CHAIN [handle N|position N|index N] RULE`.
type RuleCmd struct {
	Span
	Verb     string
	Family   string
	Table    *Ident
	Chain    *Ident
	Where    string // "", "handle", "position" or "index"
	WhereVal *Literal
	Rule     *Rule // nil for delete rule ... handle N
}

// CmdStmt is any other command: `VERB OBJECT [FAMILY] [TABLE [NAME]] [handle N] [ARGS]`,
// e.g. `flush ruleset`, `delete table ip t`, `list sets`,
// `add element ip t s { 1.2.3.4 }`, `flush chain ip t c`.
type CmdStmt struct {
	Span
	Verb   string   // add, create, insert, replace, delete, destroy, flush, reset, list, rename, describe, monitor, export, import
	Object []string // "ruleset", "table", "chain", "set", "element", "ct helper", ...
	Family string
	Args   []Expr // the remaining words, names, handles and sets, as written
}

// Include is `include "path"`; Files are filled in by ParseFile when it
// follows includes.
type Include struct {
	Span
	Path  *Ident
	Files []*File
}

// Define is `define NAME = VALUE` (Redefine for `redefine`).
type Define struct {
	Span
	Redefine bool
	Name     string
	NameSpan Span
	Value    Expr
}

// Undefine is `undefine NAME`.
type Undefine struct {
	Span
	Name string
}

// Rule is one rule: a sequence of statements, optionally ending in
// `comment "..."`.
type Rule struct {
	Span
	Stmts   []Stmt
	Comment *Ident
}

func (*TableBlock) commandNode()     {}
func (*ChainBlock) commandNode()     {}
func (*SetBlock) commandNode()       {}
func (*FlowtableBlock) commandNode() {}
func (*ObjectBlock) commandNode()    {}
func (*RuleCmd) commandNode()        {}
func (*CmdStmt) commandNode()        {}
func (*Include) commandNode()        {}
func (*Define) commandNode()         {}
func (*Undefine) commandNode()       {}
func (*BadNode) commandNode()        {}

func (*FlagsDecl) tableItem()      {}
func (*CommentDecl) tableItem()    {}
func (*ChainBlock) tableItem()     {}
func (*SetBlock) tableItem()       {}
func (*FlowtableBlock) tableItem() {}
func (*ObjectBlock) tableItem()    {}
func (*Define) tableItem()         {}
func (*BadNode) tableItem()        {}

// BadNode stands for input that failed to parse (after error recovery).
type BadNode struct {
	Span
}

// ---------------------------------------------------------------------------
// Expressions

// Expr is an nft expression.
type Expr interface {
	Node
	exprNode()
}

// LitKind classifies a literal token.
type LitKind uint8

// Literal kinds.
const (
	LitSymbol LitKind = iota // a bare word: accept, established, eth0, tcp
	LitNumber                // starts with a digit: 22, 0x10, 10m, 1.2.3.4, 2001:db8::1
	LitString                // a quoted string, Text keeps the quotes
	LitAddr                  // an address that starts with a letter: fe80::1, aa:bb:cc:dd:ee:ff
)

// Literal is a constant as written.
type Literal struct {
	Span
	Kind LitKind
	Text string
}

// Value returns the literal without quotes.
func (l *Literal) Value() string { return Unquote(l.Text) }

// Selector is a keyword path naming a packet or metadata field:
// ["ip","saddr"], ["tcp","option","maxseg","size"], ["ct","original","ip","saddr"],
// ["meta","l4proto"], ["iifname"] (implicit meta). Raw payload
// expressions (@th,160,32) are Selectors with Path ["@th","160","32"].
type Selector struct {
	Span
	Path []string
}

// Head returns the first keyword of the path.
func (s *Selector) Head() string {
	if len(s.Path) == 0 {
		return ""
	}
	return s.Path[0]
}

// Field returns the path joined by spaces ("ip saddr").
func (s *Selector) Field() string { return strings.Join(s.Path, " ") }

// Primary is a function-like expression with keywords and arguments:
// fib saddr . iif oif, numgen inc mod 2 offset 100, jhash ip saddr mod 2
// seed 0x1, symhash mod 2, osf ttl loose name, socket transparent,
// ipsec in spi, exthdr hbh exists. Keyword names the kind; Args holds the
// rest in order (keywords as Literal symbols, sub-expressions as Exprs).
type Primary struct {
	Span
	Keyword string
	Args    []Expr
}

// VarRef is $name.
type VarRef struct {
	Span
	Name string
}

// SetRef is @name.
type SetRef struct {
	Span
	Name string
}

// Prefix is X/Len.
type Prefix struct {
	Span
	X   Expr
	Len *Literal
}

// Range is Lo-Hi.
type Range struct {
	Span
	Lo, Hi Expr
}

// Binary is X Op Y for the bitwise and shift operators & | ^ << >> (also
// the word forms and/or/xor, kept as written in Op) and the priority
// arithmetic + -.
type Binary struct {
	Span
	Op   string
	X, Y Expr
}

// Unary is a prefix operator: ! (not) and ~ and - (sign).
type Unary struct {
	Span
	Op string
	X  Expr
}

// Paren is (X).
type Paren struct {
	Span
	X Expr
}

// Concat is A . B . C.
type Concat struct {
	Span
	Parts []Expr
}

// List is a comma-separated list without braces: established,related or
// the flags of `tcp flags syn / syn,ack`.
type List struct {
	Span
	Elems []Expr
}

// SetExpr is { a, b, c }: an anonymous set or map, or the elements of a
// named one.
//
// A long `elements = { ... }` list of plain values, prefixes and ranges
// (CompactElementsMin or more, nothing else) is kept compact: the source
// span of each element and no syntax tree, 8 bytes an element instead of
// about 150. Elems builds the tree on first use; compilers that know the
// form read the spans (Compact, ElemSpan) and never build it.
type SetExpr struct {
	Span
	// Items are the elements; each may be an *Elem, a *MapElem or a bare
	// Expr. Of a compact list they are nil until Elems builds them: read
	// them with Elems.
	Items   []Expr
	compact []int32 // compact lists: start and stop offset of each element
	once    sync.Once
}

// CompactElementsMin is the length from which a set declaration's element
// list is kept compact (see SetExpr).
var CompactElementsMin = 1024

// NewSetExpr returns the set expression of elems spanning span.
func NewSetExpr(span Span, elems []Expr) *SetExpr {
	return &SetExpr{Span: span, Items: elems}
}

// Elems returns the elements. For a compact list they are parsed from the
// source on the first call (a syntax tree as if never compact).
func (s *SetExpr) Elems() []Expr {
	if s.compact != nil {
		s.once.Do(func() {
			s.Items = make([]Expr, len(s.compact)/2)
			p := &parser{src: s.Src} // one parser: its node slabs are shared
			for i := range s.Items {
				s.Items[i] = s.parseElem(p, i)
			}
		})
	}
	return s.Items
}

// Len returns the number of elements.
func (s *SetExpr) Len() int {
	if s.compact != nil {
		return len(s.compact) / 2
	}
	return len(s.Items)
}

// Compact reports whether the list is compact: every element is a single
// value, a prefix (A/N) or a range (A-B) of number-like words, and
// ElemSpan and ElemText read them without a syntax tree.
func (s *SetExpr) Compact() bool { return s.compact != nil }

// ElemSpan returns the source span of element i.
func (s *SetExpr) ElemSpan(i int) Span {
	if s.compact != nil {
		return Span{Src: s.Src, Start: s.compact[2*i], Stop: s.compact[2*i+1]}
	}
	e := s.Items[i]
	return Span{Src: s.Src, Start: int32(e.Pos().Offset), Stop: int32(e.End().Offset)}
}

// Elem returns element i of a compact list as a syntax tree, parsed anew on
// each call (for the few elements a compiler cannot take from the text);
// of any other list, the element itself.
func (s *SetExpr) Elem(i int) Expr {
	if s.compact == nil {
		return s.Items[i]
	}
	return s.parseElem(&parser{src: s.Src}, i)
}

// parseElem parses element i of a compact list with the parser's own
// element production, so the tree is the one a full parse makes.
func (s *SetExpr) parseElem(p *parser, i int) Expr {
	start, stop := int(s.compact[2*i]), int(s.compact[2*i+1])
	sc := &scanner{src: s.Src.Text, off: start}
	p.toks = p.toks[:0]
	for sc.off < stop {
		p.toks = append(p.toks, sc.next())
	}
	p.i, p.limit = 0, len(p.toks)
	return p.setElem(false)
}

// Elem is a set element with options: KEY timeout 10s expires 5s
// comment "x" counter packets 0 bytes 0.
type Elem struct {
	Span
	Key   Expr
	Opts  []*Option // timeout, expires, comment
	Stmts []Stmt    // counter, quota, limit, last
}

// MapElem is KEY : VALUE inside a map or vmap.
type MapElem struct {
	Span
	Key   Expr
	Value Expr
}

// MapLookup is KEY map MAP or KEY vmap MAP (MAP a *SetExpr, *SetRef or *VarRef).
type MapLookup struct {
	Span
	Key  Expr
	Kind string // "map" or "vmap"
	Map  Expr
}

// Relational is Left Op Right. Op is "" for an implicit match (ip saddr
// 10.0.0.1), else as written: == != < > <= >= eq ne lt gt le ge, or
// "!" for a negated flag test (`ct status ! dnat`). The masked flag test
// `tcp flags syn / syn,ack` is an implicit Relational whose Right is a
// Binary with Op "/".
type Relational struct {
	Span
	Op          string
	Left, Right Expr
}

// Verdict is a verdict used as a value (in vmaps): accept, drop,
// jump CHAIN, goto CHAIN, continue, return, queue.
type Verdict struct {
	Span
	Kind   string
	Target *Ident
}

// Quantity is a number with a unit: 25 mbytes, 10/second,
// 10 mbytes/second, 5 packets.
type Quantity struct {
	Span
	Value *Literal
	Unit  string // "", bytes, kbytes, mbytes, packets
	Per   string // "" or second, minute, hour, day, week
}

// Option is a KEY ARGS... pair inside a statement or element:
// prefix "x", level warn, burst 5 packets, timeout 10s, flags tcp sequence.
type Option struct {
	Span
	Key  string
	Args []Expr
}

func (*Literal) exprNode()    {}
func (*Selector) exprNode()   {}
func (*Primary) exprNode()    {}
func (*VarRef) exprNode()     {}
func (*SetRef) exprNode()     {}
func (*Prefix) exprNode()     {}
func (*Range) exprNode()      {}
func (*Binary) exprNode()     {}
func (*Unary) exprNode()      {}
func (*Paren) exprNode()      {}
func (*Concat) exprNode()     {}
func (*List) exprNode()       {}
func (*SetExpr) exprNode()    {}
func (*Elem) exprNode()       {}
func (*MapElem) exprNode()    {}
func (*MapLookup) exprNode()  {}
func (*Relational) exprNode() {}
func (*Verdict) exprNode()    {}
func (*Quantity) exprNode()   {}
func (*Ident) exprNode()      {}
func (*BadNode) exprNode()    {}

// ---------------------------------------------------------------------------
// Statements

// Stmt is one statement of a rule.
type Stmt interface {
	Node
	stmtNode()
}

// ExprStmt is a match: a Relational, or a bare expression (e.g. a map
// lookup used for its side effect, `exthdr hbh exists`).
type ExprStmt struct {
	Span
	X Expr
}

// VerdictStmt is accept, drop, continue, return, jump C, goto C, or
// queue [flags F] [num N[-M]] [to EXPR]; vmap verdicts are MapLookups in an
// ExprStmt.
type VerdictStmt struct {
	Span
	Kind   string
	Target *Ident    // jump/goto
	Opts   []*Option // queue: flags, num, to
	// Chain is the anonymous chain of `jump { ... }` / `goto { ... }`
	// (a chain binding); Target is nil then.
	Chain *ChainBlock
}

// CounterStmt is `counter [packets N bytes M]`; the named form
// `counter name X` is an ObjRefStmt.
type CounterStmt struct {
	Span
	Packets, Bytes *Literal
}

// LogStmt is `log` with options prefix, level, group, snaplen,
// queue-threshold, flags.
type LogStmt struct {
	Span
	Opts []*Option
}

// LimitStmt is `limit rate [over] N/unit [burst B unit]`.
type LimitStmt struct {
	Span
	Over  bool
	Rate  *Quantity
	Burst *Quantity
}

// QuotaStmt is `quota [over|until] N unit [used M unit]`.
type QuotaStmt struct {
	Span
	Mode  string // "", "over", "until"
	Quota *Quantity
	Used  *Quantity
}

// RejectStmt is `reject [with icmp|icmpv6|icmpx|tcp TYPE]`.
type RejectStmt struct {
	Span
	With []Expr // e.g. [icmp, port-unreachable], [tcp, reset]
}

// NatStmt is snat, dnat, masquerade or redirect:
// `snat [ip|ip6] [to] ADDR[:PORT] [flags]`, `redirect to :PORT`.
type NatStmt struct {
	Span
	Kind   string // snat, dnat, masquerade, redirect
	Family string // "", ip, ip6
	Prefix bool   // snat ip prefix to ...
	// AddrPort is set for `dnat ip addr . port to MAP`: the map data is an
	// address and a port.
	AddrPort bool
	To       bool  // the "to" keyword was written
	Addr     Expr  // nil when absent
	Port     Expr  // after ':'; nil when absent
	Flags    *List // random, fully-random, persistent, netmap
	FlagsKw  bool  // flags written with no keyword (masquerade random) vs after addr
}

// SetStmt assigns a field: `meta mark set X`, `ct mark set X`,
// `ip dscp set X`, `tcp option maxseg size set rt mtu`, `ct helper set "ftp"`.
type SetStmt struct {
	Span
	Left  Expr
	Value Expr
}

// NotrackStmt is `notrack`.
type NotrackStmt struct{ Span }

// DupStmt is `dup [to] ADDR [device DEV]`.
type DupStmt struct {
	Span
	Family string // "" or ip/ip6 (`dup ip to ...`)
	To     Expr
	Device Expr
}

// FwdStmt is `fwd [ip|ip6] to EXPR [device DEV]`.
type FwdStmt struct {
	Span
	Family string
	To     Expr
	Device Expr
}

// TproxyStmt is `tproxy [ip|ip6] to [ADDR][:PORT]`.
type TproxyStmt struct {
	Span
	Family string
	Addr   Expr
	Port   Expr
}

// SynproxyStmt is `synproxy [mss N] [wscale N] [timestamp] [sack-perm]`.
type SynproxyStmt struct {
	Span
	Opts []*Option
}

// DynsetStmt is `add|update|delete @set { KEY [stmts] }` (also the old
// `set add KEY @set` form, OldSyntax) or `meter NAME { ... }`.
type DynsetStmt struct {
	Span
	Op        string // add, update, delete, meter
	Set       Expr   // *SetRef (or the meter name as *Ident)
	Key       Expr
	Value     Expr // map dynsets: add @m { k : v }
	Stmts     []Stmt
	OldSyntax bool
	Braces    bool // key written inside { }
}

// FlowStmt is `flow add @ft` / `flow offload @ft`.
type FlowStmt struct {
	Span
	Op string // add, offload
	Ft Expr
}

// ObjRefStmt references a named object: `counter name X`, `quota name X`,
// `limit name X`, `synproxy name X`, `tunnel name X`, `ct helper set X`,
// `ct timeout set X`, `ct expectation set X`, `meta secmark set X`.
type ObjRefStmt struct {
	Span
	Kind string // counter, quota, limit, synproxy, tunnel, ct helper, ct timeout, ct expectation, secmark
	Name Expr
}

// XtStmt is an iptables-nft compat statement `xt match|target NAME`.
type XtStmt struct {
	Span
	Kind string
	Name string
}

// LastStmt is `last [used never|used TIME]`.
type LastStmt struct {
	Span
	Used Expr
}

// ConnlimitStmt is `ct count [over] N`.
type ConnlimitStmt struct {
	Span
	Over  bool
	Count *Literal
}

// GenericStmt is a keyword statement this parser knows only by shape:
// the keyword and its arguments as written.
type GenericStmt struct {
	Span
	Keyword string
	Args    []Expr
}

func (*ExprStmt) stmtNode()      {}
func (*VerdictStmt) stmtNode()   {}
func (*CounterStmt) stmtNode()   {}
func (*LogStmt) stmtNode()       {}
func (*LimitStmt) stmtNode()     {}
func (*QuotaStmt) stmtNode()     {}
func (*RejectStmt) stmtNode()    {}
func (*NatStmt) stmtNode()       {}
func (*SetStmt) stmtNode()       {}
func (*NotrackStmt) stmtNode()   {}
func (*DupStmt) stmtNode()       {}
func (*FwdStmt) stmtNode()       {}
func (*TproxyStmt) stmtNode()    {}
func (*SynproxyStmt) stmtNode()  {}
func (*DynsetStmt) stmtNode()    {}
func (*FlowStmt) stmtNode()      {}
func (*ObjRefStmt) stmtNode()    {}
func (*XtStmt) stmtNode()        {}
func (*LastStmt) stmtNode()      {}
func (*ConnlimitStmt) stmtNode() {}
func (*GenericStmt) stmtNode()   {}
func (*BadNode) stmtNode()       {}
