package render

import (
	"encoding/binary"
	"fmt"
	"strings"

	"github.com/nftflow/nftflow/compiler"
)

// nft stores the "typeof" expression of a set's key and data in the set's
// userdata (NFTNL_UDATA_SET_KEY_TYPEOF = 3, NFTNL_UDATA_SET_DATA_TYPEOF =
// 4): a nest of TLVs naming the expression type and its parameters. The
// numbers below are nft's (enum expr_types, enum proto_desc_id, enum
// proto_bases), as nft 1.0.6 writes them.
const (
	lsUdKeyTypeof  = 3
	lsUdDataTypeof = 4

	lsExprPayload = 7
	lsExprMeta    = 9
	lsExprCt      = 12
	lsExprConcat  = 13
	lsExprNumgen  = 23
)

// lsProtoDescs maps nft's proto_desc_id to protocol names.
var lsProtoDescs = map[uint32]string{
	1: "ah", 2: "esp", 3: "comp", 4: "icmp", 5: "igmp", 6: "udp", 7: "udplite",
	8: "tcp", 9: "dccp", 10: "sctp", 11: "th", 12: "ip", 13: "ip6", 14: "icmpv6",
	15: "arp", 16: "vlan", 17: "ether",
}

// lsUdTLVs splits nftnl userdata into its TLVs, by type.
func lsUdTLVs(b []byte) map[byte][]byte {
	m := map[byte][]byte{}
	for len(b) >= 2 {
		t, n := b[0], int(b[1])
		if len(b) < 2+n {
			break
		}
		if _, ok := m[t]; !ok {
			m[t] = b[2 : 2+n]
		}
		b = b[2+n:]
	}
	return m
}

func lsUdU32(m map[byte][]byte, t byte) (uint32, bool) {
	v, ok := m[t]
	if !ok || len(v) != 4 {
		return 0, false
	}
	return binary.NativeEndian.Uint32(v), true
}

// lsTypeofField is one field of a typeof expression: its text and type.
type lsTypeofField struct {
	text string
	dt   lsDtype
	size int
	host bool
	hex  bool
}

// lsTypeof decodes a typeof nest (TYPEOF_EXPR = 0, TYPEOF_DATA = 1) into
// the fields it selects; ok is false when nftflow cannot print it.
func lsTypeof(b []byte) ([]lsTypeofField, bool) {
	m := lsUdTLVs(b)
	typ, ok := lsUdU32(m, 0)
	if !ok {
		return nil, false
	}
	data := lsUdTLVs(m[1])
	switch typ {
	case lsExprConcat:
		var out []lsTypeofField
		for i := byte(0); ; i++ {
			sub, ok := data[i]
			if !ok {
				break
			}
			f, ok := lsTypeof(sub)
			if !ok {
				return nil, false
			}
			out = append(out, f...)
		}
		return out, len(out) > 0
	case lsExprPayload:
		desc, _ := lsUdU32(data, 0)
		field, _ := lsUdU32(data, 1)
		if desc == 0 {
			base, _ := lsUdU32(data, 2)
			off, _ := lsUdU32(data, 3)
			n, _ := lsUdU32(data, 4)
			bases := map[uint32]string{1: "ll", 2: "nh", 3: "th", 4: "ih"}
			if bases[base] == "" || n == 0 {
				return nil, false
			}
			return []lsTypeofField{{text: fmt.Sprintf("@%s,%d,%d", bases[base], off, n), dt: lsDtypeByID(lsTInteger), size: int(n+7) / 8, hex: true}}, true
		}
		p := compiler.ProtoByName(lsProtoDescs[desc])
		if p == nil || field == 0 || int(field) > len(p.Fields) {
			return nil, false
		}
		f := p.Fields[field-1]
		return []lsTypeofField{{text: p.Name + " " + f.Name, dt: lsDtypeByName(f.Type), size: int(f.Len+7) / 8}}, true
	case lsExprMeta:
		key, ok := lsUdU32(data, 0)
		k := compiler.MetaKeyByNum(key)
		if !ok || k == nil {
			return nil, false
		}
		dt := lsDtypeByName(k.Type)
		return []lsTypeofField{{text: lsMetaText(key, 0), dt: dt, size: int(k.Len), host: dt.hostOrder()}}, true
	case lsExprCt:
		key, ok := lsUdU32(data, 0)
		dir, _ := lsUdU32(data, 1)
		k := compiler.CtKeyByNum(key)
		if !ok || k == nil {
			return nil, false
		}
		text := "ct " + k.Name
		switch dir {
		case 0:
			text = "ct original " + k.Name
		case 1:
			text = "ct reply " + k.Name
		}
		dt := lsDtypeByName(k.Type)
		host := dt.hostOrder()
		switch dt.id {
		case lsTIPAddr, lsTIP6Addr, lsTInetService, lsTInetProto:
			host = false
		}
		return []lsTypeofField{{text: text, dt: dt, size: int(k.Len), host: host}}, true
	case lsExprNumgen:
		t, _ := lsUdU32(data, 0)
		mod, _ := lsUdU32(data, 1)
		off, _ := lsUdU32(data, 2)
		text := "numgen inc"
		if t == 1 {
			text = "numgen random"
		}
		text += fmt.Sprintf(" mod %d", mod)
		if off != 0 {
			text += fmt.Sprintf(" offset %d", off)
		}
		return []lsTypeofField{{text: text, dt: lsDtypeByID(lsTInteger), size: 4, host: true}}, true
	}
	return nil, false
}

// lsApplyTypeof replaces a set type's declaration and field types with the
// typeof expression stored in userdata tlv, when nftflow can print it.
func lsApplyTypeof(t *lsSetType, ud []byte, tlv byte) {
	v, ok := lsUdTLVs(ud)[tlv]
	if !ok {
		return
	}
	fields, ok := lsTypeof(v)
	if !ok {
		return
	}
	var texts []string
	for _, f := range fields {
		texts = append(texts, f.text)
	}
	t.decl = "typeof " + strings.Join(texts, " . ")
	if len(fields) == len(t.fields) {
		for i, f := range fields {
			if t.fields[i].dt.id == 0 || t.fields[i].dt.dt == nil || t.fields[i].dt.id == lsTInteger || f.dt.id != lsTInteger {
				t.fields[i].dt = f.dt
				t.fields[i].host = f.host
				t.fields[i].hex = f.hex
			}
			if t.fields[i].size == 0 {
				t.fields[i].size = f.size
			}
		}
	} else if len(t.fields) <= 1 {
		t.fields = t.fields[:0]
		for _, f := range fields {
			t.fields = append(t.fields, lsSetField{dt: f.dt, size: f.size, host: f.host, hex: f.hex})
		}
	}
}
