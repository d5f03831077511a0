package conformance

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
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
	for i, b := range blocks {
		blocks[i] = mergeRangeCmps(b)
	}
	return blocks
}

// mergeRangeCmps rewrites nft 1.0.6's "cmp gte reg R A" + "cmp lte reg R
// B" pair as the "range eq reg R A B" newer nft (and nftflow) emits for
// the same match; both list back as A-B.
func mergeRangeCmps(lines []string) []string {
	var out []string
	for i := 0; i < len(lines); i++ {
		var r1, r2 int
		var a, b string
		if i+1 < len(lines) {
			n1, _ := fmt.Sscanf(lines[i], "[ cmp gte reg %d %s ]", &r1, &a)
			n2, _ := fmt.Sscanf(lines[i+1], "[ cmp lte reg %d %s ]", &r2, &b)
			ga := strings.TrimSuffix(strings.TrimPrefix(lines[i], fmt.Sprintf("[ cmp gte reg %d ", r1)), " ]")
			gb := strings.TrimSuffix(strings.TrimPrefix(lines[i+1], fmt.Sprintf("[ cmp lte reg %d ", r2)), " ]")
			if n1 == 2 && n2 == 2 && r1 == r2 {
				out = append(out, fmt.Sprintf("[ range eq reg %d %s %s ]", r1, ga, gb))
				i++
				continue
			}
		}
		out = append(out, lines[i])
	}
	return out
}

// TestShellDumpsAgainstNft compiles every tests/shell dump that the
// installed nft accepts and compares each rule's expressions with what
// `nft --debug=netlink -c` prints for it, in a throwaway network
// namespace. It needs root and /usr/sbin/nft.
func TestShellDumpsAgainstNft(t *testing.T) {
	dir := corpusDir(t)
	nft := requirePeer(t)
	ns := newNetns(t, "compile")

	dumps, err := corpus.Dumps(dir)
	if err != nil {
		t.Fatal(err)
	}
	verbose := os.Getenv("NFTFLOW_CONFORMANCE_VERBOSE") != ""
	passed, total, setsPassed := 0, 0, 0
	for _, path := range dumps {
		out, err := exec.Command("ip", "netns", "exec", ns, nft, "--debug=netlink", "-c", "-f", path).CombinedOutput()
		if err != nil {
			continue // nft 1.0.6 does not accept this (newer) syntax
		}
		want := nftRuleBlocks(out)
		total++
		if m := compareSetsWithNft(path, out); m == "" {
			setsPassed++
		} else if verbose {
			rel, _ := filepath.Rel(dir, path)
			t.Logf("%s: sets: %s", rel, m)
		}
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
	report(t, "shell-compile-nft-sets", setsPassed, total)
}

// nftSetLines returns the set header lines (deduplicated) and the set
// elements of `nft --debug=netlink` output.
func nftSetLines(out []byte) (headers map[string]bool, elems []string) {
	headers = map[string]bool{}
	for _, l := range strings.Split(string(out), "\n") {
		switch {
		case strings.HasPrefix(l, "\telement "):
			for _, e := range strings.Split(l, "\t") {
				if e != "" {
					elems = append(elems, e)
				}
			}
		case strings.HasPrefix(l, " ") || strings.HasPrefix(l, "\t") || l == "":
		default:
			f := strings.Fields(l)
			if len(f) < 3 {
				continue
			}
			if _, fam := model.ParseFamily(f[0]); fam || f[0] == "table" || f[0] == "flow" {
				continue
			}
			if strings.HasPrefix(l, "userdata") {
				continue
			}
			headers[strings.TrimSpace(l)] = true
		}
	}
	sort.Strings(elems)
	return headers, elems
}

// compareSetsWithNft compares the sets a file declares and creates.
func compareSetsWithNft(path string, out []byte) string {
	f, err := parser.ReadFile(path)
	if err != nil {
		return "parse"
	}
	b, err := compiler.Compile(f)
	if err != nil {
		return "compile"
	}
	wantH, wantE := nftSetLines(out)
	gotH := map[string]bool{}
	var gotE []string
	for _, op := range b.Ops {
		var s *model.Set
		var els []model.SetElem
		switch x := op.Obj.(type) {
		case *model.Set:
			s, els = x, x.Elements
		case *model.SetElems:
			for _, e := range x.Elements {
				gotE = append(gotE, render.NetlinkElementLegacy(&e))
			}
			continue
		default:
			continue
		}
		if op.Verb != model.VerbAdd && op.Verb != model.VerbCreate {
			continue
		}
		gotH[render.NetlinkSetHeader(s)] = true
		if len(els) > 0 {
			gotH[s.Name+" "+s.Table+" 0"] = true
		}
		for i := range els {
			gotE = append(gotE, render.NetlinkElementLegacy(&els[i]))
		}
	}
	sort.Strings(gotE)
	for h := range wantH {
		if !gotH[h] {
			return "missing set header " + h
		}
	}
	for h := range gotH {
		if !wantH[h] {
			return "extra set header " + h
		}
	}
	if strings.Join(gotE, "|") != strings.Join(wantE, "|") {
		return fmt.Sprintf("elements differ: %d vs %d", len(gotE), len(wantE))
	}
	return ""
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

// TestExamplesAgainstNft compares the repository's example rulesets and
// compile golden inputs with nft the same way; every file nft accepts must
// match rule for rule.
func TestExamplesAgainstNft(t *testing.T) {
	nft := requirePeer(t)
	ns := newNetns(t, "examples")
	files, _ := filepath.Glob("../examples/*.nft")
	more, _ := filepath.Glob("../compiler/testdata/compile/*.nft")
	compared := 0
	for _, path := range append(files, more...) {
		out, err := exec.Command("ip", "netns", "exec", ns, nft, "--debug=netlink", "-c", "-f", path).CombinedOutput()
		if err != nil {
			t.Logf("%s: nft refuses it here (%s), not compared", path, firstLine(string(out)))
			continue
		}
		compared++
		if msg := compareWithNft(path, nftRuleBlocks(out)); msg != "" {
			t.Errorf("%s: %s", path, msg)
		}
	}
	if compared == 0 {
		t.Fatal("no example was compared")
	}
}
