package render

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/nftflow/nftflow/model"
)

// The expression lists below are what nft --debug=netlink shows nft 1.0.6
// sending for the rule in the case name; want is how nft 1.0.6 lists them.
func TestRuleTextAsNft106(t *testing.T) {
	anonMap := func(name string, keyType, keyLen, dataType, dataLen uint32, elems ...model.SetElem) *model.Set {
		return &model.Set{Family: model.FamilyIP, Table: "t", Name: name, Flags: lsSetAnonymous | 0x2 | lsSetMap,
			KeyType: keyType, KeyLen: keyLen, DataType: dataType, DataLen: dataLen, Elements: elems}
	}
	dscpMap := &model.Set{Family: model.FamilyIP6, Table: "t", Name: "map1", Flags: lsSetMap,
		KeyType: 36, KeyLen: 1, DataType: 19, DataLen: 4}
	dscpSet := &model.Set{Family: model.FamilyIP6, Table: "t", Name: "s4", KeyType: 36, KeyLen: 1}
	echoTypes := &model.Set{Family: model.FamilyIP, Table: "t", Name: "__set0", Flags: lsSetAnonymous | 0x2,
		KeyType: 14, KeyLen: 1, Elements: []model.SetElem{{Key: []byte{8}}, {Key: []byte{0}}}}
	ip6dscp := []model.Expr{
		&model.Payload{DReg: 1, Base: model.BaseNetwork, Offset: 0, Len: 2},
		&model.Bitwise{SReg: 1, DReg: 1, Len: 2, Mask: []byte{0x0f, 0xc0}, Xor: []byte{0, 0}},
		&model.Bitwise{SReg: 1, DReg: 1, Len: 2, Op: model.BitwiseRShift, Data: u32le(6)},
	}
	ihWrite := func(mask, xor []byte) []model.Expr {
		return []model.Expr{
			&model.Payload{DReg: 1, Base: 3, Offset: 6, Len: 2},
			&model.Bitwise{SReg: 1, DReg: 1, Len: 2, Mask: mask, Xor: xor},
			&model.Payload{SReg: 1, Base: 3, Offset: 6, Len: 2, CsumFlags: 1},
		}
	}
	l4 := func(p byte) []model.Expr {
		return []model.Expr{&model.Meta{Key: 16, DReg: 1}, &model.Cmp{SReg: 1, Data: []byte{p}}}
	}
	tcpFlags := &model.Payload{DReg: 1, Base: model.BaseTransport, Offset: 13, Len: 1}
	cat := func(parts ...[]model.Expr) []model.Expr {
		var out []model.Expr
		for _, p := range parts {
			out = append(out, p...)
		}
		return out
	}
	for _, tc := range []struct {
		name  string
		fam   model.Family
		sets  []*model.Set
		exprs []model.Expr
		want  string
	}{
		{"queue", model.FamilyIP, nil, []model.Expr{
			&model.Queue{Total: 1},
		}, "queue to 0"},
		{"queue num 65535", model.FamilyIP, nil, []model.Expr{
			&model.Queue{Num: 65535, Total: 1},
		}, "queue to 65535"},
		{"queue num 4-5 fanout bypass", model.FamilyIP, nil, []model.Expr{
			&model.Queue{Num: 4, Total: 2, Flags: 3},
		}, "queue flags bypass,fanout to 4-5"},
		{"queue flags fanout to 1-65535", model.FamilyIP, nil, []model.Expr{
			&model.Queue{Num: 1, Total: 65535, Flags: 2},
		}, "queue flags fanout to 1-65535"},
		{"queue to symhash mod 65536", model.FamilyIP, nil, []model.Expr{
			&model.Hash{DReg: 1, Type: 1, Modulus: 65536},
			&model.Queue{SRegQnum: 1},
		}, "queue to symhash mod 65536"},
		{"reset tcp option mptcp", model.FamilyIP, nil, []model.Expr{
			&model.Exthdr{Type: 30, Op: model.ExthdrTCPOpt},
		}, "reset tcp option mptcp"},
		{"reset tcp option 123", model.FamilyIP, nil, []model.Expr{
			&model.Exthdr{Type: 123, Op: model.ExthdrTCPOpt},
		}, "reset tcp option 123"},
		{"tcp option mptcp subtype 1", model.FamilyIP, nil, []model.Expr{
			&model.Exthdr{DReg: 1, Type: 30, Offset: 2, Len: 1, Op: model.ExthdrTCPOpt},
			&model.Bitwise{SReg: 1, DReg: 1, Len: 1, Mask: []byte{0xf0}, Xor: []byte{0}},
			&model.Cmp{SReg: 1, Data: []byte{0x10}},
		}, "tcp option mptcp subtype 1"},
		{"tcp flags & (all flags) == all flags", model.FamilyInet, nil, cat(l4(6), []model.Expr{
			tcpFlags, &model.Bitwise{SReg: 1, DReg: 1, Len: 1, Mask: []byte{0xff}, Xor: []byte{0}},
			&model.Cmp{SReg: 1, Data: []byte{0xff}},
		}), "tcp flags == 0xff"},
		{"tcp flags == fin|syn|rst", model.FamilyInet, nil, cat(l4(6), []model.Expr{
			tcpFlags, &model.Cmp{SReg: 1, Data: []byte{7}},
		}), "tcp flags == 0x7"},
		{"tcp flags != cwr", model.FamilyInet, nil, cat(l4(6), []model.Expr{
			tcpFlags, &model.Cmp{SReg: 1, Op: 1, Data: []byte{0x80}},
		}), "tcp flags != cwr"},
		{"ct state == established|related", model.FamilyInet, nil, []model.Expr{
			&model.Ct{Key: 0, DReg: 1}, &model.Cmp{SReg: 1, Data: u32le(6)},
		}, "ct state established | related"},
		{"ct state != established|related", model.FamilyInet, nil, []model.Expr{
			&model.Ct{Key: 0, DReg: 1}, &model.Cmp{SReg: 1, Op: 1, Data: u32le(6)},
		}, "ct state != established | related"},
		{"ct state == established", model.FamilyInet, nil, []model.Expr{
			&model.Ct{Key: 0, DReg: 1}, &model.Cmp{SReg: 1, Data: u32le(2)},
		}, "ct state == established"},
		{"meta mark & 0xffffffff == 1", model.FamilyInet, nil, []model.Expr{
			&model.Meta{Key: 3, DReg: 1},
			&model.Bitwise{SReg: 1, DReg: 1, Len: 4, Mask: u32le(0xffffffff), Xor: u32le(0)},
			&model.Cmp{SReg: 1, Data: u32le(1)},
		}, "meta mark 0x00000001"},
		{"meta mark & 0xffff0000 == 0x10000", model.FamilyInet, nil, []model.Expr{
			&model.Meta{Key: 3, DReg: 1},
			&model.Bitwise{SReg: 1, DReg: 1, Len: 4, Mask: u32le(0xffff0000), Xor: u32le(0)},
			&model.Cmp{SReg: 1, Data: u32le(0x10000)},
		}, "meta mark 0x00010000/16"},
		{"meta mark & 0xffff0000 < 0x10000", model.FamilyInet, nil, []model.Expr{
			&model.Meta{Key: 3, DReg: 1},
			&model.Bitwise{SReg: 1, DReg: 1, Len: 4, Mask: u32le(0xffff0000), Xor: u32le(0)},
			&model.Cmp{SReg: 1, Op: 2, Data: u32le(0x10000)},
		}, "meta mark & 0xffff0000 < 0x00010000"},
		{"ct mark set ct mark & 0xffff0000 | 0x1", model.FamilyInet, nil, []model.Expr{
			&model.Ct{Key: 3, DReg: 1},
			&model.Bitwise{SReg: 1, DReg: 1, Len: 4, Mask: u32le(0xffff0000), Xor: u32le(1)},
			&model.Ct{Key: 3, SReg: 1},
		}, "ct mark set ct mark & 0xffff0001 | 0x00000001"},
		{"meta mark set meta mark & 0xff ^ 0x1", model.FamilyInet, nil, []model.Expr{
			&model.Meta{Key: 3, DReg: 1},
			&model.Bitwise{SReg: 1, DReg: 1, Len: 4, Mask: u32le(0xff), Xor: u32le(1)},
			&model.Meta{Key: 3, SReg: 1},
		}, "meta mark set meta mark & 0x000000ff ^ 0x00000001"},
		{"meta mark set jhash ip saddr . tcp sport mod 4 seed 0x1", model.FamilyInet, nil, cat([]model.Expr{
			&model.Meta{Key: 15, DReg: 1}, &model.Cmp{SReg: 1, Data: []byte{2}},
		}, l4(6), []model.Expr{
			&model.Payload{DReg: 1, Base: model.BaseNetwork, Offset: 12, Len: 4},
			&model.Payload{DReg: 9, Base: model.BaseTransport, Offset: 0, Len: 2},
			&model.Hash{SReg: 1, DReg: 1, Len: 6, Modulus: 4, Seed: 1, HasSeed: true},
			&model.Meta{Key: 3, SReg: 1},
		}), "meta mark set jhash ip saddr . tcp sport mod 4 seed 0x1"},
		{"inet: ip option rr ptr 4", model.FamilyInet, nil, []model.Expr{
			&model.Meta{Key: 15, DReg: 1}, &model.Cmp{SReg: 1, Data: []byte{2}},
			&model.Exthdr{DReg: 1, Type: 7, Offset: 2, Len: 1, Op: model.ExthdrIPv4},
			&model.Cmp{SReg: 1, Data: []byte{4}},
		}, "ip option rr ptr 4"},
		{"sctp chunk init exists", model.FamilyInet, nil, []model.Expr{
			&model.Exthdr{DReg: 1, Type: 1, Len: 1, Flags: 1, Op: model.ExthdrSCTP},
			&model.Cmp{SReg: 1, Data: []byte{1}},
		}, "sctp chunk init exists"},
		{"ipsec out spnum 1 spi 10", model.FamilyInet, nil, []model.Expr{
			&model.Xfrm{DReg: 1, Key: 6, Dir: 1, SPNum: 1},
			&model.Cmp{SReg: 1, Data: []byte{0, 0, 0, 10}},
		}, "ipsec out spnum 1 spi 10"},
		{"ipsec out ip daddr 10.0.0.0/8", model.FamilyInet, nil, []model.Expr{
			&model.Xfrm{DReg: 1, Key: 1, Dir: 1},
			&model.Cmp{SReg: 1, Data: []byte{10}},
		}, "ipsec out ip daddr 10.0.0.0/8"},
		{"ip: ct original saddr (old key) names the family", model.FamilyIP, nil, []model.Expr{
			&model.Ct{Key: 8, DReg: 1, HasDirection: true},
			&model.Cmp{SReg: 1, Data: []byte{1, 2, 3, 4}},
		}, "ct original ip saddr 1.2.3.4"},
		{"meta l4proto tcp dnat ip to 1.2.3.4:tcp dport map keeps l4proto", model.FamilyIP, []*model.Set{anonMap("__map2", 13, 2, 13, 2,
			model.SetElem{Key: []byte{0, 80}, Data: []byte{0x1f, 0x90}})}, cat(l4(6), []model.Expr{
			&model.Immediate{DReg: 1, Data: []byte{1, 2, 3, 4}},
			&model.Payload{DReg: 2, Base: model.BaseTransport, Offset: 2, Len: 2},
			&model.Lookup{SReg: 2, DReg: 2, HasDReg: true, Set: "__map2"},
			&model.NAT{Type: 1, Family: 2, RegAddrMin: 1, RegProtoMin: 2},
		}), "meta l4proto tcp dnat to 1.2.3.4:tcp dport map { 80 : 8080 }"},
		{"@ih,58,6 set 0", model.FamilyInet, nil, ihWrite([]byte{0xff, 0xc0}, []byte{0, 0}),
			"@ih,48,16 set @ih,48,16 & 0x3f"},
		{"@ih,58,6 set 0x1", model.FamilyInet, nil, ihWrite([]byte{0xff, 0xc0}, []byte{0, 1}),
			"@ih,48,16 set @ih,48,16 & 0xffc1 | 0x1"},
		{"meta mark set ip6 dscp map @map1", model.FamilyIP6, []*model.Set{dscpMap}, cat(ip6dscp, []model.Expr{
			&model.Lookup{SReg: 1, DReg: 1, HasDReg: true, Set: "map1"}, &model.Meta{Key: 3, SReg: 1},
		}), "meta mark set (@nh,0,16 & 0xfc0) >> 6 map @map1"},
		{"inet: meta mark set ip6 dscp map @map1 keeps nfproto", model.FamilyInet, []*model.Set{dscpMap}, cat([]model.Expr{
			&model.Meta{Key: 15, DReg: 1}, &model.Cmp{SReg: 1, Data: []byte{10}},
		}, ip6dscp, []model.Expr{
			&model.Lookup{SReg: 1, DReg: 1, HasDReg: true, Set: "map1"}, &model.Meta{Key: 3, SReg: 1},
		}), "meta nfproto ipv6 meta mark set (@nh,0,16 & 0xfc0) >> 6 map @map1"},
		{"ip6 dscp @s4", model.FamilyIP6, []*model.Set{dscpSet}, cat(ip6dscp, []model.Expr{
			&model.Lookup{SReg: 1, Set: "s4"},
		}), "ip6 dscp @s4"},
		{"icmp type { echo-reply, echo-request } icmp id 1 icmp sequence 2", model.FamilyIP, []*model.Set{echoTypes}, cat(l4(1), []model.Expr{
			&model.Payload{DReg: 1, Base: model.BaseTransport, Offset: 0, Len: 1},
			&model.Lookup{SReg: 1, Set: "__set0"},
			&model.Payload{DReg: 1, Base: model.BaseTransport, Offset: 4, Len: 4},
			&model.Cmp{SReg: 1, Data: []byte{0, 1, 0, 2}},
		}), "icmp type { echo-reply, echo-request } icmp id 1 icmp sequence 2"},
		{"meta l4proto icmp @th,32,32 0x10002", model.FamilyIP, nil, cat(l4(1), []model.Expr{
			&model.Payload{DReg: 1, Base: model.BaseTransport, Offset: 4, Len: 4},
			&model.Cmp{SReg: 1, Data: []byte{0, 1, 0, 2}},
		}), "icmp id 1 icmp sequence 2"},
		{"dup to meta mark map", model.FamilyNetdev, []*model.Set{anonMap("__map0", 19, 4, 20, 4,
			model.SetElem{Key: u32le(1), Data: u32le(1)}, model.SetElem{Key: u32le(2), Data: u32le(1)})}, []model.Expr{
			&model.Meta{Key: 3, DReg: 1},
			&model.Lookup{SReg: 1, DReg: 1, HasDReg: true, Set: "__map0"},
			&model.Dup{RegDev: 1},
		}, `dup to meta mark map { 0x00000001 : "lo", 0x00000002 : "lo" }`},
		{"tproxy ip to 127.0.0.1:symhash mod 2 map", model.FamilyInet, []*model.Set{anonMap("__map1", 4, 4, 13, 2,
			model.SetElem{Key: u32le(0), Data: []byte{0, 23}}, model.SetElem{Key: u32le(1), Data: []byte{0, 42}})}, cat(l4(6), []model.Expr{
			&model.Immediate{DReg: 1, Data: []byte{127, 0, 0, 1}},
			&model.Hash{DReg: 2, Type: 1, Modulus: 2},
			&model.Lookup{SReg: 2, DReg: 2, HasDReg: true, Set: "__map1"},
			&model.Tproxy{Family: 2, RegAddr: 1, RegPort: 2},
		}), "meta l4proto tcp tproxy ip to 127.0.0.1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := NewLister(&bytes.Buffer{}, ListOptions{IfNames: map[uint32]string{1: "lo"}})
			for _, s := range tc.sets {
				l.AddSet(s)
			}
			got := l.RuleText(&model.Rule{Family: tc.fam, Exprs: tc.exprs})
			if got != tc.want {
				t.Errorf("got  %q\nwant %q", got, tc.want)
			}
			if err := l.Err(); err != nil {
				t.Errorf("unexpected error: %v", err)
			}
		})
	}
}

// TestRuleJSONAsNft106 checks the JSON of statements whose text nft 1.0.6
// shortens or rewrites: the JSON keeps what the text leaves out.
func TestRuleJSONAsNft106(t *testing.T) {
	portMap := &model.Set{Family: model.FamilyInet, Table: "t", Name: "__map1", Flags: lsSetAnonymous | 0x2 | lsSetMap,
		KeyType: 4, KeyLen: 4, DataType: 13, DataLen: 2, Elements: []model.SetElem{
			{Key: u32le(0), Data: []byte{0, 23}}, {Key: u32le(1), Data: []byte{0, 42}}}}
	for _, tc := range []struct {
		name  string
		sets  []*model.Set
		exprs []model.Expr
		want  string
	}{
		{"tproxy port from a map", []*model.Set{portMap}, []model.Expr{
			&model.Immediate{DReg: 1, Data: []byte{127, 0, 0, 1}},
			&model.Hash{DReg: 2, Type: 1, Modulus: 2},
			&model.Lookup{SReg: 2, DReg: 2, HasDReg: true, Set: "__map1"},
			&model.Tproxy{Family: 2, RegAddr: 1, RegPort: 2},
		}, `[{"tproxy":{"family":"ip","addr":"127.0.0.1","port":{"map":{"key":{"symhash":{"mod":2}},"data":{"set":[[0,23],[1,42]]}}}}}]`},
		{"tcp flags ! syn", nil, []model.Expr{
			&model.Meta{Key: 16, DReg: 1}, &model.Cmp{SReg: 1, Data: []byte{6}},
			&model.Payload{DReg: 1, Base: model.BaseTransport, Offset: 13, Len: 1},
			&model.Bitwise{SReg: 1, DReg: 1, Len: 1, Mask: []byte{2}, Xor: []byte{0}},
			&model.Cmp{SReg: 1, Data: []byte{0}},
		}, `[{"match":{"op":"!","left":{"payload":{"protocol":"tcp","field":"flags"}},"right":"syn"}}]`},
		{"ct original zone set 1", nil, []model.Expr{
			&model.Immediate{DReg: 1, Data: []byte{1, 0}},
			&model.Ct{Key: 17, SReg: 1, HasDirection: true, Direction: 0},
		}, `[{"mangle":{"key":{"ct":{"key":"zone","dir":"original"}},"value":1}}]`},
		{"ct expiration 33s-45s", nil, []model.Expr{
			&model.Ct{Key: 5, DReg: 1},
			&model.Cmp{SReg: 1, Op: 5, Data: u32le(33000)}, &model.Cmp{SReg: 1, Op: 3, Data: u32le(45000)},
		}, `[{"match":{"op":"==","left":{"ct":{"key":"expiration"}},"right":{"range":[33,45]}}}]`},
		{"synproxy mss 1460 wscale 7", nil, []model.Expr{
			&model.Synproxy{MSS: 1460, Wscale: 7},
		}, `[{"synproxy":{"mss":1460,"wscale":7}}]`},
		{"queue", nil, []model.Expr{
			&model.Queue{Total: 1},
		}, `[{"queue":{"num":0}}]`},
		{"queue num 4-5 fanout bypass", nil, []model.Expr{
			&model.Queue{Num: 4, Total: 2, Flags: 3},
		}, `[{"queue":{"num":{"range":[4,5]},"flags":["bypass","fanout"]}}]`},
		{"queue flags bypass to numgen inc mod 65536", nil, []model.Expr{
			&model.Numgen{DReg: 1, Modulus: 65536},
			&model.Queue{Flags: 1, SRegQnum: 1},
		}, `[{"queue":{"num":{"numgen":{"mode":"inc","mod":65536,"offset":0}},"flags":"bypass"}}]`},
		{"reset tcp option 123", nil, []model.Expr{
			&model.Exthdr{Type: 123, Op: model.ExthdrTCPOpt},
		}, `[{"reset":{"tcp option":{"base":123,"offset":0,"len":0}}}]`},
		{"raw payload write", nil, []model.Expr{
			&model.Payload{DReg: 1, Base: 3, Offset: 6, Len: 2},
			&model.Bitwise{SReg: 1, DReg: 1, Len: 2, Mask: []byte{0xff, 0xc0}, Xor: []byte{0, 1}},
			&model.Payload{SReg: 1, Base: 3, Offset: 6, Len: 2, CsumFlags: 1},
		}, `[{"mangle":{"key":{"payload":{"base":"ih","offset":48,"len":16}},"value":{"|":[{"&":[{"payload":{"base":"ih","offset":48,"len":16}},65473]},1]}}}]`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := NewLister(&bytes.Buffer{}, ListOptions{})
			for _, s := range tc.sets {
				l.AddSet(s)
			}
			js, ok := l.RuleJSON(&model.Rule{Family: model.FamilyInet, Exprs: tc.exprs})
			if !ok {
				t.Fatal("no JSON form")
			}
			var sb strings.Builder
			jsonEncode(&sb, js)
			var got, want any
			if err := json.Unmarshal([]byte(sb.String()), &got); err != nil {
				t.Fatalf("%v: %s", err, sb.String())
			}
			if err := json.Unmarshal([]byte(tc.want), &want); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("got  %s\nwant %s", sb.String(), tc.want)
			}
		})
	}
}
