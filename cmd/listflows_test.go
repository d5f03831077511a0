package cmd

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/netip"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nftflow/nftflow/compiler"
	"github.com/nftflow/nftflow/kernel"
	"github.com/nftflow/nftflow/model"
)

// flowsNetns makes a throwaway namespace holding conntrack entries of
// several kinds: conntrack -I entries plus 600 made with CreateFlows.
func flowsNetns(t *testing.T) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root for a network namespace")
	}
	if _, err := exec.LookPath("conntrack"); err != nil {
		t.Skip("needs conntrack (conntrack-tools) as the reference")
	}
	ns := fmt.Sprintf("nftflow-test-flows-%d", os.Getpid())
	if out, err := exec.Command("ip", "netns", "add", ns).CombinedOutput(); err != nil {
		t.Fatalf("ip netns add: %v: %s", err, out)
	}
	t.Cleanup(func() { _ = exec.Command("ip", "netns", "del", ns).Run() })
	for _, args := range [][]string{
		{"-p", "tcp", "-s", "10.0.0.1", "-d", "10.0.0.2", "--sport", "1234", "--dport", "443", "--state", "ESTABLISHED", "-t", "300", "-u", "ASSURED,SEEN_REPLY"},
		{"-p", "udp", "-s", "10.0.0.1", "-d", "10.0.0.53", "--sport", "443", "--dport", "53", "-t", "300"},
		{"-p", "tcp", "-s", "2001:db8::1", "-d", "2001:db8::2", "--sport", "1234", "--dport", "443", "--state", "SYN_SENT", "-t", "300", "--zone", "2"},
		{"-p", "icmp", "-s", "10.0.0.1", "-d", "10.0.0.2", "--icmp-type", "8", "--icmp-code", "0", "--icmp-id", "443", "-t", "300"},
	} {
		if out, err := exec.Command("ip", append([]string{"netns", "exec", ns, "conntrack", "-I"}, args...)...).CombinedOutput(); err != nil {
			t.Fatalf("conntrack -I %v: %v: %s", args, err, out)
		}
	}
	i := 0
	_, err := kernel.CreateFlows(context.Background(), ns, func(f *model.Flow) bool {
		if i == 600 {
			return false
		}
		k := i
		i++
		to := uint32(900)
		f.Timeout = &to
		src := netip.AddrFrom4([4]byte{10, 30, byte(k % 3), byte(k)})
		dst := netip.MustParseAddr("192.0.2.9")
		if k%4 == 0 {
			src = netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, 15: byte(k), 14: byte(k >> 8)})
			dst = netip.MustParseAddr("2001:db8::9")
		}
		proto := model.ProtoTCP
		if k%3 == 1 {
			proto = model.ProtoUDP
		}
		f.Orig = model.FlowTuple{Src: src, Dst: dst, Proto: proto, SrcPort: uint16(2000 + k), DstPort: uint16(80 + k%5)}
		if k%7 == 0 {
			z := uint16(k % 3)
			f.Zone = &z
		}
		return true
	})
	if err != nil {
		t.Fatal(err)
	}
	return ns
}

// timeoutField is the timeout, the one field that ticks between two reads.
var timeoutField = regexp.MustCompile(`^(\S+ +\d+) \d+ `)

func normalize(lines []string) []string {
	out := make([]string, 0, len(lines))
	for _, l := range lines {
		if l != "" {
			out = append(out, timeoutField.ReplaceAllString(l, "$1 T "))
		}
	}
	slices.Sort(out)
	return out
}

func runNftflow(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = Main(args, strings.NewReader(""), &out, &errOut)
	return out.String(), errOut.String(), code
}

func conntrackL(t *testing.T, ns string, args ...string) []string {
	t.Helper()
	out, err := exec.Command("ip", append([]string{"netns", "exec", ns, "conntrack", "-L"}, args...)...).Output()
	if err != nil {
		t.Fatalf("conntrack -L %v: %v", args, err)
	}
	return strings.Split(string(out), "\n")
}

// TestListFlowsFiltersMatchConntrack runs each filter through nftflow and
// the equivalent conntrack -L filter, and compares the lines (timeouts
// masked: they tick between the two reads).
func TestListFlowsFiltersMatchConntrack(t *testing.T) {
	ns := flowsNetns(t)
	all := conntrackL(t, ns)
	grep := func(re string) []string {
		r := regexp.MustCompile(re)
		var out []string
		for _, l := range all {
			if r.MatchString(l) {
				out = append(out, l)
			}
		}
		return out
	}
	cases := []struct {
		flags []string
		peer  func() []string
	}{
		{nil, func() []string { return all }},
		{[]string{"--proto", "tcp"}, func() []string { return conntrackL(t, ns, "-p", "tcp") }},
		{[]string{"--proto", "17"}, func() []string { return conntrackL(t, ns, "-p", "udp") }},
		{[]string{"--src", "10.30.1.0/24"}, func() []string { return conntrackL(t, ns, "-s", "10.30.1.0/24") }},
		{[]string{"--src", "10.0.0.1"}, func() []string { return conntrackL(t, ns, "-s", "10.0.0.1") }},
		{[]string{"--dst", "2001:db8::9"}, func() []string { return conntrackL(t, ns, "-d", "2001:db8::9") }},
		{[]string{"--zone", "2"}, func() []string { return conntrackL(t, ns, "--zone", "2") }},
		{[]string{"--proto", "tcp", "--src", "2001:db8::/64"}, func() []string { return conntrackL(t, ns, "-p", "tcp", "-s", "2001:db8::/64") }},
		// conntrack has no either-port filter: select its lines by text. The
		// ICMP entry with id=443 must not match.
		{[]string{"--port", "443"}, func() []string { return grep(`(sport|dport)=443\b`) }},
		{[]string{"--not-offloaded"}, func() []string { return all }},
		// Nothing is offloaded in a namespace without flowtables.
		{[]string{"--offloaded"}, func() []string { return nil }},
		{[]string{"--hw"}, func() []string { return nil }},
	}
	total := 0
	for _, c := range cases {
		args := append([]string{"list", "flows", "--netns", ns, "-o", "conntrack"}, c.flags...)
		out, errOut, code := runNftflow(t, args...)
		if code != 0 {
			t.Errorf("%v: exit %d: %s", c.flags, code, errOut)
			continue
		}
		got, want := normalize(strings.Split(out, "\n")), normalize(c.peer())
		if !slices.Equal(got, want) {
			t.Errorf("%v: nftflow printed %d lines, conntrack %d", c.flags, len(got), len(want))
			for i := 0; i < len(got) && i < len(want) && i < 3; i++ {
				if got[i] != want[i] {
					t.Errorf("  got  %s\n  want %s", got[i], want[i])
				}
			}
			continue
		}
		if wantErr := fmt.Sprintf("%d flow entries have been shown.", len(want)); !strings.Contains(errOut, wantErr) {
			t.Errorf("%v: stderr %q, want it to say %q", c.flags, errOut, wantErr)
		}
		total += len(got)
	}
	if len(normalize(all)) != 604 {
		t.Errorf("namespace holds %d entries, want 604", len(normalize(all)))
	}
	t.Logf("%d filtered lines identical to conntrack -L", total)
}

// TestListFlowsTableAndJSON checks the default table's summary and that
// -o json prints one object per flow.
func TestListFlowsTableAndJSON(t *testing.T) {
	ns := flowsNetns(t)
	out, errOut, code := runNftflow(t, "list", "flows", "--netns", ns)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if !strings.HasPrefix(lines[0], "PROTO ") {
		t.Errorf("no header: %q", lines[0])
	}
	if want := "604 flows, 0 offloaded (0 hardware)"; lines[len(lines)-1] != want {
		t.Errorf("summary %q, want %q", lines[len(lines)-1], want)
	}
	if len(lines) != 606 {
		t.Errorf("%d table lines, want 604 rows + header + summary", len(lines))
	}
	out, _, code = runNftflow(t, "list", "flows", "--netns", ns, "-o", "json", "--proto", "icmp")
	if code != 0 || strings.Count(out, "\n") != 1 || !strings.Contains(out, `"icmp_id":443`) {
		t.Errorf("json for the one ICMP flow: exit %d\n%s", code, out)
	}
	out, _, code = runNftflow(t, "list", "flows", "--netns", ns, "--offloaded")
	if code != 0 || out != "0 flows, 0 offloaded (0 hardware)\n" {
		t.Errorf("empty listing: exit %d %q", code, out)
	}
}

func TestListFlowsMissingNetns(t *testing.T) {
	out, errOut, code := runNftflow(t, "list", "flows", "--netns", "nftflow-no-such-netns")
	if code != ExitUsage || !strings.Contains(errOut, "nftflow-no-such-netns") {
		t.Errorf("exit %d, stderr %q; want exit 2 naming the namespace", code, errOut)
	}
	if out != "" {
		t.Errorf("a failed listing printed %q, want nothing (no summary)", out)
	}
}

// lockedBuffer is a bytes.Buffer safe to read while a watcher writes.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestListFlowsWatch streams events with a filter until cancelled.
func TestListFlowsWatch(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root for a network namespace")
	}
	if _, err := exec.LookPath("conntrack"); err != nil {
		t.Skip("needs conntrack to make events")
	}
	ns := fmt.Sprintf("nftflow-test-watch-%d", os.Getpid())
	if out, err := exec.Command("ip", "netns", "add", ns).CombinedOutput(); err != nil {
		t.Fatalf("ip netns add: %v: %s", err, out)
	}
	t.Cleanup(func() { _ = exec.Command("ip", "netns", "del", ns).Run() })
	var out, errOut lockedBuffer
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	o := &listFlowsOptions{netns: ns, output: "conntrack", proto: "udp", watch: true}
	go func() {
		done <- runListFlows(ctx, o, func(string) bool { return false }, &streams{out: &out, err: &errOut})
	}()
	time.Sleep(300 * time.Millisecond)
	ct := func(args ...string) {
		if b, err := exec.Command("ip", append([]string{"netns", "exec", ns, "conntrack"}, args...)...).CombinedOutput(); err != nil {
			t.Fatalf("conntrack %v: %v: %s", args, err, b)
		}
	}
	ct("-I", "-p", "tcp", "-s", "10.7.0.1", "-d", "10.7.0.2", "--sport", "1", "--dport", "2", "--state", "ESTABLISHED", "-t", "60")
	ct("-I", "-p", "udp", "-s", "10.7.0.1", "-d", "10.7.0.2", "--sport", "1", "--dport", "2", "-t", "60")
	ct("-D", "-p", "udp", "-s", "10.7.0.1")
	deadline := time.Now().Add(5 * time.Second)
	for strings.Count(out.String(), "\n") < 2 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("watch: %v", err)
	}
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	if len(lines) != 2 || !strings.HasPrefix(lines[0], "    [NEW] udp      17 60 src=10.7.0.1") ||
		!strings.HasPrefix(lines[1], "[DESTROY] udp      17 ") || !strings.Contains(lines[1], "[USERSPACE] portid=") {
		t.Errorf("watch output:\n%s", out.String())
	}
}

// ipipGateway is the seed's IPIP gateway as the slow-path check sees it on
// 7.2 with the flowtable on { eth0, tun0 }.
func ipipGateway(t *testing.T) *compiler.FlowPathChecker {
	t.Helper()
	up := func(l model.Link) model.Link { l.AdminUp, l.OperUp = true, true; return l }
	topo := model.Topology{
		Links: []model.Link{
			up(model.Link{Index: 2, Name: "eth0"}),
			up(model.Link{Index: 3, Name: "eth1"}),
			up(model.Link{Index: 4, Name: "tun0", Kind: model.LinkKindIPIP,
				Tunnel: &model.LinkTunnel{Local: netip.MustParseAddr("192.168.1.1"), Remote: netip.MustParseAddr("192.168.1.2")}}),
		},
		Routes: []model.Route{
			{Dst: netip.MustParsePrefix("0.0.0.0/0"), OutIndex: 4, Table: 254},
			{Dst: netip.MustParsePrefix("192.168.0.0/24"), OutIndex: 2, Table: 254},
			{Dst: netip.MustParsePrefix("192.168.1.0/24"), OutIndex: 3, Table: 254},
		},
	}
	ft := model.Flowtable{Family: model.FamilyInet, Table: "filter", Name: "ft", Devices: []string{"eth0", "tun0"}}
	return compiler.NewFlowPathChecker(topo, model.FeaturesForVersion(model.KernelVersion{Major: 7, Minor: 2}), []model.Flowtable{ft})
}

func offloadedFlow(src, dst string) *model.Flow {
	s, d := netip.MustParseAddr(src), netip.MustParseAddr(dst)
	return &model.Flow{Family: model.FamilyIP, Status: model.StatusOffload | model.StatusSeenReply,
		Orig:  model.FlowTuple{Src: s, Dst: d, Proto: model.ProtoTCP, SrcPort: 40000, DstPort: 5101},
		Reply: model.FlowTuple{Src: d, Dst: netip.MustParseAddr("10.0.0.1"), Proto: model.ProtoTCP, SrcPort: 5101, DstPort: 40000}}
}

// The kernel facts are read once, at the first offloaded flow, and the
// findings come from them.
func TestSlowPathCheckLoadsOnce(t *testing.T) {
	loads := 0
	var errOut bytes.Buffer
	o := &listFlowsOptions{netns: "R", flowPaths: func(netns string) (*compiler.FlowPathChecker, error) {
		loads++
		if netns != "R" {
			t.Errorf("loaded namespace %q, want R", netns)
		}
		return ipipGateway(t), nil
	}}
	c := newSlowPathCheck(o, "table", &errOut)
	if c == nil {
		t.Fatal("no check for the table format")
	}
	if loads != 0 {
		t.Fatal("loaded before any flow")
	}
	for i := range 3 {
		got := c.check(offloadedFlow(fmt.Sprintf("192.168.0.%d", 2+i), "198.51.100.1"))
		if len(got) != 1 || got[0].Direction != "reply" || got[0].Device != "eth1" || got[0].Via != "tun0" {
			t.Fatalf("flow %d: %+v", i, got)
		}
	}
	if loads != 1 {
		t.Errorf("loaded %d times, want once", loads)
	}
	if errOut.Len() != 0 {
		t.Errorf("stderr: %q", errOut.String())
	}
}

// A failure to read the facts skips the check with one note on stderr.
func TestSlowPathCheckLoadError(t *testing.T) {
	loads := 0
	var errOut bytes.Buffer
	o := &listFlowsOptions{flowPaths: func(string) (*compiler.FlowPathChecker, error) {
		loads++
		return nil, fmt.Errorf("read flowtables: %w", os.ErrPermission)
	}}
	c := newSlowPathCheck(o, "json", &errOut)
	for range 2 {
		if got := c.check(offloadedFlow("192.168.0.2", "198.51.100.1")); got != nil {
			t.Errorf("findings without facts: %+v", got)
		}
	}
	if loads != 1 || strings.Count(errOut.String(), "\n") != 1 || !strings.Contains(errOut.String(), "permission denied") {
		t.Errorf("loads %d, stderr %q", loads, errOut.String())
	}
}

func TestSlowPathCheckNotForConntrackOrWatch(t *testing.T) {
	if c := newSlowPathCheck(&listFlowsOptions{}, "conntrack", io.Discard); c != nil {
		t.Error("conntrack format gets a slow-path check")
	}
	if c := newSlowPathCheck(&listFlowsOptions{watch: true}, "table", io.Discard); c != nil {
		t.Error("--watch gets a slow-path check")
	}
}

// A listing without offloaded flows never reads the topology or ruleset.
func TestListFlowsNoOffloadNoTopologyRead(t *testing.T) {
	ns := flowsNetns(t)
	for _, format := range []string{"table", "json"} {
		var out, errOut bytes.Buffer
		o := &listFlowsOptions{netns: ns, output: format, flowPaths: func(string) (*compiler.FlowPathChecker, error) {
			t.Errorf("%s: topology read for a listing without offloaded flows", format)
			return nil, os.ErrInvalid
		}}
		if err := runListFlows(context.Background(), o, func(string) bool { return false }, &streams{out: &out, err: &errOut}); err != nil {
			t.Fatal(err)
		}
		if out.Len() == 0 || strings.Contains(out.String(), "slow path") {
			t.Errorf("%s output: %q", format, out.String())
		}
	}
}

// The loader works against a real namespace (one without flowtables on
// this host: nothing to report, but every read must succeed).
func TestLoadFlowPathChecker(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root for a network namespace")
	}
	ns := fmt.Sprintf("nftflow-test-fp-%d", os.Getpid())
	if out, err := exec.Command("ip", "netns", "add", ns).CombinedOutput(); err != nil {
		t.Fatalf("ip netns add: %v: %s", err, out)
	}
	t.Cleanup(func() { _ = exec.Command("ip", "netns", "del", ns).Run() })
	for _, args := range [][]string{
		{"link", "add", "eth0", "type", "veth", "peer", "name", "peer0"},
		{"link", "set", "eth0", "up"},
		{"addr", "add", "192.168.0.1/24", "dev", "eth0"},
	} {
		if out, err := exec.Command("ip", append([]string{"-n", ns}, args...)...).CombinedOutput(); err != nil {
			t.Fatalf("ip %v: %v: %s", args, err, out)
		}
	}
	c, err := loadFlowPathChecker(ns)
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Check(netip.MustParseAddr("192.168.0.2"), netip.MustParseAddr("192.168.0.3")); got != nil {
		t.Errorf("findings without flowtables: %+v", got)
	}
	if _, err := loadFlowPathChecker("nftflow-test-no-such-ns"); err == nil {
		t.Error("no error for a missing namespace")
	}
}
