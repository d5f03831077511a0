package conformance

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/nftflow/nftflow/internal/corpus"
)

var chainStart = regexp.MustCompile(`^\tchain \S+ \{$`)

// editRules deletes the middle one of the one-line rules of the first
// chain that has two or more, and moves the chain's last such rule to
// its start: the edit a user makes by hand. ok is false when no chain
// has two one-line rules.
func editRules(text string) (string, bool) {
	lines := strings.Split(text, "\n")
	oneLineRule := func(i int) bool {
		l := lines[i]
		return strings.HasPrefix(l, "\t\t") && !strings.HasPrefix(l, "\t\t\t") &&
			!strings.Contains(l, " hook ") && !strings.HasPrefix(l, "\t\tpolicy ") &&
			!strings.HasSuffix(l, "{") && !strings.HasSuffix(l, ",") &&
			(i+1 >= len(lines) || !strings.HasPrefix(lines[i+1], "\t\t\t"))
	}
	var rules []int
	for i := 0; i < len(lines) && len(rules) < 2; i++ {
		if !chainStart.MatchString(lines[i]) {
			continue
		}
		rules = rules[:0]
		for i++; i < len(lines) && lines[i] != "\t}"; i++ {
			if oneLineRule(i) {
				rules = append(rules, i)
			}
		}
	}
	if len(rules) < 2 {
		return "", false
	}
	del, last, first := rules[len(rules)/2], rules[len(rules)-1], rules[0]
	var out []string
	for i, l := range lines {
		if i == first {
			out = append(out, lines[last])
		}
		if i != del && i != last {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n"), true
}

// TestDumpsIncremental checks the incremental apply against the corpus:
// each dump that nftflow apply loads is applied, edited (a rule deleted,
// another moved) and applied again; the second apply must take the
// incremental path and leave exactly what nft -f makes of the edited file.
func TestDumpsIncremental(t *testing.T) {
	dir := corpusDir(t)
	nft := requirePeer(t)
	bin := nftflowBinary(t)
	t.Setenv("NFTFLOW_STATE_DIR", t.TempDir())
	peer, ours := newNetns(t, "incr-peer"), newNetns(t, "incr-ours")
	inNS := func(ns string, args ...string) ([]byte, error) {
		return exec.Command("ip", append([]string{"netns", "exec", ns}, args...)...).CombinedOutput()
	}
	dumps, err := corpus.Dumps(dir)
	if err != nil {
		t.Fatal(err)
	}
	work := filepath.Join(t.TempDir(), "ruleset.nft")
	verbose := os.Getenv("NFTFLOW_CONFORMANCE_VERBOSE") != ""
	var total, passed, full int
	for _, path := range dumps {
		raw, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		text := string(corpus.StripCount(raw))
		edited, ok := editRules(text)
		if !ok || edited == text {
			continue
		}
		for _, ns := range []string{ours, peer} {
			if out, err := inNS(ns, nft, "flush", "ruleset"); err != nil {
				t.Fatalf("flush ruleset: %v: %s", err, out)
			}
		}
		if err := os.WriteFile(work, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := exec.Command(bin, "apply", "--no-preflight", "--netns", ours, work).CombinedOutput(); err != nil {
			continue // nftflow cannot load the dump here (see apply-dumps)
		}
		if err := os.WriteFile(work, []byte(edited), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := inNS(peer, nft, "-f", work); err != nil {
			continue // nft refuses the edit (a rule another depends on)
		}
		total++
		rel, _ := filepath.Rel(dir, path)
		msg, err := exec.Command(bin, "apply", "-v", "--no-preflight", "--netns", ours, work).CombinedOutput()
		if err != nil {
			t.Errorf("%s: apply of the edited dump: %v: %s", rel, err, msg)
			continue
		}
		got, err1 := inNS(ours, nft, "list", "ruleset")
		want, err2 := inNS(peer, nft, "list", "ruleset")
		if err1 != nil || err2 != nil || !bytes.Equal(got, want) {
			t.Errorf("%s: after the edit, nftflow apply (%s) lists\n%s\nnft -f lists\n%s", rel, bytes.TrimSpace(msg), got, want)
			continue
		}
		if !bytes.Contains(msg, []byte("(incremental)")) {
			full++
			if verbose {
				t.Logf("%s: full apply: %s", rel, bytes.TrimSpace(msg))
			}
			continue
		}
		passed++
	}
	fmt.Printf("incremental-dumps: %d dumps edited (a rule deleted, another moved): %d applied incrementally with nft's result, %d took the full path (same result)\n", total, passed, full)
	report(t, "incremental-dumps", passed, total)
}
