package compiler

// Layer is the packet layer a protocol header sits at; it selects the
// payload base (link, network, transport header).
type Layer uint8

// Layers, in the order of the NFT_PAYLOAD_* bases.
const (
	LayerLink      Layer = 0 // NFT_PAYLOAD_LL_HEADER
	LayerNetwork   Layer = 1 // NFT_PAYLOAD_NETWORK_HEADER
	LayerTransport Layer = 2 // NFT_PAYLOAD_TRANSPORT_HEADER
	LayerInner     Layer = 3 // NFT_PAYLOAD_INNER_HEADER
)

// Field is one field of a protocol header: "tcp dport" is Field{Name:
// "dport", Offset: 16, Len: 16, Type: "inet_service"} of Proto "tcp".
type Field struct {
	Name   string
	Offset uint32 // bits from the start of the header
	Len    uint32 // bits
	Type   string // datatype name
}

// Proto is a protocol header nft can match ("ip", "tcp", ...).
type Proto struct {
	Name  string
	Layer Layer
	// Offset is added to every field (vlan sits after the Ethernet
	// header in the same link-layer base), in bits.
	Offset uint32
	// Number identifies the protocol to the layer below: the ethertype
	// for network protocols, the IP protocol number for transport ones.
	Number uint32
	Fields []Field
}

// Field returns the field called name, or nil.
func (p *Proto) Field(name string) *Field {
	for i := range p.Fields {
		if p.Fields[i].Name == name {
			return &p.Fields[i]
		}
	}
	return nil
}

// ProtoByName returns the protocol header called name ("tcp"), or nil.
func ProtoByName(name string) *Proto {
	for i := range protos {
		if protos[i].Name == name {
			return &protos[i]
		}
	}
	return nil
}

// Protos returns every protocol header nftflow knows.
func Protos() []Proto {
	out := make([]Proto, len(protos))
	copy(out, protos)
	return out
}

func f(name string, off, n uint32, typ string) Field {
	return Field{Name: name, Offset: off, Len: n, Type: typ}
}

// protos is read-only after initialisation. Offsets and lengths are in bits.
var protos = []Proto{
	{Name: "ether", Layer: LayerLink, Fields: []Field{
		f("daddr", 0, 48, "ether_addr"), f("saddr", 48, 48, "ether_addr"), f("type", 96, 16, "ether_type"),
	}},
	{Name: "vlan", Layer: LayerLink, Offset: 112, Number: 0x8100, Fields: []Field{
		f("pcp", 0, 3, "integer"), f("dei", 3, 1, "integer"), f("cfi", 3, 1, "integer"),
		f("id", 4, 12, "integer"), f("type", 16, 16, "ether_type"),
	}},
	{Name: "arp", Layer: LayerNetwork, Number: 0x0806, Fields: []Field{
		f("htype", 0, 16, "integer"), f("ptype", 16, 16, "ether_type"), f("hlen", 32, 8, "integer"),
		f("plen", 40, 8, "integer"), f("operation", 48, 16, "arp_op"),
		f("saddr ether", 64, 48, "ether_addr"), f("saddr ip", 112, 32, "ipv4_addr"),
		f("daddr ether", 144, 48, "ether_addr"), f("daddr ip", 192, 32, "ipv4_addr"),
	}},
	{Name: "ip", Layer: LayerNetwork, Number: 0x0800, Fields: []Field{
		f("version", 0, 4, "integer"), f("hdrlength", 4, 4, "integer"), f("dscp", 8, 6, "dscp"),
		f("ecn", 14, 2, "ecn"), f("length", 16, 16, "integer"), f("id", 32, 16, "integer"),
		f("frag-off", 48, 16, "integer"), f("ttl", 64, 8, "integer"), f("protocol", 72, 8, "inet_proto"),
		f("checksum", 80, 16, "integer"), f("saddr", 96, 32, "ipv4_addr"), f("daddr", 128, 32, "ipv4_addr"),
	}},
	{Name: "ip6", Layer: LayerNetwork, Number: 0x86dd, Fields: []Field{
		f("version", 0, 4, "integer"), f("dscp", 4, 6, "dscp"), f("ecn", 10, 2, "ecn"),
		f("flowlabel", 12, 20, "integer"), f("length", 32, 16, "integer"), f("nexthdr", 48, 8, "inet_proto"),
		f("hoplimit", 56, 8, "integer"), f("saddr", 64, 128, "ipv6_addr"), f("daddr", 192, 128, "ipv6_addr"),
	}},
	{Name: "icmp", Layer: LayerTransport, Number: 1, Fields: []Field{
		f("type", 0, 8, "icmp_type"), f("code", 8, 8, "icmp_code"), f("checksum", 16, 16, "integer"),
		f("id", 32, 16, "integer"), f("sequence", 48, 16, "integer"), f("gateway", 32, 32, "ipv4_addr"),
		f("mtu", 48, 16, "integer"),
	}},
	{Name: "igmp", Layer: LayerTransport, Number: 2, Fields: []Field{
		f("type", 0, 8, "igmp_type"), f("mrt", 8, 8, "integer"), f("checksum", 16, 16, "integer"),
		f("group", 32, 32, "ipv4_addr"),
	}},
	{Name: "icmpv6", Layer: LayerTransport, Number: 58, Fields: []Field{
		f("type", 0, 8, "icmpv6_type"), f("code", 8, 8, "icmpv6_code"), f("checksum", 16, 16, "integer"),
		f("parameter-problem", 32, 32, "integer"), f("mtu", 32, 32, "integer"), f("id", 32, 16, "integer"),
		f("sequence", 48, 16, "integer"), f("max-delay", 32, 16, "integer"), f("taddr", 64, 128, "ipv6_addr"),
		f("daddr", 192, 128, "ipv6_addr"),
	}},
	{Name: "tcp", Layer: LayerTransport, Number: 6, Fields: []Field{
		f("sport", 0, 16, "inet_service"), f("dport", 16, 16, "inet_service"), f("sequence", 32, 32, "integer"),
		f("ackseq", 64, 32, "integer"), f("doff", 96, 4, "integer"), f("reserved", 100, 4, "integer"),
		f("flags", 104, 8, "tcp_flag"), f("window", 112, 16, "integer"), f("checksum", 128, 16, "integer"),
		f("urgptr", 144, 16, "integer"),
	}},
	{Name: "udp", Layer: LayerTransport, Number: 17, Fields: []Field{
		f("sport", 0, 16, "inet_service"), f("dport", 16, 16, "inet_service"), f("length", 32, 16, "integer"),
		f("checksum", 48, 16, "integer"),
	}},
	{Name: "udplite", Layer: LayerTransport, Number: 136, Fields: []Field{
		f("sport", 0, 16, "inet_service"), f("dport", 16, 16, "inet_service"), f("csumcov", 32, 16, "integer"),
		f("checksum", 48, 16, "integer"),
	}},
	{Name: "sctp", Layer: LayerTransport, Number: 132, Fields: []Field{
		f("sport", 0, 16, "inet_service"), f("dport", 16, 16, "inet_service"), f("vtag", 32, 32, "integer"),
		f("checksum", 64, 32, "integer"),
	}},
	{Name: "dccp", Layer: LayerTransport, Number: 33, Fields: []Field{
		f("sport", 0, 16, "inet_service"), f("dport", 16, 16, "inet_service"), f("type", 67, 4, "dccp_pkttype"),
	}},
	{Name: "ah", Layer: LayerTransport, Number: 51, Fields: []Field{
		f("nexthdr", 0, 8, "inet_proto"), f("hdrlength", 8, 8, "integer"), f("reserved", 16, 16, "integer"),
		f("spi", 32, 32, "integer"), f("sequence", 64, 32, "integer"),
	}},
	{Name: "esp", Layer: LayerTransport, Number: 50, Fields: []Field{
		f("spi", 0, 32, "integer"), f("sequence", 32, 32, "integer"),
	}},
	{Name: "comp", Layer: LayerTransport, Number: 108, Fields: []Field{
		f("nexthdr", 0, 8, "inet_proto"), f("flags", 8, 8, "bitmask"), f("cpi", 16, 16, "integer"),
	}},
	{Name: "th", Layer: LayerTransport, Fields: []Field{
		f("sport", 0, 16, "inet_service"), f("dport", 16, 16, "inet_service"),
	}},
}

// MetaKey is a meta selector ("meta mark", "iifname").
type MetaKey struct {
	Name    string // as written in nft ("mark", "length")
	Key     uint32 // NFT_META_*
	Netlink string // as libnftnl prints it ("len")
	Type    string // datatype name
	Len     uint32 // bytes in the register
	// Bare is true when the key may be written without "meta".
	Bare bool
}

// MetaKeyByName returns the meta key called name, or nil.
func MetaKeyByName(name string) *MetaKey {
	if name == "secpath" {
		name = "ipsec"
	}
	for i := range metaKeys {
		if metaKeys[i].Name == name {
			return &metaKeys[i]
		}
	}
	return nil
}

// MetaKeyByNum returns the meta key with NFT_META_* value k, or nil.
func MetaKeyByNum(k uint32) *MetaKey {
	for i := range metaKeys {
		if metaKeys[i].Key == k {
			return &metaKeys[i]
		}
	}
	return nil
}

// MetaKeys returns every meta key.
func MetaKeys() []MetaKey {
	out := make([]MetaKey, len(metaKeys))
	copy(out, metaKeys)
	return out
}

var metaKeys = []MetaKey{
	{"length", 0, "len", "integer", 4, false},
	{"protocol", 1, "protocol", "ether_type", 2, false},
	{"priority", 2, "priority", "classid", 4, true},
	{"mark", 3, "mark", "mark", 4, true},
	{"iif", 4, "iif", "iface_index", 4, true},
	{"oif", 5, "oif", "iface_index", 4, true},
	{"iifname", 6, "iifname", "ifname", 16, true},
	{"oifname", 7, "oifname", "ifname", 16, true},
	{"iiftype", 8, "iiftype", "iface_type", 2, true},
	{"oiftype", 9, "oiftype", "iface_type", 2, true},
	{"skuid", 10, "skuid", "uid", 4, true},
	{"skgid", 11, "skgid", "gid", 4, true},
	{"nftrace", 12, "nftrace", "integer", 1, false},
	{"rtclassid", 13, "rtclassid", "realm", 4, true},
	{"secmark", 14, "secmark", "integer", 4, false},
	{"nfproto", 15, "nfproto", "nf_proto", 1, false},
	{"l4proto", 16, "l4proto", "inet_proto", 1, false},
	{"ibrname", 17, "bri_iifname", "ifname", 16, false},
	{"obrname", 18, "bri_oifname", "ifname", 16, false},
	{"pkttype", 19, "pkttype", "pkt_type", 1, true},
	{"cpu", 20, "cpu", "integer", 4, true},
	{"iifgroup", 21, "iifgroup", "devgroup", 4, true},
	{"oifgroup", 22, "oifgroup", "devgroup", 4, true},
	{"cgroup", 23, "cgroup", "integer", 4, true},
	{"random", 24, "prandom", "integer", 4, false},
	{"ipsec", 25, "secpath", "boolean", 1, false},
	{"iifkind", 26, "iifkind", "ifname", 16, false},
	{"oifkind", 27, "oifkind", "ifname", 16, false},
	{"ibrpvid", 28, "bri_iifpvid", "integer", 2, false},
	{"ibrvproto", 29, "bri_iifvproto", "ether_type", 2, false},
	{"time", 30, "time", "time", 8, false},
	{"day", 31, "day", "day", 1, false},
	{"hour", 32, "hour", "hour", 4, false},
	{"sdif", 33, "sdif", "iface_index", 4, false},
	{"sdifname", 34, "sdifname", "ifname", 16, false},
	{"broute", 35, "bri_broute", "integer", 1, false},
}

// CtKey is a conntrack selector ("ct state").
type CtKey struct {
	Name string // as written in nft and printed by libnftnl
	Key  uint32 // NFT_CT_*
	Type string
	Len  uint32 // bytes; 0 when it depends on the family (addresses)
	Dir  bool   // may (or must) take a direction: "ct original saddr"
}

// CtKeyByName returns the ct key called name, or nil.
func CtKeyByName(name string) *CtKey {
	for i := range ctKeys {
		if ctKeys[i].Name == name {
			return &ctKeys[i]
		}
	}
	return nil
}

// CtKeyByNum returns the ct key with NFT_CT_* value k, or nil.
func CtKeyByNum(k uint32) *CtKey {
	for i := range ctKeys {
		if ctKeys[i].Key == k {
			return &ctKeys[i]
		}
	}
	return nil
}

// CtKeys returns every ct key.
func CtKeys() []CtKey {
	out := make([]CtKey, len(ctKeys))
	copy(out, ctKeys)
	return out
}

var ctKeys = []CtKey{
	{"state", 0, "ct_state", 4, false},
	{"direction", 1, "ct_dir", 1, false},
	{"status", 2, "ct_status", 4, false},
	{"mark", 3, "mark", 4, false},
	{"secmark", 4, "integer", 4, false},
	{"expiration", 5, "time", 4, false},
	{"helper", 6, "string", 16, false},
	{"l3proto", 7, "nf_proto", 1, true},
	{"saddr", 8, "ipv4_addr", 0, true},
	{"daddr", 9, "ipv4_addr", 0, true},
	{"protocol", 10, "inet_proto", 1, true},
	{"proto-src", 11, "inet_service", 2, true},
	{"proto-dst", 12, "inet_service", 2, true},
	{"label", 13, "ct_label", 16, false},
	{"packets", 14, "integer", 8, true},
	{"bytes", 15, "integer", 8, true},
	{"avgpkt", 16, "integer", 8, true},
	{"zone", 17, "integer", 2, true},
	{"event", 18, "ct_event", 4, false},
	{"ip saddr", 19, "ipv4_addr", 4, true},
	{"ip daddr", 20, "ipv4_addr", 4, true},
	{"ip6 saddr", 21, "ipv6_addr", 16, true},
	{"ip6 daddr", 22, "ipv6_addr", 16, true},
	{"id", 23, "integer", 4, false},
}
