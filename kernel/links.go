package kernel

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"

	"github.com/jsimonetti/rtnetlink/v2"
	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"

	"github.com/nftflow/nftflow/model"
)

// Tunnel attributes (uapi linux/if_tunnel.h); golang.org/x/sys/unix does
// not define them.
const (
	iflaIPTunLink            = 1
	iflaIPTunLocal           = 2
	iflaIPTunRemote          = 3
	iflaIPTunFlags           = 8
	iflaIPTunProto           = 9
	iflaIPTunEncapType       = 15
	iflaIPTunCollectMetadata = 19

	iflaGRELink            = 1
	iflaGRELocal           = 6
	iflaGRERemote          = 7
	iflaGRECollectMetadata = 18

	rtTableLocal = 255 // RT_TABLE_LOCAL
)

// TopologyReader reads devices and routes from one network namespace over
// rtnetlink. Close it when done.
type TopologyReader struct {
	c     *rtnetlink.Conn
	netns string
}

// NewTopologyReader opens an rtnetlink socket in the named network
// namespace ("" for the current one; see NetnsPath).
func NewTopologyReader(netns string) (*TopologyReader, error) {
	r, err := newTopologyReader(netns)
	if err != nil {
		return nil, err
	}
	r.netns = netns
	return r, nil
}

func newTopologyReader(netns string) (*TopologyReader, error) {
	ns, err := OpenNetns(netns)
	if err != nil {
		return nil, err
	}
	defer ns.Close() // the socket keeps its namespace
	c, err := rtnetlink.Dial(&netlink.Config{NetNS: ns.FD()})
	if err != nil {
		return nil, fmt.Errorf("dial rtnetlink: %w", err)
	}
	return &TopologyReader{c: c}, nil
}

// Close closes the socket.
func (r *TopologyReader) Close() error { return r.c.Close() }

// ReadTopology reads the links of the namespace (with their addresses and
// tunnel configuration), its routes outside the local table, and asks the
// kernel which route each ip tunnel's outer packets take
// (LinkTunnel.Underlay).
func ReadTopology(netns string) (model.Topology, error) {
	r, err := NewTopologyReader(netns)
	if err != nil {
		return model.Topology{}, err
	}
	defer r.Close()
	return r.Read()
}

// Read reads links, addresses, routes and tunnel underlay routes.
func (r *TopologyReader) Read() (model.Topology, error) {
	links, err := r.Links()
	if err != nil {
		return model.Topology{}, err
	}
	routes, err := r.Routes()
	if err != nil {
		return model.Topology{}, err
	}
	for i := range links {
		t := links[i].Tunnel
		if t == nil || !t.Remote.IsValid() || t.Remote.IsUnspecified() {
			continue
		}
		rt, err := r.RouteGet(t.Remote, t.Link)
		if err == nil {
			t.Underlay = &rt
		}
		// No route (ENETUNREACH, EHOSTUNREACH): Underlay stays nil and
		// the resolver says so.
	}
	for _, l := range links {
		if (l.Kind == model.LinkKindPPP || l.Kind == model.LinkKindPPPoE) && l.Lower == 0 {
			// rtnetlink does not say which device a PPPoE session runs
			// over; /proc/net/pppoe does, when it is unambiguous.
			if text, err := readPPPoESessions(r.netns); err == nil {
				_ = fillPPPoELower(links, strings.NewReader(text))
			}
			break
		}
	}
	return model.Topology{Links: links, Routes: routes}, nil
}

// Links lists the namespace's devices with kind, state, master, lower
// device, vlan id, tunnel configuration and addresses.
func (r *TopologyReader) Links() ([]model.Link, error) {
	msgs, err := r.c.Link.List()
	if err != nil {
		return nil, fmt.Errorf("list links: %w", err)
	}
	links := make([]model.Link, 0, len(msgs))
	byIndex := map[int]int{}
	for _, m := range msgs {
		l := linkFromMessage(m)
		byIndex[l.Index] = len(links)
		links = append(links, l)
	}
	for i := range links {
		// rtnetlink v2.0.2 drops IFLA_LINK_NETNSID: a lower index that is
		// not ours is taken to be in another namespace (a veth peer).
		if links[i].Lower != 0 {
			if _, ok := byIndex[links[i].Lower]; !ok {
				links[i].LowerOtherNS = true
			}
		}
	}
	addrs, err := r.c.Address.List()
	if err != nil {
		return nil, fmt.Errorf("list addresses: %w", err)
	}
	for _, a := range addrs {
		i, ok := byIndex[int(a.Index)]
		if !ok || a.Attributes == nil {
			continue
		}
		ip := a.Attributes.Local
		if ip == nil {
			ip = a.Attributes.Address
		}
		addr, ok := ipAddr(ip)
		if !ok {
			continue
		}
		links[i].Addrs = append(links[i].Addrs, netip.PrefixFrom(addr, int(a.PrefixLength)))
	}
	return links, nil
}

func linkFromMessage(m rtnetlink.LinkMessage) model.Link {
	l := model.Link{
		Index:    int(m.Index),
		AdminUp:  m.Flags&unix.IFF_UP != 0,
		Loopback: m.Flags&unix.IFF_LOOPBACK != 0,
	}
	a := m.Attributes
	if a == nil {
		return l
	}
	l.Name = a.Name
	l.MTU = int(a.MTU)
	// Operationally up: RUNNING, or an operstate of up; tunnels and
	// loopback report "unknown" while they work.
	l.OperUp = m.Flags&unix.IFF_RUNNING != 0 || a.OperationalState == rtnetlink.OperStateUp ||
		(a.OperationalState == rtnetlink.OperStateUnknown && m.Flags&unix.IFF_LOWER_UP != 0)
	if a.Master != nil {
		l.Master = int(*a.Master)
	}
	// rtnetlink v2.0.2 decodes IFLA_LINK into LinkAttributes.Type.
	if a.Type != 0 && a.Type != m.Index {
		l.Lower = int(a.Type)
	}
	if a.Info != nil {
		l.Kind = a.Info.Kind
		l.SlaveKind = a.Info.SlaveKind
		if d, ok := a.Info.Data.(*rtnetlink.LinkData); ok && len(d.Data) > 0 {
			decodeLinkData(&l, d.Data)
		}
	}
	if l.Kind == "" && m.Type == unix.ARPHRD_PPP {
		// pppd's units may come without IFLA_INFO_KIND; the link type says ppp.
		l.Kind = model.LinkKindPPP
	}
	return l
}

// decodeLinkData reads IFLA_INFO_DATA for the kinds the flowtable cares about.
func decodeLinkData(l *model.Link, b []byte) {
	ad, err := netlink.NewAttributeDecoder(b)
	if err != nil {
		return
	}
	switch l.Kind {
	case model.LinkKindVLAN:
		for ad.Next() {
			if ad.Type() == unix.IFLA_VLAN_ID {
				l.VLANID = ad.Uint16()
			}
		}
	case model.LinkKindIPIP, model.LinkKindSIT, model.LinkKindIP6Tnl:
		t := &model.LinkTunnel{}
		for ad.Next() {
			switch ad.Type() {
			case iflaIPTunLink:
				t.Link = int(ad.Uint32())
			case iflaIPTunLocal:
				t.Local, _ = netip.AddrFromSlice(ad.Bytes())
			case iflaIPTunRemote:
				t.Remote, _ = netip.AddrFromSlice(ad.Bytes())
			case iflaIPTunProto:
				t.Proto = ad.Uint8()
			case iflaIPTunFlags:
				if l.Kind == model.LinkKindIP6Tnl {
					t.Flags = ad.Uint32()
				}
			case iflaIPTunEncapType:
				t.EncapType = ad.Uint16()
			case iflaIPTunCollectMetadata:
				t.External = true
			}
		}
		l.Tunnel = t
	case model.LinkKindGRE, model.LinkKindGRETap, model.LinkKindIP6GRE, "ip6gretap", "erspan", "ip6erspan":
		t := &model.LinkTunnel{}
		for ad.Next() {
			switch ad.Type() {
			case iflaGRELink:
				t.Link = int(ad.Uint32())
			case iflaGRELocal:
				t.Local, _ = netip.AddrFromSlice(ad.Bytes())
			case iflaGRERemote:
				t.Remote, _ = netip.AddrFromSlice(ad.Bytes())
			case iflaGRECollectMetadata:
				t.External = true
			}
		}
		l.Tunnel = t
	}
	if l.Tunnel != nil {
		// An unset address comes as zeros: "any".
		l.Tunnel.Local = l.Tunnel.Local.Unmap()
		l.Tunnel.Remote = l.Tunnel.Remote.Unmap()
		if l.Tunnel.Link != 0 && l.Lower == 0 {
			l.Lower = l.Tunnel.Link
		}
	}
}

// Routes lists IPv4 and IPv6 unicast routes of every table but the local one.
func (r *TopologyReader) Routes() ([]model.Route, error) {
	msgs, err := r.c.Route.List()
	if err != nil {
		return nil, fmt.Errorf("list routes: %w", err)
	}
	var out []model.Route
	for _, m := range msgs {
		rt, ok := routeFromMessage(m)
		if !ok || rt.Table == rtTableLocal || m.Type != unix.RTN_UNICAST {
			continue
		}
		out = append(out, rt)
	}
	return out, nil
}

func routeFromMessage(m rtnetlink.RouteMessage) (model.Route, bool) {
	a := m.Attributes
	rt := model.Route{Table: int(m.Table), Type: m.Type, OutIndex: int(a.OutIface)}
	if a.Table != 0 {
		rt.Table = int(a.Table)
	}
	var zero netip.Addr
	switch m.Family {
	case unix.AF_INET:
		zero = netip.IPv4Unspecified()
	case unix.AF_INET6:
		zero = netip.IPv6Unspecified()
	default:
		return rt, false
	}
	dst := zero
	if d, ok := ipAddr(a.Dst); ok {
		dst = d
	}
	rt.Dst = netip.PrefixFrom(dst, int(m.DstLength))
	rt.Gateway, _ = ipAddr(a.Gateway)
	rt.Src, _ = ipAddr(a.Src)
	if rt.OutIndex == 0 && len(a.Multipath) > 0 {
		// ECMP: report the first next hop.
		rt.OutIndex = int(a.Multipath[0].Hop.IfIndex)
		rt.Gateway, _ = ipAddr(a.Multipath[0].Gateway)
	}
	return rt, true
}

// ErrNoRoute is returned by RouteGet when the kernel has no route.
var ErrNoRoute = errors.New("no route")

// RouteGet asks the kernel which route a packet to dst takes, like
// `ip route get DST [oif DEV]`; oif 0 means any output device.
func (r *TopologyReader) RouteGet(dst netip.Addr, oif int) (model.Route, error) {
	req := &rtnetlink.RouteMessage{
		Family:    unix.AF_INET,
		DstLength: 32,
		Attributes: rtnetlink.RouteAttributes{
			Dst:      net.IP(dst.AsSlice()),
			OutIface: uint32(oif),
		},
	}
	if dst.Is6() {
		req.Family, req.DstLength = unix.AF_INET6, 128
	}
	msgs, err := r.c.Route.Get(req)
	if err != nil {
		var oe *netlink.OpError
		if errors.As(err, &oe) && (errors.Is(oe.Err, unix.ENETUNREACH) || errors.Is(oe.Err, unix.EHOSTUNREACH)) {
			return model.Route{}, fmt.Errorf("route get %s: %w", dst, ErrNoRoute)
		}
		return model.Route{}, fmt.Errorf("route get %s: %w", dst, err)
	}
	for _, m := range msgs {
		if rt, ok := routeFromMessage(m); ok && rt.OutIndex != 0 {
			return rt, nil
		}
	}
	return model.Route{}, fmt.Errorf("route get %s: %w", dst, ErrNoRoute)
}

func ipAddr(ip net.IP) (netip.Addr, bool) {
	if ip == nil {
		return netip.Addr{}, false
	}
	a, ok := netip.AddrFromSlice(ip)
	if !ok {
		return a, false
	}
	return a.Unmap(), true
}

// be32 is used by the feature probe's nftables messages.
func be32(v uint32) []byte {
	b := make([]byte, 4)
	binary.BigEndian.PutUint32(b, v)
	return b
}
