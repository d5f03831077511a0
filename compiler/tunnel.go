package compiler

import (
	"fmt"

	"github.com/nftflow/nftflow/model"
)

// Tunnel is an encapsulation nft can look inside ("gre ip saddr",
// "udp dport 4789 vxlan ip saddr").
type Tunnel struct {
	Name    string
	Type    uint32 // NFT_INNER_VXLAN, GENEVE, GRE, GRETAP
	HdrSize uint32
	Flags   uint32 // NFT_INNER_HDRSIZE | LL | NH | TH
	// Header is the tunnel's own header, matched in the outer packet
	// (gre) or through the inner expression's tunnel base (vxlan, geneve).
	Header *Proto
	// Outer is the IP protocol that carries the tunnel (gre: 47); 0 when
	// the user must match the UDP port.
	Outer uint32
}

var tunnels = []Tunnel{
	{Name: "vxlan", Type: 1, HdrSize: 8, Flags: 0xf, Header: &Proto{Name: "vxlan", Layer: 4, Fields: []Field{
		f("flags", 0, 8, "integer"), f("vni", 32, 24, "integer")}}},
	{Name: "geneve", Type: 2, HdrSize: 8, Flags: 0xf, Header: &Proto{Name: "geneve", Layer: 4, Fields: []Field{
		f("version", 0, 2, "integer"), f("opt-len", 2, 6, "integer"), f("o-flag", 8, 1, "integer"),
		f("c-flag", 9, 1, "integer"), f("type", 16, 16, "ether_type"), f("vni", 32, 24, "integer")}}},
	{Name: "gre", Type: 3, HdrSize: 4, Flags: 0xc, Outer: 47, Header: &Proto{Name: "gre", Layer: LayerTransport, Number: 47, Fields: []Field{
		f("flags", 0, 5, "integer"), f("version", 13, 3, "integer"), f("protocol", 16, 16, "ether_type")}}},
	{Name: "gretap", Type: 4, HdrSize: 4, Flags: 0xe, Outer: 47, Header: &Proto{Name: "gre", Layer: LayerTransport, Number: 47, Fields: []Field{
		f("flags", 0, 5, "integer"), f("version", 13, 3, "integer"), f("protocol", 16, 16, "ether_type")}}},
}

// TunnelByName returns the tunnel called name, or nil.
func TunnelByName(name string) *Tunnel {
	for i := range tunnels {
		if tunnels[i].Name == name {
			return &tunnels[i]
		}
	}
	return nil
}

// tunnelSel evaluates "TUNNEL FIELD" or "TUNNEL INNER-SELECTOR".
func (r *ruleCtx) tunnelSel(tun *Tunnel, path []string) (*load, error) {
	if len(path) == 0 {
		return nil, fmt.Errorf("%s: missing field", tun.Name)
	}
	outerDep := func(r *ruleCtx) error {
		if tun.Outer != 0 && r.th != "gre" {
			r.metaCmp(16, []byte{byte(tun.Outer)})
			r.th = "gre"
		}
		return nil
	}
	wrap := func(e model.Expr) model.Expr {
		return &model.Inner{Type: tun.Type, HdrSize: tun.HdrSize, Flags: tun.Flags, Expr: e}
	}
	if len(path) == 1 {
		if fd := tun.Header.Field(path[0]); fd != nil {
			l := r.payloadSel(tun.Header, fd)
			l.deps = outerDep
			if tun.Header.Layer == 4 {
				inner := l.emit
				l.emit = func(reg uint32) []model.Expr {
					es := inner(reg)
					for i, e := range es {
						es[i] = wrap(e)
					}
					return es
				}
			}
			return l, nil
		}
	}
	if r.inner == nil {
		r.inner = map[string]*ruleCtx{}
	}
	sub := r.inner[tun.Name]
	if sub == nil {
		sub = &ruleCtx{c: r.c, t: r.t, family: model.FamilyNetdev, ll: "ether", innerLL: tun.Flags&2 != 0}
		r.inner[tun.Name] = sub
	}
	l, err := sub.selector(path)
	if err != nil {
		return nil, err
	}
	innerEmit, innerDeps := l.emit, l.deps
	l.emit = func(reg uint32) []model.Expr {
		es := innerEmit(reg)
		for i, e := range es {
			es[i] = wrap(e)
		}
		return es
	}
	l.deps = func(r *ruleCtx) error {
		if err := outerDep(r); err != nil {
			return err
		}
		if innerDeps == nil {
			return nil
		}
		sub.exprs, sub.pos = nil, nil
		if err := innerDeps(sub); err != nil {
			return err
		}
		for _, e := range sub.exprs {
			switch e.(type) {
			case *model.Payload, *model.Meta:
				e = wrap(e)
			}
			r.add(e)
		}
		r.sets = append(r.sets, sub.sets...)
		sub.sets = nil
		return nil
	}
	return l, nil
}
