package compiler

import (
	"fmt"
	"net/netip"
	"sort"
	"strings"

	"github.com/nftflow/nftflow/model"
)

// Diagnostic codes of the topology checks (CheckFlowtableDevices): they
// need the system's devices, routes and kernel version, so `nftflow lint`
// runs them only when it is given those facts.
const (
	CodeFlowtableUnsupported = "NF220" // the kernel has no flowtables
	CodeFlowtableNoSuchDev   = "NF221" // a listed device does not exist
	CodeFlowtableDevDown     = "NF222" // a listed device is down
	CodeFlowtableTunnelDev   = "NF223" // tunnel listed where the kernel wants its underlay
	CodeFlowtableUnderlayDev = "NF224" // underlay listed, tunnel missing, on a kernel without tunnel acceleration
	CodeFlowtableUpperDev    = "NF225" // vlan/bridge/ppp listed where the kernel bypasses to the real device
	CodeFlowtableHWTunnel    = "NF226" // flags offload with a device that can never offload (tunnel, veth, bridge, ...)
	CodeFlowtableHWNoCap     = "NF227" // flags offload with a device without hw-tc-offload
	CodeFlowtableKernelFlag  = "NF228" // flags offload or counter on a kernel that lacks them
)

// TopologyCodes returns the catalogue entries of the topology checks.
func TopologyCodes() []CodeInfo {
	return []CodeInfo{
		{CodeFlowtableUnsupported, "flowtables-unsupported", SeverityError, "The kernel cannot create flowtables (CONFIG_NF_FLOW_TABLE)"},
		{CodeFlowtableNoSuchDev, "flowtable-missing-device", SeverityError, "A flowtable device does not exist on this system"},
		{CodeFlowtableDevDown, "flowtable-device-down", SeverityWarning, "A flowtable device is down"},
		{CodeFlowtableTunnelDev, "flowtable-tunnel-device", SeverityWarning, "A tunnel is listed where this kernel accelerates through its underlay device"},
		{CodeFlowtableUnderlayDev, "flowtable-underlay-device", SeverityWarning, "A tunnel's underlay is listed without the tunnel on a kernel that does not accelerate the tunnel"},
		{CodeFlowtableUpperDev, "flowtable-upper-device", SeverityWarning, "A vlan, bridge or ppp device is listed without the real device the kernel goes down to (info before 7.0, where the kernel falls back)"},
		{CodeFlowtableHWTunnel, "flowtable-offload-virtual", SeverityError, "flags offload with a device that has no hardware offload (tunnel, veth, bridge, ...)"},
		{CodeFlowtableHWNoCap, "flowtable-offload-no-hw", SeverityWarning, "flags offload with a device that lacks the hw-tc-offload feature"},
		{CodeFlowtableKernelFlag, "flowtable-flag-kernel", SeverityError, "A flowtable flag this kernel does not know"},
	}
}

// encapMax is NF_FLOW_TABLE_ENCAP_MAX: the flowtable records at most two
// vlan/pppoe headers; with more the kernel keeps the upper device.
const encapMax = 2

// FlowtableDevice is one device of a computed flowtable device list.
type FlowtableDevice struct {
	Name  string `json:"name"`
	Index int    `json:"index"`
	Kind  string `json:"kind"`
	// For lists the forwarding interfaces this device serves.
	For []string `json:"for"`
	// Reasons say why the device is in the list, one per interface in For.
	Reasons []string `json:"reasons"`
}

// DeviceResolution is the device list a flowtable needs, with the reasons.
type DeviceResolution struct {
	Kernel      model.KernelVersion `json:"-"`
	Devices     []FlowtableDevice   `json:"devices"`
	Diagnostics []Diagnostic        `json:"-"`
}

// Names returns the device names in order.
func (r DeviceResolution) Names() []string {
	out := make([]string, len(r.Devices))
	for i, d := range r.Devices {
		out[i] = d.Name
	}
	return out
}

// DevicesLine returns `devices = { a, b }`, the line to paste into a
// flowtable declaration.
func DevicesLine(names []string) string {
	return "devices = { " + strings.Join(names, ", ") + " }"
}

// hop is one resolved device and why.
type hop struct {
	link   model.Link
	reason string
}

// resolver walks devices the way the kernel's flowtable forward path
// (nft_dev_forward_path -> dev_fill_forward_path) does, as far as this
// kernel's drivers implement ndo_fill_forward_path.
type resolver struct {
	topo  model.Topology
	f     model.Features
	diags []Diagnostic
}

func (r *resolver) diag(code string, sev Severity, pos model.Pos, format string, args ...any) {
	r.diags = append(r.diags, Diagnostic{Code: code, Severity: sev, Pos: pos, Message: fmt.Sprintf(format, args...)})
}

// ResolveFlowtableDevices computes the devices a flowtable must list so that
// forwarding between ifaces is accelerated in both directions on a kernel
// with features f. A flow's packets are caught on the device the kernel's
// forward path ends at, so each interface is replaced by that device:
//
//   - ipip (>= 6.19) and ip6tnl (>= 7.0) tunnels by their underlay device,
//     the output device of the route to the tunnel's remote; older kernels,
//     tunnels with no fixed remote or with FOU/GUE encapsulation, and
//     ip6tnl without `encaplimit none`, keep the tunnel device;
//   - gre, sit and other tunnels stay: no forward path through them;
//   - vlan devices by their real device, bridges by their ports, ppp by its
//     lower device when known (>= 5.13, dev_fill_forward_path);
//   - everything else (physical, veth, bond, macvlan, wireguard, dsa ports)
//     stays as is.
//
// The result depends only on its arguments.
func ResolveFlowtableDevices(topo model.Topology, f model.Features, ifaces []string) DeviceResolution {
	r := &resolver{topo: topo, f: f}
	res := DeviceResolution{Kernel: f.Version}
	byName := map[string]int{}
	for _, name := range ifaces {
		l, ok := topo.LinkByName(name)
		if !ok {
			r.diag(CodeFlowtableNoSuchDev, SeverityError, model.Pos{}, "no device named %q", name)
			continue
		}
		if l.Loopback {
			r.diag(CodeFlowtableNoSuchDev, SeverityWarning, model.Pos{}, "%s is the loopback device: nothing is forwarded through it, left out", name)
			continue
		}
		for _, h := range r.walk(l, 0, 0) {
			i, seen := byName[h.link.Name]
			if !seen {
				i = len(res.Devices)
				byName[h.link.Name] = i
				res.Devices = append(res.Devices, FlowtableDevice{Name: h.link.Name, Index: h.link.Index, Kind: h.link.Kind})
			}
			d := &res.Devices[i]
			d.For = append(d.For, name)
			d.Reasons = append(d.Reasons, h.reason)
		}
	}
	for _, d := range res.Devices {
		if l, ok := topo.LinkByIndex(d.Index); ok && !l.IsUp() {
			r.diag(CodeFlowtableDevDown, SeverityWarning, model.Pos{}, "%s is down: no flow is offloaded through it until it comes up", d.Name)
		}
	}
	res.Diagnostics = r.diags
	return res
}

// walk returns the devices the kernel's forward path ends at for l.
// encaps counts vlan/pppoe headers on the way down.
func (r *resolver) walk(l model.Link, depth, encaps int) []hop {
	if depth > 8 {
		return []hop{{l, fmt.Sprintf("%s: device stack too deep to follow, kept as is", l.Name)}}
	}
	k := r.f.Version
	switch l.Kind {
	case model.LinkKindIPIP, model.LinkKindIP6Tnl:
		return r.walkTunnel(l, depth, encaps)
	case model.LinkKindGRE, model.LinkKindGRETap, model.LinkKindIP6GRE, model.LinkKindSIT, "ip6gretap", "vti", "vti6", "erspan", "ip6erspan":
		return []hop{{l, fmt.Sprintf("%s: %s tunnel; the flowtable has no forward path through %s tunnels, so the tunnel device itself catches the flows", l.Name, l.Kind, l.Kind)}}
	case model.LinkKindVLAN:
		if !r.f.ForwardPath {
			return []hop{{l, fmt.Sprintf("%s: vlan device; Linux %s does not walk vlan devices down to the real device (needs >= 5.13)", l.Name, k)}}
		}
		lower, ok := r.topo.LinkByIndex(l.Lower)
		if !ok || l.LowerOtherNS {
			return []hop{{l, fmt.Sprintf("%s: vlan device whose real device is not visible here, kept as is", l.Name)}}
		}
		if encaps+1 > encapMax {
			return []hop{{l, fmt.Sprintf("%s: vlan device with more than %d vlan/pppoe headers below the IP layer; the kernel falls back to the upper device", l.Name, encapMax)}}
		}
		return r.prefix(r.walk(lower, depth+1, encaps+1), fmt.Sprintf("real device of vlan %s (id %d)", l.Name, l.VLANID))
	case model.LinkKindBridge:
		if !r.f.ForwardPath {
			return []hop{{l, fmt.Sprintf("%s: bridge; Linux %s does not walk bridges down to their ports (needs >= 5.13)", l.Name, k)}}
		}
		var out []hop
		for _, p := range r.ports(l) {
			out = append(out, r.prefix(r.walk(p, depth+1, encaps), "port of bridge "+l.Name)...)
		}
		if len(out) == 0 {
			return []hop{{l, fmt.Sprintf("%s: bridge without ports, kept as is", l.Name)}}
		}
		return out
	case model.LinkKindPPP, model.LinkKindPPPoE:
		if !r.f.ForwardPath {
			return []hop{{l, fmt.Sprintf("%s: ppp device; Linux %s has no pppoe forward path (needs >= 5.13)", l.Name, k)}}
		}
		lower, ok := r.topo.LinkByIndex(l.Lower)
		if !ok || l.LowerOtherNS {
			r.diag(CodeFlowtableUpperDev, SeverityInfo, model.Pos{}, "%s: rtnetlink does not say which ethernet device its PPPoE session runs over; add that device to the flowtable too, so the kernel can bypass the ppp device", l.Name)
			return []hop{{l, fmt.Sprintf("%s: ppp device; its PPPoE lower device is unknown, so the ppp device itself is listed (flows still offload, through the ppp device)", l.Name)}}
		}
		if encaps+1 > encapMax {
			return []hop{{l, fmt.Sprintf("%s: ppp device with more than %d vlan/pppoe headers below the IP layer; the kernel falls back to the upper device", l.Name, encapMax)}}
		}
		return r.prefix(r.walk(lower, depth+1, encaps+1), "lower device of pppoe "+l.Name)
	}
	what := "a real device"
	switch l.Kind {
	case model.LinkKindPhysical:
	case model.LinkKindDSA:
		what = "a dsa switch port (the forward path stops at the port)"
	default:
		what = "a " + l.Kind + " device, where the forward path ends"
	}
	return []hop{{l, fmt.Sprintf("%s: %s", l.Name, what)}}
}

// prefix puts the step from an upper device in front of the reasons of the
// hops found below it: "port of bridge br0 -> eth2: a real device".
func (r *resolver) prefix(hs []hop, via string) []hop {
	for i := range hs {
		hs[i].reason = via + " -> " + hs[i].reason
	}
	return hs
}

// ports returns the bridge's ports in index order.
func (r *resolver) ports(br model.Link) []model.Link {
	var out []model.Link
	for _, l := range r.topo.Links {
		if l.Master == br.Index && l.Index != br.Index {
			out = append(out, l)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Index < out[j].Index })
	return out
}

// walkTunnel resolves an ipip or ip6tnl device.
func (r *resolver) walkTunnel(l model.Link, depth, encaps int) []hop {
	k := r.f.Version
	accel, since := r.f.IPIPAccel, "6.19"
	if l.Kind == model.LinkKindIP6Tnl {
		accel, since = r.f.IP6IP6Accel, "7.0"
	}
	keep := func(why string) []hop {
		return []hop{{l, fmt.Sprintf("%s: %s tunnel; %s, so the tunnel device itself catches the flows", l.Name, l.Kind, why)}}
	}
	if !accel {
		return keep(fmt.Sprintf("Linux %s has no %s flowtable acceleration (needs >= %s)", k, l.Kind, since))
	}
	t := l.Tunnel
	switch {
	case t == nil:
		return keep("its configuration is unknown")
	case t.External:
		return keep("it is flow-based (external), with no fixed remote to route to")
	case !t.Remote.IsValid() || t.Remote.IsUnspecified():
		return keep("it has no fixed remote address (the kernel only accelerates tunnels with one)")
	case t.EncapType != 0:
		return keep("it uses FOU/GUE encapsulation, which the flowtable does not push")
	case l.Kind == model.LinkKindIP6Tnl && t.Flags&model.IP6TnlIgnEncapLimit == 0:
		r.diag(CodeFlowtableTunnelDev, SeverityWarning, model.Pos{}, "%s sends the tunnel encapsulation limit option (the ip6tnl default): the flowtable cannot accelerate it and, measured on Linux 7.2, offloads no flow through it with any device list; recreate it with `encaplimit none` to have it accelerated through its underlay device", l.Name)
		return keep("it sends the encapsulation limit option (create it with `encaplimit none`)")
	}
	out, how := r.underlay(l)
	if out == 0 {
		r.diag(CodeFlowtableTunnelDev, SeverityWarning, model.Pos{}, "%s: no route to its remote %s, so its underlay device is unknown; the tunnel device is listed", l.Name, t.Remote)
		return keep("no route to its remote " + t.Remote.String())
	}
	u, ok := r.topo.LinkByIndex(out)
	if !ok {
		return keep(fmt.Sprintf("the route to its remote leaves through interface index %d, which is not visible here", out))
	}
	if u.Index == l.Index {
		return keep("the route to its remote goes through the tunnel itself")
	}
	via := fmt.Sprintf("underlay of %s tunnel %s (%s); Linux >= %s accelerates %s through the underlay device", l.Kind, l.Name, how, since, l.Kind)
	return r.prefix(r.walk(u, depth+1, encaps), via)
}

// underlay returns the output interface of the route to the tunnel's
// remote: the kernel's own answer when the reader asked (Tunnel.Underlay),
// else a longest-prefix match over the known routes, else the device the
// tunnel is bound to.
func (r *resolver) underlay(l model.Link) (int, string) {
	t := l.Tunnel
	if t.Underlay != nil && t.Underlay.OutIndex != 0 {
		return t.Underlay.OutIndex, fmt.Sprintf("route to %s%s", t.Remote, viaGW(t.Underlay.Gateway))
	}
	if rt, ok := LookupRoute(r.topo.Routes, t.Remote); ok {
		return rt.OutIndex, fmt.Sprintf("route to %s: %s%s", t.Remote, rt.Dst, viaGW(rt.Gateway))
	}
	if t.Link != 0 {
		return t.Link, "the device it is bound to"
	}
	return 0, ""
}

func viaGW(gw netip.Addr) string {
	if gw.IsValid() {
		return " via " + gw.String()
	}
	return ""
}

// LookupRoute is a longest-prefix match of dst over routes in the main
// table (254, or 0 for "unknown"). It is the offline stand-in for asking
// the kernel (RTM_GETROUTE), which also knows policy routing: prefer
// kernel answers when there is a kernel.
func LookupRoute(routes []model.Route, dst netip.Addr) (model.Route, bool) {
	best, found := model.Route{}, false
	for _, rt := range routes {
		if rt.Table != 0 && rt.Table != 254 {
			continue
		}
		if !rt.Dst.IsValid() || rt.Dst.Addr().Is4() != dst.Is4() || !rt.Dst.Contains(dst) || rt.OutIndex == 0 {
			continue
		}
		if !found || rt.Dst.Bits() > best.Dst.Bits() {
			best, found = rt, true
		}
	}
	return best, found
}

// ForwardingInterfaces picks the interfaces `nftflow flowtable devices`
// resolves when none are named: devices that are up, not loopback, not
// enslaved to a bridge or bond (their master forwards), and that have an IP
// address or are the output device of a route. IPv6 link-local addresses
// and routes do not count: every device has them.
func ForwardingInterfaces(topo model.Topology) []string {
	routed := map[int]bool{}
	for _, rt := range topo.Routes {
		if a := rt.Dst.Addr(); a.IsLinkLocalUnicast() || a.IsMulticast() {
			continue
		}
		routed[rt.OutIndex] = true
	}
	var out []string
	for _, l := range topo.Links {
		if l.Loopback || !l.IsUp() || l.Master != 0 {
			continue
		}
		addressed := false
		for _, a := range l.Addrs {
			if !a.Addr().IsLinkLocalUnicast() {
				addressed = true
			}
		}
		if addressed || routed[l.Index] {
			out = append(out, l.Name)
		}
	}
	return out
}
