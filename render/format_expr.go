package render

import (
	"strings"

	"github.com/nftflow/nftflow/parser"
)

// expr prints an expression with nft's spacing.
func (p *formatter) expr(e parser.Expr) {
	switch e := e.(type) {
	case nil:
	case *parser.Literal:
		p.ws(e.Text)
	case *parser.Ident:
		p.ws(e.Text)
	case *parser.Selector:
		raw := -1
		for i, w := range e.Path {
			if strings.HasPrefix(w, "@") {
				raw = i
				break
			}
		}
		if raw < 0 {
			raw = len(e.Path)
		}
		for i, w := range e.Path {
			switch {
			case i == 0:
			case i <= raw:
				p.buf.WriteByte(' ')
			default:
				p.buf.WriteByte(',')
			}
			p.buf.WriteString(w)
		}
	case *parser.Primary:
		p.ws(e.Keyword)
		for _, a := range e.Args {
			p.ws(" ")
			p.expr(a)
		}
	case *parser.VarRef:
		p.ws("$", e.Name)
	case *parser.SetRef:
		p.ws("@", e.Name)
	case *parser.Prefix:
		p.expr(e.X)
		p.ws("/", e.Len.Text)
	case *parser.Range:
		p.expr(e.Lo)
		if rangeLoTakesMinus(e.Lo) {
			p.ws(" - ") // "A-0" would read back as one word
		} else {
			p.ws("-")
		}
		p.expr(e.Hi)
	case *parser.Binary:
		p.expr(e.X)
		p.ws(" ", e.Op, " ")
		p.expr(e.Y)
	case *parser.Unary:
		p.ws(e.Op)
		p.expr(e.X)
	case *parser.Paren:
		p.ws("(")
		p.expr(e.X)
		p.ws(")")
	case *parser.Concat:
		for i, x := range e.Parts {
			if i > 0 {
				p.ws(" . ")
			}
			p.expr(x)
		}
	case *parser.List:
		for i, x := range e.Elems {
			if i > 0 {
				p.ws(",")
			}
			p.expr(x)
		}
	case *parser.SetExpr:
		p.setExpr(e, false)
	case *parser.Elem:
		// nft lists an element's statements, then timeout, expires and
		// comment
		p.expr(e.Key)
		for _, s := range e.Stmts {
			p.ws(" ")
			p.stmt(s)
		}
		for _, key := range [...]string{"timeout", "expires", "comment"} {
			for _, o := range e.Opts {
				if o.Key == key {
					p.ws(" ")
					p.option(o)
				}
			}
		}
	case *parser.MapElem:
		p.expr(e.Key)
		p.ws(" : ")
		p.expr(e.Value)
	case *parser.MapLookup:
		p.expr(e.Key)
		p.ws(" ", e.Kind, " ")
		p.expr(e.Map)
	case *parser.Relational:
		p.expr(e.Left)
		if e.Op != "" {
			p.ws(" ", e.Op)
		}
		p.ws(" ")
		p.expr(e.Right)
	case *parser.Verdict:
		p.ws(e.Kind)
		if e.Target != nil {
			p.ws(" ", e.Target.Text)
		}
	case *parser.Quantity:
		p.quantity(e)
	case *parser.BadNode:
		p.ws(e.Text())
	}
}

func (p *formatter) quantity(q *parser.Quantity) {
	if q == nil {
		return
	}
	p.ws(q.Value.Text)
	if q.Unit != "" {
		p.ws(" ", q.Unit)
	}
	if q.Per != "" {
		p.ws("/", q.Per)
	}
}

func (p *formatter) option(o *parser.Option) {
	p.ws(o.Key)
	for i, a := range o.Args {
		if i > 0 || o.Key != "" {
			p.ws(" ")
		}
		p.expr(a)
	}
}

func (p *formatter) options(os []*parser.Option) {
	for _, o := range os {
		p.ws(" ")
		p.option(o)
	}
}

// stmt prints a statement.
func (p *formatter) stmt(s parser.Stmt) {
	switch s := s.(type) {
	case *parser.ExprStmt:
		p.expr(s.X)
	case *parser.VerdictStmt:
		p.ws(s.Kind)
		if s.Target != nil {
			p.ws(" ", s.Target.Text)
		}
		if s.Chain != nil {
			p.ws(" {\n")
			p.chainBody(s.Chain)
			p.tabs()
			p.ws("}")
		}
		p.options(s.Opts)
	case *parser.CounterStmt:
		p.ws("counter")
		if s.Packets != nil {
			p.ws(" packets ", s.Packets.Text)
		}
		if s.Bytes != nil {
			p.ws(" bytes ", s.Bytes.Text)
		}
	case *parser.LogStmt:
		p.ws("log")
		p.options(s.Opts)
	case *parser.LimitStmt:
		p.ws("limit rate ")
		if s.Over {
			p.ws("over ")
		}
		p.quantity(s.Rate)
		if s.Burst != nil {
			p.ws(" burst ")
			p.quantity(s.Burst)
		}
	case *parser.QuotaStmt:
		p.ws("quota ")
		if s.Mode != "" {
			p.ws(s.Mode, " ")
		}
		p.quantity(s.Quota)
		if s.Used != nil {
			p.ws(" used ")
			p.quantity(s.Used)
		}
	case *parser.RejectStmt:
		p.ws("reject")
		if len(s.With) > 0 {
			p.ws(" with")
			for _, w := range s.With {
				p.ws(" ")
				p.expr(w)
			}
		}
	case *parser.NatStmt:
		p.ws(s.Kind)
		if s.Family != "" {
			p.ws(" ", s.Family)
		}
		if s.Prefix {
			p.ws(" prefix")
		}
		if s.AddrPort {
			p.ws(" addr . port")
		}
		if s.To {
			p.ws(" to")
		}
		if s.Addr != nil || s.Port != nil {
			p.ws(" ")
		}
		if s.Addr != nil {
			p.expr(s.Addr)
		}
		if s.Port != nil {
			p.ws(":")
			p.expr(s.Port)
		}
		if s.Flags != nil {
			p.ws(" ")
			p.expr(s.Flags)
		}
	case *parser.SetStmt:
		p.expr(s.Left)
		p.ws(" set ")
		p.expr(s.Value)
	case *parser.NotrackStmt:
		p.ws("notrack")
	case *parser.DupStmt:
		p.fwdLike("dup", s.Family, s.To, s.Device)
	case *parser.FwdStmt:
		p.fwdLike("fwd", s.Family, s.To, s.Device)
	case *parser.TproxyStmt:
		p.ws("tproxy")
		if s.Family != "" {
			p.ws(" ", s.Family)
		}
		p.ws(" to ")
		if s.Addr != nil {
			p.expr(s.Addr)
		}
		if s.Port != nil {
			p.ws(":")
			p.expr(s.Port)
		}
	case *parser.SynproxyStmt:
		p.ws("synproxy")
		p.options(s.Opts)
	case *parser.DynsetStmt:
		switch {
		case s.OldSyntax:
			p.ws("set ", s.Op, " ")
			p.expr(s.Key)
			p.ws(" ")
			p.expr(s.Set)
			return
		case s.Op == "meter":
			p.ws("meter ")
			p.expr(s.Set)
			if s.Value != nil {
				p.ws(" size ")
				p.expr(s.Value)
			}
			p.ws(" { ")
			p.expr(s.Key)
		default:
			p.ws(s.Op, " ")
			p.expr(s.Set)
			p.ws(" { ")
			p.expr(s.Key)
			if s.Value != nil {
				p.ws(" : ")
				p.expr(s.Value)
			}
		}
		for _, st := range s.Stmts {
			p.ws(" ")
			p.stmt(st)
		}
		p.ws(" }")
	case *parser.FlowStmt:
		p.ws("flow ", s.Op, " ")
		p.expr(s.Ft)
	case *parser.ObjRefStmt:
		switch s.Kind {
		case "ct helper", "ct timeout", "ct expectation":
			p.ws(s.Kind, " set ")
		case "secmark":
			p.ws("meta secmark set ")
		default:
			p.ws(s.Kind, " name ")
		}
		p.expr(s.Name)
	case *parser.XtStmt:
		p.ws("xt ", s.Kind, " ", s.Name)
	case *parser.LastStmt:
		p.ws("last")
		if s.Used != nil {
			p.ws(" used ")
			p.expr(s.Used)
		}
	case *parser.ConnlimitStmt:
		p.ws("ct count ")
		if s.Over {
			p.ws("over ")
		}
		p.ws(s.Count.Text)
	case *parser.GenericStmt:
		p.ws(s.Keyword)
		for _, a := range s.Args {
			p.ws(" ")
			p.expr(a)
		}
	case *parser.BadNode:
		p.ws(s.Text())
	}
}

func (p *formatter) fwdLike(kw, family string, to, dev parser.Expr) {
	p.ws(kw)
	if family != "" {
		p.ws(" ", family)
	}
	if to != nil {
		p.ws(" to ")
		p.expr(to)
	}
	if dev != nil {
		p.ws(" device ")
		p.expr(dev)
	}
}

// rangeLoTakesMinus reports whether the low end of a range ends in a word
// (a symbol, $variable, @set or selector) that the lexer would extend
// with a "-" written right after it: such a range is printed spaced.
func rangeLoTakesMinus(e parser.Expr) bool {
	switch x := e.(type) {
	case *parser.Literal:
		return x.Kind == parser.LitSymbol
	case *parser.Unary:
		return rangeLoTakesMinus(x.X)
	case *parser.Prefix, *parser.Paren, *parser.Range:
		return false
	}
	return true
}
