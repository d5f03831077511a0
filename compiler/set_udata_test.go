package compiler_test

import (
	"encoding/hex"
	"testing"

	"github.com/nftflow/nftflow/compiler"
	"github.com/nftflow/nftflow/model"
	"github.com/nftflow/nftflow/parser"
)

// TestSetUserdata pins the set userdata nftflow sends to the bytes nft
// 1.0.6 sends for the same declarations (read with nft --debug=mnl), so
// that `nft list` prints typeof sets, maps and comments back as written.
func TestSetUserdata(t *testing.T) {
	src := `table ip t {
	set s1 { typeof ip saddr; }
	set s3 { typeof meta mark; }
	set s4 { typeof ip saddr . tcp dport; }
	set s5 { type ipv4_addr; comment "hello"; }
	map m1 { typeof ct mark : meta mark; }
	set s7 { typeof iifname; }
	set s8 { typeof ct state; }
	map m2 { type ipv4_addr : verdict; }
	map m3 { type ipv4_addr : mark; }
	set s10 { type ipv4_addr . inet_service; }
	set s12 { typeof vlan id; }
	map m4 { typeof ip saddr : verdict; flags interval; }
	map t1 { typeof numgen inc mod 2 : ip daddr; }
	map t3 { typeof jhash ip saddr mod 2 seed 0x5 offset 7 : ip daddr; }
	set t6 { typeof tcp option maxseg size; }
	set t8 { typeof fib daddr type; }
	set t9 { typeof rt mtu; }
	set s13 { typeof tcp option mptcp subtype; }
	set s14 { typeof tcp option mptcp subtype . ip daddr; }
	chain c { ip saddr { 1.1.1.1, 2.2.2.2 } accept; }
}
`
	want := map[string]string{
		"s1":  "0004020000000314000407000000010c00040c00000001040b000000",
		"s3":  "0004010000000" + "30e000409000000010600040300000" + "0",
		"s4":  "000400000000033400040d000000012c0014000407000000010c00040c00000001040b0000000114000407000000010c000408000000010402000000",
		"s5":  "00040200000007066865" + "6c6c6f00",
		"m1":  "0004010000000104010000000314" + "00040c000000010c00040300000001" + "04ffffffff040e0004090000000106000403000000" + "06040000" + "0000",
		"s7":  "00040100000003" + "0e0004090000000106000406000000",
		"s8":  "000401000000031400040c000000010c0004000000000104ffffffff",
		"m2":  "000402000000010400000000060400000000",
		"m3":  "000402000000010401000000060400000000",
		"s10": "00040000000003080004" + "0d0000000100",
		"s12": "000402000000031a00040700000001120004100000000104040000000404" + "0c000000",
		"m4":  "000402000000010400000000031400040700000001" + "0c00040c0000000104" + "0b00000004080004010000000100060400000000",
		"t1":  "0004010000000104020000000" + "31a000417000000011200040000000001040200000002040000000004140004070000000" + "10c00040c00000001040c000000060400000000",
		"t3":  "000401000000010402000000032600041800000001" + "1e00040000000001040700000002040200000003040500000004040100000004140004070000000" + "10c00040c00000001040c000000060400000000",
		"t6":  "000402000000031a00040800000001120104020000000204010000000004020000" + "00",
		"t8":  "000401000000031400041a000000010c0004030000000104020000" + "00",
		"t9":  "000401000000030e00041900000001060004030000" + "00",
		// nft 1.0.6's bytes (nft --debug=mnl)
		"s13":     "000402000000031a000408000000011201040200000002040100000000041e000000",
		"s14":     "000400000000033a00040d0000000132001a000408000000011201040200000002040100000000041e0000000114000407000000010c00040c00000001040c000000",
		"__set%d": "0004020000000314000407000000010c00040c00000001040b000000",
	}
	f, err := parser.ParseString("ud.nft", src)
	if err != nil {
		t.Fatal(err)
	}
	b, err := compiler.Compile(f)
	if err != nil {
		t.Fatal(err)
	}
	seen := 0
	for _, op := range b.Ops {
		s, ok := op.Obj.(*model.Set)
		if !ok {
			continue
		}
		w, ok := want[s.Name]
		if !ok {
			t.Errorf("unexpected set %s", s.Name)
			continue
		}
		seen++
		if got := hex.EncodeToString(s.Userdata); got != w {
			t.Errorf("%s userdata\n got %s\nwant %s", s.Name, got, w)
		}
	}
	if seen != len(want) {
		t.Errorf("checked %d sets, want %d", seen, len(want))
	}
}

// TestRawTransportPorts checks that @th,0,16 and @th,16,16 are typed as
// th sport and th dport, as nft 1.0.6 types them (inet_service sets with
// th typeof userdata, so nft lists the elements as ports), and that other
// raw fields stay raw integers.
func TestRawTransportPorts(t *testing.T) {
	src := "table ip t {\n\tchain c {\n\t\t@th,16,16 { 22, 23 }\n\t\t@th,0,16 { 22, 23 }\n\t\t@th,16,8 { 22, 23 }\n\t}\n}\n"
	// nft --debug=mnl: key type, key length and userdata of each set
	want := []struct {
		keyType, keyLen uint32
		udata           string
	}{
		{13, 2, "0004020000000314000407000000010c00040b000000010402000000"},
		{13, 2, "0004020000000314000407000000010c00040b000000010401000000"},
		{4, 1, "0004020000000326000407000000011e000400000000010400000000020403000000030410000000040408000000"},
	}
	f, err := parser.ParseString("raw.nft", src)
	if err != nil {
		t.Fatal(err)
	}
	b, err := compiler.Compile(f)
	if err != nil {
		t.Fatal(err)
	}
	var sets []*model.Set
	for _, op := range b.Ops {
		if s, ok := op.Obj.(*model.Set); ok {
			sets = append(sets, s)
		}
	}
	if len(sets) != len(want) {
		t.Fatalf("%d sets, want %d", len(sets), len(want))
	}
	for i, s := range sets {
		w := want[i]
		if s.KeyType != w.keyType || s.KeyLen != w.keyLen || hex.EncodeToString(s.Userdata) != w.udata {
			t.Errorf("set %d: key %d/%d udata %x, want %d/%d %s", i, s.KeyType, s.KeyLen, s.Userdata, w.keyType, w.keyLen, w.udata)
		}
	}
}
