package conformance

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nftflow/nftflow/internal/corpus"
	"github.com/nftflow/nftflow/parser"
	"github.com/nftflow/nftflow/render"
)

// TestFmtNftListings is a differential test against the installed nft:
// the tests/py rules of each .t file are loaded into a throwaway network
// namespace, and fmt of `nft list ruleset` must reproduce the listing byte
// for byte. Files whose rules the host kernel cannot load are not counted
// as passed.
func TestFmtNftListings(t *testing.T) {
	dir := corpusDir(t)
	if os.Geteuid() != 0 {
		t.Skip("needs root for a network namespace")
	}
	if _, err := exec.LookPath("nft"); err != nil {
		t.Skip("nft not installed")
	}
	ns := fmt.Sprintf("nftflow-test-fmtlist-%d", os.Getpid())
	if out, err := exec.Command("ip", "netns", "add", ns).CombinedOutput(); err != nil {
		t.Skipf("ip netns add: %v: %s", err, out)
	}
	t.Cleanup(func() { exec.Command("ip", "netns", "del", ns).Run() })
	nft := func(stdin string, args ...string) (string, error) {
		cmd := exec.Command("ip", append([]string{"netns", "exec", ns, "nft"}, args...)...)
		cmd.Stdin = strings.NewReader(stdin)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			return "", fmt.Errorf("%w: %s", err, stderr.String())
		}
		return string(out), nil
	}
	files, err := corpus.PyFiles(dir)
	if err != nil {
		t.Fatal(err)
	}
	passed, total := 0, 0
	for _, path := range files {
		pf, err := corpus.ReadPy(path)
		if err != nil || len(pf.Tables) == 0 {
			continue
		}
		total++
		name := rel(dir, path)
		if _, err := nft("", "flush", "ruleset"); err != nil {
			t.Fatal(err)
		}
		// the tables and chains of the file, its sets and objects
		var decls []string
		for _, l := range pf.Lines {
			if (l.Kind == '!' || l.Kind == '%') && l.OK {
				if d := pyDecl(l); d != "" {
					decls = append(decls, d)
				}
			}
		}
		var skel strings.Builder
		for _, tb := range pf.Tables {
			fmt.Fprintf(&skel, "table %s %s {\n", tb.Family, tb.Name)
			for _, d := range decls {
				fmt.Fprintf(&skel, "\t%s\n", d)
			}
			for _, c := range tb.Chains {
				fmt.Fprintf(&skel, "\tchain %s { %s; }\n", c, pf.Chains[c])
			}
			skel.WriteString("}\n")
		}
		if _, err := nft(skel.String(), "-f", "-"); err != nil {
			t.Logf("%s: the kernel refuses the tables: %v", name, err)
			continue
		}
		loaded := 0
		for _, tb := range pf.Tables {
			for _, l := range pf.Lines {
				if l.Kind != 0 || !l.OK {
					continue
				}
				cmd := fmt.Sprintf("add rule %s %s %s %s\n", tb.Family, tb.Name, tb.Chains[0], l.Text)
				if _, err := nft(cmd, "-f", "-"); err == nil {
					loaded++
				}
			}
		}
		listing, err := nft("", "list", "ruleset")
		if err != nil {
			t.Fatal(err)
		}
		f, err := parser.ParseString(name+" (nft list ruleset)", listing)
		if err != nil {
			t.Errorf("%s: nft's listing does not parse: %v", name, err)
			continue
		}
		if got := render.FormatFile(f); !bytes.Equal(got, []byte(listing)) {
			t.Errorf("%s: fmt of nft's listing differs:\n%s", name, render.FormatDiff("nft list ruleset", "fmt", []byte(listing), got))
			continue
		}
		if loaded == 0 {
			t.Logf("%s: no rule loaded", name)
			continue
		}
		passed++
	}
	t.Logf("listings checked in %s", filepath.Base(ns))
	report(t, "fmt-nft-list", passed, total)
}
