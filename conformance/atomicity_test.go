package conformance

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/nftflow/nftflow/kernel"
	"github.com/nftflow/nftflow/model"
	"github.com/nftflow/nftflow/render"
)

// The atomicity tests of issue 6: `nftflow apply` killed with SIGKILL at
// random moments of a 100,000-rule change, two applies of different files
// at once, and files the kernel refuses late in a big batch. Each runs the
// built command (bin/nftflow) as a separate process in a throwaway network
// namespace, with its own state directory.

// atomicRuleset is variant v (0 or 1) of a ruleset of `tables` tables
// "big0", "big1", ..., each with chains*per rules in chains named after
// the variant (so going from one variant to the other deletes every one of
// those rules and adds as many, in one transaction, as a kube-proxy style
// rewrite of every service chain does), a chain "stable" of 1,000 rules
// whose odd rules differ between the variants (replaced in place), a base
// chain whose jumps and policy differ, and a set of 1,000 elements of which
// half differ.
func atomicRuleset(v, tables, chains, per int) string {
	var b strings.Builder
	for t := 0; t < tables; t++ {
		fmt.Fprintf(&b, "table inet big%d {\n\tset blocked {\n\t\ttype ipv4_addr\n\t\telements = { ", t)
		for i := 0; i < 1000; i++ {
			if i > 0 {
				b.WriteString(", ")
			}
			k := i + v*500
			fmt.Fprintf(&b, "192.%d.%d.%d", t, k>>8, k&255)
		}
		b.WriteString(" }\n\t}\n")
		fmt.Fprintf(&b, "\tchain input {\n\t\ttype filter hook input priority %d; policy %s;\n\t\tip saddr @blocked drop\n\t\tjump stable\n", t, []string{"accept", "drop"}[v])
		for c := 0; c < chains; c++ {
			fmt.Fprintf(&b, "\t\tip saddr 10.%d.0.0/16 jump c%d_v%d\n", c, c, v)
		}
		b.WriteString("\t}\n\tchain stable {\n")
		for i := 0; i < 1000; i++ {
			port := 20000 + i
			if i%2 == 1 {
				port += v * 1000
			}
			fmt.Fprintf(&b, "\t\tip daddr 172.16.%d.%d udp dport %d accept\n", i>>8, i&255, port)
		}
		b.WriteString("\t}\n")
		for c := 0; c < chains; c++ {
			fmt.Fprintf(&b, "\tchain c%d_v%d {\n", c, v)
			for i := 0; i < per; i++ {
				fmt.Fprintf(&b, "\t\tip saddr 10.%d.%d.%d tcp dport %d accept\n", c, i>>8, i&255, 1000+v*1000+i%1000)
			}
			b.WriteString("\t}\n")
		}
		b.WriteString("}\n")
	}
	return b.String()
}

// atomicRules is the number of rules of atomicRuleset.
func atomicRules(tables, chains, per int) int { return tables * (chains*per + 1000 + chains + 2) }

// foreignTable is loaded with nft beside the managed table: no apply, whole
// or killed, may touch it.
const foreignTable = `table ip foreign {
	set s {
		type ipv4_addr
		elements = { 172.17.0.2, 172.17.0.3 }
	}
	chain forward {
		type filter hook forward priority 0; policy accept;
		ip daddr @s counter accept
		ct state established,related accept
	}
}
`

// rulesetState describes every table of a namespace exactly, without
// handles: one hash per object ("chain inet big c0_v0", "set inet big
// blocked", ...), a chain's hash covering its rules in order (each rule's
// expressions as `nft --debug=netlink` prints them, its comment and
// userdata), a set's its sorted elements. Rules are dumped chain by chain,
// which keeps the kernel's dump cost linear in the number of rules (a dump
// of one table's 100,000 rules costs seconds of kernel time).
type rulesetState struct {
	objs  map[string]string
	rules int
}

func (s rulesetState) equal(o rulesetState) bool {
	if len(s.objs) != len(o.objs) {
		return false
	}
	for k, v := range s.objs {
		if o.objs[k] != v {
			return false
		}
	}
	return true
}

// mix says how s relates to the states a and b, object by object.
func (s rulesetState) mix(a, b rulesetState) string {
	var same, likeA, likeB, neither int
	var odd []string
	for k, v := range s.objs {
		switch {
		case a.objs[k] == v && b.objs[k] == v:
			same++
		case a.objs[k] == v:
			likeA++
		case b.objs[k] == v:
			likeB++
		default:
			neither++
			if len(odd) < 5 {
				odd = append(odd, k)
			}
		}
	}
	var missing []string
	for k := range a.objs {
		if _, ok := s.objs[k]; !ok {
			if _, inB := b.objs[k]; inB && len(missing) < 5 {
				missing = append(missing, k)
			}
		}
	}
	return fmt.Sprintf("%d objects and %d rules: %d as in both, %d as in the old state only, %d as in the new only, %d in neither %v; missing (of both) %v",
		len(s.objs), s.rules, same, likeA, likeB, neither, odd, missing)
}

func hashJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return "unmarshalable: " + err.Error()
	}
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// readRulesetState reads the state of ns over netlink (see rulesetState).
func readRulesetState(ns string) (rulesetState, error) {
	st := rulesetState{objs: map[string]string{}}
	d, err := kernel.NewDumper(ns)
	if err != nil {
		return st, err
	}
	defer d.Close()
	var tables []*model.Table
	if err := d.Tables(kernel.Filter{}, func(t *model.Table) error { tables = append(tables, t); return nil }); err != nil {
		return st, err
	}
	for _, t := range tables {
		id := t.Family.String() + " " + t.Name
		tc := *t
		tc.Handle = 0
		st.objs["table "+id] = hashJSON(tc)
		f := kernel.Filter{Family: t.Family, Table: t.Name}
		var chains []*model.Chain
		if err := d.Chains(f, func(c *model.Chain) error { chains = append(chains, c); return nil }); err != nil {
			return st, err
		}
		for _, c := range chains {
			cc := *c
			cc.Handle, cc.ID, cc.Pos = 0, 0, model.Pos{}
			h := sha256.New()
			fmt.Fprintf(h, "%s\n", hashJSON(cc))
			cf := f
			cf.Chain = c.Name
			err := d.Rules(cf, func(r *model.Rule) error {
				st.rules++
				fmt.Fprintf(h, "%s comment %q userdata %x\n", render.NetlinkRule(r), r.Comment, r.Userdata)
				return nil
			})
			if err != nil {
				return st, err
			}
			st.objs["chain "+id+" "+c.Name] = hex.EncodeToString(h.Sum(nil))
		}
		var sets []*model.Set
		if err := d.Sets(f, func(s *model.Set) error { sets = append(sets, s); return nil }); err != nil {
			return st, err
		}
		for _, s := range sets {
			if err := d.SetElems(s); err != nil {
				return st, err
			}
			elems := make([]string, len(s.Elements))
			for i := range s.Elements {
				elems[i] = render.NetlinkElement(s, &s.Elements[i])
			}
			sort.Strings(elems)
			sc := *s
			sc.Handle, sc.ID, sc.Pos, sc.Elements = 0, 0, model.Pos{}, nil
			st.objs["set "+id+" "+s.Name] = hashJSON([]any{sc, elems})
		}
		err := d.Flowtables(f, func(ft *model.Flowtable) error {
			c := *ft
			c.Handle, c.Use, c.Pos = 0, 0, model.Pos{}
			st.objs["flowtable "+id+" "+ft.Name] = hashJSON(c)
			return nil
		})
		if err != nil {
			return st, err
		}
		err = d.Objects(f, func(o *model.Object) error {
			c := *o
			c.Handle, c.Pos = 0, model.Pos{}
			st.objs["object "+id+" "+o.Name] = hashJSON(c)
			return nil
		})
		if err != nil {
			return st, err
		}
	}
	return st, nil
}

// atomicNS makes a namespace with its own state directory for the tests
// below; it returns the namespace, nft's path and nftflow's.
func atomicNS(t *testing.T, name string) (ns, nft, bin string) {
	t.Helper()
	nft = requirePeer(t)
	bin = nftflowBinary(t)
	ns = newNetns(t, name)
	// Declarative applies record (and may cache) what they applied.
	t.Setenv("NFTFLOW_STATE_DIR", t.TempDir())
	return ns, nft, bin
}

func inNetns(t *testing.T, ns string, args ...string) string {
	t.Helper()
	out, err := exec.Command("ip", append([]string{"netns", "exec", ns}, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v: %s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

func mustState(t *testing.T, ns string) rulesetState {
	t.Helper()
	s, err := readRulesetState(ns)
	if err != nil {
		t.Fatalf("read the ruleset of %s: %v", ns, err)
	}
	return s
}

// runApply runs `nftflow apply -v --netns ns file` to the end.
func runApply(t *testing.T, bin, ns, file string) (string, time.Duration) {
	t.Helper()
	start := time.Now()
	out, err := exec.Command(bin, "apply", "-v", "--netns", ns, file).CombinedOutput()
	if err != nil {
		t.Fatalf("apply %s: %v: %s", filepath.Base(file), err, out)
	}
	return string(out), time.Since(start)
}

// referenceStates loads each file with nftflow apply into ns (which holds
// foreignTable) and, for comparison, with nft -f into a fresh namespace
// beside the same foreign table: the two `nft list ruleset` listings must
// be identical, so the reference states are exactly the files, as nft
// sees them. It returns the states and listings in file order, and how
// long the apply of the last file (a change from the one before) took.
func referenceStates(t *testing.T, ns, nft, bin string, files []string, peerName string) ([]rulesetState, []string, time.Duration) {
	t.Helper()
	peer := newNetns(t, peerName)
	var states []rulesetState
	var listings []string
	var took time.Duration
	for _, f := range files {
		_, took = runApply(t, bin, ns, f)
		states = append(states, mustState(t, ns))
		listings = append(listings, inNetns(t, ns, nft, "list", "ruleset"))
		inNetns(t, peer, nft, "flush", "ruleset")
		loadWithNft(t, peer, nft, foreignTable)
		inNetns(t, peer, nft, "-f", f)
		if want := inNetns(t, peer, nft, "list", "ruleset"); want != listings[len(listings)-1] {
			t.Fatalf("after nftflow apply %s the listing differs from nft -f of the same file:\n%s",
				filepath.Base(f), lineDiff(listings[len(listings)-1], want))
		}
	}
	for i := 1; i < len(states); i++ {
		if states[i].equal(states[i-1]) || listings[i] == listings[i-1] {
			t.Fatalf("the reference states of %s and %s are the same", files[i-1], files[i])
		}
	}
	return states, listings, took
}

// loadWithNft loads text with nft -f in ns.
func loadWithNft(t *testing.T, ns, nft, text string) {
	t.Helper()
	p := filepath.Join(t.TempDir(), "load.nft")
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	inNetns(t, ns, nft, "-f", p)
}

// lineDiff shows the first line where two listings differ.
func lineDiff(got, want string) string {
	g, w := strings.Split(got, "\n"), strings.Split(want, "\n")
	for i := 0; i < len(g) || i < len(w); i++ {
		var gl, wl string
		if i < len(g) {
			gl = g[i]
		}
		if i < len(w) {
			wl = w[i]
		}
		if gl != wl {
			return fmt.Sprintf("line %d: %q, want %q (%d and %d lines)", i+1, gl, wl, len(g), len(w))
		}
	}
	return "same"
}

func writeTemp(t *testing.T, name, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// newestRecord returns the newest modification time under dir (the state
// directory), zero when it holds no file.
func newestRecord(dir string) time.Time {
	var newest time.Time
	_ = filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		if info, err := d.Info(); err == nil && info.ModTime().After(newest) {
			newest = info.ModTime()
		}
		return nil
	})
	return newest
}

// killOutcome is what one trial of TestApplyKilledIsAtomic saw.
type killOutcome struct {
	delay     time.Duration // when SIGKILL was sent, from the start
	atCommit  bool          // killed as soon as the generation moved
	finished  bool          // the apply had exited (status 0) before the kill
	committed bool          // the kernel holds the new state
	recorded  bool          // the state directory changed during the apply
}

// TestApplyKilledIsAtomic kills `nftflow apply` with SIGKILL at random
// moments while it applies a change of more than 100,000 rules (every rule
// of one file differs from the other's), alternating between the two files
// so that no trial needs a reset. The delays are spread evenly (in random
// order) over 1.2 times the duration of an uninterrupted apply, so kills
// land in parsing, compiling, reading the kernel, planning, sending, and
// after the commit. After each kill the namespace must hold exactly the old
// or exactly the new ruleset (compared object by object, every rule, and
// every tenth trial by the whole `nft list ruleset` listing), with the
// foreign table untouched. Three more trials, first, kill the apply the
// moment the kernel's generation moves, between the commit and the record
// of what was applied; after each, an apply of the same file must find
// nothing to change. The last applies must converge to each file exactly.
func TestApplyKilledIsAtomic(t *testing.T) {
	ns, nft, bin := atomicNS(t, "atomic-kill")
	// 101,102 rules in one table, 100,000 of them in the chains that the
	// change deletes and adds. (Spread over 10 tables, nft 1.0.6 takes
	// half a minute of kernel time to list them.)
	tables, chains, per, trials := 1, 100, 1000, 30
	if testing.Short() {
		tables, chains, per, trials = 2, 5, 300, 20
	}
	stateDir := os.Getenv("NFTFLOW_STATE_DIR")
	loadWithNft(t, ns, nft, foreignTable)
	files := []string{
		writeTemp(t, "a.nft", atomicRuleset(0, tables, chains, per)),
		writeTemp(t, "b.nft", atomicRuleset(1, tables, chains, per)),
	}
	began := time.Now()
	states, listings, full := referenceStates(t, ns, nft, bin, files, "atomic-kill-peer")
	t.Logf("reference states: %d rules per file (%d and %d rules in the namespace); an uninterrupted apply of the change took %v; setting up took %v",
		atomicRules(tables, chains, per), states[0].rules, states[1].rules, full.Round(time.Millisecond), time.Since(began).Round(time.Second))

	seed := uint64(time.Now().UnixNano())
	rng := rand.New(rand.NewPCG(seed, 0x6a7))
	t.Logf("seed %d", seed)
	var span time.Duration
	var delays []time.Duration
	// makeDelays spreads the random kills evenly, in random order, over
	// 1.2 times the duration of an apply.
	makeDelays := func() {
		span = full * 12 / 10
		delays = make([]time.Duration, trials)
		for i := range delays {
			delays[i] = time.Duration((float64(i) + rng.Float64()) / float64(trials) * float64(span))
		}
		rng.Shuffle(len(delays), func(i, j int) { delays[i], delays[j] = delays[j], delays[i] })
	}
	atCommit := 3
	if testing.Short() {
		atCommit = 1
	}

	cur := 1 // the namespace holds files[cur]
	var outs []killOutcome
	check := func(trial int, o killOutcome, target int, stderr string) {
		t.Helper()
		got := mustState(t, ns)
		switch {
		case got.equal(states[target]):
			o.committed = true
		case got.equal(states[cur]):
		default:
			t.Fatalf("trial %d (kill after %v, at commit %v, exited %v): the ruleset is neither the old nor the new one: %s\napply's output: %s",
				trial, o.delay, o.atCommit, o.finished, got.mix(states[cur], states[target]), stderr)
		}
		if o.finished && !o.committed {
			t.Fatalf("trial %d: apply exited 0 but the kernel holds the old state", trial)
		}
		if o.atCommit && !o.committed {
			t.Fatalf("trial %d: killed after the generation moved but the kernel holds the old state", trial)
		}
		if trial%10 == 0 {
			want := listings[cur]
			if o.committed {
				want = listings[target]
			}
			if l := inNetns(t, ns, nft, "list", "ruleset"); l != want {
				t.Fatalf("trial %d: the netlink state matched but nft list ruleset differs: %s", trial, lineDiff(l, want))
			}
		}
		if o.committed {
			cur = target
		}
		outs = append(outs, o)
	}

	// The kills at the commit come first: the time they take to reach
	// the commit calibrates the random delays to the machine's load now.
	for i := 0; i < trials+atCommit; i++ {
		if i == atCommit {
			for _, o := range outs {
				full = max(full, o.delay*11/10)
			}
			makeDelays()
		}
		target := 1 - cur
		o := killOutcome{atCommit: i < atCommit}
		var stderr bytes.Buffer
		cmd := exec.Command(bin, "apply", "--netns", ns, files[target])
		cmd.Stdout, cmd.Stderr = &stderr, &stderr
		gen0, err := kernel.GenerationID(ns)
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		var werr error
		if o.atCommit {
			werr = killAtCommit(t, cmd, ns, gen0, done, &o, start)
		} else {
			o.delay = delays[i-atCommit]
			select {
			case werr = <-done:
				o.finished = true
			case <-time.After(o.delay):
				_ = cmd.Process.Signal(syscall.SIGKILL)
				werr = <-done
			}
		}
		if o.finished && werr != nil {
			t.Fatalf("trial %d: apply failed on its own: %v: %s", i, werr, stderr.String())
		}
		if !o.finished {
			var ee *exec.ExitError
			if errors.As(werr, &ee) && ee.Exited() {
				// It exited before the signal arrived.
				if ee.ExitCode() != 0 {
					t.Fatalf("trial %d: apply failed on its own: %v: %s", i, werr, stderr.String())
				}
			} else if werr == nil {
				o.finished = true
			}
		}
		o.recorded = newestRecord(stateDir).After(start)
		check(i, o, target, stderr.String())
		if o.atCommit {
			// The apply died between its commit and (maybe) its record:
			// the same file again must find nothing to change.
			out, _ := runApply(t, bin, ns, files[cur])
			if !strings.Contains(out, "nothing to change") {
				t.Errorf("trial %d: after a kill at the commit, applying the same file again: %q, want nothing to change", i, out)
			}
			if got := mustState(t, ns); !got.equal(states[cur]) {
				t.Fatalf("trial %d: after a kill at the commit, applying the same file again left %s", i, got.mix(states[1-cur], states[cur]))
			}
		}
	}

	// The next applies converge, each to exactly its file.
	for k := 0; k < 2; k++ {
		target := 1 - cur
		runApply(t, bin, ns, files[target])
		if got := mustState(t, ns); !got.equal(states[target]) {
			t.Fatalf("after the trials, apply of %s left %s", filepath.Base(files[target]), got.mix(states[cur], states[target]))
		}
		if l := inNetns(t, ns, nft, "list", "ruleset"); l != listings[target] {
			t.Fatalf("after the trials, apply of %s: %s", filepath.Base(files[target]), lineDiff(l, listings[target]))
		}
		cur = target
	}
	if out, _ := runApply(t, bin, ns, files[cur]); !strings.Contains(out, "nothing to change") {
		t.Errorf("applying the file the kernel holds, after the trials: %q, want nothing to change", out)
	}
	summarizeKills(t, outs, full, span, time.Since(began))
}

// killAtCommit polls the generation id while the apply runs and kills it
// the moment the generation moves (its commit).
func killAtCommit(t *testing.T, cmd *exec.Cmd, ns string, gen0 uint32, done chan error, o *killOutcome, start time.Time) error {
	t.Helper()
	for {
		select {
		case err := <-done:
			o.finished = true
			o.delay = time.Since(start)
			return err
		default:
		}
		g, err := kernel.GenerationID(ns)
		if err != nil {
			t.Fatal(err)
		}
		if g != gen0 {
			o.delay = time.Since(start)
			_ = cmd.Process.Signal(syscall.SIGKILL)
			return <-done
		}
		time.Sleep(200 * time.Microsecond)
	}
}

// summarizeKills logs how the trials ended and where the kills landed.
func summarizeKills(t *testing.T, outs []killOutcome, full, span, total time.Duration) {
	var old, nw, finished, atCommit, unrecorded int
	var commits []string
	var lastOld, firstNew time.Duration = 0, span
	buckets := make([][2]int, 6) // by fifths of an uninterrupted apply, the last one past its end
	for _, o := range outs {
		if o.atCommit {
			atCommit++
			if !o.recorded {
				unrecorded++
			}
			commits = append(commits, o.delay.Round(time.Millisecond).String())
			continue
		}
		if o.finished {
			finished++
		}
		b := min(int(o.delay*5/full), 5)
		if o.committed {
			nw++
			buckets[b][1]++
			firstNew = min(firstNew, o.delay)
		} else {
			old++
			buckets[b][0]++
			lastOld = max(lastOld, o.delay)
		}
	}
	var hist []string
	for i, b := range buckets {
		label := fmt.Sprintf("%d-%d%%", i*20, i*20+20)
		if i == 5 {
			label = ">100%"
		}
		hist = append(hist, fmt.Sprintf("%s: %d old/%d new", label, b[0], b[1]))
	}
	t.Logf("%d random kills over 0-%v (uninterrupted apply %v): %d ended in the old state, %d in the new (%d of them had exited before the kill); last kill leaving the old state at %v, first leaving the new at %v",
		old+nw, span.Round(time.Millisecond), full.Round(time.Millisecond), old, nw, finished, lastOld.Round(time.Millisecond), firstNew.Round(time.Millisecond))
	t.Logf("kill times by share of the uninterrupted apply: %s", strings.Join(hist, ", "))
	t.Logf("%d kills at the commit (after %s; all in the new state), %d of them before the apply updated its record; %v in all",
		atCommit, strings.Join(commits, ", "), unrecorded, total.Round(time.Second))
}

// TestApplyConcurrentEndsInOneState starts two applies of different files
// (each 21,022 rules, 20,000 of them different) at once, the second after a
// random delay within one apply's duration, several times. The namespace
// must end in exactly one of the two states; an apply that exits 0 while
// the other fails must be the one whose state it holds; a failing apply
// must say that nothing was changed. After each round, a plain apply must
// converge exactly (whatever the two left in the state directory).
func TestApplyConcurrentEndsInOneState(t *testing.T) {
	ns, nft, bin := atomicNS(t, "atomic-conc")
	tables, chains, per, rounds := 1, 20, 1000, 8
	if testing.Short() {
		tables, chains, per, rounds = 1, 5, 300, 4
	}
	loadWithNft(t, ns, nft, foreignTable)
	files := []string{
		writeTemp(t, "a.nft", atomicRuleset(0, tables, chains, per)),
		writeTemp(t, "b.nft", atomicRuleset(1, tables, chains, per)),
	}
	states, _, full := referenceStates(t, ns, nft, bin, files, "atomic-conc-peer")
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 0xc0c))
	var ends [2]int
	var failures int
	for round := 0; round < rounds; round++ {
		var wg sync.WaitGroup
		outs := make([][]byte, 2)
		errs := make([]error, 2)
		first := rng.IntN(2)
		lag := time.Duration(rng.Int64N(int64(full)))
		for k, i := range []int{first, 1 - first} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if k == 1 {
					time.Sleep(lag)
				}
				outs[i], errs[i] = exec.Command(bin, "apply", "--netns", ns, files[i]).CombinedOutput()
			}()
		}
		wg.Wait()
		got := mustState(t, ns)
		end := -1
		for i := range states {
			if got.equal(states[i]) {
				end = i
			}
		}
		if end < 0 {
			t.Fatalf("round %d: two concurrent applies left a mix: %s\n%s\n%s", round, got.mix(states[0], states[1]), outs[0], outs[1])
		}
		ends[end]++
		switch {
		case errs[0] != nil && errs[1] != nil:
			t.Fatalf("round %d: both applies failed:\n%s\n%s", round, outs[0], outs[1])
		case errs[0] != nil || errs[1] != nil:
			failures++
			loser := 0
			if errs[1] != nil {
				loser = 1
			}
			if end == loser {
				t.Errorf("round %d: the apply of %s failed, yet the kernel holds its state", round, filepath.Base(files[loser]))
			}
			if !strings.Contains(string(outs[loser]), "nothing was changed") {
				t.Errorf("round %d: the failing apply does not say that nothing was changed: %s", round, outs[loser])
			}
		}
		// A plain apply afterwards converges.
		next := rng.IntN(2)
		runApply(t, bin, ns, files[next])
		if got := mustState(t, ns); !got.equal(states[next]) {
			t.Fatalf("round %d: the apply after the concurrent ones left %s", round, got.mix(states[1-next], states[next]))
		}
	}
	t.Logf("%d rounds of two concurrent applies of %d-rule files (second started 0-%v later): ended %d times in a.nft's state, %d in b.nft's; %d rounds had one apply give up",
		rounds, atomicRules(tables, chains, per), full.Round(time.Millisecond), ends[0], ends[1], failures)
}

// TestApplyRefusedLateChangesNothing applies big changes (100,000 rules
// deleted and as many added) that the kernel refuses only at their end: a rule of
// the last chain refers to a set that does not exist, or jumps to a base
// chain. The ruleset, handles included, must not change. (A jump loop
// closed in the last chain is left out: with 100,000 rules in the batch
// the kernel spent over five minutes of system time on it.)
func TestApplyRefusedLateChangesNothing(t *testing.T) {
	ns, nft, bin := atomicNS(t, "atomic-refused")
	tables, chains, per := 1, 100, 1000
	if testing.Short() {
		tables, chains, per = 2, 5, 300
	}
	loadWithNft(t, ns, nft, foreignTable)
	runApply(t, bin, ns, writeTemp(t, "a.nft", atomicRuleset(0, tables, chains, per)))
	before := inNetns(t, ns, nft, "-a", "list", "ruleset")
	good := atomicRuleset(1, tables, chains, per)
	// after inserts line at the top of the chain named by head in the last
	// table: its rules are among the last messages of the batch.
	after := func(text, head, line string) string {
		i := strings.LastIndex(text, head)
		if i < 0 {
			t.Fatalf("no %q in the ruleset", head)
		}
		i += len(head)
		return text[:i] + line + text[i:]
	}
	last := fmt.Sprintf("\tchain c%d_v1 {\n", chains-1)
	for _, tc := range []struct{ name, bad, want string }{
		{"missing set", after(good, last, "\t\tip saddr @nosuch drop\n"), "nosuch"},
		{"jump to a base chain", after(good, last, "\t\tjump input\n"), "jump input"},
	} {
		f := writeTemp(t, "bad.nft", tc.bad)
		out, err := exec.Command(bin, "apply", "--netns", ns, f).CombinedOutput()
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 1 || !strings.Contains(string(out), "nothing was changed") {
			t.Errorf("%s: apply of a file the kernel refuses: %v: %.2000s", tc.name, err, out)
		}
		if !strings.Contains(strings.ToLower(string(out)), tc.want) {
			t.Errorf("%s: the error does not name the cause (%q): %.2000s", tc.name, tc.want, out)
		}
		if after := inNetns(t, ns, nft, "-a", "list", "ruleset"); after != before {
			t.Errorf("%s: a refused apply changed the ruleset: %s", tc.name, lineDiff(after, before))
		}
	}
	// The good file still applies.
	runApply(t, bin, ns, writeTemp(t, "b.nft", good))
	if after := inNetns(t, ns, nft, "list", "ruleset"); !strings.Contains(after, fmt.Sprintf("chain c%d_v1", chains-1)) || strings.Contains(after, "c0_v0") {
		t.Errorf("the good change did not apply after the refused ones")
	}
}

// TestRulesetStateSeesEveryChange checks the check the tests above rely on:
// one rule changed in place (same handle), one rule moved, one set element
// removed, or one element added to the foreign table each make a state
// that equals neither reference state, and the `mix` report points at the
// object.
func TestRulesetStateSeesEveryChange(t *testing.T) {
	ns, nft, bin := atomicNS(t, "atomic-state")
	loadWithNft(t, ns, nft, foreignTable)
	files := []string{
		writeTemp(t, "a.nft", atomicRuleset(0, 1, 3, 50)),
		writeTemp(t, "b.nft", atomicRuleset(1, 1, 3, 50)),
	}
	runApply(t, bin, ns, files[0])
	a := mustState(t, ns)
	runApply(t, bin, ns, files[1])
	b := mustState(t, ns)
	if a.equal(b) || !b.equal(mustState(t, ns)) {
		t.Fatal("the states of the two files are the same, or a state read twice differs")
	}
	// handle returns the handle of the last rule of chain that reads rule.
	handle := func(chain, rule string) string {
		last := ""
		for _, l := range strings.Split(inNetns(t, ns, nft, "-a", "list", "chain", "inet", "big0", chain), "\n") {
			if r, h, ok := strings.Cut(strings.TrimSpace(l), " # handle "); ok && r == rule {
				last = h
			}
		}
		if last == "" {
			t.Fatalf("no rule %q in chain %s", rule, chain)
		}
		return last
	}
	prev := b
	for _, m := range []struct {
		what, obj string
		args      []string
	}{
		{"a rule replaced in place", "chain inet big0 c1_v1",
			[]string{"replace", "rule", "inet", "big0", "c1_v1", "handle", handle("c1_v1", "ip saddr 10.1.0.7 tcp dport 2007 accept"), "ip saddr 10.1.0.7 tcp dport 2008 accept"}},
		{"a rule moved to the front", "chain inet big0 c2_v1",
			[]string{"insert", "rule", "inet", "big0", "c2_v1", "ip saddr 10.2.0.49 tcp dport 2049 accept"}},
		{"a set element removed", "set inet big0 blocked", []string{"delete", "element", "inet", "big0", "blocked", "{ 192.0.3.0 }"}},
		{"an element added to the foreign table", "set ip foreign s", []string{"add", "element", "ip", "foreign", "s", "{ 172.17.0.9 }"}},
	} {
		inNetns(t, ns, append([]string{nft}, m.args...)...)
		if m.what == "a rule moved to the front" {
			inNetns(t, ns, nft, "delete", "rule", "inet", "big0", "c2_v1", "handle", handle("c2_v1", "ip saddr 10.2.0.49 tcp dport 2049 accept"))
		}
		got := mustState(t, ns)
		if got.equal(prev) || got.equal(a) || got.equal(b) {
			t.Errorf("%s: the state did not change or equals a reference state", m.what)
		}
		if got.objs[m.obj] == prev.objs[m.obj] {
			t.Errorf("%s: %s looks unchanged: %s", m.what, m.obj, got.mix(a, b))
		}
		prev = got
	}
}
