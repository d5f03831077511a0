package render

import (
	"bytes"
	"fmt"
	"os"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/nftflow/nftflow/parser"
)

// TestFormatKeepsComments puts a trailing comment on every line of a rich
// ruleset and a comment line after every line; fmt must keep every one of
// them and be idempotent.
func TestFormatKeepsComments(t *testing.T) {
	for in, rule := range map[string]string{
		"../parser/testdata/golden/basic.nft":  "\t\tct state established,related accept # t",
		"../parser/testdata/golden/router.nft": "\t\tdrop # t",
	} {
		src, err := os.ReadFile(in)
		if err != nil {
			t.Fatal(err)
		}
		var sb strings.Builder
		n := 0
		for _, l := range strings.Split(string(src), "\n") {
			if strings.TrimSpace(l) == "" || strings.HasSuffix(l, "\\") {
				sb.WriteString(l + "\n")
				continue
			}
			n++
			fmt.Fprintf(&sb, "%s # t%d\n# l%d\n", l, n, n)
		}
		f, err := parser.ParseString(in, sb.String())
		if err != nil {
			t.Fatalf("%s: %v", in, err)
		}
		out := FormatFile(f)
		marks := regexp.MustCompile(`# [tl][0-9]+\b`)
		want := marks.FindAllString(sb.String(), -1)
		got := marks.FindAllString(string(out), -1)
		sort.Strings(want)
		sort.Strings(got)
		if strings.Join(got, ",") != strings.Join(want, ",") {
			t.Errorf("%s: comments lost or duplicated: got %d of %d", in, len(got), len(want))
		}
		g, err := parser.ParseBytes(in, out)
		if err != nil {
			t.Fatalf("%s: output does not parse: %v", in, err)
		}
		if again := FormatFile(g); !bytes.Equal(again, out) {
			t.Errorf("%s: not idempotent:\n%s", in, FormatDiff("once", "twice", out, again))
		}
		// a comment at the end of a rule line stays on that line
		if !bytes.Contains(out, []byte(rule)) {
			t.Errorf("%s: trailing rule comment moved:\n%s", in, out)
		}
	}
}

// TestFormatDiff: hunks, context and the no-newline marker.
func TestFormatDiff(t *testing.T) {
	a := []byte("a\nb\nc\nd\ne\nf\ng\nh\ni\nj\n")
	b := []byte("a\nB\nc\nd\ne\nf\ng\nh\ni\nJ")
	want := "--- x\n+++ y\n@@ -1,5 +1,5 @@\n a\n-b\n+B\n c\n d\n e\n@@ -7,4 +7,4 @@\n g\n h\n i\n-j\n+J\n\\ No newline at end of file\n"
	if got := string(FormatDiff("x", "y", a, b)); got != want {
		t.Errorf("diff:\n%s\nwant:\n%s", got, want)
	}
	if FormatDiff("x", "y", a, a) != nil {
		t.Error("equal inputs give a diff")
	}
}
