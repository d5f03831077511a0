package compiler_test

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nftflow/nftflow/compiler"
	"github.com/nftflow/nftflow/model"
	"github.com/nftflow/nftflow/parser"
	"github.com/nftflow/nftflow/render"
)

func init() {
	if flag.Lookup("update") == nil {
		flag.Bool("update", false, "rewrite golden files")
	}
}

func updateGolden() bool {
	f := flag.Lookup("update")
	return f != nil && f.Value.String() == "true"
}

// describe prints the non-rule objects of a batch (tables, chains,
// flowtables, named sets) one per line, for the golden files.
func describe(b *model.Batch) string {
	var sb strings.Builder
	for _, op := range b.Ops {
		switch x := op.Obj.(type) {
		case *model.Table:
			fmt.Fprintf(&sb, "%s table %s %s flags 0x%x @%d:%d\n", op.Verb, x.Family, x.Name, x.Flags, x.Pos.Line, x.Pos.Col)
		case *model.Chain:
			fmt.Fprintf(&sb, "%s chain %s %s %s", op.Verb, x.Family, x.Table, x.Name)
			if x.Hook != nil {
				fmt.Fprintf(&sb, " type %s hook %d priority %d devices %q", x.Hook.Type, x.Hook.Hooknum, x.Hook.Priority, x.Hook.Devices)
			}
			if x.Policy != nil {
				fmt.Fprintf(&sb, " policy %d", *x.Policy)
			}
			fmt.Fprintf(&sb, " @%d:%d\n", x.Pos.Line, x.Pos.Col)
		case *model.Flowtable:
			fmt.Fprintf(&sb, "%s flowtable %s %s %s hook %d priority %d devices %q flags 0x%x @%d:%d\n",
				op.Verb, x.Family, x.Table, x.Name, x.Hooknum, x.Priority, x.Devices, x.Flags, x.Pos.Line, x.Pos.Col)
		case *model.Set:
			if x.Flags&0x1 == 0 {
				fmt.Fprintf(&sb, "%s set %s %s %s flags 0x%x key %d/%d data %d/%d udata %x @%d:%d\n", op.Verb, x.Family, x.Table,
					x.Name, x.Flags, x.KeyType, x.KeyLen, x.DataType, x.DataLen, x.Userdata, x.Pos.Line, x.Pos.Col)
			}
		case *model.Rule:
			fmt.Fprintf(&sb, "%s rule %s %s %s (%d expressions) @%d:%d\n", op.Verb, x.Family, x.Table, x.Chain, len(x.Exprs), x.Pos.Line, x.Pos.Col)
		}
	}
	return sb.String()
}

// TestCompileGolden compiles the rulesets in testdata/compile and compares
// the objects and netlink expression listings with the .golden files
// (go test -run TestCompileGolden -update rewrites them).
func TestCompileGolden(t *testing.T) {
	files, err := filepath.Glob("testdata/compile/*.nft")
	if err != nil || len(files) == 0 {
		t.Fatalf("no test inputs: %v", err)
	}
	for _, in := range files {
		t.Run(filepath.Base(in), func(t *testing.T) {
			f, err := parser.ReadFile(in)
			if err != nil {
				t.Fatal(err)
			}
			b, err := compiler.Compile(f)
			if err != nil {
				t.Fatal(err)
			}
			for _, op := range b.Ops {
				if r, ok := op.Obj.(*model.Rule); ok && len(r.ExprPos) != len(r.Exprs) {
					t.Errorf("rule at %d:%d has %d expressions but %d positions", r.Pos.Line, r.Pos.Col, len(r.Exprs), len(r.ExprPos))
				}
			}
			got := describe(b) + "\n" + render.NetlinkBatch(b)
			golden := strings.TrimSuffix(in, ".nft") + ".golden"
			if updateGolden() {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if got != string(want) {
				t.Errorf("%s differs from the golden file:\n%s", in, lineDiff(string(want), got))
			}
		})
	}
}

func lineDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := 0; i < len(w) || i < len(g); i++ {
		var a, b string
		if i < len(w) {
			a = w[i]
		}
		if i < len(g) {
			b = g[i]
		}
		if a != b {
			return fmt.Sprintf("line %d:\nwant %q\n got %q", i+1, a, b)
		}
	}
	return ""
}

// TestCompileErrors checks that compile errors carry the position of the
// statement that caused them.
func TestCompileErrors(t *testing.T) {
	src := "table ip t {\n\tchain c {\n\t\ttcp dport 22 accept\n\t\tip saddr 1.2.3.400 drop\n\t}\n}\n"
	f, err := parser.ParseString("bad.nft", src)
	if err != nil {
		t.Fatal(err)
	}
	_, err = compiler.Compile(f)
	if err == nil {
		t.Fatal("want an error for a bad address")
	}
	if !strings.HasPrefix(err.Error(), "bad.nft:4:3: ") {
		t.Errorf("error %q does not point at line 4, column 3", err)
	}
}

// TestCompileTCPDport pins the expressions of the most common match in
// each family, independent of the golden files.
func TestCompileTCPDport(t *testing.T) {
	cases := map[string][]string{
		"inet": {"[ meta load l4proto => reg 1 ]", "[ cmp eq reg 1 0x06 ]", "[ payload load 2b @ transport header + 2 => reg 1 ]", "[ cmp eq reg 1 0x0016 ]"},
		"ip":   {"[ meta load l4proto => reg 1 ]", "[ cmp eq reg 1 0x06 ]", "[ payload load 2b @ transport header + 2 => reg 1 ]", "[ cmp eq reg 1 0x0016 ]"},
	}
	for fam, want := range cases {
		f, err := parser.ParseString("x.nft", "table "+fam+" t {\nchain c {\ntcp dport 22\n}\n}\n")
		if err != nil {
			t.Fatal(err)
		}
		b, err := compiler.Compile(f)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, op := range b.Ops {
			if r, ok := op.Obj.(*model.Rule); ok {
				for _, e := range r.Exprs {
					got = append(got, render.NetlinkExpr(e))
				}
			}
		}
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("%s: got\n%s\nwant\n%s", fam, strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	}
}
