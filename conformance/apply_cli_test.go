package conformance

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"

	"github.com/nftflow/nftflow/internal/corpus"
)

var (
	binOnce sync.Once
	binPath string
	binErr  error
)

// nftflowBinary returns $NFTFLOW_BIN (make sets it) or builds the command
// once for the whole test binary.
func nftflowBinary(t *testing.T) string {
	t.Helper()
	binOnce.Do(func() {
		if b := os.Getenv("NFTFLOW_BIN"); b != "" {
			if _, err := os.Stat(b); err == nil {
				binPath = b
				return
			}
		}
		dir, err := os.MkdirTemp("", "nftflow-conformance-bin")
		if err != nil {
			binErr = err
			return
		}
		binPath = filepath.Join(dir, "nftflow")
		if out, err := exec.Command("go", "build", "-o", binPath, "../cmd/nftflow").CombinedOutput(); err != nil {
			binErr = fmt.Errorf("go build: %v: %s", err, out)
		}
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return binPath
}

// TestDumpsApplyCLI measures what the issue asks of `nftflow apply`, the
// command users run: for every non-empty dump, apply it into a fresh
// namespace and compare `nft list ruleset` (the peer's own listing) with the
// dump itself. nft -f of the same dump is measured the same way, side by
// side, and every dump nft reproduces must be reproduced by nftflow too.
func TestDumpsApplyCLI(t *testing.T) {
	dir := corpusDir(t)
	nft := requirePeer(t)
	bin := nftflowBinary(t)
	peer, ours := newNetns(t, "applycli-peer"), newNetns(t, "applycli-ours")
	inNS := func(ns string, args ...string) ([]byte, error) {
		return exec.Command("ip", append([]string{"netns", "exec", ns}, args...)...).CombinedOutput()
	}
	// exact loads path into ns with load and reports whether nft's listing
	// then equals the dump.
	exact := func(ns string, want []byte, load ...string) (loaded, same bool) {
		if out, err := inNS(ns, nft, "flush", "ruleset"); err != nil {
			t.Fatalf("flush ruleset: %v: %s", err, out)
		}
		if _, err := exec.Command(load[0], load[1:]...).CombinedOutput(); err != nil {
			return false, false
		}
		got, err := inNS(ns, nft, "list", "ruleset")
		return true, err == nil && bytes.Equal(got, want)
	}
	dumps, err := corpus.Dumps(dir)
	if err != nil {
		t.Fatal(err)
	}
	verbose := os.Getenv("NFTFLOW_CONFORMANCE_VERBOSE") != ""
	var total, nftLoads, nftExact, oursLoads, oursExact, oursWhereNft, beyondNft int
	for _, path := range dumps {
		raw, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		want := corpus.StripCount(raw)
		if len(bytes.TrimSpace(want)) == 0 {
			continue
		}
		total++
		nl, ne := exact(peer, want, "ip", "netns", "exec", peer, nft, "-f", path)
		ol, oe := exact(ours, want, bin, "apply", "--netns", ours, "--no-preflight", path)
		if !ol {
			// --no-preflight may not exist in older builds: try without.
			ol, oe = exact(ours, want, bin, "apply", "--netns", ours, path)
		}
		if nl {
			nftLoads++
		}
		if ne {
			nftExact++
		}
		if ol {
			oursLoads++
		}
		if oe {
			oursExact++
			if ne {
				oursWhereNft++
			} else {
				beyondNft++
			}
		}
		if ne && !oe && verbose {
			rel, _ := filepath.Rel(dir, path)
			t.Logf("%s: nft -f reproduces the dump, nftflow apply does not (loaded: %v)", rel, ol)
		}
	}
	fmt.Printf("apply-dumps: %d non-empty dumps; nft -f loads %d and reproduces %d; nftflow apply loads %d and reproduces %d (%d of nft's %d, %d more)\n",
		total, nftLoads, nftExact, oursLoads, oursExact, oursWhereNft, nftExact, beyondNft)
	report(t, "apply-dumps-exact", oursExact, total)
	report(t, "apply-dumps-where-nft-exact", oursWhereNft, nftExact)
}
