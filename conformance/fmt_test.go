package conformance

import (
	"bytes"
	"fmt"
	"os"
	"testing"

	"github.com/nftflow/nftflow/internal/corpus"
	"github.com/nftflow/nftflow/parser"
	"github.com/nftflow/nftflow/render"
)

// TestFmtDumps: nftflow fmt of every corpus dump (nft's own listing) is the
// dump itself, byte for byte.
func TestFmtDumps(t *testing.T) {
	dir := corpusDir(t)
	dumps, err := corpus.Dumps(dir)
	if err != nil {
		t.Fatal(err)
	}
	passed := 0
	for _, d := range dumps {
		b, err := os.ReadFile(d)
		if err != nil {
			t.Fatal(err)
		}
		want := corpus.StripCount(b)
		f, err := parser.ParseBytes(d, want)
		if err != nil {
			t.Logf("%s: %v", rel(dir, d), err)
			continue
		}
		got := render.FormatFile(f)
		if !bytes.Equal(got, want) {
			t.Logf("%s: fmt differs:\n%s", rel(dir, d), render.FormatDiff("dump", "fmt", want, got))
			continue
		}
		passed++
	}
	report(t, "fmt-dumps", passed, len(dumps))
}

// TestFmtIdempotentPy: for every accepted tests/py rule, fmt's output parses
// again and formats to itself.
func TestFmtIdempotentPy(t *testing.T) {
	dir := corpusDir(t)
	files, err := corpus.PyFiles(dir)
	if err != nil {
		t.Fatal(err)
	}
	passed, total := 0, 0
	for _, f := range files {
		pf, err := corpus.ReadPy(f)
		if err != nil {
			continue
		}
		for _, l := range pf.Lines {
			if l.Kind != 0 || !l.OK {
				continue
			}
			total++
			name := fmt.Sprintf("%s:%d", rel(dir, f), l.Line)
			a, err := parser.ParseString(name, "table ip t {\n\tchain c {\n\t\t"+l.Text+"\n\t}\n}\n")
			if err != nil {
				continue
			}
			once := render.FormatFile(a)
			b, err := parser.ParseBytes(name, once)
			if err != nil {
				t.Logf("%s: fmt output does not parse: %v\n%s", name, err, once)
				continue
			}
			twice := render.FormatFile(b)
			if !bytes.Equal(once, twice) {
				t.Logf("%s: not idempotent:\n%s", name, render.FormatDiff("once", "twice", once, twice))
				continue
			}
			passed++
		}
	}
	report(t, "fmt-idempotent-py", passed, total)
}
