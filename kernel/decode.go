package kernel

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/mdlayher/netlink"

	"github.com/nftflow/nftflow/model"
)

// The decoders below map nf_tables netlink messages (as the kernel answers
// NFT_MSG_GET* dumps) to model objects. Attribute numbers are those of uapi
// linux/netfilter/nf_tables.h; each decoder declares the ones it reads as
// local constants so that the mapping can be checked against the header
// next to the code that uses it.

// nfgenHeaderLen is the size of struct nfgenmsg that precedes the attributes.
const nfgenHeaderLen = 4

// errShortMessage is returned for a message without a complete nfgenmsg.
var errShortMessage = errors.New("message shorter than its nfgenmsg header")

// splitNfgen returns the family of an nf_tables message and its attributes.
func splitNfgen(b []byte) (model.Family, []byte, error) {
	if len(b) < nfgenHeaderLen {
		return 0, nil, errShortMessage
	}
	return model.Family(b[0]), b[nfgenHeaderLen:], nil
}

// newDecoder returns a big-endian attribute decoder: nf_tables encodes its
// integers in network byte order.
func newDecoder(b []byte) (*netlink.AttributeDecoder, error) {
	ad, err := netlink.NewAttributeDecoder(b)
	if err != nil {
		return nil, err
	}
	ad.ByteOrder = binary.BigEndian
	return ad, nil
}

// attrIter walks the netlink attributes of a buffer without copying or
// allocating, for the decoders of the bulk dumps (rules, set elements).
// Slices it returns point into the buffer, which the raw dump reuses:
// callers copy what they keep (clone, or string conversions).
type attrIter struct {
	b    []byte
	typ  uint16
	data []byte
	err  error
}

// next advances to the next attribute; false at the end or on a malformed
// one (err then says which).
func (a *attrIter) next() bool {
	if a.err != nil || len(a.b) < 4 {
		if a.err == nil && len(a.b) != 0 {
			a.err = errors.New("netlink: trailing bytes after the last attribute")
		}
		return false
	}
	l := int(binary.NativeEndian.Uint16(a.b))
	if l < 4 || l > len(a.b) {
		a.err = fmt.Errorf("netlink: invalid attribute length %d in %d bytes", l, len(a.b))
		return false
	}
	a.typ = binary.NativeEndian.Uint16(a.b[2:]) & 0x3fff // without NLA_F_NESTED, NLA_F_NET_BYTEORDER
	a.data = a.b[4:l]
	a.b = a.b[min((l+3)&^3, len(a.b)):]
	return true
}

func (a *attrIter) fail(want string) {
	if a.err == nil {
		a.err = fmt.Errorf("netlink: attribute %d is not a %s; length: %d", a.typ, want, len(a.data))
	}
}

// u32 and u64 read big-endian integers, as nf_tables encodes them.
func (a *attrIter) u32() uint32 {
	if len(a.data) != 4 {
		a.fail("uint32")
		return 0
	}
	return binary.BigEndian.Uint32(a.data)
}

func (a *attrIter) u64() uint64 {
	if len(a.data) != 8 {
		a.fail("uint64")
		return 0
	}
	return binary.BigEndian.Uint64(a.data)
}

// strInterned is str, reusing *last when it holds the same text: the
// rules and elements of a dump repeat their table, chain and set names.
func (a *attrIter) strInterned(last *string) string {
	b := trimNUL(a.data)
	if string(b) != *last {
		*last = string(b)
	}
	return *last
}

func trimNUL(b []byte) []byte {
	for len(b) > 0 && b[len(b)-1] == 0 {
		b = b[:len(b)-1]
	}
	return b
}

// clone copies an attribute value out of the receive buffer.
func clone(b []byte) []byte { return append([]byte(nil), b...) }

// userdataComment returns the comment TLV (type typ) of nftnl userdata, or "".
func userdataComment(ud []byte, typ byte) string {
	v, ok := UserdataTLV(ud, typ)
	if !ok {
		return ""
	}
	// The comment is stored NUL-terminated.
	for i, c := range v {
		if c == 0 {
			return string(v[:i])
		}
	}
	return string(v)
}

// UserdataTLV returns the value of the first TLV of type typ in nftnl
// userdata (one byte type, one byte length, value).
func UserdataTLV(ud []byte, typ byte) ([]byte, bool) {
	for len(ud) >= 2 {
		t, l := ud[0], int(ud[1])
		if len(ud) < 2+l {
			return nil, false
		}
		if t == typ {
			return ud[2 : 2+l], true
		}
		ud = ud[2+l:]
	}
	return nil, false
}

// DecodeTable decodes an NFT_MSG_NEWTABLE message body (nfgenmsg included).
func DecodeTable(b []byte) (*model.Table, error) {
	const (
		attrName     = 1
		attrFlags    = 2
		attrHandle   = 4
		attrUserdata = 6
	)
	fam, attrs, err := splitNfgen(b)
	if err != nil {
		return nil, err
	}
	ad, err := newDecoder(attrs)
	if err != nil {
		return nil, fmt.Errorf("decode table: %w", err)
	}
	t := &model.Table{Family: fam}
	for ad.Next() {
		switch ad.Type() {
		case attrName:
			t.Name = ad.String()
		case attrFlags:
			t.Flags = ad.Uint32()
		case attrHandle:
			t.Handle = ad.Uint64()
		case attrUserdata:
			t.Comment = userdataComment(ad.Bytes(), 0)
		}
	}
	if err := ad.Err(); err != nil {
		return nil, fmt.Errorf("decode table: %w", err)
	}
	return t, nil
}

// decodeDevices decodes a nest of NFTA_DEVICE_NAME attributes.
func decodeDevices(nad *netlink.AttributeDecoder) ([]string, error) {
	var devs []string
	for nad.Next() {
		if nad.Type() == 1 { // NFTA_DEVICE_NAME
			devs = append(devs, nad.String())
		}
	}
	return devs, nad.Err()
}

// DecodeChain decodes an NFT_MSG_NEWCHAIN message body.
func DecodeChain(b []byte) (*model.Chain, error) {
	const (
		attrTable    = 1
		attrHandle   = 2
		attrName     = 3
		attrHook     = 4
		attrPolicy   = 5
		attrType     = 7
		attrFlags    = 10
		attrUserdata = 12

		hookNum      = 1
		hookPriority = 2
		hookDev      = 3
		hookDevs     = 4
	)
	fam, attrs, err := splitNfgen(b)
	if err != nil {
		return nil, err
	}
	ad, err := newDecoder(attrs)
	if err != nil {
		return nil, fmt.Errorf("decode chain: %w", err)
	}
	c := &model.Chain{Family: fam}
	var typ string
	for ad.Next() {
		switch ad.Type() {
		case attrTable:
			c.Table = ad.String()
		case attrHandle:
			c.Handle = ad.Uint64()
		case attrName:
			c.Name = ad.String()
		case attrHook:
			h := &model.ChainHook{}
			var dev string
			ad.Nested(func(nad *netlink.AttributeDecoder) error {
				for nad.Next() {
					switch nad.Type() {
					case hookNum:
						h.Hooknum = nad.Uint32()
					case hookPriority:
						h.Priority = nad.Int32()
					case hookDev:
						dev = nad.String()
					case hookDevs:
						nad.Nested(func(dd *netlink.AttributeDecoder) error {
							devs, err := decodeDevices(dd)
							h.Devices = append(h.Devices, devs...)
							return err
						})
					}
				}
				return nad.Err()
			})
			// The kernel reports a single device both ways.
			if len(h.Devices) == 0 && dev != "" {
				h.Devices = []string{dev}
			}
			c.Hook = h
		case attrPolicy:
			p := ad.Uint32()
			c.Policy = &p
		case attrType:
			typ = ad.String()
		case attrFlags:
			c.Flags = ad.Uint32()
		case attrUserdata:
			c.Comment = userdataComment(ad.Bytes(), 0)
		}
	}
	if err := ad.Err(); err != nil {
		return nil, fmt.Errorf("decode chain: %w", err)
	}
	if c.Hook != nil {
		c.Hook.Type = typ
	}
	return c, nil
}

// DecodeRule decodes an NFT_MSG_NEWRULE message body with its expressions.
func DecodeRule(b []byte) (*model.Rule, error) {
	return decodeRule(b, nil, nil)
}

// ruleNames remembers the last table and chain names decoded so that the
// rules of one dump share their strings.
type ruleNames struct{ table, chain string }

// exprCache maps the netlink form of an expression (its name, a NUL and
// its data) to the decoded expression, so that the rules of a dump share
// the expressions they repeat (loads, verdicts, protocol matches) instead
// of decoding each again. It stops growing at exprCacheMax entries.
type exprCache struct {
	m   map[string]model.Expr
	key []byte // scratch for lookups
}

const exprCacheMax = 4096

// decode returns the expression for name and data, from the cache when
// it has been seen.
func (c *exprCache) decode(name, data []byte) (model.Expr, error) {
	c.key = append(append(append(c.key[:0], name...), 0), data...)
	if e, ok := c.m[string(c.key)]; ok {
		return e, nil
	}
	e, err := decodeExprBytes(name, data)
	if err == nil && len(c.m) < exprCacheMax {
		if c.m == nil {
			c.m = map[string]model.Expr{}
		}
		c.m[string(c.key)] = e
	}
	return e, err
}

// decodeRule is DecodeRule sharing the table and chain name strings with
// the previous rule of the dump (names may be nil) and, with a cache,
// expressions with the rules before it.
func decodeRule(b []byte, names *ruleNames, cache *exprCache) (*model.Rule, error) {
	const (
		attrTable    = 1
		attrChain    = 2
		attrHandle   = 3
		attrExprs    = 4
		attrPosition = 6
		attrUserdata = 7
	)
	fam, attrs, err := splitNfgen(b)
	if err != nil {
		return nil, err
	}
	if names == nil {
		names = &ruleNames{}
	}
	ad := attrIter{b: attrs}
	r := &model.Rule{Family: fam}
	for ad.next() {
		switch ad.typ {
		case attrTable:
			r.Table = ad.strInterned(&names.table)
		case attrChain:
			r.Chain = ad.strInterned(&names.chain)
		case attrHandle:
			r.Handle = ad.u64()
		case attrPosition:
			r.Position = ad.u64()
		case attrExprs:
			exprs, err := exprList(ad.data, cache)
			if err != nil {
				ad.err = err
			}
			r.Exprs = exprs
		case attrUserdata:
			r.Userdata = clone(ad.data)
			r.Comment = userdataComment(r.Userdata, 0)
		}
	}
	if err := ad.err; err != nil {
		return nil, fmt.Errorf("decode rule %s %s %s: %w", fam, r.Table, r.Chain, err)
	}
	return r, nil
}

// exprList decodes a nest of NFTA_LIST_ELEM expressions (through cache
// when not nil).
func exprList(b []byte, cache *exprCache) ([]model.Expr, error) {
	n := 0
	for it := (attrIter{b: b}); it.next(); {
		n++
	}
	out := make([]model.Expr, 0, n)
	ad := attrIter{b: b}
	for ad.next() {
		if ad.typ != 1 { // NFTA_LIST_ELEM
			continue
		}
		e, err := exprElem(ad.data, cache)
		if err != nil {
			return out, err
		}
		if e != nil {
			out = append(out, e)
		}
	}
	return out, ad.err
}

// exprElem decodes the inside of one expression nest (NFTA_EXPR_NAME and
// NFTA_EXPR_DATA).
func exprElem(b []byte, cache *exprCache) (model.Expr, error) {
	var name []byte
	var data []byte
	ad := attrIter{b: b}
	for ad.next() {
		switch ad.typ {
		case 1: // NFTA_EXPR_NAME
			name = trimNUL(ad.data)
		case 2: // NFTA_EXPR_DATA
			data = ad.data
		}
	}
	if ad.err != nil {
		return nil, ad.err
	}
	if cache != nil {
		return cache.decode(name, data)
	}
	return decodeExprBytes(name, data)
}

// decodeExprBytes is DecodeExpr for a name and data still in the receive
// buffer.
func decodeExprBytes(name, data []byte) (model.Expr, error) {
	n := exprName(name)
	if _, ok := exprDecoder(n); !ok {
		data = clone(data) // kept raw in a model.Unknown
	}
	return DecodeExpr(n, data)
}

// exprName returns the expression name as a string, without allocating for
// the names the decoder knows.
func exprName(b []byte) string {
	switch string(b) {
	case "payload":
		return "payload"
	case "cmp":
		return "cmp"
	case "meta":
		return "meta"
	case "counter":
		return "counter"
	case "immediate":
		return "immediate"
	case "lookup":
		return "lookup"
	case "bitwise":
		return "bitwise"
	case "ct":
		return "ct"
	case "range":
		return "range"
	}
	return string(b)
}

// decodeExprList decodes a nest of NFTA_LIST_ELEM expressions.
func decodeExprList(ad *netlink.AttributeDecoder) ([]model.Expr, error) {
	var out []model.Expr
	for ad.Next() {
		if ad.Type() != 1 { // NFTA_LIST_ELEM
			continue
		}
		var e model.Expr
		ad.Nested(func(nad *netlink.AttributeDecoder) error {
			var err error
			e, err = decodeExprElem(nad)
			return err
		})
		if e != nil {
			out = append(out, e)
		}
	}
	return out, ad.Err()
}

// decodeExprElem decodes the inside of one expression nest (NFTA_EXPR_NAME
// and NFTA_EXPR_DATA).
func decodeExprElem(ad *netlink.AttributeDecoder) (model.Expr, error) {
	var name string
	var data []byte
	for ad.Next() {
		switch ad.Type() {
		case 1: // NFTA_EXPR_NAME
			name = ad.String()
		case 2: // NFTA_EXPR_DATA
			data = ad.Bytes()
		}
	}
	if err := ad.Err(); err != nil {
		return nil, err
	}
	return DecodeExpr(name, data)
}

// DecodeSet decodes an NFT_MSG_NEWSET message body (without elements).
func DecodeSet(b []byte) (*model.Set, error) {
	const (
		attrTable      = 1
		attrName       = 2
		attrFlags      = 3
		attrKeyType    = 4
		attrKeyLen     = 5
		attrDataType   = 6
		attrDataLen    = 7
		attrPolicy     = 8
		attrDesc       = 9
		attrID         = 10
		attrTimeout    = 11
		attrGCInterval = 12
		attrUserdata   = 13
		attrObjType    = 15
		attrHandle     = 16
		attrExpr       = 17
		attrExprs      = 18

		descSize   = 1
		descConcat = 2
	)
	fam, attrs, err := splitNfgen(b)
	if err != nil {
		return nil, err
	}
	ad, err := newDecoder(attrs)
	if err != nil {
		return nil, fmt.Errorf("decode set: %w", err)
	}
	s := &model.Set{Family: fam}
	for ad.Next() {
		switch ad.Type() {
		case attrTable:
			s.Table = ad.String()
		case attrName:
			s.Name = ad.String()
		case attrFlags:
			s.Flags = ad.Uint32()
		case attrKeyType:
			s.KeyType = ad.Uint32()
		case attrKeyLen:
			s.KeyLen = ad.Uint32()
		case attrDataType:
			s.DataType = ad.Uint32()
		case attrDataLen:
			s.DataLen = ad.Uint32()
		case attrPolicy:
			p := ad.Uint32()
			s.Policy = &p
		case attrDesc:
			ad.Nested(func(nad *netlink.AttributeDecoder) error {
				for nad.Next() {
					switch nad.Type() {
					case descSize:
						s.Size = nad.Uint32()
					case descConcat:
						nad.Nested(func(cd *netlink.AttributeDecoder) error {
							for cd.Next() {
								cd.Nested(func(fd *netlink.AttributeDecoder) error {
									for fd.Next() {
										if fd.Type() == 1 { // NFTA_SET_FIELD_LEN
											s.FieldLens = append(s.FieldLens, fd.Uint32())
										}
									}
									return fd.Err()
								})
							}
							return cd.Err()
						})
					}
				}
				return nad.Err()
			})
		case attrID:
			s.ID = ad.Uint32()
		case attrTimeout:
			s.Timeout = time.Duration(ad.Uint64()) * time.Millisecond
		case attrGCInterval:
			s.GCInterval = time.Duration(ad.Uint32()) * time.Millisecond
		case attrUserdata:
			s.Userdata = ad.Bytes()
		case attrObjType:
			s.ObjType = ad.Uint32()
		case attrHandle:
			s.Handle = ad.Uint64()
		case attrExpr:
			ad.Nested(func(nad *netlink.AttributeDecoder) error {
				e, err := decodeExprElem(nad)
				if e != nil {
					s.Exprs = append(s.Exprs, e)
				}
				return err
			})
		case attrExprs:
			ad.Nested(func(nad *netlink.AttributeDecoder) error {
				exprs, err := decodeExprList(nad)
				s.Exprs = append(s.Exprs, exprs...)
				return err
			})
		}
	}
	if err := ad.Err(); err != nil {
		return nil, fmt.Errorf("decode set: %w", err)
	}
	return s, nil
}

// SetElemsHeader names the set an NFT_MSG_NEWSETELEM message belongs to.
type SetElemsHeader struct {
	Family model.Family
	Table  string
	Set    string
}

// DecodeSetElems decodes an NFT_MSG_NEWSETELEM message body.
func DecodeSetElems(b []byte) (SetElemsHeader, []model.SetElem, error) {
	const (
		attrTable    = 1
		attrSet      = 2
		attrElements = 3
	)
	var h SetElemsHeader
	fam, attrs, err := splitNfgen(b)
	if err != nil {
		return h, nil, err
	}
	h.Family = fam
	ad, err := newDecoder(attrs)
	if err != nil {
		return h, nil, fmt.Errorf("decode set elements: %w", err)
	}
	var elems []model.SetElem
	for ad.Next() {
		switch ad.Type() {
		case attrTable:
			h.Table = ad.String()
		case attrSet:
			h.Set = ad.String()
		case attrElements:
			ad.Nested(func(nad *netlink.AttributeDecoder) error {
				for nad.Next() {
					if nad.Type() != 1 { // NFTA_LIST_ELEM
						continue
					}
					nad.Nested(func(ed *netlink.AttributeDecoder) error {
						e, err := decodeSetElem(ed)
						elems = append(elems, e)
						return err
					})
				}
				return nad.Err()
			})
		}
	}
	if err := ad.Err(); err != nil {
		return h, nil, fmt.Errorf("decode set elements of %s: %w", h.Set, err)
	}
	return h, elems, nil
}

// decodeSetElem decodes one NFTA_LIST_ELEM of a set element list.
func decodeSetElem(ad *netlink.AttributeDecoder) (model.SetElem, error) {
	const (
		attrKey        = 1
		attrData       = 2
		attrFlags      = 3
		attrTimeout    = 4
		attrExpiration = 5
		attrUserdata   = 6
		attrExpr       = 7
		attrObjref     = 9
		attrKeyEnd     = 10
		attrExprs      = 11
	)
	var e model.SetElem
	for ad.Next() {
		switch ad.Type() {
		case attrKey:
			ad.Nested(func(nad *netlink.AttributeDecoder) error {
				v, _, err := decodeData(nad)
				e.Key = v
				return err
			})
		case attrKeyEnd:
			ad.Nested(func(nad *netlink.AttributeDecoder) error {
				v, _, err := decodeData(nad)
				e.KeyEnd = v
				return err
			})
		case attrData:
			ad.Nested(func(nad *netlink.AttributeDecoder) error {
				v, verdict, err := decodeData(nad)
				e.Data, e.Verdict = v, verdict
				return err
			})
		case attrFlags:
			e.Flags = ad.Uint32()
		case attrTimeout:
			e.Timeout = time.Duration(ad.Uint64()) * time.Millisecond
		case attrExpiration:
			e.Expiration = time.Duration(ad.Uint64()) * time.Millisecond
		case attrUserdata:
			e.Userdata = ad.Bytes()
		case attrExpr:
			ad.Nested(func(nad *netlink.AttributeDecoder) error {
				x, err := decodeExprElem(nad)
				if x != nil {
					e.Exprs = append(e.Exprs, x)
				}
				return err
			})
		case attrExprs:
			ad.Nested(func(nad *netlink.AttributeDecoder) error {
				xs, err := decodeExprList(nad)
				e.Exprs = append(e.Exprs, xs...)
				return err
			})
		case attrObjref:
			e.ObjRef = ad.String()
		}
	}
	return e, ad.Err()
}

// decodeData decodes an NFTA_DATA_* nest: a value or a verdict.
func decodeData(ad *netlink.AttributeDecoder) ([]byte, *model.Verdict, error) {
	var val []byte
	var v *model.Verdict
	for ad.Next() {
		switch ad.Type() {
		case 1: // NFTA_DATA_VALUE
			val = ad.Bytes()
		case 2: // NFTA_DATA_VERDICT
			v = &model.Verdict{}
			ad.Nested(func(nad *netlink.AttributeDecoder) error {
				for nad.Next() {
					switch nad.Type() {
					case 1: // NFTA_VERDICT_CODE
						v.Code = nad.Int32()
					case 2: // NFTA_VERDICT_CHAIN
						v.Chain = nad.String()
					}
				}
				return nad.Err()
			})
		}
	}
	return val, v, ad.Err()
}

// DecodeFlowtable decodes an NFT_MSG_NEWFLOWTABLE message body.
func DecodeFlowtable(b []byte) (*model.Flowtable, error) {
	const (
		attrTable  = 1
		attrName   = 2
		attrHook   = 3
		attrUse    = 4
		attrHandle = 5
		attrFlags  = 7

		hookNum      = 1
		hookPriority = 2
		hookDevs     = 3
	)
	fam, attrs, err := splitNfgen(b)
	if err != nil {
		return nil, err
	}
	ad, err := newDecoder(attrs)
	if err != nil {
		return nil, fmt.Errorf("decode flowtable: %w", err)
	}
	f := &model.Flowtable{Family: fam}
	for ad.Next() {
		switch ad.Type() {
		case attrTable:
			f.Table = ad.String()
		case attrName:
			f.Name = ad.String()
		case attrUse:
			f.Use = ad.Uint32()
		case attrHandle:
			f.Handle = ad.Uint64()
		case attrFlags:
			f.Flags = ad.Uint32()
		case attrHook:
			ad.Nested(func(nad *netlink.AttributeDecoder) error {
				for nad.Next() {
					switch nad.Type() {
					case hookNum:
						f.Hooknum = nad.Uint32()
					case hookPriority:
						f.Priority = nad.Int32()
					case hookDevs:
						nad.Nested(func(dd *netlink.AttributeDecoder) error {
							devs, err := decodeDevices(dd)
							f.Devices = append(f.Devices, devs...)
							return err
						})
					}
				}
				return nad.Err()
			})
		}
	}
	if err := ad.Err(); err != nil {
		return nil, fmt.Errorf("decode flowtable: %w", err)
	}
	return f, nil
}

// Named object types (NFT_OBJECT_*).
const (
	ObjCounter   uint32 = 1
	ObjQuota     uint32 = 2
	ObjCtHelper  uint32 = 3
	ObjLimit     uint32 = 4
	ObjConnlimit uint32 = 5
	ObjTunnel    uint32 = 6
	ObjCtTimeout uint32 = 7
	ObjSecmark   uint32 = 8
	ObjCtExpect  uint32 = 9
	ObjSynproxy  uint32 = 10
)

// DecodeObject decodes an NFT_MSG_NEWOBJ message body.
func DecodeObject(b []byte) (*model.Object, error) {
	const (
		attrTable    = 1
		attrName     = 2
		attrType     = 3
		attrData     = 4
		attrHandle   = 6
		attrUserdata = 8
	)
	fam, attrs, err := splitNfgen(b)
	if err != nil {
		return nil, err
	}
	ad, err := newDecoder(attrs)
	if err != nil {
		return nil, fmt.Errorf("decode object: %w", err)
	}
	o := &model.Object{Family: fam}
	var data []byte
	for ad.Next() {
		switch ad.Type() {
		case attrTable:
			o.Table = ad.String()
		case attrName:
			o.Name = ad.String()
		case attrType:
			o.Type = ad.Uint32()
		case attrData:
			data = ad.Bytes()
		case attrHandle:
			o.Handle = ad.Uint64()
		case attrUserdata:
			o.Userdata = ad.Bytes()
		}
	}
	if err := ad.Err(); err != nil {
		return nil, fmt.Errorf("decode object: %w", err)
	}
	o.Data, err = decodeObjectData(o.Type, data)
	if err != nil {
		return nil, fmt.Errorf("decode object %s: %w", o.Name, err)
	}
	return o, nil
}

// decodeObjectData decodes an object's NFTA_OBJ_DATA by its type.
func decodeObjectData(typ uint32, data []byte) (model.Expr, error) {
	switch typ {
	case ObjCounter:
		return DecodeExpr("counter", data)
	case ObjQuota:
		return DecodeExpr("quota", data)
	case ObjLimit:
		return DecodeExpr("limit", data)
	case ObjConnlimit:
		return DecodeExpr("connlimit", data)
	case ObjSynproxy:
		return DecodeExpr("synproxy", data)
	}
	ad, err := newDecoder(data)
	if err != nil {
		return nil, err
	}
	switch typ {
	case ObjCtHelper:
		h := &model.CtHelper{}
		for ad.Next() {
			switch ad.Type() {
			case 1:
				h.Name = ad.String()
			case 2:
				h.L3Proto = ad.Uint16()
			case 3:
				h.L4Proto = ad.Uint8()
			}
		}
		return h, ad.Err()
	case ObjCtTimeout:
		t := &model.CtTimeout{Policy: map[uint32]uint32{}}
		for ad.Next() {
			switch ad.Type() {
			case 1:
				t.L3Proto = ad.Uint16()
			case 2:
				t.L4Proto = ad.Uint8()
			case 3:
				ad.Nested(func(nad *netlink.AttributeDecoder) error {
					for nad.Next() {
						// Attribute i holds the timeout of state i-1.
						t.Policy[uint32(nad.Type())-1] = nad.Uint32()
					}
					return nad.Err()
				})
			}
		}
		return t, ad.Err()
	case ObjCtExpect:
		x := &model.CtExpect{}
		for ad.Next() {
			switch ad.Type() {
			case 1:
				x.L3Proto = ad.Uint16()
			case 2:
				x.L4Proto = ad.Uint8()
			case 3:
				x.DPort = ad.Uint16()
			case 4:
				// The kernel reads this one in host byte order.
				x.Timeout = binary.NativeEndian.Uint32(ad.Bytes())
			case 5:
				x.Size = ad.Uint8()
			}
		}
		return x, ad.Err()
	case ObjSecmark:
		s := &model.Secmark{}
		for ad.Next() {
			if ad.Type() == 1 {
				s.Ctx = ad.String()
			}
		}
		return s, ad.Err()
	}
	return &model.Unknown{Name: fmt.Sprintf("object type %d", typ), Raw: data}, nil
}
