package conformance

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nftflow/nftflow/cmd"
	"github.com/nftflow/nftflow/internal/corpus"
)

// TestListRoundtrip is the list-roundtrip suite: every non-empty corpus
// dump that nft -f loads into a fresh namespace is listed by `nftflow list
// ruleset`; `nftflow apply` of that listing into a second fresh namespace
// must give the same kernel state, judged by `nft list ruleset` of both
// namespaces being byte-identical.
func TestListRoundtrip(t *testing.T) {
	dir := corpusDir(t)
	nft := requirePeer(t)
	dumps, err := corpus.Dumps(dir)
	if err != nil {
		t.Fatal(err)
	}
	nsA := fmt.Sprintf("nftflow-test-rtA-%d", os.Getpid())
	nsB := fmt.Sprintf("nftflow-test-rtB-%d", os.Getpid())
	tmp := t.TempDir()
	passed, total := 0, 0
	for _, p := range dumps {
		b, err := os.ReadFile(p)
		if err != nil || len(bytes.TrimSpace(b)) == 0 {
			continue
		}
		want, ok := loadDump(t, nsA, p)
		if !ok {
			continue
		}
		total++
		rel, _ := filepath.Rel(dir, p)
		if why := roundtrip(t, nft, nsA, nsB, tmp, want); why != "" {
			if *listVerbose {
				t.Logf("%s: %s", rel, why)
			}
		} else {
			passed++
		}
		exec.Command("ip", "netns", "del", nsA).Run()
		exec.Command("ip", "netns", "del", nsB).Run()
	}
	report(t, "list-roundtrip", passed, total)
}

// roundtrip lists nsA with nftflow, applies the listing into a fresh nsB
// and compares nft's listings of both; it returns why they differ, or "".
func roundtrip(t *testing.T, nft, nsA, nsB, tmp, want string) string {
	t.Helper()
	var out, errOut bytes.Buffer
	if code := cmd.Main([]string{"list", "ruleset", "--netns", nsA}, nil, &out, &errOut); code != 0 {
		return fmt.Sprintf("list: exit %d: %s", code, strings.TrimSpace(errOut.String()))
	}
	f := filepath.Join(tmp, "listed.nft")
	if err := os.WriteFile(f, out.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	exec.Command("ip", "netns", "del", nsB).Run()
	if o, err := exec.Command("ip", "netns", "add", nsB).CombinedOutput(); err != nil {
		t.Fatalf("ip netns add: %v: %s", err, o)
	}
	t.Cleanup(func() { exec.Command("ip", "netns", "del", nsB).Run() })
	out.Reset()
	errOut.Reset()
	if code := cmd.Main([]string{"apply", "--netns", nsB, f}, nil, &out, &errOut); code != 0 {
		return fmt.Sprintf("apply: exit %d: %s", code, firstLines(errOut.String(), 4))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	got, err := exec.CommandContext(ctx, "ip", "netns", "exec", nsB, nft, "list", "ruleset").CombinedOutput()
	if err != nil {
		return fmt.Sprintf("nft list: %v: %s", err, got)
	}
	if string(got) != want {
		return "state differs: " + firstDiff(want, string(got))
	}
	return ""
}

// firstLines returns the first n lines of s, trimmed.
func firstLines(s string, n int) string {
	l := strings.Split(strings.TrimSpace(s), "\n")
	if len(l) > n {
		l = l[:n]
	}
	return strings.Join(l, "\n")
}
