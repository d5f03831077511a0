package cmd

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/nftflow/nftflow/kernel"
	"github.com/nftflow/nftflow/model"
)

// TestFlowtableDevicesNetns runs `nftflow flowtable devices --netns` on a
// real namespace: veth0 routed, br0 bridging vethb and vethc, and an ipip
// tunnel over veth0 when the kernel has ipip. The expected list follows
// from the running kernel's version: bridge ports from 5.13, the tunnel's
// underlay from 6.19.
func TestFlowtableDevicesNetns(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to create a network namespace")
	}
	ns := fmt.Sprintf("nftflow-test-ftdev-%d", rand.IntN(1<<30))
	if out, err := exec.Command("ip", "netns", "add", ns).CombinedOutput(); err != nil {
		t.Skipf("ip netns add: %v: %s", err, out)
	}
	t.Cleanup(func() { _ = exec.Command("ip", "netns", "del", ns).Run() })
	ip := func(args ...string) error {
		out, err := exec.Command("ip", append([]string{"-n", ns}, args...)...).CombinedOutput()
		if err != nil {
			return fmt.Errorf("ip %s: %v: %s", strings.Join(args, " "), err, out)
		}
		return nil
	}
	// Kernels without bridges (the test VMs) get veth0 and the tunnel only.
	hasBridge := ip("link", "add", "br0", "type", "bridge") == nil
	setup := [][]string{
		{"link", "add", "veth0", "type", "veth", "peer", "name", "veth1"},
		{"addr", "add", "10.1.0.1/24", "dev", "veth0"},
	}
	if hasBridge {
		setup = append(setup, [][]string{
			{"link", "add", "vethb", "type", "veth", "peer", "name", "vethb1"},
			{"link", "add", "vethc", "type", "veth", "peer", "name", "vethc1"},
			{"link", "set", "vethb", "master", "br0"},
			{"link", "set", "vethc", "master", "br0"},
			{"addr", "add", "10.2.0.1/24", "dev", "br0"},
		}...)
	}
	for _, args := range setup {
		if err := ip(args...); err != nil {
			t.Fatal(err)
		}
	}
	devs := []string{"veth0", "veth1"}
	if hasBridge {
		devs = append(devs, "vethb", "vethb1", "vethc", "vethc1", "br0")
	}
	for _, d := range devs {
		if err := ip("link", "set", d, "up"); err != nil {
			t.Fatal(err)
		}
	}
	// Operational state follows asynchronously (linkwatch): wait for it.
	for i := 0; hasBridge && i < 50; i++ {
		out, _ := exec.Command("ip", "-n", ns, "-br", "link", "show", "br0").Output()
		if strings.Contains(string(out), " UP ") {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	ifaces := []string{"veth0"}
	if hasBridge {
		ifaces = append(ifaces, "br0")
	}
	// The interfaces chosen by default: those with addresses (tun0 has none).
	defaults := append([]string(nil), ifaces...)
	hasIPIP := ip("link", "add", "tun0", "type", "ipip", "local", "10.1.0.1", "remote", "10.1.0.2") == nil
	if hasIPIP {
		if err := ip("link", "set", "tun0", "up"); err != nil {
			t.Fatal(err)
		}
		ifaces = append(ifaces, "tun0")
	}

	rel, err := kernel.KernelRelease()
	if err != nil {
		t.Fatal(err)
	}
	v, err := model.ParseKernelVersion(rel)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"veth0"}
	if hasBridge && v.AtLeast(5, 13) {
		want = append(want, "vethb", "vethc")
	} else if hasBridge {
		want = append(want, "br0")
	}
	if hasIPIP && !v.AtLeast(6, 19) {
		want = append(want, "tun0")
	} // from 6.19 tun0 resolves to veth0, already listed

	var out, errOut bytes.Buffer
	code := Main(append([]string{"flowtable", "devices", "--netns", ns}, ifaces...), nil, &out, &errOut)
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	first, _, _ := strings.Cut(out.String(), "\n")
	if first != strings.Join(want, ", ") {
		t.Errorf("kernel %s: got %q, want %q", rel, first, strings.Join(want, ", "))
	}

	// Default interfaces: veth0 and br0 have addresses; vethb/vethc are
	// bridge ports, veth1 has no address; tun0 has none either.
	out.Reset()
	errOut.Reset()
	Main([]string{"flowtable", "devices", "--netns", ns, "-v"}, nil, &out, &errOut)
	if !sameSet(interfacesLine(out.String()), defaults) {
		t.Errorf("default interfaces: %s", out.String())
	}

	// The topology dump reads back into the same answer offline.
	out.Reset()
	if code := Main([]string{"flowtable", "topology", "--netns", ns}, nil, &out, &errOut); code != ExitOK {
		t.Fatalf("topology: exit %d: %s", code, errOut.String())
	}
	file := t.TempDir() + "/topo.json"
	if err := os.WriteFile(file, out.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	Main(append([]string{"flowtable", "devices", "--topology", file}, ifaces...), nil, &out, &errOut)
	if first, _, _ := strings.Cut(out.String(), "\n"); first != strings.Join(want, ", ") {
		t.Errorf("from the saved topology: got %q, want %q", first, strings.Join(want, ", "))
	}
}

// interfacesLine returns the interfaces of the "# interfaces: ..." line -v prints.
func interfacesLine(out string) []string {
	for _, l := range strings.Split(out, "\n") {
		if rest, ok := strings.CutPrefix(l, "# interfaces: "); ok {
			list, _, _ := strings.Cut(rest, " (")
			return strings.Split(list, ", ")
		}
	}
	return nil
}

func sameSet(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	seen := map[string]bool{}
	for _, x := range a {
		seen[x] = true
	}
	for _, x := range b {
		if !seen[x] {
			return false
		}
	}
	return true
}
