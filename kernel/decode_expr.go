package kernel

import (
	"fmt"

	"github.com/mdlayher/netlink"

	"github.com/nftflow/nftflow/model"
)

// DecodeExpr decodes the NFTA_EXPR_DATA attributes of an expression named
// name. Kinds it does not know, and data it cannot parse, become a
// *model.Unknown carrying the raw bytes: an expression is never dropped.
func DecodeExpr(name string, data []byte) (model.Expr, error) {
	dec, ok := exprDecoder(name)
	if !ok {
		return &model.Unknown{Name: name, Raw: data}, nil
	}
	ad, err := newDecoder(data)
	if err != nil {
		return nil, fmt.Errorf("decode %s expression: %w", name, err)
	}
	e := dec(ad)
	if err := ad.Err(); err != nil {
		return nil, fmt.Errorf("decode %s expression: %w", name, err)
	}
	return e, nil
}

// exprDecoder returns the attribute decoder for a kernel expression name.
func exprDecoder(name string) (func(ad *netlink.AttributeDecoder) model.Expr, bool) {
	switch name {
	case "payload":
		return decodePayload, true
	case "meta":
		return decodeMeta, true
	case "cmp":
		return decodeCmp, true
	case "range":
		return decodeRange, true
	case "bitwise":
		return decodeBitwise, true
	case "byteorder":
		return decodeByteorder, true
	case "immediate":
		return decodeImmediate, true
	case "lookup":
		return decodeLookup, true
	case "counter":
		return decodeCounter, true
	case "ct":
		return decodeCt, true
	case "exthdr":
		return decodeExthdr, true
	case "log":
		return decodeLog, true
	case "limit":
		return decodeLimit, true
	case "quota":
		return decodeQuota, true
	case "reject":
		return decodeReject, true
	case "nat":
		return decodeNAT, true
	case "masq":
		return decodeMasq, true
	case "redir":
		return decodeRedir, true
	case "fib":
		return decodeFib, true
	case "rt":
		return decodeRt, true
	case "socket":
		return decodeSocket, true
	case "numgen":
		return decodeNumgen, true
	case "hash":
		return decodeHash, true
	case "dynset":
		return decodeDynset, true
	case "objref":
		return decodeObjref, true
	case "dup":
		return decodeDup, true
	case "fwd":
		return decodeFwd, true
	case "queue":
		return decodeQueue, true
	case "tproxy":
		return decodeTproxy, true
	case "synproxy":
		return decodeSynproxy, true
	case "connlimit":
		return decodeConnlimit, true
	case "osf":
		return decodeOsf, true
	case "last":
		return decodeLast, true
	case "xfrm":
		return decodeXfrm, true
	case "inner":
		return decodeInner, true
	case "tunnel":
		return decodeTunnel, true
	case "flow_offload":
		return decodeFlowOffload, true
	case "notrack":
		return decodeNotrack, true
	}
	return nil, false
}

func decodeFlowOffload(ad *netlink.AttributeDecoder) model.Expr {
	e := &model.FlowOffload{}
	for ad.Next() {
		if ad.Type() == 1 { // NFTA_FLOW_TABLE_NAME
			e.Flowtable = ad.String()
		}
	}
	return e
}

func decodeNotrack(ad *netlink.AttributeDecoder) model.Expr {
	for ad.Next() {
	}
	return &model.Notrack{}
}

func decodePayload(ad *netlink.AttributeDecoder) model.Expr {
	e := &model.Payload{}
	for ad.Next() {
		switch ad.Type() {
		case 1:
			e.DReg = ad.Uint32()
		case 2:
			e.Base = ad.Uint32()
		case 3:
			e.Offset = ad.Uint32()
		case 4:
			e.Len = ad.Uint32()
		case 5:
			e.SReg = ad.Uint32()
		case 6:
			e.CsumType = ad.Uint32()
		case 7:
			e.CsumOffset = ad.Uint32()
		case 8:
			e.CsumFlags = ad.Uint32()
		}
	}
	return e
}

func decodeMeta(ad *netlink.AttributeDecoder) model.Expr {
	e := &model.Meta{}
	for ad.Next() {
		switch ad.Type() {
		case 1:
			e.DReg = ad.Uint32()
		case 2:
			e.Key = ad.Uint32()
		case 3:
			e.SReg = ad.Uint32()
		}
	}
	return e
}

// nestedData decodes an NFTA_DATA nest at the current attribute.
func nestedData(ad *netlink.AttributeDecoder) (val []byte, v *model.Verdict) {
	ad.Nested(func(nad *netlink.AttributeDecoder) error {
		var err error
		val, v, err = decodeData(nad)
		return err
	})
	return val, v
}

func decodeCmp(ad *netlink.AttributeDecoder) model.Expr {
	e := &model.Cmp{}
	for ad.Next() {
		switch ad.Type() {
		case 1:
			e.SReg = ad.Uint32()
		case 2:
			e.Op = ad.Uint32()
		case 3:
			e.Data, _ = nestedData(ad)
		}
	}
	return e
}

func decodeRange(ad *netlink.AttributeDecoder) model.Expr {
	e := &model.Range{}
	for ad.Next() {
		switch ad.Type() {
		case 1:
			e.SReg = ad.Uint32()
		case 2:
			e.Op = ad.Uint32()
		case 3:
			e.From, _ = nestedData(ad)
		case 4:
			e.To, _ = nestedData(ad)
		}
	}
	return e
}

func decodeBitwise(ad *netlink.AttributeDecoder) model.Expr {
	e := &model.Bitwise{}
	for ad.Next() {
		switch ad.Type() {
		case 1:
			e.SReg = ad.Uint32()
		case 2:
			e.DReg = ad.Uint32()
		case 3:
			e.Len = ad.Uint32()
		case 4:
			e.Mask, _ = nestedData(ad)
		case 5:
			e.Xor, _ = nestedData(ad)
		case 6:
			e.Op = ad.Uint32()
		case 7:
			e.Data, _ = nestedData(ad)
		}
	}
	return e
}

func decodeByteorder(ad *netlink.AttributeDecoder) model.Expr {
	e := &model.Byteorder{}
	for ad.Next() {
		switch ad.Type() {
		case 1:
			e.SReg = ad.Uint32()
		case 2:
			e.DReg = ad.Uint32()
		case 3:
			e.Op = ad.Uint32()
		case 4:
			e.Len = ad.Uint32()
		case 5:
			e.Size = ad.Uint32()
		}
	}
	return e
}

func decodeImmediate(ad *netlink.AttributeDecoder) model.Expr {
	e := &model.Immediate{}
	for ad.Next() {
		switch ad.Type() {
		case 1:
			e.DReg = ad.Uint32()
		case 2:
			e.Data, e.Verdict = nestedData(ad)
		}
	}
	return e
}

func decodeLookup(ad *netlink.AttributeDecoder) model.Expr {
	e := &model.Lookup{}
	for ad.Next() {
		switch ad.Type() {
		case 1:
			e.Set = ad.String()
		case 2:
			e.SReg = ad.Uint32()
		case 3:
			e.DReg = ad.Uint32()
			e.HasDReg = true
		case 4:
			e.SetID = ad.Uint32()
		case 5:
			e.Flags = ad.Uint32()
		}
	}
	return e
}

func decodeCounter(ad *netlink.AttributeDecoder) model.Expr {
	e := &model.Counter{}
	for ad.Next() {
		switch ad.Type() {
		case 1:
			e.Bytes = ad.Uint64()
		case 2:
			e.Packets = ad.Uint64()
		}
	}
	return e
}

func decodeCt(ad *netlink.AttributeDecoder) model.Expr {
	e := &model.Ct{}
	for ad.Next() {
		switch ad.Type() {
		case 1:
			e.DReg = ad.Uint32()
		case 2:
			e.Key = ad.Uint32()
		case 3:
			e.Direction = ad.Uint8()
			e.HasDirection = true
		case 4:
			e.SReg = ad.Uint32()
		}
	}
	return e
}

func decodeExthdr(ad *netlink.AttributeDecoder) model.Expr {
	e := &model.Exthdr{}
	for ad.Next() {
		switch ad.Type() {
		case 1:
			e.DReg = ad.Uint32()
		case 2:
			e.Type = ad.Uint8()
		case 3:
			e.Offset = ad.Uint32()
		case 4:
			e.Len = ad.Uint32()
		case 5:
			e.Flags = ad.Uint32()
		case 6:
			e.Op = ad.Uint32()
		case 7:
			e.SReg = ad.Uint32()
		}
	}
	return e
}

func decodeLog(ad *netlink.AttributeDecoder) model.Expr {
	e := &model.Log{}
	for ad.Next() {
		switch ad.Type() {
		case 1:
			e.Group, e.HasGroup = ad.Uint16(), true
		case 2:
			e.Prefix, e.HasPrefix = ad.String(), true
		case 3:
			e.Snaplen = ad.Uint32()
		case 4:
			e.QThreshold = ad.Uint16()
		case 5:
			e.Level, e.HasLevel = ad.Uint32(), true
		case 6:
			e.Flags = ad.Uint32()
		}
	}
	return e
}

func decodeLimit(ad *netlink.AttributeDecoder) model.Expr {
	e := &model.Limit{}
	for ad.Next() {
		switch ad.Type() {
		case 1:
			e.Rate = ad.Uint64()
		case 2:
			e.Unit = ad.Uint64()
		case 3:
			e.Burst = ad.Uint32()
		case 4:
			e.Type = ad.Uint32()
		case 5:
			e.Flags = ad.Uint32()
		}
	}
	return e
}

func decodeQuota(ad *netlink.AttributeDecoder) model.Expr {
	e := &model.Quota{}
	for ad.Next() {
		switch ad.Type() {
		case 1:
			e.Bytes = ad.Uint64()
		case 2:
			e.Flags = ad.Uint32()
		case 4:
			e.Consumed = ad.Uint64()
		}
	}
	return e
}

func decodeReject(ad *netlink.AttributeDecoder) model.Expr {
	e := &model.Reject{}
	for ad.Next() {
		switch ad.Type() {
		case 1:
			e.Type = ad.Uint32()
		case 2:
			e.Code = ad.Uint8()
		}
	}
	return e
}

func decodeNAT(ad *netlink.AttributeDecoder) model.Expr {
	e := &model.NAT{}
	for ad.Next() {
		switch ad.Type() {
		case 1:
			e.Type = ad.Uint32()
		case 2:
			e.Family = ad.Uint32()
		case 3:
			e.RegAddrMin = ad.Uint32()
		case 4:
			e.RegAddrMax = ad.Uint32()
		case 5:
			e.RegProtoMin = ad.Uint32()
		case 6:
			e.RegProtoMax = ad.Uint32()
		case 7:
			e.Flags = ad.Uint32()
		}
	}
	return e
}

func decodeMasq(ad *netlink.AttributeDecoder) model.Expr {
	e := &model.Masq{}
	for ad.Next() {
		switch ad.Type() {
		case 1:
			e.Flags = ad.Uint32()
		case 2:
			e.RegProtoMin = ad.Uint32()
		case 3:
			e.RegProtoMax = ad.Uint32()
		}
	}
	return e
}

func decodeRedir(ad *netlink.AttributeDecoder) model.Expr {
	e := &model.Redir{}
	for ad.Next() {
		switch ad.Type() {
		case 1:
			e.RegProtoMin = ad.Uint32()
		case 2:
			e.RegProtoMax = ad.Uint32()
		case 3:
			e.Flags = ad.Uint32()
		}
	}
	return e
}

func decodeFib(ad *netlink.AttributeDecoder) model.Expr {
	e := &model.Fib{}
	for ad.Next() {
		switch ad.Type() {
		case 1:
			e.DReg = ad.Uint32()
		case 2:
			e.Result = ad.Uint32()
		case 3:
			e.Flags = ad.Uint32()
		}
	}
	return e
}

func decodeRt(ad *netlink.AttributeDecoder) model.Expr {
	e := &model.Rt{}
	for ad.Next() {
		switch ad.Type() {
		case 1:
			e.DReg = ad.Uint32()
		case 2:
			e.Key = ad.Uint32()
		}
	}
	return e
}

func decodeSocket(ad *netlink.AttributeDecoder) model.Expr {
	e := &model.Socket{}
	for ad.Next() {
		switch ad.Type() {
		case 1:
			e.Key = ad.Uint32()
		case 2:
			e.DReg = ad.Uint32()
		case 3:
			e.Level = ad.Uint32()
		}
	}
	return e
}

func decodeNumgen(ad *netlink.AttributeDecoder) model.Expr {
	e := &model.Numgen{}
	for ad.Next() {
		switch ad.Type() {
		case 1:
			e.DReg = ad.Uint32()
		case 2:
			e.Modulus = ad.Uint32()
		case 3:
			e.Type = ad.Uint32()
		case 4:
			e.Offset = ad.Uint32()
		}
	}
	return e
}

func decodeHash(ad *netlink.AttributeDecoder) model.Expr {
	e := &model.Hash{}
	for ad.Next() {
		switch ad.Type() {
		case 1:
			e.SReg = ad.Uint32()
		case 2:
			e.DReg = ad.Uint32()
		case 3:
			e.Len = ad.Uint32()
		case 4:
			e.Modulus = ad.Uint32()
		case 5:
			e.Seed, e.HasSeed = ad.Uint32(), true
		case 6:
			e.Offset = ad.Uint32()
		case 7:
			e.Type = ad.Uint32()
		}
	}
	return e
}

func decodeDynset(ad *netlink.AttributeDecoder) model.Expr {
	e := &model.Dynset{}
	for ad.Next() {
		switch ad.Type() {
		case 1:
			e.Set = ad.String()
		case 2:
			e.SetID = ad.Uint32()
		case 3:
			e.Op = ad.Uint32()
		case 4:
			e.SRegKey = ad.Uint32()
		case 5:
			e.SRegData = ad.Uint32()
		case 6:
			e.Timeout = ad.Uint64()
		case 7:
			ad.Nested(func(nad *netlink.AttributeDecoder) error {
				x, err := decodeExprElem(nad)
				if x != nil {
					e.Exprs = append(e.Exprs, x)
				}
				return err
			})
		case 9:
			e.Flags = ad.Uint32()
		case 10:
			ad.Nested(func(nad *netlink.AttributeDecoder) error {
				xs, err := decodeExprList(nad)
				e.Exprs = append(e.Exprs, xs...)
				return err
			})
		}
	}
	return e
}

func decodeObjref(ad *netlink.AttributeDecoder) model.Expr {
	e := &model.Objref{}
	for ad.Next() {
		switch ad.Type() {
		case 1:
			e.Type = ad.Uint32()
		case 2:
			e.Name = ad.String()
		case 3:
			e.SReg = ad.Uint32()
		case 4:
			e.Set = ad.String()
		case 5:
			e.SetID = ad.Uint32()
		}
	}
	return e
}

func decodeDup(ad *netlink.AttributeDecoder) model.Expr {
	e := &model.Dup{}
	for ad.Next() {
		switch ad.Type() {
		case 1:
			e.RegAddr = ad.Uint32()
		case 2:
			e.RegDev = ad.Uint32()
		}
	}
	return e
}

func decodeFwd(ad *netlink.AttributeDecoder) model.Expr {
	e := &model.Fwd{}
	for ad.Next() {
		switch ad.Type() {
		case 1:
			e.RegDev = ad.Uint32()
		case 2:
			e.RegAddr = ad.Uint32()
		case 3:
			e.NFProto = ad.Uint32()
		}
	}
	return e
}

func decodeQueue(ad *netlink.AttributeDecoder) model.Expr {
	e := &model.Queue{}
	for ad.Next() {
		switch ad.Type() {
		case 1:
			e.Num = ad.Uint16()
		case 2:
			e.Total = ad.Uint16()
		case 3:
			e.Flags = ad.Uint16()
		case 4:
			e.SRegQnum = ad.Uint32()
		}
	}
	return e
}

func decodeTproxy(ad *netlink.AttributeDecoder) model.Expr {
	e := &model.Tproxy{}
	for ad.Next() {
		switch ad.Type() {
		case 1:
			e.Family = ad.Uint32()
		case 2:
			e.RegAddr = ad.Uint32()
		case 3:
			e.RegPort = ad.Uint32()
		}
	}
	return e
}

func decodeSynproxy(ad *netlink.AttributeDecoder) model.Expr {
	e := &model.Synproxy{}
	for ad.Next() {
		switch ad.Type() {
		case 1:
			e.MSS = ad.Uint16()
		case 2:
			e.Wscale = ad.Uint8()
		case 3:
			e.Flags = ad.Uint32()
		}
	}
	return e
}

func decodeConnlimit(ad *netlink.AttributeDecoder) model.Expr {
	e := &model.Connlimit{}
	for ad.Next() {
		switch ad.Type() {
		case 1:
			e.Count = ad.Uint32()
		case 2:
			e.Flags = ad.Uint32()
		}
	}
	return e
}

func decodeOsf(ad *netlink.AttributeDecoder) model.Expr {
	e := &model.Osf{}
	for ad.Next() {
		switch ad.Type() {
		case 1:
			e.DReg = ad.Uint32()
		case 2:
			e.TTL = ad.Uint8()
		case 3:
			e.Flags = ad.Uint32()
		}
	}
	return e
}

func decodeLast(ad *netlink.AttributeDecoder) model.Expr {
	e := &model.Last{}
	for ad.Next() {
		switch ad.Type() {
		case 1:
			e.Set = ad.Uint32() != 0
		case 2:
			e.Msecs = ad.Uint64()
		}
	}
	return e
}

func decodeXfrm(ad *netlink.AttributeDecoder) model.Expr {
	e := &model.Xfrm{}
	for ad.Next() {
		switch ad.Type() {
		case 1:
			e.DReg = ad.Uint32()
		case 2:
			e.Key = ad.Uint32()
		case 3:
			e.Dir = ad.Uint8()
		case 4:
			e.SPNum = ad.Uint32()
		}
	}
	return e
}

func decodeInner(ad *netlink.AttributeDecoder) model.Expr {
	e := &model.Inner{}
	for ad.Next() {
		switch ad.Type() {
		case 1:
			e.Num = ad.Uint32()
		case 2:
			e.Type = ad.Uint32()
		case 3:
			e.Flags = ad.Uint32()
		case 4:
			e.HdrSize = ad.Uint32()
		case 5:
			ad.Nested(func(nad *netlink.AttributeDecoder) error {
				x, err := decodeExprElem(nad)
				e.Expr = x
				return err
			})
		}
	}
	return e
}

func decodeTunnel(ad *netlink.AttributeDecoder) model.Expr {
	e := &model.Tunnel{}
	for ad.Next() {
		switch ad.Type() {
		case 1:
			e.Key = ad.Uint32()
		case 2:
			e.DReg = ad.Uint32()
		case 3:
			e.Mode = ad.Uint32()
		}
	}
	return e
}
