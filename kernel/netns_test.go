package kernel

import (
	"fmt"
	"os"
	"os/exec"
	"testing"

	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"
)

// netnsForTest creates a throwaway named network namespace, removed when
// the test ends, and returns its name. It skips the test when not root or
// when `ip` is missing.
func netnsForTest(t *testing.T) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root to create a network namespace")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		t.Skip("needs iproute2's ip to create a network namespace")
	}
	name := fmt.Sprintf("nftflow-test-%d-%d", os.Getpid(), unix.Gettid())
	for i := 0; ; i++ {
		n := fmt.Sprintf("%s-%d", name, i)
		if _, err := os.Stat(NetnsPath(n)); err == nil {
			continue
		}
		name = n
		break
	}
	if out, err := exec.Command("ip", "netns", "add", name).CombinedOutput(); err != nil {
		t.Fatalf("ip netns add %s: %v: %s", name, err, out)
	}
	t.Cleanup(func() { _ = exec.Command("ip", "netns", "del", name).Run() })
	return name
}

func netnsInode(t *testing.T, path string) uint64 {
	t.Helper()
	var st unix.Stat_t
	if err := unix.Stat(path, &st); err != nil {
		t.Fatalf("stat %s: %v", path, err)
	}
	return st.Ino
}

func TestWithNetnsEntersAndRestores(t *testing.T) {
	ns := netnsForTest(t)
	want := netnsInode(t, NetnsPath(ns))
	self := netnsInode(t, "/proc/self/ns/net")
	if want == self {
		t.Fatal("test namespace has the same inode as ours")
	}
	var inside uint64
	err := WithNetns(ns, func() error {
		inside = netnsInode(t, fmt.Sprintf("/proc/self/task/%d/ns/net", unix.Gettid()))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if inside != want {
		t.Errorf("inside WithNetns: netns inode %d, want %d", inside, want)
	}
	if got := netnsInode(t, fmt.Sprintf("/proc/self/task/%d/ns/net", unix.Gettid())); got != self {
		t.Errorf("after WithNetns: netns inode %d, want original %d", got, self)
	}
}

func TestWithNetnsPassesError(t *testing.T) {
	ns := netnsForTest(t)
	sentinel := fmt.Errorf("boom")
	if err := WithNetns(ns, func() error { return sentinel }); err != sentinel {
		t.Errorf("WithNetns returned %v, want the function's error", err)
	}
}

func TestOpenNetnsMissing(t *testing.T) {
	if _, err := OpenNetns("nftflow-no-such-namespace"); err == nil {
		t.Error("OpenNetns of a missing namespace succeeded")
	}
	if err := WithNetns("nftflow-no-such-namespace", func() error { return nil }); err == nil {
		t.Error("WithNetns into a missing namespace succeeded")
	}
	if _, err := DialNetlink(unix.NETLINK_NETFILTER, "nftflow-no-such-namespace", nil); err == nil {
		t.Error("DialNetlink into a missing namespace succeeded")
	}
}

func TestNetnsPath(t *testing.T) {
	for in, want := range map[string]string{
		"fw":                "/run/netns/fw",
		"/proc/1/ns/net":    "/proc/1/ns/net",
		"./relative/handle": "./relative/handle",
	} {
		if got := NetnsPath(in); got != want {
			t.Errorf("NetnsPath(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestDialNetlinkInNetns(t *testing.T) {
	ns := netnsForTest(t)
	c, err := DialNetlink(unix.NETLINK_ROUTE, ns, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	// Only loopback exists in a fresh namespace: an RTM_GETLINK dump there
	// returns exactly one link.
	links := countLinks(t, c)
	if links != 1 {
		t.Errorf("links in fresh netns: %d, want 1 (lo)", links)
	}
}

// countLinks dumps RTM_GETLINK on c and counts the links.
func countLinks(t *testing.T, c *netlink.Conn) int {
	t.Helper()
	req := netlink.Message{
		Header: netlink.Header{Type: unix.RTM_GETLINK, Flags: netlink.Request | netlink.Dump},
		Data:   make([]byte, unix.SizeofIfInfomsg),
	}
	msgs, err := c.Execute(req)
	if err != nil {
		t.Fatalf("RTM_GETLINK dump: %v", err)
	}
	return len(msgs)
}
