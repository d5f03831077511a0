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

// Link is a network device as rtnetlink describes it.
type Link struct {
	Index int
	Name  string
	// Kind is IFLA_INFO_KIND: "ipip", "vlan", "bridge", ...; "" for a
	// physical device.
	Kind string
	// SlaveKind is IFLA_INFO_SLAVE_KIND: "bridge" for a bridge port.
	SlaveKind string
	// AdminUp is IFF_UP; OperUp is IFF_RUNNING or an operstate of up or
	// unknown (tunnels and loopback report unknown when they work).
	AdminUp, OperUp bool
	Loopback        bool // IFF_LOOPBACK
	MTU             int
	// Master is the bridge or bond the device is enslaved to (IFLA_MASTER), 0 if none.
	Master int
	// Lower is IFLA_LINK: the real device of a vlan or macvlan, the peer of
	// a veth, the device a tunnel is bound to; 0 if none.
	Lower int
	// LowerOtherNS is set when IFLA_LINK_NETNSID says Lower lives in another
	// network namespace (a veth peer, for example).
	LowerOtherNS bool
	VLANID       uint16 // vlan devices
	Tunnel       *LinkTunnel
	// Addrs are the device's IP addresses.
	Addrs []netip.Prefix
	// HWTCOffload says whether the device has the hw-tc-offload feature
	// (NETIF_F_HW_TC), the approximation nftflow uses for "can take a
	// flowtable with flags offload". See docs/flowtable.md.
	HWTCOffload Capability
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
	Local, Remote netip.Addr // the outer addresses; invalid when "any"
	// Link is the device the tunnel is bound to (IFLA_IPTUN_LINK), 0 if none.
	Link int
	// Proto is IFLA_IPTUN_PROTO for ip6tnl (41 ip6ip6, 4 ipip6, 0 any).
	Proto uint8
	// EncapType is IFLA_IPTUN_ENCAP_TYPE: 0 none, 1 FOU, 2 GUE.
	EncapType uint16
	// External is set for collect_md (flow-based) tunnels.
	External bool
	// Underlay is the kernel's answer to "which route does the outer packet
	// take" (RTM_GETROUTE to Remote), nil when not asked or no route.
	Underlay *Route
}

// Route is a routing table entry, or the answer of a route lookup.
type Route struct {
	Dst      netip.Prefix // 0.0.0.0/0 or ::/0 for a default route
	Gateway  netip.Addr
	Src      netip.Addr // preferred source
	OutIndex int
	Table    int
	Type     uint8 // RTN_UNICAST, RTN_LOCAL, ...
}

// Topology is what nftflow knows about a namespace's devices and routes.
type Topology struct {
	Links  []Link
	Routes []Route
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
	Major, Minor, Patch int
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
	Release string // uname -r, when read from a kernel
	Version KernelVersion
	// Flowtables is set when the kernel can create flowtables
	// (CONFIG_NF_FLOW_TABLE, module nf_flow_table_inet).
	Flowtables bool
	// FlowtablesHow says how Flowtables was decided: "probe" (a flowtable
	// created in an aborted batch), "modules" (module files), "version"
	// (assumed from the version alone).
	FlowtablesHow string
	// HWOffloadFlag: the kernel knows `flags offload` (>= 5.5).
	HWOffloadFlag bool
	// FlowtableCounter: the kernel knows the flowtable `counter` (>= 5.7).
	FlowtableCounter bool
	// ForwardPath: the flowtable walks virtual devices down to the real one
	// (dev_fill_forward_path: vlan, bridge, pppoe, dsa; >= 5.13).
	ForwardPath bool
	// IPIPAccel: the flowtable accelerates IPIP through the underlay
	// device (ipip_fill_forward_path, >= 6.19).
	IPIPAccel bool
	// IP6IP6Accel: the same for ip6tnl (ip6_tnl_fill_forward_path, >= 7.0).
	IP6IP6Accel bool
	// MissingDevicesOK: a flowtable may name a device that does not exist
	// yet; the hook attaches when it appears (>= 6.16). Before, ENOENT.
	MissingDevicesOK bool
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
	}
}
