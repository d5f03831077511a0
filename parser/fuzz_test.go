package parser_test

import (
	"bytes"
	"os"
	"strings"
	"testing"

	"github.com/nftflow/nftflow/internal/corpus"
	"github.com/nftflow/nftflow/parser"
	"github.com/nftflow/nftflow/render"
)

// FuzzParse: no input may panic or hang the parser; every error carries a
// position inside the input; and when an input parses, its formatted form
// parses again and formats to itself.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"table ip t { chain c { ip saddr 1.2.3.4 accept } }",
		"table inet f {\n\tset s { type ipv4_addr; flags interval; elements = { 10.0.0.0/8, 1.2.3.4-1.2.3.9 } }\n}\n",
		"define x = { 1, 2 }\ntable t { chain c { tcp dport $x counter packets 0 bytes 0 drop comment \"x\" } }",
		"add rule ip t c position 3 ct state established,related accept\nflush ruleset\n",
		"table ip t { chain c { tcp flags & (syn | ack) == syn jump { accept } } }",
		"table netdev n { flowtable f { hook ingress priority filter + 10; devices = { lo, \"eth0\" }; counter } }",
		"table ip t { map m { type ipv4_addr : verdict; elements = { 1.1.1.1 : accept, * : drop } } }",
		"table ip t { chain c { snat ip to ip saddr map { 10.0.0.0/8 : 1.2.3.4-1.2.3.8 } \\\n } }",
		"table ip t { ct timeout x { protocol tcp; policy = { established : 2m, close : 1s } } }",
		"include \"a.nft\"\n# comment\n",
		"table ip t { chain c { ip saddr { { { { 1 } } } } } }",
	} {
		f.Add([]byte(s))
	}
	if dir, err := corpus.Dir(); err == nil {
		dumps, _ := corpus.Dumps(dir)
		bogons, _ := corpus.Bogons(dir)
		for _, p := range append(dumps, bogons...) {
			if b, err := os.ReadFile(p); err == nil {
				f.Add(corpus.StripCount(b))
			}
		}
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		if full, _ := parseWithCompact(t, src, 0); !sameParse(full, func() string { s, _ := parseWithCompact(t, src, 1); return s }()) {
			t.Fatalf("compact element lists change the parse of:\n%s", src)
		}
		if !sameParse(parseWithLazyRules(t, src, true), parseWithLazyRules(t, src, false)) {
			t.Fatalf("rules kept as spans change the parse of:\n%s", src)
		}
		file, err := parser.ParseBytes("fuzz.nft", src)
		if err != nil {
			el, ok := err.(parser.ErrorList)
			if !ok || len(el) == 0 {
				t.Fatalf("error is not a non-empty ErrorList: %v", err)
			}
			for _, e := range el {
				if e.Pos.Line < 1 || e.Pos.Offset > len(src) {
					t.Fatalf("error outside the input: %v", e)
				}
			}
			return
		}
		out := render.FormatFile(file)
		g, err := parser.ParseBytes("fmt.nft", out)
		if err != nil {
			t.Fatalf("formatted output does not parse: %v\ninput:\n%s\noutput:\n%s", err, src, out)
		}
		if again := render.FormatFile(g); !bytes.Equal(again, out) {
			t.Fatalf("fmt not idempotent:\n%s", render.FormatDiff("once", "twice", out, again))
		}
	})
}

// sameParse compares two descriptions of a parse (parseWithCompact,
// parseWithLazyRules): the same tree and comments when the input parses;
// when it does not, the same first error. After an error the parser skips
// ahead to where it can go on, and a compact element list is one token to
// skip (elements={\n0} at the top level: one error, where the full lexer
// reports the 0 and the } as well), so later errors may differ.
func sameParse(a, b string) bool {
	const mark = "\nerror: "
	ia, ib := strings.LastIndex(a, mark), strings.LastIndex(b, mark)
	if ia < 0 || ib < 0 || strings.HasPrefix(a[ia:], mark+"<nil>") || strings.HasPrefix(b[ib:], mark+"<nil>") {
		return a == b
	}
	first := func(s string) string { s, _, _ = strings.Cut(s, "\n"); return s }
	return first(a[ia+len(mark):]) == first(b[ib+len(mark):])
}
