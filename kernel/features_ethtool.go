package kernel

import (
	"errors"
	"fmt"

	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"

	"github.com/nftflow/nftflow/model"
)

// Generic netlink and ethtool netlink constants (uapi genetlink.h,
// ethtool_netlink.h).
const (
	genlIDCtrl           = 0x10 // GENL_ID_CTRL
	genlCtrlGetFamily    = 3    // CTRL_CMD_GETFAMILY
	genlCtrlFamilyID     = 1    // CTRL_ATTR_FAMILY_ID
	genlCtrlFamilyName   = 2    // CTRL_ATTR_FAMILY_NAME
	ethtoolGenlVersion   = 1    // ETHTOOL_GENL_VERSION
	ethtoolFeaturesGet   = unix.ETHTOOL_MSG_FEATURES_GET
	ethtoolFeaturesHdr   = unix.ETHTOOL_A_FEATURES_HEADER
	ethtoolFeaturesHW    = unix.ETHTOOL_A_FEATURES_HW
	ethtoolFeaturesAct   = unix.ETHTOOL_A_FEATURES_ACTIVE
	ethtoolHeaderDev     = unix.ETHTOOL_A_HEADER_DEV_INDEX
	ethtoolBitsetBits    = unix.ETHTOOL_A_BITSET_BITS
	ethtoolBitsetBit     = unix.ETHTOOL_A_BITSET_BITS_BIT
	ethtoolBitName       = unix.ETHTOOL_A_BITSET_BIT_NAME
	ethtoolBitValue      = unix.ETHTOOL_A_BITSET_BIT_VALUE
	ethtoolBitsetNoMask  = unix.ETHTOOL_A_BITSET_NOMASK
	featureHWTCOffload   = "hw-tc-offload" // NETIF_F_HW_TC
	ethtoolFamilyUnknown = 0
)

// DeviceFeatures are a device's ethtool features by name.
type DeviceFeatures struct {
	// Changeable are the features the driver lets the user switch
	// (ETHTOOL_A_FEATURES_HW); Active are those on now.
	Changeable, Active map[string]bool
}

// Has reports whether the device supports the feature (changeable or on).
func (d DeviceFeatures) Has(name string) bool { return d.Changeable[name] || d.Active[name] }

// FeatureReader reads device features over the ethtool generic netlink
// family in one network namespace.
type FeatureReader struct {
	c      *netlink.Conn
	family uint16
}

// NewFeatureReader opens a generic netlink socket in the named namespace
// and resolves the "ethtool" family (Linux >= 5.6).
func NewFeatureReader(netns string) (*FeatureReader, error) {
	c, err := DialNetlink(unix.NETLINK_GENERIC, netns, nil)
	if err != nil {
		return nil, err
	}
	fam, err := genlFamily(c, unix.ETHTOOL_GENL_NAME)
	if err != nil {
		c.Close()
		return nil, err
	}
	return &FeatureReader{c: c, family: fam}, nil
}

// Close closes the socket.
func (r *FeatureReader) Close() error { return r.c.Close() }

func genlHeader(cmd, version uint8) []byte { return []byte{cmd, version, 0, 0} }

// genlFamily resolves a generic netlink family name to its id.
func genlFamily(c *netlink.Conn, name string) (uint16, error) {
	ae := netlink.NewAttributeEncoder()
	ae.String(genlCtrlFamilyName, name)
	attrs, err := ae.Encode()
	if err != nil {
		return 0, fmt.Errorf("genl family %s: %w", name, err)
	}
	msgs, err := c.Execute(netlink.Message{
		Header: netlink.Header{Type: genlIDCtrl, Flags: netlink.Request},
		Data:   append(genlHeader(genlCtrlGetFamily, 1), attrs...),
	})
	if err != nil {
		return 0, fmt.Errorf("genl family %s: %w", name, err)
	}
	for _, m := range msgs {
		if len(m.Data) < 4 {
			continue
		}
		ad, err := netlink.NewAttributeDecoder(m.Data[4:])
		if err != nil {
			return 0, fmt.Errorf("genl family %s: %w", name, err)
		}
		for ad.Next() {
			if ad.Type() == genlCtrlFamilyID {
				return ad.Uint16(), nil
			}
		}
	}
	return ethtoolFamilyUnknown, fmt.Errorf("genl family %s: no id in reply", name)
}

// Features reads the features of the device with index ifindex.
func (r *FeatureReader) Features(ifindex int) (DeviceFeatures, error) {
	ae := netlink.NewAttributeEncoder()
	ae.Nested(ethtoolFeaturesHdr, func(nae *netlink.AttributeEncoder) error {
		nae.Uint32(ethtoolHeaderDev, uint32(ifindex))
		return nil
	})
	attrs, err := ae.Encode()
	if err != nil {
		return DeviceFeatures{}, fmt.Errorf("ethtool features: %w", err)
	}
	msgs, err := r.c.Execute(netlink.Message{
		Header: netlink.Header{Type: netlink.HeaderType(r.family), Flags: netlink.Request},
		Data:   append(genlHeader(ethtoolFeaturesGet, ethtoolGenlVersion), attrs...),
	})
	if err != nil {
		return DeviceFeatures{}, fmt.Errorf("ethtool features of ifindex %d: %w", ifindex, err)
	}
	out := DeviceFeatures{Changeable: map[string]bool{}, Active: map[string]bool{}}
	for _, m := range msgs {
		if len(m.Data) < 4 {
			continue
		}
		if err := decodeFeatures(m.Data[4:], &out); err != nil {
			return out, fmt.Errorf("ethtool features of ifindex %d: %w", ifindex, err)
		}
	}
	return out, nil
}

// decodeFeatures reads the HW and ACTIVE bitsets of a FEATURES_GET reply.
// Without ETHTOOL_FLAG_COMPACT_BITSETS the kernel sends them verbose: one
// nested bit with its name per feature; a bit is set when it carries the
// VALUE flag, or always when the bitset has the NOMASK flag.
func decodeFeatures(b []byte, out *DeviceFeatures) error {
	ad, err := netlink.NewAttributeDecoder(b)
	if err != nil {
		return err
	}
	for ad.Next() {
		var set map[string]bool
		switch ad.Type() {
		case ethtoolFeaturesHW:
			set = out.Changeable
		case ethtoolFeaturesAct:
			set = out.Active
		default:
			continue
		}
		ad.Nested(func(bs *netlink.AttributeDecoder) error {
			nomask := false
			named := map[string]bool{} // name -> VALUE flag
			for bs.Next() {
				switch bs.Type() {
				case ethtoolBitsetNoMask:
					nomask = true
				case ethtoolBitsetBits:
					bs.Nested(func(bits *netlink.AttributeDecoder) error {
						for bits.Next() {
							if bits.Type() != ethtoolBitsetBit {
								continue
							}
							bits.Nested(func(bit *netlink.AttributeDecoder) error {
								name, value := "", false
								for bit.Next() {
									switch bit.Type() {
									case ethtoolBitName:
										name = bit.String()
									case ethtoolBitValue:
										value = true
									}
								}
								if name != "" {
									named[name] = value
								}
								return nil
							})
						}
						return nil
					})
				}
			}
			for name, value := range named {
				if nomask || value {
					set[name] = true
				}
			}
			return nil
		})
	}
	return ad.Err()
}

// FillHWTCOffload sets Link.HWTCOffload for every link from its ethtool
// features: CapYes when the device has hw-tc-offload (NETIF_F_HW_TC), the
// feature of drivers that implement flow offload through ndo_setup_tc;
// CapNo when it has not; CapUnknown when the kernel would not say.
func FillHWTCOffload(netns string, links []model.Link) error {
	r, err := NewFeatureReader(netns)
	if err != nil {
		return err
	}
	defer r.Close()
	for i := range links {
		f, err := r.Features(links[i].Index)
		if err != nil {
			var oe *netlink.OpError
			if errors.As(err, &oe) && (errors.Is(oe.Err, unix.EOPNOTSUPP) || errors.Is(oe.Err, unix.ENODEV)) {
				continue
			}
			return err
		}
		links[i].HWTCOffload = model.CapNo
		if f.Has(featureHWTCOffload) {
			links[i].HWTCOffload = model.CapYes
		}
	}
	return nil
}
