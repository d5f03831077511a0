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
// for byte; then the same rules, formatted by fmt, are loaded the same way
// and must list identically (fmt changes layout, not meaning). Files whose
// rules the host kernel cannot load are not counted as passed.
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
		// every accepted rule, in each table; all in one batch, or one by
		// one when the batch fails
		var cmds, loaded []string
		for _, tb := range pf.Tables {
			for _, l := range pf.Lines {
				if l.Kind == 0 && l.OK {
					cmds = append(cmds, fmt.Sprintf("add rule %s %s %s %s\n", tb.Family, tb.Name, tb.Chains[0], l.Text))
				}
			}
		}
		batched := false
		if _, err := nft(strings.Join(cmds, ""), "-f", "-"); err == nil {
			loaded, batched = cmds, true
		} else {
			for _, c := range cmds {
				if _, err := nft(c, "-f", "-"); err == nil {
					loaded = append(loaded, c)
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
		if len(loaded) == 0 {
			t.Logf("%s: no rule loaded", name)
			continue
		}
		// the formatted commands load to the same ruleset, the same way
		// (one batch, or one by one): fmt changes layout, not meaning
		var formatted []string
		for _, c := range loaded {
			cf, err := parser.ParseString(name, c)
			if err != nil {
				t.Errorf("%s: %v", name, err)
				break
			}
			formatted = append(formatted, string(render.FormatFile(cf)))
		}
		if len(formatted) != len(loaded) {
			continue
		}
		if _, err := nft("", "flush", "ruleset"); err != nil {
			t.Fatal(err)
		}
		if _, err := nft(skel.String(), "-f", "-"); err != nil {
			t.Fatal(err)
		}
		batches := formatted
		if batched {
			batches = []string{strings.Join(formatted, "")}
		}
		refused := false
		for _, b := range batches {
			if _, err := nft(b, "-f", "-"); err != nil {
				t.Errorf("%s: nft refuses the formatted rules: %v", name, err)
				refused = true
				break
			}
		}
		if refused {
			continue
		}
		again, err := nft("", "list", "ruleset")
		if err != nil {
			t.Fatal(err)
		}
		if again != listing {
			t.Errorf("%s: the formatted rules list differently:\n%s", name, render.FormatDiff("original", "formatted", []byte(listing), []byte(again)))
			continue
		}
		passed++
	}
	t.Logf("listings checked in %s", filepath.Base(ns))
	report(t, "fmt-nft-list", passed, total)
}
