package compiler

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/nftflow/nftflow/model"
)

// Flow directions as FlowSlowPath.Direction names them.
const (
	DirOriginal = "original"
	DirReply    = "reply"
)

// FlowSlowPath is one direction of an offloaded flow whose packets arrive
// on a device no flowtable of the ruleset hooks: conntrack marks the flow
// [OFFLOAD], yet every packet of that direction takes the slow path.
type FlowSlowPath struct {
	// Direction is DirOriginal or DirReply.
	Direction string `json:"direction"`
	// Via is the interface the direction's packets come in by: the output
	// interface of the route to the direction's source.
	Via string `json:"via"`
	// Device is the device the flowtable has to list for this kernel to
	// catch those packets (the first of Devices).
	Device string `json:"device"`
	// Devices are all the devices that would catch them (several for a
	// bridge's ports, or the tunnel and its underlay on kernels that fall
	// back to the routed device).
	Devices []string `json:"devices"`
	// Short is the table's note: "reply enters via tun0, needs eth1".
	Short string `json:"-"`
	// Reason is the whole explanation, naming the kernel and the
	// flowtables' device lists.
	Reason string `json:"reason"`
}

// FlowPathChecker decides, for offloaded flows, which directions the
// ruleset's flowtables cannot catch on this kernel. It remembers the
// answer per source address, so checking many flows between the same
// hosts costs one route lookup each. Its answers depend only on the
// topology, features and flowtables it was made with.
type FlowPathChecker struct {
	topo  model.Topology
	feat  model.Features
	fts   []model.Flowtable
	cache map[netip.Addr]dirPath
}

// dirPath is the cached answer for one source address.
type dirPath struct {
	known   bool     // a route and a flowtable of the family were found
	via     string   // routed interface
	viaDesc string   // "tun0 (ipip over eth1)"
	need    []string // devices that would catch the packets
	caught  bool     // one of need is in a flowtable of the family
	lists   string   // "flowtable inet filter ft lists eth0, tun0"
}

// NewFlowPathChecker returns a checker for the namespace described by topo,
// on a kernel with features f, whose ruleset has the flowtables fts.
func NewFlowPathChecker(topo model.Topology, f model.Features, fts []model.Flowtable) *FlowPathChecker {
	return &FlowPathChecker{topo: topo, feat: f, fts: fts, cache: map[netip.Addr]dirPath{}}
}

// CheckFlowPath is FlowPathChecker.Check for a single flow.
func CheckFlowPath(origSrc, replySrc netip.Addr, topo model.Topology, f model.Features, fts []model.Flowtable) []FlowSlowPath {
	return NewFlowPathChecker(topo, f, fts).Check(origSrc, replySrc)
}

// Check returns the directions of a flow, given its original source and
// its reply source (after NAT, the reply tuple's source), whose packets
// enter on a device that no flowtable of the flow's family lists, where
// this kernel's flowtable hook would need it. Packets of a direction come
// in by the interface the route to that direction's source goes out of;
// the flowtable catches them on the device the kernel's forward path walks
// that interface down to (ResolveFlowtableDevices): an ipip tunnel's
// underlay with IPIP acceleration (>= 6.19), the tunnel itself before; a
// vlan's real device, a bridge's ports. Kernels without the strict forward
// path (< 7.0) also accept the routed interface itself. Directions whose
// source has no route, or whose family has no flowtable, are not reported.
func (c *FlowPathChecker) Check(origSrc, replySrc netip.Addr) []FlowSlowPath {
	var out []FlowSlowPath
	for _, d := range [...]struct {
		dir string
		src netip.Addr
	}{{DirOriginal, origSrc}, {DirReply, replySrc}} {
		p := c.path(d.src)
		if !p.known || p.caught {
			continue
		}
		need := strings.Join(p.need, " or ")
		out = append(out, FlowSlowPath{
			Direction: d.dir,
			Via:       p.via,
			Device:    p.need[0],
			Devices:   slices.Clone(p.need),
			Short:     fmt.Sprintf("%s enters via %s, needs %s", d.dir, p.via, need),
			Reason: fmt.Sprintf("%s enters via %s; Linux %s needs %s in the flowtable devices, %s",
				d.dir, p.viaDesc, kernelVersionName(c.feat), need, p.lists),
		})
	}
	return out
}

// path computes (once per address) where packets from src come in and
// whether a flowtable catches them.
func (c *FlowPathChecker) path(src netip.Addr) dirPath {
	src = src.Unmap()
	if p, ok := c.cache[src]; ok {
		return p
	}
	p := c.computePath(src)
	c.cache[src] = p
	return p
}

func (c *FlowPathChecker) computePath(src netip.Addr) dirPath {
	var p dirPath
	if !src.IsValid() {
		return p
	}
	fts := c.flowtablesFor(src.Is4())
	if len(fts) == 0 {
		return p
	}
	rt, ok := LookupRoute(c.topo.Routes, src)
	if !ok {
		return p
	}
	l, ok := c.topo.LinkByIndex(rt.OutIndex)
	if !ok || l.Loopback {
		return p
	}
	res := ResolveFlowtableDevices(c.topo, c.feat, []string{l.Name})
	need := res.Names()
	if len(need) == 0 {
		return p
	}
	p.known, p.via = true, l.Name
	p.viaDesc = describeVia(l, need)
	if !c.feat.StrictForwardPath && !slices.Contains(need, l.Name) {
		// Older kernels fall back to the routed device when the forward
		// path's end is not in the flowtable.
		need = append(need, l.Name)
	}
	p.need = need
	for _, ft := range fts {
		for _, d := range ft.Devices {
			if slices.Contains(need, d) {
				p.caught = true
			}
		}
	}
	p.lists = describeFlowtables(fts)
	return p
}

// flowtablesFor returns the flowtables that see IPv4 (v4) or IPv6 flows:
// those of inet tables and of ip or ip6 tables.
func (c *FlowPathChecker) flowtablesFor(v4 bool) []model.Flowtable {
	var out []model.Flowtable
	for _, ft := range c.fts {
		switch {
		case ft.Family == model.FamilyInet,
			ft.Family == model.FamilyIP && v4,
			ft.Family == model.FamilyIP6 && !v4:
			out = append(out, ft)
		}
	}
	return out
}

// describeVia names the routed interface and, when the flowtable needs
// another device for it, what that device is to it.
func describeVia(l model.Link, need []string) string {
	if len(need) == 1 && need[0] == l.Name {
		return l.Name
	}
	below := strings.Join(need, ", ")
	switch l.Kind {
	case model.LinkKindBridge:
		return fmt.Sprintf("%s (bridge, ports %s)", l.Name, below)
	case model.LinkKindVLAN:
		return fmt.Sprintf("%s (vlan on %s)", l.Name, below)
	case model.LinkKindPPP, model.LinkKindPPPoE:
		return fmt.Sprintf("%s (pppoe on %s)", l.Name, below)
	case "":
		return fmt.Sprintf("%s (over %s)", l.Name, below)
	}
	return fmt.Sprintf("%s (%s over %s)", l.Name, l.Kind, below)
}

// describeFlowtables says which devices the flowtables list:
// "flowtable inet filter ft lists eth0, tun0", or for several
// "flowtables list: inet filter ft (eth0, tun0), ip nat ft2 (eth2)".
func describeFlowtables(fts []model.Flowtable) string {
	name := func(ft model.Flowtable) string {
		return ft.Family.String() + " " + ft.Table + " " + ft.Name
	}
	devs := func(ft model.Flowtable) string {
		if len(ft.Devices) == 0 {
			return "no device"
		}
		return strings.Join(ft.Devices, ", ")
	}
	if len(fts) == 1 {
		return "flowtable " + name(fts[0]) + " lists " + devs(fts[0])
	}
	parts := make([]string, len(fts))
	for i, ft := range fts {
		parts[i] = name(ft) + " (" + devs(ft) + ")"
	}
	return "flowtables list: " + strings.Join(parts, ", ")
}

// kernelVersionName is the version for messages ("7.2"), or "(unknown)".
func kernelVersionName(f model.Features) string {
	if f.Version.IsZero() {
		return "(unknown version)"
	}
	return f.Version.String()
}
