package compiler

import (
	"fmt"
	"strings"

	"github.com/nftflow/nftflow/model"
)

// FlowtableDecl is a flowtable declaration as the topology checks need it:
// plain data, so the checks do not depend on the parser's AST.
type FlowtableDecl struct {
	Name      string
	Pos       model.Pos
	Devices   []DeviceDecl
	HWOffload bool      // flags offload
	FlagsPos  model.Pos // position of the flags statement, when known
	Counter   bool
}

// DeviceDecl is one name in a flowtable's devices list.
type DeviceDecl struct {
	Name string
	Pos  model.Pos
}

// FlowtableDeclFromModel adapts a compiled flowtable; every device gets the
// flowtable's position.
func FlowtableDeclFromModel(ft model.Flowtable) FlowtableDecl {
	d := FlowtableDecl{
		Name:      ft.Name,
		Pos:       ft.Pos,
		HWOffload: ft.Flags&model.FlowtableHWOffload != 0,
		Counter:   ft.Flags&model.FlowtableCounter != 0,
		FlagsPos:  ft.Pos,
	}
	for _, n := range ft.Devices {
		d.Devices = append(d.Devices, DeviceDecl{Name: n, Pos: ft.Pos})
	}
	return d
}

// CheckFlowtableDevices checks a flowtable's devices against the system's
// devices and routes and the kernel's features: devices that do not exist
// or are down, a tunnel listed where this kernel wants its underlay (and
// the reverse on kernels without tunnel acceleration), virtual devices the
// kernel would bypass, and `flags offload` on devices that cannot offload.
// Diagnostics that a different device list fixes carry the corrected
// `devices = { ... }` line as Suggestion.
func CheckFlowtableDevices(ft FlowtableDecl, topo model.Topology, f model.Features) []Diagnostic {
	var diags []Diagnostic
	var fixes []int // diagnostics a corrected device list fixes
	add := func(code string, sev Severity, pos model.Pos, fix bool, format string, args ...any) {
		if fix {
			fixes = append(fixes, len(diags))
		}
		diags = append(diags, Diagnostic{Code: code, Severity: sev, Pos: pos, Message: fmt.Sprintf(format, args...)})
	}
	k := f.Version
	if !f.Flowtables {
		add(CodeFlowtableUnsupported, SeverityError, ft.Pos, false,
			"flowtable %s: this kernel (%s) cannot create flowtables (CONFIG_NF_FLOW_TABLE unset or module nf_flow_table_inet missing); loading fails with ENOENT", ft.Name, kernelName(f))
	}
	if ft.HWOffload && !f.HWOffloadFlag && !k.IsZero() {
		add(CodeFlowtableKernelFlag, SeverityError, ft.FlagsPos, false, "flowtable %s: flags offload needs Linux >= 5.5 (this is %s)", ft.Name, k)
	}
	if ft.Counter && !f.FlowtableCounter && !k.IsZero() {
		add(CodeFlowtableKernelFlag, SeverityError, ft.Pos, false, "flowtable %s: the flowtable counter needs Linux >= 5.7 (this is %s)", ft.Name, k)
	}

	warnedEncap := map[string]bool{}
	listed := map[string]bool{}
	for _, d := range ft.Devices {
		listed[d.Name] = true
	}
	r := &resolver{topo: topo, f: f}
	var fixed []string
	seen := map[string]bool{}
	push := func(names ...string) {
		for _, n := range names {
			if !seen[n] {
				seen[n] = true
				fixed = append(fixed, n)
			}
		}
	}
	for _, d := range ft.Devices {
		l, ok := topo.LinkByName(d.Name)
		if !ok {
			if f.MissingDevicesOK {
				add(CodeFlowtableNoSuchDev, SeverityWarning, d.Pos, false,
					"device %s does not exist: Linux %s accepts it and hooks it when it appears, but until then nothing is offloaded through it", d.Name, k)
				push(d.Name)
			} else {
				add(CodeFlowtableNoSuchDev, SeverityError, d.Pos, true,
					"device %s does not exist: the kernel refuses the flowtable (ENOENT, \"No such file or directory\") and the whole ruleset with it", d.Name)
			}
			continue
		}
		if !l.IsUp() {
			add(CodeFlowtableDevDown, SeverityWarning, d.Pos, false, "device %s is down: nothing is offloaded through it until it comes up", d.Name)
		}
		if ft.HWOffload {
			checkHW(l, d, add)
		}
		hops := r.walk(l, 0, 0)
		names := hopNames(hops)
		switch {
		case (l.Kind == model.LinkKindIPIP || l.Kind == model.LinkKindIP6Tnl) && !sameNames(names, []string{l.Name}):
			effect := "flows through it are not offloaded at all"
			if !f.StrictForwardPath {
				effect = "listing " + l.Name + " gets at most the plain fallback path, not the tunnel acceleration"
			}
			add(CodeFlowtableTunnelDev, SeverityWarning, d.Pos, true,
				"%s is an %s tunnel: Linux %s accelerates it through its underlay device %s, so %s; list %s instead",
				l.Name, l.Kind, k, strings.Join(names, ", "), effect, strings.Join(names, ", "))
			push(names...)
		case (l.Kind == model.LinkKindVLAN || l.Kind == model.LinkKindBridge || l.Kind == model.LinkKindPPP || l.Kind == model.LinkKindPPPoE) && !sameNames(names, []string{l.Name}):
			missing := false
			for _, n := range names {
				if !listed[n] {
					missing = true
				}
			}
			if missing && f.StrictForwardPath {
				add(CodeFlowtableUpperDev, SeverityWarning, d.Pos, true,
					"%s is a %s device: the kernel's forward path goes down to %s, and Linux %s offloads no flow whose path ends on a device the flowtable does not list; list %s",
					l.Name, l.Kind, strings.Join(names, ", "), k, strings.Join(names, ", "))
				push(names...)
			} else if missing {
				add(CodeFlowtableUpperDev, SeverityInfo, d.Pos, true,
					"%s is a %s device: the kernel's forward path goes down to %s; listing %s lets flows skip %s entirely (as listed they are offloaded through %s, more slowly)",
					l.Name, l.Kind, strings.Join(names, ", "), strings.Join(names, ", "), l.Name, l.Name)
				push(names...)
			} else {
				push(l.Name)
			}
		default:
			push(l.Name)
		}
		// An ip6tnl device with the encapsulation limit option, listed
		// itself or through its underlay: no list gets it offloaded.
		for _, t := range encapLimited(topo, r, l) {
			if warnedEncap[t.Name] {
				continue
			}
			warnedEncap[t.Name] = true
			add(CodeFlowtableTunnelDev, SeverityWarning, d.Pos, false,
				"%s is an ip6tnl tunnel with the encapsulation limit option (the default): Linux %s cannot accelerate it, and measured on 7.2 no device list gets its flows offloaded; recreate it with `encaplimit none` and list its underlay device",
				t.Name, k)
		}
		// The reverse: an underlay listed, its tunnel not, on a kernel that
		// only accelerates the tunnel when the tunnel device is listed.
		for _, t := range tunnelsOver(topo, r, l) {
			if listed[t.Name] {
				continue
			}
			add(CodeFlowtableUnderlayDev, SeverityWarning, d.Pos, true,
				"%s carries %s tunnel %s, which is not listed: Linux %s does not accelerate %s through %s (needs >= %s), so replies coming out of the tunnel stay on the slow path; add %s",
				l.Name, t.Kind, t.Name, k, t.Kind, l.Name, accelSince(t.Kind), t.Name)
			push(t.Name)
		}
	}
	line := DevicesLine(fixed)
	for _, i := range fixes {
		diags[i].Suggestion = line
	}
	return diags
}

// checkHW reports devices that cannot take `flags offload`: the kernel
// calls the driver's ndo_setup_tc(TC_SETUP_FT) for every device and fails
// the flowtable with EOPNOTSUPP when one lacks it.
func checkHW(l model.Link, d DeviceDecl, add func(string, Severity, model.Pos, bool, string, ...any)) {
	switch {
	case l.IsTunnel():
		add(CodeFlowtableHWTunnel, SeverityError, d.Pos, false,
			"flags offload: %s is a %s tunnel; hardware offload of tunnels is not supported and the kernel refuses the flowtable (EOPNOTSUPP); drop `flags offload` (software offload still works)", l.Name, l.Kind)
	case l.Kind != model.LinkKindPhysical && l.Kind != model.LinkKindDSA || l.Loopback:
		kind := l.Kind
		if l.Loopback {
			kind = "loopback"
		}
		add(CodeFlowtableHWTunnel, SeverityError, d.Pos, false,
			"flags offload: %s is a %s device with no hardware flow offload; the kernel refuses the flowtable (EOPNOTSUPP); drop `flags offload`", l.Name, kind)
	case l.HWTCOffload == model.CapNo:
		add(CodeFlowtableHWNoCap, SeverityWarning, d.Pos, false,
			"flags offload: %s does not have the hw-tc-offload feature (ethtool -k %s); its driver most likely cannot offload flows and the kernel would refuse the flowtable (EOPNOTSUPP)", l.Name, l.Name)
	}
}

// tunnelsOver returns the ipip/ip6tnl tunnels whose underlay is l, when
// this kernel does not accelerate them (so the tunnel device is needed).
func tunnelsOver(topo model.Topology, r *resolver, l model.Link) []model.Link {
	var out []model.Link
	for _, t := range topo.Links {
		if t.Kind != model.LinkKindIPIP && t.Kind != model.LinkKindIP6Tnl || t.Tunnel == nil || !t.IsUp() {
			continue
		}
		accel := r.f.IPIPAccel
		if t.Kind == model.LinkKindIP6Tnl {
			accel = r.f.IP6IP6Accel
		}
		if accel {
			continue
		}
		if !t.Tunnel.Remote.IsValid() || t.Tunnel.Remote.IsUnspecified() {
			continue
		}
		out1, _ := r.underlay(t)
		if out1 == l.Index {
			out = append(out, t)
		}
	}
	return out
}

// encapLimited returns the ip6tnl tunnels with the encapsulation limit
// option that l is, or is the underlay of, on a kernel with ip6tnl
// acceleration.
func encapLimited(topo model.Topology, r *resolver, l model.Link) []model.Link {
	if !r.f.IP6IP6Accel {
		return nil
	}
	var out []model.Link
	for _, t := range topo.Links {
		if t.Kind != model.LinkKindIP6Tnl || t.Tunnel == nil || t.Tunnel.Flags&model.IP6TnlIgnEncapLimit != 0 || !t.IsUp() {
			continue
		}
		if t.Index == l.Index {
			out = append(out, t)
			continue
		}
		if !t.Tunnel.Remote.IsValid() || t.Tunnel.Remote.IsUnspecified() {
			continue
		}
		if u, _ := r.underlay(t); u == l.Index {
			out = append(out, t)
		}
	}
	return out
}

func accelSince(kind string) string {
	if kind == model.LinkKindIP6Tnl {
		return "7.0"
	}
	return "6.19"
}

func kernelName(f model.Features) string {
	if f.Release != "" {
		return f.Release
	}
	if f.Version.IsZero() {
		return "unknown"
	}
	return f.Version.String()
}

func hopNames(hs []hop) []string {
	var out []string
	seen := map[string]bool{}
	for _, h := range hs {
		if !seen[h.link.Name] {
			seen[h.link.Name] = true
			out = append(out, h.link.Name)
		}
	}
	return out
}

func sameNames(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
