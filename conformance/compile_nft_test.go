package conformance

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nftflow/nftflow/compiler"
	"github.com/nftflow/nftflow/internal/corpus"
	"github.com/nftflow/nftflow/model"
	"github.com/nftflow/nftflow/parser"
	"github.com/nftflow/nftflow/render"
)

// nftRuleBlocks extracts the expression lists of the rules in
// `nft --debug=netlink` output: each run of "  [ ... ]" lines.
func nftRuleBlocks(out []byte) [][]string {
	var blocks [][]string
	var cur []string
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		l := sc.Text()
		if strings.HasPrefix(l, "  [ ") {
			cur = append(cur, strings.TrimSpace(l))
			continue
		}
		if cur != nil {
			blocks = append(blocks, cur)
			cur = nil
		}
	}
	if cur != nil {
		blocks = append(blocks, cur)
	}
	return blocks
}

// TestShellDumpsAgainstNft compiles every tests/shell dump that the
// installed nft accepts and compares each rule's expressions with what
// `nft --debug=netlink -c` prints for it, in a throwaway network
// namespace. It needs root and /usr/sbin/nft.
func TestShellDumpsAgainstNft(t *testing.T) {
	dir := corpusDir(t)
	if os.Geteuid() != 0 {
		t.Skip("skipping the differential test against nft: needs root for a network namespace")
	}
	nft, err := exec.LookPath("nft")
	if err != nil {
		t.Skip("skipping the differential test against nft: nft not installed")
	}
	ns := fmt.Sprintf("nftflow-test-compile-%d", os.Getpid())
	if out, err := exec.Command("ip", "netns", "add", ns).CombinedOutput(); err != nil {
		t.Skipf("skipping: cannot create a network namespace: %v: %s", err, out)
	}
	t.Cleanup(func() { _ = exec.Command("ip", "netns", "del", ns).Run() })

	dumps, err := corpus.Dumps(dir)
	if err != nil {
		t.Fatal(err)
	}
	verbose := os.Getenv("NFTFLOW_CONFORMANCE_VERBOSE") != ""
	passed, total := 0, 0
	for _, path := range dumps {
		out, err := exec.Command("ip", "netns", "exec", ns, nft, "--debug=netlink", "-c", "-f", path).CombinedOutput()
		if err != nil {
			continue // nft 1.0.6 does not accept this (newer) syntax
		}
		want := nftRuleBlocks(out)
		total++
		msg := compareWithNft(path, want)
		if msg == "" {
			passed++
			continue
		}
		if verbose {
			rel, _ := filepath.Rel(dir, path)
			t.Logf("%s: %s", rel, msg)
		}
	}
	report(t, "shell-compile-nft", passed, total)
}

func compareWithNft(path string, want [][]string) (msg string) {
	defer func() {
		if r := recover(); r != nil {
			msg = fmt.Sprintf("panic: %v", r)
		}
	}()
	f, err := parser.ReadFile(path)
	if err != nil {
		return "parse: " + firstLine(err.Error())
	}
	b, err := compiler.Compile(f)
	if err != nil {
		return "compile: " + firstLine(err.Error())
	}
	var got [][]string
	for _, op := range b.Ops {
		r, ok := op.Obj.(*model.Rule)
		if !ok || op.Verb == model.VerbDelete || op.Verb == model.VerbDestroy {
			continue
		}
		var lines []string
		for _, e := range r.Exprs {
			lines = append(lines, render.NetlinkExprLegacy(e))
		}
		if len(lines) > 0 {
			got = append(got, lines)
		}
	}
	if len(got) != len(want) {
		return fmt.Sprintf("%d rules, nft has %d", len(got), len(want))
	}
	for i := range got {
		for j := 0; j < len(got[i]) || j < len(want[i]); j++ {
			g, w := "(none)", "(none)"
			if j < len(got[i]) {
				g = got[i][j]
			}
			if j < len(want[i]) {
				w = want[i][j]
			}
			if g != w {
				return fmt.Sprintf("rule %d: got %s want %s", i+1, g, w)
			}
		}
	}
	return ""
}

func firstLine(s string) string {
	l, _, _ := strings.Cut(s, "\n")
	return l
}
