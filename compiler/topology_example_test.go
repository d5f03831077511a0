package compiler_test

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/nftflow/nftflow/compiler"
	"github.com/nftflow/nftflow/model"
)

// The seed's IPIP router: LAN eth0, tun0 an ipip tunnel over eth1, default
// route through the tunnel. The flowtable needs the tunnel device before
// Linux 6.19 and the underlay device from 6.19 on.
func ExampleResolveFlowtableDevices() {
	p := netip.MustParsePrefix
	topo := model.Topology{
		Links: []model.Link{
			{Index: 6, Name: "eth0", AdminUp: true, OperUp: true},
			{Index: 7, Name: "eth1", AdminUp: true, OperUp: true},
			{Index: 8, Name: "tun0", Kind: "ipip", AdminUp: true, OperUp: true,
				Tunnel: &model.LinkTunnel{Local: netip.MustParseAddr("192.168.1.1"), Remote: netip.MustParseAddr("192.168.1.2")}},
		},
		Routes: []model.Route{
			{Dst: p("0.0.0.0/0"), OutIndex: 8, Table: 254},
			{Dst: p("192.168.1.0/24"), OutIndex: 7, Table: 254},
		},
	}
	for _, k := range []string{"6.1", "6.19"} {
		v, _ := model.ParseKernelVersion(k)
		res := compiler.ResolveFlowtableDevices(topo, model.FeaturesForVersion(v), []string{"eth0", "tun0"})
		fmt.Printf("%s: %s\n", k, compiler.DevicesLine(res.Names()))
	}
	// Output:
	// 6.1: devices = { eth0, tun0 }
	// 6.19: devices = { eth0, eth1 }
}

// Linting a declared flowtable against the same router on 7.2.
func ExampleCheckFlowtableDevices() {
	topo := model.Topology{
		Links: []model.Link{
			{Index: 6, Name: "eth0", AdminUp: true, OperUp: true},
			{Index: 7, Name: "eth1", AdminUp: true, OperUp: true},
			{Index: 8, Name: "tun0", Kind: "ipip", AdminUp: true, OperUp: true,
				Tunnel: &model.LinkTunnel{Remote: netip.MustParseAddr("192.168.1.2"),
					Underlay: &model.Route{OutIndex: 7}}},
		},
	}
	v, _ := model.ParseKernelVersion("7.2")
	ft := compiler.FlowtableDecl{Name: "ft", Devices: []compiler.DeviceDecl{
		{Name: "eth0", Pos: model.Pos{File: "fw.nft", Line: 4, Col: 15}},
		{Name: "tun0", Pos: model.Pos{File: "fw.nft", Line: 4, Col: 21}},
	}}
	for _, d := range compiler.CheckFlowtableDevices(ft, topo, model.FeaturesForVersion(v)) {
		fmt.Println(d.Code, d.Severity, strings.SplitN(d.Message, ":", 2)[0])
		fmt.Println(d.Suggestion)
	}
	// Output:
	// NF223 warning tun0 is an ipip tunnel
	// devices = { eth0, eth1 }
}
