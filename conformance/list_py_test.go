package conformance

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/nftflow/nftflow/cmd"
	"github.com/nftflow/nftflow/internal/corpus"
)

// TestListPy is the list-py suite: every rule of the tests/py .t files
// that nft loads (in each table the file declares) must be listed by
// `nftflow list table` exactly as `nft list table` lists it. It counts
// rule lines, so one odd rule does not hide the rest of its file.
func TestListPy(t *testing.T) {
	dir := corpusDir(t)
	if os.Geteuid() != 0 {
		t.Skip("skipping list-py: needs root for network namespaces")
	}
	if _, err := exec.LookPath("nft"); err != nil {
		t.Skip("skipping list-py: nft not installed")
	}
	files, err := corpus.PyFiles(dir)
	if err != nil {
		t.Fatal(err)
	}
	ns := fmt.Sprintf("nftflow-test-listpy-%d", os.Getpid())
	exec.Command("ip", "netns", "del", ns).Run()
	if out, err := exec.Command("ip", "netns", "add", ns).CombinedOutput(); err != nil {
		t.Fatalf("ip netns add: %v: %s", err, out)
	}
	t.Cleanup(func() { exec.Command("ip", "netns", "del", ns).Run() })
	tmp := t.TempDir()
	passed, total, passedJSON, totalJSON := 0, 0, 0, 0
	for _, path := range files {
		pf, err := corpus.ReadPy(path)
		if err != nil {
			continue
		}
		rel, _ := filepath.Rel(dir, path)
		for _, tbl := range pf.Tables {
			p, n := listPyTable(t, ns, tmp, pf, tbl, rel)
			passed += p
			total += n
			if n > 0 {
				p, n = listPyTableJSON(t, ns, tbl, rel)
				passedJSON += p
				totalJSON += n
			}
		}
	}
	report(t, "list-py", passed, total)
	report(t, "list-py-json", passedJSON, totalJSON)
}

// listPyTableJSON compares `nftflow list table -o json` with `nft -j list
// table` of the table loaded in ns rule by rule; it returns the rules
// whose statements matched and the rules nft listed.
func listPyTableJSON(t *testing.T, ns string, tbl corpus.PyTable, rel string) (int, int) {
	want, err := nftIn(ns, "-j", "list", "table", tbl.Family, tbl.Name)
	if err != nil {
		return 0, 0
	}
	var out, errOut bytes.Buffer
	cmd.Main([]string{"list", "table", tbl.Family, tbl.Name, "-o", "json", "--netns", ns}, nil, &out, &errOut)
	wr, gr := jsonRules(want), jsonRules(out.Bytes())
	passed := 0
	for i, w := range wr {
		if i < len(gr) && reflect.DeepEqual(w, gr[i]) {
			passed++
		} else if *listVerbose {
			var g any
			if i < len(gr) {
				g = gr[i]
			}
			wb, _ := json.Marshal(w)
			gb, _ := json.Marshal(g)
			t.Logf("%s %s json:\n  nft:     %s\n  nftflow: %s", rel, tbl.Family, wb, gb)
		}
	}
	return passed, len(wr)
}

// jsonRules returns the "expr" of every rule of an nft -j listing.
func jsonRules(b []byte) []any {
	var doc struct {
		Nftables []map[string]map[string]any `json:"nftables"`
	}
	if json.Unmarshal(b, &doc) != nil {
		return nil
	}
	var out []any
	for _, o := range doc.Nftables {
		if r, ok := o["rule"]; ok {
			out = append(out, r["expr"])
		}
	}
	return out
}

// nftIn runs nft in namespace ns with a timeout.
func nftIn(ns string, args ...string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return exec.CommandContext(ctx, "ip", append([]string{"netns", "exec", ns, "nft"}, args...)...).CombinedOutput()
}

// listPyTable loads one table of a .t file and compares the listings; it
// returns the rule lines that matched and the rule lines nft listed.
func listPyTable(t *testing.T, ns, tmp string, pf *corpus.PyFile, tbl corpus.PyTable, rel string) (int, int) {
	if !loadPyTable(t, ns, tmp, pf, tbl, rel) {
		return 0, 0
	}
	want, err := nftIn(ns, "list", "table", tbl.Family, tbl.Name)
	if err != nil {
		return 0, 0
	}
	var out, errOut bytes.Buffer
	cmd.Main([]string{"list", "table", tbl.Family, tbl.Name, "--netns", ns}, nil, &out, &errOut)
	return compareRuleLines(t, rel, tbl.Family, string(want), out.String())
}

// loadPyTable empties ns and loads one table of a .t file with nft: its
// chains, then every ;ok line one command at a time; it is false when nft
// refuses the table itself.
func loadPyTable(t *testing.T, ns, tmp string, pf *corpus.PyFile, tbl corpus.PyTable, rel string) bool {
	nftIn(ns, "flush", "ruleset")
	var head strings.Builder
	fmt.Fprintf(&head, "table %s %s {\n", tbl.Family, tbl.Name)
	for _, c := range tbl.Chains {
		fmt.Fprintf(&head, "\tchain %s {\n", c)
		if spec := pf.Chains[c]; spec != "" {
			fmt.Fprintf(&head, "\t\t%s;\n", spec)
		}
		head.WriteString("\t}\n")
	}
	head.WriteString("}\n")
	if out, err := nftLoad(ns, tmp, head.String()); err != nil {
		t.Logf("%s %s: base table refused: %s", rel, tbl.Family, out)
		return false
	}
	// Declarations first, then every rule into every chain, one command
	// at a time so that a refused line only loses itself.
	for _, l := range pf.Lines {
		if !l.OK {
			continue
		}
		var cmds []string
		switch l.Kind {
		case '!':
			if c := pySetDecl(tbl, l.Text); c != "" {
				cmds = append(cmds, c)
			}
		case '?':
			name, elems, _ := strings.Cut(l.Text, " ")
			cmds = append(cmds, fmt.Sprintf("add element %s %s %s { %s }", tbl.Family, tbl.Name, name, elems))
		case '%':
			if c := pyObjDecl(tbl, l.Text); c != "" {
				cmds = append(cmds, c)
			}
		default:
			for _, c := range tbl.Chains {
				cmds = append(cmds, fmt.Sprintf("add rule %s %s %s %s", tbl.Family, tbl.Name, c, l.Text))
			}
		}
		for _, c := range cmds {
			nftLoad(ns, tmp, c+"\n")
		}
	}
	return true
}

// compareRuleLines compares nft's listing want with got rule line by rule
// line (the lines inside chains, less chain types); it returns the lines
// that matched and the rule lines of want.
func compareRuleLines(t *testing.T, rel, family, want, got string) (int, int) {
	wl, gl := ruleLines(want), ruleLines(got)
	passed := 0
	for i, w := range wl {
		if i < len(gl) && gl[i] == w {
			passed++
		} else if *listVerbose {
			g := ""
			if i < len(gl) {
				g = gl[i]
			}
			rule := func(l string) string { return strings.TrimSpace(l[strings.LastIndex(l, "\n")+1:]) }
			t.Logf("%s %s:\n  nft:     %q\n  nftflow: %q", rel, family, rule(w), rule(g))
		}
	}
	return passed, len(wl)
}

// ruleLines returns the rule lines of a listing: the lines inside chains,
// less the chain type lines, each prefixed with its chain's line.
func ruleLines(listing string) []string {
	var out []string
	chain := ""
	for _, l := range strings.Split(listing, "\n") {
		switch {
		case strings.HasPrefix(l, "\tchain "):
			chain = l
		case l == "\t}":
			chain = ""
		case chain != "" && !strings.HasPrefix(l, "\t\ttype "):
			out = append(out, chain+"\n"+l)
		}
	}
	return out
}

// nftLoad loads text with nft -f in namespace ns.
func nftLoad(ns, tmp, text string) ([]byte, error) {
	f := filepath.Join(tmp, "load.nft")
	if err := os.WriteFile(f, []byte(text), 0o644); err != nil {
		return nil, err
	}
	return nftIn(ns, "-f", f)
}

// pySetDecl turns "!NAME type T [timeout X] [flags F]" into an add set
// (or map) command.
func pySetDecl(tbl corpus.PyTable, text string) string {
	name, rest, ok := strings.Cut(text, " ")
	if !ok {
		return ""
	}
	kind := "set"
	if strings.Contains(rest, " : ") {
		kind = "map"
	}
	// Separate the declaration's statements with semicolons.
	for _, kw := range []string{" timeout ", " flags ", " size ", " policy ", " counter", " gc-interval "} {
		rest = strings.ReplaceAll(rest, kw, ";"+kw)
	}
	return fmt.Sprintf("add %s %s %s %s { %s; }", kind, tbl.Family, tbl.Name, name, rest)
}

// pyObjDecl turns "%NAME type counter|quota ...|limit ...|ct helper {...}"
// into an add command for the named object.
func pyObjDecl(tbl corpus.PyTable, text string) string {
	name, rest, ok := strings.Cut(text, " type ")
	if !ok {
		return ""
	}
	for _, typ := range []string{"ct helper", "ct timeout", "ct expectation", "counter", "quota", "limit", "secmark", "synproxy"} {
		if body, ok := strings.CutPrefix(rest, typ); ok {
			body = strings.TrimSpace(body)
			if body != "" && !strings.HasPrefix(body, "{") {
				body = "{ " + body + " }"
			}
			return fmt.Sprintf("add %s %s %s %s %s", typ, tbl.Family, tbl.Name, name, body)
		}
	}
	return ""
}
