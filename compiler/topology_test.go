package compiler

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/nftflow/nftflow/model"
)

func kv(t *testing.T, s string) model.Features {
	t.Helper()
	v, err := model.ParseKernelVersion(s)
	if err != nil {
		t.Fatal(err)
	}
	return model.FeaturesForVersion(v)
}

func up(l model.Link) model.Link {
	l.AdminUp, l.OperUp = true, true
	return l
}

func pfx(s string) netip.Prefix { return netip.MustParsePrefix(s) }
func addr(s string) netip.Addr  { return netip.MustParseAddr(s) }

// seedTopology is the IPIP scenario of the kernel patch that added IPIP
// flowtable acceleration: LAN eth0, tun0 (ipip 192.168.1.1 -> 192.168.1.2)
// over eth1, default route through the tunnel.
func seedTopology() model.Topology {
	return model.Topology{
		Links: []model.Link{
			up(model.Link{Index: 1, Name: "lo", Loopback: true, Addrs: []netip.Prefix{pfx("127.0.0.1/8")}}),
			up(model.Link{Index: 6, Name: "eth0", Addrs: []netip.Prefix{pfx("192.168.0.2/24")}, HWTCOffload: model.CapNo}),
			up(model.Link{Index: 7, Name: "eth1", Addrs: []netip.Prefix{pfx("192.168.1.1/24")}}),
			up(model.Link{Index: 8, Name: "tun0", Kind: "ipip", Addrs: []netip.Prefix{pfx("192.168.100.1/24")},
				Tunnel: &model.LinkTunnel{Local: addr("192.168.1.1"), Remote: addr("192.168.1.2")}}),
		},
		Routes: []model.Route{
			{Dst: pfx("0.0.0.0/0"), Gateway: addr("192.168.100.2"), OutIndex: 8, Table: 254},
			{Dst: pfx("192.168.0.0/24"), OutIndex: 6, Table: 254},
			{Dst: pfx("192.168.1.0/24"), OutIndex: 7, Table: 254},
			{Dst: pfx("192.168.100.0/24"), OutIndex: 8, Table: 254},
		},
	}
}

func TestResolveSeedIPIPByKernel(t *testing.T) {
	for _, tc := range []struct {
		kernel string
		want   string
	}{
		{"6.1.0-28-amd64", "eth0, tun0"},
		{"6.18", "eth0, tun0"},
		{"6.19", "eth0, eth1"},
		{"7.2.0", "eth0, eth1"},
	} {
		res := ResolveFlowtableDevices(seedTopology(), kv(t, tc.kernel), []string{"eth0", "tun0"})
		if got := strings.Join(res.Names(), ", "); got != tc.want {
			t.Errorf("kernel %s: devices %q, want %q", tc.kernel, got, tc.want)
		}
		if len(res.Diagnostics) != 0 {
			t.Errorf("kernel %s: unexpected diagnostics %v", tc.kernel, res.Diagnostics)
		}
		// Every device says why it is there.
		for _, d := range res.Devices {
			if len(d.Reasons) == 0 || len(d.Reasons) != len(d.For) {
				t.Errorf("kernel %s: %s has reasons %q for %q", tc.kernel, d.Name, d.Reasons, d.For)
			}
		}
	}
	res := ResolveFlowtableDevices(seedTopology(), kv(t, "7.2"), []string{"tun0"})
	if r := res.Devices[0].Reasons[0]; !strings.Contains(r, "underlay of ipip tunnel tun0") || !strings.Contains(r, "192.168.1.0/24") {
		t.Errorf("reason for eth1 = %q", r)
	}
	res = ResolveFlowtableDevices(seedTopology(), kv(t, "6.1"), []string{"tun0"})
	if r := res.Devices[0].Reasons[0]; !strings.Contains(r, "needs >= 6.19") {
		t.Errorf("reason for tun0 on 6.1 = %q", r)
	}
}

func TestResolvePrefersKernelRouteAnswer(t *testing.T) {
	topo := seedTopology()
	topo.Links = append(topo.Links, up(model.Link{Index: 9, Name: "eth2"}))
	// Policy routing sends the outer packets through eth2; the kernel said so.
	topo.Links[3].Tunnel.Underlay = &model.Route{Dst: pfx("192.168.1.2/32"), OutIndex: 9}
	res := ResolveFlowtableDevices(topo, kv(t, "7.2"), []string{"eth0", "tun0"})
	if got := strings.Join(res.Names(), ", "); got != "eth0, eth2" {
		t.Errorf("devices %q, want the kernel's answer eth2", got)
	}
}

func TestResolveTunnelEdgeCases(t *testing.T) {
	f := kv(t, "7.2")
	for _, tc := range []struct {
		name string
		mod  func(*model.Link)
		want string
	}{
		{"remote any", func(l *model.Link) { l.Tunnel.Remote = netip.Addr{} }, "tun0"},
		{"external", func(l *model.Link) { l.Tunnel.External = true }, "tun0"},
		{"fou", func(l *model.Link) { l.Tunnel.EncapType = 1 }, "tun0"},
		{"gre", func(l *model.Link) { l.Kind = "gre" }, "tun0"},
		{"sit", func(l *model.Link) { l.Kind = "sit" }, "tun0"},
		{"no route", func(l *model.Link) { l.Tunnel.Remote = addr("10.9.9.9") }, "tun0"},
		{"bound link, no route", func(l *model.Link) { l.Tunnel.Remote = addr("10.9.9.9"); l.Tunnel.Link = 7 }, "eth1"},
	} {
		topo := seedTopology()
		topo.Routes = topo.Routes[1:] // no default route: "no route" has none
		tc.mod(&topo.Links[3])
		res := ResolveFlowtableDevices(topo, f, []string{"tun0"})
		if got := strings.Join(res.Names(), ", "); got != tc.want {
			t.Errorf("%s: devices %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestResolveIP6Tnl(t *testing.T) {
	topo := model.Topology{
		Links: []model.Link{
			up(model.Link{Index: 2, Name: "eth0"}),
			up(model.Link{Index: 3, Name: "eth1", Addrs: []netip.Prefix{pfx("2001:db8:1::1/64")}}),
			up(model.Link{Index: 4, Name: "t6", Kind: "ip6tnl", Tunnel: &model.LinkTunnel{Local: addr("2001:db8:1::1"), Remote: addr("2001:db8:1::2"), Proto: 41, Flags: model.IP6TnlIgnEncapLimit}}),
		},
		Routes: []model.Route{{Dst: pfx("2001:db8:1::/64"), OutIndex: 3, Table: 254}, {Dst: pfx("0.0.0.0/0"), OutIndex: 2, Table: 254}},
	}
	for kernel, want := range map[string]string{"6.19": "eth0, t6", "7.0": "eth0, eth1"} {
		res := ResolveFlowtableDevices(topo, kv(t, kernel), []string{"eth0", "t6"})
		if got := strings.Join(res.Names(), ", "); got != want {
			t.Errorf("kernel %s: %q, want %q", kernel, got, want)
		}
	}
	// With the encapsulation limit option (the default) the kernel cannot
	// accelerate the tunnel: kept, with a warning.
	topo.Links[2].Tunnel.Flags = 0
	res := ResolveFlowtableDevices(topo, kv(t, "7.2"), []string{"eth0", "t6"})
	if got := strings.Join(res.Names(), ", "); got != "eth0, t6" {
		t.Errorf("encaplimit: %q", got)
	}
	if len(res.Diagnostics) != 1 || !strings.Contains(res.Diagnostics[0].Message, "encaplimit none") {
		t.Errorf("encaplimit diagnostics: %v", res.Diagnostics)
	}
}

func TestCheckIP6TnlEncapLimit(t *testing.T) {
	topo := model.Topology{
		Links: []model.Link{
			up(model.Link{Index: 2, Name: "eth0"}),
			up(model.Link{Index: 3, Name: "eth1"}),
			up(model.Link{Index: 4, Name: "t6", Kind: "ip6tnl", Tunnel: &model.LinkTunnel{Remote: addr("2001:db8:1::2"), Underlay: &model.Route{OutIndex: 3}}}),
		},
	}
	for _, devs := range [][]string{{"eth0", "eth1"}, {"eth0", "t6"}} {
		ds := CheckFlowtableDevices(decl(devs...), topo, kv(t, "7.2"))
		if got := codesOf(ds); got != CodeFlowtableTunnelDev+":warning" || !strings.Contains(ds[0].Message, "encaplimit none") {
			t.Errorf("7.2 %v: %q %v", devs, got, ds)
		}
	}
	topo.Links[2].Tunnel.Flags = model.IP6TnlIgnEncapLimit
	if ds := CheckFlowtableDevices(decl("eth0", "eth1"), topo, kv(t, "7.2")); len(ds) != 0 {
		t.Errorf("encaplimit none, underlay listed: %v", ds)
	}
	// 6.1 has no ip6tnl acceleration: the tunnel device is wanted either way.
	topo.Links[2].Tunnel.Flags = 0
	if got := codesOf(CheckFlowtableDevices(decl("eth0", "eth1"), topo, kv(t, "6.1"))); got != CodeFlowtableUnderlayDev+":warning" {
		t.Errorf("6.1: %q", got)
	}
}

func l2Topology() model.Topology {
	return model.Topology{Links: []model.Link{
		up(model.Link{Index: 2, Name: "eth0"}),
		up(model.Link{Index: 3, Name: "eth0.10", Kind: "vlan", Lower: 2, VLANID: 10}),
		up(model.Link{Index: 4, Name: "br0", Kind: "bridge"}),
		up(model.Link{Index: 5, Name: "eth2", Master: 4, SlaveKind: "bridge"}),
		up(model.Link{Index: 6, Name: "eth3", Master: 4, SlaveKind: "bridge"}),
		up(model.Link{Index: 7, Name: "veth0", Kind: "veth"}),
		up(model.Link{Index: 8, Name: "br1", Kind: "bridge"}),
		up(model.Link{Index: 9, Name: "ppp0", Kind: "ppp"}),
		up(model.Link{Index: 10, Name: "eth0.10.20", Kind: "vlan", Lower: 3, VLANID: 20}),
		up(model.Link{Index: 11, Name: "eth0.10.20.30", Kind: "vlan", Lower: 10, VLANID: 30}),
	}}
}

func TestResolveLayer2(t *testing.T) {
	for _, tc := range []struct {
		kernel string
		ifaces []string
		want   string
	}{
		{"6.1", []string{"eth0.10", "br0"}, "eth0, eth2, eth3"},
		{"5.10", []string{"eth0.10", "br0"}, "eth0.10, br0"},
		{"6.1", []string{"veth0"}, "veth0"},
		{"6.1", []string{"br1"}, "br1"},               // no ports: kept
		{"6.1", []string{"ppp0"}, "ppp0"},             // lower unknown: kept
		{"6.1", []string{"eth0.10.20"}, "eth0"},       // two tags: fine
		{"6.1", []string{"eth0.10.20.30"}, "eth0.10"}, // three: the kernel records at most two
	} {
		res := ResolveFlowtableDevices(l2Topology(), kv(t, tc.kernel), tc.ifaces)
		if got := strings.Join(res.Names(), ", "); got != tc.want {
			t.Errorf("kernel %s %v: %q, want %q", tc.kernel, tc.ifaces, got, tc.want)
		}
	}
	// A ppp device whose PPPoE lower device is known goes down to it.
	topo := l2Topology()
	topo.Links[7].Lower = 2
	for kernel, want := range map[string]string{"6.1": "eth0", "5.10": "ppp0"} {
		res := ResolveFlowtableDevices(topo, kv(t, kernel), []string{"ppp0"})
		if got := strings.Join(res.Names(), ", "); got != want {
			t.Errorf("ppp0 over eth0 on %s: %q, want %q", kernel, got, want)
		}
	}
	res := ResolveFlowtableDevices(l2Topology(), kv(t, "6.1"), []string{"br0"})
	if r := res.Devices[0].Reasons[0]; !strings.Contains(r, "port of bridge br0") {
		t.Errorf("reason %q", r)
	}
}

func TestResolveMissingAndDown(t *testing.T) {
	topo := seedTopology()
	topo.Links[2].OperUp = false // eth1 down
	res := ResolveFlowtableDevices(topo, kv(t, "7.2"), []string{"eth0", "tun0", "nope", "lo"})
	if got := strings.Join(res.Names(), ", "); got != "eth0, eth1" {
		t.Errorf("devices %q", got)
	}
	codes := map[string]Severity{}
	for _, d := range res.Diagnostics {
		codes[d.Code+" "+strings.Fields(d.Message)[0]] = d.Severity
	}
	if codes[CodeFlowtableNoSuchDev+" no"] != SeverityError {
		t.Errorf("missing device not an error: %v", res.Diagnostics)
	}
	if codes[CodeFlowtableDevDown+" eth1"] != SeverityWarning {
		t.Errorf("down eth1 not reported: %v", res.Diagnostics)
	}
}

func TestForwardingInterfaces(t *testing.T) {
	topo := seedTopology()
	topo.Links = append(topo.Links,
		up(model.Link{Index: 20, Name: "br0", Kind: "bridge", Addrs: []netip.Prefix{pfx("10.0.0.1/24")}}),
		up(model.Link{Index: 21, Name: "eth5", Master: 20, Addrs: []netip.Prefix{pfx("10.0.1.1/24")}}),
		model.Link{Index: 22, Name: "eth6", Addrs: []netip.Prefix{pfx("10.0.2.1/24")}}, // down
		up(model.Link{Index: 23, Name: "eth7"}),                                        // no address, no route
	)
	got := strings.Join(ForwardingInterfaces(topo), ", ")
	if got != "eth0, eth1, tun0, br0" {
		t.Errorf("got %q", got)
	}
	res := ResolveFlowtableDevices(seedTopology(), kv(t, "7.2"), ForwardingInterfaces(seedTopology()))
	if got := strings.Join(res.Names(), ", "); got != "eth0, eth1" {
		t.Errorf("default devices on 7.2: %q", got)
	}
}

func decl(names ...string) FlowtableDecl {
	d := FlowtableDecl{Name: "ft", Pos: model.Pos{File: "r.nft", Line: 2, Col: 2}}
	for i, n := range names {
		d.Devices = append(d.Devices, DeviceDecl{Name: n, Pos: model.Pos{File: "r.nft", Line: 4, Col: 15 + 6*i}})
	}
	return d
}

func codesOf(ds []Diagnostic) string {
	var s []string
	for _, d := range ds {
		s = append(s, d.Code+":"+d.Severity.String())
	}
	return strings.Join(s, " ")
}

func TestCheckSeedTopology(t *testing.T) {
	for _, tc := range []struct {
		kernel  string
		devices []string
		codes   string
		suggest string
	}{
		{"7.2", []string{"eth0", "eth1"}, "", ""},
		{"6.1", []string{"eth0", "tun0"}, "", ""},
		{"7.2", []string{"eth0", "tun0"}, CodeFlowtableTunnelDev + ":warning", "devices = { eth0, eth1 }"},
		{"6.1", []string{"eth0", "eth1"}, CodeFlowtableUnderlayDev + ":warning", "devices = { eth0, eth1, tun0 }"},
		{"6.19", []string{"eth0", "tun0", "eth1"}, CodeFlowtableTunnelDev + ":warning", "devices = { eth0, eth1 }"},
	} {
		ds := CheckFlowtableDevices(decl(tc.devices...), seedTopology(), kv(t, tc.kernel))
		if got := codesOf(ds); got != tc.codes {
			t.Errorf("kernel %s %v: codes %q, want %q (%v)", tc.kernel, tc.devices, got, tc.codes, ds)
			continue
		}
		for _, d := range ds {
			if d.Suggestion != tc.suggest {
				t.Errorf("kernel %s %v: suggestion %q, want %q", tc.kernel, tc.devices, d.Suggestion, tc.suggest)
			}
			if d.Pos.Line != 4 {
				t.Errorf("diagnostic not at the device: %+v", d.Pos)
			}
		}
	}
}

func TestCheckMissingDownAndKernel(t *testing.T) {
	topo := seedTopology()
	topo.Links[2].AdminUp = false
	ds := CheckFlowtableDevices(decl("eth0", "wan9", "eth1"), topo, kv(t, "6.1"))
	if got := codesOf(ds); got != CodeFlowtableNoSuchDev+":error "+CodeFlowtableDevDown+":warning "+CodeFlowtableUnderlayDev+":warning" {
		t.Errorf("6.1 codes %q", got)
	}
	if ds[0].Suggestion != "devices = { eth0, eth1, tun0 }" || ds[0].Pos.Col != 21 {
		t.Errorf("missing device: %+v", ds[0])
	}
	ds = CheckFlowtableDevices(decl("eth0", "wan9"), topo, kv(t, "6.16"))
	if got := codesOf(ds); got != CodeFlowtableNoSuchDev+":warning" {
		t.Errorf("6.16 codes %q", got)
	}
	f := kv(t, "6.18")
	f.Flowtables = false
	ds = CheckFlowtableDevices(decl("eth0"), seedTopology(), f)
	if got := codesOf(ds); got != CodeFlowtableUnsupported+":error" {
		t.Errorf("no flowtables: %q", got)
	}
	d := decl("eth0")
	d.HWOffload, d.Counter = true, true
	if got := codesOf(CheckFlowtableDevices(d, seedTopology(), kv(t, "5.4"))); got != CodeFlowtableKernelFlag+":error "+CodeFlowtableKernelFlag+":error "+CodeFlowtableHWNoCap+":warning" {
		t.Errorf("5.4 flags: %q", got)
	}
}

func TestCheckHWOffload(t *testing.T) {
	topo := seedTopology()
	topo.Links = append(topo.Links, up(model.Link{Index: 30, Name: "veth0", Kind: "veth"}), up(model.Link{Index: 31, Name: "eth9", HWTCOffload: model.CapYes}))
	for _, tc := range []struct {
		dev, codes string
	}{
		{"tun0", CodeFlowtableHWTunnel + ":error"},
		{"veth0", CodeFlowtableHWTunnel + ":error"},
		{"eth0", CodeFlowtableHWNoCap + ":warning"},     // hw-tc-offload absent
		{"eth1", CodeFlowtableUnderlayDev + ":warning"}, // hw unknown: no hw claim
		{"eth9", ""},
	} {
		d := decl(tc.dev)
		d.HWOffload = true
		ds := CheckFlowtableDevices(d, topo, kv(t, "6.1"))
		if got := codesOf(ds); got != tc.codes {
			t.Errorf("%s: %q, want %q (%v)", tc.dev, got, tc.codes, ds)
		}
	}
}

func TestCheckUpperDevices(t *testing.T) {
	ds := CheckFlowtableDevices(decl("eth0.10", "br0"), l2Topology(), kv(t, "6.1"))
	if got := codesOf(ds); got != CodeFlowtableUpperDev+":info "+CodeFlowtableUpperDev+":info" {
		t.Fatalf("codes %q", got)
	}
	if ds[0].Suggestion != "devices = { eth0, eth2, eth3 }" {
		t.Errorf("suggestion %q", ds[0].Suggestion)
	}
	// Lower devices already listed: nothing to say.
	if ds := CheckFlowtableDevices(decl("br0", "eth2", "eth3"), l2Topology(), kv(t, "6.1")); len(ds) != 0 {
		t.Errorf("unexpected %v", ds)
	}
	// From 7.0 a flow whose path ends on an unlisted device is not
	// offloaded at all: a warning.
	ds = CheckFlowtableDevices(decl("eth0.10", "br0"), l2Topology(), kv(t, "7.2"))
	if got := codesOf(ds); got != CodeFlowtableUpperDev+":warning "+CodeFlowtableUpperDev+":warning" {
		t.Errorf("7.2 codes %q", got)
	}
	// Before 5.13 the upper device is what the kernel wants.
	if ds := CheckFlowtableDevices(decl("eth0.10", "br0"), l2Topology(), kv(t, "5.10")); len(ds) != 0 {
		t.Errorf("5.10: unexpected %v", ds)
	}
}

func TestParseKernelVersion(t *testing.T) {
	for in, want := range map[string]model.KernelVersion{
		"6.1.0-28-amd64":  {Major: 6, Minor: 1},
		"6.18.44-fc-v595": {Major: 6, Minor: 18, Patch: 44},
		"7.0":             {Major: 7},
		"5.15.0+":         {Major: 5, Minor: 15},
	} {
		got, err := model.ParseKernelVersion(in)
		if err != nil || got != want {
			t.Errorf("%q: %v %v, want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "6", "x.1", "6.y"} {
		if _, err := model.ParseKernelVersion(bad); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}
