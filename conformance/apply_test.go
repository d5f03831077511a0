package conformance

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/nftflow/nftflow/internal/corpus"
	"github.com/nftflow/nftflow/kernel"
	"github.com/nftflow/nftflow/model"
)

// TestShellDumpsApply loads every tests/shell dump the installed nft
// accepts twice, each in its own network namespace: with `nft -f`, and
// parsed, compiled and sent by kernel.Apply. A dump passes when `nft list
// ruleset` prints the same text for both namespaces: the peer's own
// listing is the judge. It needs root and nft.
func TestShellDumpsApply(t *testing.T) {
	dir := corpusDir(t)
	nft := requirePeer(t)
	peer, ours := newNetns(t, "apply-conf-peer"), newNetns(t, "apply-conf-ours")
	list := func(ns string) (string, error) {
		out, err := exec.Command("ip", "netns", "exec", ns, nft, "list", "ruleset").CombinedOutput()
		return string(out), err
	}
	flush := model.Batch{Ops: []model.Op{{Verb: model.VerbFlush, Obj: &model.Ruleset{}}}}

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
		if err := kernel.Apply(context.Background(), flush, kernel.Options{NetNS: peer}); err != nil {
			t.Fatalf("flush ruleset: %v", err)
		}
		if err := exec.Command("ip", "netns", "exec", peer, nft, "-f", path).Run(); err != nil {
			continue // nft 1.0.6 or this kernel does not accept it
		}
		want, err := list(peer)
		if err != nil {
			continue
		}
		total++
		got, err := applyFresh(t, nft, ours, path)
		if err != nil {
			fail("%v", err)
			continue
		}
		if got != want {
			fail("listing differs:\n%s\nnft -f:\n%s", got, want)
			continue
		}
		passed++
	}
	report(t, "shell-apply-dumps", passed, total)
}
