package kernel_test

import (
	"bytes"
	"context"
	"fmt"
	"net/netip"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/nftflow/nftflow/kernel"
	"github.com/nftflow/nftflow/model"
	"github.com/nftflow/nftflow/render"
)

func needConntrack(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("conntrack"); err != nil {
		t.Skip("needs conntrack (conntrack-tools) as the reference")
	}
}

// dumpLines renders the namespace's table as conntrack -L lines at now.
func dumpLines(t *testing.T, ns string, now time.Time) []string {
	t.Helper()
	var lines []string
	err := kernel.DumpFlows(context.Background(), kernel.FlowOptions{Netns: ns}, func(f *model.Flow) error {
		lines = append(lines, string(render.AppendConntrack(nil, "", f, now)))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return lines
}

// compareWithConntrackL lists the table with conntrack -L between two
// nftflow dumps: every line conntrack printed must be printed identically
// by one of them (timeouts may tick between the reads, nothing else may
// differ), and the counts must agree. It returns the number of lines.
func compareWithConntrackL(t *testing.T, ns string) int {
	t.Helper()
	for try := 0; ; try++ {
		t0 := time.Now()
		before := dumpLines(t, ns, t0)
		want := ctList(t, ns)
		t1 := time.Now()
		after := dumpLines(t, ns, t1)
		seen := map[string]bool{}
		for _, l := range append(before, after...) {
			seen[l] = true
		}
		var missing []string
		for _, l := range want {
			if !seen[l] {
				missing = append(missing, l)
			}
		}
		if len(missing) == 0 && len(before) == len(want) && len(after) == len(want) {
			return len(want)
		}
		if try == 4 {
			slices.Sort(before)
			t.Errorf("%d of %d conntrack -L lines not printed by nftflow (nftflow printed %d, %d lines)",
				len(missing), len(want), len(before), len(after))
			for i, l := range missing {
				if i == 10 {
					break
				}
				t.Errorf("conntrack -L: %s", l)
			}
			for i, l := range before {
				if i == 10 {
					break
				}
				t.Logf("nftflow:     %s", l)
			}
			return 0
		}
	}
}

// TestDumpFlowsMatchesConntrack fills a namespace with entries of every
// kind conntrack -I can make (plus 2,000 made by CreateFlows) and compares
// nftflow's -o conntrack rendering with conntrack -L, line by line.
func TestDumpFlowsMatchesConntrack(t *testing.T) {
	needConntrack(t)
	ns := kernel.NetnsForTest(t)
	for _, args := range ctRecordEntries {
		ctExec(t, ns, append([]string{"-I"}, args...)...)
	}
	nsExec(t, ns, "sysctl", "-qw", "net.netfilter.nf_conntrack_acct=1", "net.netfilter.nf_conntrack_timestamp=1")
	for _, args := range ctRecordAcctEntries {
		ctExec(t, ns, append([]string{"-I"}, args...)...)
	}
	n, err := kernel.CreateFlows(context.Background(), ns, syntheticFlows(2000))
	if err != nil || n != 2000 {
		t.Fatalf("CreateFlows: %d, %v", n, err)
	}
	lines := compareWithConntrackL(t, ns)
	t.Logf("%d lines identical to conntrack -L", lines)
	if want := len(ctRecordEntries) + len(ctRecordAcctEntries) + 2000; lines != want && !t.Failed() {
		t.Errorf("compared %d lines, want %d", lines, want)
	}
}

// syntheticFlows makes n distinct flows: TCP, UDP and ICMP over IPv4 and
// IPv6, with marks and zones.
func syntheticFlows(n int) func(*model.Flow) bool {
	i := 0
	return func(f *model.Flow) bool {
		if i >= n {
			return false
		}
		k := i
		i++
		timeout := uint32(600 + k%7)
		f.Timeout = &timeout
		mark := uint32(k % 3)
		f.Mark = &mark
		if k%5 == 0 {
			zone := uint16(k % 4)
			f.Zone = &zone
		}
		src := netip.AddrFrom4([4]byte{10, 20, byte(k >> 8), byte(k)})
		dst := netip.MustParseAddr("192.0.2.7")
		if k%4 == 3 {
			src = netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, 14: byte(k >> 8), 15: byte(k)})
			dst = netip.MustParseAddr("2001:db8::7")
		}
		switch k % 3 {
		case 0:
			state := uint8(3)
			f.State = &state
			f.Status = model.StatusAssured | model.StatusSeenReply
			f.Orig = model.FlowTuple{Src: src, Dst: dst, Proto: model.ProtoTCP, SrcPort: uint16(1024 + k), DstPort: 443}
		case 1:
			f.Orig = model.FlowTuple{Src: src, Dst: dst, Proto: model.ProtoUDP, SrcPort: uint16(1024 + k), DstPort: 53}
		default:
			p := model.ProtoICMP
			typ := uint8(8)
			if src.Is6() {
				p, typ = model.ProtoICMPv6, 128
			}
			f.Orig = model.FlowTuple{Src: src, Dst: dst, Proto: p, ICMPType: typ, ICMPID: uint16(k)}
		}
		return true
	}
}

// TestCreateFlowsRoundTrip checks that what CreateFlows sends is what
// DumpFlows reads back, field by field.
func TestCreateFlowsRoundTrip(t *testing.T) {
	ns := kernel.NetnsForTest(t)
	const n = 300
	want := map[string]model.Flow{}
	gen := syntheticFlows(n)
	for {
		var f model.Flow
		if !gen(&f) {
			break
		}
		want[flowKey(&f)] = f
	}
	created, err := kernel.CreateFlows(context.Background(), ns, syntheticFlows(n))
	if err != nil || created != n {
		t.Fatalf("CreateFlows: %d, %v", created, err)
	}
	got := 0
	err = kernel.DumpFlows(context.Background(), kernel.FlowOptions{Netns: ns}, func(f *model.Flow) error {
		got++
		w, ok := want[flowKey(f)]
		if !ok {
			return fmt.Errorf("unexpected flow %s", flowKey(f))
		}
		if f.Mark == nil || *f.Mark != *w.Mark {
			t.Errorf("%s: mark %v, want %d", flowKey(f), f.Mark, *w.Mark)
		}
		if (w.Zone == nil || *w.Zone == 0) != (f.Zone == nil) || (f.Zone != nil && *f.Zone != *w.Zone) {
			t.Errorf("%s: zone %v, want %v", flowKey(f), f.Zone, w.Zone)
		}
		if f.Timeout == nil || *f.Timeout > *w.Timeout || *f.Timeout+30 < *w.Timeout {
			t.Errorf("%s: timeout %v, want about %d", flowKey(f), f.Timeout, *w.Timeout)
		}
		if w.Status.Assured() != f.Status.Assured() || w.Status.SeenReply() != f.Status.SeenReply() {
			t.Errorf("%s: status %v, want %v", flowKey(f), f.Status.Names(), w.Status.Names())
		}
		if (w.State == nil) != (f.State == nil) || (w.State != nil && *w.State != *f.State) {
			t.Errorf("%s: state %q, want %v", flowKey(f), f.StateName(), w.State)
		}
		if f.Reply.Src != w.Orig.Dst || f.Reply.Dst != w.Orig.Src {
			t.Errorf("%s: reply %v -> %v, want the original inverted", flowKey(f), f.Reply.Src, f.Reply.Dst)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if got != n {
		t.Errorf("dumped %d flows, want %d", got, n)
	}
}

func flowKey(f *model.Flow) string {
	o := f.Orig
	return fmt.Sprintf("%d %v %v %d %d %d", o.Proto, o.Src, o.Dst, o.SrcPort, o.DstPort, o.ICMPID)
}

// TestDumpFlowsStopsOnCallbackError checks that an error from the callback
// ends the dump and comes back unchanged.
func TestDumpFlowsStopsOnCallbackError(t *testing.T) {
	ns := kernel.NetnsForTest(t)
	if _, err := kernel.CreateFlows(context.Background(), ns, syntheticFlows(500)); err != nil {
		t.Fatal(err)
	}
	stop := fmt.Errorf("enough")
	calls := 0
	err := kernel.DumpFlows(context.Background(), kernel.FlowOptions{Netns: ns}, func(*model.Flow) error {
		calls++
		if calls == 10 {
			return stop
		}
		return nil
	})
	if err != stop || calls != 10 {
		t.Errorf("DumpFlows: %v after %d calls, want the callback's error after 10", err, calls)
	}
	n := 0
	err = kernel.DumpFlows(context.Background(), kernel.FlowOptions{Netns: ns, Family: model.FamilyIP6}, func(f *model.Flow) error {
		n++
		if f.Family != model.FamilyIP6 {
			return fmt.Errorf("family %v in an IPv6 dump", f.Family)
		}
		return nil
	})
	if err != nil || n != 125 {
		t.Errorf("IPv6 dump: %d flows, %v; want 125", n, err)
	}
}

// TestWatchFlowsMatchesConntrackE runs conntrack -E and WatchFlows side by
// side while entries are created, updated and deleted, and compares the
// event lines.
func TestWatchFlowsMatchesConntrackE(t *testing.T) {
	needConntrack(t)
	ns := kernel.NetnsForTest(t)
	var peerOut bytes.Buffer
	peer := exec.Command("ip", "netns", "exec", ns, "conntrack", "-E")
	peer.Stdout = &peerOut
	if err := peer.Start(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var (
		mu   sync.Mutex
		ours []string
	)
	started := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		close(started)
		done <- kernel.WatchFlows(ctx, kernel.FlowOptions{Netns: ns}, func(ch kernel.FlowChange) error {
			if ch.Lost {
				return fmt.Errorf("events lost")
			}
			mu.Lock()
			defer mu.Unlock()
			var buf bytes.Buffer
			w := render.NewFlowWriter(&buf, render.FlowConntrack, nil)
			if err := w.WriteEvent(ch.Kind.String(), ch.PortID, ch.Flow); err != nil {
				return err
			}
			ours = append(ours, strings.TrimSuffix(buf.String(), "\n"))
			return nil
		})
	}()
	<-started
	time.Sleep(300 * time.Millisecond) // let both subscribe
	ctExec(t, ns, "-I", "-p", "tcp", "-s", "10.5.0.1", "-d", "10.5.0.2", "--sport", "1000", "--dport", "80", "--state", "ESTABLISHED", "-t", "300", "-u", "ASSURED,SEEN_REPLY")
	ctExec(t, ns, "-I", "-p", "udp", "-s", "2001:db8::5", "-d", "2001:db8::6", "--sport", "53", "--dport", "53", "-t", "300")
	ctExec(t, ns, "-U", "-p", "tcp", "-s", "10.5.0.1", "-d", "10.5.0.2", "--sport", "1000", "--dport", "80", "-m", "9")
	ctExec(t, ns, "-D", "-p", "udp", "-s", "2001:db8::5")
	ctExec(t, ns, "-D", "-p", "tcp", "-s", "10.5.0.1")
	deadline := time.Now().Add(5 * time.Second)
	for {
		mu.Lock()
		n := len(ours)
		mu.Unlock()
		if n >= 5 || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(200 * time.Millisecond)
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("WatchFlows: %v", err)
	}
	_ = peer.Process.Signal(syscall.SIGINT)
	_ = peer.Wait()
	// conntrack -E also names the program behind a portid when it can
	// find it in /proc; nftflow does not, so that part is left out.
	want := strings.Split(strings.TrimRight(progname.ReplaceAllString(peerOut.String(), ""), "\n"), "\n")
	mu.Lock()
	defer mu.Unlock()
	if len(want) < 5 {
		t.Fatalf("conntrack -E printed %d events, want at least 5:\n%s", len(want), peerOut.String())
	}
	if !slices.Equal(ours, want) {
		t.Errorf("events differ from conntrack -E\nnftflow:\n%s\nconntrack -E:\n%s", strings.Join(ours, "\n"), strings.Join(want, "\n"))
	}
	t.Logf("%d event lines identical to conntrack -E", len(ours))
}

var progname = regexp.MustCompile(` progname=\S+`)

// TestDumpFlowsCancelled checks that a cancelled context ends a dump with
// the context's error, and a watch with nil.
func TestDumpFlowsCancelled(t *testing.T) {
	ns := kernel.NetnsForTest(t)
	if _, err := kernel.CreateFlows(context.Background(), ns, syntheticFlows(3000)); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	calls := 0
	err := kernel.DumpFlows(ctx, kernel.FlowOptions{Netns: ns}, func(*model.Flow) error {
		calls++
		if calls == 5 {
			cancel()
		}
		return nil
	})
	if err != context.Canceled || calls >= 3000 {
		t.Errorf("DumpFlows after cancel: %v after %d of 3000 flows, want context.Canceled early", err, calls)
	}
	ctx, cancel = context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	err = kernel.WatchFlows(ctx, kernel.FlowOptions{Netns: ns}, func(kernel.FlowChange) error { return nil })
	if err != nil || time.Since(start) > 5*time.Second {
		t.Errorf("WatchFlows after its context ended: %v after %v", err, time.Since(start))
	}
}
