package conformance

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nftflow/nftflow/internal/corpus"
	"github.com/nftflow/nftflow/parser"
)

// TestParseDumps: every ruleset dump of the corpus parses without error.
func TestParseDumps(t *testing.T) {
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
		if _, err := parser.ParseBytes(d, corpus.StripCount(b)); err != nil {
			t.Logf("%s: %v", rel(dir, d), err)
			continue
		}
		passed++
	}
	report(t, "parse-dumps", passed, len(dumps))
}

// TestParsePy: every rule line of tests/py that nft accepts parses, inside
// a table and chain.
func TestParsePy(t *testing.T) {
	dir := corpusDir(t)
	files, err := corpus.PyFiles(dir)
	if err != nil {
		t.Fatal(err)
	}
	passed, total := 0, 0
	for _, f := range files {
		pf, err := corpus.ReadPy(f)
		if err != nil {
			t.Logf("%v", err)
			continue
		}
		for _, l := range pf.Lines {
			if l.Kind != 0 || !l.OK {
				continue
			}
			total++
			src := "table ip t {\n\tchain c {\n\t\t" + l.Text + "\n\t}\n}\n"
			if _, err := parser.ParseString(fmt.Sprintf("%s:%d", rel(dir, f), l.Line), src); err != nil {
				t.Logf("%s:%d: %q: %v", rel(dir, f), l.Line, l.Text, err)
				continue
			}
			passed++
		}
	}
	report(t, "parse-py", passed, total)
}

// TestBogons: every bogon input either parses or gets positioned errors;
// never a panic, never a hang (each runs under a deadline).
func TestBogons(t *testing.T) {
	dir := corpusDir(t)
	bogons, err := corpus.Bogons(dir)
	if err != nil {
		t.Fatal(err)
	}
	passed := 0
	for _, b := range bogons {
		src, err := os.ReadFile(b)
		if err != nil {
			t.Fatal(err)
		}
		if err := parseWithDeadline(b, src, 5*time.Second); err != nil {
			t.Errorf("%s: %v", rel(dir, b), err)
			continue
		}
		passed++
	}
	report(t, "bogons", passed, len(bogons))
}

// parseWithDeadline parses src and checks the outcome: no panic, done in
// time, and every error carries a position inside the input.
func parseWithDeadline(name string, src []byte, d time.Duration) (err error) {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	done := make(chan error, 1)
	go func() {
		defer func() {
			if r := recover(); r != nil {
				done <- fmt.Errorf("panic: %v", r)
			}
		}()
		_, perr := parser.ParseBytes(name, src)
		if perr == nil {
			done <- nil
			return
		}
		var el parser.ErrorList
		if !errors.As(perr, &el) || len(el) == 0 {
			done <- fmt.Errorf("error without position: %v", perr)
			return
		}
		for _, e := range el {
			if !e.Pos.IsValid() || e.Pos.Offset > len(src) || e.Pos.File != name {
				done <- fmt.Errorf("bad position %v for %q", e.Pos, e.Msg)
				return
			}
		}
		done <- nil
	}()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return fmt.Errorf("parse did not finish in %v", d)
	}
}

func rel(dir, p string) string {
	if r, err := filepath.Rel(dir, p); err == nil {
		return r
	}
	return strings.TrimPrefix(p, dir)
}
