package model

import (
	"net/netip"
	"testing"
)

func u8(v uint8) *uint8    { return &v }
func u16(v uint16) *uint16 { return &v }

func testFlow(proto uint8, src, dst string, sport, dport uint16, status FlowStatus) *Flow {
	s, d := netip.MustParseAddr(src), netip.MustParseAddr(dst)
	return &Flow{
		Family: FamilyIP,
		Orig:   FlowTuple{Src: s, Dst: d, Proto: proto, SrcPort: sport, DstPort: dport},
		Reply:  FlowTuple{Src: d, Dst: s, Proto: proto, SrcPort: dport, DstPort: sport},
		Status: status,
	}
}

func TestFlowFilterMatch(t *testing.T) {
	sw := testFlow(ProtoTCP, "10.0.0.1", "192.0.2.1", 40000, 443, StatusAssured|StatusOffload)
	hw := testFlow(ProtoTCP, "10.0.0.2", "192.0.2.1", 40001, 443, StatusOffload|StatusHWOffload)
	plain := testFlow(ProtoUDP, "10.1.0.1", "192.0.2.53", 5353, 53, StatusSeenReply)
	plain.Zone = u16(7)
	icmp := &Flow{Family: FamilyIP6, Orig: FlowTuple{Src: netip.MustParseAddr("2001:db8::1"),
		Dst: netip.MustParseAddr("2001:db8::2"), Proto: ProtoICMPv6, ICMPType: 128, ICMPID: 443}}
	all := []*Flow{sw, hw, plain, icmp}
	cases := []struct {
		name string
		ff   FlowFilter
		want []*Flow
	}{
		{"zero filter", FlowFilter{}, all},
		{"offloaded", FlowFilter{Offloaded: true}, []*Flow{sw, hw}},
		{"hw", FlowFilter{HWOffloaded: true}, []*Flow{hw}},
		{"not offloaded", FlowFilter{NotOffloaded: true}, []*Flow{plain, icmp}},
		{"proto udp", FlowFilter{Proto: ProtoUDP, HasProto: true}, []*Flow{plain}},
		{"src prefix", FlowFilter{Src: netip.MustParsePrefix("10.0.0.0/24")}, []*Flow{sw, hw}},
		{"src v6 prefix", FlowFilter{Src: netip.MustParsePrefix("2001:db8::/32")}, []*Flow{icmp}},
		{"dst host", FlowFilter{Dst: netip.MustParsePrefix("192.0.2.53/32")}, []*Flow{plain}},
		// The ICMP id 443 is not a port.
		{"port 443 either side", FlowFilter{Port: 443, HasPort: true}, []*Flow{sw, hw}},
		{"port 5353 source", FlowFilter{Port: 5353, HasPort: true}, []*Flow{plain}},
		{"zone 7", FlowFilter{Zone: 7, HasZone: true}, []*Flow{plain}},
		{"zone 0 means no zone", FlowFilter{Zone: 0, HasZone: true}, []*Flow{sw, hw, icmp}},
		{"combined", FlowFilter{Offloaded: true, Src: netip.MustParsePrefix("10.0.0.2/32")}, []*Flow{hw}},
	}
	for _, c := range cases {
		var got []*Flow
		for _, f := range all {
			if c.ff.Match(f) {
				got = append(got, f)
			}
		}
		if len(got) != len(c.want) {
			t.Errorf("%s: matched %d flows, want %d", c.name, len(got), len(c.want))
			continue
		}
		for i := range got {
			if got[i] != c.want[i] {
				t.Errorf("%s: match %d is %v, want %v", c.name, i, got[i].Orig.Src, c.want[i].Orig.Src)
			}
		}
	}
}

func TestParseProto(t *testing.T) {
	for in, want := range map[string]uint8{"tcp": 6, "udp": 17, "icmp": 1, "icmpv6": 58, "sctp": 132,
		"gre": 47, "udplite": 136, "dccp": 33, "6": 6, "255": 255, "0": 0} {
		if got, ok := ParseProto(in); !ok || got != want {
			t.Errorf("ParseProto(%q) = %d, %v; want %d", in, got, ok, want)
		}
	}
	for _, bad := range []string{"", "tcpx", "256", "-1", "1000", "unknown"} {
		if _, ok := ParseProto(bad); ok {
			t.Errorf("ParseProto(%q) accepted", bad)
		}
	}
}

func TestStateName(t *testing.T) {
	f := testFlow(ProtoTCP, "10.0.0.1", "10.0.0.2", 1, 2, 0)
	if got := f.StateName(); got != "" {
		t.Errorf("no state: %q", got)
	}
	for v, want := range map[uint8]string{0: "NONE", 3: "ESTABLISHED", 7: "TIME_WAIT", 9: "SYN_SENT2", 10: "NONE", 200: "NONE"} {
		f.State = u8(v)
		if got := f.StateName(); got != want {
			t.Errorf("tcp state %d: %q, want %q", v, got, want)
		}
	}
	f.Orig.Proto = ProtoSCTP
	f.State = u8(4)
	if got := f.StateName(); got != "ESTABLISHED" {
		t.Errorf("sctp state 4: %q", got)
	}
	f.Orig.Proto = ProtoUDP
	if got := f.StateName(); got != "" {
		t.Errorf("udp with a state: %q, want none", got)
	}
}

func TestFlowStatus(t *testing.T) {
	s := StatusAssured | StatusOffload | StatusHWOffload | 1<<20
	if !s.Offloaded() || !s.HWOffloaded() || !s.Assured() || s.SeenReply() {
		t.Errorf("status predicates wrong for %#x", uint32(s))
	}
	if got := s.Names(); len(got) != 3 || got[0] != "ASSURED" || got[1] != "OFFLOAD" || got[2] != "HW_OFFLOAD" {
		t.Errorf("Names() = %v", got)
	}
	if StatusBitName(14) != "OFFLOAD" || StatusBitName(15) != "HW_OFFLOAD" || StatusBitName(16) != "" {
		t.Error("StatusBitName wrong")
	}
	if FlowStatus(0x4000) != StatusOffload || FlowStatus(0x8000) != StatusHWOffload {
		t.Error("offload bits do not match the kernel's IPS_OFFLOAD / IPS_HW_OFFLOAD")
	}
}
