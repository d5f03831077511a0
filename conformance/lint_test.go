package conformance

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nftflow/nftflow/compiler"
	"github.com/nftflow/nftflow/internal/corpus"
	"github.com/nftflow/nftflow/parser"
)

// pyRuleset builds, for one rule of a tests/py .t file, the ruleset nft's
// test harness would load: every table of the file with its family and
// declared chains (base chain spec from the ":name;spec" lines), the
// file's ";ok" set declarations ("!name type ...") and named objects
// ("%name type ..."), the rule in every chain, and the file's ";ok"
// element additions ("?set elements").
func pyRuleset(pf *corpus.PyFile, rule string) string {
	var b strings.Builder
	for _, t := range pf.Tables {
		fmt.Fprintf(&b, "table %s %s {\n", t.Family, t.Name)
		for _, l := range pf.Lines {
			if !l.OK {
				continue
			}
			switch l.Kind {
			case '%':
				b.WriteString("\t" + pyObject(l.Text) + "\n")
			case '!':
				b.WriteString("\t" + pySet(l.Text) + "\n")
			}
		}
		for _, c := range t.Chains {
			fmt.Fprintf(&b, "\tchain %s {\n", c)
			if spec := pf.Chains[c]; spec != "" {
				fmt.Fprintf(&b, "\t\t%s;\n", spec)
			}
			fmt.Fprintf(&b, "\t\t%s\n\t}\n", rule)
		}
		b.WriteString("}\n")
		for _, l := range pf.Lines {
			if l.OK && l.Kind == '?' {
				name, elems, _ := strings.Cut(l.Text, " ")
				fmt.Fprintf(&b, "add element %s %s %s { %s }\n", t.Family, t.Name, name, elems)
			}
		}
	}
	return b.String()
}

// pyObject turns "cnt1 type counter" / "qt1 type quota 25 mbytes" /
// "cthelp1 type ct helper { ... }" into a table-level declaration.
func pyObject(s string) string {
	name, rest, _ := strings.Cut(s, " type ")
	kind, body := rest, ""
	if strings.HasPrefix(rest, "ct ") {
		f := strings.SplitN(rest, " ", 3)
		kind = f[0] + " " + f[1]
		if len(f) > 2 {
			body = f[2]
		}
	} else if k, r, ok := strings.Cut(rest, " "); ok {
		kind, body = k, r
	}
	body = strings.TrimSpace(body)
	if strings.HasPrefix(body, "{") {
		return fmt.Sprintf("%s %s %s", kind, name, body)
	}
	return fmt.Sprintf("%s %s { %s }", kind, name, body)
}

// pySet turns "set1 type ipv4_addr timeout 60s" (or "... : mark") into a
// set or map declaration.
func pySet(s string) string {
	name, rest, _ := strings.Cut(s, " ")
	kind := "set"
	if strings.Contains(rest, " : ") {
		kind = "map"
	}
	for _, kw := range []string{"timeout", "flags", "size", "policy", "gc-interval", "counter", "elements"} {
		rest = strings.ReplaceAll(rest, " "+kw+" ", "; "+kw+" ")
	}
	return fmt.Sprintf("%s %s { %s; }", kind, name, rest)
}

// lintErrors parses and lints text and returns its errors (warnings and
// infos are not failures).
func lintErrors(name, text string) []string {
	f, err := parser.ParseString(name, text)
	if err != nil {
		return []string{err.Error()}
	}
	var out []string
	for _, d := range compiler.Lint(f, compiler.LintOptions{}) {
		if d.Severity == compiler.SeverityError {
			out = append(out, d.Error())
		}
	}
	return out
}

type pyCase struct {
	file string
	line corpus.PyLine
	pf   *corpus.PyFile
}

func pyCases(t *testing.T, ok bool) []pyCase {
	t.Helper()
	dir := corpusDir(t)
	files, err := corpus.PyFiles(dir)
	if err != nil || len(files) == 0 {
		t.Fatalf("py files: %v (%d)", err, len(files))
	}
	var out []pyCase
	for _, p := range files {
		pf, err := corpus.ReadPy(p)
		if err != nil {
			t.Fatal(err)
		}
		if len(pf.Tables) == 0 {
			continue
		}
		for _, l := range pf.Lines {
			if l.Kind == 0 && l.OK == ok {
				out = append(out, pyCase{file: p, line: l, pf: pf})
			}
		}
	}
	return out
}

// TestPyOKLint: every ";ok" rule line of tests/py, placed in its tables
// and chains, parses and lints without an error.
func TestPyOKLint(t *testing.T) {
	cases := pyCases(t, true)
	passed := 0
	var fails []string
	for _, c := range cases {
		src := pyRuleset(c.pf, c.line.Text)
		if errs := lintErrors(filepath.Base(c.file), src); len(errs) > 0 {
			fails = append(fails, fmt.Sprintf("%s:%d: %s\n    %s", filepath.Base(c.file), c.line.Line, c.line.Text, errs[0]))
			continue
		}
		passed++
	}
	if testing.Verbose() {
		for _, f := range fails {
			t.Log(f)
		}
	}
	report(t, "py-ok-lint", passed, len(cases))
}

// nftCheck runs `nft -c -f` on text in network namespace ns and returns
// its output and whether it failed.
func nftCheck(ns, text string) (string, bool) {
	f, err := os.CreateTemp("", "nftflow-lint-*.nft")
	if err != nil {
		return err.Error(), true
	}
	defer os.Remove(f.Name())
	f.WriteString(text)
	f.Close()
	out, err := exec.Command("ip", "netns", "exec", ns, "nft", "-c", "-f", f.Name()).CombinedOutput()
	return string(out), err != nil
}

// TestPyFailLint: the ";fail" rule lines that nft itself rejects in
// userspace (a syntax or type error: nft -c fails without reaching the
// kernel, so no "Could not process rule") must be rejected by lint too.
// Lines nft accepts, or that only the kernel refuses (missing modules,
// unsupported features), are not counted: no kernel-free tool can know
// them. The classification runs nft 1.0.6 in a throwaway network
// namespace, so this suite needs root and nft.
func TestPyFailLint(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("skipping py-fail-lint: classifying the fail lines runs nft -c in a network namespace, which needs root")
	}
	if _, err := exec.LookPath("nft"); err != nil {
		t.Skip("skipping py-fail-lint: nft not installed")
	}
	ns := fmt.Sprintf("nftflow-test-lint-%d", os.Getpid())
	if out, err := exec.Command("ip", "netns", "add", ns).CombinedOutput(); err != nil {
		t.Skipf("skipping py-fail-lint: ip netns add: %v %s", err, out)
	}
	t.Cleanup(func() { exec.Command("ip", "netns", "del", ns).Run() })

	cases := pyCases(t, false)
	total, passed, kernelOnly, accepted := 0, 0, 0, 0
	var misses []string
	for _, c := range cases {
		src := pyRuleset(c.pf, c.line.Text)
		out, failed := nftCheck(ns, src)
		switch {
		case !failed:
			accepted++
			// nft 1.0.6 takes this line although upstream marks it ;fail
			// (newer nft refuses it): lint may go either way, but say so.
			if errs := lintErrors(filepath.Base(c.file), src); len(errs) > 0 {
				misses = append(misses, fmt.Sprintf("%s:%d: %s\n    accepted by nft 1.0.6, lint: %s", filepath.Base(c.file), c.line.Line, c.line.Text, errs[0]))
			}
			continue
		case strings.Contains(out, "Could not process rule"):
			kernelOnly++
			continue
		}
		total++
		if len(lintErrors(filepath.Base(c.file), src)) > 0 {
			passed++
			continue
		}
		first, _, _ := strings.Cut(strings.TrimSpace(out), "\n")
		misses = append(misses, fmt.Sprintf("%s:%d: %s\n    nft: %s", filepath.Base(c.file), c.line.Line, c.line.Text, first))
	}
	if testing.Verbose() {
		for _, m := range misses {
			t.Log(m)
		}
	}
	fmt.Printf("py-fail-lint: %d fail lines; %d rejected by nft in userspace (counted), %d only by the kernel, %d accepted by nft 1.0.6 (not counted)\n",
		len(cases), total, kernelOnly, accepted)
	report(t, "py-fail-lint", passed, total)
}

// TestDumpsLint: the ruleset dumps of nftables' shell tests are rulesets
// nft listed back from a kernel, so they are valid; lint must find no
// error in them (warnings are fine: unused chains are common there). Bogons
// (inputs that crashed nft) and everything else must not make lint panic.
func TestDumpsLint(t *testing.T) {
	dir := corpusDir(t)
	dumps, err := corpus.Dumps(dir)
	if err != nil {
		t.Fatal(err)
	}
	passed, total := 0, 0
	var fails []string
	for _, p := range dumps {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		b = corpus.StripCount(b)
		if len(strings.TrimSpace(string(b))) == 0 {
			continue
		}
		total++
		if errs := lintErrors(filepath.Base(p), string(b)); len(errs) > 0 {
			fails = append(fails, fmt.Sprintf("%s: %s", p, errs[0]))
			continue
		}
		passed++
	}
	if testing.Verbose() {
		for _, f := range fails {
			t.Log(f)
		}
	}
	report(t, "dumps-lint", passed, total)

	bogons, err := corpus.Bogons(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range bogons {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		f, _ := parser.ParseString(filepath.Base(p), string(b))
		if f != nil {
			compiler.Lint(f, compiler.LintOptions{}) // must not panic
		}
	}
}

// stripFlowtables removes flowtable blocks and `flow add` rules from a
// ruleset in canonical layout: the host kernel has no flowtables, so nft
// -c refuses them whatever the ruleset.
func stripFlowtables(text string) string {
	var out []string
	lines := strings.Split(text, "\n")
	for i := 0; i < len(lines); i++ {
		l := lines[i]
		t := strings.TrimSpace(l)
		if strings.HasPrefix(t, "flowtable ") && strings.HasSuffix(t, "{") {
			for i < len(lines) && strings.TrimSpace(lines[i]) != "}" {
				i++
			}
			if i+1 < len(lines) && lines[i+1] == "" {
				i++
			}
			continue
		}
		if strings.Contains(t, "flow add @") || strings.Contains(t, "flow offload @") {
			continue
		}
		out = append(out, l)
	}
	return strings.Join(out, "\n")
}

// TestExamplesNftAccepts: the example rulesets lint clean and nft 1.0.6
// accepts them (`nft -c -f` in a throwaway network namespace), except for
// the flowtable parts, which the host kernel lacks.
func TestExamplesNftAccepts(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("skipping: nft -c in a network namespace needs root")
	}
	if _, err := exec.LookPath("nft"); err != nil {
		t.Skip("skipping: nft not installed")
	}
	ns := fmt.Sprintf("nftflow-test-examples-%d", os.Getpid())
	if out, err := exec.Command("ip", "netns", "add", ns).CombinedOutput(); err != nil {
		t.Skipf("skipping: ip netns add: %v %s", err, out)
	}
	t.Cleanup(func() { exec.Command("ip", "netns", "del", ns).Run() })
	files, err := filepath.Glob("../examples/*.nft")
	if err != nil || len(files) == 0 {
		t.Fatalf("examples: %v", err)
	}
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if errs := lintErrors(p, string(b)); len(errs) > 0 {
			t.Errorf("%s: lint: %v", p, errs)
		}
		if out, failed := nftCheck(ns, stripFlowtables(string(b))); failed {
			t.Errorf("%s: nft -c refuses it:\n%s", p, out)
		}
	}
}
