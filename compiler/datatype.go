package compiler

import "strings"

// ByteOrder says how a datatype's values are laid out in a register.
type ByteOrder uint8

// Byte orders. HostOrder types (meta mark, ct state, ...) are compiled for
// a little-endian host, as nft does on x86 and arm64.
const (
	InvalidOrder ByteOrder = iota
	BigEndian              // network byte order
	HostOrder              // host byte order (little-endian)
)

// Datatype ids, as nft numbers them (nft's enum datatypes). The set key
// type attribute (NFTA_SET_KEY_TYPE) carries these ids; concatenations
// pack them 6 bits apiece (see ConcatTypeID).
const (
	TypeInvalid     uint32 = 0
	TypeVerdict     uint32 = 1
	TypeNFProto     uint32 = 2
	TypeBitmask     uint32 = 3
	TypeInteger     uint32 = 4
	TypeString      uint32 = 5
	TypeLLAddr      uint32 = 6
	TypeIPAddr      uint32 = 7
	TypeIP6Addr     uint32 = 8
	TypeEtherAddr   uint32 = 9
	TypeEtherType   uint32 = 10
	TypeARPOp       uint32 = 11
	TypeInetProto   uint32 = 12
	TypeInetService uint32 = 13
	TypeICMPType    uint32 = 14
	TypeTCPFlag     uint32 = 15
	TypeDCCPPktType uint32 = 16
	TypeMHType      uint32 = 17
	TypeTime        uint32 = 18
	TypeMark        uint32 = 19
	TypeIfindex     uint32 = 20
	TypeARPHRD      uint32 = 21
	TypeRealm       uint32 = 22
	TypeClassid     uint32 = 23
	TypeUID         uint32 = 24
	TypeGID         uint32 = 25
	TypeCtState     uint32 = 26
	TypeCtDir       uint32 = 27
	TypeCtStatus    uint32 = 28
	TypeICMP6Type   uint32 = 29
	TypeCtLabel     uint32 = 30
	TypePktType     uint32 = 31
	TypeICMPCode    uint32 = 32
	TypeICMPv6Code  uint32 = 33
	TypeICMPXCode   uint32 = 34
	TypeDevgroup    uint32 = 35
	TypeDSCP        uint32 = 36
	TypeECN         uint32 = 37
	TypeFibAddr     uint32 = 38
	TypeBoolean     uint32 = 39
	TypeCtEventBit  uint32 = 40
	TypeIfname      uint32 = 41
	TypeIGMPType    uint32 = 42
	TypeTimeDate    uint32 = 43
	TypeTimeHour    uint32 = 44
	TypeTimeDay     uint32 = 45
	TypeCgroupV2    uint32 = 46
	TypeVerdictData uint32 = 0xffffff00 // NFT_DATA_VERDICT, the data type of verdict maps
	concatTypeBits         = 6
)

// ConcatTypeID packs the ids of a concatenation's fields as nft does for
// NFTA_SET_KEY_TYPE: each field shifts the previous ones left by 6 bits.
func ConcatTypeID(ids ...uint32) uint32 {
	var v uint32
	for _, id := range ids {
		v = v<<concatTypeBits | id
	}
	return v
}

// Symbol is a named constant of a datatype ("ssh" = 22, "established" = 2).
type Symbol struct {
	Name  string
	Value uint64
}

// Datatype describes one of nft's value types: its size, byte order, base
// type and symbolic constants.
type Datatype struct {
	ID    uint32
	Name  string // nft's name ("ipv4_addr", "inet_service", ...)
	Desc  string
	Bits  uint32 // size in bits; 0 for variable-size types (string)
	Order ByteOrder
	// Base is the name of the type this one refines ("integer",
	// "bitmask"); empty for basic types.
	Base string
	// Bitmask types accept "a | b" and comma lists of flags.
	Bitmask bool
	Symbols []Symbol
}

// Lookup returns the value of symbol name, matching case-insensitively
// as nft does for most tables.
func (d *Datatype) Lookup(name string) (uint64, bool) {
	// ASCII folds byte for byte: names of another length cannot match
	// (a cheap test first: inet_service has hundreds of symbols).
	ascii := true
	for i := 0; i < len(name); i++ {
		ascii = ascii && name[i] < 0x80
	}
	for _, s := range d.Symbols {
		if ascii && len(s.Name) != len(name) {
			continue
		}
		if strings.EqualFold(s.Name, name) {
			return s.Value, true
		}
	}
	return 0, false
}

// SymbolName returns the first symbol with value v.
func (d *Datatype) SymbolName(v uint64) (string, bool) {
	for _, s := range d.Symbols {
		if s.Value == v {
			return s.Name, true
		}
	}
	return "", false
}

// IsA reports whether d is the type named name or refines it.
func (d *Datatype) IsA(name string) bool {
	for t := d; t != nil; t = DatatypeByName(t.Base) {
		if t.Name == name {
			return true
		}
		if t.Base == "" {
			break
		}
	}
	return false
}

// DatatypeByName returns the datatype called name ("ipv4_addr"), or nil.
func DatatypeByName(name string) *Datatype {
	for i := range datatypes {
		if datatypes[i].Name == name {
			return &datatypes[i]
		}
	}
	return nil
}

// DatatypeByID returns the datatype with nft id id, or nil.
func DatatypeByID(id uint32) *Datatype {
	for i := range datatypes {
		if datatypes[i].ID == id {
			return &datatypes[i]
		}
	}
	return nil
}

// Datatypes returns every datatype nftflow knows, in id order.
func Datatypes() []Datatype {
	out := make([]Datatype, len(datatypes))
	copy(out, datatypes)
	return out
}

func syms(kv ...any) []Symbol {
	out := make([]Symbol, 0, len(kv)/2)
	for i := 0; i+1 < len(kv); i += 2 {
		var v uint64
		switch x := kv[i+1].(type) {
		case int:
			v = uint64(x)
		case uint64:
			v = x
		}
		out = append(out, Symbol{Name: kv[i].(string), Value: v})
	}
	return out
}

// datatypes is read-only after initialisation.
var datatypes = []Datatype{
	{ID: TypeVerdict, Name: "verdict", Desc: "netfilter verdict", Bits: 32, Order: HostOrder},
	{ID: TypeNFProto, Name: "nf_proto", Desc: "netfilter protocol", Bits: 8, Order: HostOrder, Base: "integer",
		Symbols: syms("ipv4", 2, "ipv6", 10)},
	{ID: TypeBitmask, Name: "bitmask", Desc: "bitmask", Order: HostOrder, Bitmask: true},
	{ID: TypeInteger, Name: "integer", Desc: "integer", Order: HostOrder},
	{ID: TypeString, Name: "string", Desc: "string", Order: HostOrder},
	{ID: TypeLLAddr, Name: "ll_addr", Desc: "link layer address", Order: BigEndian, Base: "integer"},
	{ID: TypeIPAddr, Name: "ipv4_addr", Desc: "IPv4 address", Bits: 32, Order: BigEndian, Base: "integer"},
	{ID: TypeIP6Addr, Name: "ipv6_addr", Desc: "IPv6 address", Bits: 128, Order: BigEndian, Base: "integer"},
	{ID: TypeEtherAddr, Name: "ether_addr", Desc: "Ethernet address", Bits: 48, Order: BigEndian, Base: "ll_addr"},
	{ID: TypeEtherType, Name: "ether_type", Desc: "Ethernet protocol", Bits: 16, Order: BigEndian, Base: "integer",
		Symbols: syms("ip", 0x0800, "arp", 0x0806, "ip6", 0x86dd, "8021q", 0x8100, "8021ad", 0x88a8, "vlan", 0x8100)},
	{ID: TypeARPOp, Name: "arp_op", Desc: "ARP operation", Bits: 16, Order: BigEndian, Base: "integer",
		Symbols: syms("request", 1, "reply", 2, "rrequest", 3, "rreply", 4, "inrequest", 8, "inreply", 9, "nak", 10)},
	{ID: TypeInetProto, Name: "inet_proto", Desc: "Internet protocol", Bits: 8, Order: BigEndian, Base: "integer",
		Symbols: syms("ip", 0, "hopopt", 0, "icmp", 1, "igmp", 2, "ggp", 3, "ipencap", 4, "st", 5, "tcp", 6, "egp", 8,
			"igp", 9, "pup", 12, "udp", 17, "hmp", 20, "xns-idp", 22, "rdp", 27, "iso-tp4", 29, "dccp", 33,
			"xtp", 36, "ddp", 37, "idpr-cmtp", 38, "ipv6", 41, "ipv6-route", 43, "ipv6-frag", 44, "idrp", 45,
			"rsvp", 46, "gre", 47, "esp", 50, "ah", 51, "skip", 57, "ipv6-icmp", 58, "icmpv6", 58, "ipv6-nonxt", 59,
			"ipv6-opts", 60, "rspf", 73, "vmtp", 81, "eigrp", 88, "ospf", 89, "ax.25", 93, "ipip", 94,
			"etherip", 97, "encap", 98, "pim", 103, "ipcomp", 108, "comp", 108, "vrrp", 112, "l2tp", 115,
			"isis", 124, "sctp", 132, "fc", 133, "mobility-header", 135, "udplite", 136, "mpls-in-ip", 137,
			"manet", 138, "hip", 139, "shim6", 140, "wesp", 141, "rohc", 142, "ethernet", 143)},
	{ID: TypeInetService, Name: "inet_service", Desc: "internet network service", Bits: 16, Order: BigEndian, Base: "integer",
		Symbols: syms("tcpmux", 1, "echo", 7, "discard", 9, "systat", 11, "daytime", 13, "netstat", 15,
			"chargen", 19, "ftp-data", 20, "ftp", 21, "ssh", 22, "telnet", 23, "smtp", 25, "time", 37,
			"whois", 43, "tacacs", 49, "domain", 53, "bootps", 67, "bootpc", 68, "tftp", 69, "gopher", 70,
			"finger", 79, "http", 80, "kerberos", 88, "iso-tsap", 102, "acr-nema", 104, "pop3", 110,
			"sunrpc", 111, "auth", 113, "nntp", 119, "ntp", 123, "epmap", 135, "netbios-ns", 137,
			"netbios-dgm", 138, "netbios-ssn", 139, "imap2", 143, "snmp", 161, "snmp-trap", 162,
			"cmip-man", 163, "cmip-agent", 164, "mailq", 174, "xdmcp", 177, "bgp", 179, "smux", 199,
			"qmtp", 209, "z3950", 210, "ipx", 213, "ptp-event", 319, "ptp-general", 320, "pawserv", 345,
			"zserv", 346, "rpc2portmap", 369, "codaauth2", 370, "clearcase", 371, "ldap", 389,
			"svrloc", 427, "https", 443, "snpp", 444, "microsoft-ds", 445, "kpasswd", 464, "submissions", 465,
			"saft", 487, "isakmp", 500, "rtsp", 554, "nqs", 607, "asf-rmcp", 623, "qmqp", 628, "ipp", 631,
			"ldp", 646, "exec", 512, "biff", 512, "login", 513, "who", 513, "shell", 514, "syslog", 514,
			"printer", 515, "talk", 517, "ntalk", 518, "route", 520, "gdomap", 538, "uucp", 540,
			"klogin", 543, "kshell", 544, "dhcpv6-client", 546, "dhcpv6-server", 547, "afpovertcp", 548,
			"nntps", 563, "submission", 587, "ldaps", 636, "tinc", 655, "silc", 706, "kerberos-adm", 749,
			"domain-s", 853, "rsync", 873, "ftps-data", 989, "ftps", 990, "telnets", 992, "imaps", 993,
			"pop3s", 995, "socks", 1080, "proofd", 1093, "rootd", 1094, "openvpn", 1194, "rmiregistry", 1099,
			"lotusnote", 1352, "ms-sql-s", 1433, "ms-sql-m", 1434, "ingreslock", 1524, "datametrics", 1645,
			"sa-msg-port", 1646, "kermit", 1649, "groupwise", 1677, "l2f", 1701, "radius", 1812,
			"radius-acct", 1813, "cisco-sccp", 2000, "nfs", 2049, "gnunet", 2086, "rtcm-sc104", 2101,
			"gsigatekeeper", 2119, "gris", 2135, "cvspserver", 2401, "venus", 2430, "venus-se", 2431,
			"codasrv", 2432, "codasrv-se", 2433, "mon", 2583, "dict", 2628, "f5-globalsite", 2792,
			"gsiftp", 2811, "gpsd", 2947, "gds-db", 3050, "icpv2", 3130, "isns", 3205, "iscsi-target", 3260,
			"mysql", 3306, "ms-wbt-server", 3389, "nut", 3493, "distcc", 3632, "daap", 3689, "svn", 3690,
			"suucp", 4031, "sysrqd", 4094, "sieve", 4190, "epmd", 4369, "remctl", 4373, "f5-iquery", 4353,
			"ntske", 4460, "ipsec-nat-t", 4500, "iax", 4569, "mtn", 4691, "radmin-port", 4899, "sip", 5060,
			"sip-tls", 5061, "xmpp-client", 5222, "xmpp-server", 5269, "cfengine", 5308, "mdns", 5353,
			"postgresql", 5432, "freeciv", 5556, "amqps", 5671, "amqp", 5672, "x11", 6000, "x11-1", 6001,
			"x11-2", 6002, "x11-3", 6003, "x11-4", 6004, "x11-5", 6005, "x11-6", 6006, "x11-7", 6007,
			"gnutella-svc", 6346, "gnutella-rtr", 6347, "redis", 6379, "sge-qmaster", 6444, "sge-execd", 6445,
			"mysql-proxy", 6446, "babel", 6696, "ircs-u", 6697, "bbs", 7000, "afs3-fileserver", 7000,
			"afs3-callback", 7001, "afs3-prserver", 7002, "afs3-vlserver", 7003, "afs3-kaserver", 7004,
			"afs3-volser", 7005, "afs3-errors", 7006, "afs3-bos", 7007, "afs3-update", 7008, "afs3-rmtsys", 7009,
			"font-service", 7100, "http-alt", 8080, "puppet", 8140, "bacula-dir", 9101, "bacula-fd", 9102,
			"bacula-sd", 9103, "xmms2", 9667, "nbd", 10809, "zabbix-agent", 10050, "zabbix-trapper", 10051,
			"amanda", 10080, "dicom", 11112, "hkp", 11371, "db-lsp", 17500, "dcap", 22125, "gsidcap", 22128,
			"wnn6", 22273)},
	{ID: TypeICMPType, Name: "icmp_type", Desc: "ICMP type", Bits: 8, Order: BigEndian, Base: "integer",
		Symbols: syms("echo-reply", 0, "destination-unreachable", 3, "source-quench", 4, "redirect", 5,
			"echo-request", 8, "router-advertisement", 9, "router-solicitation", 10, "time-exceeded", 11,
			"parameter-problem", 12, "timestamp-request", 13, "timestamp-reply", 14, "info-request", 15,
			"info-reply", 16, "address-mask-request", 17, "address-mask-reply", 18)},
	{ID: TypeTCPFlag, Name: "tcp_flag", Desc: "TCP flag", Bits: 8, Order: BigEndian, Base: "bitmask", Bitmask: true,
		Symbols: syms("fin", 0x01, "syn", 0x02, "rst", 0x04, "psh", 0x08, "ack", 0x10, "urg", 0x20, "ecn", 0x40, "cwr", 0x80)},
	{ID: TypeDCCPPktType, Name: "dccp_pkttype", Desc: "DCCP packet type", Bits: 4, Order: BigEndian, Base: "integer",
		Symbols: syms("request", 0, "response", 1, "data", 2, "ack", 3, "dataack", 4, "closereq", 5, "close", 6,
			"reset", 7, "sync", 8, "syncack", 9)},
	{ID: TypeMHType, Name: "mh_type", Desc: "Mobility Header Type", Bits: 8, Order: BigEndian, Base: "integer",
		Symbols: syms("binding-refresh-request", 0, "home-test-init", 1, "careof-test-init", 2, "home-test", 3,
			"careof-test", 4, "binding-update", 5, "binding-acknowledgement", 6, "binding-error", 7,
			"fast-binding-update", 8, "fast-binding-acknowledgement", 9, "fast-binding-advertisement", 10,
			"experimental-mobility-header", 11, "home-agent-switch-message", 12)},
	{ID: TypeTime, Name: "time", Desc: "relative time", Bits: 64, Order: HostOrder, Base: "integer"},
	{ID: TypeMark, Name: "mark", Desc: "packet mark", Bits: 32, Order: HostOrder, Base: "integer"},
	{ID: TypeIfindex, Name: "iface_index", Desc: "network interface index", Bits: 32, Order: HostOrder, Base: "integer"},
	{ID: TypeARPHRD, Name: "iface_type", Desc: "network interface type", Bits: 16, Order: HostOrder, Base: "integer",
		Symbols: syms("ether", 1, "ppp", 512, "ipip", 768, "ipip6", 769, "loopback", 772, "sit", 776, "ipgre", 778)},
	{ID: TypeRealm, Name: "realm", Desc: "routing realm", Bits: 32, Order: HostOrder, Base: "integer",
		Symbols: syms("default", 0)},
	{ID: TypeClassid, Name: "classid", Desc: "TC classid", Bits: 32, Order: HostOrder, Base: "integer",
		Symbols: syms("root", 0xffffffff, "none", 0)},
	{ID: TypeUID, Name: "uid", Desc: "user ID", Bits: 32, Order: HostOrder, Base: "integer", Symbols: syms("root", 0)},
	{ID: TypeGID, Name: "gid", Desc: "group ID", Bits: 32, Order: HostOrder, Base: "integer", Symbols: syms("root", 0)},
	{ID: TypeCtState, Name: "ct_state", Desc: "conntrack state", Bits: 32, Order: HostOrder, Base: "bitmask", Bitmask: true,
		Symbols: syms("invalid", 1, "established", 2, "related", 4, "new", 8, "untracked", 64)},
	{ID: TypeCtDir, Name: "ct_dir", Desc: "conntrack direction", Bits: 8, Order: HostOrder, Base: "integer",
		Symbols: syms("original", 0, "reply", 1)},
	{ID: TypeCtStatus, Name: "ct_status", Desc: "conntrack status", Bits: 32, Order: HostOrder, Base: "bitmask", Bitmask: true,
		Symbols: syms("expected", 1, "seen-reply", 2, "assured", 4, "confirmed", 8, "snat", 16, "dnat", 32, "dying", 512)},
	{ID: TypeICMP6Type, Name: "icmpv6_type", Desc: "ICMPv6 type", Bits: 8, Order: BigEndian, Base: "integer",
		Symbols: syms("destination-unreachable", 1, "packet-too-big", 2, "time-exceeded", 3, "parameter-problem", 4,
			"echo-request", 128, "echo-reply", 129, "mld-listener-query", 130, "mld-listener-report", 131,
			"mld-listener-done", 132, "mld-listener-reduction", 132, "nd-router-solicit", 133,
			"nd-router-advert", 134, "nd-neighbor-solicit", 135, "nd-neighbor-advert", 136, "nd-redirect", 137,
			"router-renumbering", 138, "ind-neighbor-solicit", 141, "ind-neighbor-advert", 142,
			"mld2-listener-report", 143)},
	{ID: TypeCtLabel, Name: "ct_label", Desc: "conntrack label", Bits: 128, Order: HostOrder, Base: "bitmask", Bitmask: true},
	{ID: TypePktType, Name: "pkt_type", Desc: "packet type", Bits: 8, Order: HostOrder, Base: "integer",
		Symbols: syms("host", 0, "unicast", 0, "broadcast", 1, "multicast", 2, "other", 3)},
	{ID: TypeICMPCode, Name: "icmp_code", Desc: "icmp code", Bits: 8, Order: BigEndian, Base: "integer",
		Symbols: syms("net-unreachable", 0, "host-unreachable", 1, "prot-unreachable", 2, "port-unreachable", 3,
			"frag-needed", 4, "net-prohibited", 9, "host-prohibited", 10, "admin-prohibited", 13)},
	{ID: TypeICMPv6Code, Name: "icmpv6_code", Desc: "icmpv6 code", Bits: 8, Order: BigEndian, Base: "integer",
		Symbols: syms("no-route", 0, "admin-prohibited", 1, "addr-unreachable", 3, "port-unreachable", 4,
			"policy-fail", 5, "reject-route", 6)},
	{ID: TypeICMPXCode, Name: "icmpx_code", Desc: "icmpx code", Bits: 8, Order: BigEndian, Base: "integer",
		Symbols: syms("no-route", 0, "port-unreachable", 1, "host-unreachable", 2, "admin-prohibited", 3)},
	{ID: TypeDevgroup, Name: "devgroup", Desc: "devgroup name", Bits: 32, Order: HostOrder, Base: "integer",
		Symbols: syms("default", 0)},
	{ID: TypeDSCP, Name: "dscp", Desc: "Differentiated Services Code Point", Bits: 6, Order: BigEndian, Base: "integer",
		Symbols: syms("cs0", 0x00, "cs1", 0x08, "cs2", 0x10, "cs3", 0x18, "cs4", 0x20, "cs5", 0x28, "cs6", 0x30,
			"cs7", 0x38, "df", 0x00, "be", 0x00, "lephb", 0x01, "af11", 0x0a, "af12", 0x0c, "af13", 0x0e,
			"af21", 0x12, "af22", 0x14, "af23", 0x16, "af31", 0x1a, "af32", 0x1c, "af33", 0x1e,
			"af41", 0x22, "af42", 0x24, "af43", 0x26, "va", 0x2c, "ef", 0x2e)},
	{ID: TypeECN, Name: "ecn", Desc: "Explicit Congestion Notification", Bits: 2, Order: BigEndian, Base: "integer",
		Symbols: syms("not-ect", 0, "ect1", 1, "ect0", 2, "ce", 3)},
	{ID: TypeFibAddr, Name: "fib_addrtype", Desc: "fib address type", Bits: 32, Order: HostOrder, Base: "integer",
		Symbols: syms("unspec", 0, "unicast", 1, "local", 2, "broadcast", 3, "anycast", 4, "multicast", 5,
			"blackhole", 6, "unreachable", 7, "prohibit", 8)},
	{ID: TypeBoolean, Name: "boolean", Desc: "boolean type", Bits: 1, Order: HostOrder, Base: "integer",
		Symbols: syms("exists", 1, "missing", 0)},
	{ID: TypeCtEventBit, Name: "ct_event", Desc: "conntrack event bits", Bits: 32, Order: HostOrder, Base: "bitmask", Bitmask: true,
		Symbols: syms("new", 1, "related", 2, "destroy", 4, "reply", 8, "assured", 16, "protoinfo", 32,
			"helper", 64, "mark", 128, "seqadj", 256, "secmark", 512, "label", 1024)},
	{ID: TypeIfname, Name: "ifname", Desc: "network interface name", Bits: 16 * 8, Order: HostOrder, Base: "string"},
	{ID: TypeIGMPType, Name: "igmp_type", Desc: "IGMP type", Bits: 8, Order: BigEndian, Base: "integer",
		Symbols: syms("membership-query", 0x11, "membership-report-v1", 0x12, "membership-report-v2", 0x16,
			"membership-report-v3", 0x22, "leave-group", 0x17)},
	{ID: TypeTimeDate, Name: "time", Desc: "Relative time of packet reception", Bits: 64, Order: HostOrder, Base: "integer"},
	{ID: TypeTimeHour, Name: "hour", Desc: "Hour of day of packet reception", Bits: 32, Order: HostOrder, Base: "integer"},
	{ID: TypeTimeDay, Name: "day", Desc: "Day of week of packet reception", Bits: 8, Order: HostOrder, Base: "integer",
		Symbols: syms("sunday", 0, "monday", 1, "tuesday", 2, "wednesday", 3, "thursday", 4, "friday", 5, "saturday", 6)},
	{ID: TypeInteger, Name: "mptcpopt_subtype", Desc: "MPTCP option subtype", Bits: 4, Order: BigEndian, Base: "integer",
		Symbols: syms("mp-capable", 0, "mp-join", 1, "dss", 2, "add-addr", 3, "remove-addr", 4, "mp-prio", 5,
			"mp-fail", 6, "mp-fastclose", 7, "mp-tcprst", 8)},
	{ID: TypeCgroupV2, Name: "cgroupsv2", Desc: "cgroupsv2 path", Bits: 64, Order: HostOrder, Base: "integer"},
}
