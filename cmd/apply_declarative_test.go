package cmd

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/nftflow/nftflow/compiler"
	"github.com/nftflow/nftflow/model"
	"github.com/nftflow/nftflow/parser"
	"github.com/nftflow/nftflow/plan"
)

// declRun runs nftflow in-process with a private state directory.
func declRun(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = Main(args, nil, &out, &errOut)
	return out.String(), errOut.String(), code
}

func writeFile(t *testing.T, dir, name, text string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func mustApply(t *testing.T, ns, file string) string {
	t.Helper()
	_, stderr, code := declRun(t, "apply", "-v", "--netns", ns, file)
	if code != ExitOK {
		t.Fatalf("apply %s: exit %d: %s", filepath.Base(file), code, stderr)
	}
	return stderr
}

const declV1 = `table inet filter {
	set blocked {
		type ipv4_addr
		flags interval
		elements = { 10.0.0.0/8, 192.0.2.1 }
	}
	counter dropped { }
	chain input {
		type filter hook input priority filter; policy accept;
		iif "lo" counter accept
		ip saddr { 198.51.100.1, 198.51.100.2 } counter drop
		ip saddr @blocked counter name "dropped" drop
		tcp dport 22 accept comment "ssh"
		tcp dport { 80, 443 } accept
		jump extra
	}
	chain extra {
		udp dport 53 accept
	}
}
`

// declV2 changes one rule (the anonymous set of rule 2), adds one rule,
// removes one, adds and removes elements, and changes the policy.
const declV2 = `table inet filter {
	set blocked {
		type ipv4_addr
		flags interval
		elements = { 10.0.0.0/8, 172.16.0.0/12 }
	}
	counter dropped { }
	chain input {
		type filter hook input priority filter; policy drop;
		iif "lo" counter accept
		ip saddr { 198.51.100.1, 198.51.100.3 } counter drop
		ip saddr @blocked counter name "dropped" drop
		tcp dport 2222 accept
		tcp dport 22 accept comment "ssh"
		jump extra
	}
	chain extra {
		udp dport 53 accept
	}
}
`

var handleRe = regexp.MustCompile(`(?m)^\s*(.*?) # handle (\d+)$`)

// ruleHandles maps each rule's text (counters dropped) to its handle.
func ruleHandles(listing string) map[string]string {
	m := map[string]string{}
	for _, sm := range handleRe.FindAllStringSubmatch(listing, -1) {
		m[regexp.MustCompile(`counter packets \d+ bytes \d+`).ReplaceAllString(sm[1], "counter")] = sm[2]
	}
	return m
}

func TestDeclarativeApplyIdempotent(t *testing.T) {
	t.Setenv("NFTFLOW_STATE_DIR", t.TempDir())
	ns := applyNetns(t, "idem")
	dir := t.TempDir()
	v1 := writeFile(t, dir, "v1.nft", declV1)
	mustApply(t, ns, v1)
	first := nftInNetns(t, ns, "-a", "list", "ruleset")

	// Watch the second apply with nft monitor: it must send nothing.
	mon := exec.Command("ip", "netns", "exec", ns, "nft", "monitor")
	var monOut bytes.Buffer
	mon.Stdout = &monOut
	if err := mon.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)
	msg := mustApply(t, ns, v1)
	time.Sleep(300 * time.Millisecond)
	_ = mon.Process.Kill()
	_ = mon.Wait()
	if !strings.Contains(msg, "nothing to change") {
		t.Errorf("second apply of the same file: %q, want nothing to change", msg)
	}
	if monOut.Len() != 0 {
		t.Errorf("second apply of the same file changed the ruleset (nft monitor):\n%s", monOut.String())
	}
	if again := nftInNetns(t, ns, "-a", "list", "ruleset"); again != first {
		t.Errorf("second apply changed the listing:\nbefore:\n%s\nafter:\n%s", first, again)
	}
	// The result is what nft -f makes of the same file.
	peer := applyNetns(t, "idem-peer")
	nftInNetns(t, peer, "-f", v1)
	if got, want := nftInNetns(t, ns, "list", "ruleset"), nftInNetns(t, peer, "list", "ruleset"); got != want {
		t.Errorf("nftflow apply:\n%s\nnft -f:\n%s", got, want)
	}
}

func TestDeclarativeApplyKeepsUnchangedRules(t *testing.T) {
	t.Setenv("NFTFLOW_STATE_DIR", t.TempDir())
	ns := applyNetns(t, "keep")
	dir := t.TempDir()
	mustApply(t, ns, writeFile(t, dir, "v1.nft", declV1))
	// Count packets on the loopback rule.
	if out, err := exec.Command("ip", "netns", "exec", ns, "sh", "-c", "ip link set lo up && ping -c 2 -W 1 127.0.0.1").CombinedOutput(); err != nil {
		t.Skipf("ping over loopback in the namespace: %v: %s", err, out)
	}
	before := nftInNetns(t, ns, "-a", "list", "ruleset")
	hb := ruleHandles(before)
	lo := regexp.MustCompile(`iif "lo" counter packets (\d+) bytes`).FindStringSubmatch(before)
	if lo == nil || lo[1] == "0" {
		t.Fatalf("loopback counter did not count:\n%s", before)
	}

	v2 := writeFile(t, dir, "v2.nft", declV2)
	stdout, _, code := declRun(t, "diff", "--netns", ns, v2)
	if code != ExitOK {
		t.Fatalf("diff: exit %d", code)
	}
	for _, want := range []string{
		"~ rule input handle " + hb[`ip saddr { 198.51.100.1, 198.51.100.2 } counter drop`],
		"+ rule input: tcp dport 2222 accept",
		"- rule input handle " + hb[`tcp dport { 80, 443 } accept`],
		"+ element blocked: 172.16.0.0/12",
		"- element blocked: 192.0.2.1",
		"~ policy input: policy accept",
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("diff lacks %q:\n%s", want, stdout)
		}
	}
	mustApply(t, ns, v2)
	after := nftInNetns(t, ns, "-a", "list", "ruleset")
	ha := ruleHandles(after)
	for _, r := range []string{`iif "lo" counter accept`, `ip saddr @blocked counter name "dropped" drop`, `tcp dport 22 accept comment "ssh"`, `jump extra`, `udp dport 53 accept`} {
		if hb[r] == "" || ha[r] != hb[r] {
			t.Errorf("unchanged rule %q: handle %q before, %q after", r, hb[r], ha[r])
		}
	}
	// The replaced rule keeps its handle.
	if h := hb[`ip saddr { 198.51.100.1, 198.51.100.2 } counter drop`]; ha[`ip saddr { 198.51.100.1, 198.51.100.3 } counter drop`] != h {
		t.Errorf("replaced rule: handle %q, want %q (replaced in place)\n%s", ha[`ip saddr { 198.51.100.1, 198.51.100.3 } counter drop`], h, after)
	}
	if got := regexp.MustCompile(`iif "lo" counter packets (\d+) bytes`).FindStringSubmatch(after); got == nil || got[1] != lo[1] {
		t.Errorf("the unchanged loopback rule lost its counter: %v, want %s packets", got, lo[1])
	}
	peer := applyNetns(t, "keep-peer")
	nftInNetns(t, peer, "-f", v2)
	norm := func(s string) string {
		return regexp.MustCompile(`counter packets \d+ bytes \d+`).ReplaceAllString(s, "counter")
	}
	if got, want := norm(nftInNetns(t, ns, "list", "ruleset")), norm(nftInNetns(t, peer, "list", "ruleset")); got != want {
		t.Errorf("after the change:\n%s\nnft -f of the new file:\n%s", got, want)
	}
}

func TestDeclarativeApplyLeavesOtherTablesAlone(t *testing.T) {
	t.Setenv("NFTFLOW_STATE_DIR", t.TempDir())
	ns := applyNetns(t, "iso")
	dir := t.TempDir()
	other := writeFile(t, dir, "other.nft", `table ip docker {
	set s { type ipv4_addr; elements = { 172.17.0.2 } }
	chain DOCKER { ip daddr @s counter accept; }
	chain forwarding { type filter hook forward priority 0; jump DOCKER; }
}
table inet filter {
	chain input { type filter hook input priority 0; tcp dport 1 drop; }
}
`)
	nftInNetns(t, ns, "-f", other)
	before := nftInNetns(t, ns, "-a", "list", "table", "ip", "docker")
	mustApply(t, ns, writeFile(t, dir, "v1.nft", declV1))
	mustApply(t, ns, writeFile(t, dir, "v2.nft", declV2))
	if after := nftInNetns(t, ns, "-a", "list", "table", "ip", "docker"); after != before {
		t.Errorf("a table outside the file changed:\nbefore:\n%s\nafter:\n%s", before, after)
	}
	// The managed table is exactly the file: the rule nft added is gone.
	if got := nftInNetns(t, ns, "list", "table", "inet", "filter"); strings.Contains(got, "dport 1 drop") {
		t.Errorf("a rule of the managed table that the file lacks survived:\n%s", got)
	}
	// flush ruleset in the file makes the file the whole ruleset.
	mustApply(t, ns, writeFile(t, dir, "flush.nft", "flush ruleset\n"+declV1))
	if got := nftInNetns(t, ns, "list", "tables"); got != "table inet filter\n" {
		t.Errorf("after a file with flush ruleset, tables:\n%s", got)
	}
}

func TestDeclarativeApplyBigSetElements(t *testing.T) {
	t.Setenv("NFTFLOW_STATE_DIR", t.TempDir())
	ns := applyNetns(t, "bigset")
	dir := t.TempDir()
	gen := func(skip, extra int) string {
		var b strings.Builder
		b.WriteString("table ip t {\n\tset s {\n\t\ttype ipv4_addr\n\t\telements = { ")
		for i := 0; i < 50000; i++ {
			if i < skip {
				continue
			}
			fmt.Fprintf(&b, "10.%d.%d.%d, ", i>>16, (i>>8)&255, i&255)
		}
		for i := 0; i < extra; i++ {
			fmt.Fprintf(&b, "11.0.%d.%d, ", i>>8, i&255)
		}
		b.WriteString("1.1.1.1 }\n\t}\n}\n")
		return b.String()
	}
	mustApply(t, ns, writeFile(t, dir, "a.nft", gen(0, 0)))
	_, stderr, code := declRun(t, "apply", "-v", "--netns", ns, writeFile(t, dir, "b.nft", gen(500, 500)))
	if code != ExitOK {
		t.Fatalf("apply: exit %d: %s", code, stderr)
	}
	if !strings.Contains(stderr, "1000 changes, 2 operations sent") {
		t.Errorf("adding and removing 500 elements each: %q, want 1000 changes in 2 operations", stderr)
	}
	got := nftInNetns(t, ns, "list", "set", "ip", "t", "s")
	if strings.Contains(got, "10.0.0.1,") || !strings.Contains(got, "11.0.1.243") || !strings.Contains(got, "10.0.1.244") {
		t.Errorf("set after the change lacks an added element or keeps a removed one")
	}
	if n := strings.Count(got, ","); n != 50000 {
		t.Errorf("set has %d commas, want 50000 (50,001 elements)", n)
	}
}

func TestDeclarativeApplyRefusedChangesNothing(t *testing.T) {
	t.Setenv("NFTFLOW_STATE_DIR", t.TempDir())
	ns := applyNetns(t, "refused")
	dir := t.TempDir()
	mustApply(t, ns, writeFile(t, dir, "v1.nft", declV1))
	before := nftInNetns(t, ns, "-a", "list", "ruleset")
	// Many changes, and a jump to a base chain at the end, which the
	// kernel refuses.
	bad := strings.Replace(declV2, "\t\tjump extra\n", "\t\tjump extra\n\t\tjump output\n", 1)
	bad = strings.Replace(bad, "\tchain extra {", "\tchain output {\n\t\ttype filter hook output priority 0;\n\t}\n\tchain extra {", 1)
	_, stderr, code := declRun(t, "apply", "--netns", ns, writeFile(t, dir, "bad.nft", bad))
	if code != ExitFindings || !strings.Contains(stderr, "jump output") || !strings.Contains(stderr, "nothing was changed") {
		t.Fatalf("apply of a file the kernel refuses: exit %d: %s", code, stderr)
	}
	if after := nftInNetns(t, ns, "-a", "list", "ruleset"); after != before {
		t.Errorf("a refused apply changed the ruleset:\nbefore:\n%s\nafter:\n%s", before, after)
	}
}

func TestDeclarativeApplyMissingFlowtableDevice(t *testing.T) {
	t.Setenv("NFTFLOW_STATE_DIR", t.TempDir())
	ns := applyNetns(t, "ftdev")
	dir := t.TempDir()
	f := writeFile(t, dir, "ft.nft", missingDevRuleset)
	_, stderr, _ := declRun(t, "apply", "--skip-missing-devices", "--netns", ns, f)
	if !strings.Contains(stderr, `device "nosuch0" does not exist, skipped`) {
		t.Errorf("--skip-missing-devices did not warn: %s", stderr)
	}
}

const missingDevRuleset = "table inet f {\n\tflowtable ft {\n\t\thook ingress priority 0; devices = { lo, nosuch0 }\n\t}\n\tchain c { type filter hook forward priority 0; }\n}\n"

// The missing-device policy: refuse before sending where the kernel would
// refuse the whole transaction (< 6.16), keep the device where the kernel
// hooks it when it appears (>= 6.16), drop it with --skip-missing-devices.
func TestMissingFlowtableDevicesPolicy(t *testing.T) {
	topo := model.Topology{Links: []model.Link{{Index: 1, Name: "lo"}}}
	for _, tc := range []struct {
		name         string
		lateOK, skip bool
		wantErr      bool
		wantDevices  string
		wantStderr   string
	}{
		{"old kernel refuses", false, false, true, "lo nosuch0", `no such device: "nosuch0" (flowtable ft of table inet f)`},
		{"new kernel hooks it later", true, false, false, "lo nosuch0", ""},
		{"skip drops it", false, true, false, "lo", `device "nosuch0" does not exist, skipped`},
		{"skip drops it on new kernels too", true, true, false, "lo", `device "nosuch0" does not exist, skipped`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pf, err := parser.ParseString("ft.nft", missingDevRuleset)
			if err != nil {
				t.Fatal(err)
			}
			b, err := compiler.Compile(pf)
			if err != nil {
				t.Fatal(err)
			}
			d, err := plan.FromBatch(*b)
			if err != nil {
				t.Fatal(err)
			}
			var errOut strings.Builder
			err = missingFlowtableDevices(d, topo, tc.lateOK, tc.skip, &errOut)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, want error %v", err, tc.wantErr)
			}
			if !strings.Contains(errOut.String(), tc.wantStderr) || (tc.wantStderr == "" && errOut.Len() > 0) {
				t.Errorf("stderr %q, want %q", errOut.String(), tc.wantStderr)
			}
			var got []string
			for _, ts := range d.Tables {
				for _, ft := range ts.Flowtables {
					got = append(got, ft.Devices...)
				}
			}
			if strings.Join(got, " ") != tc.wantDevices {
				t.Errorf("devices %v, want %s", got, tc.wantDevices)
			}
		})
	}
}

func TestDiffExitCodeJSONAndDrift(t *testing.T) {
	t.Setenv("NFTFLOW_STATE_DIR", t.TempDir())
	ns := applyNetns(t, "diff")
	dir := t.TempDir()
	v1 := writeFile(t, dir, "v1.nft", declV1)
	if _, _, code := declRun(t, "diff", "--exit-code", "--netns", ns, v1); code != ExitFindings {
		t.Errorf("diff --exit-code before apply: exit %d, want 1", code)
	}
	mustApply(t, ns, v1)
	out, _, code := declRun(t, "plan", "--exit-code", "--netns", ns, v1)
	if code != ExitOK || !strings.Contains(out, "No changes") {
		t.Errorf("plan --exit-code after apply: exit %d: %s", code, out)
	}
	// Another tool adds a rule to the managed table: drift.
	nftInNetns(t, ns, "add rule inet filter extra tcp dport 9 drop")
	out, _, code = declRun(t, "diff", "--exit-code", "-o", "json", "--netns", ns, v1)
	if code != ExitFindings {
		t.Errorf("diff --exit-code with drift: exit %d, want 1", code)
	}
	var doc struct {
		Changes []diffLine     `json:"changes"`
		Summary map[string]int `json:"summary"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("diff -o json: %v\n%s", err, out)
	}
	if len(doc.Changes) != 1 || doc.Changes[0].Mark != "remove" || doc.Changes[0].Kind != "rule" ||
		doc.Changes[0].Old != "tcp dport 9 drop" || !doc.Changes[0].Drift || doc.Summary["drift"] != 1 {
		t.Errorf("diff -o json of a rule added by nft: %s", out)
	}
	// A change of the file is not drift.
	out, _, _ = declRun(t, "diff", "-o", "json", "--netns", ns, writeFile(t, dir, "v2.nft", declV2))
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatal(err)
	}
	for _, c := range doc.Changes {
		if c.Drift != (c.Old == "tcp dport 9 drop") {
			t.Errorf("change %+v: drift %v", c, c.Drift)
		}
	}
}
