package model

import "net/netip"

// FlowStatus is the conntrack status bit set (the kernel's IPS_* bits from
// linux/netfilter/nf_conntrack_common.h).
type FlowStatus uint32

// The conntrack status bits.
const (
	StatusExpected     FlowStatus = 1 << 0  // IPS_EXPECTED: an expected connection
	StatusSeenReply    FlowStatus = 1 << 1  // IPS_SEEN_REPLY: packets seen both ways
	StatusAssured      FlowStatus = 1 << 2  // IPS_ASSURED: never early-dropped
	StatusConfirmed    FlowStatus = 1 << 3  // IPS_CONFIRMED: in the main table
	StatusSrcNAT       FlowStatus = 1 << 4  // IPS_SRC_NAT
	StatusDstNAT       FlowStatus = 1 << 5  // IPS_DST_NAT
	StatusSeqAdjust    FlowStatus = 1 << 6  // IPS_SEQ_ADJUST
	StatusSrcNATDone   FlowStatus = 1 << 7  // IPS_SRC_NAT_DONE
	StatusDstNATDone   FlowStatus = 1 << 8  // IPS_DST_NAT_DONE
	StatusDying        FlowStatus = 1 << 9  // IPS_DYING
	StatusFixedTimeout FlowStatus = 1 << 10 // IPS_FIXED_TIMEOUT
	StatusTemplate     FlowStatus = 1 << 11 // IPS_TEMPLATE
	StatusUntracked    FlowStatus = 1 << 12 // IPS_UNTRACKED
	StatusHelper       FlowStatus = 1 << 13 // IPS_HELPER
	StatusOffload      FlowStatus = 1 << 14 // IPS_OFFLOAD: in a flowtable (software fast path)
	StatusHWOffload    FlowStatus = 1 << 15 // IPS_HW_OFFLOAD: offloaded to hardware
)

// statusNames lists the bits in order with the names the kernel headers use
// (without the IPS_ prefix).
var statusNames = [...]string{
	"EXPECTED", "SEEN_REPLY", "ASSURED", "CONFIRMED", "SRC_NAT", "DST_NAT",
	"SEQ_ADJUST", "SRC_NAT_DONE", "DST_NAT_DONE", "DYING", "FIXED_TIMEOUT",
	"TEMPLATE", "UNTRACKED", "HELPER", "OFFLOAD", "HW_OFFLOAD",
}

// Names returns the names of the bits set in s, lowest bit first; unknown
// bits are left out.
func (s FlowStatus) Names() []string {
	var out []string
	for i, n := range statusNames {
		if s&(1<<i) != 0 {
			out = append(out, n)
		}
	}
	return out
}

// StatusBitName returns the name of status bit i (0-based), "" when
// unknown.
func StatusBitName(i int) string {
	if i >= 0 && i < len(statusNames) {
		return statusNames[i]
	}
	return ""
}

// Offloaded reports whether the flow is in a flowtable, in software or in
// hardware (IPS_OFFLOAD or IPS_HW_OFFLOAD).
func (s FlowStatus) Offloaded() bool { return s&(StatusOffload|StatusHWOffload) != 0 }

// HWOffloaded reports whether the flow is offloaded to hardware.
func (s FlowStatus) HWOffloaded() bool { return s&StatusHWOffload != 0 }

// Assured reports whether the flow is assured.
func (s FlowStatus) Assured() bool { return s&StatusAssured != 0 }

// SeenReply reports whether traffic was seen in the reply direction;
// conntrack prints [UNREPLIED] when it was not.
func (s FlowStatus) SeenReply() bool { return s&StatusSeenReply != 0 }

// IP protocol numbers conntrack knows by name.
const (
	ProtoICMP    uint8 = 1
	ProtoTCP     uint8 = 6
	ProtoUDP     uint8 = 17
	ProtoDCCP    uint8 = 33
	ProtoGRE     uint8 = 47
	ProtoICMPv6  uint8 = 58
	ProtoSCTP    uint8 = 132
	ProtoUDPLite uint8 = 136
)

// ProtoName returns the conntrack name of an IP protocol ("tcp", "icmpv6",
// ...) or "unknown", as conntrack -L prints it.
func ProtoName(p uint8) string {
	switch p {
	case ProtoICMP:
		return "icmp"
	case ProtoTCP:
		return "tcp"
	case ProtoUDP:
		return "udp"
	case ProtoDCCP:
		return "dccp"
	case ProtoGRE:
		return "gre"
	case ProtoICMPv6:
		return "icmpv6"
	case ProtoSCTP:
		return "sctp"
	case ProtoUDPLite:
		return "udplite"
	}
	return "unknown"
}

// ParseProto maps a protocol name (as ProtoName returns) or a decimal number
// to its value.
func ParseProto(s string) (uint8, bool) {
	for p := 0; p < 256; p++ {
		if n := ProtoName(uint8(p)); n != "unknown" && n == s {
			return uint8(p), true
		}
	}
	var v int
	if s == "" || len(s) > 3 {
		return 0, false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + int(c-'0')
	}
	if v > 255 {
		return 0, false
	}
	return uint8(v), true
}

// FlowTuple is one direction of a conntrack entry. Ports are set for TCP,
// UDP, UDP-Lite, SCTP and DCCP (and hold the keys for GRE); the ICMP fields
// for ICMP and ICMPv6.
type FlowTuple struct {
	Src, Dst         netip.Addr
	Proto            uint8
	SrcPort, DstPort uint16
	ICMPType         uint8
	ICMPCode         uint8
	ICMPID           uint16
	// Zone is the per-direction zone (CTA_TUPLE_ZONE), nil when absent.
	Zone *uint16
}

// HasPorts reports whether the protocol carries ports in the tuple.
func (t *FlowTuple) HasPorts() bool {
	switch t.Proto {
	case ProtoTCP, ProtoUDP, ProtoUDPLite, ProtoSCTP, ProtoDCCP:
		return true
	}
	return false
}

// IsICMP reports whether the tuple is ICMP or ICMPv6.
func (t *FlowTuple) IsICMP() bool { return t.Proto == ProtoICMP || t.Proto == ProtoICMPv6 }

// FlowCounters are the per-direction accounting counters, present when
// net.netfilter.nf_conntrack_acct is on.
type FlowCounters struct {
	OrigPackets, OrigBytes   uint64
	ReplyPackets, ReplyBytes uint64
}

// Flow is one conntrack entry. Optional attributes the kernel did not send
// are nil: offloaded entries, for example, may come without Timeout and
// State.
type Flow struct {
	// Family is the layer-3 family: FamilyIP (AF_INET) or FamilyIP6.
	Family Family
	Orig   FlowTuple
	Reply  FlowTuple
	Status FlowStatus
	// State is the protocol state for TCP (TCP_CONNTRACK_*), SCTP or DCCP;
	// see StateName.
	State *uint8
	// Timeout is the remaining lifetime in seconds.
	Timeout *uint32
	Mark    *uint32
	Zone    *uint16
	Use     *uint32
	ID      *uint32
	// Counters are nil unless accounting is on.
	Counters *FlowCounters
	// Start and Stop are the timestamps in nanoseconds since the Unix epoch
	// (net.netfilter.nf_conntrack_timestamp); Stop is set on destroyed flows.
	Start, Stop *uint64
	// Helper is the name of the conntrack helper, "" when none.
	Helper string
	// SecCtx is the security context, "" when none.
	SecCtx string
	// Labels is the connlabel bit mask, nil when none.
	Labels []byte
}

// Proto returns the flow's layer-4 protocol number.
func (f *Flow) Proto() uint8 { return f.Orig.Proto }

var tcpStates = [...]string{"NONE", "SYN_SENT", "SYN_RECV", "ESTABLISHED", "FIN_WAIT",
	"CLOSE_WAIT", "LAST_ACK", "TIME_WAIT", "CLOSE", "SYN_SENT2"}

var sctpStates = [...]string{"NONE", "CLOSED", "COOKIE_WAIT", "COOKIE_ECHOED",
	"ESTABLISHED", "SHUTDOWN_SENT", "SHUTDOWN_RECD", "SHUTDOWN_ACK_SENT",
	"HEARTBEAT_SENT", "HEARTBEAT_ACKED"}

var dccpStates = [...]string{"NONE", "REQUEST", "RESPOND", "PARTOPEN", "OPEN",
	"CLOSEREQ", "CLOSING", "TIMEWAIT", "IGNORE", "INVALID"}

// StateName returns the protocol state as conntrack prints it
// ("ESTABLISHED", ...), "NONE" for an out-of-range value, or "" when the
// flow carries no state.
func (f *Flow) StateName() string {
	if f.State == nil {
		return ""
	}
	var names []string
	switch f.Orig.Proto {
	case ProtoTCP:
		names = tcpStates[:]
	case ProtoSCTP:
		names = sctpStates[:]
	case ProtoDCCP:
		names = dccpStates[:]
	default:
		return ""
	}
	if int(*f.State) < len(names) {
		return names[*f.State]
	}
	return "NONE"
}

// FlowFilter selects flows; the zero FlowFilter matches every flow. All set
// fields must match.
type FlowFilter struct {
	// Offloaded keeps flows offloaded in software or hardware.
	Offloaded bool
	// HWOffloaded keeps flows offloaded to hardware.
	HWOffloaded bool
	// NotOffloaded keeps flows that are not offloaded.
	NotOffloaded bool
	// Proto keeps flows of this layer-4 protocol when HasProto is set.
	Proto    uint8
	HasProto bool
	// Src and Dst keep flows whose original-direction source (destination)
	// address is inside the prefix, when valid.
	Src, Dst netip.Prefix
	// Port keeps flows with this port as source or destination port in
	// either direction, when HasPort is set.
	Port    uint16
	HasPort bool
	// Zone keeps flows in this conntrack zone (zone 0 when the kernel sent
	// none), when HasZone is set.
	Zone    uint16
	HasZone bool
}

// Match reports whether f passes the filter.
func (ff *FlowFilter) Match(f *Flow) bool {
	if ff.Offloaded && !f.Status.Offloaded() {
		return false
	}
	if ff.HWOffloaded && !f.Status.HWOffloaded() {
		return false
	}
	if ff.NotOffloaded && f.Status.Offloaded() {
		return false
	}
	if ff.HasProto && f.Orig.Proto != ff.Proto {
		return false
	}
	if ff.Src.IsValid() && !ff.Src.Contains(f.Orig.Src) {
		return false
	}
	if ff.Dst.IsValid() && !ff.Dst.Contains(f.Orig.Dst) {
		return false
	}
	if ff.HasPort {
		o, r := &f.Orig, &f.Reply
		if !o.HasPorts() || (o.SrcPort != ff.Port && o.DstPort != ff.Port &&
			r.SrcPort != ff.Port && r.DstPort != ff.Port) {
			return false
		}
	}
	if ff.HasZone {
		var z uint16
		if f.Zone != nil {
			z = *f.Zone
		}
		if z != ff.Zone {
			return false
		}
	}
	return true
}
