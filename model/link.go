package model

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// Link kinds as the kernel reports them in IFLA_INFO_KIND. A physical
// device has no kind (LinkKindPhysical, the empty string).
const (
	LinkKindPhysical = ""
	LinkKindIPIP     = "ipip"
	LinkKindIP6Tnl   = "ip6tnl"
	LinkKindGRE      = "gre"
	LinkKindGRETap   = "gretap"
	LinkKindIP6GRE   = "ip6gre"
	LinkKindSIT      = "sit"
	LinkKindVLAN     = "vlan"
	LinkKindBridge   = "bridge"
	LinkKindVeth     = "veth"
	LinkKindPPP      = "ppp"
	LinkKindPPPoE    = "pppoe"
	LinkKindDummy    = "dummy"
	LinkKindBond     = "bond"
	LinkKindMacvlan  = "macvlan"
	LinkKindVXLAN    = "vxlan"
	LinkKindWG       = "wireguard"
	LinkKindDSA      = "dsa"
)

// Capability is a tri-state answer about a device feature.
type Capability uint8

// Capability values.
const (
	CapUnknown Capability = iota // not asked, or the kernel did not say
	CapNo
	CapYes
)

// String returns "unknown", "no" or "yes".
func (c Capability) String() string {
	switch c {
	case CapNo:
		return "no"
	case CapYes:
		return "yes"
	}
	return "unknown"
}

// MarshalText makes a Capability print as its name in JSON.
func (c Capability) MarshalText() ([]byte, error) { return []byte(c.String()), nil }

// UnmarshalText reads "yes", "no" or "unknown".
func (c *Capability) UnmarshalText(b []byte) error {
	switch string(b) {
	case "yes":
		*c = CapYes
	case "no":
		*c = CapNo
	case "unknown", "":
		*c = CapUnknown
	default:
		return fmt.Errorf("capability %q: want yes, no or unknown", b)
	}
	return nil
}

// Link is a network device as rtnetlink describes it.
type Link struct {
	Index int    `json:"index,omitempty"`
	Name  string `json:"name,omitempty"`
	// Kind is IFLA_INFO_KIND: "ipip", "vlan", "bridge", ...; "" for a
	// physical device.
	Kind string `json:"kind,omitempty"`
	// SlaveKind is IFLA_INFO_SLAVE_KIND: "bridge" for a bridge port.
	SlaveKind string `json:"slave_kind,omitempty"`
	// AdminUp is IFF_UP; OperUp is IFF_RUNNING or an operstate of up or
	// unknown (tunnels and loopback report unknown when they work).
	AdminUp  bool `json:"admin_up,omitempty"`
	OperUp   bool `json:"oper_up,omitempty"`
	Loopback bool `json:"loopback,omitempty"` // IFF_LOOPBACK
	MTU      int  `json:"mtu,omitempty"`
	// Master is the bridge or bond the device is enslaved to (IFLA_MASTER), 0 if none.
	Master int `json:"master,omitempty"`
	// Lower is IFLA_LINK: the real device of a vlan or macvlan, the peer of
	// a veth, the device a tunnel is bound to; 0 if none.
	Lower int `json:"lower,omitempty"`
	// LowerOtherNS is set when IFLA_LINK_NETNSID says Lower lives in another
	// network namespace (a veth peer, for example).
	LowerOtherNS bool        `json:"lower_other_ns,omitempty"`
	VLANID       uint16      `json:"vlan_id,omitempty"` // vlan devices
	Tunnel       *LinkTunnel `json:"tunnel,omitempty"`
	// Addrs are the device's IP addresses.
	Addrs []netip.Prefix `json:"addrs,omitempty"`
	// HWTCOffload says whether the device has the hw-tc-offload feature
	// (NETIF_F_HW_TC), the approximation nftflow uses for "can take a
	// flowtable with flags offload". See docs/flowtable.md.
	HWTCOffload Capability `json:"hw_tc_offload,omitempty"`
}

// IsUp reports whether the device is administratively and operationally up.
func (l Link) IsUp() bool { return l.AdminUp && l.OperUp }

// IsTunnel reports whether the link is an IP tunnel device.
func (l Link) IsTunnel() bool {
	switch l.Kind {
	case LinkKindIPIP, LinkKindIP6Tnl, LinkKindGRE, LinkKindGRETap, LinkKindIP6GRE, LinkKindSIT, "ip6gretap", "erspan", "ip6erspan", "vti", "vti6":
		return true
	}
	return false
}

// LinkTunnel is the configuration of an IP tunnel device (IFLA_IPTUN_* for
// ipip, sit and ip6tnl; IFLA_GRE_* for the gre family).
type LinkTunnel struct {
	// Local and Remote are the outer addresses; invalid when "any".
	Local  netip.Addr `json:"local,omitzero"`
	Remote netip.Addr `json:"remote,omitzero"`
	// Link is the device the tunnel is bound to (IFLA_IPTUN_LINK), 0 if none.
	Link int `json:"link,omitempty"`
	// Proto is IFLA_IPTUN_PROTO for ip6tnl (41 ip6ip6, 4 ipip6, 0 any).
	Proto uint8 `json:"proto,omitempty"`
	// Flags is IFLA_IPTUN_FLAGS of ip6tnl (IP6_TNL_F_*):
	// IP6TnlIgnEncapLimit is `encaplimit none`.
	Flags uint32 `json:"flags,omitempty"`
	// EncapType is IFLA_IPTUN_ENCAP_TYPE: 0 none, 1 FOU, 2 GUE.
	EncapType uint16 `json:"encap_type,omitempty"`
	// External is set for collect_md (flow-based) tunnels.
	External bool `json:"external,omitempty"`
	// Underlay is the kernel's answer to "which route does the outer packet
	// take" (RTM_GETROUTE to Remote), nil when not asked or no route.
	Underlay *Route `json:"underlay,omitempty"`
}

// IP6TnlIgnEncapLimit is IP6_TNL_F_IGN_ENCAP_LIMIT: the ip6tnl device sends
// no tunnel encapsulation limit option (`encaplimit none`). The flowtable
// only accelerates ip6tnl devices with it.
const IP6TnlIgnEncapLimit uint32 = 0x1

// Route is a routing table entry, or the answer of a route lookup.
type Route struct {
	Dst      netip.Prefix `json:"dst,omitzero"` // 0.0.0.0/0 or ::/0 for a default route
	Gateway  netip.Addr   `json:"gateway,omitzero"`
	Src      netip.Addr   `json:"src,omitzero"` // preferred source
	OutIndex int          `json:"out_index,omitempty"`
	Table    int          `json:"table,omitempty"`
	Type     uint8        `json:"type,omitempty"` // RTN_UNICAST, RTN_LOCAL, ...
}

// Topology is what nftflow knows about a namespace's devices and routes.
type Topology struct {
	Links  []Link  `json:"links,omitempty"`
	Routes []Route `json:"routes,omitempty"`
}

// LinkByName returns the link with the given name.
func (t Topology) LinkByName(name string) (Link, bool) {
	for _, l := range t.Links {
		if l.Name == name {
			return l, true
		}
	}
	return Link{}, false
}

// LinkByIndex returns the link with the given index.
func (t Topology) LinkByIndex(i int) (Link, bool) {
	for _, l := range t.Links {
		if l.Index == i {
			return l, true
		}
	}
	return Link{}, false
}

// KernelVersion is a kernel release's major and minor number.
type KernelVersion struct {
	Major int `json:"major,omitempty"`
	Minor int `json:"minor,omitempty"`
	Patch int `json:"patch,omitempty"`
}

// AtLeast reports whether v is major.minor or newer.
func (v KernelVersion) AtLeast(major, minor int) bool {
	return v.Major > major || (v.Major == major && v.Minor >= minor)
}

// IsZero reports whether the version is unknown.
func (v KernelVersion) IsZero() bool { return v.Major == 0 && v.Minor == 0 }

// String returns "major.minor".
func (v KernelVersion) String() string { return fmt.Sprintf("%d.%d", v.Major, v.Minor) }

// ParseKernelVersion reads "6.19", "6.1.0-28-amd64" or "7.2.1" (a uname
// release or a version typed by a user).
func ParseKernelVersion(s string) (KernelVersion, error) {
	var v KernelVersion
	parts := strings.SplitN(s, ".", 3)
	if len(parts) < 2 {
		return v, fmt.Errorf("kernel version %q: want major.minor", s)
	}
	num := func(p string) (int, error) {
		end := 0
		for end < len(p) && p[end] >= '0' && p[end] <= '9' {
			end++
		}
		if end == 0 {
			return 0, fmt.Errorf("kernel version %q: not a number: %q", s, p)
		}
		return strconv.Atoi(p[:end])
	}
	var err error
	if v.Major, err = num(parts[0]); err != nil {
		return v, err
	}
	if v.Minor, err = num(parts[1]); err != nil {
		return v, err
	}
	if len(parts) == 3 {
		if p, err := num(parts[2]); err == nil {
			v.Patch = p
		}
	}
	return v, nil
}

// Features is what the running (or target) kernel supports that matters
// for flowtables.
type Features struct {
	Release string        `json:"release"` // uname -r, when read from a kernel
	Version KernelVersion `json:"version"`
	// Flowtables is set when the kernel can create flowtables
	// (CONFIG_NF_FLOW_TABLE, module nf_flow_table_inet).
	Flowtables bool `json:"flowtables"`
	// FlowtablesHow says how Flowtables was decided: "probe" (a flowtable
	// created in an aborted batch), "modules" (module files), "version"
	// (assumed from the version alone).
	FlowtablesHow string `json:"flowtables_how"`
	// HWOffloadFlag: the kernel knows `flags offload` (>= 5.5).
	HWOffloadFlag bool `json:"hw_offload_flag"`
	// FlowtableCounter: the kernel knows the flowtable `counter` (>= 5.7).
	FlowtableCounter bool `json:"flowtable_counter"`
	// ForwardPath: the flowtable walks virtual devices down to the real one
	// (dev_fill_forward_path: vlan, bridge, pppoe, dsa; >= 5.13).
	ForwardPath bool `json:"forward_path"`
	// IPIPAccel: the flowtable accelerates IPIP through the underlay
	// device (ipip_fill_forward_path, >= 6.19).
	IPIPAccel bool `json:"ipip_accel"`
	// IP6IP6Accel: the same for ip6tnl (ip6_tnl_fill_forward_path, >= 7.0).
	IP6IP6Accel bool `json:"ip6ip6_accel"`
	// MissingDevicesOK: a flowtable may name a device that does not exist
	// yet; the hook attaches when it appears (>= 6.16). Before, ENOENT.
	MissingDevicesOK bool `json:"missing_devices_ok"`
	// StrictForwardPath: when the device a flow's forward path ends at is
	// not in the flowtable, the flow is not offloaded at all; older kernels
	// fall back to the routed (upper) device. Measured: 6.1 falls back,
	// 7.2 does not; 6.19 still had the fallback in its source, so nftflow
	// assumes >= 7.0.
	StrictForwardPath bool `json:"strict_forward_path"`
}

// FeaturesForVersion returns what a mainline kernel of version v supports,
// assuming it was built with flowtables. Distribution kernels may backport;
// callers that probed the running kernel override fields.
func FeaturesForVersion(v KernelVersion) Features {
	return Features{
		Version:          v,
		Flowtables:       v.AtLeast(4, 16),
		FlowtablesHow:    "version",
		HWOffloadFlag:    v.AtLeast(5, 5),
		FlowtableCounter: v.AtLeast(5, 7),
		ForwardPath:      v.AtLeast(5, 13),
		IPIPAccel:        v.AtLeast(6, 19),
		IP6IP6Accel:      v.AtLeast(7, 0),
		MissingDevicesOK: v.AtLeast(6, 16),
		// StrictForwardPath: see the field; an estimate between 6.19 and 7.2.
		StrictForwardPath: v.AtLeast(7, 0),
	}
}
