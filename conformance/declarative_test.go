package conformance

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nftflow/nftflow/compiler"
	"github.com/nftflow/nftflow/internal/corpus"
	"github.com/nftflow/nftflow/kernel"
	"github.com/nftflow/nftflow/parser"
	"github.com/nftflow/nftflow/plan"
)

// TestShellDumpsDeclarativeNoDiff loads every tests/shell dump the
// installed nft accepts with `nft -f`, then plans a declarative apply of
// the same file against what nft loaded: nftflow must find nothing to
// change. It compares nftflow's compiled objects with the objects nft
// made, expression by expression, after the kernel's own normalization.
// It needs root and nft.
func TestShellDumpsDeclarativeNoDiff(t *testing.T) {
	dir := corpusDir(t)
	nft := requirePeer(t)
	ns := newNetns(t, "decl-conf")
	dumps, err := corpus.Dumps(dir)
	if err != nil {
		t.Fatal(err)
	}
	verbose := os.Getenv("NFTFLOW_CONFORMANCE_VERBOSE") != ""
	passed, total := 0, 0
	for _, path := range dumps {
		rel, _ := filepath.Rel(dir, path)
		fail := func(format string, args ...any) {
			if verbose {
				t.Logf("%s: %s", rel, fmt.Sprintf(format, args...))
			}
		}
		if out, err := exec.Command("ip", "netns", "exec", ns, nft, "flush", "ruleset").CombinedOutput(); err != nil {
			t.Fatalf("flush ruleset: %v: %s", err, out)
		}
		if err := exec.Command("ip", "netns", "exec", ns, nft, "-f", path).Run(); err != nil {
			continue // nft 1.0.6 or this kernel does not accept it
		}
		total++
		f, err := parser.ParseFile(path, parser.Options{})
		if err != nil {
			fail("parse: %v", err)
			continue
		}
		b, err := compiler.Compile(f)
		if err != nil {
			fail("compile: %v", err)
			continue
		}
		d, err := plan.FromBatch(*b)
		if err != nil {
			fail("not declarative: %v", err)
			continue
		}
		snap, err := kernel.ReadSnapshot(context.Background(), ns, d.Manages)
		if err != nil {
			fail("read: %v", err)
			continue
		}
		p := plan.Make(d, snap.Tables, plan.Options{})
		if !p.Empty() {
			var cs []string
			for _, c := range p.Changes {
				cs = append(cs, fmt.Sprintf("%c %s %s %s", c.Mark, c.Table, c.Kind, c.Name))
			}
			fail("%d operations planned after nft -f of the same file: %s", len(p.Batch.Ops), strings.Join(cs, "; "))
			continue
		}
		passed++
	}
	report(t, "shell-dumps-declarative-nodiff", passed, total)
}
