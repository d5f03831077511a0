package conformance

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"testing"

	"github.com/nftflow/nftflow/compiler"
	"github.com/nftflow/nftflow/kernel"
	"github.com/nftflow/nftflow/model"
	"github.com/nftflow/nftflow/parser"
)

// requirePeer skips the test unless it runs as root (for network
// namespaces) with nft installed, and returns nft's path.
func requirePeer(t *testing.T) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("skipping: needs root for network namespaces")
	}
	nft, err := exec.LookPath("nft")
	if err != nil {
		t.Skip("skipping: nft not installed")
	}
	return nft
}

// newNetns creates the throwaway namespace nftflow-test-NAME-PID, removed
// when the test ends; it skips when namespaces cannot be made.
func newNetns(t *testing.T, name string) string {
	t.Helper()
	ns := fmt.Sprintf("nftflow-test-%s-%d", name, os.Getpid())
	if out, err := exec.Command("ip", "netns", "add", ns).CombinedOutput(); err != nil {
		t.Skipf("skipping: cannot create a network namespace: %v: %s", err, out)
	}
	t.Cleanup(func() { _ = exec.Command("ip", "netns", "del", ns).Run() })
	return ns
}

// applyFresh empties ns, then parses, compiles and sends path with
// kernel.Apply, and returns `nft list ruleset` of ns: the peer's listing of
// what nftflow loaded. The error says which stage failed.
func applyFresh(t *testing.T, nft, ns, path string) (string, error) {
	t.Helper()
	flush := model.Batch{Ops: []model.Op{{Verb: model.VerbFlush, Obj: &model.Ruleset{}}}}
	if err := kernel.Apply(context.Background(), flush, kernel.Options{NetNS: ns}); err != nil {
		t.Fatalf("flush ruleset: %v", err)
	}
	f, err := parser.ParseFile(path, parser.Options{})
	if err != nil {
		return "", fmt.Errorf("parse: %w", err)
	}
	b, err := compiler.Compile(f)
	if err != nil {
		return "", fmt.Errorf("compile: %w", err)
	}
	if err := kernel.Apply(context.Background(), *b, kernel.Options{NetNS: ns}); err != nil {
		return "", fmt.Errorf("apply: %w", err)
	}
	out, err := exec.Command("ip", "netns", "exec", ns, nft, "list", "ruleset").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("list: %w: %s", err, out)
	}
	return string(out), nil
}
