package kernel

import (
	"encoding/binary"
	"fmt"
	"sort"

	"github.com/nftflow/nftflow/model"
)

// Expression attribute numbers (enum nft_*_attributes in nf_tables.h), in
// the order of the header. Each block belongs to one expression.
const (
	aPayloadDReg, aPayloadBase, aPayloadOffset, aPayloadLen, aPayloadSReg, aPayloadCsumType, aPayloadCsumOffset, aPayloadCsumFlags    = 1, 2, 3, 4, 5, 6, 7, 8
	aMetaDReg, aMetaKey, aMetaSReg                                                                                                    = 1, 2, 3
	aCmpSReg, aCmpOp, aCmpData                                                                                                        = 1, 2, 3
	aRangeSReg, aRangeOp, aRangeFrom, aRangeTo                                                                                        = 1, 2, 3, 4
	aBitwiseSReg, aBitwiseDReg, aBitwiseLen, aBitwiseMask, aBitwiseXor, aBitwiseOp, aBitwiseData                                      = 1, 2, 3, 4, 5, 6, 7
	aByteorderSReg, aByteorderDReg, aByteorderOp, aByteorderLen, aByteorderSize                                                       = 1, 2, 3, 4, 5
	aImmDReg, aImmData                                                                                                                = 1, 2
	aLookupSet, aLookupSReg, aLookupDReg, aLookupSetID, aLookupFlags                                                                  = 1, 2, 3, 4, 5
	aCounterBytes, aCounterPackets                                                                                                    = 1, 2
	aCtDReg, aCtKey, aCtDirection, aCtSReg                                                                                            = 1, 2, 3, 4
	aExthdrDReg, aExthdrType, aExthdrOffset, aExthdrLen, aExthdrFlags, aExthdrOp, aExthdrSReg                                         = 1, 2, 3, 4, 5, 6, 7
	aLogGroup, aLogPrefix, aLogSnaplen, aLogQThreshold, aLogLevel, aLogFlags                                                          = 1, 2, 3, 4, 5, 6
	aLimitRate, aLimitUnit, aLimitBurst, aLimitType, aLimitFlags                                                                      = 1, 2, 3, 4, 5
	aQuotaBytes, aQuotaFlags, aQuotaConsumed                                                                                          = 1, 2, 4
	aRejectType, aRejectCode                                                                                                          = 1, 2
	aNatType, aNatFamily, aNatAddrMin, aNatAddrMax, aNatProtoMin, aNatProtoMax, aNatFlags                                             = 1, 2, 3, 4, 5, 6, 7
	aMasqFlags, aMasqProtoMin, aMasqProtoMax                                                                                          = 1, 2, 3
	aRedirProtoMin, aRedirProtoMax, aRedirFlags                                                                                       = 1, 2, 3
	aFibDReg, aFibResult, aFibFlags                                                                                                   = 1, 2, 3
	aRtDReg, aRtKey                                                                                                                   = 1, 2
	aSocketKey, aSocketDReg, aSocketLevel                                                                                             = 1, 2, 3
	aNgDReg, aNgModulus, aNgType, aNgOffset                                                                                           = 1, 2, 3, 4
	aHashSReg, aHashDReg, aHashLen, aHashModulus, aHashSeed, aHashOffset, aHashType                                                   = 1, 2, 3, 4, 5, 6, 7
	aDynsetSetName, aDynsetSetID, aDynsetOp, aDynsetSRegKey, aDynsetSRegData, aDynsetTimeout, aDynsetExpr, aDynsetFlags, aDynsetExprs = 1, 2, 3, 4, 5, 6, 7, 9, 10
	aObjrefImmType, aObjrefImmName, aObjrefSetSReg, aObjrefSetName, aObjrefSetID                                                      = 1, 2, 3, 4, 5
	aFlowTableName                                                                                                                    = 1
	aDupSRegAddr, aDupSRegDev                                                                                                         = 1, 2
	aFwdSRegDev, aFwdSRegAddr, aFwdNFProto                                                                                            = 1, 2, 3
	aQueueNum, aQueueTotal, aQueueFlags, aQueueSRegQnum                                                                               = 1, 2, 3, 4
	aTproxyFamily, aTproxyRegAddr, aTproxyRegPort                                                                                     = 1, 2, 3
	aSynproxyMSS, aSynproxyWscale, aSynproxyFlags                                                                                     = 1, 2, 3
	aConnlimitCount, aConnlimitFlags                                                                                                  = 1, 2
	aOsfDReg, aOsfTTL, aOsfFlags                                                                                                      = 1, 2, 3
	aLastSet, aLastMsecs                                                                                                              = 1, 2
	aXfrmDReg, aXfrmKey, aXfrmDir, aXfrmSPNum                                                                                         = 1, 2, 3, 4
	aTunnelKey, aTunnelDReg, aTunnelMode                                                                                              = 1, 2, 3
	aCtHelperName, aCtHelperL3, aCtHelperL4                                                                                           = 1, 2, 3
	aCtTimeoutL3, aCtTimeoutL4, aCtTimeoutData                                                                                        = 1, 2, 3
	aCtExpectL3, aCtExpectL4, aCtExpectDPort, aCtExpectTimeout, aCtExpectSize                                                         = 1, 2, 3, 4, 5
	aSecmarkCtx                                                                                                                       = 1
)

// dynsetFExpr is NFT_DYNSET_F_EXPR.
const dynsetFExpr = 2

// hashSym is NFT_HASH_SYM: a symmetric hash takes no source register.
const hashSym = 1

// socketCgroupv2 is NFT_SOCKET_CGROUPV2, the only key with a level.
const socketCgroupv2 = 3

// ErrUnsupportedExpr is returned for an expression this version of nftflow
// cannot send.
type ErrUnsupportedExpr struct{ Kind string }

func (e *ErrUnsupportedExpr) Error() string {
	return fmt.Sprintf("expression %q cannot be sent to the kernel by this nftflow", e.Kind)
}

// putExpr appends one expression as an NFTA_LIST_ELEM-style nest of type
// typ: {NFTA_EXPR_NAME, NFTA_EXPR_DATA{...}}.
func (e *encoder) putExpr(typ uint16, x model.Expr) {
	n := e.nest(typ)
	kind := x.Kind()
	e.str(attrExprName, kind)
	if _, ok := x.(*model.Notrack); !ok {
		d := e.nest(attrExprData)
		e.exprData(x)
		e.unnest(d)
	}
	e.unnest(n)
}

// putExprs appends a list of expressions inside a nest of type typ.
func (e *encoder) putExprs(typ uint16, xs []model.Expr) {
	n := e.nest(typ)
	for _, x := range xs {
		e.putExpr(attrListElem, x)
	}
	e.unnest(n)
}

// verdict appends an NFTA_DATA_VERDICT nest (inside the caller's data nest).
func (e *encoder) verdict(v *model.Verdict) {
	n := e.nest(attrDataVerdict)
	e.u32(attrVerdictCode, uint32(v.Code))
	if v.Chain != "" {
		e.str(attrVerdictChain, v.Chain)
	}
	if v.ChainID != 0 {
		e.u32(attrVerdictChainID, v.ChainID)
	}
	e.unnest(n)
}

func (e *encoder) u32nz(typ uint16, v uint32) {
	if v != 0 {
		e.u32(typ, v)
	}
}

// exprData writes the attributes inside NFTA_EXPR_DATA (or NFTA_OBJ_DATA,
// for the object kinds) for x.
func (e *encoder) exprData(x model.Expr) {
	switch x := x.(type) {
	case *model.Payload:
		if x.SReg != 0 {
			e.u32(aPayloadSReg, x.SReg)
		} else {
			e.u32(aPayloadDReg, x.DReg)
		}
		e.u32(aPayloadBase, x.Base)
		e.u32(aPayloadOffset, x.Offset)
		e.u32(aPayloadLen, x.Len)
		if x.SReg != 0 && x.CsumType != 0 {
			e.u32(aPayloadCsumType, x.CsumType)
			e.u32(aPayloadCsumOffset, x.CsumOffset)
		}
		e.u32nz(aPayloadCsumFlags, x.CsumFlags)
	case *model.Meta:
		e.u32(aMetaKey, x.Key)
		if x.SReg != 0 {
			e.u32(aMetaSReg, x.SReg)
		} else {
			e.u32(aMetaDReg, x.DReg)
		}
	case *model.Cmp:
		e.u32(aCmpSReg, x.SReg)
		e.u32(aCmpOp, x.Op)
		e.data(aCmpData, x.Data)
	case *model.Range:
		e.u32(aRangeSReg, x.SReg)
		e.u32(aRangeOp, x.Op)
		e.data(aRangeFrom, x.From)
		e.data(aRangeTo, x.To)
	case *model.Bitwise:
		e.u32(aBitwiseSReg, x.SReg)
		e.u32(aBitwiseDReg, x.DReg)
		e.u32(aBitwiseLen, x.Len)
		e.u32(aBitwiseOp, x.Op)
		if x.Op == model.BitwiseBool {
			e.data(aBitwiseMask, x.Mask)
			e.data(aBitwiseXor, x.Xor)
		} else {
			e.data(aBitwiseData, x.Data)
		}
	case *model.Byteorder:
		e.u32(aByteorderSReg, x.SReg)
		e.u32(aByteorderDReg, x.DReg)
		e.u32(aByteorderOp, x.Op)
		e.u32(aByteorderLen, x.Len)
		e.u32(aByteorderSize, x.Size)
	case *model.Immediate:
		e.u32(aImmDReg, x.DReg)
		n := e.nest(aImmData)
		if x.Verdict != nil {
			e.verdict(x.Verdict)
		} else {
			e.attr(attrDataValue, x.Data)
		}
		e.unnest(n)
	case *model.Lookup:
		e.str(aLookupSet, x.Set)
		e.u32nz(aLookupSetID, x.SetID)
		e.u32(aLookupSReg, x.SReg)
		if x.HasDReg {
			e.u32(aLookupDReg, x.DReg)
		}
		e.u32nz(aLookupFlags, x.Flags)
	case *model.Counter:
		// as nft sends them: a zero count is left out (the kernel starts
		// at zero), 24 bytes less for each counter of a big ruleset
		if x.Bytes != 0 {
			e.u64(aCounterBytes, x.Bytes)
		}
		if x.Packets != 0 {
			e.u64(aCounterPackets, x.Packets)
		}
	case *model.Ct:
		e.u32(aCtKey, x.Key)
		if x.SReg != 0 {
			e.u32(aCtSReg, x.SReg)
		} else {
			e.u32(aCtDReg, x.DReg)
		}
		if x.HasDirection {
			e.u8(aCtDirection, x.Direction)
		}
	case *model.Exthdr:
		if x.SReg == 0 && x.DReg == 0 {
			// "reset tcp option": the kernel picks the strip operation
			// when no register is given, and then refuses any offset,
			// length or flags.
			e.u8(aExthdrType, x.Type)
			e.u32nz(aExthdrOp, x.Op)
			break
		}
		if x.SReg != 0 {
			e.u32(aExthdrSReg, x.SReg)
		} else {
			e.u32(aExthdrDReg, x.DReg)
		}
		e.u8(aExthdrType, x.Type)
		e.u32(aExthdrOffset, x.Offset)
		e.u32(aExthdrLen, x.Len)
		e.u32nz(aExthdrFlags, x.Flags)
		e.u32nz(aExthdrOp, x.Op)
	case *model.Log:
		if x.HasPrefix {
			e.str(aLogPrefix, x.Prefix)
		}
		if x.HasGroup {
			e.u16(aLogGroup, x.Group)
		}
		e.u32nz(aLogSnaplen, x.Snaplen)
		if x.QThreshold != 0 {
			e.u16(aLogQThreshold, x.QThreshold)
		}
		if x.HasLevel {
			e.u32(aLogLevel, x.Level)
		}
		e.u32nz(aLogFlags, x.Flags)
	case *model.Limit:
		e.u64(aLimitRate, x.Rate)
		e.u64(aLimitUnit, x.Unit)
		e.u32(aLimitBurst, x.Burst)
		e.u32(aLimitType, x.Type)
		e.u32(aLimitFlags, x.Flags)
	case *model.Quota:
		e.u64(aQuotaBytes, x.Bytes)
		e.u32(aQuotaFlags, x.Flags)
		if x.Consumed != 0 {
			e.u64(aQuotaConsumed, x.Consumed)
		}
	case *model.Reject:
		e.u32(aRejectType, x.Type)
		e.u8(aRejectCode, x.Code)
	case *model.NAT:
		e.u32(aNatType, x.Type)
		e.u32(aNatFamily, x.Family)
		e.u32nz(aNatAddrMin, x.RegAddrMin)
		e.u32nz(aNatAddrMax, x.RegAddrMax)
		e.u32nz(aNatProtoMin, x.RegProtoMin)
		e.u32nz(aNatProtoMax, x.RegProtoMax)
		e.u32nz(aNatFlags, x.Flags)
	case *model.Masq:
		e.u32nz(aMasqFlags, x.Flags)
		e.u32nz(aMasqProtoMin, x.RegProtoMin)
		e.u32nz(aMasqProtoMax, x.RegProtoMax)
	case *model.Redir:
		e.u32nz(aRedirProtoMin, x.RegProtoMin)
		e.u32nz(aRedirProtoMax, x.RegProtoMax)
		e.u32nz(aRedirFlags, x.Flags)
	case *model.Fib:
		e.u32(aFibDReg, x.DReg)
		e.u32(aFibResult, x.Result)
		e.u32(aFibFlags, x.Flags)
	case *model.Rt:
		e.u32(aRtDReg, x.DReg)
		e.u32(aRtKey, x.Key)
	case *model.Socket:
		e.u32(aSocketKey, x.Key)
		e.u32(aSocketDReg, x.DReg)
		if x.Key == socketCgroupv2 {
			e.u32(aSocketLevel, x.Level)
		}
	case *model.Numgen:
		e.u32(aNgDReg, x.DReg)
		e.u32(aNgModulus, x.Modulus)
		e.u32(aNgType, x.Type)
		e.u32nz(aNgOffset, x.Offset)
	case *model.Hash:
		if x.Type != hashSym {
			e.u32(aHashSReg, x.SReg)
		}
		e.u32(aHashDReg, x.DReg)
		if x.Type != hashSym {
			e.u32(aHashLen, x.Len)
		}
		e.u32(aHashModulus, x.Modulus)
		if x.HasSeed {
			e.u32(aHashSeed, x.Seed)
		}
		e.u32nz(aHashOffset, x.Offset)
		e.u32(aHashType, x.Type)
	case *model.Dynset:
		e.str(aDynsetSetName, x.Set)
		e.u32nz(aDynsetSetID, x.SetID)
		e.u32(aDynsetOp, x.Op)
		e.u32(aDynsetSRegKey, x.SRegKey)
		e.u32nz(aDynsetSRegData, x.SRegData)
		if x.Timeout != 0 {
			e.u64(aDynsetTimeout, x.Timeout)
		}
		flags := x.Flags
		if len(x.Exprs) > 1 {
			// The kernel takes an expression list only with NFT_DYNSET_F_EXPR.
			flags |= dynsetFExpr
		}
		e.u32nz(aDynsetFlags, flags)
		switch len(x.Exprs) {
		case 0:
		case 1:
			e.putExpr(aDynsetExpr, x.Exprs[0])
		default:
			e.putExprs(aDynsetExprs, x.Exprs)
		}
	case *model.Objref:
		if x.Set != "" || x.SetID != 0 {
			e.u32(aObjrefSetSReg, x.SReg)
			e.str(aObjrefSetName, x.Set)
			e.u32nz(aObjrefSetID, x.SetID)
		} else {
			e.u32(aObjrefImmType, x.Type)
			e.str(aObjrefImmName, x.Name)
		}
	case *model.FlowOffload:
		e.str(aFlowTableName, x.Flowtable)
	case *model.Dup:
		e.u32nz(aDupSRegAddr, x.RegAddr)
		e.u32nz(aDupSRegDev, x.RegDev)
	case *model.Fwd:
		e.u32nz(aFwdSRegDev, x.RegDev)
		e.u32nz(aFwdSRegAddr, x.RegAddr)
		e.u32nz(aFwdNFProto, x.NFProto)
	case *model.Queue:
		// As nft sends it: a queue picked by an expression has no
		// number and total (the kernel refuses both together), and no
		// flags attribute when there are none.
		if x.SRegQnum == 0 {
			e.u16(aQueueNum, x.Num)
			e.u16(aQueueTotal, x.Total)
		}
		if x.Flags != 0 {
			e.u16(aQueueFlags, x.Flags)
		}
		e.u32nz(aQueueSRegQnum, x.SRegQnum)
	case *model.Tproxy:
		e.u32(aTproxyFamily, x.Family)
		e.u32nz(aTproxyRegAddr, x.RegAddr)
		e.u32nz(aTproxyRegPort, x.RegPort)
	case *model.Synproxy:
		e.u16(aSynproxyMSS, x.MSS)
		e.u8(aSynproxyWscale, x.Wscale)
		e.u32(aSynproxyFlags, x.Flags)
	case *model.Connlimit:
		e.u32(aConnlimitCount, x.Count)
		e.u32(aConnlimitFlags, x.Flags)
	case *model.Osf:
		e.u32(aOsfDReg, x.DReg)
		e.u8(aOsfTTL, x.TTL)
		e.u32nz(aOsfFlags, x.Flags)
	case *model.Last:
		var set uint32
		if x.Set {
			set = 1
		}
		e.u32(aLastSet, set)
		e.u64(aLastMsecs, x.Msecs)
	case *model.Xfrm:
		e.u32(aXfrmDReg, x.DReg)
		e.u32(aXfrmKey, x.Key)
		e.u8(aXfrmDir, x.Dir)
		e.u32(aXfrmSPNum, x.SPNum)
	case *model.Tunnel:
		e.u32(aTunnelKey, x.Key)
		e.u32(aTunnelDReg, x.DReg)
		e.u32nz(aTunnelMode, x.Mode)
	case *model.CtHelper:
		e.str(aCtHelperName, x.Name)
		e.u16(aCtHelperL3, x.L3Proto)
		e.u8(aCtHelperL4, x.L4Proto)
	case *model.CtTimeout:
		e.u16(aCtTimeoutL3, x.L3Proto)
		e.u8(aCtTimeoutL4, x.L4Proto)
		n := e.nest(aCtTimeoutData)
		states := make([]uint32, 0, len(x.Policy))
		for s := range x.Policy {
			states = append(states, s)
		}
		sort.Slice(states, func(i, j int) bool { return states[i] < states[j] })
		for _, s := range states {
			// The kernel's timeout attributes are numbered state+1.
			e.u32(uint16(s+1), x.Policy[s])
		}
		e.unnest(n)
	case *model.CtExpect:
		e.u16(aCtExpectL3, x.L3Proto)
		e.u8(aCtExpectL4, x.L4Proto)
		e.u16(aCtExpectDPort, x.DPort)
		// The kernel reads the expectation timeout in host byte order
		// (nla_get_u32), unlike every other integer here.
		var tb [4]byte
		binary.NativeEndian.PutUint32(tb[:], x.Timeout)
		e.attr(aCtExpectTimeout, tb[:])
		e.u8(aCtExpectSize, x.Size)
	case *model.Secmark:
		e.str(aSecmarkCtx, x.Ctx)
	default:
		e.fail(&ErrUnsupportedExpr{Kind: x.Kind()})
	}
}
