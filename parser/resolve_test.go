package parser_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nftflow/nftflow/parser"
	"github.com/nftflow/nftflow/render"
)

func writeFiles(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, text := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestParseFileIncludes(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"main.nft":         "include \"vars.nft\"\ninclude \"conf.d/*.nft\"\ninclude \"lib.nft\"\ntable ip t { chain c { iifname $lan accept } }\n",
		"vars.nft":         "define lan = \"eth1\"\n",
		"conf.d/10-a.nft":  "table ip a { }\n",
		"conf.d/20-b.nft":  "table ip b { }\n",
		"libdir/lib.nft":   "table ip lib { }\n",
		"cycle.nft":        "include \"cycle2.nft\"\n",
		"cycle2.nft":       "include \"cycle.nft\"\n",
		"missing.nft":      "table ip x { }\ninclude \"nope.nft\"\n",
		"nomatch-glob.nft": "include \"none/*.nft\"\n",
	})
	f, err := parser.ParseFile(filepath.Join(dir, "main.nft"), parser.Options{IncludeDirs: []string{filepath.Join(dir, "libdir")}})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range f.Commands {
		if inc, ok := c.(*parser.Include); ok {
			for _, sub := range inc.Files {
				got = append(got, strings.TrimPrefix(sub.Name, dir+"/"))
			}
		}
	}
	want := "vars.nft conf.d/10-a.nft conf.d/20-b.nft libdir/lib.nft"
	if strings.Join(got, " ") != want {
		t.Errorf("included %q, want %q", strings.Join(got, " "), want)
	}
	if err := parser.Expand(f); err != nil {
		t.Fatalf("Expand: %v", err)
	}
	rule := f.Commands[3].(*parser.TableBlock).Items[0].(*parser.ChainBlock).Rules()[0]
	if s := render.FormatRule(rule); s != `iifname "eth1" accept` {
		t.Errorf("expanded rule %q", s)
	}

	_, err = parser.ParseFile(filepath.Join(dir, "cycle.nft"), parser.Options{})
	if err == nil || !strings.Contains(err.Error(), "include cycle") {
		t.Errorf("cycle: %v", err)
	}
	_, err = parser.ParseFile(filepath.Join(dir, "missing.nft"), parser.Options{})
	if err == nil || !strings.Contains(err.Error(), "missing.nft:2:9: include \"nope.nft\": file not found") {
		t.Errorf("missing include: %v", err)
	}
	if _, err := parser.ParseFile(filepath.Join(dir, "nomatch-glob.nft"), parser.Options{}); err != nil {
		t.Errorf("a glob without matches is not an error: %v", err)
	}
}

func TestExpand(t *testing.T) {
	testExpand(t)
	// rules kept as spans (big files) are expanded too
	old := parser.LazyRulesMinSize
	parser.LazyRulesMinSize = 0
	defer func() { parser.LazyRulesMinSize = old }()
	testExpand(t)
}

func testExpand(t *testing.T) {
	src := `define net = 10.0.0.0/8
define ports = { 22, 443 }
define both = $net . 22
define tname = filter
table inet $tname {
	chain c {
		ip saddr $net tcp dport $ports accept
		ip saddr . tcp dport $both drop
		ip daddr $nope drop
	}
}
redefine net = 192.168.0.0/16
undefine ports
add rule inet filter c ip saddr $net tcp dport $ports accept
`
	f, err := parser.ParseString("v.nft", src)
	if err != nil {
		t.Fatal(err)
	}
	err = parser.Expand(f)
	el, ok := err.(parser.ErrorList)
	if !ok || len(el) != 2 {
		t.Fatalf("want 2 errors, got %v", err)
	}
	if el[0].Error() != "v.nft:9:12: undefined variable $nope" || el[1].Error() != "v.nft:14:48: undefined variable $ports" {
		t.Errorf("errors: %v", el)
	}
	out := string(render.FormatFile(f))
	for _, want := range []string{
		"table inet filter {",
		"ip saddr 10.0.0.0/8 tcp dport { 22, 443 } accept",
		"ip saddr . tcp dport 10.0.0.0/8 . 22 drop",
		"add rule inet filter c ip saddr 192.168.0.0/16 tcp dport $ports accept",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("expanded output lacks %q:\n%s", want, out)
		}
	}
	// the substituted value is positioned at the use site
	rule := f.Commands[4].(*parser.TableBlock).Items[0].(*parser.ChainBlock).Rules()[0]
	rel := rule.Stmts[0].(*parser.ExprStmt).X.(*parser.Relational)
	if p := rel.Right.Pos(); p.Line != 7 || p.Col != 12 {
		t.Errorf("substituted value at %v, want 7:12", p)
	}
}

func TestInspect(t *testing.T) {
	f, err := parser.ParseString("i.nft", "table ip t {\n\tchain c {\n\t\tip saddr 1.2.3.4 tcp dport { 22, 80 } jump { meta mark 1 accept }\n\t}\n}\n")
	if err != nil {
		t.Fatal(err)
	}
	var sels, lits []string
	rules := 0
	parser.Inspect(f, func(n parser.Node) bool {
		switch n := n.(type) {
		case *parser.Literal:
			lits = append(lits, n.Text)
		case *parser.Selector:
			sels = append(sels, n.Field())
		case *parser.Rule:
			rules++
		case *parser.SetExpr:
			return false // skip the elements
		}
		return true
	})
	if strings.Join(sels, ",") != "ip saddr,tcp dport,meta mark" || rules != 2 || strings.Join(lits, ",") != "1.2.3.4,1" {
		t.Errorf("selectors %q, literals %q (set elements skipped), rules %d", sels, lits, rules)
	}
}
