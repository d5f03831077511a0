package cmd

import (
	"fmt"
	"github.com/nftflow/nftflow/parser"
	"math/rand"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// incrFile is a ruleset file as lines, edited at random by the test.
type incrFile struct {
	rules, other []string // rule lines of chains input and other
	elems        []string // element lines of the hash set
	ivElems      []string // element lines of the interval set
	policy       string
	comments     int
}

var incrRulePool = []string{
	`tcp dport %d accept`,
	`udp dport %d counter drop`,
	`ip saddr 10.1.%d.1 counter accept comment "c%[1]d"`,
	`tcp dport { %d, 8443 } accept`,
	`ip daddr @blocked drop`,
	`ip saddr 192.0.2.%d tcp dport { 22, 80 } counter accept`,
	`meta mark %d jump other`,
	`meta mark %d goto other`,
}

func (f *incrFile) randRule(r *rand.Rand) string {
	t := incrRulePool[r.Intn(len(incrRulePool))]
	return fill(r, t)
}

// randOther is a rule for chain other (which must not jump to itself).
func (f *incrFile) randOther(r *rand.Rand) string {
	return fill(r, incrRulePool[r.Intn(len(incrRulePool)-2)])
}

func fill(r *rand.Rand, t string) string {
	if strings.Contains(t, "%") {
		return fmt.Sprintf(t, 1+r.Intn(250))
	}
	return t
}

func (f *incrFile) String() string {
	var b strings.Builder
	b.WriteString("# generated\ntable inet t {\n\tset blocked {\n\t\ttype ipv4_addr\n")
	if len(f.elems) > 0 {
		b.WriteString("\t\telements = { " + strings.Join(f.elems, ",\n\t\t\t") + " }\n")
	}
	b.WriteString("\t}\n\n\tset nets {\n\t\ttype ipv4_addr\n\t\tflags interval\n")
	if len(f.ivElems) > 0 {
		b.WriteString("\t\telements = { " + strings.Join(f.ivElems, ",\n\t\t\t") + " }\n")
	}
	b.WriteString("\t}\n\n\tchain input {\n\t\ttype filter hook input priority filter; policy " + f.policy + ";\n")
	for i, l := range f.rules {
		if i == len(f.rules)/2 {
			// A rule over two lines: never changed incrementally.
			b.WriteString("\t\tip saddr { 198.51.100.1,\n\t\t\t198.51.100.2 } drop\n")
		}
		b.WriteString("\t\t" + l + "\n")
	}
	for i := 0; i < f.comments; i++ {
		b.WriteString("\t\t# note\n")
	}
	b.WriteString("\t}\n\n\tchain other {\n")
	for _, l := range f.other {
		b.WriteString("\t\t" + l + "\n")
	}
	b.WriteString("\t}\n}\n")
	return b.String()
}

// edit changes the file at random; kinds that need a full apply (policy,
// interval set elements) come less often.
func (f *incrFile) edit(r *rand.Rand, used map[string]bool) string {
	newElem := func() string {
		for {
			e := fmt.Sprintf("10.9.%d.%d", r.Intn(256), r.Intn(256))
			if !used[e] {
				used[e] = true
				return e
			}
		}
	}
	ins := func(s []string, i int, v string) []string { return slices.Insert(s, i, v) }
	switch k := r.Intn(20); {
	case k < 4:
		i := r.Intn(len(f.rules))
		f.rules[i] = f.randRule(r)
		return "replace rule"
	case k < 6:
		f.rules = ins(f.rules, r.Intn(len(f.rules)+1), f.randRule(r))
		return "insert rule"
	case k < 8 && len(f.rules) > 2:
		i := r.Intn(len(f.rules))
		f.rules = slices.Delete(f.rules, i, i+1)
		return "delete rule"
	case k < 9:
		if len(f.other) > 0 && r.Intn(2) == 0 {
			f.other = f.other[:len(f.other)-1]
			return "delete rule of other"
		}
		f.other = append(f.other, f.randOther(r))
		return "append rule to other"
	case k < 12:
		for n := 1 + r.Intn(3); n > 0; n-- {
			f.elems = ins(f.elems, r.Intn(len(f.elems)+1), newElem())
		}
		return "add elements"
	case k < 14 && len(f.elems) > 3:
		i := r.Intn(len(f.elems) - 1)
		f.elems = slices.Delete(f.elems, i, i+1+r.Intn(2))
		return "delete elements"
	case k < 15:
		f.comments = r.Intn(3)
		return "comments"
	case k < 16:
		if f.policy == "accept" {
			f.policy = "drop"
		} else {
			f.policy = "accept"
		}
		return "policy"
	case k < 17:
		f.ivElems = append(f.ivElems, fmt.Sprintf("172.16.%d.0/24", len(f.ivElems)))
		return "interval element"
	case k < 18 && len(f.rules) > 3:
		i := r.Intn(len(f.rules) - 1)
		f.rules[i], f.rules[i+1] = f.rules[i+1], f.rules[i]
		return "swap rules"
	default:
		i := r.Intn(len(f.elems))
		delete(used, f.elems[i])
		f.elems[i] = newElem()
		return "change element"
	}
}

// TestIncrementalApplyMatchesNft edits a file at random, applies each
// version with nftflow and loads it with nft -f into another namespace:
// the listings must be equal every time, whether nftflow took the
// incremental path or the full one, and now and then another program
// changes the namespace (the recorded state is then stale).
func TestIncrementalApplyMatchesNft(t *testing.T) {
	for _, seed := range []int64{7, 11, 23} {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) { incrementalRandom(t, seed) })
	}
	// As big files are parsed: rules kept as spans, element lists compact.
	t.Run("big-file-parse", func(t *testing.T) {
		lazy, compact := parser.LazyRulesMinSize, parser.CompactElementsMin
		parser.LazyRulesMinSize, parser.CompactElementsMin = 0, 1
		defer func() { parser.LazyRulesMinSize, parser.CompactElementsMin = lazy, compact }()
		incrementalRandom(t, 31)
	})
}

func incrementalRandom(t *testing.T, seed int64) {
	ns := applyNetns(t, fmt.Sprint("incr", seed))
	peer := applyNetns(t, fmt.Sprint("incr-peer", seed))
	dir := t.TempDir()
	r := rand.New(rand.NewSource(seed))
	f := &incrFile{policy: "accept"}
	used := map[string]bool{}
	for i := 0; i < 40; i++ {
		f.rules = append(f.rules, f.randRule(r))
	}
	for i := 0; i < 3; i++ {
		f.other = append(f.other, f.randOther(r))
	}
	for i := 0; i < 30; i++ {
		e := fmt.Sprintf("10.8.0.%d", i+1)
		used[e] = true
		f.elems = append(f.elems, e)
	}
	f.ivElems = []string{"172.16.100.0/24"}
	path := writeFile(t, dir, "ruleset.nft", f.String())
	mustApply(t, ns, path)
	incremental, full := 0, 0
	for step := 0; step < 60; step++ {
		var what []string
		for n := 1 + r.Intn(2); n > 0; n-- {
			what = append(what, f.edit(r, used))
		}
		if step%15 == 7 {
			// Another program changes the managed table.
			nftInNetns(t, ns, "add", "rule", "inet", "t", "other", "counter")
			what = append(what, "external change")
		}
		text := f.String()
		writeFile(t, dir, "ruleset.nft", text)
		msg := mustApply(t, ns, path)
		if strings.Contains(msg, "(incremental)") {
			incremental++
		} else {
			full++
		}
		writeFile(t, dir, "peer.nft", "flush ruleset\n"+text)
		nftInNetns(t, peer, "-f", dir+"/peer.nft")
		got, want := nftInNetns(t, ns, "list", "ruleset"), nftInNetns(t, peer, "list", "ruleset")
		if got != want {
			t.Fatalf("step %d (%s; %s): nftflow apply:\n%s\nnft -f:\n%s", step, strings.Join(what, ", "), strings.TrimSpace(msg), got, want)
		}
	}
	t.Logf("seed %d, 60 edits: %d applied incrementally, %d in full", seed, incremental, full)
	if incremental < 30 {
		t.Errorf("only %d of 60 edits were applied incrementally", incremental)
	}
	if full < 5 {
		t.Errorf("only %d of 60 edits took the full path (policy, interval and external changes must)", full)
	}
}

// TestIncrementalApplyNotAfterOtherCommit checks that a change committed by
// another program makes the next apply read the kernel, and that a second
// apply of the same file then sends nothing.
func TestIncrementalApplyNotAfterOtherCommit(t *testing.T) {
	ns := applyNetns(t, "incr-other")
	dir := t.TempDir()
	v1 := "table ip t {\n\tchain c {\n\t\ttcp dport 22 accept\n\t\ttcp dport 80 accept\n\t}\n}\n"
	path := writeFile(t, dir, "r.nft", v1)
	mustApply(t, ns, path)
	// nft replaces the first rule behind nftflow's back.
	h := ruleHandles(nftInNetns(t, ns, "-a", "list", "ruleset"))["tcp dport 22 accept"]
	nftInNetns(t, ns, "replace", "rule", "ip", "t", "c", "handle", h, "tcp", "dport", "23", "accept")
	writeFile(t, dir, "r.nft", strings.Replace(v1, "80", "81", 1))
	msg := mustApply(t, ns, path)
	if strings.Contains(msg, "(incremental)") {
		t.Errorf("apply after another program's commit was incremental: %s", msg)
	}
	want := "table ip t {\n\tchain c {\n\t\ttcp dport 22 accept\n\t\ttcp dport 81 accept\n\t}\n}\n"
	if got := nftInNetns(t, ns, "list", "ruleset"); got != want {
		t.Errorf("listing:\n%s\nwant:\n%s", got, want)
	}
	if msg := mustApply(t, ns, path); !strings.Contains(msg, "nothing to change") {
		t.Errorf("second apply: %s", msg)
	}
	if out, err := exec.Command("ip", "netns", "exec", ns, "nft", "list", "ruleset").Output(); err != nil || string(out) != want {
		t.Errorf("after the second apply: %s %v", out, err)
	}
}

// TestIncrementalApplyKeepsHandles checks that an incremental apply keeps
// the handles (and counters) of the rules it does not change.
func TestIncrementalApplyKeepsHandles(t *testing.T) {
	ns := applyNetns(t, "incr-handles")
	dir := t.TempDir()
	v1 := "table ip t {\n\tchain c {\n\t\ttcp dport 22 counter accept\n\t\ttcp dport 80 accept\n\t\ttcp dport 443 accept\n\t}\n}\n"
	path := writeFile(t, dir, "r.nft", v1)
	mustApply(t, ns, path)
	before := ruleHandles(nftInNetns(t, ns, "-a", "list", "ruleset"))
	writeFile(t, dir, "r.nft", strings.Replace(v1, "80", "8080", 1))
	if msg := mustApply(t, ns, path); !strings.Contains(msg, "(incremental)") {
		t.Fatalf("apply of one changed rule was not incremental: %s", msg)
	}
	after := ruleHandles(nftInNetns(t, ns, "-a", "list", "ruleset"))
	for _, r := range []string{"tcp dport 22 counter accept", "tcp dport 443 accept"} {
		if before[r] == "" || before[r] != after[r] {
			t.Errorf("%s: handle %q before, %q after", r, before[r], after[r])
		}
	}
	if after["tcp dport 8080 accept"] == "" {
		t.Errorf("changed rule missing: %v", after)
	}
}
