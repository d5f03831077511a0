package compiler

import (
	"encoding/binary"
	"fmt"
	"strconv"

	"github.com/nftflow/nftflow/model"
	"github.com/nftflow/nftflow/parser"
)

// Set userdata TLV types (NFTNL_UDATA_SET_*).
const (
	udataSetKeyByteorder  = 0
	udataSetDataByteorder = 1
	udataSetMergeElements = 2
	udataSetComment       = 7
)

// nft's byteorder enum as it appears in set userdata.
func udataOrder(o ByteOrder) uint32 {
	if o == HostOrder {
		return 1
	}
	return 2
}

// typeLoad returns a load describing values of a set key or data type
// written as "type T" (or "T . U") or "typeof EXPR".
func (c *compiler) typeLoad(t *tableCtx, e parser.Expr, typeof bool) (*load, error) {
	if typeof {
		rc := &ruleCtx{c: c, t: t, family: t.family}
		return rc.evalSel(e)
	}
	switch x := e.(type) {
	case *parser.Concat:
		l := &load{}
		var ids []uint32
		for _, p := range x.Parts {
			pl, err := c.typeLoad(t, p, false)
			if err != nil {
				return nil, err
			}
			l.parts = append(l.parts, pl)
			l.size += padded(pl.size)
			ids = append(ids, pl.dt.ID)
		}
		l.dt = &Datatype{ID: ConcatTypeID(ids...), Name: "concat"}
		l.bits = l.size * 8
		return l, nil
	}
	name, ok := litText(e)
	if !ok {
		if sel, ok := e.(*parser.Selector); ok && len(sel.Path) == 1 {
			name = sel.Path[0]
		} else {
			return nil, fmt.Errorf("bad set type %T", e)
		}
	}
	if name == "verdict" {
		return &load{dt: DatatypeByID(TypeVerdict), order: HostOrder, size: 4, bits: 32}, nil
	}
	dt := DatatypeByName(name)
	if dt == nil {
		return nil, fmt.Errorf("unknown datatype %q", name)
	}
	size := (dt.Bits + 7) / 8
	if size == 0 {
		size = 16
	}
	return &load{dt: dt, order: dt.Order, size: size, bits: dt.Bits}, nil
}

func (c *compiler) set(t *tableCtx, x *parser.SetBlock, verb model.Verb) {
	c.setID++
	s := &model.Set{Family: t.family, Table: t.name, Name: x.Name.Name(), ID: c.setID, Pos: c.pos(x)}
	if verb == model.VerbDelete || verb == model.VerbDestroy || verb == model.VerbFlush {
		c.op(verb, s, x)
		return
	}
	if x.Key == nil {
		c.errorf(x, "set %s has no type", s.Name)
		return
	}
	key, err := c.typeLoad(t, x.Key, x.Typeof)
	if err != nil {
		c.errorf(x.Key, "%v", err)
		return
	}
	// named sets hold sub-byte fields shifted down, as lookups load them
	key = key.normalized()
	s.KeyType, s.KeyLen = key.dt.ID, key.size
	if key.order == HostOrder {
		s.KeyByteorder = 1
	}
	for _, p := range key.parts {
		s.FieldLens = append(s.FieldLens, p.size)
	}
	var data *load
	typeofData := false
	if x.IsMap && x.Data != nil {
		if sel, ok := x.Data.(*parser.Selector); ok && len(sel.Path) == 1 {
			if _, isObj := objTypes[sel.Path[0]]; isObj {
				s.Flags |= setObject
				s.ObjType = objTypes[sel.Path[0]]
			}
		}
		typeofData = x.Typeof
		if name, ok := litText(x.Data); ok && (name == "verdict" || objTypes[name] != 0) {
			typeofData = false
		} else if sel, ok := x.Data.(*parser.Selector); ok && len(sel.Path) == 1 && sel.Path[0] == "verdict" {
			typeofData = false
		}
		if s.Flags&setObject == 0 {
			data, err = c.typeLoad(t, x.Data, typeofData)
			if err != nil {
				if name, ok := litText(x.Data); ok {
					if ot, isObj := objTypes[name]; isObj {
						s.Flags |= setObject
						s.ObjType = ot
						err = nil
					}
				}
				if err != nil {
					c.errorf(x.Data, "%v", err)
					return
				}
			}
		}
		if data != nil {
			s.Flags |= setMap
			if data.dt.ID == TypeVerdict {
				s.DataType = TypeVerdictData
			} else {
				s.DataType, s.DataLen = data.dt.ID, data.size
			}
			if x.Interval {
				// "interval TYPE" data hold low and high bounds
				s.DataLen = 2 * data.size
				for _, p := range append(data.parts, data.parts...) {
					s.DataFieldLens = append(s.DataFieldLens, p.size)
				}
				if len(data.parts) == 0 {
					s.DataFieldLens = []uint32{data.size, data.size}
				}
			}
		}
	}
	if x.Flags != nil {
		for _, fl := range x.Flags.Flags {
			switch fl.Name() {
			case "constant":
				s.Flags |= setConstant
			case "interval":
				s.Flags |= setInterval
			case "timeout":
				s.Flags |= setTimeout
			case "dynamic":
				s.Flags |= setEval
			default:
				c.errorf(fl, "unknown set flag %q", fl.Name())
			}
		}
	}
	if s.Flags&setInterval != 0 && len(key.parts) > 0 {
		s.Flags |= setConcat
	}
	if x.Timeout != nil {
		if v, ok := litText(x.Timeout); ok {
			if d, ok := parseTime(v); ok {
				s.Timeout = d
				s.Flags |= setTimeout
			}
		}
	}
	if x.GCInterval != nil {
		if v, ok := litText(x.GCInterval); ok {
			if d, ok := parseTime(v); ok {
				s.GCInterval = d
			}
		}
	}
	if x.Size != nil {
		if v, ok := litText(x.Size); ok {
			n, _ := strconv.ParseUint(v, 10, 32)
			s.Size = uint32(n)
		}
	}
	if x.Policy != nil {
		if v, ok := litText(x.Policy); ok {
			p := map[string]uint32{"performance": 0, "memory": 1}[v]
			s.Policy = &p
		}
	}
	comment := ""
	if x.Comment != nil {
		comment = x.Comment.Name()
	}
	isVerdict := data != nil && data.dt != nil && data.dt.ID == TypeVerdict
	ud := setUdata(key, data, x.Typeof, x.Typeof, s.Flags&(setMap|setObject) != 0, isVerdict, x.AutoMerge, comment)
	if x.Interval {
		ud = setIntervalData(ud)
	}
	for _, st := range x.Stmts {
		rc := &ruleCtx{c: c, t: t, family: t.family}
		if err := rc.stmt(st); err != nil {
			c.errorf(st, "%v", err)
		}
		s.Exprs = append(s.Exprs, rc.exprs...)
	}
	s.Userdata = ud
	t.sets[s.Name] = s
	if s.Flags&setObject != 0 {
		data = &load{dt: &Datatype{Name: "object"}}
	}
	var lazy func(func([]model.SetElem))
	if x.Elements != nil && x.Interval && data != nil {
		els, err := c.intervalDataElements(t, s, key, data, x.Elements)
		if err != nil {
			c.errorf(x.Elements, "%v", err)
		} else {
			s.Elements = els
		}
	} else if x.Elements != nil {
		chunk := 0
		if c.emit != nil {
			chunk = lazyChunk
		}
		els, gen, err := c.elementsLazy(t, s, key, data, x.Elements, chunk)
		lazy = gen
		if err != nil {
			c.errorf(x.Elements, "%v", err)
		} else {
			s.Elements = els
		}
	}
	if t.dynTargets[s.Name] && s.Flags&(setMap|setObject) == 0 {
		// Emitted before the rules: flag it now as the rule that adds,
		// updates or deletes its elements would (see dynset).
		s.Flags |= setEval
	}
	c.op(verb, s, x)
	if lazy != nil {
		// The set goes first, then its elements in operations of their
		// own, each handed on before the next is made: a big interval
		// set is never held whole as elements.
		c.flush()
		pos := c.pos(x.Elements)
		lazy(func(es []model.SetElem) {
			c.batch.Ops = append(c.batch.Ops, model.Op{Verb: model.VerbAdd,
				Obj: &model.SetElems{Family: s.Family, Table: s.Table, Set: s.Name, SetID: s.ID, Elements: es, Pos: pos}, Pos: pos})
			c.flush()
		})
	}
}

// lazyChunk is how many intervals of a big interval set go into one
// operation when the compiler emits its operations (Options.Emit).
const lazyChunk = 4096

// elements encodes the elements of an "add element" command for set s.
func (c *compiler) elements(t *tableCtx, s *model.Set, se *parser.SetExpr) ([]model.SetElem, error) {
	key := &load{dt: DatatypeByID(s.KeyType), size: s.KeyLen, bits: s.KeyLen * 8, order: BigEndian}
	if key.dt == nil {
		key.dt = DatatypeByName("integer")
	}
	if s.KeyByteorder == 1 {
		key.order = HostOrder
	}
	var data *load
	if s.Flags&setMap != 0 {
		if s.DataType == TypeVerdictData {
			data = &load{dt: DatatypeByID(TypeVerdict)}
		} else if dt := DatatypeByID(s.DataType); dt != nil {
			data = &load{dt: dt, order: dt.Order, size: s.DataLen, bits: s.DataLen * 8}
		}
	}
	return c.elementsFor(t, s, key, data, se)
}

func (c *compiler) elementsFor(t *tableCtx, s *model.Set, key, data *load, se *parser.SetExpr) ([]model.SetElem, error) {
	els, _, err := c.elementsLazy(t, s, key, data, se, 0)
	return els, err
}

// elementsLazy is elementsFor; with chunk > 0, the elements of a plain
// interval set may come from lazy instead, chunk intervals at a time.
func (c *compiler) elementsLazy(t *tableCtx, s *model.Set, key, data *load, se *parser.SetExpr, chunk int) ([]model.SetElem, func(func([]model.SetElem)), error) {
	merge := udataHasMerge(s.Userdata)
	rc := &ruleCtx{c: c, t: t, family: t.family, noMerge: !merge, release: c.release, lazyChunk: chunk}
	tmp, err := rc.anonSet(key, se, data)
	if err != nil {
		return nil, nil, err
	}
	if rc.lazy != nil {
		if s.Flags&setInterval == 0 {
			return nil, nil, fmt.Errorf("set %s needs flags interval for ranges and prefixes", s.Name)
		}
		return nil, rc.lazy, nil
	}
	els, err := c.finishElements(s, key, tmp, merge)
	return els, nil, err
}

// finishElements adapts the elements of the anonymous set tmp to the
// named set s.
func (c *compiler) finishElements(s *model.Set, key *load, tmp *model.Set, merge bool) ([]model.SetElem, error) {
	if s.Flags&setInterval != 0 && len(key.parts) > 0 && tmp.Flags&setInterval == 0 {
		// concatenated interval sets carry a key end for every element,
		// and hold host byte order fields in big endian
		for i := range tmp.Elements {
			e := &tmp.Elements[i]
			if e.Flags&0x2 != 0 {
				continue
			}
			off := 0
			for _, p := range key.parts {
				if p.hostHint() && off+int(p.size) <= len(e.Key) {
					reverse(e.Key[off : off+int(p.size)])
				}
				off += int(padded(p.size))
			}
			e.KeyEnd = e.Key
		}
		return tmp.Elements, nil
	}
	if s.Flags&setInterval == 0 && tmp.Flags&setInterval != 0 {
		return nil, fmt.Errorf("set %s needs flags interval for ranges and prefixes", s.Name)
	}
	if s.Flags&setInterval != 0 && tmp.Flags&setInterval == 0 && len(key.parts) == 0 {
		// single values in an interval set are one-element intervals
		var ivs []interval
		var els, catchall []model.SetElem
		for _, e := range tmp.Elements {
			if e.Flags&0x2 != 0 {
				catchall = append(catchall, e)
				continue
			}
			els = append(els, e)
			k := append([]byte(nil), e.Key...)
			if key.hostHint() {
				reverse(k)
			}
			ivs = append(ivs, interval{lo: k, hi: k})
		}
		// interval sets hold big-endian keys
		out := intervalElems(ivs, func(i int) model.SetElem { e := els[i]; e.Key = nil; return e }, BigEndian, merge)
		return append(out, catchall...), nil
	}
	return tmp.Elements, nil
}

// udataHasMerge reports whether set userdata carries the auto-merge flag.
func udataHasMerge(ud []byte) bool {
	for i := 0; i+1 < len(ud); i += 2 + int(ud[i+1]) {
		if ud[i] == udataSetMergeElements {
			return true
		}
	}
	return false
}

// setIntervalData sets the DATA_INTERVAL flag in set userdata.
func setIntervalData(ud []byte) []byte {
	for i := 0; i+1 < len(ud); i += 2 + int(ud[i+1]) {
		if ud[i] == udataSetDataInterval && ud[i+1] == 4 && i+6 <= len(ud) {
			ud[i+2] = 1
			return ud
		}
	}
	return append(ud, udataU32(udataSetDataInterval, 1)...)
}

// intervalDataElements encodes the elements of a map whose data are
// intervals ("type k : interval ipv4_addr . inet_service"): each element's
// data is the low bounds of its fields followed by the high bounds.
func (c *compiler) intervalDataElements(t *tableCtx, s *model.Set, key, data *load, se *parser.SetExpr) ([]model.SetElem, error) {
	fields := data.parts
	if len(fields) == 0 {
		fields = []*load{data}
	}
	rc := &ruleCtx{c: c, t: t, family: t.family, noMerge: !udataHasMerge(s.Userdata)}
	var datas [][]byte
	var elems []parser.Expr
	for _, el := range se.Elems() {
		me, ok := el.(*parser.MapElem)
		if !ok {
			return nil, fmt.Errorf("map element without data")
		}
		parts := []parser.Expr{me.Value}
		if cc, ok := me.Value.(*parser.Concat); ok {
			parts = cc.Parts
		}
		if len(parts) != len(fields) {
			return nil, fmt.Errorf("map data does not match the map's data type")
		}
		var lo, hi []byte
		for i, p := range parts {
			iv, err := rc.elemInterval(fields[i], p)
			if err != nil {
				return nil, err
			}
			pad := make([]byte, padded(fields[i].size)-fields[i].size)
			lo = append(append(lo, iv.lo...), pad...)
			hi = append(append(hi, iv.hi...), pad...)
		}
		datas = append(datas, append(lo, hi...))
		elems = append(elems, &parser.MapElem{Span: me.Span, Key: me.Key,
			Value: &parser.Literal{Kind: parser.LitNumber, Text: strconv.Itoa(len(datas) - 1)}})
	}
	placeholder := &load{dt: DatatypeByName("integer"), order: BigEndian, size: 4, bits: 32}
	els, err := c.elementsFor(t, s, key, placeholder, parser.NewSetExpr(se.Span, elems))
	if err != nil {
		return nil, err
	}
	for i := range els {
		if d := els[i].Data; len(d) == 4 {
			if idx := int(binary.BigEndian.Uint32(d)); idx < len(datas) {
				els[i].Data = datas[idx]
			}
		}
	}
	return els, nil
}
