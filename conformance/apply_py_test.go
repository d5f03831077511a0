package conformance

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nftflow/nftflow/internal/corpus"
	"github.com/nftflow/nftflow/kernel"
	"github.com/nftflow/nftflow/model"
)

// TestPyApply loads, per tests/py .t file and table, one ruleset holding
// the file's sets and objects and every rule it marks ok that the
// installed nft accepts, with `nft -f`
// and with kernel.Apply, each in its own network namespace, and compares
// `nft list ruleset`.
// This exercises the encoding of every expression kind against the
// kernel, judged by the peer's listing. It needs root and nft.
func TestPyApply(t *testing.T) {
	dir := corpusDir(t)
	nft := requirePeer(t)
	peer, ours := newNetns(t, "apply-py-peer"), newNetns(t, "apply-py-ours")
	flush := model.Batch{Ops: []model.Op{{Verb: model.VerbFlush, Obj: &model.Ruleset{}}}}
	list := func(ns string) (string, error) {
		out, err := exec.Command("ip", "netns", "exec", ns, nft, "list", "ruleset").CombinedOutput()
		return string(out), err
	}
	files, err := corpus.PyFiles(dir)
	if err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	verbose := os.Getenv("NFTFLOW_CONFORMANCE_VERBOSE") != ""
	passed, total, rulesTotal, rulesPassed := 0, 0, 0, 0
	for _, path := range files {
		pf, err := corpus.ReadPy(path)
		if err != nil {
			t.Errorf("%v", err)
			continue
		}
		var decls, rules []string
		for _, l := range pf.Lines {
			switch {
			case !l.OK:
			case l.Kind == '!' || l.Kind == '%':
				if d := pyDecl(l); d != "" {
					decls = append(decls, d)
				}
			case l.Kind == 0:
				rules = append(rules, l.Text)
			}
		}
		for _, tb := range pf.Tables {
			chain := tb.Chains[0]
			rel, _ := filepath.Rel(dir, path)
			file := filepath.Join(tmp, strings.ReplaceAll(rel, "/", "_")+"."+tb.Family+".nft")
			write := func(rules []string) {
				src := fmt.Sprintf("table %s %s {\n%s\nchain %s {\n%s\n%s\n}\n}\n", tb.Family, tb.Name,
					strings.Join(decls, "\n"), chain, specLine(pf.Chains[chain]), strings.Join(rules, "\n"))
				if err := os.WriteFile(file, []byte(src), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			// nft accepts: checked with nft -c in the peer namespace.
			accepts := func(rules []string) bool {
				write(rules)
				return exec.Command("ip", "netns", "exec", peer, nft, "-c", "-f", file).Run() == nil
			}
			// Keep the rules the installed nft (1.0.6) and this kernel
			// accept, found by bisection: the corpus is newer than nft.
			var keep func(rules []string) []string
			keep = func(rules []string) []string {
				if len(rules) == 0 || accepts(rules) {
					return rules
				}
				if len(rules) == 1 {
					return nil
				}
				h := len(rules) / 2
				return append(keep(rules[:h]), keep(rules[h:])...)
			}
			if err := kernel.Apply(context.Background(), flush, kernel.Options{NetNS: peer}); err != nil {
				t.Fatalf("flush ruleset: %v", err)
			}
			kept := keep(rules)
			if len(kept) == 0 || !accepts(kept) {
				continue
			}
			write(kept)
			if err := kernel.Apply(context.Background(), flush, kernel.Options{NetNS: peer}); err != nil {
				t.Fatalf("flush ruleset: %v", err)
			}
			if err := exec.Command("ip", "netns", "exec", peer, nft, "-f", file).Run(); err != nil {
				continue // the installed nft or this kernel refuses some rule
			}
			rulesTotal += len(kept)
			want, err := list(peer)
			if err != nil {
				continue
			}
			total++
			fail := func(format string, args ...any) {
				if verbose {
					t.Logf("%s (%s): %s", rel, tb.Family, fmt.Sprintf(format, args...))
				}
			}
			got, err := applyFresh(t, nft, ours, file)
			if err != nil {
				fail("%v", err)
				continue
			}
			if got != want {
				fail("listing differs:\n%s\nnft -f:\n%s", got, want)
				continue
			}
			passed++
			rulesPassed += len(kept)
		}
	}
	t.Logf("rules in passing rulesets: %d of %d", rulesPassed, rulesTotal)
	report(t, "py-apply", passed, total)
}
