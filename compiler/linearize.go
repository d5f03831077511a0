package compiler

import (
	"fmt"
	"math/big"
	"sort"
	"strconv"
	"strings"

	"github.com/nftflow/nftflow/model"
	"github.com/nftflow/nftflow/parser"
)

// Set flags (NFT_SET_*).
const (
	setAnonymous uint32 = 0x1
	setConstant  uint32 = 0x2
	setInterval  uint32 = 0x4
	setMap       uint32 = 0x8
	setTimeout   uint32 = 0x10
	setEval      uint32 = 0x20
	setObject    uint32 = 0x40
	setConcat    uint32 = 0x80
)

// Cmp operators (NFT_CMP_*).
const (
	cmpEq uint32 = iota
	cmpNeq
	cmpLt
	cmpLte
	cmpGt
	cmpGte
)

// load is a selector after evaluation: what to emit to get its value
// into a register, and how its values are encoded.
type load struct {
	dt    *Datatype
	order ByteOrder
	size  uint32 // register bytes
	bits  uint32 // value bits (size*8 unless a sub-byte payload field)
	shift uint32 // values are shifted left by this many bits
	mask  []byte // non-nil: AND the register with mask after the load
	emit  func(reg uint32) []model.Expr
	deps  func(r *ruleCtx) error
	parts []*load // concatenation
	// context for dependency tracking
	proto *Proto
	field *Field
	meta  *MetaKey
	ct    *CtKey
	ctDir int // -1: no direction
	// typeof is the set typeof userdata of non-payload expressions
	// (numgen, hash, fib, rt), nil when not known
	typeof []byte
	prefix bool // payload loads may be shortened for a prefix match
	// present, when set, returns the "exists/missing" form of the load
	// (fib ... oif present)
	present         func() *load
	payBase, payOff uint32
}

// normalized returns l with a sub-byte field shifted down to its value,
// as nft does when such a field is a concatenation part, a named set or
// map key, or a statement's value: mask, convert to host order, shift.
func (l *load) normalized() *load {
	if l.mask == nil && l.shift == 0 {
		return l
	}
	n := *l
	inner, mask, shift, size := l.emit, l.mask, l.shift, l.size
	n.emit = func(reg uint32) []model.Expr {
		es := inner(reg)
		if mask != nil {
			es = append(es, &model.Bitwise{SReg: reg, DReg: reg, Len: size, Op: model.BitwiseBool, Mask: mask, Xor: make([]byte, size)})
		}
		if size > 1 && shift != 0 {
			es = append(es, &model.Byteorder{SReg: reg, DReg: reg, Op: 0, Len: size, Size: size})
		}
		if shift != 0 {
			es = append(es, &model.Bitwise{SReg: reg, DReg: reg, Len: size, Op: model.BitwiseRShift, Data: le32(shift)})
		}
		return es
	}
	n.mask, n.shift, n.prefix = nil, 0, false
	if size > 1 && shift != 0 {
		n.order = HostOrder
	}
	return &n
}

// hostHint reports whether l's values print as host-order numbers
// (strings print as bytes even though nft calls them host order).
func (l *load) hostHint() bool {
	return l.order == HostOrder && l.size > 1 && (l.dt == nil || !l.dt.IsA("string"))
}

// ruleCtx linearizes one rule.
type ruleCtx struct {
	c      *compiler
	t      *tableCtx
	family model.Family
	chain  string
	exprs  []model.Expr
	pos    []model.Pos
	cur    model.Pos
	// protocol context: the protocol known at each layer
	ll, nh, th string
	icmpType   bool // an icmp/icmpv6 type match was seen
	inner      map[string]*ruleCtx
	noMerge    bool // named sets without auto-merge keep adjacent intervals apart
	etherType  bool // network dependencies match the ether type
	innerLL    bool // inside a tunnel that carries a link layer header
	// etherSeen: a match of this rule established an Ethernet link
	// layer (meta iiftype ether, or an ether field and its dependency)
	etherSeen bool
	vlanDepth int // vlan tags matched as stacked ("vlan type 8021q")
	// unmergeable marks compares payload merging must leave alone
	unmergeable map[*model.Cmp]bool
	sets        []*model.Set // anonymous sets this rule creates
	// release clears the elements of the set expression anonSet compiles
	// as it goes (a set block's elements under Options.Release).
	release bool
	// lazyChunk > 0 lets anonSet leave the elements of a plain interval
	// set out and set lazy instead, which yields them lazyChunk intervals
	// at a time (a set block's elements under Options.Emit).
	lazyChunk int
	lazy      func(yield func([]model.SetElem))
}

func (r *ruleCtx) add(es ...model.Expr) {
	for _, e := range es {
		r.exprs = append(r.exprs, e)
		r.pos = append(r.pos, r.cur)
	}
}

// regFor converts a 32-bit register index (0-based from NFT_REG_1) to the
// register number nft puts on the wire: 128-bit numbers when aligned.
func regFor(idx uint32) uint32 {
	if idx%4 == 0 {
		return 1 + idx/4
	}
	return 8 + idx
}

func padded(n uint32) uint32 { return (n + 3) / 4 * 4 }

// ---------------------------------------------------------------------------
// selectors

func (r *ruleCtx) evalSel(e parser.Expr) (*load, error) {
	switch x := e.(type) {
	case *parser.Paren:
		return r.evalSel(x.X)
	case *parser.Selector:
		return r.selector(x.Path)
	case *parser.Concat:
		l := &load{}
		var ids []uint32
		for _, p := range x.Parts {
			pl, err := r.evalSel(p)
			if err != nil {
				return nil, err
			}
			pl = pl.normalized()
			l.parts = append(l.parts, pl)
			l.size += padded(pl.size)
			ids = append(ids, pl.dt.ID)
		}
		l.dt = &Datatype{ID: ConcatTypeID(ids...), Name: "concat"}
		l.bits = l.size * 8
		return l, nil
	case *parser.Primary:
		return r.primary(x)
	case *parser.Literal:
		if strings.HasPrefix(x.Text, "@") && strings.Count(x.Text, ",") == 2 {
			return r.rawSel(strings.Split(x.Text, ","))
		}
	case *parser.Binary:
		return r.binarySel(x)
	case *parser.VarRef:
		d, ok := r.t.defines[x.Name]
		if !ok {
			return nil, fmt.Errorf("undefined variable $%s", x.Name)
		}
		return r.evalSel(d)
	}
	return nil, fmt.Errorf("unsupported expression %T", e)
}

func (r *ruleCtx) binarySel(x *parser.Binary) (*load, error) {
	l, err := r.evalSel(x.X)
	if err != nil {
		return nil, err
	}
	inner := l.emit
	switch x.Op {
	case "&", "and", "|", "or", "^", "xor":
		v, err := encodeScalar(l.dt, l.size, l.order, x.Y)
		if err != nil {
			return nil, err
		}
		mask := make([]byte, l.size)
		xor := make([]byte, l.size)
		switch x.Op {
		case "&", "and":
			copy(mask, v)
		case "|", "or":
			for i := range mask {
				mask[i] = ^v[i]
			}
			copy(xor, v)
		default:
			for i := range mask {
				mask[i] = 0xff
			}
			copy(xor, v)
		}
		size := l.size
		host := l.hostHint()
		l.emit = func(reg uint32) []model.Expr {
			return append(inner(reg), &model.Bitwise{SReg: reg, DReg: reg, Len: size, Op: model.BitwiseBool, Mask: mask, Xor: xor, HostOrder: host})
		}
		return l, nil
	case "<<", ">>":
		s, _ := litText(x.Y)
		n, ok := parseNumber(s)
		if !ok {
			return nil, fmt.Errorf("bad shift %q", s)
		}
		op := model.BitwiseLShift
		if x.Op == ">>" {
			op = model.BitwiseRShift
		}
		size := l.size
		l.emit = func(reg uint32) []model.Expr {
			return append(inner(reg), &model.Bitwise{SReg: reg, DReg: reg, Len: size, Op: op, Data: le32(uint32(n.Uint64()))})
		}
		return l, nil
	}
	return nil, fmt.Errorf("unsupported operator %q", x.Op)
}

func (r *ruleCtx) selector(path []string) (*load, error) {
	if len(path) == 0 {
		return nil, fmt.Errorf("empty selector")
	}
	head := path[0]
	switch head {
	case "meta":
		if len(path) != 2 {
			return nil, fmt.Errorf("bad meta expression %q", strings.Join(path, " "))
		}
		return r.metaSel(path[1])
	case "ct":
		return r.ctSel(path[1:])
	case "rt":
		if len(path) >= 2 {
			if eh := exthdrByName("rt"); eh.Field(strings.Join(path[1:], " ")) != nil {
				return r.exthdrSel(eh, path[1:])
			}
		}
		return r.rtSel(path[1:])
	case "exthdr":
		if len(path) >= 2 {
			if eh := exthdrByName(path[1]); eh != nil {
				if len(path) == 2 {
					return existsLoad(model.ExthdrIPv6, eh.Type), nil
				}
				return r.exthdrSel(eh, path[2:])
			}
		}
	case "tcp":
		if len(path) >= 2 && path[1] == "option" {
			return r.tcpoptSel(path[2:])
		}
	case "ip":
		if len(path) >= 2 && path[1] == "option" {
			return nil, fmt.Errorf("ip option not supported")
		}
	}
	if strings.HasPrefix(head, "@") {
		return r.rawSel(path)
	}
	if head == "osf" {
		return r.osfSel(path[1:])
	}
	if tun := TunnelByName(head); tun != nil {
		return r.tunnelSel(tun, path[1:])
	}
	if p := ProtoByName(head); p != nil && len(path) >= 2 {
		fname := strings.Join(path[1:], " ")
		fd := p.Field(fname)
		if fd == nil {
			return nil, fmt.Errorf("%s has no field %q", head, fname)
		}
		return r.payloadSel(p, fd), nil
	}
	if mk := MetaKeyByName(head); mk != nil && len(path) == 1 {
		return r.metaSel(head)
	}
	if ek := exthdrByName(head); ek != nil {
		return r.exthdrSel(ek, path[1:])
	}
	return nil, fmt.Errorf("unknown selector %q", strings.Join(path, " "))
}

func (r *ruleCtx) payloadSel(p *Proto, fd *Field) *load {
	if p.Name == "vlan" && r.vlanDepth > 0 {
		// a stacked (802.1ad + 802.1q) tag: the inner header follows
		q := *p
		q.Offset += 32 * uint32(r.vlanDepth)
		p = &q
	}
	off := p.Offset + fd.Offset
	byteOff := off / 8
	end := (off + fd.Len + 7) / 8
	n := end - byteOff
	dt := DatatypeByName(fd.Type)
	l := &load{dt: dt, order: BigEndian, size: n, bits: fd.Len, proto: p, field: fd,
		payBase: uint32(p.Layer), payOff: byteOff}
	if dt != nil && dt.Order == HostOrder && dt.Name != "integer" {
		l.order = HostOrder
	}
	if off%8 != 0 || fd.Len%8 != 0 {
		l.shift = n*8 - off%8 - fd.Len
		m := new(big.Int).Lsh(new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), uint(fd.Len)), big.NewInt(1)), uint(l.shift))
		l.mask = encodeInt(m, n, BigEndian)
	} else {
		l.prefix = true
	}
	base := uint32(p.Layer)
	l.emit = func(reg uint32) []model.Expr {
		return []model.Expr{&model.Payload{DReg: reg, Base: base, Offset: byteOff, Len: n}}
	}
	l.deps = func(r *ruleCtx) error {
		if err := r.protoDep(p); err != nil {
			return err
		}
		return r.icmpTypeDep(p, fd)
	}
	return l
}

// icmpTypeDeps are the ICMP types a field only exists in; nft matches the
// type before loading such a field.
var icmpTypeDeps = map[string][]byte{
	"icmp id": {8, 0}, "icmp sequence": {8, 0}, "icmp gateway": {5}, "icmp mtu": {3},
	"icmpv6 id": {128, 129}, "icmpv6 sequence": {128, 129}, "icmpv6 mtu": {2},
	"icmpv6 parameter-problem": {4}, "icmpv6 max-delay": {130},
	"icmpv6 taddr": {130, 131, 132, 135, 136, 137}, "icmpv6 daddr": {137},
}

func (r *ruleCtx) icmpTypeDep(p *Proto, fd *Field) error {
	types, ok := icmpTypeDeps[p.Name+" "+fd.Name]
	if !ok || r.icmpType {
		return nil
	}
	r.add(&model.Payload{DReg: 1, Base: model.BaseTransport, Offset: 0, Len: 1})
	if len(types) == 1 {
		r.add(&model.Cmp{SReg: 1, Op: cmpEq, Data: []byte{types[0]}})
	} else {
		r.c.setID++
		s := &model.Set{Family: r.family, Table: r.t.name, Name: "__set%d", ID: r.c.setID,
			Flags: setAnonymous | setConstant, KeyType: TypeICMPType, KeyLen: 1, Pos: r.cur}
		if p.Name == "icmpv6" {
			s.KeyType = TypeICMP6Type
		}
		for _, t := range types {
			s.Elements = append(s.Elements, model.SetElem{Key: []byte{t}})
		}
		r.sets = append(r.sets, s)
		r.add(&model.Lookup{SReg: 1, Set: s.Name, SetID: s.ID})
	}
	r.icmpType = true
	return nil
}

func (r *ruleCtx) metaSel(name string) (*load, error) {
	mk := MetaKeyByName(name)
	if mk == nil {
		return nil, fmt.Errorf("unknown meta key %q", name)
	}
	dt := DatatypeByName(mk.Type)
	order := HostOrder
	if dt != nil && dt.Order == BigEndian {
		order = BigEndian
	}
	l := &load{dt: dt, order: order, size: mk.Len, bits: mk.Len * 8, meta: mk}
	key := mk.Key
	l.emit = func(reg uint32) []model.Expr { return []model.Expr{&model.Meta{Key: key, DReg: reg}} }
	return l, nil
}

func (r *ruleCtx) ctSel(path []string) (*load, error) {
	dir := -1
	if len(path) > 0 && (path[0] == "original" || path[0] == "reply") {
		dir = 0
		if path[0] == "reply" {
			dir = 1
		}
		path = path[1:]
	}
	name := strings.Join(path, " ")
	ck := CtKeyByName(name)
	if ck == nil {
		return nil, fmt.Errorf("unknown ct key %q", name)
	}
	dt := DatatypeByName(ck.Type)
	size := ck.Len
	if size == 0 {
		size = 4
		if r.family == model.FamilyIP6 {
			size = 16
			dt = DatatypeByName("ipv6_addr")
		}
	}
	order := HostOrder
	if dt != nil && dt.Order == BigEndian {
		order = BigEndian
	}
	key := ck.Key
	l := &load{dt: dt, order: order, size: size, bits: size * 8, ct: CtKeyByName(name), ctDir: dir}
	l.emit = func(reg uint32) []model.Expr {
		c := &model.Ct{Key: key, DReg: reg}
		if dir >= 0 {
			c.Direction, c.HasDirection = uint8(dir), true
		}
		return []model.Expr{c}
	}
	if strings.HasPrefix(name, "ip ") || strings.HasPrefix(name, "ip6 ") {
		nfp := uint64(2)
		if strings.HasPrefix(name, "ip6") {
			nfp = 10
		}
		l.deps = func(r *ruleCtx) error {
			if r.family == model.FamilyInet && r.nh == "" {
				r.add(&model.Meta{Key: 15, DReg: 1}, &model.Cmp{SReg: 1, Op: cmpEq, Data: []byte{byte(nfp)}})
			}
			return nil
		}
	}
	return l, nil
}

func (r *ruleCtx) rtSel(path []string) (*load, error) {
	if len(path) == 0 {
		return nil, fmt.Errorf("rt: missing key")
	}
	var key, size uint32
	var typ string
	switch strings.Join(path, " ") {
	case "classid":
		key, size, typ = 0, 4, "realm"
	case "nexthop", "ip nexthop":
		key, size, typ = 1, 4, "ipv4_addr"
		if r.family == model.FamilyIP6 || path[0] == "ip6" {
			key, size, typ = 2, 16, "ipv6_addr"
		}
	case "ip6 nexthop":
		key, size, typ = 2, 16, "ipv6_addr"
	case "mtu":
		key, size, typ = 3, 2, "integer" // host byte order
	case "ipsec":
		key, size, typ = 4, 1, "boolean"
	default:
		return nil, fmt.Errorf("unknown rt key %q", strings.Join(path, " "))
	}
	dt := DatatypeByName(typ)
	l := &load{dt: dt, order: dt.Order, size: size, bits: size * 8,
		typeof: append(tlvU32(udataTypeofExpr, exprRt), tlv(udataTypeofData, tlvU32(0, key))...)}
	l.emit = func(reg uint32) []model.Expr { return []model.Expr{&model.Rt{Key: key, DReg: reg}} }
	return l, nil
}

func (r *ruleCtx) rawSel(path []string) (*load, error) {
	if len(path) != 3 {
		return nil, fmt.Errorf("bad raw payload expression")
	}
	var base uint32
	switch path[0] {
	case "@ll":
		base = model.BaseLL
	case "@nh":
		base = model.BaseNetwork
	case "@th":
		base = model.BaseTransport
	case "@ih":
		base = model.BaseInner
	default:
		return nil, fmt.Errorf("unknown payload base %q", path[0])
	}
	off, err1 := strconv.ParseUint(path[1], 10, 32)
	n, err2 := strconv.ParseUint(path[2], 10, 32)
	if err1 != nil || err2 != nil {
		return nil, fmt.Errorf("bad raw payload offset or length")
	}
	p := &Proto{Name: "raw", Layer: Layer(base)}
	fd := &Field{Name: "raw", Offset: uint32(off), Len: uint32(n), Type: "integer"}
	if base == model.BaseTransport && n == 16 && (off == 0 || off == 16) {
		// nft takes @th,0,16 and @th,16,16 for th sport and th dport
		// (inet_service sets, th typeof userdata)
		th := ProtoByName("th")
		if f := th.Field(map[uint64]string{0: "sport", 16: "dport"}[off]); f != nil {
			p, fd = th, f
		}
	}
	l := r.payloadSel(p, fd)
	l.deps = nil
	return l, nil
}

// ---------------------------------------------------------------------------
// dependencies

func (r *ruleCtx) metaCmp(key uint32, data []byte) {
	r.add(&model.Meta{Key: key, DReg: 1}, &model.Cmp{SReg: 1, Op: cmpEq, Data: data, HostOrder: key == 8})
}

// protoDep emits what nft puts before a payload load of protocol p so the
// load only runs on packets that carry p, and records p in the context.
func (r *ruleCtx) protoDep(p *Proto) error {
	switch p.Layer {
	case LayerLink:
		if r.ll == "" {
			r.ll = "ether"
			r.etherSeen = true
			if r.family != model.FamilyBridge {
				r.metaCmp(8, le16(1)) // meta iiftype ether
			}
		}
		if p.Name == "vlan" && r.ll != "vlan" {
			r.add(&model.Payload{DReg: 1, Base: model.BaseLL, Offset: 12, Len: 2},
				&model.Cmp{SReg: 1, Op: cmpEq, Data: be16(0x8100)})
			r.ll = "vlan"
		}
	case LayerNetwork:
		return r.nhDep(p.Name)
	case LayerTransport:
		if r.th == p.Name || p.Name == "th" {
			return nil
		}
		// nft matches the ether type (not meta protocol) for the network
		// layer a transport protocol needs where a link layer header is
		// known: the bridge family and tunnels carrying Ethernet
		saved := r.etherType
		r.etherType = r.family == model.FamilyBridge || r.innerLL
		switch p.Name {
		case "icmp", "igmp":
			if err := r.nhDepIf("ip"); err != nil {
				return err
			}
		case "icmpv6":
			if err := r.nhDepIf("ip6"); err != nil {
				return err
			}
		}
		r.etherType = saved
		r.metaCmp(16, []byte{byte(p.Number)})
		r.th = p.Name
	}
	return nil
}

func (r *ruleCtx) nhDepIf(name string) error {
	switch r.family {
	case model.FamilyInet, model.FamilyBridge, model.FamilyNetdev:
		return r.nhDep(name)
	}
	return nil
}

func (r *ruleCtx) nhDep(name string) error {
	if r.nh == name {
		return nil
	}
	fam := map[string]model.Family{"ip": model.FamilyIP, "ip6": model.FamilyIP6, "arp": model.FamilyARP}[name]
	switch r.family {
	case fam:
	case model.FamilyInet:
		if name == "arp" {
			return fmt.Errorf("arp is not supported in the inet family")
		}
		if r.etherSeen && r.ll == "ether" {
			// the link layer is known to be ethernet (meta iiftype
			// ether, an ether field before): nft matches its type
			r.add(&model.Payload{DReg: 1, Base: model.BaseLL, Offset: 12, Len: 2},
				&model.Cmp{SReg: 1, Op: cmpEq, Data: be16(uint16(ProtoByName(name).Number))})
			break
		}
		r.metaCmp(15, []byte{byte(fam)})
	case model.FamilyBridge, model.FamilyNetdev:
		p := ProtoByName(name)
		if r.ll == "vlan" {
			r.add(&model.Payload{DReg: 1, Base: model.BaseLL, Offset: 16 + 4*uint32(r.vlanDepth), Len: 2},
				&model.Cmp{SReg: 1, Op: cmpEq, Data: be16(uint16(p.Number))})
		} else if r.etherType || r.family == model.FamilyNetdev && r.etherSeen && r.ll == "ether" {
			r.add(&model.Payload{DReg: 1, Base: model.BaseLL, Offset: 12, Len: 2},
				&model.Cmp{SReg: 1, Op: cmpEq, Data: be16(uint16(p.Number))})
		} else {
			r.metaCmp(1, be16(uint16(p.Number)))
		}
	default:
		return fmt.Errorf("%s is not supported in the %s family", name, r.family)
	}
	r.nh = name
	return nil
}

// learn records what a match establishes ("meta l4proto tcp" makes tcp
// known) so later selectors need no dependency.
func (r *ruleCtx) learn(l *load, op string, value []byte) {
	if op != "" && op != "==" && op != "eq" {
		return
	}
	if len(value) == 0 {
		return
	}
	var num uint64
	for _, b := range value {
		num = num<<8 | uint64(b)
	}
	byNumber := func(layer Layer, n uint64) string {
		for _, p := range protos {
			if p.Layer == layer && uint64(p.Number) == n && p.Number != 0 {
				return p.Name
			}
		}
		return ""
	}
	switch {
	case l.meta != nil && l.meta.Name == "l4proto",
		l.field != nil && l.proto.Name == "ip" && l.field.Name == "protocol",
		l.field != nil && l.proto.Name == "ip6" && l.field.Name == "nexthdr":
		r.th = byNumber(LayerTransport, num)
	case l.meta != nil && l.meta.Name == "nfproto":
		r.nh = map[uint64]string{2: "ip", 10: "ip6"}[num]
	case l.meta != nil && l.meta.Name == "protocol",
		l.field != nil && l.proto.Name == "ether" && l.field.Name == "type":
		r.nh = byNumber(LayerNetwork, num)
		if r.nh == "" && (num == 0x8100 || num == 0x88a8) {
			r.ll = "vlan"
		}
	case l.meta != nil && l.meta.Name == "iiftype" && len(value) == 2 && value[0] == 1 && value[1] == 0:
		// meta iiftype ether (host order)
		if r.ll == "" {
			r.ll = "ether"
			r.etherSeen = true
		}
	case l.field != nil && (l.proto.Name == "icmp" || l.proto.Name == "icmpv6") && l.field.Name == "type":
		r.icmpType = true
	case l.field != nil && l.proto.Name == "vlan" && l.field.Name == "type":
		r.nh = byNumber(LayerNetwork, num)
		if num == 0x8100 || num == 0x88a8 {
			r.vlanDepth++
		}
	}
}

// ---------------------------------------------------------------------------
// relational expressions

func (r *ruleCtx) relational(rel *parser.Relational) error {
	left := rel.Left
	var xorWith parser.Expr
	if b, ok := left.(*parser.Binary); ok && (b.Op == "^" || b.Op == "xor") {
		if _, isLit := b.Y.(*parser.Literal); isLit {
			// "x ^ c == v" is "x == v ^ c"
			left, xorWith = b.X, b.Y
		}
	}
	l, err := r.evalSel(left)
	if err != nil {
		return err
	}
	if xorWith != nil {
		if _, isLit := rel.Right.(*parser.Literal); !isLit {
			return fmt.Errorf("xor with a non-constant comparison is not supported")
		}
		rel = &parser.Relational{Span: rel.Span, Op: rel.Op, Left: left,
			Right: &parser.Binary{Op: "^", X: rel.Right, Y: xorWith}}
	}
	if err := r.emitDeps(l); err != nil {
		return err
	}
	right := rel.Right
	if v, ok := right.(*parser.VarRef); ok {
		d, ok := r.t.defines[v.Name]
		if !ok {
			return fmt.Errorf("undefined variable $%s", v.Name)
		}
		right = d
	}
	right = normFlags(right)
	op := rel.Op
	if op == "!" {
		// "ct status ! dnat": none of the flags is set
		right, op = &parser.Unary{Op: "!", X: right}, ""
	}
	if b, ok := right.(*parser.Binary); ok && b.Op == "/" {
		// flag test "tcp flags syn / syn,ack": (x & mask) == value
		val, err := r.value(l, b.X)
		if err != nil {
			return err
		}
		mask, err := r.value(l, b.Y)
		if err != nil {
			return err
		}
		r.emitLoad(l, 1)
		cop := cmpEq
		if op == "!=" || op == "ne" {
			cop = cmpNeq
		}
		host := l.hostHint()
		r.add(&model.Bitwise{SReg: 1, DReg: 1, Len: l.size, Op: model.BitwiseBool, Mask: mask, Xor: make([]byte, l.size), HostOrder: host},
			&model.Cmp{SReg: 1, Op: cop, Data: val, HostOrder: host})
		return nil
	}
	if _, isBin := rel.Left.(*parser.Binary); isBin && op == "" {
		// "tcp flags & (syn|ack) syn" compares the masked value
		op = "=="
	}
	if lit, ok := right.(*parser.Literal); ok && l.present != nil && (lit.Text == "exists" || lit.Text == "missing") {
		l = l.present()
	}
	if x, ok := right.(*parser.SetExpr); ok && len(x.Elems()) == 1 && len(l.parts) == 0 {
		// a one-element anonymous set is a plain comparison
		el := x.Elems()[0]
		if e, ok := el.(*parser.Elem); ok && len(e.Opts) == 0 && len(e.Stmts) == 0 {
			el = e.Key
		}
		switch el.(type) {
		case *parser.MapElem, *parser.Elem:
		default:
			if op == "!=" || op == "ne" || op == "" || op == "==" || op == "eq" {
				return r.relational(&parser.Relational{Span: rel.Span, Op: op, Left: rel.Left, Right: el})
			}
		}
	}
	if l.field != nil && (l.proto.Name == "icmp" || l.proto.Name == "icmpv6") && l.field.Name == "type" && op != "!=" && op != "ne" {
		r.icmpType = true
	}
	switch x := right.(type) {
	case *parser.SetExpr:
		if len(l.parts) > 0 && setHasInterval(x) {
			r.emitLoadHton(l, 1)
		} else {
			r.emitLoad(l, 1)
		}
		s, err := r.anonSet(l, x, nil)
		if err != nil {
			return err
		}
		if s.Flags&setInterval != 0 && len(l.parts) == 0 && l.hostHint() {
			// interval sets hold big-endian keys
			r.add(&model.Byteorder{SReg: 1, DReg: 1, Op: 1, Len: l.size, Size: l.size})
		}
		lk := &model.Lookup{SReg: 1, Set: s.Name, SetID: s.ID}
		if op == "!=" || op == "ne" {
			lk.Flags = 1
		}
		r.add(lk)
		return nil
	case *parser.SetRef:
		s := r.t.sets[x.Name]
		l = l.normalized()
		r.emitKey(l, s != nil && s.Flags&setInterval != 0, 1)
		lk := &model.Lookup{SReg: 1, Set: x.Name}
		if s != nil {
			lk.SetID = s.ID
		}
		if op == "!=" || op == "ne" {
			lk.Flags = 1
		}
		r.add(lk)
		return nil
	case *parser.Range:
		return r.rangeMatch(l, op, x)
	case *parser.Unary:
		if (x.Op == "!" || x.Op == "not") && l.dt != nil && l.dt.Bitmask {
			// "ct status ! dnat": none of the flags is set
			val, err := r.value(l, x.X)
			if err != nil {
				return err
			}
			r.emitLoad(l, 1)
			host := l.hostHint()
			r.add(&model.Bitwise{SReg: 1, DReg: 1, Len: l.size, Op: model.BitwiseBool, Mask: val, Xor: make([]byte, l.size), HostOrder: host},
				&model.Cmp{SReg: 1, Op: cmpEq, Data: make([]byte, l.size), HostOrder: host})
			return nil
		}
	case *parser.Prefix:
		return r.prefixMatch(l, op, x)
	}
	if len(l.parts) > 0 {
		return fmt.Errorf("concatenation compared with a single value")
	}
	if op == "/" {
		// flag test: (x & mask) == value
		lhs, rhs := rel.Right, rel.Right
		if b, ok := right.(*parser.Binary); ok && b.Op == "/" {
			lhs, rhs = b.X, b.Y
		}
		_ = lhs
		return fmt.Errorf("unsupported flag test %T", rhs)
	}
	val, err := r.value(l, right)
	if err != nil {
		return err
	}
	if isWildcard(right) && l.dt != nil && l.dt.IsA("string") {
		// "eth*" compares the prefix only
		val = val[:len(strings.TrimSuffix(right.(*parser.Literal).Value(), "*"))]
	}
	// a bitmask type with an implicit operator tests flags
	if op == "" && l.dt != nil && l.dt.Bitmask && !isZero(val) {
		if _, isList := right.(*parser.List); isList || !singleBit(val) || true {
			r.emitLoad(l, 1)
			m := l.mask
			if m != nil {
				m = andBytes(m, val)
			} else {
				m = val
			}
			host := l.hostHint()
			r.add(&model.Bitwise{SReg: 1, DReg: 1, Len: l.size, Op: model.BitwiseBool, Mask: m, Xor: make([]byte, l.size), HostOrder: host},
				&model.Cmp{SReg: 1, Op: cmpNeq, Data: make([]byte, l.size), HostOrder: host})
			return nil
		}
	}
	if b, ok := right.(*parser.Binary); ok && (b.Op == "|" || b.Op == "or") && op == "" && l.dt != nil && l.dt.Bitmask {
		_ = b
	}
	cop := cmpEq
	switch op {
	case "", "==", "eq":
	case "!=", "ne":
		cop = cmpNeq
	case "<", "lt":
		cop = cmpLt
	case "<=", "le":
		cop = cmpLte
	case ">", "gt":
		cop = cmpGt
	case ">=", "ge":
		cop = cmpGte
	default:
		return fmt.Errorf("unsupported operator %q", op)
	}
	r.emitLoad(l, 1)
	host := l.hostHint()
	if cop >= cmpLt && host && l.size > 1 {
		r.add(&model.Byteorder{SReg: 1, DReg: 1, Op: 1, Len: l.size, Size: l.size})
		reverse(val)
		host = false
	}
	r.add(&model.Cmp{SReg: 1, Op: cop, Data: val, HostOrder: host})
	r.learn(l, op, val)
	return nil
}

func isZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

func singleBit(b []byte) bool {
	n := 0
	for _, c := range b {
		for ; c != 0; c &= c - 1 {
			n++
		}
	}
	return n == 1
}

func andBytes(a, b []byte) []byte {
	out := make([]byte, len(a))
	for i := range a {
		out[i] = a[i] & b[i]
	}
	return out
}

func (r *ruleCtx) emitDeps(l *load) error {
	if len(l.parts) > 0 {
		for _, p := range l.parts {
			if err := r.emitDeps(p); err != nil {
				return err
			}
		}
		return nil
	}
	if l.deps != nil {
		return l.deps(r)
	}
	return nil
}

// normFlags regroups the parser's flat lists around "!" and "/":
// "! fin,rst" arrives as [!fin, rst] and "fin,syn / fin,syn" as
// [fin, syn / [fin, syn]].
func normFlags(e parser.Expr) parser.Expr {
	l, ok := e.(*parser.List)
	if !ok || len(l.Elems) == 0 {
		return e
	}
	if u, ok := l.Elems[0].(*parser.Unary); ok && (u.Op == "!" || u.Op == "not") {
		elems := append([]parser.Expr{u.X}, l.Elems[1:]...)
		return &parser.Unary{Span: l.Span, Op: u.Op, X: &parser.List{Span: l.Span, Elems: elems}}
	}
	for i, el := range l.Elems {
		if b, ok := el.(*parser.Binary); ok && b.Op == "/" {
			vals := append(append([]parser.Expr(nil), l.Elems[:i]...), b.X)
			mask := b.Y
			if i+1 < len(l.Elems) {
				ml := []parser.Expr{b.Y}
				if bl, ok := b.Y.(*parser.List); ok {
					ml = bl.Elems
				}
				mask = &parser.List{Span: l.Span, Elems: append(ml, l.Elems[i+1:]...)}
			}
			return &parser.Binary{Span: l.Span, Op: "/", X: &parser.List{Span: l.Span, Elems: vals}, Y: mask}
		}
	}
	return e
}

// setHasInterval reports whether any element of x is a range or a prefix,
// also inside a concatenation.
func setHasInterval(x *parser.SetExpr) bool {
	var isIv func(e parser.Expr) bool
	isIv = func(e parser.Expr) bool {
		switch k := e.(type) {
		case *parser.MapElem:
			return isIv(k.Key)
		case *parser.Elem:
			return isIv(k.Key)
		case *parser.Range, *parser.Prefix:
			return true
		case *parser.Literal:
			return isWildcard(k)
		case *parser.Concat:
			for _, p := range k.Parts {
				if isIv(p) {
					return true
				}
			}
		}
		return false
	}
	for _, el := range x.Elems() {
		if isIv(el) {
			return true
		}
	}
	return false
}

// emitKey loads a set lookup key; keys of interval sets are converted to
// big endian as nft does.
func (r *ruleCtx) emitKey(l *load, interval bool, reg uint32) {
	switch {
	case interval && len(l.parts) > 0:
		r.emitLoadHton(l, reg)
	case interval && l.hostHint():
		r.emitLoad(l, reg)
		r.add(&model.Byteorder{SReg: reg, DReg: reg, Op: 1, Len: l.size, Size: l.size})
	default:
		r.emitLoad(l, reg)
	}
}

// emitLoadHton loads a concatenation for an interval set lookup: host
// byte order parts are converted to big endian after their load.
func (r *ruleCtx) emitLoadHton(l *load, reg uint32) {
	idx := (reg - 1) * 4
	for _, p := range l.parts {
		r.emitLoad32(p, idx)
		if p.hostHint() {
			rg := regFor(idx)
			r.add(&model.Byteorder{SReg: rg, DReg: rg, Op: 1, Len: p.size, Size: p.size})
		}
		idx += padded(p.size) / 4
	}
}

// emitLoad loads l into register reg (a 128-bit register number; concat
// parts go to consecutive 32-bit registers).
func (r *ruleCtx) emitLoad(l *load, reg uint32) {
	if len(l.parts) > 0 {
		idx := (reg - 1) * 4
		for _, p := range l.parts {
			r.emitLoad32(p, idx)
			idx += padded(p.size) / 4
		}
		return
	}
	r.add(l.emit(reg)...)
	if l.mask != nil {
		r.add(&model.Bitwise{SReg: reg, DReg: reg, Len: l.size, Op: model.BitwiseBool, Mask: l.mask, Xor: make([]byte, l.size)})
	}
}

// emitLoadAt loads l starting at 32-bit register index idx (0 is the
// first word of NFT_REG_1); concatenations fill consecutive words.
func (r *ruleCtx) emitLoadAt(l *load, idx uint32) {
	if len(l.parts) == 0 {
		r.emitLoad32(l, idx)
		return
	}
	for _, p := range l.parts {
		r.emitLoad32(p, idx)
		idx += padded(p.size) / 4
	}
}

func (r *ruleCtx) emitLoad32(l *load, idx uint32) {
	reg := regFor(idx)
	r.add(l.emit(reg)...)
	if l.mask != nil {
		r.add(&model.Bitwise{SReg: reg, DReg: reg, Len: l.size, Op: model.BitwiseBool, Mask: l.mask, Xor: make([]byte, l.size)})
	}
}

// value encodes a constant for comparison with l's register.
func (r *ruleCtx) value(l *load, e parser.Expr) ([]byte, error) {
	if v, ok := e.(*parser.VarRef); ok {
		d, ok := r.t.defines[v.Name]
		if !ok {
			return nil, fmt.Errorf("undefined variable $%s", v.Name)
		}
		return r.value(l, d)
	}
	if len(l.parts) > 0 {
		c, ok := e.(*parser.Concat)
		if !ok || len(c.Parts) != len(l.parts) {
			return nil, fmt.Errorf("value does not match the concatenation")
		}
		var out []byte
		for i, p := range l.parts {
			v, err := r.value(p, c.Parts[i])
			if err != nil {
				return nil, err
			}
			out = append(out, v...)
			out = append(out, make([]byte, padded(p.size)-p.size)...)
		}
		return out, nil
	}
	if l.shift != 0 || (l.bits < l.size*8) {
		v, err := encodeScalar(l.dt, l.size, l.order, e)
		if err != nil {
			return nil, err
		}
		n := new(big.Int).SetBytes(v)
		n.Lsh(n, uint(l.shift))
		return encodeInt(n, l.size, BigEndian), nil
	}
	return encodeScalar(l.dt, l.size, l.order, e)
}

func (r *ruleCtx) rangeMatch(l *load, op string, x *parser.Range) error {
	lo, err := r.value(l, x.Lo)
	if err != nil {
		return err
	}
	hi, err := r.value(l, x.Hi)
	if err != nil {
		return err
	}
	r.emitLoad(l, 1)
	if l.order == HostOrder && l.size > 1 {
		r.add(&model.Byteorder{SReg: 1, DReg: 1, Op: 1, Len: l.size, Size: l.size})
		reverse(lo)
		reverse(hi)
	}
	rop := uint32(0)
	if op == "!=" || op == "ne" {
		rop = 1
	}
	r.add(&model.Range{SReg: 1, Op: rop, From: lo, To: hi})
	return nil
}

func (r *ruleCtx) prefixMatch(l *load, op string, x *parser.Prefix) error {
	v, err := r.value(l, x.X)
	if err != nil {
		return err
	}
	n, err := strconv.Atoi(x.Len.Value())
	if err != nil || n < 0 || n > int(l.size)*8 || len(v) != int(l.size) {
		return fmt.Errorf("bad prefix length %q", x.Len.Value())
	}
	cop := cmpEq
	if op == "!=" || op == "ne" {
		cop = cmpNeq
	}
	if l.prefix && n%8 == 0 && n > 0 && l.emit != nil {
		// nft loads only the prefix bytes (a /0 prefix: the whole
		// field, masked with zeros, below)
		nb := uint32(n / 8)
		exprs := l.emit(1)
		e := exprs[0]
		if in, ok := e.(*model.Inner); ok {
			e = in.Expr
		}
		if p, ok := e.(*model.Payload); ok {
			p.Len = nb
			r.add(exprs[0])
			c := &model.Cmp{SReg: 1, Op: cop, Data: v[:nb]}
			r.add(c)
			// a prefix is not a value: nft does not merge it
			if r.unmergeable == nil {
				r.unmergeable = map[*model.Cmp]bool{}
			}
			r.unmergeable[c] = true
			return nil
		}
	}
	r.emitLoad(l, 1)
	mask := prefixMask(l.size, n)
	r.add(&model.Bitwise{SReg: 1, DReg: 1, Len: l.size, Op: model.BitwiseBool, Mask: mask, Xor: make([]byte, l.size)},
		&model.Cmp{SReg: 1, Op: cop, Data: andBytes(v, mask)})
	return nil
}

// prefixMaskByte is byte i of prefixMask(size, n).
func prefixMaskByte(i, n int) byte {
	switch {
	case n >= (i+1)*8:
		return 0xff
	case n <= i*8:
		return 0
	}
	return byte(0xff << (8 - (n - i*8)))
}

func prefixMask(size uint32, n int) []byte {
	m := make([]byte, size)
	for i := 0; i < n && i < int(size)*8; i++ {
		m[i/8] |= 0x80 >> (i % 8)
	}
	return m
}

// ---------------------------------------------------------------------------
// anonymous sets

type interval struct {
	lo, hi []byte // inclusive, big-endian comparable
	i      int    // the element it came from (mergeIntervals)
}

// anonSet builds an anonymous set (or map when data is non-nil) for the
// elements of x, keyed by l.
func (r *ruleCtx) anonSet(l *load, x *parser.SetExpr, data *load) (*model.Set, error) {
	t := r.t
	x = r.expandSetVars(x)
	t.c.setID++
	s := &model.Set{Family: r.family, Table: t.name, Name: "__set%d", ID: t.c.setID,
		Flags: setAnonymous | setConstant, KeyType: l.dt.ID, KeyLen: l.size, Pos: t.c.pos(x)}
	if l.order == HostOrder {
		s.KeyByteorder = 1
	}
	if len(l.parts) > 0 {
		for _, p := range l.parts {
			s.FieldLens = append(s.FieldLens, p.size)
			if p.order == HostOrder && p.size > 1 {
				s.KeyByteorder = 1
			}
		}
	}
	isVmap := false
	if data != nil {
		s.Name = "__map%d"
		s.Flags |= setMap
		if data.dt != nil {
			s.DataType = data.dt.ID
			s.DataLen = data.size
		}
		if data.order == HostOrder {
			s.DataByteorder = 1
		}
		if data.dt != nil && data.dt.ID == TypeVerdict {
			isVmap = true
			s.DataType = TypeVerdictData
			s.DataLen = 0
		}
	}
	var isInterval bool
	if x.Compact() {
		isInterval = compactHasInterval(x)
	} else {
		isInterval = setHasInterval(x)
	}
	if isInterval {
		s.Flags |= setInterval
		if len(l.parts) > 0 {
			s.Flags |= setConcat
			s.KeyByteorder = 0 // keys are converted to big endian
		}
	}
	var ivs []interval
	type mapData struct {
		data    []byte
		verdict *model.Verdict
		objref  string
	}
	// The interval elements' templates: their positions, and the whole
	// element for the few that carry more (data, timeouts, comments).
	var tmplPos []model.Pos
	var tmpls map[int]model.SetElem
	var catchall []model.SetElem
	if x.Compact() && isInterval && data == nil && compactAddrKey(l) {
		// addresses read from the text: no syntax tree, twelve bytes an
		// IPv4 interval
		c, err := r.compactIntervals(l, x)
		if err != nil {
			return nil, err
		}
		merge := !r.noMerge
		ms := c.merge(merge)
		if chunk := r.lazyChunk; chunk > 0 {
			r.lazy = func(yield func([]model.SetElem)) { ms.expand(x, t.c.pos, merge, chunk, yield) }
		} else {
			ms.expand(x, t.c.pos, merge, 0, func(es []model.SetElem) { s.Elements = es })
		}
		return r.finishAnonSet(s, l, data, isVmap), nil
	}
	if isInterval && len(l.parts) == 0 {
		// one interval per element (but the catch-all): sized once
		ivs, tmplPos = make([]interval, 0, x.Len()), make([]model.Pos, 0, x.Len())
	}
	for i, el := range x.Elems() {
		if r.release {
			x.Elems()[i] = nil
		}
		k, v := el, parser.Expr(nil)
		if me, ok := el.(*parser.MapElem); ok {
			k, v = me.Key, me.Value
		}
		if lit, ok := k.(*parser.Literal); ok && data != nil && v == nil && strings.Count(lit.Text, ":") == 1 {
			// "25:accept" lexes as one word
			a, b, _ := strings.Cut(lit.Text, ":")
			k = &parser.Literal{Span: lit.Span, Kind: parser.LitNumber, Text: a}
			v = &parser.Literal{Span: lit.Span, Kind: parser.LitSymbol, Text: b}
		}
		var extra model.SetElem
		if e, ok := k.(*parser.Elem); ok {
			k = e.Key
			if err := r.elemOptions(e, &extra); err != nil {
				return nil, err
			}
		}
		if me, ok := k.(*parser.MapElem); ok && v == nil {
			k, v = me.Key, me.Value
		}
		var md mapData
		if data == nil && v != nil {
			return nil, fmt.Errorf("mapping outside of map context")
		}
		if data != nil {
			if v == nil {
				return nil, fmt.Errorf("map element without data")
			}
			if isVmap {
				vd, err := verdictOf(v)
				if err != nil {
					return nil, err
				}
				md.verdict = vd
			} else if data.dt != nil && data.dt.Name == "object" {
				name, ok := litText(v)
				if !ok {
					return nil, fmt.Errorf("object maps map to object names")
				}
				md.objref = name
			} else {
				b, err := r.value(data, v)
				if err != nil {
					return nil, err
				}
				md.data = b
			}
		}
		if lit, ok := k.(*parser.Literal); ok && lit.Text == "*" {
			// the catch-all element
			extra.Flags |= 0x2 // NFT_SET_ELEM_CATCHALL
			extra.Data, extra.Verdict, extra.ObjRef, extra.Pos = md.data, md.verdict, md.objref, t.c.pos(el)
			catchall = append(catchall, extra)
			continue
		}
		if !isInterval || len(l.parts) > 0 {
			var key, keyEnd []byte
			var err error
			if isInterval {
				key, keyEnd, err = r.concatRange(l, k)
			} else {
				key, err = r.value(l, k)
			}
			if err != nil {
				return nil, err
			}
			extra.Key, extra.KeyEnd, extra.Data, extra.Verdict, extra.ObjRef, extra.Pos = key, keyEnd, md.data, md.verdict, md.objref, t.c.pos(el)
			s.Elements = append(s.Elements, extra)
			continue
		}
		iv, err := r.elemInterval(l, k)
		if err != nil {
			return nil, err
		}
		ivs = append(ivs, iv)
		extra.Data, extra.Verdict, extra.ObjRef, extra.Pos = md.data, md.verdict, md.objref, t.c.pos(el)
		tmplPos = append(tmplPos, extra.Pos)
		if !onlyPos(&extra) {
			if tmpls == nil {
				tmpls = map[int]model.SetElem{}
			}
			tmpls[len(tmplPos)-1] = extra
		}
	}
	if isInterval && len(l.parts) == 0 {
		// interval sets hold big-endian keys
		if l.hostHint() {
			s.KeyByteorder = 0
		}
		tmpl := func(i int) model.SetElem {
			if e, ok := tmpls[i]; ok {
				return e
			}
			return model.SetElem{Pos: tmplPos[i]}
		}
		merge := !r.noMerge
		ms := mergeIntervals(ivs, tmpl, merge)
		if r.lazyChunk > 0 && tmpls == nil && len(catchall) == 0 {
			chunk := r.lazyChunk
			r.lazy = func(yield func([]model.SetElem)) { expandIntervals(ms, tmpl, BigEndian, merge, chunk, yield) }
		} else {
			expandIntervals(ms, tmpl, BigEndian, merge, 0, func(es []model.SetElem) { s.Elements = es })
		}
	}
	s.Elements = append(s.Elements, catchall...)
	return r.finishAnonSet(s, l, data, isVmap), nil
}

// finishAnonSet completes anonSet's set s once its elements are in.
func (r *ruleCtx) finishAnonSet(s *model.Set, l, data *load, isVmap bool) *model.Set {
	s.Size = uint32(len(s.Elements))
	// nft describes an anonymous set's key by its expression, and a
	// verdict map's data as verdicts
	s.Userdata = setUdata(l, data, data == nil || len(l.parts) > 0, isVmap, data != nil, isVmap, false, "")
	r.sets = append(r.sets, s)
	return s
}

func (r *ruleCtx) concatRange(l *load, k parser.Expr) ([]byte, []byte, error) {
	c, ok := k.(*parser.Concat)
	if !ok || len(c.Parts) != len(l.parts) {
		return nil, nil, fmt.Errorf("element does not match the concatenation")
	}
	var lo, hi []byte
	for i, p := range l.parts {
		iv, err := r.elemInterval(p, c.Parts[i])
		if err != nil {
			return nil, nil, err
		}
		pad := make([]byte, padded(p.size)-p.size)
		a, b := iv.lo, iv.hi
		lo = append(append(lo, a...), pad...)
		hi = append(append(hi, b...), pad...)
	}
	return lo, hi, nil
}

// isWildcard reports whether e is an interface name wildcard ("eth*").
func isWildcard(e parser.Expr) bool {
	l, ok := e.(*parser.Literal)
	if !ok {
		return false
	}
	v := l.Value()
	return l.Kind == parser.LitString && strings.HasSuffix(v, "*") && !strings.HasSuffix(v, "\\*")
}

// elemInterval returns the element's range in big-endian order.
func (r *ruleCtx) elemInterval(l *load, k parser.Expr) (interval, error) {
	if isWildcard(k) && l.dt != nil && l.dt.IsA("string") {
		prefix := strings.TrimSuffix(k.(*parser.Literal).Value(), "*")
		lo := make([]byte, l.size)
		hi := make([]byte, l.size)
		copy(lo, prefix)
		copy(hi, prefix)
		for i := len(prefix); i < len(hi); i++ {
			hi[i] = 0xff
		}
		return interval{lo: lo, hi: hi}, nil
	}
	toBE := func(b []byte) []byte {
		if l.hostHint() {
			b = append([]byte(nil), b...)
			reverse(b)
		}
		return b
	}
	switch x := k.(type) {
	case *parser.Range:
		lo, err := r.value(l, x.Lo)
		if err != nil {
			return interval{}, err
		}
		hi, err := r.value(l, x.Hi)
		if err != nil {
			return interval{}, err
		}
		return interval{lo: toBE(lo), hi: toBE(hi)}, nil
	case *parser.Prefix:
		v, err := r.value(l, x.X)
		if err != nil {
			return interval{}, err
		}
		n, err := strconv.Atoi(x.Len.Value())
		if err != nil || n < 0 || n > int(l.size)*8 || len(v) != int(l.size) {
			return interval{}, fmt.Errorf("bad prefix length %q", x.Len.Value())
		}
		// lo and hi share one allocation: big sets hold millions
		b := make([]byte, 2*len(v))
		lo, hi := b[:len(v):len(v)], b[len(v):]
		for i := range v {
			lo[i] = v[i] & prefixMaskByte(i, n)
		}
		if l.hostHint() {
			reverse(lo)
		}
		for i := range lo {
			hi[i] = lo[i] | ^prefixMaskByte(i, n)
		}
		return interval{lo: lo, hi: hi}, nil
	}
	v, err := r.value(l, k)
	if err != nil {
		return interval{}, err
	}
	return interval{lo: toBE(v), hi: toBE(v)}, nil
}

// onlyPos reports whether an element template carries nothing but its
// source position.
func onlyPos(e *model.SetElem) bool {
	return e.Key == nil && e.KeyEnd == nil && e.Data == nil && e.Verdict == nil && e.ObjRef == "" &&
		e.Flags == 0 && e.Timeout == 0 && e.Expiration == 0 && e.Userdata == nil && e.Exprs == nil
}

// intervalElems encodes intervals as nft does: a start element per
// interval, an end element (flag INTERVAL_END) at hi+1, and an end
// element at zero when the first interval does not start there.
func intervalElems(ivs []interval, tmpl func(int) model.SetElem, order ByteOrder, merge bool) []model.SetElem {
	var elems []model.SetElem
	expandIntervals(mergeIntervals(ivs, tmpl, merge), tmpl, order, merge, 0, func(es []model.SetElem) { elems = es })
	return elems
}

// mergeIntervals sorts the intervals and merges overlapping and adjacent
// ones (sets only: merge), in place: it returns ivs cut to the merged
// intervals, each with the index of the element it came from.
func mergeIntervals(ivs []interval, tmpl func(int) model.SetElem, merge bool) []interval {
	for k := range ivs {
		ivs[k].i = k
	}
	sort.SliceStable(ivs, func(a, b int) bool { return cmpBytes(ivs[a].lo, ivs[b].lo) < 0 })
	n := 0
	for _, iv := range ivs {
		if n > 0 {
			last := &ivs[n-1]
			a, b := tmpl(iv.i), tmpl(last.i)
			sameData := a.Data == nil && a.Verdict == nil && a.ObjRef == "" && b.Data == nil && b.Verdict == nil && b.ObjRef == ""
			if merge && sameData && cmpBytes(iv.lo, inc(last.hi)) <= 0 && !isMax(last.hi) {
				if cmpBytes(iv.hi, last.hi) > 0 {
					last.hi = iv.hi
				}
				continue
			}
		}
		ivs[n] = iv
		n++
	}
	clear(ivs[n:])
	return ivs[:n]
}

// expandIntervals turns merged intervals into the elements the kernel
// takes: a start element per interval and an end element (flag
// NFT_SET_ELEM_INTERVAL_END) after it, unless the next interval starts
// there. With chunk > 0 it hands them to yield in fresh slices of the
// elements of at most chunk intervals each; else in one slice.
func expandIntervals(ms []interval, tmpl func(int) model.SetElem, order ByteOrder, merge bool, chunk int, yield func([]model.SetElem)) {
	if len(ms) == 0 {
		return
	}
	if chunk <= 0 {
		chunk = len(ms)
	}
	keyLen := len(ms[0].lo)
	var slab []byte
	var elems []model.SetElem
	// The keys are carved from one slab per chunk (at most two per
	// interval and the zero end), each capped at its length.
	start := func(n int) {
		slab = make([]byte, 0, (2*n+1)*keyLen)
		elems = make([]model.SetElem, 0, 2*n+1)
	}
	out := func(b []byte) []byte {
		if len(b) != keyLen || cap(slab)-len(slab) < len(b) {
			b = append([]byte(nil), b...)
		} else {
			n := len(slab)
			slab = append(slab, b...)
			b = slab[n : n+len(b) : n+len(b)]
		}
		if order == HostOrder {
			reverse(b)
		}
		return b
	}
	start(min(chunk, len(ms)))
	if !isZero(ms[0].lo) {
		elems = append(elems, model.SetElem{Key: make([]byte, len(ms[0].lo)), Flags: 1})
	}
	for k, m := range ms {
		if k > 0 && k%chunk == 0 {
			yield(elems)
			start(min(chunk, len(ms)-k))
		}
		e := tmpl(m.i)
		e.Key = out(m.lo)
		if isMax(m.hi) {
			// an interval open to the end: no end element, and nft
			// marks the start NFTNL_SET_ELEM_F_INTERVAL_OPEN in the
			// element userdata (NFTNL_UDATA_SET_ELEM_FLAGS)
			e.Userdata = append(append([]byte(nil), e.Userdata...), tlvU32(1, 1)...)
			elems = append(elems, e)
			continue
		}
		elems = append(elems, e)
		end := inc(m.hi)
		if merge && k+1 < len(ms) && cmpBytes(ms[k+1].lo, end) == 0 {
			continue
		}
		elems = append(elems, model.SetElem{Key: out(end), Flags: 1})
	}
	yield(elems)
}

func cmpBytes(a, b []byte) int {
	for i := range a {
		if i >= len(b) {
			return 1
		}
		if a[i] != b[i] {
			if a[i] < b[i] {
				return -1
			}
			return 1
		}
	}
	if len(a) < len(b) {
		return -1
	}
	return 0
}

func inc(b []byte) []byte {
	out := append([]byte(nil), b...)
	for i := len(out) - 1; i >= 0; i-- {
		out[i]++
		if out[i] != 0 {
			break
		}
	}
	return out
}

func isMax(b []byte) bool {
	for _, c := range b {
		if c != 0xff {
			return false
		}
	}
	return true
}

func verdictOf(e parser.Expr) (*model.Verdict, error) {
	switch x := e.(type) {
	case *parser.Verdict:
		return verdictByName(x.Kind, x.Target)
	case *parser.Literal:
		return verdictByName(x.Value(), nil)
	case *parser.Ident:
		return verdictByName(x.Name(), nil)
	case *parser.Selector:
		if len(x.Path) == 1 {
			return verdictByName(x.Path[0], nil)
		}
	}
	return nil, fmt.Errorf("not a verdict: %T", e)
}

func verdictByName(kind string, target *parser.Ident) (*model.Verdict, error) {
	switch kind {
	case "accept":
		return &model.Verdict{Code: 1}, nil
	case "drop":
		return &model.Verdict{Code: 0}, nil
	case "continue":
		return &model.Verdict{Code: -1}, nil
	case "return":
		return &model.Verdict{Code: -5}, nil
	case "queue":
		return &model.Verdict{Code: 3}, nil
	case "jump", "goto":
		if target == nil {
			return nil, fmt.Errorf("%s without a chain", kind)
		}
		code := int32(-3)
		if kind == "goto" {
			code = -4
		}
		return &model.Verdict{Code: code, Chain: target.Name()}, nil
	}
	return nil, fmt.Errorf("unknown verdict %q", kind)
}

// mergePayloads combines equality matches of adjacent header bytes into
// one load and compare, as nft's payload merging does: "tcp sport 1 tcp
// dport 2" loads 4 bytes at transport offset 0 once. Like nft, it takes
// the payload equality matches between two statements that are not
// matches (counter, verdict, ...), sorts them by offset and merges each
// into the next adjacent one, which keeps its place: other matches in
// between (a masked vlan id, a meta match) do not stop it.
func (r *ruleCtx) mergePayloads() {
	isMatch := func(i int) bool { // a payload equality match at i, i+1
		if i+1 >= len(r.exprs) {
			return false
		}
		p, ok1 := r.exprs[i].(*model.Payload)
		c, ok2 := r.exprs[i+1].(*model.Cmp)
		return ok1 && ok2 && p.SReg == 0 && p.DReg == 1 && c.SReg == 1 && c.Op == cmpEq && !c.HostOrder && !r.unmergeable[c]
	}
	drop := map[int]bool{}
	var seq []int // starts of the payload matches of the current run
	flush := func() {
		if len(seq) >= 2 {
			r.mergeRun(seq, drop)
		}
		seq = seq[:0]
	}
	for i := 0; i < len(r.exprs); i++ {
		if isMatch(i) {
			seq = append(seq, i)
			i++
			continue
		}
		if !isMatchExpr(r.exprs[i]) {
			flush()
		}
	}
	flush()
	if len(drop) == 0 {
		return
	}
	exprs, pos := r.exprs[:0:0], r.pos[:0:0]
	for i := range r.exprs {
		if !drop[i] {
			exprs = append(exprs, r.exprs[i])
			if i < len(r.pos) {
				pos = append(pos, r.pos[i])
			}
		}
	}
	r.exprs, r.pos = exprs, pos
}

// mergeRun merges the payload matches starting at seq (indexes of their
// loads) in offset order: a match adjacent to the previous (merged) one
// absorbs it, and the previous one's load and compare are dropped.
func (r *ruleCtx) mergeRun(seq []int, drop map[int]bool) {
	sorted := append([]int(nil), seq...)
	sort.SliceStable(sorted, func(a, b int) bool {
		return r.exprs[sorted[a]].(*model.Payload).Offset < r.exprs[sorted[b]].(*model.Payload).Offset
	})
	last := sorted[0]
	for _, i := range sorted[1:] {
		p1, c1 := r.exprs[last].(*model.Payload), r.exprs[last+1].(*model.Cmp)
		p2, c2 := r.exprs[i].(*model.Payload), r.exprs[i+1].(*model.Cmp)
		if p1.Base != p2.Base || p1.Offset+p1.Len != p2.Offset || !mergeable(p1, p2) {
			last = i
			continue
		}
		np := *p1
		np.Len = p1.Len + p2.Len
		r.exprs[i] = &np
		r.exprs[i+1] = &model.Cmp{SReg: 1, Op: cmpEq, Data: append(append([]byte(nil), c1.Data...), c2.Data...)}
		drop[last], drop[last+1] = true, true
		last = i
	}
}

// isMatchExpr reports whether e belongs to a match (a load, a register
// operation or a comparison) rather than to a statement; nft merges
// payload matches across other matches but not across statements.
func isMatchExpr(e model.Expr) bool {
	switch x := e.(type) {
	case *model.Payload:
		return x.SReg == 0
	case *model.Meta:
		return x.SReg == 0
	case *model.Ct:
		return x.SReg == 0
	case *model.Exthdr:
		return x.SReg == 0
	case *model.Cmp, *model.Range, *model.Bitwise, *model.Byteorder, *model.Fib, *model.Rt,
		*model.Socket, *model.Osf, *model.Xfrm, *model.Numgen, *model.Hash:
		return true
	case *model.Lookup:
		return x.DReg == 0
	}
	return false
}

// mergeable says whether nft merges two adjacent loads: never beyond one
// 16-byte register, and for network and transport headers only when the
// result is one fast 32-bit load or either load is already larger than
// that (the kernel loads up to 4 bytes of those headers inline).
func mergeable(p1, p2 *model.Payload) bool {
	total := p1.Len + p2.Len
	if total > 16 {
		return false
	}
	if p1.Base == model.BaseLL {
		return true
	}
	return total <= 4 || p1.Len > 4 || p2.Len > 4
}

// osfSel is "osf [ttl loose|skip] name|version".
func (r *ruleCtx) osfSel(path []string) (*load, error) {
	o := &model.Osf{}
	for i := 0; i < len(path); i++ {
		switch path[i] {
		case "ttl":
			if i+1 < len(path) {
				o.TTL = map[string]uint8{"loose": 1, "skip": 2}[path[i+1]]
				i++
			}
		case "name":
		case "version":
			o.Flags = 1 // NFT_OSF_F_VERSION
		default:
			return nil, fmt.Errorf("unknown osf keyword %q", path[i])
		}
	}
	return &load{dt: DatatypeByName("string"), order: HostOrder, size: 16, bits: 128,
		emit: func(reg uint32) []model.Expr { b := *o; b.DReg = reg; return []model.Expr{&b} }}, nil
}

// elemOptions applies an element's timeout, expires, comment and
// statements (counter, quota, ...) to e.
func (r *ruleCtx) elemOptions(x *parser.Elem, e *model.SetElem) error {
	for _, o := range x.Opts {
		arg := ""
		if len(o.Args) > 0 {
			arg, _ = litText(o.Args[0])
		}
		switch o.Key {
		case "timeout", "expires":
			d, ok := parseTime(arg)
			if !ok {
				return fmt.Errorf("bad %s %q", o.Key, arg)
			}
			if o.Key == "timeout" {
				e.Timeout = d
			} else {
				e.Expiration = d
			}
		case "comment":
			e.Userdata = udataString(0, arg) // NFTNL_UDATA_SET_ELEM_COMMENT
		}
	}
	for _, st := range x.Stmts {
		sub := &ruleCtx{c: r.c, t: r.t, family: r.family}
		if err := sub.stmt(st); err != nil {
			return err
		}
		e.Exprs = append(e.Exprs, sub.exprs...)
	}
	return nil
}

// expandSetVars replaces elements that are variables defined as sets
// ("{ 22, $web }" with "define web = { 80, 443 }") by their elements.
func (r *ruleCtx) expandSetVars(x *parser.SetExpr) *parser.SetExpr {
	if x.Compact() {
		return x // numbers only
	}
	var elems []parser.Expr
	changed := false
	for i, el := range x.Elems() {
		v, ok := el.(*parser.VarRef)
		if !ok {
			if changed {
				elems = append(elems, el)
			}
			continue
		}
		d, ok := r.t.defines[v.Name]
		if !ok {
			if changed {
				elems = append(elems, el)
			}
			continue
		}
		if !changed {
			// the elements before the first variable, copied only now
			elems = append(make([]parser.Expr, 0, x.Len()), x.Elems()[:i]...)
		}
		changed = true
		if se, ok := d.(*parser.SetExpr); ok {
			elems = append(elems, r.expandSetVars(se).Elems()...)
		} else {
			elems = append(elems, d)
		}
	}
	if !changed {
		return x
	}
	return parser.NewSetExpr(x.Span, elems)
}
