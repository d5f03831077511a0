package parser_test

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/nftflow/nftflow/parser"
	"github.com/nftflow/nftflow/render"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// dump writes a readable tree of an AST node: its type, position, and
// fields (zero fields omitted).
func dump(w *bytes.Buffer, v reflect.Value, indent string) {
	switch v.Kind() {
	case reflect.Interface, reflect.Pointer:
		if v.IsNil() {
			w.WriteString("nil\n")
			return
		}
		if v.Kind() == reflect.Interface {
			dump(w, v.Elem(), indent)
			return
		}
		if n, ok := v.Interface().(parser.Node); ok {
			p, e := n.Pos(), n.End()
			fmt.Fprintf(w, "%s @%d:%d-%d:%d {\n", v.Elem().Type().Name(), p.Line, p.Col, e.Line, e.Col)
		} else {
			fmt.Fprintf(w, "%s {\n", v.Elem().Type().Name())
		}
		s := v.Elem()
		if cb, ok := v.Interface().(*parser.ChainBlock); ok {
			cb.Rules() // rules kept as spans are parsed
		}
		if se, ok := v.Interface().(*parser.SetExpr); ok && se.Len() > 0 {
			// the elements are behind a method (compact lists build them)
			fmt.Fprintf(w, "%s  Elems: ", indent)
			dump(w, reflect.ValueOf(se.Elems()), indent+"  ")
		}
		for i := 0; i < s.NumField(); i++ {
			f := s.Type().Field(i)
			if f.Name == "Span" || !f.IsExported() || s.Field(i).IsZero() || f.Name == "Items" && s.Type().Name() == "SetExpr" {
				continue
			}
			name := f.Name
			if name == "RuleList" {
				name = "Rules" // the golden files' name, from before Rules() was a method
			}
			fmt.Fprintf(w, "%s  %s: ", indent, name)
			if sp, ok := s.Field(i).Interface().(parser.Span); ok {
				p, e := sp.Pos(), sp.End()
				fmt.Fprintf(w, "@%d:%d-%d:%d\n", p.Line, p.Col, e.Line, e.Col)
				continue
			}
			dump(w, s.Field(i), indent+"  ")
		}
		fmt.Fprintf(w, "%s}\n", indent)
	case reflect.Slice:
		if v.Type().Elem().Kind() == reflect.String {
			fmt.Fprintf(w, "%q\n", v.Interface())
			return
		}
		w.WriteString("[\n")
		for i := 0; i < v.Len(); i++ {
			fmt.Fprintf(w, "%s  ", indent)
			dump(w, v.Index(i), indent+"  ")
		}
		fmt.Fprintf(w, "%s]\n", indent)
	case reflect.String:
		fmt.Fprintf(w, "%q\n", v.String())
	default:
		fmt.Fprintf(w, "%v\n", v.Interface())
	}
}

func checkGolden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs (go test -update rewrites it):\n%s", path, render.FormatDiff("want", "got", want, got))
	}
}

// TestGolden parses each testdata/golden/*.nft, compares the AST dump and
// the formatted output with their golden files, and checks that the
// formatted output parses again and formats to itself.
func TestGolden(t *testing.T) {
	files, _ := filepath.Glob("testdata/golden/*.nft")
	if len(files) == 0 {
		t.Fatal("no golden inputs")
	}
	for _, in := range files {
		t.Run(filepath.Base(in), func(t *testing.T) {
			f, err := parser.ReadFile(in)
			if err != nil {
				t.Fatal(err)
			}
			var b bytes.Buffer
			dump(&b, reflect.ValueOf(f), "")
			base := strings.TrimSuffix(in, ".nft")
			checkGolden(t, base+".ast", b.Bytes())
			out := render.FormatFile(f)
			checkGolden(t, base+".fmt", out)
			g, err := parser.ParseBytes(in, out)
			if err != nil {
				t.Fatalf("formatted output does not parse: %v", err)
			}
			if again := render.FormatFile(g); !bytes.Equal(again, out) {
				t.Errorf("fmt is not idempotent:\n%s", render.FormatDiff("once", "twice", out, again))
			}
		})
	}
}

var errMark = regexp.MustCompile(`^(\s*#\s*)(\^) ERROR "((?:[^"\\]|\\.)*)"`)

// TestErrors checks errors against expectations written in the test input
// (go/parser style): a comment line `#   ^ ERROR "regexp"` whose caret
// points at the offending token of the line above. Message and position
// must match together, and every error must be expected.
func TestErrors(t *testing.T) {
	files, _ := filepath.Glob("testdata/errors/*.nft")
	for _, in := range files {
		src, err := os.ReadFile(in)
		if err != nil {
			t.Fatal(err)
		}
		type want struct {
			line, col int
			rx        *regexp.Regexp
		}
		var wants []want
		for i, l := range strings.Split(string(src), "\n") {
			m := errMark.FindStringSubmatch(l)
			if m == nil {
				continue
			}
			msg := strings.ReplaceAll(m[3], `\"`, `"`)
			wants = append(wants, want{line: i, col: len(m[1]) + 1, rx: regexp.MustCompile(regexp.QuoteMeta(msg))})
		}
		_, err = parser.ParseBytes(in, src)
		el, ok := err.(parser.ErrorList)
		if !ok {
			t.Fatalf("%s: want an ErrorList, got %v", in, err)
		}
		matched := make([]bool, len(el))
		for _, w := range wants {
			found := false
			for i, e := range el {
				if !matched[i] && e.Pos.Line == w.line && e.Pos.Col == w.col && w.rx.MatchString(e.Msg) {
					matched[i], found = true, true
					break
				}
			}
			if !found {
				t.Errorf("%s:%d:%d: missing error matching %q", in, w.line, w.col, w.rx)
			}
		}
		for i, e := range el {
			if !matched[i] {
				t.Errorf("unexpected error %v", e)
			}
		}
	}
}

// TestRecovery: after errors the parser goes on, and the valid statements
// around them are in the AST.
func TestRecovery(t *testing.T) {
	f, err := parser.ReadFile("testdata/errors/errors.nft")
	if err == nil {
		t.Fatal("want errors")
	}
	var tables []*parser.TableBlock
	for _, c := range f.Commands {
		if tb, ok := c.(*parser.TableBlock); ok {
			tables = append(tables, tb)
		}
	}
	if len(tables) != 2 {
		t.Fatalf("got %d tables, want 2 (t and u)", len(tables))
	}
	rules := map[string][]string{}
	for _, tb := range tables {
		for _, it := range tb.Items {
			if c, ok := it.(*parser.ChainBlock); ok {
				for _, r := range c.Rules() {
					rules[c.Name.Name()] = append(rules[c.Name.Name()], render.FormatRule(r))
				}
			}
		}
	}
	want := map[string][]string{
		"c": {"tcp dport 22 accept", "ip daddr { 1.2.3.4, 2.2.2.2 } counter accept"},
		"d": {"counter accept"},
		"e": {"ip saddr 1.2.3.4 accept", `ip daddr "unterminated`},
	}
	if !reflect.DeepEqual(rules, want) {
		t.Errorf("rules after recovery:\n got %q\nwant %q", rules, want)
	}
}

// TestErrorFormat: the nft-style display with source line and caret, and
// the "(and N more errors)" cut-off.
func TestErrorFormat(t *testing.T) {
	_, err := parser.ParseString("x.nft", "table ip t {\n\tchain c {\n\t\tip saddr 1.2.3.4 frob\n\t}\n}\n")
	el := err.(parser.ErrorList)
	var b bytes.Buffer
	el.Format(&b)
	want := "x.nft:3:20: syntax error, unexpected word \"frob\", expecting statement\n\t\tip saddr 1.2.3.4 frob\n\t\t                 ^^^^\n"
	if b.String() != want {
		t.Errorf("Format:\n%s\nwant:\n%s", b.String(), want)
	}
	var src strings.Builder
	for i := 0; i < parser.MaxErrors+3; i++ {
		src.WriteString("bogus\n")
	}
	_, err = parser.ParseString("y.nft", src.String())
	el = err.(parser.ErrorList)
	if len(el) != parser.MaxErrors+3 {
		t.Fatalf("got %d errors, want %d", len(el), parser.MaxErrors+3)
	}
	if !strings.HasSuffix(el.Error(), "\n(and 3 more errors)") {
		t.Errorf("Error() = %q", el.Error())
	}
	for i := 1; i < len(el); i++ {
		if el[i].Pos.Offset <= el[i-1].Pos.Offset {
			t.Errorf("errors not sorted by position: %v then %v", el[i-1].Pos, el[i].Pos)
		}
	}
}

// TestContextKeywords: keywords are names where a name is expected.
func TestContextKeywords(t *testing.T) {
	src := "table inet ip {\n\tset ip { type ipv4_addr; }\n\tchain input { ip saddr @ip jump accept_chain }\n\tchain accept_chain { meta protocol ip udp dport 53 accept }\n}\n"
	f, err := parser.ParseString("k.nft", src)
	if err != nil {
		t.Fatal(err)
	}
	tb := f.Commands[0].(*parser.TableBlock)
	if tb.Family != "inet" || tb.Name.Name() != "ip" {
		t.Errorf("table: family %q name %q", tb.Family, tb.Name.Name())
	}
	if s := tb.Items[0].(*parser.SetBlock); s.Name.Name() != "ip" {
		t.Errorf("set name %q", s.Name.Name())
	}
	c := tb.Items[2].(*parser.ChainBlock)
	r := c.Rules()[0]
	if len(r.Stmts) != 3 {
		t.Fatalf("got %d statements in %q, want 3", len(r.Stmts), render.FormatRule(r))
	}
	rel := r.Stmts[0].(*parser.ExprStmt).X.(*parser.Relational)
	if sel := rel.Left.(*parser.Selector); sel.Field() != "meta protocol" {
		t.Errorf("selector %q", sel.Field())
	}
	if lit := rel.Right.(*parser.Literal); lit.Text != "ip" || lit.Kind != parser.LitSymbol {
		t.Errorf("value %#v", lit)
	}
	if p := rel.Right.Pos(); p.Line != 4 || p.Col != 37 {
		t.Errorf("position of the value: %v", p)
	}
}

// TestSpans: every node of the golden inputs has a span inside its
// parent's span.
func TestSpans(t *testing.T) {
	files, _ := filepath.Glob("testdata/golden/*.nft")
	for _, in := range files {
		f, err := parser.ReadFile(in)
		if err != nil {
			t.Fatal(err)
		}
		checkSpans(t, reflect.ValueOf(f), 0, int(f.Stop), "File")
	}
}

func checkSpans(t *testing.T, v reflect.Value, lo, hi int, path string) {
	t.Helper()
	switch v.Kind() {
	case reflect.Interface, reflect.Pointer:
		if v.IsNil() {
			return
		}
		if v.Kind() == reflect.Pointer {
			if n, ok := v.Interface().(interface {
				Offset() int
				EndOffset() int
			}); ok {
				s, e := n.Offset(), n.EndOffset()
				name := path + "/" + v.Elem().Type().Name()
				if v.Elem().FieldByName("Span").Field(0).IsNil() {
					t.Errorf("%s: no source", name)
				}
				if s > e || s < lo || e > hi {
					t.Errorf("%s: span %d-%d outside its parent %d-%d", name, s, e, lo, hi)
				}
				lo, hi, path = s, e, name
			}
		}
		checkSpans(t, v.Elem(), lo, hi, path)
	case reflect.Struct:
		for i := 0; i < v.NumField(); i++ {
			if f := v.Type().Field(i); f.IsExported() && f.Name != "Span" && f.Name != "NameSpan" && f.Name != "Files" {
				checkSpans(t, v.Field(i), lo, hi, path)
			}
		}
	case reflect.Slice:
		for i := 0; i < v.Len(); i++ {
			checkSpans(t, v.Index(i), lo, hi, path)
		}
	}
}

// TestRecoveryUnclosedBrace: a brace left open on an erroneous line does
// not swallow the rest of the file.
func TestRecoveryUnclosedBrace(t *testing.T) {
	f, err := parser.ReadFile("testdata/errors/unclosed.nft")
	if err == nil {
		t.Fatal("want errors")
	}
	var got []string
	for _, c := range f.Commands {
		tb, ok := c.(*parser.TableBlock)
		if !ok {
			continue
		}
		got = append(got, "table "+tb.Name.Name())
		for _, it := range tb.Items {
			switch it := it.(type) {
			case *parser.ChainBlock:
				for _, r := range it.Rules() {
					got = append(got, it.Name.Name()+": "+render.FormatRule(r))
				}
			case *parser.SetBlock:
				got = append(got, "set "+it.Name.Name())
			}
		}
	}
	want := "table t|c: udp dport 53 accept|set s|table u|d: accept"
	if strings.Join(got, "|") != want {
		t.Errorf("got  %s\nwant %s", strings.Join(got, "|"), want)
	}
}
