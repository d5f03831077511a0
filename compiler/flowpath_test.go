package compiler

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/nftflow/nftflow/model"
)

func inetFT(devs ...string) model.Flowtable {
	return model.Flowtable{Family: model.FamilyInet, Table: "filter", Name: "ft", Devices: devs}
}

// findingsText is "dir:device:via" per finding, comma separated.
func findingsText(fs []FlowSlowPath) string {
	var parts []string
	for _, f := range fs {
		parts = append(parts, f.Direction+":"+strings.Join(f.Devices, "|")+":"+f.Via)
	}
	return strings.Join(parts, ",")
}

// The seed's IPIP gateway: a LAN host behind eth0 talks to a host reached
// through the ipip tunnel tun0 (default route), masqueraded, so the reply's
// source is the remote host.
func TestFlowPathSeedIPIP(t *testing.T) {
	lan, remote := addr("192.168.0.10"), addr("198.51.100.1")
	for _, tc := range []struct {
		kernel string
		devs   []string
		want   string
	}{
		// 6.1 has no IPIP acceleration: the decapsulated replies are caught
		// on tun0; with { eth0, eth1 } they arrive encapsulated on eth1 and
		// no hook looks inside.
		{"6.1.0-28-amd64", []string{"eth0", "eth1"}, "reply:tun0:tun0"},
		{"6.1.0-28-amd64", []string{"eth0", "tun0"}, ""},
		// 7.2 accelerates IPIP through the underlay and does not fall back.
		{"7.2.0", []string{"eth0", "tun0"}, "reply:eth1:tun0"},
		{"7.2.0", []string{"eth0", "eth1"}, ""},
		// 6.19 accelerates but still falls back to the routed device.
		{"6.19", []string{"eth0", "tun0"}, ""},
		{"6.19", []string{"eth0"}, "reply:eth1|tun0:tun0"},
		// Nothing of the LAN side listed: the original direction too.
		{"7.2.0", []string{"eth1"}, "original:eth0:eth0"},
		{"7.2.0", []string{"tun0"}, "original:eth0:eth0,reply:eth1:tun0"},
	} {
		got := CheckFlowPath(lan, remote, seedTopology(), kv(t, tc.kernel), []model.Flowtable{inetFT(tc.devs...)})
		if s := findingsText(got); s != tc.want {
			t.Errorf("%s, devices { %s }: got %q, want %q", tc.kernel, strings.Join(tc.devs, ", "), s, tc.want)
		}
	}
}

func TestFlowPathSeedIPIPMessages(t *testing.T) {
	lan, remote := addr("192.168.0.10"), addr("198.51.100.1")
	got := CheckFlowPath(lan, remote, seedTopology(), kv(t, "7.2.0"), []model.Flowtable{inetFT("eth0", "tun0")})
	if len(got) != 1 {
		t.Fatalf("got %d findings, want 1: %+v", len(got), got)
	}
	f := got[0]
	if want := "reply enters via tun0 (ipip over eth1); Linux 7.2 needs eth1 in the flowtable devices, flowtable inet filter ft lists eth0, tun0"; f.Reason != want {
		t.Errorf("7.2 reason:\n got %q\nwant %q", f.Reason, want)
	}
	if want := "reply enters via tun0, needs eth1"; f.Short != want {
		t.Errorf("7.2 short: got %q, want %q", f.Short, want)
	}
	if f.Device != "eth1" || f.Via != "tun0" || f.Direction != DirReply {
		t.Errorf("7.2 fields: %+v", f)
	}

	got = CheckFlowPath(lan, remote, seedTopology(), kv(t, "6.1"), []model.Flowtable{inetFT("eth0", "eth1")})
	if len(got) != 1 {
		t.Fatalf("6.1: got %d findings, want 1: %+v", len(got), got)
	}
	if want := "reply enters via tun0; Linux 6.1 needs tun0 in the flowtable devices, flowtable inet filter ft lists eth0, eth1"; got[0].Reason != want {
		t.Errorf("6.1 reason:\n got %q\nwant %q", got[0].Reason, want)
	}
}

// plainTopology is a router forwarding between LAN eth0 and WAN eth1 with
// the default route out of eth1.
func plainTopology() model.Topology {
	return model.Topology{
		Links: []model.Link{
			up(model.Link{Index: 1, Name: "lo", Loopback: true, Addrs: []netip.Prefix{pfx("127.0.0.1/8")}}),
			up(model.Link{Index: 2, Name: "eth0", Addrs: []netip.Prefix{pfx("10.0.0.1/24"), pfx("2001:db8:1::1/64")}}),
			up(model.Link{Index: 3, Name: "eth1", Addrs: []netip.Prefix{pfx("203.0.113.2/24"), pfx("2001:db8:2::2/64")}}),
		},
		Routes: []model.Route{
			{Dst: pfx("0.0.0.0/0"), Gateway: addr("203.0.113.1"), OutIndex: 3, Table: 254},
			{Dst: pfx("10.0.0.0/24"), OutIndex: 2, Table: 254},
			{Dst: pfx("203.0.113.0/24"), OutIndex: 3, Table: 254},
			{Dst: pfx("2001:db8:1::/64"), OutIndex: 2, Table: 254},
			{Dst: pfx("2001:db8:2::/64"), OutIndex: 3, Table: 254},
		},
	}
}

func TestFlowPathPlainForward(t *testing.T) {
	lan, wan := addr("10.0.0.5"), addr("192.0.2.80")
	lan6, wan6 := addr("2001:db8:1::5"), addr("2001:db8:2::80")
	ip := func(fam model.Family, devs ...string) model.Flowtable {
		return model.Flowtable{Family: fam, Table: "t", Name: "f", Devices: devs}
	}
	for _, tc := range []struct {
		name      string
		kernel    string
		src, rsrc netip.Addr
		fts       []model.Flowtable
		want      string
	}{
		{"both listed 6.1", "6.1", lan, wan, []model.Flowtable{inetFT("eth0", "eth1")}, ""},
		{"both listed 7.2", "7.2", lan, wan, []model.Flowtable{inetFT("eth0", "eth1")}, ""},
		{"wan missing", "7.2", lan, wan, []model.Flowtable{inetFT("eth0")}, "reply:eth1:eth1"},
		{"wan missing 6.1", "6.1", lan, wan, []model.Flowtable{inetFT("eth0")}, "reply:eth1:eth1"},
		{"split across flowtables", "7.2", lan, wan, []model.Flowtable{ip(model.FamilyIP, "eth0"), inetFT("eth1")}, ""},
		// An ip6 flowtable does not see IPv4 flows: the only IPv4 one is
		// what counts.
		{"ip6 table ignored for ipv4", "7.2", lan, wan, []model.Flowtable{ip(model.FamilyIP6, "eth1"), ip(model.FamilyIP, "eth0")}, "reply:eth1:eth1"},
		{"ipv6 flow", "7.2", lan6, wan6, []model.Flowtable{ip(model.FamilyIP6, "eth1"), ip(model.FamilyIP, "eth0", "eth1")}, "original:eth0:eth0"},
		// No flowtable of the family: nothing to say.
		{"no flowtable of the family", "7.2", lan, wan, []model.Flowtable{ip(model.FamilyIP6, "eth9")}, ""},
		{"no flowtables", "7.2", lan, wan, nil, ""},
		// No route back to the source: unknown, not reported.
		{"no route", "7.2", addr("2001:db8:9::1"), wan6, []model.Flowtable{inetFT("eth0")}, "reply:eth1:eth1"},
		{"mapped address", "7.2", netip.AddrFrom16(lan.As16()), wan, []model.Flowtable{inetFT("eth1")}, "original:eth0:eth0"},
	} {
		got := CheckFlowPath(tc.src, tc.rsrc, plainTopology(), kv(t, tc.kernel), tc.fts)
		if s := findingsText(got); s != tc.want {
			t.Errorf("%s: got %q, want %q", tc.name, s, tc.want)
		}
	}
}

func TestFlowPathVLANFallback(t *testing.T) {
	topo := plainTopology()
	topo.Links = append(topo.Links, up(model.Link{Index: 4, Name: "eth1.7", Kind: model.LinkKindVLAN, Lower: 3, VLANID: 7}))
	topo.Routes[0].OutIndex = 4
	lan, wan := addr("10.0.0.5"), addr("192.0.2.80")
	// 6.1 walks the vlan down to eth1 but falls back to the vlan device
	// when eth1 is not listed; 7.2 does not.
	fts := []model.Flowtable{inetFT("eth0", "eth1.7")}
	if s := findingsText(CheckFlowPath(lan, wan, topo, kv(t, "6.1"), fts)); s != "" {
		t.Errorf("6.1 with the vlan listed: got %q, want none", s)
	}
	got := CheckFlowPath(lan, wan, topo, kv(t, "7.2"), fts)
	if s := findingsText(got); s != "reply:eth1:eth1.7" {
		t.Fatalf("7.2 with the vlan listed: got %q", s)
	}
	if !strings.Contains(got[0].Reason, "eth1.7 (vlan on eth1)") {
		t.Errorf("7.2 reason: %q", got[0].Reason)
	}
}

func TestFlowPathCheckerCachesPerAddress(t *testing.T) {
	c := NewFlowPathChecker(seedTopology(), kv(t, "7.2"), []model.Flowtable{
		inetFT("eth0", "tun0"),
		{Family: model.FamilyIP, Table: "raw", Name: "ft2", Devices: []string{"eth2"}},
	})
	a := c.Check(addr("192.168.0.10"), addr("198.51.100.1"))
	b := c.Check(addr("192.168.0.11"), addr("198.51.100.1"))
	if findingsText(a) != "reply:eth1:tun0" || findingsText(b) != findingsText(a) {
		t.Fatalf("got %q then %q", findingsText(a), findingsText(b))
	}
	if len(c.cache) != 3 {
		t.Errorf("cache holds %d addresses, want 3", len(c.cache))
	}
	if want := "flowtables list: inet filter ft (eth0, tun0), ip raw ft2 (eth2)"; !strings.HasSuffix(a[0].Reason, want) {
		t.Errorf("reason %q does not end in %q", a[0].Reason, want)
	}
	// The findings are copies: changing one does not change the next.
	a[0].Devices[0] = "x"
	if c.Check(addr("192.168.0.10"), addr("198.51.100.1"))[0].Devices[0] != "eth1" {
		t.Error("a caller's change leaked into the cache")
	}
}
