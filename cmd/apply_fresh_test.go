package cmd

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nftflow/nftflow/parser"
)

// freshFor loads file as apply does and reports whether it took the
// fresh-table path.
func freshFor(t *testing.T, ns, file string) bool {
	t.Helper()
	o := &applyOptions{netns: ns, files: []string{file}}
	var fresh *freshApply
	s := &streams{in: strings.NewReader(""), out: io.Discard, err: io.Discard}
	if _, ok, err := loadFilesWith(o.files, nil, s, freshStream(context.Background(), o, &fresh)); err != nil || !ok {
		t.Fatalf("load %s: ok %v, %v", file, ok, err)
	}
	return fresh != nil
}

// A table the kernel does not have is compiled straight into the batch;
// the result, and the record of the apply, are those of the planned path.
func TestFreshApplyAsPlanned(t *testing.T) {
	stateFresh, statePlanned := t.TempDir(), t.TempDir()
	nsFresh, nsPlanned := applyNetns(t, "fresh"), applyNetns(t, "planned")
	file := writeFile(t, t.TempDir(), "v1.nft", declV1)
	nftInNetns(t, nsPlanned, "add table inet filter")

	if !freshFor(t, nsFresh, file) {
		t.Fatal("a table the kernel does not have did not take the fresh path")
	}
	if freshFor(t, nsPlanned, file) {
		t.Fatal("a table the kernel has took the fresh path")
	}
	t.Setenv("NFTFLOW_STATE_DIR", stateFresh)
	mustApply(t, nsFresh, file)
	t.Setenv("NFTFLOW_STATE_DIR", statePlanned)
	mustApply(t, nsPlanned, file)
	if got, want := nftInNetns(t, nsFresh, "list", "ruleset"), nftInNetns(t, nsPlanned, "list", "ruleset"); got != want {
		t.Errorf("fresh apply:\n%s\nplanned apply:\n%s", got, want)
	}
	recFresh, err := os.ReadFile(filepath.Join(stateDirIn(stateFresh, nsFresh), "inet-filter.json"))
	if err != nil {
		t.Fatal(err)
	}
	recPlanned, err := os.ReadFile(filepath.Join(stateDirIn(statePlanned, nsPlanned), "inet-filter.json"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(recFresh, recPlanned) {
		t.Errorf("the fresh apply recorded\n%s\nthe planned one\n%s", recFresh, recPlanned)
	}
	// Applied again, the fresh table is compared and nothing changes.
	t.Setenv("NFTFLOW_STATE_DIR", stateFresh)
	if msg := mustApply(t, nsFresh, file); !strings.Contains(msg, "nothing to change") {
		t.Errorf("second apply: %q, want nothing to change", msg)
	}
}

func stateDirIn(dir, ns string) string {
	return filepath.Join(dir, "netns-"+ns)
}

func TestFreshTables(t *testing.T) {
	for _, tc := range []struct {
		src  string
		want bool
	}{
		{"table ip t { chain c { accept } }\ntable inet t { chain c { } }", true},
		{"define x = 1\ntable ip t {\n\tset s { type ipv4_addr; }\n\tcounter k { }\n\tchain c { }\n}", true},
		{"table ip t { chain c { } }\ntable ip t { chain d { } }", false}, // one table, two blocks
		{"table ip t {\n\tchain c { }\n\tchain c { accept }\n}", false},   // a chain declared twice
		{"table ip t {\n\tset s { type ipv4_addr; }\n\tset s { type ipv4_addr; }\n}", false},
		{"flush ruleset\ntable ip t { chain c { } }", false}, // deletes other tables
		{"table inet t { flowtable f { hook ingress priority 0; devices = { lo }; } }", false},
		{"add table ip t\nadd chain ip t c", false}, // commands
	} {
		f, err := parser.ParseString("t.nft", tc.src)
		if err != nil {
			t.Fatalf("%q: %v", tc.src, err)
		}
		if _, _, got := freshTables([]*parser.File{f}); got != tc.want {
			t.Errorf("freshTables(%q) = %v, want %v", tc.src, got, tc.want)
		}
	}
}

// compactSets is a ruleset whose element lists are long enough to be kept
// compact (parser.CompactElementsMin): prefixes, ranges and addresses,
// overlapping and adjacent (merged by auto-merge in the first set), IPv4
// and IPv6, one list with an element given as a number.
func compactSets(seed int64, edit bool) string {
	rng := rand.New(rand.NewSource(seed))
	var b strings.Builder
	b.WriteString("table inet big {\n")
	for s, v6 := range []bool{false, false, true} {
		typ := "ipv4_addr"
		if v6 {
			typ = "ipv6_addr"
		}
		fmt.Fprintf(&b, "\tset s%d {\n\t\ttype %s\n\t\tflags interval\n", s, typ)
		if s == 0 {
			b.WriteString("\t\tauto-merge\n")
		}
		b.WriteString("\t\telements = {\n")
		used := map[int]bool{}
		for i := 0; i < parser.CompactElementsMin+200; i++ {
			k := rng.Intn(1 << 16)
			if s > 0 && (used[k] || used[k+1] || used[k-1]) {
				continue // without auto-merge, nft refuses overlaps
			}
			used[k] = true
			a := fmt.Sprintf("10.%d.%d.0", k>>8, k&255)
			if v6 {
				a = fmt.Sprintf("2001:db8:%x::", k)
			}
			switch {
			case edit && i == 7:
				continue
			case s == 1 && i == 3:
				fmt.Fprintf(&b, "\t\t\t%d,\n", 167772161+k<<8) // 10.x.y.1 as a number
			case i%3 == 0 && !v6:
				fmt.Fprintf(&b, "\t\t\t%s/%d,\n", a, 24+rng.Intn(8))
			case i%3 == 1:
				lo := strings.TrimSuffix(a, "0") + "1"
				hi := strings.TrimSuffix(a, "0") + "9"
				if v6 {
					lo, hi = a+"1", a+"9"
				}
				fmt.Fprintf(&b, "\t\t\t%s-%s,\n", lo, hi)
			default:
				fmt.Fprintf(&b, "\t\t\t%s,\n", strings.TrimSuffix(a, "0")+"5")
			}
		}
		b.WriteString("\t\t}\n\t}\n")
	}
	b.WriteString("}\n")
	return b.String()
}

// Long element lists compiled from their compact form list exactly as nft
// loads them: applied fresh, applied again (compared with the kernel), and
// edited.
func TestCompactSetsAgainstNft(t *testing.T) {
	t.Setenv("NFTFLOW_STATE_DIR", t.TempDir())
	ours, peer := applyNetns(t, "compact"), applyNetns(t, "compact-nft")
	dir := t.TempDir()
	v1 := writeFile(t, dir, "v1.nft", compactSets(3, false))
	if f, err := parser.ParseFile(v1, parser.Options{}); err != nil {
		t.Fatal(err)
	} else if se := f.Commands[0].(*parser.TableBlock).Items[0].(*parser.SetBlock).Elements; !se.Compact() {
		t.Fatal("the element list is not compact: the test tests nothing")
	}
	if !freshFor(t, ours, v1) {
		t.Fatal("not applied as a fresh table")
	}
	mustApply(t, ours, v1)
	nftInNetns(t, peer, "-f", v1)
	if got, want := nftInNetns(t, ours, "list", "ruleset"), nftInNetns(t, peer, "list", "ruleset"); got != want {
		t.Fatalf("after nftflow apply:\n%s\nafter nft -f:\n%s", got, want)
	}
	if msg := mustApply(t, ours, v1); !strings.Contains(msg, "nothing to change") {
		t.Errorf("second apply: %q, want nothing to change", msg)
	}
	v2 := writeFile(t, dir, "v2.nft", compactSets(3, true))
	mustApply(t, ours, v2)
	nftInNetns(t, peer, "flush", "ruleset")
	nftInNetns(t, peer, "-f", v2)
	if got, want := nftInNetns(t, ours, "list", "ruleset"), nftInNetns(t, peer, "list", "ruleset"); got != want {
		t.Fatalf("after the edit, nftflow:\n%s\nnft:\n%s", got, want)
	}
}

// In a big file (rules kept as spans, element lists compact) errors point
// where they do in a small one: a compile error at its rule, and a kernel
// refusal of an element at its set's elements.
func TestBigFileErrorPositions(t *testing.T) {
	t.Setenv("NFTFLOW_STATE_DIR", t.TempDir())
	var b strings.Builder
	b.WriteString("table ip t {\n\tset s {\n\t\ttype ipv4_addr\n\t\tflags interval\n\t\telements = {\n")
	for i := 0; i < parser.CompactElementsMin; i++ {
		fmt.Fprintf(&b, "\t\t\t10.%d.%d.0/24,\n", i>>8, i&255)
	}
	b.WriteString("\t\t\t10.0.5.0/25,\n") // overlaps 10.0.5.0/24: refused by the kernel
	b.WriteString("\t\t}\n\t}\n\tchain c {\n")
	for i := 0; i < 3000; i++ {
		fmt.Fprintf(&b, "\t\tip saddr 10.1.%d.%d tcp dport %d counter accept\n", i>>8, i&255, 1000+i)
	}
	b.WriteString("\t\tip saddr 10.0.0.300 drop\n\t}\n}\n")
	text := b.String()
	badRuleLine := strings.Count(text, "\n") - 2
	dir := t.TempDir()
	run := func(big bool, file string) string {
		lazy := parser.LazyRulesMinSize
		if big {
			parser.LazyRulesMinSize = 0
		} else {
			parser.LazyRulesMinSize = 1 << 62
		}
		defer func() { parser.LazyRulesMinSize = lazy }()
		_, stderr, code := declRun(t, "compile", file)
		if code == ExitOK {
			t.Fatalf("compile of a bad address succeeded")
		}
		return stderr
	}
	bad := writeFile(t, dir, "bad.nft", text)
	small, big := run(false, bad), run(true, bad)
	if small != big {
		t.Errorf("compile errors differ in a big file:\n%s\nin a small one:\n%s", big, small)
	}
	if want := fmt.Sprintf("bad.nft:%d:", badRuleLine); !strings.Contains(big, want) {
		t.Errorf("compile error does not point at line %d:\n%s", badRuleLine, big)
	}

	refused := writeFile(t, dir, "refused.nft", strings.Replace(text, "\t\tip saddr 10.0.0.300 drop\n", "", 1))
	apply := func(big bool) string {
		ns := applyNetns(t, fmt.Sprint("bigerr-", big))
		lazy, compact := parser.LazyRulesMinSize, parser.CompactElementsMin
		parser.LazyRulesMinSize, parser.CompactElementsMin = 1<<62, 1<<30
		if big {
			parser.LazyRulesMinSize, parser.CompactElementsMin = 0, compact
		}
		defer func() { parser.LazyRulesMinSize, parser.CompactElementsMin = lazy, compact }()
		_, stderr, code := declRun(t, "apply", "--netns", ns, refused)
		if code == ExitOK {
			t.Fatal("the kernel accepted overlapping intervals")
		}
		if got := nftInNetns(t, ns, "list", "ruleset"); got != "" {
			t.Errorf("a refused apply changed the ruleset:\n%s", got)
		}
		return stderr
	}
	small, big = apply(false), apply(true)
	if small != big {
		t.Errorf("refusal reported differently in a big file:\n%s\nin a small one:\n%s", big, small)
	}
	// set elements are refused by message: the refusal points at the list
	if want := "refused.nft:5:14: error: add element ip t s"; !strings.Contains(big, want) {
		t.Errorf("refusal not reported at %s:\n%s", want, big)
	}
}
