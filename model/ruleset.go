package model

import "time"

// Family is an nftables address family (the NFPROTO_* value).
type Family uint8

// The families nft knows, with their kernel values.
const (
	FamilyInet   Family = 1
	FamilyIP     Family = 2
	FamilyARP    Family = 3
	FamilyNetdev Family = 5
	FamilyBridge Family = 7
	FamilyIP6    Family = 10
)

var familyNames = map[Family]string{
	FamilyInet: "inet", FamilyIP: "ip", FamilyARP: "arp",
	FamilyNetdev: "netdev", FamilyBridge: "bridge", FamilyIP6: "ip6",
}

// String returns the family as nft writes it ("ip", "inet", ...).
func (f Family) String() string {
	if s, ok := familyNames[f]; ok {
		return s
	}
	return "unknown"
}

// ParseFamily maps an nft family name to its value.
func ParseFamily(s string) (Family, bool) {
	for f, n := range familyNames {
		if n == s {
			return f, true
		}
	}
	return 0, false
}

// Pos is the source position an object was compiled from. The zero Pos
// means unknown (for example an object read back from the kernel).
type Pos struct {
	File      string
	Line, Col int // 1-based
	// EndLine and EndCol mark the end of the source span, when known.
	EndLine, EndCol int
}

// IsValid reports whether the position is known.
func (p Pos) IsValid() bool { return p.Line > 0 }

// Table is an nftables table.
type Table struct {
	Family  Family
	Name    string
	Flags   uint32 // NFT_TABLE_F_*
	Handle  uint64
	Comment string // carried in NFTA_TABLE_USERDATA
	Pos     Pos
}

// ChainHook makes a chain a base chain.
type ChainHook struct {
	Type     string // "filter", "nat", "route"
	Hooknum  uint32 // NF_INET_* or NF_NETDEV_*
	Priority int32
	Devices  []string // netdev ingress/egress and inet ingress
}

// Chain is an nftables chain.
type Chain struct {
	Family  Family
	Table   string
	Name    string
	Handle  uint64
	Hook    *ChainHook // nil for a regular chain
	Policy  *uint32    // NF_ACCEPT or NF_DROP; nil when not given
	Flags   uint32     // NFT_CHAIN_*
	Comment string
	Pos     Pos

	// ID names the chain within one batch (NFTA_CHAIN_ID), so rules
	// (Rule.ChainID) and verdicts (Verdict.ChainID) can refer to it before
	// it has a handle; 0 when not needed.
	ID uint32
}

// Rule is an nftables rule: a list of netlink expressions.
type Rule struct {
	Family Family
	Table  string
	Chain  string
	Handle uint64
	// Position is the handle to add (or insert) the rule next to; 0 for
	// the end (or start) of the chain.
	Position uint64
	// ChainID refers to a chain created earlier in the same batch by its
	// NFTA_CHAIN_ID, when the chain has no handle yet; 0 otherwise.
	ChainID uint32
	Exprs   []Expr
	// ExprPos[i] is the source position expression i came from (the
	// statement or match that produced it); nil when unknown.
	ExprPos  []Pos
	Comment  string
	Userdata []byte // NFTA_RULE_USERDATA as sent (comment TLVs)
	Pos      Pos
}

// Set is an nftables set or map (named or anonymous).
type Set struct {
	Family Family
	Table  string
	Name   string // "__set%d" style for anonymous sets before the kernel names them
	ID     uint32 // NFTA_SET_ID, for references within one batch
	Handle uint64
	Flags  uint32 // NFT_SET_*

	KeyType      uint32 // nft datatype id (concatenations: packed ids)
	KeyLen       uint32 // bytes
	KeyByteorder uint32
	// DataByteorder is 1 when map data is in host byte order (a printing
	// hint like KeyByteorder).
	DataByteorder uint32
	DataType      uint32 // maps: datatype id, or NFT_DATA_VERDICT (0xffffff00)
	DataLen       uint32
	ObjType       uint32 // object maps
	Policy        *uint32
	Size          uint32 // NFTA_SET_DESC_SIZE; 0 when not given
	// FieldLens are the concatenation field lengths (NFTA_SET_DESC_CONCAT).
	FieldLens []uint32
	// DataFieldLens are the field lengths of concatenated map data
	// (addr . port for NAT maps); a printing hint, not sent.
	DataFieldLens []uint32
	Timeout       time.Duration
	GCInterval    time.Duration
	Userdata      []byte // NFTA_SET_USERDATA: key/data typeof, comment, merge
	Exprs         []Expr // per-element expressions (counter, quota, ...)
	Elements      []SetElem
	Pos           Pos

	// Slab, when set, holds the elements instead of Elements, compactly
	// (see ElemSlab); only listings of large sets ask for it.
	Slab *ElemSlab
}

// Verdict is a netfilter verdict (NF_ACCEPT, NFT_JUMP, ...).
type Verdict struct {
	Code  int32  // NF_DROP=0, NF_ACCEPT=1, NFT_CONTINUE=-1, NFT_BREAK=-2, NFT_JUMP=-3, NFT_GOTO=-4, NFT_RETURN=-5, NF_QUEUE=3
	Chain string // jump and goto
	// ChainID refers to a chain created in the same batch by its Chain.ID
	// (NFTA_VERDICT_CHAIN_ID), for bound anonymous chains; 0 otherwise.
	ChainID uint32
}

// SetElem is one element of a set or map.
type SetElem struct {
	Key        []byte
	KeyEnd     []byte // NFTA_SET_ELEM_KEY_END for concatenated ranges
	Data       []byte
	Verdict    *Verdict
	ObjRef     string
	Flags      uint32 // NFT_SET_ELEM_INTERVAL_END, NFT_SET_ELEM_CATCHALL
	Timeout    time.Duration
	Expiration time.Duration
	Userdata   []byte // comment
	Exprs      []Expr
	Pos        Pos
}

// Flowtable is an nftables flowtable.
type Flowtable struct {
	Family   Family
	Table    string
	Name     string
	Handle   uint64
	Hooknum  uint32 // NF_NETDEV_INGRESS
	Priority int32
	Devices  []string
	Flags    uint32 // NFT_FLOWTABLE_HW_OFFLOAD (0x1), NFT_FLOWTABLE_COUNTER (0x2)
	Use      uint32
	Pos      Pos
}

// Flowtable flags (uapi nf_tables.h).
const (
	FlowtableHWOffload uint32 = 0x1
	FlowtableCounter   uint32 = 0x2
)

// Object is a stateful named object (counter, quota, limit, ct helper, ...).
type Object struct {
	Family   Family
	Table    string
	Name     string
	Handle   uint64
	Type     uint32 // NFT_OBJECT_*
	Data     Expr   // the object's state, as the matching expression
	Userdata []byte
	Pos      Pos
}
