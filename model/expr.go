package model

// Expr is one netlink expression of a rule. The concrete types below mirror
// the kernel's netlink attributes (uapi linux/netfilter/nf_tables.h), field
// for field, so that compiling, sending, decoding and printing them in the
// `nft --debug=netlink` notation are each a direct mapping.
//
// Registers hold the raw attribute value: 0 is the verdict register,
// 1..4 the 16-byte registers (NFT_REG_1..4), 8..23 the 4-byte registers
// (NFT_REG32_00..15).
type Expr interface {
	// Kind returns the kernel's expression name ("payload", "cmp", ...).
	Kind() string
}

// Payload bases (NFT_PAYLOAD_*).
const (
	BaseLL        uint32 = 0
	BaseNetwork   uint32 = 1
	BaseTransport uint32 = 2
	BaseInner     uint32 = 3
	BaseTunnel    uint32 = 4
)

// Payload loads (DReg != 0 or SReg == 0) or writes (SReg != 0) packet bytes.
type Payload struct {
	DReg, SReg  uint32
	Base        uint32
	Offset, Len uint32 // bytes
	CsumType    uint32
	CsumOffset  uint32
	CsumFlags   uint32
}

// Meta loads (DReg) or sets (SReg) packet meta data.
type Meta struct {
	Key        uint32 // NFT_META_*
	DReg, SReg uint32
}

// Cmp compares a register with data.
type Cmp struct {
	SReg uint32
	Op   uint32 // NFT_CMP_EQ..GTE
	Data []byte
	// HostOrder marks data in host byte order (a printing hint: libnftnl
	// shows such values as numbers). It is not sent to the kernel.
	HostOrder bool
}

// Range compares a register with [From, To].
type Range struct {
	SReg     uint32
	Op       uint32 // NFT_RANGE_EQ, NFT_RANGE_NEQ
	From, To []byte
	// HostOrder marks data in host byte order (a printing hint: libnftnl
	// shows such values as numbers). It is not sent to the kernel.
	HostOrder bool
}

// Bitwise operations (NFT_BITWISE_*).
const (
	BitwiseBool   uint32 = 0 // (reg & mask) ^ xor
	BitwiseLShift uint32 = 1
	BitwiseRShift uint32 = 2
)

// Bitwise computes DReg = (SReg & Mask) ^ Xor, or a shift by Data.
type Bitwise struct {
	SReg, DReg uint32
	Len        uint32
	Op         uint32
	Mask, Xor  []byte
	Data       []byte // shift amount
	// HostOrder marks data in host byte order (a printing hint: libnftnl
	// shows such values as numbers). It is not sent to the kernel.
	HostOrder bool
}

// Byteorder converts SReg to DReg (NFT_BYTEORDER_NTOH=0, HTON=1).
type Byteorder struct {
	SReg, DReg uint32
	Op         uint32
	Len, Size  uint32
}

// Immediate loads data or a verdict into DReg.
type Immediate struct {
	DReg    uint32
	Data    []byte
	Verdict *Verdict // DReg 0
	// HostOrder marks data in host byte order (a printing hint: libnftnl
	// shows such values as numbers). It is not sent to the kernel.
	HostOrder bool
}

// Lookup looks SReg up in a set; for maps DReg receives the data.
type Lookup struct {
	SReg    uint32
	DReg    uint32
	HasDReg bool
	Set     string
	SetID   uint32
	Flags   uint32 // NFT_LOOKUP_F_INV
}

// Counter counts packets and bytes.
type Counter struct {
	Packets, Bytes uint64
}

// Ct loads (DReg) or sets (SReg) a conntrack key.
type Ct struct {
	Key          uint32 // NFT_CT_*
	DReg, SReg   uint32
	Direction    uint8
	HasDirection bool
}

// Exthdr operations (NFT_EXTHDR_OP_*).
const (
	ExthdrIPv6   uint32 = 0
	ExthdrTCPOpt uint32 = 1
	ExthdrIPv4   uint32 = 2
	ExthdrSCTP   uint32 = 3
	ExthdrDCCP   uint32 = 4
)

// Exthdr loads or writes an extension header or option field.
type Exthdr struct {
	DReg, SReg  uint32
	Type        uint8
	Offset, Len uint32
	Flags       uint32 // NFT_EXTHDR_F_PRESENT
	Op          uint32
}

// Verdict register immediate is Immediate{Verdict: ...}.

// Log logs the packet.
type Log struct {
	Prefix     string
	HasPrefix  bool
	Group      uint16
	HasGroup   bool
	Snaplen    uint32
	QThreshold uint16
	Level      uint32
	HasLevel   bool
	Flags      uint32
}

// Limit rate-limits by packets or bytes.
type Limit struct {
	Rate  uint64
	Unit  uint64 // seconds per period
	Burst uint32
	Type  uint32 // NFT_LIMIT_PKTS, NFT_LIMIT_PKT_BYTES
	Flags uint32 // NFT_LIMIT_F_INV
}

// Quota matches until (or over) a byte quota.
type Quota struct {
	Bytes, Consumed uint64
	Flags           uint32 // NFT_QUOTA_F_INV
}

// Reject rejects the packet (NFT_REJECT_*).
type Reject struct {
	Type uint32
	Code uint8
}

// NAT is snat or dnat with registers for the address and port ranges.
type NAT struct {
	Type                     uint32 // NFT_NAT_SNAT=0, NFT_NAT_DNAT=1
	Family                   uint32
	RegAddrMin, RegAddrMax   uint32
	RegProtoMin, RegProtoMax uint32
	Flags                    uint32
}

// Masq is masquerade.
type Masq struct {
	Flags                    uint32
	RegProtoMin, RegProtoMax uint32
}

// Redir is redirect.
type Redir struct {
	Flags                    uint32
	RegProtoMin, RegProtoMax uint32
}

// Fib looks up the routing table.
type Fib struct {
	DReg   uint32
	Result uint32 // NFT_FIB_RESULT_*
	Flags  uint32 // NFTA_FIB_F_*
}

// Rt loads routing information.
type Rt struct {
	Key  uint32
	DReg uint32
}

// Socket loads socket information.
type Socket struct {
	Key   uint32
	DReg  uint32
	Level uint32
}

// Numgen generates numbers.
type Numgen struct {
	DReg    uint32
	Modulus uint32
	Type    uint32 // NFT_NG_INCREMENTAL, NFT_NG_RANDOM
	Offset  uint32
}

// Hash computes a hash.
type Hash struct {
	SReg, DReg uint32
	Len        uint32
	Modulus    uint32
	Seed       uint32
	HasSeed    bool
	Offset     uint32
	Type       uint32 // NFT_HASH_JENKINS, NFT_HASH_SYM
}

// Dynset adds, updates or deletes set elements from the packet path.
type Dynset struct {
	Op       uint32 // NFT_DYNSET_OP_ADD, UPDATE, DELETE
	SRegKey  uint32
	SRegData uint32
	Set      string
	SetID    uint32
	Timeout  uint64 // milliseconds
	Flags    uint32
	Exprs    []Expr
}

// Objref references a named object, by name or through a map.
type Objref struct {
	Type  uint32
	Name  string
	SReg  uint32 // map lookup form
	Set   string
	SetID uint32
}

// FlowOffload adds the flow to a flowtable ("flow add @ft").
type FlowOffload struct {
	Flowtable string
}

// Notrack disables conntrack for the packet.
type Notrack struct{}

// Dup duplicates the packet.
type Dup struct {
	RegAddr, RegDev uint32
}

// Fwd forwards the packet.
type Fwd struct {
	RegDev, RegAddr uint32
	NFProto         uint32
}

// Queue queues the packet to userspace.
type Queue struct {
	Num, Total uint16
	Flags      uint16
	SRegQnum   uint32
}

// Tproxy redirects to a local socket.
type Tproxy struct {
	Family           uint32
	RegAddr, RegPort uint32
}

// Synproxy answers SYNs on behalf of the server.
type Synproxy struct {
	MSS    uint16
	Wscale uint8
	Flags  uint32
}

// Connlimit limits connections.
type Connlimit struct {
	Count uint32
	Flags uint32
}

// Osf fingerprints the operating system.
type Osf struct {
	DReg  uint32
	TTL   uint8
	Flags uint32
}

// Last records when the rule last matched.
type Last struct {
	Set   bool
	Msecs uint64
}

// Xfrm loads IPsec state.
type Xfrm struct {
	DReg  uint32
	Key   uint32
	Dir   uint8
	SPNum uint32
}

// Inner matches inside a tunnel header.
type Inner struct {
	Num     uint32
	Type    uint32
	HdrSize uint32
	Flags   uint32
	Expr    Expr
}

// Tunnel loads tunnel metadata.
type Tunnel struct {
	Key  uint32
	DReg uint32
	Mode uint32
}

// CtHelper, CtTimeout, CtExpect and Secmark are the states of named objects.
type CtHelper struct {
	Name    string
	L3Proto uint16
	L4Proto uint8
}

// CtTimeout is a ct timeout object.
type CtTimeout struct {
	L3Proto uint16
	L4Proto uint8
	Policy  map[uint32]uint32 // state -> seconds
}

// CtExpect is a ct expectation object.
type CtExpect struct {
	L3Proto uint16
	L4Proto uint8
	DPort   uint16
	Timeout uint32
	Size    uint8
}

// Secmark is a secmark object.
type Secmark struct {
	Ctx string
}

func (*Payload) Kind() string     { return "payload" }
func (*Meta) Kind() string        { return "meta" }
func (*Cmp) Kind() string         { return "cmp" }
func (*Range) Kind() string       { return "range" }
func (*Bitwise) Kind() string     { return "bitwise" }
func (*Byteorder) Kind() string   { return "byteorder" }
func (*Immediate) Kind() string   { return "immediate" }
func (*Lookup) Kind() string      { return "lookup" }
func (*Counter) Kind() string     { return "counter" }
func (*Ct) Kind() string          { return "ct" }
func (*Exthdr) Kind() string      { return "exthdr" }
func (*Log) Kind() string         { return "log" }
func (*Limit) Kind() string       { return "limit" }
func (*Quota) Kind() string       { return "quota" }
func (*Reject) Kind() string      { return "reject" }
func (*NAT) Kind() string         { return "nat" }
func (*Masq) Kind() string        { return "masq" }
func (*Redir) Kind() string       { return "redir" }
func (*Fib) Kind() string         { return "fib" }
func (*Rt) Kind() string          { return "rt" }
func (*Socket) Kind() string      { return "socket" }
func (*Numgen) Kind() string      { return "numgen" }
func (*Hash) Kind() string        { return "hash" }
func (*Dynset) Kind() string      { return "dynset" }
func (*Objref) Kind() string      { return "objref" }
func (*FlowOffload) Kind() string { return "flow_offload" }
func (*Notrack) Kind() string     { return "notrack" }
func (*Dup) Kind() string         { return "dup" }
func (*Fwd) Kind() string         { return "fwd" }
func (*Queue) Kind() string       { return "queue" }
func (*Tproxy) Kind() string      { return "tproxy" }
func (*Synproxy) Kind() string    { return "synproxy" }
func (*Connlimit) Kind() string   { return "connlimit" }
func (*Osf) Kind() string         { return "osf" }
func (*Last) Kind() string        { return "last" }
func (*Xfrm) Kind() string        { return "xfrm" }
func (*Inner) Kind() string       { return "inner" }
func (*Tunnel) Kind() string      { return "tunnel" }
func (*CtHelper) Kind() string    { return "cthelper" }
func (*CtTimeout) Kind() string   { return "cttimeout" }
func (*CtExpect) Kind() string    { return "ctexpect" }
func (*Secmark) Kind() string     { return "secmark" }
