package parser

import (
	"fmt"
	"io"
	"sort"

	"github.com/alecthomas/participle/v2"
	"github.com/alecthomas/participle/v2/lexer"
)

// Definition is the hand-written nft lexer exposed as a participle
// lexer.Definition. With Chunks set it emits one Chunk token per top-level
// command (what the file grammar consumes); otherwise it emits every token
// (newlines included, comments elided).
type Definition struct {
	Chunks bool
}

var _ lexer.StringDefinition = (*Definition)(nil)

// Symbols maps token type names to types, as participle requires.
func (d *Definition) Symbols() map[string]lexer.TokenType {
	m := map[string]lexer.TokenType{"EOF": lexer.EOF}
	for k := Newline; k <= Chunk; k++ {
		m[symbolName(k)] = lexer.TokenType(k)
	}
	return m
}

var symbolNames = [...]string{Newline: "Newline", Semi: "Semi", Word: "Word", Number: "Number",
	String: "String", Var: "Var", At: "At", LBrace: "LBrace", RBrace: "RBrace", LParen: "LParen",
	RParen: "RParen", LBrack: "LBrack", RBrack: "RBrack", Comma: "Comma", Dot: "Dot",
	Colon: "Colon", Slash: "Slash", Minus: "Minus", Plus: "Plus", Star: "Star",
	Assign: "Assign", Eq: "Eq", Ne: "Ne", Lt: "Lt", Gt: "Gt", Le: "Le", Ge: "Ge", Not: "Not",
	Amp: "Amp", Pipe: "Pipe", Caret: "Caret", Shl: "Shl", Shr: "Shr", Tilde: "Tilde",
	Illegal: "Illegal", Chunk: "Chunk"}

func symbolName(k Kind) string { return symbolNames[k] }

// Lex reads r and lexes it.
func (d *Definition) Lex(filename string, r io.Reader) (lexer.Lexer, error) {
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	return d.LexString(filename, string(b))
}

// LexString lexes s.
func (d *Definition) LexString(filename, s string) (lexer.Lexer, error) {
	src := NewSource(filename, s)
	toks, _ := lexAll(src, false)
	l := &tokenLexer{src: src, toks: toks}
	if d.Chunks {
		l.toks = chunks(toks)
		l.chunk = true
	}
	return l, nil
}

// tokenLexer replays a token slice as participle tokens.
type tokenLexer struct {
	src   *Source
	toks  []tok
	i     int
	chunk bool
}

func (l *tokenLexer) Next() (lexer.Token, error) {
	if l.i >= len(l.toks) {
		p := l.src.Position(len(l.src.Text))
		return lexer.EOFToken(lexer.Position{Filename: p.File, Offset: p.Offset, Line: p.Line, Column: p.Col}), nil
	}
	t := l.toks[l.i]
	l.i++
	if t.kind == EOF {
		l.i = len(l.toks)
		return l.Next()
	}
	p := l.src.Position(int(t.start))
	return lexer.Token{Type: lexer.TokenType(t.kind), Value: l.src.Text[t.start:t.end],
		Pos: lexer.Position{Filename: p.File, Offset: p.Offset, Line: p.Line, Column: p.Col}}, nil
}

// lexAll scans the whole source. Comments are returned as start,end pairs.
// With compact, long element lists become one ElemRun token each (see
// scanner.elemRun).
func lexAll(src *Source, compact bool) ([]tok, *scanner) {
	s := &scanner{src: src.Text}
	// A token per 5 bytes is right for rules; compact element lists take
	// far fewer, and the growth below adjusts to the rate seen.
	n := len(src.Text) / 5
	if compact {
		n = len(src.Text) / 40
	}
	toks := make([]tok, 0, n+16)
	for {
		if len(toks) == cap(toks) && s.off > 0 {
			// Grow once to what the rest of the text will need at the
			// rate seen so far, rather than by append's factors: big
			// element lists run at one token per 4 bytes, and each
			// regrowth of a 1,000,000-element list copies 50 MB.
			need := int(int64(len(toks)) * int64(len(src.Text)) / int64(s.off) * 21 / 20)
			grown := make([]tok, len(toks), max(need, len(toks)*5/4)+16)
			copy(grown, toks)
			toks = grown
		}
		t := s.next()
		toks = append(toks, t)
		if t.kind == EOF {
			return toks, s
		}
		if compact && t.kind == LBrace && CompactElementsMin > 0 && len(toks) >= 3 && toks[len(toks)-2].kind == Assign {
			if w := toks[len(toks)-3]; w.kind == Word && src.Text[w.start:w.end] == "elements" {
				if items := s.elemRun(CompactElementsMin); items != nil {
					if s.runs == nil {
						s.runs = map[int32][]int32{}
					}
					s.runs[items[0]] = items
					toks = append(toks, tok{ElemRun, items[0], items[len(items)-1]})
				}
			}
		}
	}
}

// chunks returns one Chunk token per top-level command: the tokens between
// separators (newline or ';' outside braces).
func chunks(toks []tok) []tok {
	var out []tok
	depth := 0
	first := -1
	for i, t := range toks {
		switch t.kind {
		case LBrace:
			depth++
		case RBrace:
			if depth > 0 {
				depth--
			}
		}
		end := t.kind == EOF || depth == 0 && (t.kind == Newline || t.kind == Semi)
		if end {
			if first >= 0 {
				out = append(out, tok{Chunk, toks[first].start, toks[i-1].end})
				first = -1
			}
			continue
		}
		if first < 0 {
			first = i
		}
	}
	return out
}

// fileGrammar is the participle grammar of a file: a sequence of
// commands, each a Chunk token parsed by the hand-written command
// production.
type fileGrammar struct {
	Commands []Command `parser:"@@*"`
}

// parseSource parses src into a File, collecting every error.
func parseSource(src *Source) (*File, ErrorList) {
	toks, sc := lexAll(src, true)
	p := &parser{src: src, toks: toks, limit: len(toks), runs: sc.runs, lazyRules: len(src.Text) >= LazyRulesMinSize}
	for i, off := range sc.errs {
		if i == maxCollected/2 {
			break
		}
		t := tok{Illegal, off, off + 1}
		p.errorAt(t, "%s", sc.errMsgs[i])
	}
	cmdParser, err := participle.Build[fileGrammar](
		participle.Lexer(&Definition{Chunks: true}),
		participle.ParseTypeWith(func(pl *lexer.PeekingLexer) (Command, error) {
			if len(p.pending) > 0 {
				c := p.pending[0]
				p.pending = p.pending[1:]
				return c, nil
			}
			ct := pl.Peek()
			if ct.Type != lexer.TokenType(Chunk) {
				return nil, participle.NextMatch
			}
			pl.Next()
			return p.parseChunk(ct.Pos.Offset, ct.Pos.Offset+len(ct.Value)), nil
		}),
	)
	if err != nil {
		panic("parser: building the participle grammar: " + err.Error())
	}
	pl, err := lexer.Upgrade(&tokenLexer{src: src, toks: chunks(toks)})
	if err != nil {
		panic("parser: " + err.Error())
	}
	var g *fileGrammar
	stopped := false
	func() {
		defer func() {
			if r := recover(); r != nil {
				if _, ok := r.(tooMany); !ok {
					panic(r)
				}
				stopped = true
			}
		}()
		g, err = cmdParser.ParseFromLexer(pl)
	}()
	if stopped {
		g, err = &fileGrammar{Commands: p.pending}, nil
		p.errs = append(p.errs, &Error{Pos: src.Position(len(src.Text)), End: src.Position(len(src.Text)),
			Msg: fmt.Sprintf("too many errors (%d), stopped", maxCollected)})
	}
	f := &File{Span: Span{Src: src, Start: 0, Stop: int32(len(src.Text))}, Name: src.Name}
	if g != nil {
		f.Commands = g.Commands
	}
	if err != nil {
		pos := src.Position(len(src.Text))
		if pe, ok := err.(participle.Error); ok {
			pp := pe.Position()
			pos = src.Position(pp.Offset)
		}
		p.errs = append(p.errs, &Error{Pos: pos, End: pos, Msg: err.Error(), Line: src.Line(pos.Line)})
	}
	for i := 0; i+1 < len(sc.comments); i += 2 {
		s, e := sc.comments[i], sc.comments[i+1]
		f.Comments = append(f.Comments, &Comment{Span: Span{Src: src, Start: s, Stop: e}, Text: src.Text[s:e]})
	}
	p.errs.Sort()
	return f, p.errs
}

// parseChunk runs the hand-written command production over the tokens of
// one top-level command, recovering from errors. When an unbalanced brace
// made the chunk span several commands, the ones after the first are
// queued in p.pending.
func (p *parser) parseChunk(start, end int) Command {
	lo := sort.Search(len(p.toks), func(i int) bool { return int(p.toks[i].start) >= start })
	hi := sort.Search(len(p.toks), func(i int) bool { return int(p.toks[i].start) >= end })
	p.i, p.limit, p.depth = lo, hi, 0
	defer func() { p.limit = len(p.toks) }()
	var first Command
	for p.i < hi {
		c := p.oneCommand(hi)
		if first == nil {
			first = c
		} else {
			p.pending = append(p.pending, c)
		}
		p.skipNewlines()
	}
	if first == nil {
		first = &BadNode{Span: Span{Src: p.src, Start: int32(start), Stop: int32(end)}}
	}
	return first
}

func (p *parser) oneCommand(hi int) (cmd Command) {
	start := p.i
	defer func() {
		if r := recover(); r != nil {
			if _, ok := r.(bail); !ok {
				panic(r)
			}
			errAt := p.i
			p.i = start
			p.recoverFrom(errAt)
			if p.i <= start {
				p.i = start + 1
			}
			st := p.toks[start].start
			stop := st
			if p.i-1 < len(p.toks) && p.i > start {
				stop = p.toks[p.i-1].end
			}
			cmd = &BadNode{Span: Span{Src: p.src, Start: st, Stop: stop}}
		}
	}()
	p.depth = 0
	cmd = p.command()
	if p.i < hi && p.peek().kind != Newline && p.peek().kind != Semi {
		p.fail("newline or ';'")
	}
	return cmd
}
