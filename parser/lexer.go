package parser

// Kind is the type of a token.
type Kind uint8

// Token kinds.
const (
	EOF     Kind = iota
	Newline      // end of line (statement separator)
	Semi         // ;
	Word         // bare word starting with a letter, '_' or '.'
	Number       // word starting with a digit (numbers, addresses, times)
	String       // "quoted" or 'quoted'
	Var          // $name
	At           // @
	LBrace       // {
	RBrace       // }
	LParen       // (
	RParen       // )
	LBrack       // [
	RBrack       // ]
	Comma        // ,
	Dot          // .
	Colon        // :
	Slash        // /
	Minus        // -
	Plus         // +
	Star         // *
	Assign       // =
	Eq           // ==
	Ne           // !=
	Lt           // <
	Gt           // >
	Le           // <=
	Ge           // >=
	Not          // !
	Amp          // &
	Pipe         // |
	Caret        // ^
	Shl          // <<
	Shr          // >>
	Tilde        // ~
	Illegal      // a byte the lexer does not understand
	Chunk        // one whole top-level command (the participle-level token)
	ElemRun      // a compact element list (see SetExpr): the items of `elements = { ... }`
)

var kindNames = [...]string{
	EOF: "end of file", Newline: "newline", Semi: "';'", Word: "word", Number: "number",
	String: "string", Var: "variable", At: "'@'", LBrace: "'{'", RBrace: "'}'",
	LParen: "'('", RParen: "')'", LBrack: "'['", RBrack: "']'", Comma: "','",
	Dot: "'.'", Colon: "':'", Slash: "'/'", Minus: "'-'", Plus: "'+'", Star: "'*'",
	Assign: "'='", Eq: "'=='", Ne: "'!='", Lt: "'<'", Gt: "'>'", Le: "'<='", Ge: "'>='",
	Not: "'!'", Amp: "'&'", Pipe: "'|'", Caret: "'^'", Shl: "'<<'", Shr: "'>>'",
	Tilde: "'~'", Illegal: "illegal character", Chunk: "command", ElemRun: "elements",
}

func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "token"
}

// tok is a compact token: its kind and byte range in the source. The text
// is a substring of the source, never a copy.
type tok struct {
	kind       Kind
	start, end int32
}

// scanner is the hand-written lexer. It reports comments through a
// callback-free list and never allocates per token.
type scanner struct {
	src      string
	off      int
	runs     map[int32][]int32 // compact element lists by start offset: item start,stop pairs
	comments []int32           // start,end pairs of '#' comments
	errs     []int32           // offsets of illegal bytes or unterminated strings
	errMsgs  []string
}

func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' }
func isDigit(c byte) bool  { return c >= '0' && c <= '9' }
func isHex(c byte) bool    { return isDigit(c) || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' }

// next returns the next token, skipping blanks, comments and line
// continuations.
func (s *scanner) next() tok {
	src := s.src
	for s.off < len(src) {
		c := src[s.off]
		switch {
		case c == ' ' || c == '\t' || c == '\r':
			s.off++
			continue
		case c == '\\' && s.off+1 < len(src) && (src[s.off+1] == '\n' || src[s.off+1] == '\r'):
			s.off += 2
			if s.off < len(src) && src[s.off-1] == '\r' && src[s.off] == '\n' {
				s.off++
			}
			continue
		case c == '#':
			st := s.off
			for s.off < len(src) && src[s.off] != '\n' {
				s.off++
			}
			s.comments = append(s.comments, int32(st), int32(s.off))
			continue
		}
		break
	}
	st := s.off
	if st >= len(src) {
		return tok{EOF, int32(st), int32(st)}
	}
	c := src[st]
	one := func(k Kind) tok { s.off++; return tok{k, int32(st), int32(st + 1)} }
	two := func(k Kind) tok { s.off += 2; return tok{k, int32(st), int32(st + 2)} }
	peek := byte(0)
	if st+1 < len(src) {
		peek = src[st+1]
	}
	switch c {
	case '\n':
		return one(Newline)
	case ';':
		return one(Semi)
	case '{':
		return one(LBrace)
	case '}':
		return one(RBrace)
	case '(':
		return one(LParen)
	case ')':
		return one(RParen)
	case '[':
		return one(LBrack)
	case ']':
		return one(RBrack)
	case ',':
		return one(Comma)
	case '/':
		return one(Slash)
	case '-':
		return one(Minus)
	case '+':
		return one(Plus)
	case '*':
		return one(Star)
	case '&':
		return one(Amp)
	case '|':
		return one(Pipe)
	case '^':
		return one(Caret)
	case '~':
		return one(Tilde)
	case '@':
		return one(At)
	case '=':
		if peek == '=' {
			return two(Eq)
		}
		return one(Assign)
	case '!':
		if peek == '=' {
			return two(Ne)
		}
		return one(Not)
	case '<':
		if peek == '=' {
			return two(Le)
		}
		if peek == '<' {
			return two(Shl)
		}
		return one(Lt)
	case '>':
		if peek == '=' {
			return two(Ge)
		}
		if peek == '>' {
			return two(Shr)
		}
		return one(Gt)
	case '"', '\'':
		e := st + 1
		for e < len(src) && src[e] != c && src[e] != '\n' {
			e++
		}
		if e >= len(src) || src[e] != c {
			s.addErr(st, "unterminated string")
			s.off = e
			return tok{String, int32(st), int32(e)}
		}
		s.off = e + 1
		return tok{String, int32(st), int32(e + 1)}
	case '$':
		e := st + 1
		for e < len(src) && (isLetter(src[e]) || isDigit(src[e]) || src[e] == '-' || src[e] == '.' && e+1 < len(src) && isLetter(src[e+1])) {
			e++
		}
		s.off = e
		return tok{Var, int32(st), int32(e)}
	case ':':
		if peek == ':' {
			return s.word(st, Number)
		}
		return one(Colon)
	case '.':
		return one(Dot)
	}
	if isDigit(c) {
		return s.word(st, Number)
	}
	if isLetter(c) {
		return s.word(st, Word)
	}
	s.off++
	s.addErr(st, "illegal character")
	return tok{Illegal, int32(st), int32(st + 1)}
}

// addErr records a lexical error; past a few hundred the rest are dropped
// (the parser reports them as unexpected tokens anyway).
func (s *scanner) addErr(off int, msg string) {
	if len(s.errs) < maxCollected {
		s.errs = append(s.errs, int32(off))
		s.errMsgs = append(s.errMsgs, msg)
	}
}

// ipv6Ahead reports whether the text at st looks like an IPv6 address or a
// MAC address (hex groups separated by ':').
func (s *scanner) ipv6Ahead(st int) bool {
	src := s.src
	e := st
	colons := 0
	for e < len(src) && (isHex(src[e]) || src[e] == ':' || src[e] == '.' && colons > 0) {
		if src[e] == ':' {
			colons++
		}
		e++
	}
	if colons == 0 {
		return false
	}
	// what follows must end the address: not a letter beyond hex
	if e < len(src) && (isLetter(src[e]) || src[e] == '-' && e+1 < len(src) && isLetter(src[e+1]) && !isHex(src[e+1])) {
		return false
	}
	// a single colon between two short groups is a map separator only when
	// spaced; "80:accept" has a letter after, rejected above.
	return true
}

// word scans a bare word or number starting at st.
func (s *scanner) word(st int, k Kind) tok {
	src := s.src
	e := st
	if k == Word && s.ipv6Ahead(st) {
		k = Number // an address spelled with hex letters: fe80::1, aa:bb:...
	}
	if k == Number {
		// digits, letters (units, hex), dots (ipv4), colons (ipv6, mac, time)
		dots := 0
		for e < len(src) {
			c := src[e]
			if isLetter(c) || isDigit(c) || c == '.' && e+1 < len(src) && (isDigit(src[e+1]) || isHex(src[e+1]) && dots > 0) {
				if c == '.' {
					dots++
				}
				e++
				continue
			}
			if c == ':' {
				// ipv4 address followed by :port is cut at the colon
				if dots == 3 && !containsColon(src[st:e]) {
					break
				}
				if e+1 < len(src) && (isHex(src[e+1]) || src[e+1] == ':') {
					e++
					continue
				}
				if e+1 < len(src) && src[e+1] == ']' || e > st && src[e-1] == ':' {
					e++
					continue
				}
				break
			}
			if c == '%' && containsColon(src[st:e]) { // fe80::1%eth0
				e++
				continue
			}
			break
		}
		s.off = e
		return tok{Number, int32(st), int32(e)}
	}
	for e < len(src) {
		c := src[e]
		if isLetter(c) || isDigit(c) || c == '-' || c == '.' || c == '/' {
			// a trailing '.' or '-' or '/' is not part of the word
			if (c == '.' || c == '-' || c == '/') && (e+1 >= len(src) || !(isLetter(src[e+1]) || isDigit(src[e+1]))) {
				break
			}
			if c == '/' && e+1 < len(src) && isDigit(src[e+1]) {
				break // $x/24 style prefixes never reach here, but w/24 ends the word
			}
			e++
			continue
		}
		break
	}
	s.off = e
	return tok{Word, int32(st), int32(e)}
}

func containsColon(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] == ':' {
			return true
		}
	}
	return false
}

// elemRun scans, just after the '{' of `elements = {`, a list of at least
// min elements each a Number, or a Number, '/' or '-' and a Number, on one
// line, separated by commas and newlines, up to the closing '}' (not
// consumed). It returns the start and stop offset of every element; when
// the list is shorter or holds anything else it returns nil and leaves the
// scanner where it was. The tokens are the scanner's own, so what it
// accepts is exactly what the element grammar parses into a literal, a
// prefix or a range.
func (s *scanner) elemRun(min int) []int32 {
	off, nc, ne := s.off, len(s.comments), len(s.errs)
	fail := func() []int32 {
		s.off, s.comments, s.errs, s.errMsgs = off, s.comments[:nc], s.errs[:ne], s.errMsgs[:ne]
		return nil
	}
	var items []int32
	for {
		t := s.next()
		for t.kind == Newline {
			t = s.next()
		}
		if t.kind == RBrace {
			break // after '{' or a trailing ','
		}
		if t.kind != Number {
			return fail()
		}
		start, stop := t.start, t.end
		t = s.next()
		if t.kind == Slash || t.kind == Minus {
			if t = s.next(); t.kind != Number {
				return fail()
			}
			stop = t.end
			t = s.next()
		}
		items = append(items, start, stop)
		for t.kind == Newline {
			t = s.next()
		}
		if t.kind == RBrace {
			break
		}
		if t.kind != Comma {
			return fail()
		}
	}
	if len(items) < 2*min || len(s.errs) > ne {
		return fail()
	}
	// the '}' and what precedes it are lexed again: forget their comments
	stop := items[len(items)-1]
	for len(s.comments) > nc && s.comments[len(s.comments)-2] >= stop {
		s.comments = s.comments[:len(s.comments)-2]
	}
	s.off = int(stop)
	return items
}
