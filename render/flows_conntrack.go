package render

import (
	"net/netip"
	"strconv"
	"time"

	"github.com/nftflow/nftflow/model"
)

// AppendConntrack appends f to b as one line of `conntrack -L` output,
// without the newline. event is "" for a table listing, or "NEW", "UPDATE"
// or "DESTROY" for a `conntrack -E` event line. now is used for
// delta-time= of flows carrying a start timestamp. The layout follows
// libnetfilter_conntrack's default format: fields are printed only when the
// kernel sent them, and one status tag is shown after the reply tuple, in
// the order HW_OFFLOAD, else OFFLOAD, else ASSURED.
func AppendConntrack(b []byte, event string, f *model.Flow, now time.Time) []byte {
	if event != "" {
		tag := "[" + event + "]"
		for i := len(tag); i < 9; i++ {
			b = append(b, ' ')
		}
		b = append(b, tag...)
		b = append(b, ' ')
	}
	name := model.ProtoName(f.Orig.Proto)
	b = append(b, name...)
	for i := len(name); i < 8; i++ {
		b = append(b, ' ')
	}
	b = append(b, ' ')
	b = strconv.AppendUint(b, uint64(f.Orig.Proto), 10)
	b = append(b, ' ')
	if f.Timeout != nil {
		b = strconv.AppendUint(b, uint64(*f.Timeout), 10)
		b = append(b, ' ')
	}
	if s := f.StateName(); s != "" {
		b = append(b, s...)
		b = append(b, ' ')
	}
	b = appendCtTuple(b, f.Family, &f.Orig, "zone-orig=")
	if f.Counters != nil {
		b = appendCtCounters(b, f.Counters.OrigPackets, f.Counters.OrigBytes)
	}
	if !f.Status.SeenReply() {
		b = append(b, "[UNREPLIED] "...)
	}
	b = appendCtTuple(b, f.Family, &f.Reply, "zone-reply=")
	if f.Counters != nil {
		b = appendCtCounters(b, f.Counters.ReplyPackets, f.Counters.ReplyBytes)
	}
	switch {
	case f.Status.HWOffloaded():
		b = append(b, "[HW_OFFLOAD] "...)
	case f.Status&model.StatusOffload != 0:
		b = append(b, "[OFFLOAD] "...)
	case f.Status.Assured():
		b = append(b, "[ASSURED] "...)
	}
	if f.Mark != nil {
		b = append(b, "mark="...)
		b = strconv.AppendUint(b, uint64(*f.Mark), 10)
		b = append(b, ' ')
	}
	if f.SecCtx != "" {
		b = append(b, "secctx="...)
		b = append(b, f.SecCtx...)
		b = append(b, ' ')
	}
	if f.Zone != nil {
		b = append(b, "zone="...)
		b = strconv.AppendUint(b, uint64(*f.Zone), 10)
		b = append(b, ' ')
	}
	if f.Start != nil {
		stop := now.Unix()
		if f.Stop != nil && *f.Stop != 0 {
			stop = int64(*f.Stop / uint64(time.Second))
		}
		b = append(b, "delta-time="...)
		b = strconv.AppendUint(b, uint64(stop-int64(*f.Start/uint64(time.Second))), 10)
		b = append(b, ' ')
	}
	if f.Helper != "" {
		b = append(b, "helper="...)
		b = append(b, f.Helper...)
		b = append(b, ' ')
	}
	if f.Use != nil {
		b = append(b, "use="...)
		b = strconv.AppendUint(b, uint64(*f.Use), 10)
		b = append(b, ' ')
	}
	// Drop the trailing blank, as libnetfilter_conntrack does.
	if len(b) > 0 && b[len(b)-1] == ' ' {
		b = b[:len(b)-1]
	}
	return b
}

func appendCtTuple(b []byte, fam model.Family, t *model.FlowTuple, zoneTag string) []byte {
	if fam == model.FamilyIP || fam == model.FamilyIP6 {
		b = append(b, "src="...)
		b = appendCtAddr(b, t.Src)
		b = append(b, " dst="...)
		b = appendCtAddr(b, t.Dst)
		b = append(b, ' ')
	}
	switch {
	case t.HasPorts():
		b = append(b, "sport="...)
		b = strconv.AppendUint(b, uint64(t.SrcPort), 10)
		b = append(b, " dport="...)
		b = strconv.AppendUint(b, uint64(t.DstPort), 10)
		b = append(b, ' ')
	case t.Proto == model.ProtoGRE:
		b = append(b, "srckey=0x"...)
		b = strconv.AppendUint(b, uint64(t.SrcPort), 16)
		b = append(b, " dstkey=0x"...)
		b = strconv.AppendUint(b, uint64(t.DstPort), 16)
		b = append(b, ' ')
	case t.IsICMP():
		b = append(b, "type="...)
		b = strconv.AppendUint(b, uint64(t.ICMPType), 10)
		b = append(b, " code="...)
		b = strconv.AppendUint(b, uint64(t.ICMPCode), 10)
		b = append(b, " id="...)
		b = strconv.AppendUint(b, uint64(t.ICMPID), 10)
		b = append(b, ' ')
	}
	if t.Zone != nil {
		b = append(b, zoneTag...)
		b = strconv.AppendUint(b, uint64(*t.Zone), 10)
		b = append(b, ' ')
	}
	return b
}

func appendCtCounters(b []byte, packets, bytes uint64) []byte {
	b = append(b, "packets="...)
	b = strconv.AppendUint(b, packets, 10)
	b = append(b, " bytes="...)
	b = strconv.AppendUint(b, bytes, 10)
	return append(b, ' ')
}

// appendCtAddr writes an address the way inet_ntoa and glibc's inet_ntop
// do. They differ from netip only for IPv4-compatible IPv6 addresses
// (::a.b.c.d), which glibc writes with a dotted tail.
func appendCtAddr(b []byte, a netip.Addr) []byte {
	if !a.IsValid() {
		return append(b, "0.0.0.0"...)
	}
	if a.Is6() && !a.Is4In6() {
		s := a.As16()
		compat := s[12] != 0 || s[13] != 0
		for _, x := range s[:12] {
			if x != 0 {
				compat = false
				break
			}
		}
		if compat {
			b = append(b, "::"...)
			return netip.AddrFrom4([4]byte(s[12:])).AppendTo(b)
		}
	}
	return a.AppendTo(b)
}
