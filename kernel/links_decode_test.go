package kernel

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/jsimonetti/rtnetlink/v2"
	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"

	"github.com/nftflow/nftflow/model"
)

// attrs encodes netlink attributes for the decoding tests.
func attrs(t testing.TB, fn func(ae *netlink.AttributeEncoder)) []byte {
	t.Helper()
	ae := netlink.NewAttributeEncoder()
	fn(ae)
	b, err := ae.Encode()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestDecodeLinkData decodes IFLA_INFO_DATA as the kernel sends it for the
// tunnel and vlan kinds, without a kernel (the host may lack ipip).
func TestDecodeLinkData(t *testing.T) {
	a4 := func(s string) []byte { a := netip.MustParseAddr(s).As4(); return a[:] }
	a16 := func(s string) []byte { a := netip.MustParseAddr(s).As16(); return a[:] }

	ipip := model.Link{Kind: "ipip"}
	decodeLinkData(&ipip, attrs(t, func(ae *netlink.AttributeEncoder) {
		ae.Uint32(iflaIPTunLink, 7)
		ae.Bytes(iflaIPTunLocal, a4("192.168.1.1"))
		ae.Bytes(iflaIPTunRemote, a4("192.168.1.2"))
		ae.Uint8(4, 64) // IFLA_IPTUN_TTL: ignored
		ae.Uint16(iflaIPTunEncapType, 0)
	}))
	if tt := ipip.Tunnel; tt == nil || tt.Link != 7 || tt.Local.String() != "192.168.1.1" || tt.Remote.String() != "192.168.1.2" || tt.External || ipip.Lower != 7 {
		t.Errorf("ipip: %+v lower %d", ipip.Tunnel, ipip.Lower)
	}

	anyTun := model.Link{Kind: "ipip"}
	decodeLinkData(&anyTun, attrs(t, func(ae *netlink.AttributeEncoder) {
		ae.Bytes(iflaIPTunLocal, a4("0.0.0.0"))
		ae.Bytes(iflaIPTunRemote, a4("0.0.0.0"))
		ae.Uint16(iflaIPTunEncapType, 1) // FOU
		ae.Flag(iflaIPTunCollectMetadata, true)
	}))
	if tt := anyTun.Tunnel; tt == nil || !tt.Remote.IsUnspecified() || tt.EncapType != 1 || !tt.External {
		t.Errorf("ipip any/fou/external: %+v", anyTun.Tunnel)
	}

	t6 := model.Link{Kind: "ip6tnl"}
	decodeLinkData(&t6, attrs(t, func(ae *netlink.AttributeEncoder) {
		ae.Bytes(iflaIPTunLocal, a16("2001:db8::1"))
		ae.Bytes(iflaIPTunRemote, a16("2001:db8::2"))
		ae.Uint32(iflaIPTunFlags, model.IP6TnlIgnEncapLimit)
		ae.Uint8(iflaIPTunProto, unix.IPPROTO_IPV6)
	}))
	if tt := t6.Tunnel; tt == nil || tt.Remote.String() != "2001:db8::2" || tt.Flags != model.IP6TnlIgnEncapLimit || tt.Proto != 41 {
		t.Errorf("ip6tnl: %+v", t6.Tunnel)
	}

	gre := model.Link{Kind: "gre"}
	decodeLinkData(&gre, attrs(t, func(ae *netlink.AttributeEncoder) {
		ae.Uint32(iflaGRELink, 3)
		ae.Bytes(iflaGRELocal, a4("10.0.0.1"))
		ae.Bytes(iflaGRERemote, a4("10.0.0.2"))
	}))
	if tt := gre.Tunnel; tt == nil || tt.Link != 3 || tt.Remote.String() != "10.0.0.2" {
		t.Errorf("gre: %+v", gre.Tunnel)
	}

	vlan := model.Link{Kind: "vlan"}
	decodeLinkData(&vlan, attrs(t, func(ae *netlink.AttributeEncoder) {
		ae.Uint16(unix.IFLA_VLAN_ID, 10)
		ae.Uint16(unix.IFLA_VLAN_PROTOCOL, 0x0081) // 802.1Q, network order
	}))
	if vlan.VLANID != 10 || vlan.Tunnel != nil {
		t.Errorf("vlan: %+v", vlan)
	}
}

func TestLinkFromMessage(t *testing.T) {
	master, lower := uint32(4), uint32(0)
	m := rtnetlink.LinkMessage{
		Index: 9,
		Type:  unix.ARPHRD_PPP,
		Flags: unix.IFF_UP | unix.IFF_RUNNING,
		Attributes: &rtnetlink.LinkAttributes{
			Name: "ppp0", MTU: 1492, Master: &master, Type: lower,
			OperationalState: rtnetlink.OperStateUnknown,
		},
	}
	l := linkFromMessage(m)
	if l.Name != "ppp0" || l.Kind != model.LinkKindPPP || !l.IsUp() || l.Master != 4 || l.MTU != 1492 {
		t.Errorf("ppp0: %+v", l)
	}
	m = rtnetlink.LinkMessage{Index: 3, Type: unix.ARPHRD_ETHER, Flags: unix.IFF_UP,
		Attributes: &rtnetlink.LinkAttributes{Name: "eth0.10", Type: 2, OperationalState: rtnetlink.OperStateLowerLayerDown,
			Info: &rtnetlink.LinkInfo{Kind: "vlan"}}}
	if l := linkFromMessage(m); l.Kind != "vlan" || l.Lower != 2 || l.OperUp || !l.AdminUp {
		t.Errorf("eth0.10: %+v", l)
	}
}

// TestDecodeFeatures decodes a FEATURES_GET reply built as the kernel
// builds it: verbose bitsets, HW without a mask (bits with VALUE set),
// ACTIVE with NOMASK (every listed bit is on).
func TestDecodeFeatures(t *testing.T) {
	bit := func(ae *netlink.AttributeEncoder, idx uint32, name string, value bool) {
		ae.Nested(ethtoolBitsetBit, func(b *netlink.AttributeEncoder) error {
			b.Uint32(unix.ETHTOOL_A_BITSET_BIT_INDEX, idx)
			b.String(ethtoolBitName, name)
			if value {
				b.Flag(ethtoolBitValue, true)
			}
			return nil
		})
	}
	reply := attrs(t, func(ae *netlink.AttributeEncoder) {
		ae.Nested(ethtoolFeaturesHW, func(bs *netlink.AttributeEncoder) error {
			bs.Uint32(unix.ETHTOOL_A_BITSET_SIZE, 64)
			bs.Nested(ethtoolBitsetBits, func(bits *netlink.AttributeEncoder) error {
				bit(bits, 0, "tx-scatter-gather", true)
				bit(bits, 55, featureHWTCOffload, false) // listed, not set
				return nil
			})
			return nil
		})
		ae.Nested(ethtoolFeaturesAct, func(bs *netlink.AttributeEncoder) error {
			bs.Flag(ethtoolBitsetNoMask, true)
			bs.Nested(ethtoolBitsetBits, func(bits *netlink.AttributeEncoder) error {
				bit(bits, 0, "tx-scatter-gather", false)
				return nil
			})
			return nil
		})
	})
	f := DeviceFeatures{Changeable: map[string]bool{}, Active: map[string]bool{}}
	if err := decodeFeatures(reply, &f); err != nil {
		t.Fatal(err)
	}
	if !f.Changeable["tx-scatter-gather"] || f.Changeable[featureHWTCOffload] || f.Has(featureHWTCOffload) || !f.Active["tx-scatter-gather"] {
		t.Errorf("features: %+v", f)
	}
}

// FuzzDecodeLinkData: no input may panic the IFLA_INFO_DATA decoder.
func FuzzDecodeLinkData(f *testing.F) {
	f.Add("ipip", []byte{8, 0, 1, 0, 7, 0, 0, 0})
	f.Add("vlan", []byte{6, 0, 1, 0, 10, 0, 0, 0})
	f.Add("gre", []byte{})
	f.Fuzz(func(t *testing.T, kind string, b []byte) {
		l := model.Link{Kind: kind}
		decodeLinkData(&l, b)
	})
}

// FuzzDecodeFeatures: no input may panic the ethtool features decoder.
func FuzzDecodeFeatures(f *testing.F) {
	f.Add([]byte{4, 0, 2, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		d := DeviceFeatures{Changeable: map[string]bool{}, Active: map[string]bool{}}
		_ = decodeFeatures(b, &d)
	})
}

func TestFillPPPoELower(t *testing.T) {
	sessions := "Id       Address              Device\n00000A23 00:11:22:33:44:55     eth1\n"
	links := func() []model.Link {
		return []model.Link{{Index: 2, Name: "eth0"}, {Index: 3, Name: "eth1"}, {Index: 9, Name: "ppp0", Kind: "ppp"}}
	}
	ls := links()
	if err := fillPPPoELower(ls, strings.NewReader(sessions)); err != nil || ls[2].Lower != 3 {
		t.Errorf("one session over eth1: lower %d, %v", ls[2].Lower, err)
	}
	// Two sessions over two devices: ambiguous, left unknown.
	ls = links()
	two := sessions + "00000B01 00:11:22:33:44:66     eth0\n"
	if err := fillPPPoELower(ls, strings.NewReader(two)); err != nil || ls[2].Lower != 0 {
		t.Errorf("two devices: lower %d, %v", ls[2].Lower, err)
	}
	// Two ppp devices: which session is whose is unknown.
	ls = append(links(), model.Link{Index: 10, Name: "ppp1", Kind: "ppp"})
	if err := fillPPPoELower(ls, strings.NewReader(sessions)); err != nil || ls[2].Lower != 0 || ls[3].Lower != 0 {
		t.Errorf("two ppp devices: %d %d, %v", ls[2].Lower, ls[3].Lower, err)
	}
}
