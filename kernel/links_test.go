package kernel

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/nftflow/nftflow/model"
)

// linksTestNetns creates a throwaway named network namespace, removed at cleanup.
func linksTestNetns(t *testing.T) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root to create a network namespace")
	}
	name := fmt.Sprintf("nftflow-test-links-%d", rand.IntN(1<<30))
	if out, err := exec.Command("ip", "netns", "add", name).CombinedOutput(); err != nil {
		t.Skipf("ip netns add: %v: %s", err, out)
	}
	t.Cleanup(func() { _ = exec.Command("ip", "netns", "del", name).Run() })
	return name
}

// linksIP runs `ip -n NS args...` and fails the test on error.
func linksIP(t *testing.T, ns string, args ...string) {
	t.Helper()
	if out, err := exec.Command("ip", append([]string{"-n", ns}, args...)...).CombinedOutput(); err != nil {
		t.Fatalf("ip %s: %v: %s", strings.Join(args, " "), err, out)
	}
}

// linksTryIP runs `ip -n NS args...` and reports whether it worked.
func linksTryIP(ns string, args ...string) bool {
	return exec.Command("ip", append([]string{"-n", ns}, args...)...).Run() == nil
}

func linksMustLink(t *testing.T, topo model.Topology, name string) model.Link {
	t.Helper()
	l, ok := topo.LinkByName(name)
	if !ok {
		t.Fatalf("link %s not read; have %v", name, topo.Links)
	}
	return l
}

// TestReadTopologyNetns builds veth, bridge and macvlan devices (and an
// ipip tunnel when the kernel has ipip) in a throwaway namespace and checks
// what ReadTopology reads back against what `ip` configured. Kernels
// without bridge or macvlan (the test VMs) skip; TestReadTopologyIPIP
// covers tunnels there.
func TestReadTopologyNetns(t *testing.T) {
	ns := linksTestNetns(t)
	linksIP(t, ns, "link", "add", "veth0", "type", "veth", "peer", "name", "veth1")
	if !linksTryIP(ns, "link", "add", "br0", "type", "bridge") || !linksTryIP(ns, "link", "add", "mv0", "link", "veth0", "type", "macvlan") {
		t.Skip("kernel without bridge or macvlan")
	}
	linksIP(t, ns, "link", "set", "veth1", "master", "br0")
	linksIP(t, ns, "addr", "add", "10.10.0.1/24", "dev", "veth0")
	linksIP(t, ns, "addr", "add", "10.20.0.1/24", "dev", "br0")
	for _, d := range []string{"veth0", "veth1", "br0", "mv0", "lo"} {
		linksIP(t, ns, "link", "set", d, "up")
	}
	linksIP(t, ns, "route", "add", "10.99.0.0/16", "via", "10.10.0.2", "dev", "veth0")
	linksIP(t, ns, "route", "add", "10.98.0.0/16", "dev", "br0", "table", "100")
	hasIPIP := linksTryIP(ns, "link", "add", "tun0", "type", "ipip", "local", "10.10.0.1", "remote", "10.99.1.1")
	if hasIPIP {
		linksIP(t, ns, "link", "set", "tun0", "up")
	}

	topo, err := ReadTopology(ns)
	if err != nil {
		t.Fatal(err)
	}
	veth0, veth1, br0, mv0 := linksMustLink(t, topo, "veth0"), linksMustLink(t, topo, "veth1"), linksMustLink(t, topo, "br0"), linksMustLink(t, topo, "mv0")
	lo := linksMustLink(t, topo, "lo")
	if veth0.Kind != "veth" || br0.Kind != "bridge" || mv0.Kind != "macvlan" || lo.Kind != "" || !lo.Loopback {
		t.Errorf("kinds: veth0=%q br0=%q mv0=%q lo=%q loopback=%v", veth0.Kind, br0.Kind, mv0.Kind, lo.Kind, lo.Loopback)
	}
	if veth1.Master != br0.Index || veth1.SlaveKind != "bridge" {
		t.Errorf("veth1 master %d slave kind %q, want %d bridge", veth1.Master, veth1.SlaveKind, br0.Index)
	}
	if mv0.Lower != veth0.Index || mv0.LowerOtherNS {
		t.Errorf("mv0 lower %d (other ns %v), want %d", mv0.Lower, mv0.LowerOtherNS, veth0.Index)
	}
	if veth0.Lower != veth1.Index {
		t.Errorf("veth0 peer %d, want %d", veth0.Lower, veth1.Index)
	}
	if !veth0.IsUp() || !br0.AdminUp || veth0.MTU != 1500 {
		t.Errorf("veth0 up=%v mtu=%d br0 admin up=%v", veth0.IsUp(), veth0.MTU, br0.AdminUp)
	}
	if !linksHasPrefix(veth0.Addrs, "10.10.0.1/24") || !linksHasPrefix(br0.Addrs, "10.20.0.1/24") {
		t.Errorf("addresses: veth0 %v br0 %v", veth0.Addrs, br0.Addrs)
	}
	var sawVia, sawTable bool
	for _, rt := range topo.Routes {
		if rt.Dst.String() == "10.99.0.0/16" && rt.Gateway.String() == "10.10.0.2" && rt.OutIndex == veth0.Index && rt.Table == 254 {
			sawVia = true
		}
		if rt.Dst.String() == "10.98.0.0/16" && rt.OutIndex == br0.Index && rt.Table == 100 {
			sawTable = true
		}
		if rt.Table == 255 {
			t.Errorf("local table route read: %+v", rt)
		}
	}
	if !sawVia || !sawTable {
		t.Errorf("routes: via=%v table100=%v in %+v", sawVia, sawTable, topo.Routes)
	}

	r, err := NewTopologyReader(ns)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	rt, err := r.RouteGet(netip.MustParseAddr("10.99.1.1"), 0)
	if err != nil || rt.OutIndex != veth0.Index || rt.Gateway.String() != "10.10.0.2" {
		t.Errorf("route get 10.99.1.1: %+v %v", rt, err)
	}
	if rt, err := r.RouteGet(netip.MustParseAddr("10.20.0.7"), 0); err != nil || rt.OutIndex != br0.Index {
		t.Errorf("route get 10.20.0.7: %+v %v", rt, err)
	}
	if _, err := r.RouteGet(netip.MustParseAddr("192.0.2.77"), 0); !errors.Is(err, ErrNoRoute) {
		t.Errorf("route get without a default route: %v, want ErrNoRoute", err)
	}

	if hasIPIP {
		tun := linksMustLink(t, topo, "tun0")
		if tun.Kind != "ipip" || tun.Tunnel == nil || tun.Tunnel.Local.String() != "10.10.0.1" || tun.Tunnel.Remote.String() != "10.99.1.1" {
			t.Errorf("tun0: %+v %+v", tun, tun.Tunnel)
		} else if tun.Tunnel.Underlay == nil || tun.Tunnel.Underlay.OutIndex != veth0.Index {
			t.Errorf("tun0 underlay %+v, want via veth0", tun.Tunnel.Underlay)
		}
	} else {
		t.Log("no ipip in this kernel: tunnel decoding is left to the VM scenarios")
	}

	// Device features over ethtool netlink: veth has scatter-gather on
	// and no hw-tc-offload.
	if err := FillHWTCOffload(ns, topo.Links); err != nil {
		t.Fatal(err)
	}
	fr, err := NewFeatureReader(ns)
	if err != nil {
		t.Fatal(err)
	}
	defer fr.Close()
	f, err := fr.Features(veth0.Index)
	if err != nil || !f.Active["tx-scatter-gather"] {
		t.Errorf("veth0 features: %v %v", f.Active, err)
	}
	if l := linksMustLink(t, topo, "veth0"); l.HWTCOffload != model.CapNo {
		t.Errorf("veth0 hw-tc-offload %v, want no", l.HWTCOffload)
	}
}

func linksHasPrefix(ps []netip.Prefix, want string) bool {
	for _, p := range ps {
		if p.String() == want {
			return true
		}
	}
	return false
}

// TestReadTopologyIPIP reads the seed's router: eth0 to the LAN, eth1 to
// the peer, tun0 an ipip tunnel bound to eth1, default route through the
// tunnel; and resolves the flowtable devices for the running kernel. It
// needs ipip (the test VMs have it; the plain host kernel does not).
func TestReadTopologyIPIP(t *testing.T) {
	ns := linksTestNetns(t)
	linksIP(t, ns, "link", "add", "eth0", "type", "veth", "peer", "name", "lan0")
	linksIP(t, ns, "link", "add", "eth1", "type", "veth", "peer", "name", "wan0")
	linksIP(t, ns, "addr", "add", "192.168.0.1/24", "dev", "eth0")
	linksIP(t, ns, "addr", "add", "192.168.1.1/24", "dev", "eth1")
	for _, d := range []string{"eth0", "lan0", "eth1", "wan0"} {
		linksIP(t, ns, "link", "set", d, "up")
	}
	if !linksTryIP(ns, "link", "add", "tun0", "type", "ipip", "local", "192.168.1.1", "remote", "192.168.1.2", "dev", "eth1") {
		t.Skip("kernel without ipip")
	}
	linksIP(t, ns, "link", "add", "tun1", "type", "ipip", "local", "192.168.1.1", "remote", "any")
	linksIP(t, ns, "addr", "add", "10.0.0.1/30", "dev", "tun0")
	linksIP(t, ns, "link", "set", "tun0", "up")
	linksIP(t, ns, "route", "add", "default", "dev", "tun0")

	topo, err := ReadTopology(ns)
	if err != nil {
		t.Fatal(err)
	}
	eth1, tun0, tun1 := linksMustLink(t, topo, "eth1"), linksMustLink(t, topo, "tun0"), linksMustLink(t, topo, "tun1")
	if tun0.Kind != "ipip" || tun0.Tunnel == nil {
		t.Fatalf("tun0: %+v", tun0)
	}
	tt := tun0.Tunnel
	if tt.Local.String() != "192.168.1.1" || tt.Remote.String() != "192.168.1.2" || tt.Link != eth1.Index || tun0.Lower != eth1.Index {
		t.Errorf("tun0 tunnel %+v lower %d, want 192.168.1.1 -> 192.168.1.2 bound to %d", tt, tun0.Lower, eth1.Index)
	}
	if tt.Underlay == nil || tt.Underlay.OutIndex != eth1.Index {
		t.Errorf("tun0 underlay %+v, want the route via eth1 (%d)", tt.Underlay, eth1.Index)
	}
	if !tun0.IsUp() || tun0.MTU != 1480 {
		t.Errorf("tun0 up=%v mtu=%d", tun0.IsUp(), tun0.MTU)
	}
	if tun1.Tunnel == nil || tun1.Tunnel.Remote.IsValid() && !tun1.Tunnel.Remote.IsUnspecified() || tun1.Tunnel.Underlay != nil {
		t.Errorf("tun1 (remote any): %+v", tun1.Tunnel)
	}
	// ip6tnl: the encapsulation limit flag decides acceleration.
	if linksTryIP(ns, "addr", "add", "2001:db8:1::1/64", "dev", "eth1", "nodad") &&
		linksTryIP(ns, "link", "add", "t6", "type", "ip6tnl", "mode", "ip6ip6", "local", "2001:db8:1::1", "remote", "2001:db8:1::2", "encaplimit", "none") &&
		linksTryIP(ns, "link", "add", "t7", "type", "ip6tnl", "mode", "ip6ip6", "local", "2001:db8:1::1", "remote", "2001:db8:1::3") {
		topo6, err := ReadTopology(ns)
		if err != nil {
			t.Fatal(err)
		}
		t6, t7 := linksMustLink(t, topo6, "t6"), linksMustLink(t, topo6, "t7")
		if t6.Kind != "ip6tnl" || t6.Tunnel == nil || t6.Tunnel.Remote.String() != "2001:db8:1::2" || t6.Tunnel.Proto != 41 ||
			t6.Tunnel.Flags&model.IP6TnlIgnEncapLimit == 0 {
			t.Errorf("t6 (encaplimit none): %+v", t6.Tunnel)
		}
		if t7.Tunnel == nil || t7.Tunnel.Flags&model.IP6TnlIgnEncapLimit != 0 {
			t.Errorf("t7 (default encaplimit): %+v", t7.Tunnel)
		}
		if t6.Tunnel.Underlay == nil || t6.Tunnel.Underlay.OutIndex != eth1.Index {
			t.Errorf("t6 underlay %+v, want eth1", t6.Tunnel.Underlay)
		}
	} else {
		t.Log("no ip6tnl in this kernel")
	}

	var def bool
	for _, rt := range topo.Routes {
		if rt.Dst.String() == "0.0.0.0/0" && rt.OutIndex == tun0.Index {
			def = true
		}
	}
	if !def {
		t.Errorf("default route via tun0 not read: %+v", topo.Routes)
	}
}
