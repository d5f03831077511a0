package compiler

import (
	"fmt"
	"math/big"
	"strconv"
	"strings"

	"github.com/nftflow/nftflow/model"
)

// Exthdr is an IPv6 extension header or TCP option nft can match.
type Exthdr struct {
	Name   string
	Op     uint32 // model.ExthdrIPv6, model.ExthdrTCPOpt
	Type   uint8  // IPv6 next-header value or TCP option kind
	Fields []Field
}

// Field returns the field called name, or nil.
func (e *Exthdr) Field(name string) *Field {
	for i := range e.Fields {
		if e.Fields[i].Name == name {
			return &e.Fields[i]
		}
	}
	return nil
}

var exthdrs = []Exthdr{
	{Name: "hbh", Op: model.ExthdrIPv6, Type: 0, Fields: []Field{f("nexthdr", 0, 8, "inet_proto"), f("hdrlength", 8, 8, "integer")}},
	{Name: "rt", Op: model.ExthdrIPv6, Type: 43, Fields: []Field{f("nexthdr", 0, 8, "inet_proto"), f("hdrlength", 8, 8, "integer"),
		f("type", 16, 8, "integer"), f("seg-left", 24, 8, "integer")}},
	{Name: "rt0", Op: model.ExthdrIPv6, Type: 43, Fields: []Field{f("reserved", 32, 32, "integer"),
		f("addr[1]", 64, 128, "ipv6_addr"), f("addr[2]", 192, 128, "ipv6_addr"), f("addr[3]", 320, 128, "ipv6_addr")}},
	{Name: "rt2", Op: model.ExthdrIPv6, Type: 43, Fields: []Field{f("reserved", 32, 32, "integer"), f("addr", 64, 128, "ipv6_addr")}},
	{Name: "srh", Op: model.ExthdrIPv6, Type: 43, Fields: []Field{f("last-entry", 32, 8, "integer"), f("flags", 40, 8, "integer"),
		f("tag", 48, 16, "integer"), f("sid[1]", 64, 128, "ipv6_addr"), f("sid[2]", 192, 128, "ipv6_addr")}},
	{Name: "frag", Op: model.ExthdrIPv6, Type: 44, Fields: []Field{f("nexthdr", 0, 8, "inet_proto"), f("reserved", 8, 8, "integer"),
		f("frag-off", 16, 13, "integer"), f("reserved2", 29, 2, "integer"), f("more-fragments", 31, 1, "integer"),
		f("id", 32, 32, "integer")}},
	{Name: "dst", Op: model.ExthdrIPv6, Type: 60, Fields: []Field{f("nexthdr", 0, 8, "inet_proto"), f("hdrlength", 8, 8, "integer")}},
	{Name: "mh", Op: model.ExthdrIPv6, Type: 135, Fields: []Field{f("nexthdr", 0, 8, "inet_proto"), f("hdrlength", 8, 8, "integer"),
		f("type", 16, 8, "mh_type"), f("reserved", 24, 8, "integer"), f("checksum", 32, 16, "integer")}},
}

var tcpOptions = []Exthdr{
	{Name: "eol", Type: 0, Fields: []Field{f("kind", 0, 8, "integer")}},
	{Name: "nop", Type: 1, Fields: []Field{f("kind", 0, 8, "integer")}},
	{Name: "maxseg", Type: 2, Fields: []Field{f("kind", 0, 8, "integer"), f("length", 8, 8, "integer"), f("size", 16, 16, "integer")}},
	{Name: "window", Type: 3, Fields: []Field{f("kind", 0, 8, "integer"), f("length", 8, 8, "integer"), f("count", 16, 8, "integer")}},
	{Name: "sack-perm", Type: 4, Fields: []Field{f("kind", 0, 8, "integer"), f("length", 8, 8, "integer")}},
	{Name: "sack", Type: 5, Fields: sackFields(0)},
	{Name: "sack0", Type: 5, Fields: sackFields(0)},
	{Name: "sack1", Type: 5, Fields: sackFields(1)},
	{Name: "sack2", Type: 5, Fields: sackFields(2)},
	{Name: "sack3", Type: 5, Fields: sackFields(3)},
	{Name: "timestamp", Type: 8, Fields: []Field{f("kind", 0, 8, "integer"), f("length", 8, 8, "integer"),
		f("tsval", 16, 32, "integer"), f("tsecr", 48, 32, "integer")}},
	{Name: "md5sig", Type: 19, Fields: []Field{f("kind", 0, 8, "integer"), f("length", 8, 8, "integer")}},
	{Name: "mptcp", Type: 30, Fields: []Field{f("kind", 0, 8, "integer"), f("length", 8, 8, "integer"), f("subtype", 16, 4, "mptcpopt_subtype")}},
	{Name: "fastopen", Type: 34, Fields: []Field{f("kind", 0, 8, "integer"), f("length", 8, 8, "integer")}},
}

func sackFields(n uint32) []Field {
	return []Field{f("kind", 0, 8, "integer"), f("length", 8, 8, "integer"),
		f("left", 16+n*64, 32, "integer"), f("right", 48+n*64, 32, "integer")}
}

func exthdrByName(name string) *Exthdr {
	for i := range exthdrs {
		if exthdrs[i].Name == name {
			return &exthdrs[i]
		}
	}
	return nil
}

func tcpOptionByName(name string) *Exthdr {
	for i := range tcpOptions {
		if tcpOptions[i].Name == name {
			return &tcpOptions[i]
		}
	}
	return nil
}

// ExthdrByName returns the IPv6 extension header called name, or nil.
func ExthdrByName(name string) *Exthdr { return exthdrByName(name) }

// TCPOptionByName returns the TCP option called name, or nil.
func TCPOptionByName(name string) *Exthdr { return tcpOptionByName(name) }

func (r *ruleCtx) exthdrSel(eh *Exthdr, path []string) (*load, error) {
	if len(path) == 0 {
		return nil, fmt.Errorf("%s: missing field", eh.Name)
	}
	fd := eh.Field(strings.Join(path, " "))
	if fd == nil {
		return nil, fmt.Errorf("%s has no field %q", eh.Name, strings.Join(path, " "))
	}
	l := r.exthdrLoad(eh.Op, eh.Type, fd)
	l.deps = func(r *ruleCtx) error {
		if r.family != model.FamilyIP6 {
			return r.nhDep("ip6")
		}
		return nil
	}
	return l, nil
}

func (r *ruleCtx) exthdrLoad(op uint32, typ uint8, fd *Field) *load {
	byteOff := fd.Offset / 8
	n := (fd.Offset+fd.Len+7)/8 - byteOff
	dt := DatatypeByName(fd.Type)
	l := &load{dt: dt, order: BigEndian, size: n, bits: fd.Len}
	if fd.Offset%8 != 0 || fd.Len%8 != 0 {
		l.shift = n*8 - fd.Offset%8 - fd.Len
		m := new(big.Int).Lsh(new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), uint(fd.Len)), big.NewInt(1)), uint(l.shift))
		l.mask = encodeInt(m, n, BigEndian)
	}
	l.emit = func(reg uint32) []model.Expr {
		return []model.Expr{&model.Exthdr{DReg: reg, Type: typ, Offset: byteOff, Len: n, Op: op}}
	}
	return l
}

// existsLoad is "exthdr X exists" / "tcp option X exists": a presence
// flag in one byte.
func existsLoad(op uint32, typ uint8) *load {
	return &load{dt: DatatypeByName("boolean"), order: HostOrder, size: 1, bits: 8,
		emit: func(reg uint32) []model.Expr {
			return []model.Expr{&model.Exthdr{DReg: reg, Type: typ, Offset: 0, Len: 1, Op: op, Flags: 1}}
		}}
}

func (r *ruleCtx) tcpoptSel(path []string) (*load, error) {
	if len(path) == 0 {
		return nil, fmt.Errorf("tcp option: missing name")
	}
	opt := tcpOptionByName(path[0])
	if opt == nil {
		if n, err := strconv.Atoi(path[0]); err == nil && len(path) == 1 {
			return existsLoad(model.ExthdrTCPOpt, uint8(n)), nil
		}
		if strings.HasPrefix(path[0], "@") {
			// tcp option @KIND,OFFSET,LEN (bits)
			parts := strings.Split(strings.TrimPrefix(strings.Join(path, ","), "@"), ",")
			if len(parts) != 3 {
				return nil, fmt.Errorf("bad raw tcp option %q", strings.Join(path, " "))
			}
			kind, err1 := strconv.ParseUint(parts[0], 10, 8)
			off, err2 := strconv.ParseUint(parts[1], 10, 32)
			n, err3 := strconv.ParseUint(parts[2], 10, 32)
			if err1 != nil || err2 != nil || err3 != nil || n == 0 {
				return nil, fmt.Errorf("bad raw tcp option %q", strings.Join(path, " "))
			}
			fd := &Field{Name: "raw", Offset: uint32(off), Len: uint32(n), Type: "integer"}
			return r.exthdrLoad(model.ExthdrTCPOpt, uint8(kind), fd), nil
		}
		return nil, fmt.Errorf("unknown tcp option %q", path[0])
	}
	if len(path) == 1 {
		return existsLoad(model.ExthdrTCPOpt, opt.Type), nil
	}
	fd := opt.Field(strings.Join(path[1:], " "))
	if fd == nil {
		return nil, fmt.Errorf("tcp option %s has no field %q", opt.Name, strings.Join(path[1:], " "))
	}
	l := r.exthdrLoad(model.ExthdrTCPOpt, opt.Type, fd)
	for i := range opt.Fields {
		if &opt.Fields[i] == fd {
			// typeof userdata as nft 1.0.6 sends it: field index (1),
			// exthdr op (2), option kind (0)
			ud := append(append(tlvU32(1, uint32(i)), tlvU32(2, model.ExthdrTCPOpt)...), tlvU32(0, uint32(opt.Type))...)
			l.typeof = append(tlvU32(udataTypeofExpr, exprExthdr), tlv(udataTypeofData, ud)...)
		}
	}
	return l, nil
}
