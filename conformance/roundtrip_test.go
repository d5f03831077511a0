package conformance

import (
	"bytes"
	"context"
	"flag"
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
	passed, total, peerFails := 0, 0, 0
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
		if why, ours := roundtrip(t, nft, nsA, nsB, tmp, want); why != "" {
			// The peer's own round trip (nft -f of nft's listing) tells
			// whether the listing itself cannot reproduce the state.
			if peer, ok := nftRoundtrip(t, nsB, tmp, want); !ok {
				peerFails++
				why += " (nft's own round trip differs too"
				if ours != "" && ours == peer {
					why += ", to the same state"
				}
				why += ")"
			}
			if *listVerbose {
				t.Logf("%s: %s", rel, why)
			}
		} else {
			passed++
		}
		exec.Command("ip", "netns", "del", nsA).Run()
	}
	t.Logf("failures where nft -f of nft's own listing does not reproduce the state either: %d", peerFails)
	report(t, "list-roundtrip", passed, total)
}

// nftRoundtrip loads nft's listing want with nft -f into a fresh nsB and
// returns nft's listing of the result and whether it equals want.
func nftRoundtrip(t *testing.T, nsB, tmp, want string) (string, bool) {
	t.Helper()
	emptyNetns(t, nsB)
	if _, err := nftLoad(nsB, tmp, want); err != nil {
		return "", false
	}
	got, err := nftIn(nsB, "list", "ruleset")
	if err != nil {
		return "", false
	}
	return string(got), string(got) == want
}

// roundtrip lists nsA with nftflow, applies the listing into a fresh nsB
// and compares nft's listings of both; it returns why they differ, or "",
// and nft's listing of nsB when there is one.
func roundtrip(t *testing.T, nft, nsA, nsB, tmp, want string) (string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	if code := cmd.Main([]string{"list", "ruleset", "--netns", nsA}, nil, &out, &errOut); code != 0 {
		return fmt.Sprintf("list: exit %d: %s", code, strings.TrimSpace(errOut.String())), ""
	}
	f := filepath.Join(tmp, "listed.nft")
	if err := os.WriteFile(f, out.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	emptyNetns(t, nsB)
	out.Reset()
	errOut.Reset()
	if code := cmd.Main([]string{"apply", "--netns", nsB, f}, nil, &out, &errOut); code != 0 {
		return fmt.Sprintf("apply: exit %d: %s", code, firstLines(errOut.String(), 4)), ""
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	got, err := exec.CommandContext(ctx, "ip", "netns", "exec", nsB, nft, "list", "ruleset").CombinedOutput()
	if err != nil {
		return fmt.Sprintf("nft list: %v: %s", err, got), ""
	}
	if string(got) != want {
		return "state differs: " + firstDiff(want, string(got)), string(got)
	}
	return "", string(got)
}

// emptyNetns makes ns an existing namespace with an empty ruleset: it is
// created on first use (and removed when the test ends), flushed after.
func emptyNetns(t *testing.T, ns string) {
	t.Helper()
	if _, err := os.Stat(filepath.Join("/run/netns", ns)); err == nil {
		if out, err := nftIn(ns, "flush", "ruleset"); err != nil {
			t.Fatalf("flush ruleset in %s: %v: %s", ns, err, out)
		}
		return
	}
	if o, err := exec.Command("ip", "netns", "add", ns).CombinedOutput(); err != nil {
		t.Fatalf("ip netns add: %v: %s", err, o)
	}
	t.Cleanup(func() { exec.Command("ip", "netns", "del", ns).Run() })
}

// firstLines returns the first n lines of s, trimmed.
func firstLines(s string, n int) string {
	l := strings.Split(strings.TrimSpace(s), "\n")
	if len(l) > n {
		l = l[:n]
	}
	return strings.Join(l, "\n")
}

var pyOnly = flag.String("py-only", "", "list-roundtrip-py: only .t files whose path contains this, with full listings of failures")

// TestListRoundtripPy is the list-roundtrip-py suite: each table of the
// tests/py .t files, loaded by nft rule by rule as list-py does, is listed
// by nftflow and applied by nftflow into a fresh namespace; nft's listings
// of both namespaces are compared rule line by rule line, so that one rule
// nftflow cannot round-trip costs its lines (or its table, when the apply
// is refused) and not the suite.
func TestListRoundtripPy(t *testing.T) {
	dir := corpusDir(t)
	nft := requirePeer(t)
	files, err := corpus.PyFiles(dir)
	if err != nil {
		t.Fatal(err)
	}
	nsA := newNetns(t, "rtpyA")
	nsB := fmt.Sprintf("nftflow-test-rtpyB-%d", os.Getpid())
	tmp := t.TempDir()
	passed, total := 0, 0
	for _, path := range files {
		pf, err := corpus.ReadPy(path)
		if err != nil {
			continue
		}
		rel, _ := filepath.Rel(dir, path)
		if *pyOnly != "" && !strings.Contains(rel, *pyOnly) {
			continue
		}
		for _, tbl := range pf.Tables {
			if !loadPyTable(t, nsA, tmp, pf, tbl, rel) {
				continue
			}
			want, err := nftIn(nsA, "list", "ruleset")
			if err != nil {
				continue
			}
			why, got := roundtrip(t, nft, nsA, nsB, tmp, string(want))
			p, n := compareRuleLines(t, rel, tbl.Family, string(want), got)
			if got == "" && *listVerbose {
				t.Logf("%s %s: %s", rel, tbl.Family, why)
			}
			if *pyOnly != "" && why != "" {
				t.Logf("%s %s: %s\nnft listing of the original:\n%s\nafter the round trip:\n%s", rel, tbl.Family, why, want, got)
			}
			passed += p
			total += n
		}
	}
	report(t, "list-roundtrip-py", passed, total)
}
