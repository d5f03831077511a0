package kernel

import (
	"fmt"
	"time"

	"github.com/nftflow/nftflow/model"
)

// elemNestBudget bounds the NFTA_SET_ELEM_LIST_ELEMENTS nest of one
// set-element message: nla_len is 16 bits, so a nest must stay below 64 KiB.
// Elements beyond it go into the next message.
const elemNestBudget = 60000

// msgWriter receives each finished message of an operation.
type msgWriter interface {
	// nextSeq returns the sequence number of the message about to be written.
	nextSeq() uint32
	// emit takes the message in e (complete, length patched); elem is the
	// index of its first set element or -1.
	emit(e *encoder, elem int) error
}

// encodeOp encodes op as one or more
// messages handed to w. Messages are built in e, which is reset each time.
func encodeOp(e *encoder, w msgWriter, op model.Op) error {
	switch o := op.Obj.(type) {
	case *model.Table:
		return encodeTable(e, w, op.Verb, o)
	case *model.Chain:
		return encodeChain(e, w, op.Verb, o)
	case *model.Rule:
		return encodeRule(e, w, op.Verb, o)
	case *model.Set:
		return encodeSet(e, w, op.Verb, o)
	case *model.SetElems:
		return encodeSetElems(e, w, op.Verb, o)
	case *model.Flowtable:
		return encodeFlowtable(e, w, op.Verb, o)
	case *model.Object:
		return encodeObject(e, w, op.Verb, o)
	case *model.Ruleset:
		if op.Verb != model.VerbFlush {
			return fmt.Errorf("%s ruleset: only flush is possible", op.Verb)
		}
		e.reset()
		m := e.begin(nftType(msgDelTable), nlmFRequest, w.nextSeq(), uint8(o.Family), 0)
		e.end(m)
		return w.emit(e, -1)
	case nil:
		return fmt.Errorf("%s: operation without an object", op.Verb)
	default:
		return fmt.Errorf("%s: cannot send a %T", op.Verb, op.Obj)
	}
}

func nftType(msg uint16) uint16 { return nfnlSubsysNFTables<<8 | msg }

// verbMsg picks the message type and flags for a verb: newMsg for add and
// create, delMsg/destroyMsg for delete and destroy.
func verbMsg(v model.Verb, what string, newMsg, delMsg, destroyMsg uint16) (uint16, uint16, error) {
	switch v {
	case model.VerbAdd:
		return newMsg, nlmFRequest | nlmFCreate, nil
	case model.VerbCreate:
		return newMsg, nlmFRequest | nlmFCreate | nlmFExcl, nil
	case model.VerbDelete:
		return delMsg, nlmFRequest, nil
	case model.VerbDestroy:
		return destroyMsg, nlmFRequest, nil
	}
	return 0, 0, fmt.Errorf("%s %s: not possible in a batch", v, what)
}

// comment encodes a comment as libnftnl's user data TLV (type 0).
func commentUdata(c string) ([]byte, error) {
	if len(c)+1 > 255 {
		return nil, fmt.Errorf("comment of %d bytes is too long (at most 254)", len(c))
	}
	b := make([]byte, 0, len(c)+3)
	b = append(b, udataComment, byte(len(c)+1))
	b = append(b, c...)
	return append(b, 0), nil
}

func encodeTable(e *encoder, w msgWriter, v model.Verb, t *model.Table) error {
	if v == model.VerbFlush {
		// flush table: delete every rule of every chain of the table.
		e.reset()
		m := e.begin(nftType(msgDelRule), nlmFRequest, w.nextSeq(), uint8(t.Family), 0)
		e.str(attrRuleTable, t.Name)
		e.end(m)
		return w.emit(e, -1)
	}
	typ, flags, err := verbMsg(v, "table", msgNewTable, msgDelTable, msgDestroyTable)
	if err != nil {
		return err
	}
	e.reset()
	m := e.begin(nftType(typ), flags, w.nextSeq(), uint8(t.Family), 0)
	if t.Name != "" || t.Handle == 0 {
		e.str(attrTableName, t.Name)
	} else {
		e.u64(4 /* NFTA_TABLE_HANDLE */, t.Handle)
	}
	if typ == msgNewTable {
		e.u32(attrTableFlags, t.Flags)
		if t.Comment != "" {
			ud, err := commentUdata(t.Comment)
			if err != nil {
				return err
			}
			e.attr(attrTableUserdata, ud)
		}
	}
	e.end(m)
	return w.emit(e, -1)
}

func putHookDevices(e *encoder, single, list uint16, devs []string) {
	if len(devs) == 1 && single != 0 {
		e.str(single, devs[0])
		return
	}
	n := e.nest(list)
	for _, d := range devs {
		e.str(attrDeviceName, d)
	}
	e.unnest(n)
}

func encodeChain(e *encoder, w msgWriter, v model.Verb, c *model.Chain) error {
	e.reset()
	if v == model.VerbFlush {
		m := e.begin(nftType(msgDelRule), nlmFRequest, w.nextSeq(), uint8(c.Family), 0)
		e.str(attrRuleTable, c.Table)
		e.str(attrRuleChain, c.Name)
		e.end(m)
		return w.emit(e, -1)
	}
	typ, flags, err := verbMsg(v, "chain", msgNewChain, msgDelChain, msgDestroyChain)
	if err != nil {
		return err
	}
	m := e.begin(nftType(typ), flags, w.nextSeq(), uint8(c.Family), 0)
	e.str(attrChainTable, c.Table)
	switch {
	case c.Name != "":
		e.str(attrChainName, c.Name)
	case c.Handle != 0:
		e.u64(attrChainHandle, c.Handle)
	case c.ID == 0:
		e.str(attrChainName, c.Name)
	}
	// A bound anonymous chain has no name: the kernel names it and the
	// batch refers to it by ID.
	if typ == msgNewChain {
		if h := c.Hook; h != nil {
			n := e.nest(attrChainHook)
			e.u32(attrHookHooknum, h.Hooknum)
			e.u32(attrHookPriority, uint32(h.Priority))
			if len(h.Devices) > 0 {
				putHookDevices(e, attrHookDev, attrHookDevs, h.Devices)
			}
			e.unnest(n)
			if c.Policy != nil {
				e.u32(attrChainPolicy, *c.Policy)
			}
			if h.Type != "" {
				e.str(attrChainType, h.Type)
			}
		}
		if f := c.Flags &^ chainFlagBase; f != 0 {
			e.u32(attrChainFlags, f)
		}
		if c.ID != 0 {
			e.u32(attrChainID, c.ID)
		}
		if c.Comment != "" {
			ud, err := commentUdata(c.Comment)
			if err != nil {
				return err
			}
			e.attr(attrChainUserdata, ud)
		}
	}
	e.end(m)
	return w.emit(e, -1)
}

func encodeRule(e *encoder, w msgWriter, v model.Verb, r *model.Rule) error {
	e.reset()
	var typ, flags uint16
	switch v {
	case model.VerbAdd, model.VerbCreate:
		typ, flags = msgNewRule, nlmFRequest|nlmFCreate|nlmFAppend
	case model.VerbInsert:
		typ, flags = msgNewRule, nlmFRequest|nlmFCreate
	case model.VerbReplace:
		if r.Handle == 0 {
			return fmt.Errorf("replace rule: no handle")
		}
		typ, flags = msgNewRule, nlmFRequest|nlmFReplace
	case model.VerbDelete, model.VerbDestroy:
		if r.Handle == 0 {
			return fmt.Errorf("%s rule: no handle", v)
		}
		typ, flags = msgDelRule, nlmFRequest
		if v == model.VerbDestroy {
			typ = msgDestroyRule
		}
	default:
		return fmt.Errorf("%s rule: not possible in a batch", v)
	}
	m := e.begin(nftType(typ), flags, w.nextSeq(), uint8(r.Family), 0)
	e.str(attrRuleTable, r.Table)
	if r.Chain != "" || r.ChainID == 0 {
		e.str(attrRuleChain, r.Chain)
	}
	if r.ChainID != 0 {
		e.u32(attrRuleChainID, r.ChainID)
	}
	if r.Handle != 0 && typ != msgNewRule || v == model.VerbReplace {
		e.u64(attrRuleHandle, r.Handle)
	}
	if typ == msgNewRule {
		if r.Position != 0 {
			e.u64(attrRulePosition, r.Position)
		}
		e.putExprs(attrRuleExpressions, r.Exprs)
		ud := r.Userdata
		if ud == nil && r.Comment != "" {
			var err error
			if ud, err = commentUdata(r.Comment); err != nil {
				return err
			}
		}
		if ud != nil {
			e.attr(attrRuleUserdata, ud)
		}
	}
	e.end(m)
	return w.emit(e, -1)
}

func ms(d time.Duration) uint64 { return uint64(d / time.Millisecond) }

func encodeSet(e *encoder, w msgWriter, v model.Verb, s *model.Set) error {
	if v == model.VerbFlush {
		return encodeElems(e, w, msgDelSetElem, nlmFRequest, s.Family, s.Table, s.Name, s.ID, nil, false)
	}
	typ, flags, err := verbMsg(v, "set", msgNewSet, msgDelSet, msgDestroySet)
	if err != nil {
		return err
	}
	e.reset()
	m := e.begin(nftType(typ), flags, w.nextSeq(), uint8(s.Family), 0)
	e.str(attrSetTable, s.Table)
	if s.Name != "" || s.Handle == 0 {
		e.str(attrSetName, s.Name)
	} else {
		e.u64(attrSetHandle, s.Handle)
	}
	if typ == msgNewSet {
		// The kernel takes field lengths only with NFT_SET_CONCAT, which
		// nft sets (and sends the lengths) for interval concatenations
		// only; a plain concatenated key needs neither.
		flags, fields := s.Flags, s.FieldLens
		if len(fields) > 1 && flags&setFlagConcat == 0 {
			if flags&setFlagInterval != 0 {
				flags |= setFlagConcat
			} else {
				fields = nil
			}
		}
		e.u32(attrSetFlags, flags)
		e.u32(attrSetKeyType, s.KeyType)
		e.u32(attrSetKeyLen, s.KeyLen)
		if s.Flags&setFlagMap != 0 {
			e.u32(attrSetDataType, s.DataType)
			if s.DataType != dataVerdict || s.DataLen != 0 {
				e.u32(attrSetDataLen, s.DataLen)
			}
		}
		if s.Flags&setFlagObject != 0 {
			e.u32(attrSetObjType, s.ObjType)
		}
		if s.Policy != nil {
			e.u32(attrSetPolicy, *s.Policy)
		}
		if s.Size != 0 || len(fields) > 0 {
			d := e.nest(attrSetDesc)
			if s.Size != 0 {
				e.u32(attrSetDescSize, s.Size)
			}
			if len(fields) > 0 {
				c := e.nest(attrSetDescConcat)
				for _, l := range fields {
					f := e.nest(attrListElem)
					e.u32(attrSetFieldLen, l)
					e.unnest(f)
				}
				e.unnest(c)
			}
			e.unnest(d)
		}
		e.u32(attrSetID, s.ID)
		if s.Timeout != 0 {
			e.u64(attrSetTimeout, ms(s.Timeout))
		}
		if s.GCInterval != 0 {
			e.u32(attrSetGCInterval, uint32(ms(s.GCInterval)))
		}
		if s.Userdata != nil {
			e.attr(attrSetUserdata, s.Userdata)
		}
		switch len(s.Exprs) {
		case 0:
		case 1:
			e.putExpr(attrSetExpr, s.Exprs[0])
		default:
			e.putExprs(attrSetExpressions, s.Exprs)
		}
	}
	e.end(m)
	if err := w.emit(e, -1); err != nil {
		return err
	}
	if typ == msgNewSet && len(s.Elements) > 0 {
		return encodeElems(e, w, msgNewSetElem, flags, s.Family, s.Table, s.Name, s.ID, s.Elements, true)
	}
	return nil
}

func encodeSetElems(e *encoder, w msgWriter, v model.Verb, s *model.SetElems) error {
	var typ, flags uint16
	switch v {
	case model.VerbAdd:
		typ, flags = msgNewSetElem, nlmFRequest|nlmFCreate
	case model.VerbCreate:
		typ, flags = msgNewSetElem, nlmFRequest|nlmFCreate|nlmFExcl
	case model.VerbDelete:
		typ, flags = msgDelSetElem, nlmFRequest
	case model.VerbDestroy:
		typ, flags = msgDestroySetElem, nlmFRequest
	case model.VerbFlush:
		return encodeElems(e, w, msgDelSetElem, nlmFRequest, s.Family, s.Table, s.Set, s.SetID, nil, false)
	default:
		return fmt.Errorf("%s element: not possible in a batch", v)
	}
	if len(s.Elements) == 0 {
		return nil // nothing to add or delete; an empty list would flush
	}
	return encodeElems(e, w, typ, flags, s.Family, s.Table, s.Set, s.SetID, s.Elements, true)
}

// encodeElems writes the elements in as many messages as needed to keep
// each ELEMENTS nest below elemNestBudget. withList=false writes a single
// message with no ELEMENTS attribute (a flush).
func encodeElems(e *encoder, w msgWriter, typ, flags uint16, fam model.Family, table, set string, setID uint32, elems []model.SetElem, withList bool) error {
	i := 0
	for {
		e.reset()
		first := i
		m := e.begin(nftType(typ), flags, w.nextSeq(), uint8(fam), 0)
		e.str(attrElemListTable, table)
		e.str(attrElemListSet, set)
		if setID != 0 {
			e.u32(attrElemListSetID, setID)
		}
		if withList {
			n := e.nest(attrElemListElements)
			for ; i < len(elems); i++ {
				mark := len(e.b)
				e.putElem(&elems[i])
				if e.bad != nil {
					return fmt.Errorf("element %d: %w", i, e.bad)
				}
				if len(e.b)-n > elemNestBudget && i > first {
					e.b = e.b[:mark] // starts the next message
					break
				}
			}
			e.unnest(n)
		}
		e.end(m)
		if err := w.emit(e, first); err != nil {
			return err
		}
		if !withList || i >= len(elems) {
			return nil
		}
	}
}

func (e *encoder) putElem(el *model.SetElem) {
	n := e.nest(attrListElem)
	if el.Key != nil {
		e.data(attrElemKey, el.Key)
	}
	if el.KeyEnd != nil {
		e.data(attrElemKeyEnd, el.KeyEnd)
	}
	if el.Verdict != nil {
		d := e.nest(attrElemData)
		e.verdict(el.Verdict)
		e.unnest(d)
	} else if el.Data != nil {
		e.data(attrElemData, el.Data)
	}
	if el.ObjRef != "" {
		e.str(attrElemObjref, el.ObjRef)
	}
	e.u32nz(attrElemFlags, el.Flags)
	if el.Timeout != 0 {
		e.u64(attrElemTimeout, ms(el.Timeout))
	}
	if el.Expiration != 0 {
		e.u64(attrElemExpiration, ms(el.Expiration))
	}
	if el.Userdata != nil {
		e.attr(attrElemUserdata, el.Userdata)
	}
	switch len(el.Exprs) {
	case 0:
	case 1:
		e.putExpr(attrElemExpr, el.Exprs[0])
	default:
		e.putExprs(attrElemExpressions, el.Exprs)
	}
	e.unnest(n)
}

func encodeFlowtable(e *encoder, w msgWriter, v model.Verb, f *model.Flowtable) error {
	typ, flags, err := verbMsg(v, "flowtable", msgNewFlowtable, msgDelFlowtable, msgDestroyFlowtabl)
	if err != nil {
		return err
	}
	e.reset()
	m := e.begin(nftType(typ), flags, w.nextSeq(), uint8(f.Family), 0)
	e.str(attrFlowtableTable, f.Table)
	if f.Name != "" || f.Handle == 0 {
		e.str(attrFlowtableName, f.Name)
	} else {
		e.u64(attrFlowtableHandle, f.Handle)
	}
	if typ == msgNewFlowtable {
		h := e.nest(attrFlowtableHook)
		e.u32(attrFlowtableHookNum, f.Hooknum)
		e.u32(attrFlowtableHookPriority, uint32(f.Priority))
		if len(f.Devices) > 0 {
			putHookDevices(e, 0, attrFlowtableHookDevs, f.Devices)
		}
		e.unnest(h)
		e.u32nz(attrFlowtableFlags, f.Flags)
	}
	e.end(m)
	return w.emit(e, -1)
}

func encodeObject(e *encoder, w msgWriter, v model.Verb, o *model.Object) error {
	typ, flags, err := verbMsg(v, "object", msgNewObj, msgDelObj, msgDestroyObj)
	if err != nil {
		return err
	}
	e.reset()
	m := e.begin(nftType(typ), flags, w.nextSeq(), uint8(o.Family), 0)
	e.str(attrObjTable, o.Table)
	if o.Name != "" || o.Handle == 0 {
		e.str(attrObjName, o.Name)
	} else {
		e.u64(attrObjHandle, o.Handle)
	}
	e.u32(attrObjType, o.Type)
	if typ == msgNewObj {
		if o.Data == nil {
			return fmt.Errorf("object %s: no state", o.Name)
		}
		d := e.nest(attrObjData)
		e.exprData(o.Data)
		e.unnest(d)
		if o.Userdata != nil {
			e.attr(attrObjUserdata, o.Userdata)
		}
	}
	e.end(m)
	return w.emit(e, -1)
}
