package render

import (
	"bytes"
	"sort"
	"strings"

	"github.com/nftflow/nftflow/parser"
)

// FormatFile prints a parsed file in the canonical layout of
// `nft list ruleset`: tab indentation, one statement a line, table items in
// the order nft lists them (flags and comment, objects, sets and maps,
// flowtables, chains), nft's spacing and element wrapping. Expressions are
// printed as written; comments and defines are kept.
func FormatFile(f *parser.File) []byte {
	p := &formatter{comments: f.Comments, done: make([]bool, len(f.Comments))}
	if f.Src != nil {
		p.src = f.Src.Text
		p.buf.Grow(len(p.src) + len(p.src)/8)
	}
	prevStop := int32(-1)
	for _, c := range f.Commands {
		st := int32(c.(interface{ Offset() int }).Offset())
		prevStop = p.topLeading(prevStop, st)
		if prevStop >= 0 && p.blankBefore(prevStop, st) {
			p.buf.WriteByte('\n')
		}
		p.command(c)
		stop := nodeStop(c)
		p.trailing(stop)
		p.buf.WriteByte('\n')
		prevStop = stop
	}
	p.topLeading(prevStop, 1<<31-1)
	return p.buf.Bytes()
}

// topLeading prints the top-level comments in [lo, hi) keeping one blank
// line where the source had blank lines; it returns the end of the last
// thing printed (lo when nothing was, -1 for the start of the file).
func (p *formatter) topLeading(lo, hi int32) int32 {
	for i, c := range p.comments {
		if p.done[i] || c.Start < lo || c.Start >= hi {
			continue
		}
		p.done[i] = true
		if lo >= 0 && p.blankBefore(lo, c.Start) {
			p.buf.WriteByte('\n')
		}
		p.ws(c.Text, "\n")
		lo = c.Stop
	}
	return lo
}

// FormatExpr prints one expression as nft writes it.
func FormatExpr(e parser.Expr) string {
	p := &formatter{}
	p.expr(e)
	return p.buf.String()
}

// FormatStmt prints one statement as nft writes it.
func FormatStmt(s parser.Stmt) string {
	p := &formatter{}
	p.stmt(s)
	return p.buf.String()
}

// FormatRule prints one rule on one line (chain bindings excepted).
func FormatRule(r *parser.Rule) string {
	p := &formatter{}
	p.rule(r)
	return p.buf.String()
}

type formatter struct {
	buf      bytes.Buffer
	indent   int
	src      string
	comments []*parser.Comment
	done     []bool
	// elemDelim is the separator after an element of the set being
	// printed (", " or the wrapping form), computed per named set.
	wrapEvery int  // elements per line; 0 = never wrap
	forceWrap bool // every element on its own line
}

func nodeStop(n parser.Node) int32 {
	if s, ok := n.(interface{ EndOffset() int }); ok {
		return int32(s.EndOffset())
	}
	return int32(n.End().Offset)
}

func (p *formatter) tabs() {
	for i := 0; i < p.indent; i++ {
		p.buf.WriteByte('\t')
	}
}

func (p *formatter) ws(s ...string) {
	for _, x := range s {
		p.buf.WriteString(x)
	}
}

// blankBefore reports whether the source had an empty line between two
// top-level commands.
func (p *formatter) blankBefore(lo, hi int32) bool {
	if p.src == "" || hi > int32(len(p.src)) || lo >= hi {
		return false
	}
	gap := p.src[lo:hi]
	// a blank line: two newlines with only blanks between them
	nl := -1
	for i := 0; i < len(gap); i++ {
		switch gap[i] {
		case '\n':
			if nl >= 0 {
				return true
			}
			nl = i
		case ' ', '\t', '\r':
		default:
			nl = -1
		}
	}
	return false
}

// leading prints the unprinted comments that start in [lo, hi), each on
// its own line at the current indentation.
func (p *formatter) leading(lo, hi int32) {
	for i, c := range p.comments {
		if p.done[i] || c.Start < lo || c.Start >= hi {
			continue
		}
		p.done[i] = true
		p.tabs()
		p.ws(c.Text, "\n")
	}
}

// trailing appends a comment that starts on the same line right after
// offset stop.
func (p *formatter) trailing(stop int32) {
	if p.src == "" {
		return
	}
	for i, c := range p.comments {
		if p.done[i] || c.Start < stop {
			continue
		}
		if gap := p.src[stop:c.Start]; strings.Trim(gap, " \t;") == "" {
			p.done[i] = true
			if gap == "\t" {
				p.ws("\t", c.Text)
			} else {
				p.ws(" ", c.Text)
			}
		}
		return
	}
}

func (p *formatter) ident(i *parser.Ident) {
	if i != nil {
		p.buf.WriteString(i.Text)
	}
}

func (p *formatter) spec(verb, obj, family string, table *parser.Ident) {
	if verb != "" {
		p.ws(verb, " ")
	}
	p.ws(obj, " ")
	if family != "" {
		p.ws(family, " ")
	}
	if table != nil {
		p.ident(table)
		p.buf.WriteByte(' ')
	}
}

func (p *formatter) command(c parser.Command) {
	switch c := c.(type) {
	case *parser.TableBlock:
		p.table(c)
	case *parser.ChainBlock:
		p.spec(c.Verb, "chain", c.Family, c.Table)
		p.chain(c)
	case *parser.SetBlock:
		obj := "set"
		if c.IsMap {
			obj = "map"
		}
		p.spec(c.Verb, obj, c.Family, c.Table)
		p.set(c)
	case *parser.FlowtableBlock:
		p.spec(c.Verb, "flowtable", c.Family, c.Table)
		p.flowtable(c)
	case *parser.ObjectBlock:
		p.spec(c.Verb, c.Kind, c.Family, c.Table)
		p.object(c)
	case *parser.RuleCmd:
		verb := c.Verb
		if verb != "" {
			p.ws(verb, " ")
		}
		p.ws("rule ")
		if c.Family != "" {
			p.ws(c.Family, " ")
		}
		p.ident(c.Table)
		p.ws(" ")
		p.ident(c.Chain)
		if c.Where != "" {
			p.ws(" ", c.Where, " ", c.WhereVal.Text)
		}
		if c.Rule != nil {
			p.ws(" ")
			p.rule(c.Rule)
		}
	case *parser.CmdStmt:
		if c.Verb != "" {
			p.ws(c.Verb, " ")
		}
		p.ws(strings.Join(c.Object, " "))
		if c.Family != "" {
			p.ws(" ", c.Family)
		}
		for _, a := range c.Args {
			p.ws(" ")
			p.expr(a)
		}
	case *parser.Include:
		p.ws("include ")
		p.ident(c.Path)
	case *parser.Define:
		if c.Redefine {
			p.ws("redefine ")
		} else {
			p.ws("define ")
		}
		p.ws(c.Name, " = ")
		p.expr(c.Value)
	case *parser.Undefine:
		p.ws("undefine ", c.Name)
	case *parser.BadNode:
		p.ws(c.Text())
	}
}

// itemRank orders table items like nft lists them.
func itemRank(it parser.TableItem) int {
	switch it.(type) {
	case *parser.FlagsDecl:
		return 0
	case *parser.CommentDecl:
		return 1
	case *parser.Define:
		return 2
	case *parser.ObjectBlock:
		return 3
	case *parser.SetBlock:
		return 4
	case *parser.FlowtableBlock:
		return 5
	case *parser.ChainBlock:
		return 6
	}
	return 7
}

func (p *formatter) table(t *parser.TableBlock) {
	p.spec(t.Verb, "table", t.Family, nil)
	p.ident(t.Name)
	if !t.Block {
		return
	}
	p.openBrace(t.Name.Stop)
	p.indent++
	// the end of the previous item in source order, for comment placement
	prevStop := make(map[parser.TableItem]int32, len(t.Items))
	last := t.Name.Stop
	for _, it := range t.Items {
		prevStop[it] = last
		last = nodeStop(it)
	}
	items := append([]parser.TableItem(nil), t.Items...)
	sort.SliceStable(items, func(i, j int) bool { return itemRank(items[i]) < itemRank(items[j]) })
	for i, it := range items {
		if i > 0 && (itemRank(items[i-1]) > 2 || itemRank(it) > 2) {
			p.buf.WriteByte('\n')
		}
		p.leading(prevStop[it], int32(it.Pos().Offset))
		p.tabs()
		switch it := it.(type) {
		case *parser.FlagsDecl:
			p.flags(it)
		case *parser.CommentDecl:
			p.ws("comment ")
			p.ident(it.Text)
		case *parser.Define:
			p.command(it)
		case *parser.ChainBlock:
			p.ws("chain ")
			p.chain(it)
		case *parser.SetBlock:
			switch {
			case it.Meter:
				p.ws("meter ")
			case it.IsMap:
				p.ws("map ")
			default:
				p.ws("set ")
			}
			p.set(it)
		case *parser.FlowtableBlock:
			p.ws("flowtable ")
			p.flowtable(it)
		case *parser.ObjectBlock:
			p.ws(it.Kind, " ")
			p.object(it)
		case *parser.BadNode:
			p.ws(it.Text())
		}
		p.trailing(nodeStop(it))
		p.buf.WriteByte('\n')
	}
	p.leading(last, t.Stop)
	p.indent--
	p.tabs()
	p.ws("}")
}

func (p *formatter) flags(f *parser.FlagsDecl) {
	p.ws("flags ")
	for i, x := range f.Flags {
		if i > 0 {
			p.ws(",")
		}
		p.ident(x)
	}
}

// line starts an indented line inside a block.
func (p *formatter) line(s ...string) {
	p.tabs()
	p.ws(s...)
}

func (p *formatter) chain(c *parser.ChainBlock) {
	p.ident(c.Name)
	if !c.Block {
		return
	}
	p.openBrace(c.Name.Stop)
	p.chainBody(c)
	p.tabs()
	p.ws("}")
}

func (p *formatter) chainBody(c *parser.ChainBlock) {
	p.indent++
	last := c.Start
	if c.Name != nil {
		last = c.Name.Stop
	}
	if c.Comment != nil {
		p.leading(last, c.Comment.Start)
		p.line("comment ")
		p.ident(c.Comment)
		p.trailing(c.Comment.Stop)
		p.ws("\n")
	}
	if c.Type != nil || c.Policy != nil || c.Device != nil {
		if c.HeaderEnd > last {
			p.leading(last, c.HeaderEnd)
		}
		p.tabs()
		sep := ""
		if c.Type != nil {
			p.ws("type ")
			p.ident(c.Type)
			p.ws(" hook ")
			p.ident(c.Hook)
			sep = " "
		}
		if c.Device != nil {
			if c.Devices {
				p.ws(sep, "devices = ")
			} else {
				p.ws(sep, "device ")
			}
			p.expr(c.Device)
			sep = " "
		}
		if c.Priority != nil {
			p.ws(sep, "priority ")
			p.expr(c.Priority)
		}
		if c.Type != nil || c.Priority != nil {
			p.ws(";")
			sep = " "
		}
		if c.Policy != nil {
			p.ws(sep, "policy ")
			p.expr(c.Policy)
			p.ws(";")
		}
		if c.Flags != nil {
			// nft lists a base chain's flags on its header line
			p.ws(" ")
			p.flags(c.Flags)
			p.ws(";")
		}
		if c.HeaderEnd > 0 {
			p.trailing(c.HeaderEnd)
		}
		p.ws("\n")
	} else if c.Flags != nil {
		p.tabs()
		p.flags(c.Flags)
		p.ws(";\n")
	}
	if c.HeaderEnd > last {
		last = c.HeaderEnd
	}
	for _, r := range c.Rules() {
		p.leading(last, r.Start)
		p.tabs()
		p.rule(r)
		p.trailing(r.Stop)
		p.ws("\n")
		last = r.Stop
	}
	p.leading(last, c.Stop)
	p.indent--
}

func (p *formatter) rule(r *parser.Rule) {
	for i, s := range r.Stmts {
		if i > 0 {
			p.ws(" ")
		}
		p.stmt(s)
	}
	if r.Comment != nil {
		if len(r.Stmts) > 0 {
			p.ws(" ")
		}
		p.ws("comment ")
		p.ident(r.Comment)
	}
}

func (p *formatter) set(s *parser.SetBlock) {
	p.ident(s.Name)
	if !s.Block {
		return
	}
	p.openBrace(s.Name.Stop)
	p.indent++
	if s.Key != nil {
		last := s.Key
		if s.Data != nil {
			last = s.Data
		}
		p.prop(s.Start, s.Key, last, func() {
			if s.Typeof {
				p.ws("typeof ")
			} else {
				p.ws("type ")
			}
			p.expr(s.Key)
			if s.Data != nil {
				p.ws(" : ")
				if s.Interval {
					p.ws("interval ")
				}
				p.expr(s.Data)
			}
		})
	}
	if s.Policy != nil {
		p.prop(s.Start, s.Policy, s.Policy, func() { p.ws("policy "); p.expr(s.Policy) })
	}
	if s.Size != nil {
		p.prop(s.Start, s.Size, s.Size, func() { p.ws("size "); p.expr(s.Size) })
	}
	if s.Flags != nil {
		p.prop(s.Start, s.Flags, s.Flags, func() { p.flags(s.Flags) })
	}
	if len(s.Stmts) > 0 {
		p.prop(s.Start, s.Stmts[0], s.Stmts[len(s.Stmts)-1], func() {
			for i, st := range s.Stmts {
				if i > 0 {
					p.ws(" ")
				}
				p.stmt(st)
			}
		})
	}
	if s.AutoMerge {
		p.line("auto-merge\n")
	}
	if s.Timeout != nil {
		p.prop(s.Start, s.Timeout, s.Timeout, func() { p.ws("timeout "); p.expr(s.Timeout) })
	}
	if s.GCInterval != nil {
		p.prop(s.Start, s.GCInterval, s.GCInterval, func() { p.ws("gc-interval "); p.expr(s.GCInterval) })
	}
	if s.Comment != nil {
		p.prop(s.Start, s.Comment, s.Comment, func() { p.ws("comment "); p.ident(s.Comment) })
	}
	if s.Elements != nil {
		p.prop(s.Start, s.Elements, s.Elements, func() {
			p.ws("elements = ")
			p.wrapEvery, p.forceWrap = elementWrap(s)
			p.setExpr(s.Elements, true)
			p.wrapEvery, p.forceWrap = 0, false
		})
	}
	p.leading(s.Start, s.Stop)
	p.indent--
	p.tabs()
	p.ws("}")
}

// prop prints one property line of a block: the comments that precede
// the property in the source (since the block start), the line, and a
// comment that follows it on the same source line.
func (p *formatter) prop(blockStart int32, first, last parser.Node, body func()) {
	p.leading(blockStart, int32(first.Pos().Offset))
	p.tabs()
	body()
	p.trailing(nodeStop(last))
	p.ws("\n")
}

// openBrace writes " {" and a comment that followed the brace on its
// source line (stop is the end of the node before the brace).
func (p *formatter) openBrace(stop int32) {
	p.ws(" {")
	if p.src != "" && stop >= 0 && int(stop) <= len(p.src) {
		for i, c := range p.comments {
			if p.done[i] || c.Start < stop {
				continue
			}
			if gap := strings.TrimSpace(p.src[stop:c.Start]); gap == "{" {
				p.done[i] = true
				p.ws(" ", c.Text)
			}
			break
		}
	}
	p.ws("\n")
}

// elementWrap decides how nft wraps the elements of a named set: every
// element on its own line for maps, concatenations, timeouts, comments
// and per-element statements; otherwise by key type, 5 a line for
// integer-like types, 2 for addresses and conntrack states, 1 for the
// rest.
func elementWrap(s *parser.SetBlock) (every int, force bool) {
	if s.IsMap || s.Timeout != nil || len(s.Stmts) > 0 {
		return 0, true
	}
	if _, ok := s.Key.(*parser.Concat); ok {
		return 0, true
	}
	if s.Flags != nil {
		for _, f := range s.Flags.Flags {
			if f.Name() == "timeout" {
				return 0, true
			}
		}
	}
	if s.Elements != nil {
		for _, e := range s.Elements.Elems() {
			if el, ok := e.(*parser.Elem); ok {
				for _, o := range el.Opts {
					if o.Key == "comment" {
						return 0, true
					}
				}
			}
		}
	}
	switch keyClass(s) {
	case "int":
		return 5, false
	case "addr":
		return 2, false
	}
	return 1, false
}

func keyClass(s *parser.SetBlock) string {
	var name string
	switch k := s.Key.(type) {
	case *parser.Ident:
		name = k.Name()
	case *parser.Literal:
		name = k.Value()
	case *parser.Selector:
		return selectorClass(k)
	case *parser.Primary:
		return "int"
	}
	switch name {
	case "nf_proto", "integer", "arp_op", "inet_proto", "inet_service", "tcp_flag", "dccp_pkttype",
		"mark", "iface_index", "classid", "uid", "gid", "ct_dir":
		return "int"
	case "ipv4_addr", "ct_state", "ct_status", "pkt_type":
		return "addr"
	}
	return ""
}

// selectorClass classifies a typeof key by the field's data type: most
// header fields are integers; addresses, interface names and strings are
// not.
func selectorClass(k *parser.Selector) string {
	if c, ok := typeofClass[k.Field()]; ok {
		return keyClass(&parser.SetBlock{Key: &parser.Literal{Text: c}})
	}
	last := k.Path[len(k.Path)-1]
	switch last {
	case "saddr", "daddr":
		if k.Path[0] == "ip" || len(k.Path) > 2 && k.Path[len(k.Path)-2] == "ip" {
			return "addr"
		}
		return ""
	case "sport", "dport":
		return "int"
	case "label", "helper", "secpath":
		return ""
	}
	if strings.HasSuffix(last, "name") || strings.HasPrefix(k.Path[0], "@") {
		return ""
	}
	return "int"
}

var typeofClass = map[string]string{
	"meta mark": "mark", "ct mark": "mark", "mark": "mark", "meta l4proto": "inet_proto",
	"ip protocol": "inet_proto", "ip6 nexthdr": "inet_proto", "meta nfproto": "nf_proto",
	"iif": "iface_index", "oif": "iface_index", "meta iif": "iface_index", "meta oif": "iface_index",
	"ct state": "ct_state", "ct status": "ct_status", "meta pkttype": "pkt_type", "pkttype": "pkt_type",
	"meta skuid": "uid", "meta skgid": "gid", "skuid": "uid", "skgid": "gid", "ct direction": "ct_dir",
	"tcp flags": "tcp_flag", "meta cpu": "integer", "ct zone": "integer", "vlan id": "integer",
	"meta length": "integer", "ip ttl": "integer", "ip length": "integer", "meta priority": "classid",
	"arp operation": "arp_op", "ip6 hoplimit": "integer", "meta protocol": "ether_type",
	"ether type": "ether_type", "meta ipsec": "boolean", "ct helper": "string",
	"ip dscp": "dscp", "ip6 dscp": "dscp", "ip ecn": "ecn", "ip6 ecn": "ecn", "icmp type": "icmp_type",
	"icmpv6 type": "icmpv6_type", "icmp code": "icmp_code", "icmpv6 code": "icmpv6_code",
	"icmpx code": "icmpx_code", "vlan type": "ether_type", "meta iiftype": "iface_type",
	"meta oiftype": "iface_type", "iiftype": "iface_type", "oiftype": "iface_type", "meta day": "day",
	"meta hour": "hour", "meta time": "time", "dccp type": "dccp_pkttype", "igmp type": "igmp_type",
	"ct l3proto": "nf_proto", "ct protocol": "inet_proto", "ct event": "ct_event",
	"meta nftrace": "integer", "ip6 flowlabel": "integer", "ct expiration": "time",
}

// setExpr prints { a, b } with the element wrapping of a named set when
// named is set.
func (p *formatter) setExpr(s *parser.SetExpr, named bool) {
	if len(s.Elems()) == 0 {
		p.ws("{ }")
		return
	}
	p.ws("{ ")
	count := 0
	wrapEvery, force := p.wrapEvery, p.forceWrap
	p.wrapEvery, p.forceWrap = 0, false // nested sets never wrap
	for i, e := range s.Elems() {
		if i > 0 {
			if named && (force || wrapEvery > 0 && count >= wrapEvery || wrapEvery == 1) {
				p.ws(",\n\t\t\t     ")
				count = 0
			} else {
				p.ws(", ")
			}
		}
		p.expr(e)
		count++
	}
	p.ws(" }")
}

func (p *formatter) flowtable(f *parser.FlowtableBlock) {
	p.ident(f.Name)
	if !f.Block {
		return
	}
	p.openBrace(f.Name.Stop)
	p.indent++
	if f.Hook != nil || f.Priority != nil {
		var first, last parser.Node = f.Hook, f.Priority
		if f.Hook == nil {
			first = f.Priority
		}
		if f.Priority == nil {
			last = f.Hook
		}
		p.prop(f.Start, first, last, func() {
			sep := ""
			if f.Hook != nil {
				p.ws("hook ")
				p.ident(f.Hook)
				sep = " "
			}
			if f.Priority != nil {
				p.ws(sep, "priority ")
				p.expr(f.Priority)
			}
		})
	}
	if f.Devices != nil {
		p.prop(f.Start, f.Devices, f.Devices, func() { p.ws("devices = "); p.expr(f.Devices) })
	}
	if f.Flags != nil {
		p.prop(f.Start, f.Flags, f.Flags, func() { p.flags(f.Flags) })
	}
	if f.Counter {
		p.line("counter\n")
	}
	if f.Comment != nil {
		p.prop(f.Start, f.Comment, f.Comment, func() { p.ws("comment "); p.ident(f.Comment) })
	}
	p.leading(f.Start, f.Stop)
	p.indent--
	p.tabs()
	p.ws("}")
}

func (p *formatter) object(o *parser.ObjectBlock) {
	p.ident(o.Name)
	if !o.Block {
		for _, l := range o.Lines {
			p.ws(" ")
			p.objLine(l)
		}
		return
	}
	p.openBrace(o.Name.Stop)
	p.indent++
	if o.Comment != nil {
		p.line("comment ")
		p.ident(o.Comment)
		p.ws("\n")
	}
	for _, l := range o.Lines {
		p.leading(o.Start, l.Start)
		p.tabs()
		p.objLine(l)
		p.trailing(l.Stop)
		p.ws("\n")
	}
	p.leading(o.Start, o.Stop)
	p.indent--
	p.tabs()
	p.ws("}")
}

func (p *formatter) objLine(l *parser.ObjLine) {
	for i, a := range l.Args {
		if i > 0 {
			p.ws(" ")
		}
		p.expr(a)
	}
	if l.Block != nil || strings.HasSuffix(l.Text(), "}") && len(l.Block) == 0 && !endsWithSet(l) {
		if len(l.Args) > 0 {
			p.ws(" ")
		}
		p.ws("{\n")
		p.indent++
		for _, b := range l.Block {
			p.tabs()
			p.objLine(b)
			p.ws("\n")
		}
		p.indent--
		p.tabs()
		p.ws("}")
	}
}

func endsWithSet(l *parser.ObjLine) bool {
	if len(l.Args) == 0 {
		return false
	}
	_, ok := l.Args[len(l.Args)-1].(*parser.SetExpr)
	return ok
}
