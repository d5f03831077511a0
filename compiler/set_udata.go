package compiler

import "encoding/binary"

// Set userdata as nft writes it (NFTNL_UDATA_SET_*), so that `nft list`
// prints a set nftflow created the way it was written: key and data byte
// order, typeof expressions, merge flag, comment. Values were read off
// nft 1.0.6's own messages (nft --debug=mnl).
const (
	udataSetKeyTypeof    = 3
	udataSetDataTypeof   = 4
	udataSetDataInterval = 6

	udataTypeofExpr = 0 // NFTNL_UDATA_SET_TYPEOF_EXPR: nft's expression type
	udataTypeofData = 1 // NFTNL_UDATA_SET_TYPEOF_DATA: the expression's own TLVs
)

// nft's expression types (enum expr_types) as stored in typeof userdata.
const (
	exprVerdict = 1
	exprPayload = 7
	exprExthdr  = 8
	exprMeta    = 9
	exprCt      = 12
	exprConcat  = 13
	exprNumgen  = 23
	exprHash    = 24
	exprRt      = 25
	exprFib     = 26
)

// protoDescIDs are nft's protocol description ids (enum proto_desc_id).
var protoDescIDs = map[string]uint32{
	"ah": 1, "esp": 2, "comp": 3, "icmp": 4, "igmp": 5, "udp": 6, "udplite": 7, "tcp": 8,
	"dccp": 9, "sctp": 10, "th": 11, "ip": 12, "ip6": 13, "icmpv6": 14, "arp": 15, "vlan": 16,
	"ether": 17,
}

func tlv(typ byte, v []byte) []byte {
	return append([]byte{typ, byte(len(v))}, v...)
}

func tlvU32(typ byte, v uint32) []byte {
	return tlv(typ, binary.LittleEndian.AppendUint32(nil, v))
}

// typeofUdata returns the TYPEOF_EXPR and TYPEOF_DATA attributes that
// describe the expression behind l, or nil when nft has no typeof
// encoding nftflow knows for it (the set then lists as "type").
func typeofUdata(l *load) []byte {
	switch {
	case l.typeof != nil:
		return l.typeof
	case len(l.parts) > 0:
		var inner []byte
		for i, p := range l.parts {
			sub := typeofUdata(p)
			if sub == nil {
				return nil
			}
			inner = append(inner, tlv(byte(i), sub)...)
		}
		return append(tlvU32(udataTypeofExpr, exprConcat), tlv(udataTypeofData, inner)...)
	case l.proto != nil && l.field != nil && l.proto.Name == "raw":
		// raw payload: no protocol; base (nft's PROTO_BASE_*), offset
		// and length in bits
		data := append(tlvU32(0, 0), tlvU32(1, 0)...)
		data = append(data, tlvU32(2, uint32(l.proto.Layer)+1)...)
		data = append(data, tlvU32(3, l.field.Offset)...)
		data = append(data, tlvU32(4, l.field.Len)...)
		return append(tlvU32(udataTypeofExpr, exprPayload), tlv(udataTypeofData, data)...)
	case l.proto != nil && l.field != nil:
		desc, ok := protoDescIDs[l.proto.Name]
		if !ok {
			return nil
		}
		idx := -1
		for i := range l.proto.Fields {
			if &l.proto.Fields[i] == l.field {
				idx = i + 1
			}
		}
		if idx < 0 {
			return nil
		}
		data := append(tlvU32(0, desc), tlvU32(1, uint32(idx))...)
		if l.field.Type == "integer" {
			// nft records the length of plain integer fields
			data = append(data, tlvU32(4, l.field.Len)...)
		}
		return append(tlvU32(udataTypeofExpr, exprPayload), tlv(udataTypeofData, data)...)
	case l.meta != nil:
		return append(tlvU32(udataTypeofExpr, exprMeta), tlv(udataTypeofData, tlvU32(0, l.meta.Key))...)
	case l.ct != nil:
		dir := uint32(0xffffffff)
		if l.ctDir >= 0 {
			dir = uint32(l.ctDir)
		}
		data := append(tlvU32(0, l.ct.Key), tlvU32(1, dir)...)
		return append(tlvU32(udataTypeofExpr, exprCt), tlv(udataTypeofData, data)...)
	}
	return nil
}

// keyByteorder is the KEYBYTEORDER value: 0 for concatenations.
func keyByteorder(l *load) uint32 {
	if len(l.parts) > 0 {
		return 0
	}
	return udataOrder(l.order)
}

// setUdata builds a set's userdata in nft's attribute order.
func setUdata(key, data *load, keyTypeof, dataTypeof, isMap, isVerdict, merge bool, comment string) []byte {
	ud := udataU32(udataSetKeyByteorder, keyByteorder(key))
	if isMap {
		v := uint32(0)
		if data != nil && !isVerdict {
			v = keyByteorder(data)
		}
		ud = append(ud, udataU32(udataSetDataByteorder, v)...)
	}
	switch {
	case keyTypeof:
		if t := typeofUdata(key); t != nil {
			ud = append(ud, tlv(udataSetKeyTypeof, t)...)
		}
	case len(key.parts) > 0:
		// nft records "type a . b" keys as an empty concatenation
		ud = append(ud, tlv(udataSetKeyTypeof, append(tlvU32(udataTypeofExpr, exprConcat), tlv(udataTypeofData, nil)...))...)
	}
	if isMap && dataTypeof && data != nil {
		if isVerdict {
			ud = append(ud, tlv(udataSetDataTypeof, append(tlvU32(udataTypeofExpr, exprVerdict), tlv(udataTypeofData, nil)...))...)
		} else if t := typeofUdata(data); t != nil {
			ud = append(ud, tlv(udataSetDataTypeof, t)...)
		}
	}
	if merge {
		ud = append(ud, udataU32(udataSetMergeElements, 1)...)
	}
	if isMap {
		ud = append(ud, udataU32(udataSetDataInterval, 0)...)
	}
	if comment != "" {
		ud = append(ud, udataString(udataSetComment, comment)...)
	}
	return ud
}
