package parser_test

import (
	"bytes"
	"fmt"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/nftflow/nftflow/internal/corpus"
	"github.com/nftflow/nftflow/parser"
)

// parseWithCompact parses src with compact element lists from min elements
// (0: never) and returns the syntax tree, errors and comments as text.
func parseWithCompact(t testing.TB, src []byte, min int) (tree string, compact int) {
	t.Helper()
	old := parser.CompactElementsMin
	parser.CompactElementsMin = min
	defer func() { parser.CompactElementsMin = old }()
	f, err := parser.ParseBytes("c.nft", src)
	var b bytes.Buffer
	if f != nil {
		parser.Inspect(f, func(n parser.Node) bool {
			if se, ok := n.(*parser.SetExpr); ok && se.Compact() {
				compact++
				for i := 0; i < se.Len(); i++ {
					// a span read from the list is the span of the element
					sp, el := se.ElemSpan(i), se.Elems()[i]
					if sp.Pos() != el.Pos() || sp.End() != el.End() {
						t.Errorf("element %d: span %v-%v, tree %v-%v", i, sp.Pos(), sp.End(), el.Pos(), el.End())
					}
					if e := se.Elem(i); !reflect.DeepEqual(e, el) {
						t.Errorf("element %d parsed again differs: %#v", i, e)
					}
				}
			}
			return true
		})
		dump(&b, reflect.ValueOf(f), "")
		for _, c := range f.Comments {
			fmt.Fprintf(&b, "comment %v %q\n", c.Pos(), c.Text)
		}
	}
	fmt.Fprintf(&b, "error: %v\n", err)
	return b.String(), compact
}

// A compact element list must parse to exactly the tree, errors and
// comments of the full parse, and be used only where it applies.
func TestCompactElementsSameTree(t *testing.T) {
	cases := []struct {
		src     string
		compact bool
	}{
		{"table ip t { set s { type ipv4_addr; flags interval; elements = { 10.0.0.0/8, 10.1.0.1-10.1.0.9, 192.0.2.1 } } }", true},
		{"table ip t { set s { type ipv4_addr; flags interval\n elements = {\n\t10.0.0.0/8,\n\t10.1.0.1 - 10.1.0.9 , # note\n\t192.0.2.1,\n}\n} }", true},
		{"table ip6 t { set s { type ipv6_addr; flags interval; elements = { 2001:db8::/32, ::1, fe80::1-fe80::9 } } }", true},
		{"table inet t { set s { type inet_service; elements = { 22, 80-90, 0x10 } } }", true},
		{"table ip t { set s { type ipv4_addr; elements = { 1.1.1.1 } }\n set u { type ipv4_addr; elements = {} } }", true},
		// forms a compact list does not hold: parsed as before
		{"table ip t { map m { type ipv4_addr : verdict; elements = { 1.1.1.1 : accept, * : drop } } }", false},
		{"table ip t { set s { type ipv4_addr; flags timeout; elements = { 1.1.1.1 timeout 1s, 2.2.2.2 } } }", false},
		{"table inet t { set s { type ipv4_addr . inet_service; elements = { 1.1.1.1 . 80 } } }", false},
		{"table ip t { set s { type ipv4_addr; elements = { $x, 1.1.1.1 } } }", false},
		{"table ip t { set s { type ifname; elements = { eth0, 1.1.1.1 } } }", false},
		{"table ip t { set s { type ipv4_addr; elements = { 1.1.1.1 2.2.2.2 } } }", false},
		{"table ip t { set s { type ipv4_addr; elements = { 1.1.1.1, , 2.2.2.2 } } }", false},
		{"table ip t { set s { type ipv4_addr; elements = { 10.0.0.0/\n8 } } }", false},
		{"table ip t { set s { type ipv4_addr; elements = { 1.1.1.1, 2.2.2.2", false},
		{"table ip t { set s { type ipv4_addr; elements = { 1.1.1.1, 2.2.2.2 \\\n } } }", true},
		{"table ip t { chain c { ip saddr { 1.1.1.1, 2.2.2.2 } } }", false},
	}
	for _, c := range cases {
		full, _ := parseWithCompact(t, []byte(c.src), 0)
		got, n := parseWithCompact(t, []byte(c.src), 1)
		if got != full {
			t.Errorf("%q: compact parse differs:\n%s\nfull parse:\n%s", c.src, got, full)
		}
		if (n > 0) != c.compact {
			t.Errorf("%q: %d compact lists, want compact %v", c.src, n, c.compact)
		}
	}
}

// parseWithLazyRules parses src with rules kept as spans (lazy) or not,
// and returns the tree, errors and comments as text.
func parseWithLazyRules(t testing.TB, src []byte, lazy bool) string {
	s, _ := parseLazyCount(t, src, lazy)
	return s
}

// parseLazyCount is parseWithLazyRules, also counting the rules that were
// kept as spans.
func parseLazyCount(t testing.TB, src []byte, lazy bool) (string, int) {
	t.Helper()
	old := parser.LazyRulesMinSize
	parser.LazyRulesMinSize = 1 << 62
	if lazy {
		parser.LazyRulesMinSize = 0
	}
	defer func() { parser.LazyRulesMinSize = old }()
	f, err := parser.ParseBytes("c.nft", src)
	var b bytes.Buffer
	spans := 0
	if f != nil {
		parser.Inspect(f, func(n parser.Node) bool {
			if cb, ok := n.(*parser.ChainBlock); ok {
				for _, r := range cb.RuleList {
					if r == nil {
						spans++
					}
				}
				for i, r := range cb.Rules() {
					// a span kept is the rule's, and parsing it again
					// gives the same rule
					if sp := cb.RuleSpan(i); sp != r.Span {
						t.Errorf("rule %d: span %v-%v, tree %v-%v", i, sp.Pos(), sp.End(), r.Pos(), r.End())
					}
					if again := cb.Rule(i); !reflect.DeepEqual(again, r) {
						t.Errorf("rule %d parsed again differs", i)
					}
				}
			}
			return true
		})
		dump(&b, reflect.ValueOf(f), "")
		for _, c := range f.Comments {
			fmt.Fprintf(&b, "comment %v %q\n", c.Pos(), c.Text)
		}
	}
	fmt.Fprintf(&b, "error: %v\n", err)
	return b.String(), spans
}

// Every shared dump and bogon parses to the same tree with its rules kept
// as spans (big files) as when parsed at once.
func TestLazyRulesCorpus(t *testing.T) {
	dir, err := corpus.Dir()
	if err != nil {
		t.Skipf("skipping: no corpus (%v); set NFTFLOW_CORPUS", err)
	}
	dumps, _ := corpus.Dumps(dir)
	bogons, _ := corpus.Bogons(dir)
	kept := 0
	for _, p := range append(dumps, bogons...) {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		lazy, n := parseLazyCount(t, b, true)
		if lazy != parseWithLazyRules(t, b, false) {
			t.Errorf("%s: parse with rules kept as spans differs", p)
		}
		kept += n
	}
	if kept < 500 {
		t.Errorf("only %d rules kept as spans: the comparison tests little", kept)
	}
	t.Logf("%d rules kept as spans", kept)
}

// Every shared dump and bogon parses to the same tree with compact lists.
func TestCompactElementsCorpus(t *testing.T) {
	dir, err := corpus.Dir()
	if err != nil {
		t.Skipf("skipping: no corpus (%v); set NFTFLOW_CORPUS", err)
	}
	dumps, _ := corpus.Dumps(dir)
	bogons, _ := corpus.Bogons(dir)
	lists := 0
	for _, p := range append(dumps, bogons...) {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		full, _ := parseWithCompact(t, b, 0)
		got, n := parseWithCompact(t, b, 1)
		lists += n
		if got != full {
			t.Errorf("%s: compact parse differs", p)
		}
	}
	if lists < 50 {
		t.Errorf("only %d compact lists in the corpus: the comparison tests little", lists)
	}
	t.Logf("%d files, %d compact lists", len(dumps)+len(bogons), lists)
}

// A big list is compact by default.
func TestCompactElementsBig(t *testing.T) {
	var b strings.Builder
	b.WriteString("table ip t { set s { type ipv4_addr; flags interval; elements = {\n")
	for i := 0; i < parser.CompactElementsMin; i++ {
		fmt.Fprintf(&b, "10.%d.%d.0/24,\n", i>>8, i&255)
	}
	b.WriteString("} } }\n")
	f, err := parser.ParseString("big.nft", b.String())
	if err != nil {
		t.Fatal(err)
	}
	se := f.Commands[0].(*parser.TableBlock).Items[0].(*parser.SetBlock).Elements
	if !se.Compact() || se.Len() != parser.CompactElementsMin {
		t.Fatalf("compact %v, %d elements", se.Compact(), se.Len())
	}
}
