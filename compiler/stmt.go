package compiler

import (
	"encoding/binary"
	"fmt"
	"math/big"
	"strconv"
	"strings"

	"github.com/nftflow/nftflow/model"
	"github.com/nftflow/nftflow/parser"
)

func words(args []parser.Expr) []string {
	var out []string
	for _, a := range args {
		if s, ok := litText(a); ok {
			out = append(out, s)
		} else if sel, ok := a.(*parser.Selector); ok {
			out = append(out, sel.Path...)
		} else {
			out = append(out, "?")
		}
	}
	return out
}

func (r *ruleCtx) primary(x *parser.Primary) (*load, error) {
	ws := words(x.Args)
	switch x.Keyword {
	case "exthdr":
		if len(ws) >= 1 {
			eh := exthdrByName(ws[0])
			if eh == nil {
				return nil, fmt.Errorf("unknown extension header %q", ws[0])
			}
			if len(ws) == 1 || ws[1] == "exists" || ws[1] == "missing" {
				return existsLoad(model.ExthdrIPv6, eh.Type), nil
			}
			return r.exthdrSel(eh, ws[1:])
		}
	case "numgen":
		ng := &model.Numgen{}
		for i := 0; i < len(ws); i++ {
			switch ws[i] {
			case "inc":
				ng.Type = 0
			case "random":
				ng.Type = 1
			case "mod":
				if i+1 < len(ws) {
					v, _ := strconv.ParseUint(ws[i+1], 0, 32)
					ng.Modulus = uint32(v)
					i++
				}
			case "offset":
				if i+1 < len(ws) {
					v, _ := strconv.ParseUint(ws[i+1], 0, 32)
					ng.Offset = uint32(v)
					i++
				}
			}
		}
		ud := append(append(tlvU32(0, ng.Type), tlvU32(1, ng.Modulus)...), tlvU32(2, ng.Offset)...)
		return &load{dt: DatatypeByName("integer"), order: HostOrder, size: 4, bits: 32,
			typeof: append(tlvU32(udataTypeofExpr, exprNumgen), tlv(udataTypeofData, ud)...),
			emit:   func(reg uint32) []model.Expr { n := *ng; n.DReg = reg; return []model.Expr{&n} }}, nil
	case "symhash", "jhash":
		h := &model.Hash{}
		var keyExpr parser.Expr
		if x.Keyword == "symhash" {
			h.Type = 1
		}
		for i := 0; i < len(x.Args); i++ {
			s, _ := litText(x.Args[i])
			switch s {
			case "mod":
				if i+1 < len(x.Args) {
					t, _ := litText(x.Args[i+1])
					v, _ := strconv.ParseUint(t, 0, 32)
					h.Modulus = uint32(v)
					i++
				}
				continue
			case "seed":
				if i+1 < len(x.Args) {
					t, _ := litText(x.Args[i+1])
					v, _ := strconv.ParseUint(t, 0, 32)
					h.Seed, h.HasSeed = uint32(v), true
					i++
				}
				continue
			case "offset":
				if i+1 < len(x.Args) {
					t, _ := litText(x.Args[i+1])
					v, _ := strconv.ParseUint(t, 0, 32)
					h.Offset = uint32(v)
					i++
				}
				continue
			}
			if keyExpr == nil && x.Keyword == "jhash" {
				keyExpr = x.Args[i]
			}
		}
		seedSet := uint32(0)
		if h.HasSeed {
			seedSet = 1
		}
		hud := append(append(append(append(tlvU32(0, h.Type), tlvU32(1, h.Offset)...), tlvU32(2, h.Modulus)...),
			tlvU32(3, h.Seed)...), tlvU32(4, seedSet)...)
		l := &load{dt: DatatypeByName("mark"), order: HostOrder, size: 4, bits: 32,
			typeof: append(tlvU32(udataTypeofExpr, exprHash), tlv(udataTypeofData, hud)...)}
		var key *load
		if keyExpr != nil {
			k, err := r.evalSel(keyExpr)
			if err != nil {
				return nil, err
			}
			key = k
		}
		l.deps = func(r *ruleCtx) error {
			if key != nil {
				return r.emitDeps(key)
			}
			return nil
		}
		l.emit = func(reg uint32) []model.Expr {
			var out []model.Expr
			hh := *h
			hh.DReg = reg
			if key != nil {
				kreg := reg + 1
				sub := &ruleCtx{c: r.c, t: r.t, family: r.family}
				sub.emitLoad(key, kreg)
				out = append(out, sub.exprs...)
				hh.SReg, hh.Len = kreg, key.size
			}
			return append(out, &hh)
		}
		return l, nil
	case "fib":
		fb := &model.Fib{}
		typ, size := "integer", uint32(4)
		for _, w := range ws {
			switch w {
			case "saddr":
				fb.Flags |= 1
			case "daddr":
				fb.Flags |= 2
			case "mark":
				fb.Flags |= 4
			case "iif":
				fb.Flags |= 8
			case "oif":
				fb.Flags |= 16
				fb.Result, typ = 1, "iface_index"
			case "oifname":
				fb.Result, typ, size = 2, "ifname", 16
			case "type":
				fb.Result, typ = 3, "fib_addrtype"
			}
		}
		// the last keyword is the result; "oif" before it is a flag only
		if len(ws) > 0 {
			switch ws[len(ws)-1] {
			case "oif":
				fb.Flags &^= 16
				fb.Result = 1
			}
		}
		mk := func(fb *model.Fib, typ string, size uint32) *load {
			fud := append(tlvU32(0, fb.Result), tlvU32(1, fb.Flags)...)
			return &load{dt: DatatypeByName(typ), order: HostOrder, size: size, bits: size * 8,
				typeof: append(tlvU32(udataTypeofExpr, exprFib), tlv(udataTypeofData, fud)...),
				emit:   func(reg uint32) []model.Expr { b := *fb; b.DReg = reg; return []model.Expr{&b} }}
		}
		presentFib := *fb
		presentFib.Flags |= 32 // NFTA_FIB_F_PRESENT
		if presentFib.Result == 0 || presentFib.Result == 2 {
			presentFib.Result = 1
		}
		if hasWord(ws, "check") {
			return mk(&presentFib, "boolean", 4), nil
		}
		l := mk(fb, typ, size)
		l.present = func() *load { return mk(&presentFib, "boolean", 4) }
		return l, nil
	case "osf":
		o := &model.Osf{}
		for i, w := range ws {
			if w == "ttl" && i+1 < len(ws) {
				o.TTL = map[string]uint8{"loose": 1, "skip": 2}[ws[i+1]]
			}
			if w == "version" {
				o.Flags = 1
			}
		}
		return &load{dt: DatatypeByName("string"), order: HostOrder, size: 16, bits: 128,
			emit: func(reg uint32) []model.Expr { b := *o; b.DReg = reg; return []model.Expr{&b} }}, nil
	case "socket":
		s := &model.Socket{}
		typ, size := "integer", uint32(1)
		if len(ws) > 0 {
			switch ws[0] {
			case "transparent":
				s.Key = 0
			case "mark":
				s.Key, typ, size = 1, "mark", 4
			case "wildcard":
				s.Key = 2
			case "cgroupv2":
				s.Key, typ, size = 3, "cgroupsv2", 8
				if len(ws) > 2 {
					v, _ := strconv.Atoi(ws[2])
					s.Level = uint32(v)
				}
			}
		}
		return &load{dt: DatatypeByName(typ), order: HostOrder, size: size, bits: size * 8,
			emit: func(reg uint32) []model.Expr { b := *s; b.DReg = reg; return []model.Expr{&b} }}, nil
	}
	return nil, fmt.Errorf("unsupported expression %q", x.Keyword)
}

// stmt linearizes one statement.
func (r *ruleCtx) stmt(s parser.Stmt) error {
	r.cur = r.c.pos(s)
	switch x := s.(type) {
	case *parser.ExprStmt:
		return r.exprStmt(x.X)
	case *parser.VerdictStmt:
		return r.verdict(x)
	case *parser.CounterStmt:
		c := &model.Counter{}
		if x.Packets != nil {
			c.Packets, _ = strconv.ParseUint(x.Packets.Value(), 10, 64)
		}
		if x.Bytes != nil {
			c.Bytes, _ = strconv.ParseUint(x.Bytes.Value(), 10, 64)
		}
		r.add(c)
	case *parser.NotrackStmt:
		r.add(&model.Notrack{})
	case *parser.LogStmt:
		return r.log(x)
	case *parser.LimitStmt:
		return r.limit(x)
	case *parser.QuotaStmt:
		return r.quota(x)
	case *parser.RejectStmt:
		return r.reject(x)
	case *parser.NatStmt:
		return r.nat(x)
	case *parser.SetStmt:
		return r.setStmt(x)
	case *parser.ObjRefStmt:
		return r.objref(x)
	case *parser.ConnlimitStmt:
		n, _ := strconv.ParseUint(x.Count.Value(), 10, 32)
		c := &model.Connlimit{Count: uint32(n)}
		if x.Over {
			c.Flags = 1
		}
		r.add(c)
	case *parser.DupStmt:
		return r.dup(x)
	case *parser.FwdStmt:
		return r.fwd(x)
	case *parser.FlowStmt:
		name := ""
		if sr, ok := x.Ft.(*parser.SetRef); ok {
			name = sr.Name
		}
		r.add(&model.FlowOffload{Flowtable: name})
	case *parser.SynproxyStmt:
		sp := &model.Synproxy{}
		for _, o := range x.Opts {
			ws := words(o.Args)
			switch o.Key {
			case "mss":
				if len(ws) > 0 {
					v, _ := strconv.Atoi(ws[0])
					sp.MSS = uint16(v)
					sp.Flags |= 1
				}
			case "wscale":
				if len(ws) > 0 {
					v, _ := strconv.Atoi(ws[0])
					sp.Wscale = uint8(v)
					sp.Flags |= 2
				}
			case "timestamp":
				sp.Flags |= 8 // NF_SYNPROXY_OPT_TIMESTAMP
			case "sack-perm":
				sp.Flags |= 4 // NF_SYNPROXY_OPT_SACK_PERM
			}
		}
		r.add(sp)
	case *parser.DynsetStmt:
		return r.dynset(x)
	case *parser.TproxyStmt:
		return r.tproxy(x)
	case *parser.GenericStmt:
		return r.generic(x)
	default:
		return fmt.Errorf("unsupported statement %T", s)
	}
	return nil
}

func (r *ruleCtx) exprStmt(e parser.Expr) error {
	switch x := e.(type) {
	case *parser.Relational:
		if ml, ok := x.Left.(*parser.MapLookup); ok && x.Op == "" && x.Right == nil {
			return r.mapLookup(ml)
		}
		return r.relational(x)
	case *parser.MapLookup:
		return r.mapLookup(x)
	case *parser.Primary:
		if x.Keyword == "exthdr" {
			return r.relational(&parser.Relational{Left: x, Right: &parser.Literal{Kind: parser.LitSymbol, Text: "exists"}})
		}
	case *parser.Selector:
		// "tcp option sack exists" parsed without a relational
		return r.relational(&parser.Relational{Left: x, Right: &parser.Literal{Kind: parser.LitSymbol, Text: "exists"}})
	}
	return fmt.Errorf("unsupported match %T", e)
}

// mapLookup is "KEY vmap { ... }" used as a statement.
func (r *ruleCtx) mapLookup(x *parser.MapLookup) error {
	l, err := r.evalSel(x.Key)
	if err != nil {
		return err
	}
	if err := r.emitDeps(l); err != nil {
		return err
	}
	if x.Kind != "vmap" {
		return fmt.Errorf("map lookup without a statement")
	}
	switch m := x.Map.(type) {
	case *parser.SetExpr:
		r.emitKey(l, setHasInterval(m), 1)
		s, err := r.anonSet(l, m, &load{dt: DatatypeByID(TypeVerdict)})
		if err != nil {
			return err
		}
		r.add(&model.Lookup{SReg: 1, DReg: 0, HasDReg: true, Set: s.Name, SetID: s.ID})
	case *parser.SetRef:
		lk := &model.Lookup{SReg: 1, DReg: 0, HasDReg: true, Set: m.Name}
		s := r.t.sets[m.Name]
		if s != nil {
			lk.SetID = s.ID
		}
		r.emitKey(l.normalized(), s != nil && s.Flags&setInterval != 0, 1)
		r.add(lk)
	default:
		return fmt.Errorf("unsupported map %T", x.Map)
	}
	return nil
}

func (r *ruleCtx) verdict(x *parser.VerdictStmt) error {
	if x.Kind == "queue" {
		q := &model.Queue{Total: 1}
		for _, o := range x.Opts {
			switch o.Key {
			case "num":
				if len(o.Args) == 1 {
					if rg, ok := o.Args[0].(*parser.Range); ok {
						a, _ := litText(rg.Lo)
						b, _ := litText(rg.Hi)
						lo, _ := strconv.Atoi(a)
						hi, _ := strconv.Atoi(b)
						q.Num, q.Total = uint16(lo), uint16(hi-lo+1)
						continue
					}
					s, _ := litText(o.Args[0])
					n, _ := strconv.Atoi(s)
					q.Num = uint16(n)
				}
			case "flags":
				for _, w := range flatWords(o.Args) {
					switch w {
					case "bypass":
						q.Flags |= 1
					case "fanout":
						q.Flags |= 2
					}
				}
			case "bypass":
				q.Flags |= 1
			case "fanout":
				q.Flags |= 2
			case "":
				for _, w := range flatWords(o.Args) {
					switch w {
					case "bypass":
						q.Flags |= 1
					case "fanout":
						q.Flags |= 2
					}
				}
			case "to":
				if s, ok := litText(o.Args[0]); ok && len(o.Args) == 1 {
					if n, err := strconv.Atoi(s); err == nil {
						q.Num = uint16(n)
						continue
					}
				}
				if rg, ok := o.Args[0].(*parser.Range); ok && len(o.Args) == 1 {
					a, _ := litText(rg.Lo)
					b, _ := litText(rg.Hi)
					lo, _ := strconv.Atoi(a)
					hi, _ := strconv.Atoi(b)
					q.Num, q.Total = uint16(lo), uint16(hi-lo+1)
					continue
				}
				if len(o.Args) == 1 {
					// the queue number from an expression or a map
					if err := r.loadValue(DatatypeByName("integer"), HostOrder, 2, o.Args[0], 1); err != nil {
						return err
					}
					q.SRegQnum = 1
				}
			}
		}
		r.add(q)
		return nil
	}
	if x.Chain != nil && (x.Kind == "jump" || x.Kind == "goto") {
		return r.chainBinding(x)
	}
	v, err := verdictByName(x.Kind, x.Target)
	if err != nil {
		return err
	}
	r.add(&model.Immediate{DReg: 0, Verdict: v})
	return nil
}

// chainBinding compiles "jump { ... }": an anonymous chain bound to this
// rule (NFT_CHAIN_BINDING, named by the kernel), its rules, and a verdict
// that refers to it by chain id. The chain and its rules go into the
// batch before the rule that jumps to it.
func (r *ruleCtx) chainBinding(x *parser.VerdictStmt) error {
	c := r.c
	c.chainID++
	id := c.chainID
	ch := &model.Chain{Family: r.family, Table: r.t.name, Flags: 0x4, ID: id, Pos: c.pos(x.Chain)}
	c.op(model.VerbAdd, ch, x.Chain)
	for _, nr := range x.Chain.Rules() {
		rule, sets, err := c.rule(r.t, "", nr)
		if err != nil {
			return err
		}
		rule.ChainID = id
		for _, s := range sets {
			c.op(model.VerbAdd, s, nr)
		}
		c.op(model.VerbAdd, rule, nr)
	}
	code := int32(-3)
	if x.Kind == "goto" {
		code = -4
	}
	r.add(&model.Immediate{DReg: 0, Verdict: &model.Verdict{Code: code, ChainID: id}})
	return nil
}

func (r *ruleCtx) log(x *parser.LogStmt) error {
	lg := &model.Log{}
	for _, o := range x.Opts {
		ws := words(o.Args)
		arg := ""
		if len(ws) > 0 {
			arg = ws[0]
		}
		switch o.Key {
		case "prefix":
			lg.Prefix, lg.HasPrefix = arg, true
		case "level":
			lv := map[string]uint32{"emerg": 0, "alert": 1, "crit": 2, "err": 3, "warn": 4, "notice": 5, "info": 6, "debug": 7, "audit": 8}
			v, ok := lv[arg]
			if !ok {
				return fmt.Errorf("unknown log level %q", arg)
			}
			lg.Level, lg.HasLevel = v, true
		case "group":
			v, _ := strconv.Atoi(arg)
			lg.Group, lg.HasGroup = uint16(v), true
		case "snaplen":
			v, _ := strconv.Atoi(arg)
			lg.Snaplen = uint32(v)
		case "queue-threshold":
			v, _ := strconv.Atoi(arg)
			lg.QThreshold = uint16(v)
		case "flags":
			ws = flatWords(o.Args)
			for i, w := range ws {
				switch w {
				case "tcp", "ip":
				case "sequence":
					lg.Flags |= 1
				case "options":
					if i > 0 && ws[0] == "ip" {
						lg.Flags |= 4
					} else {
						lg.Flags |= 2
					}
				case "skuid":
					lg.Flags |= 8
				case "ether":
					lg.Flags |= 0x20 // NF_LOG_MACDECODE
				case "all":
					lg.Flags |= 0x2f // NF_LOG_MASK
				}
			}
		}
	}
	r.add(lg)
	return nil
}

var rateUnits = map[string]uint64{"second": 1, "minute": 60, "hour": 3600, "day": 86400, "week": 604800}

var byteUnits = map[string]uint64{"bytes": 1, "kbytes": 1024, "mbytes": 1024 * 1024, "gbytes": 1024 * 1024 * 1024}

func (r *ruleCtx) limit(x *parser.LimitStmt) error {
	lm := &model.Limit{}
	if x.Rate == nil || x.Rate.Value == nil {
		return fmt.Errorf("limit without a rate")
	}
	v, _ := strconv.ParseUint(x.Rate.Value.Value(), 10, 64)
	lm.Unit = rateUnits[x.Rate.Per]
	if x.Rate.Unit != "" && x.Rate.Unit != "packets" {
		lm.Type = 1
		v *= byteUnits[x.Rate.Unit]
	}
	lm.Rate = v
	if x.Burst != nil && x.Burst.Value != nil {
		b, _ := strconv.ParseUint(x.Burst.Value.Value(), 10, 64)
		if x.Burst.Unit != "" && x.Burst.Unit != "packets" {
			b *= byteUnits[x.Burst.Unit]
		}
		lm.Burst = uint32(b)
	} else if lm.Type == 0 {
		lm.Burst = 5
	}
	if x.Over {
		lm.Flags = 1
	}
	r.add(lm)
	return nil
}

func (r *ruleCtx) quota(x *parser.QuotaStmt) error {
	q := &model.Quota{}
	if x.Quota == nil || x.Quota.Value == nil {
		return fmt.Errorf("quota without an amount")
	}
	v, _ := strconv.ParseUint(x.Quota.Value.Value(), 10, 64)
	q.Bytes = v * max(byteUnits[x.Quota.Unit], 1)
	if x.Used != nil && x.Used.Value != nil {
		u, _ := strconv.ParseUint(x.Used.Value.Value(), 10, 64)
		q.Consumed = u * max(byteUnits[x.Used.Unit], 1)
	}
	if x.Mode == "over" {
		q.Flags = 1
	}
	r.add(q)
	return nil
}

func (r *ruleCtx) reject(x *parser.RejectStmt) error {
	ws := words(x.With)
	rj := &model.Reject{}
	switch {
	case len(ws) == 0:
		switch r.family {
		case model.FamilyIP:
			rj.Type, rj.Code = 0, 3
		case model.FamilyIP6:
			rj.Type, rj.Code = 0, 4
		default:
			rj.Type, rj.Code = 2, 1
		}
		if r.family == model.FamilyBridge || r.family == model.FamilyNetdev || r.family == model.FamilyInet {
			switch r.nh {
			case "ip":
				rj.Type, rj.Code = 0, 3
			case "ip6":
				rj.Type, rj.Code = 0, 4
			}
		}
	case ws[0] == "tcp":
		if r.th != "tcp" {
			// nft puts this dependency at the start of the rule
			dep := &ruleCtx{c: r.c, t: r.t, family: r.family, cur: r.cur}
			dep.metaCmp(16, []byte{6})
			r.exprs = append(dep.exprs, r.exprs...)
			r.pos = append(dep.pos, r.pos...)
			r.th = "tcp"
		}
		rj.Type, rj.Code = 1, 0
	case ws[0] == "icmp" || ws[0] == "icmpv6" || ws[0] == "icmpx":
		dtName := map[string]string{"icmp": "icmp_code", "icmpv6": "icmpv6_code", "icmpx": "icmpx_code"}[ws[0]]
		rj.Type = 0
		if ws[0] == "icmpx" {
			rj.Type = 2
		} else if r.family == model.FamilyInet || r.family == model.FamilyBridge || r.family == model.FamilyNetdev {
			if err := r.nhDep(map[string]string{"icmp": "ip", "icmpv6": "ip6"}[ws[0]]); err != nil {
				return err
			}
		}
		if len(ws) > 1 {
			code := ws[len(ws)-1]
			dt := DatatypeByName(dtName)
			if v, ok := dt.Lookup(code); ok {
				rj.Code = uint8(v)
			} else if n, err := strconv.Atoi(code); err == nil {
				rj.Code = uint8(n)
			} else {
				return fmt.Errorf("unknown %s code %q", ws[0], code)
			}
		}
	default:
		return fmt.Errorf("unsupported reject %q", strings.Join(ws, " "))
	}
	r.add(rj)
	return nil
}

// immediateValue loads a constant (or evaluates an expression) into reg
// and returns the bytes used.
func (r *ruleCtx) loadValue(dt *Datatype, order ByteOrder, size uint32, e parser.Expr, reg uint32) error {
	if v, ok := e.(*parser.VarRef); ok {
		if d, ok := r.t.defines[v.Name]; ok {
			return r.loadValue(dt, order, size, d, reg)
		}
	}
	if ml, ok := e.(*parser.MapLookup); ok && ml.Kind == "map" {
		k, err := r.evalSel(ml.Key)
		if err != nil {
			return err
		}
		if err := r.emitDeps(k); err != nil {
			return err
		}
		data := &load{dt: dt, order: order, size: size, bits: size * 8}
		lk := &model.Lookup{SReg: reg, DReg: reg, HasDReg: true}
		switch m := ml.Map.(type) {
		case *parser.SetExpr:
			r.emitKey(k, setHasInterval(m), reg)
			s, err := r.anonSet(k, m, data)
			if err != nil {
				return err
			}
			lk.Set, lk.SetID = s.Name, s.ID
		case *parser.SetRef:
			lk.Set = m.Name
			s := r.t.sets[m.Name]
			if s != nil {
				lk.SetID = s.ID
			}
			r.emitKey(k.normalized(), s != nil && s.Flags&setInterval != 0, reg)
		default:
			return fmt.Errorf("unsupported map %T", ml.Map)
		}
		r.add(lk)
		return nil
	}
	if b, ok := e.(*parser.Binary); ok {
		switch b.Op {
		case "|", "or", "&", "and", "^", "xor":
			if _, isLit := b.X.(*parser.Literal); isLit {
				if _, isLit := b.Y.(*parser.Literal); !isLit {
					// "0x1 or ct mark" is "ct mark or 0x1"
					e = &parser.Binary{Span: b.Span, Op: b.Op, X: b.Y, Y: b.X}
				}
			}
		}
	}
	if l, err := r.evalSel(e); err == nil {
		if _, isBin := e.(*parser.Binary); isBin && l.size != size {
			return fmt.Errorf("arithmetic on a %d-byte value stored into a %d-byte field is not supported", l.size, size)
		}
		if err := r.emitDeps(l); err != nil {
			return err
		}
		l = l.normalized()
		r.emitLoad(l, reg)
		if l.order == HostOrder && order == BigEndian && l.size == size && size > 1 && (l.dt == nil || !l.dt.IsA("string")) {
			// a host-order value stored into a network-order field
			r.add(&model.Byteorder{SReg: reg, DReg: reg, Op: 1, Len: size, Size: size})
		}
		return nil
	}
	v, err := encodeScalar(dt, size, order, e)
	if err != nil {
		return err
	}
	r.add(&model.Immediate{DReg: reg, Data: v, HostOrder: (&load{dt: dt, order: order, size: size}).hostHint()})
	return nil
}

func (r *ruleCtx) nat(x *parser.NatStmt) error {
	fam := r.family
	switch x.Family {
	case "ip":
		fam = model.FamilyIP
	case "ip6":
		fam = model.FamilyIP6
	default:
		if fam == model.FamilyInet && x.Addr != nil {
			// inet infers the NAT family from the address
			fam = natAddrFamily(x.Addr, r.t.defines)
		}
	}
	var flags uint32
	if x.Flags != nil {
		for _, w := range words(x.Flags.Elems) {
			switch w {
			case "random":
				flags |= 0x4
			case "persistent":
				flags |= 0x8
			case "fully-random":
				flags |= 0x10
			case "netmap":
				flags |= 0x40
			}
		}
	}
	reg := uint32(1)
	var addrMin, addrMax, protoMin, protoMax uint32
	addrType := "ipv4_addr"
	addrLen := uint32(4)
	if fam == model.FamilyIP6 {
		addrType, addrLen = "ipv6_addr", 16
	}
	if ml, ok := x.Addr.(*parser.MapLookup); ok && ml.Kind == "map" && x.Port == nil {
		if se, ok := ml.Map.(*parser.SetExpr); ok && natMapHasIntervals(se) {
			return r.natIntervalMap(x, ml, se, fam, addrType, addrLen, flags)
		}
	}
	if ml, ok := x.Addr.(*parser.MapLookup); ok && ml.Kind == "map" && x.Port == nil && r.natMapHasPorts(ml) {
		// "dnat to KEY map { K : addr . port }": one lookup yields both
		k, err := r.evalSel(ml.Key)
		if err != nil {
			return err
		}
		if err := r.emitDeps(k); err != nil {
			return err
		}
		addr := &load{dt: DatatypeByName(addrType), order: BigEndian, size: addrLen, bits: addrLen * 8}
		port := &load{dt: DatatypeByName("inet_service"), order: BigEndian, size: 2, bits: 16}
		data := &load{dt: &Datatype{ID: ConcatTypeID(addr.dt.ID, port.dt.ID), Name: "concat"},
			parts: []*load{addr, port}, size: padded(addrLen) + 4, bits: (padded(addrLen) + 4) * 8}
		lk := &model.Lookup{SReg: 1, DReg: 1, HasDReg: true}
		if sr, ok := ml.Map.(*parser.SetRef); ok {
			if s := r.t.sets[sr.Name]; s != nil && s.DataLen == 2*data.size {
				// a named map to address and port ranges
				lk.Set, lk.SetID = s.Name, s.ID
				r.emitKey(k, s.Flags&setInterval != 0, 1)
				r.add(lk)
				t := uint32(0)
				if x.Kind == "dnat" {
					t = 1
				}
				a := padded(addrLen) / 4
				r.add(&model.NAT{Type: t, Family: uint32(fam), RegAddrMin: 1, RegProtoMin: regFor(a),
					RegAddrMax: regFor(a + 1), RegProtoMax: regFor(a + 1 + a), Flags: flags})
				return nil
			}
		}
		switch m := ml.Map.(type) {
		case *parser.SetExpr:
			r.emitKey(k, setHasInterval(m), 1)
			s, err := r.anonSet(k, m, data)
			if err != nil {
				return err
			}
			s.DataFieldLens = []uint32{addrLen, 2}
			lk.Set, lk.SetID = s.Name, s.ID
		case *parser.SetRef:
			s := r.t.sets[m.Name]
			lk.Set = m.Name
			if s != nil {
				lk.SetID = s.ID
			}
			r.emitKey(k, s != nil && s.Flags&setInterval != 0, 1)
		}
		r.add(lk)
		t := uint32(0)
		if x.Kind == "dnat" {
			t = 1
		}
		r.add(&model.NAT{Type: t, Family: uint32(fam), RegAddrMin: 1, RegProtoMin: regFor(padded(addrLen) / 4), Flags: flags})
		return nil
	}
	if x.Addr != nil {
		dt := DatatypeByName(addrType)
		switch a := x.Addr.(type) {
		case *parser.Range:
			if err := r.loadValue(dt, BigEndian, addrLen, a.Lo, reg); err != nil {
				return err
			}
			if err := r.loadValue(dt, BigEndian, addrLen, a.Hi, reg+1); err != nil {
				return err
			}
			addrMin, addrMax = reg, reg+1
			reg += 2
		case *parser.Prefix:
			v, err := encodeScalar(dt, addrLen, BigEndian, a.X)
			if err != nil {
				return err
			}
			n, err := strconv.Atoi(a.Len.Value())
			if err != nil || n < 0 || n > int(addrLen)*8 || len(v) != int(addrLen) {
				return fmt.Errorf("bad prefix length %q", a.Len.Value())
			}
			m := prefixMask(addrLen, n)
			lo := andBytes(v, m)
			hi := make([]byte, len(lo))
			for i := range hi {
				hi[i] = lo[i] | ^m[i]
			}
			r.add(&model.Immediate{DReg: reg, Data: lo}, &model.Immediate{DReg: reg + 1, Data: hi})
			addrMin, addrMax = reg, reg+1
			reg += 2
		default:
			if err := r.loadValue(dt, BigEndian, addrLen, a, reg); err != nil {
				return err
			}
			addrMin = reg
			reg++
		}
	}
	if x.Port != nil {
		dt := DatatypeByName("inet_service")
		switch p := x.Port.(type) {
		case *parser.Range:
			if err := r.loadValue(dt, BigEndian, 2, p.Lo, reg); err != nil {
				return err
			}
			if err := r.loadValue(dt, BigEndian, 2, p.Hi, reg+1); err != nil {
				return err
			}
			protoMin, protoMax = reg, reg+1
		default:
			if err := r.loadValue(dt, BigEndian, 2, p, reg); err != nil {
				return err
			}
			protoMin = reg
		}
		flags |= 0x2
	}
	switch x.Kind {
	case "masquerade":
		r.add(&model.Masq{Flags: flags, RegProtoMin: protoMin, RegProtoMax: protoMax})
	case "redirect":
		r.add(&model.Redir{Flags: flags, RegProtoMin: protoMin, RegProtoMax: protoMax})
	default:
		t := uint32(0)
		if x.Kind == "dnat" {
			t = 1
		}
		if x.Prefix {
			flags |= 0x40
		}
		r.add(&model.NAT{Type: t, Family: uint32(fam), RegAddrMin: addrMin, RegAddrMax: addrMax,
			RegProtoMin: protoMin, RegProtoMax: protoMax, Flags: flags})
	}
	return nil
}

func (r *ruleCtx) setStmt(x *parser.SetStmt) error {
	sel, ok := x.Left.(*parser.Selector)
	if !ok {
		return fmt.Errorf("unsupported set target %T", x.Left)
	}
	l, err := r.evalSel(sel)
	if err != nil {
		return err
	}
	path := sel.Path
	switch {
	case path[0] == "meta" || (len(path) == 1 && l.meta != nil):
		if err := r.loadValue(l.dt, l.order, l.size, x.Value, 1); err != nil {
			return err
		}
		r.add(&model.Meta{Key: l.meta.Key, SReg: 1})
		return nil
	case path[0] == "ct":
		ct := l.emit(1)[0].(*model.Ct)
		if err := r.loadValue(l.dt, l.order, l.size, x.Value, 1); err != nil {
			return err
		}
		r.add(&model.Ct{Key: ct.Key, SReg: 1, Direction: ct.Direction, HasDirection: ct.HasDirection})
		return nil
	}
	if l.proto != nil && l.field != nil {
		return r.payloadSet(l, x.Value)
	}
	if len(path) >= 3 && path[0] == "tcp" && path[1] == "option" {
		es := l.emit(1)
		ex, ok := es[0].(*model.Exthdr)
		if !ok || l.mask != nil {
			return fmt.Errorf("cannot set %q", strings.Join(path, " "))
		}
		if err := r.loadValue(l.dt, l.order, l.size, x.Value, 1); err != nil {
			return err
		}
		r.add(&model.Exthdr{SReg: 1, Type: ex.Type, Offset: ex.Offset, Len: ex.Len, Op: ex.Op})
		return nil
	}
	return fmt.Errorf("unsupported set statement for %q", strings.Join(path, " "))
}

// checksum returns how the kernel must fix checksums after writing a
// field of p: (csum type, csum offset, csum flags).
func checksum(p *Proto, fd *Field) (uint32, uint32, uint32) {
	var flags uint32
	switch p.Name {
	case "ip":
		if fd.Name == "saddr" || fd.Name == "daddr" || fd.Name == "protocol" {
			flags = 1
		}
		return 1, 10, flags
	case "ip6":
		if fd.Name == "saddr" || fd.Name == "daddr" || fd.Name == "nexthdr" {
			flags = 1
		}
		return 0, 0, flags
	case "tcp":
		return 1, 16, 0
	case "udp", "udplite":
		return 1, 6, 0
	case "icmp", "icmpv6", "igmp":
		return 1, 2, 0
	}
	if p.Layer == LayerInner {
		// nft asks the kernel to fix the pseudo-header checksum for
		// any write to the inner header (raw @ih).
		return 0, 0, 1
	}
	return 0, 0, 0
}

// flattenOr splits "A | b | c" into A and the constants b, c.
func flattenBin(e parser.Expr) (head parser.Expr, op string, consts []parser.Expr) {
	b, ok := e.(*parser.Binary)
	if !ok {
		return e, "", nil
	}
	h, hop, cs := flattenBin(b.X)
	if hop != "" && hop != b.Op {
		return e, "", nil
	}
	return h, b.Op, append(cs, b.Y)
}

// payloadSet writes a header field: "ip dscp set cs1".
func (r *ruleCtx) payloadSet(l *load, value parser.Expr) error {
	if err := r.emitDeps(l); err != nil {
		return err
	}
	p, fd := l.proto, l.field
	off := p.Offset + fd.Offset
	ctype, coff, cflags := checksum(p, fd)
	start := off / 8
	end := (off + fd.Len + 7) / 8
	if ctype != 0 || p.Layer == LayerInner {
		// nft writes whole 16-bit words where a checksum is fixed
		// (and always in the inner header)
		start &^= 1
		end = (end + 1) &^ 1
	}
	n := end - start
	shift := n*8 - (off - start*8) - fd.Len
	base := uint32(p.Layer)
	write := &model.Payload{SReg: 1, Base: base, Offset: start, Len: n, CsumType: ctype, CsumOffset: coff, CsumFlags: cflags}
	exact := start*8 == off && n*8 == fd.Len
	if exact {
		if err := r.loadValue(l.dt, l.order, l.size, value, 1); err != nil {
			return err
		}
		r.add(write)
		return nil
	}
	fm := new(big.Int).Lsh(new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), uint(fd.Len)), big.NewInt(1)), uint(shift))
	all := new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), uint(n*8)), big.NewInt(1))
	notFm := new(big.Int).Xor(all, fm)
	constant := func(e parser.Expr) (*big.Int, error) {
		b, err := encodeScalar(l.dt, (fd.Len+7)/8, BigEndian, e)
		if err != nil {
			return nil, err
		}
		v := new(big.Int).SetBytes(b)
		return v.Lsh(v, uint(shift)), nil
	}
	var mask, xor *big.Int
	head, op, consts := flattenBin(value)
	if hs, ok := head.(*parser.Selector); ok && op != "" {
		hl, err := r.evalSel(hs)
		if err != nil || hl.field != fd {
			return fmt.Errorf("unsupported value for %s %s", p.Name, fd.Name)
		}
		c := new(big.Int)
		for _, ce := range consts {
			v, err := constant(ce)
			if err != nil {
				return err
			}
			c.Or(c, v)
		}
		switch op {
		case "&", "and":
			mask, xor = new(big.Int).Or(notFm, c), new(big.Int)
		case "|", "or":
			mask, xor = new(big.Int).Xor(all, c), c
		case "^", "xor":
			mask, xor = all, c
		default:
			return fmt.Errorf("unsupported operator %q", op)
		}
	} else {
		v, err := constant(value)
		if err != nil {
			return err
		}
		mask, xor = notFm, v
	}
	r.add(&model.Payload{DReg: 1, Base: base, Offset: start, Len: n},
		&model.Bitwise{SReg: 1, DReg: 1, Len: n, Op: model.BitwiseBool, Mask: encodeInt(mask, n, BigEndian), Xor: encodeInt(xor, n, BigEndian)},
		write)
	return nil
}

var objTypes = map[string]uint32{"counter": 1, "quota": 2, "ct helper": 3, "limit": 4, "connlimit": 5,
	"tunnel": 6, "ct timeout": 7, "secmark": 8, "ct expectation": 9, "synproxy": 10}

func (r *ruleCtx) objref(x *parser.ObjRefStmt) error {
	t, ok := objTypes[x.Kind]
	if !ok {
		return fmt.Errorf("unknown object type %q", x.Kind)
	}
	switch n := x.Name.(type) {
	case *parser.MapLookup:
		l, err := r.evalSel(n.Key)
		if err != nil {
			return err
		}
		if err := r.emitDeps(l); err != nil {
			return err
		}
		r.emitLoad(l, 1)
		name := ""
		var id uint32
		switch m := n.Map.(type) {
		case *parser.SetRef:
			name = m.Name
			if s := r.t.sets[m.Name]; s != nil {
				id = s.ID
			}
		case *parser.SetExpr:
			s, err := r.anonSet(l, m, &load{dt: &Datatype{Name: "object"}})
			if err != nil {
				return err
			}
			s.Name = "__objmap%d"
			s.Flags = s.Flags&^setMap | setObject
			s.ObjType = t
			name, id = s.Name, s.ID
		}
		r.add(&model.Objref{Type: t, SReg: 1, Set: name, SetID: id})
		return nil
	}
	name, ok := litText(x.Name)
	if !ok {
		return fmt.Errorf("unsupported object name %T", x.Name)
	}
	r.add(&model.Objref{Type: t, Name: name})
	return nil
}

func (r *ruleCtx) dup(x *parser.DupStmt) error {
	d := &model.Dup{}
	reg := uint32(1)
	if r.family == model.FamilyNetdev && x.Device == nil && x.To != nil {
		// netdev duplicates to a device
		if err := r.loadDevice(x.To, reg); err != nil {
			return err
		}
		d.RegDev = reg
		r.add(d)
		return nil
	}
	if x.To != nil {
		dt, n := DatatypeByName("ipv4_addr"), uint32(4)
		if r.family == model.FamilyIP6 || x.Family == "ip6" {
			dt, n = DatatypeByName("ipv6_addr"), 16
		}
		if err := r.loadValue(dt, BigEndian, n, x.To, reg); err != nil {
			return err
		}
		d.RegAddr = reg
		reg++
	}
	if x.Device != nil {
		if err := r.loadDevice(x.Device, reg); err != nil {
			return err
		}
		d.RegDev = reg
	}
	r.add(d)
	return nil
}

// loadDevice loads an interface index for a device name. Without kernel
// access the index cannot be known; nftflow loads the name's ifindex as 0
// unless the device is given as a number or an expression.
func (r *ruleCtx) loadDevice(e parser.Expr, reg uint32) error {
	return r.loadValue(DatatypeByName("iface_index"), HostOrder, 4, e, reg)
}

func (r *ruleCtx) fwd(x *parser.FwdStmt) error {
	f := &model.Fwd{}
	if x.Family != "" && x.To != nil {
		dt, n, nfp := DatatypeByName("ipv4_addr"), uint32(4), uint32(2)
		if x.Family == "ip6" {
			dt, n, nfp = DatatypeByName("ipv6_addr"), 16, 10
		}
		if x.Device != nil {
			if err := r.loadDevice(x.Device, 1); err != nil {
				return err
			}
		}
		if err := r.loadValue(dt, BigEndian, n, x.To, 2); err != nil {
			return err
		}
		f.RegAddr, f.RegDev, f.NFProto = 2, 1, nfp
		r.add(f)
		return nil
	}
	dev := x.Device
	if dev == nil {
		dev = x.To
	}
	if err := r.loadDevice(dev, 1); err != nil {
		return err
	}
	f.RegDev = 1
	r.add(f)
	return nil
}

func (r *ruleCtx) tproxy(x *parser.TproxyStmt) error {
	tp := &model.Tproxy{}
	fam := r.family
	switch x.Family {
	case "ip":
		fam = model.FamilyIP
	case "ip6":
		fam = model.FamilyIP6
	}
	if fam == model.FamilyIP || fam == model.FamilyIP6 {
		tp.Family = uint32(fam)
	}
	reg := uint32(1)
	if x.Addr != nil {
		dt, n := DatatypeByName("ipv4_addr"), uint32(4)
		if fam == model.FamilyIP6 {
			dt, n = DatatypeByName("ipv6_addr"), 16
		}
		if err := r.loadValue(dt, BigEndian, n, x.Addr, reg); err != nil {
			return err
		}
		tp.RegAddr = reg
		reg++
	}
	if x.Port != nil {
		if err := r.loadValue(DatatypeByName("inet_service"), BigEndian, 2, x.Port, reg); err != nil {
			return err
		}
		tp.RegPort = reg
	}
	r.add(tp)
	return nil
}

func (r *ruleCtx) dynset(x *parser.DynsetStmt) error {
	name := ""
	switch s := x.Set.(type) {
	case *parser.SetRef:
		name = s.Name
	case *parser.Ident:
		name = s.Name()
	}
	key := x.Key
	var timeout parser.Expr
	if el, ok := key.(*parser.Elem); ok {
		key = el.Key
		for _, o := range el.Opts {
			if o.Key == "timeout" && len(o.Args) == 1 {
				timeout = o.Args[0]
			}
		}
	}
	l, err := r.evalSel(key)
	if c, ok := key.(*parser.Concat); ok && err != nil && r.t.sets[name] != nil {
		// a concatenation with constant parts ("ip saddr . 22")
		if cl, cerr := r.concatWithConstants(c, unpackConcat(r.t.sets[name].KeyType)); cerr == nil {
			l, err = cl, nil
		}
	}
	if err != nil {
		// a constant key: load it with the set's key type
		s := r.t.sets[name]
		if s == nil {
			return err
		}
		kl := &load{dt: DatatypeByID(s.KeyType), size: s.KeyLen, bits: s.KeyLen * 8, order: BigEndian}
		if kl.dt == nil {
			kl.dt = DatatypeByName("integer")
		}
		if s.KeyByteorder == 1 {
			kl.order = HostOrder
		}
		v, verr := r.value(kl, key)
		if verr != nil {
			return err
		}
		kl.emit = func(reg uint32) []model.Expr {
			return []model.Expr{&model.Immediate{DReg: reg, Data: v, HostOrder: kl.hostHint()}}
		}
		l = kl
	}
	if err := r.emitDeps(l); err != nil {
		return err
	}
	// the data expression's dependencies come before the key load
	var dataLoad *load
	if x.Value != nil {
		if dl, err := r.evalSel(x.Value); err == nil {
			if err := r.emitDeps(dl); err != nil {
				return err
			}
			dataLoad = dl
		}
	}
	r.emitLoad(l, 1)
	ds := &model.Dynset{SRegKey: 1, Set: name}
	switch x.Op {
	case "update":
		ds.Op = 1
	case "delete":
		ds.Op = 2
	}
	if s := r.t.sets[name]; s != nil {
		ds.SetID = s.ID
		// nft 1.0.6 flags a set (not a map) the file declares dynamic
		// when a rule adds, updates or deletes its elements
		if s.Flags&(setMap|setObject) == 0 {
			s.Flags |= setEval
		}
	}
	if timeout != nil {
		if v, ok := litText(timeout); ok {
			if d, ok := parseTime(v); ok {
				ds.Timeout = uint64(d.Milliseconds())
			}
		}
	}
	if x.Value != nil {
		// nft gives a single key a whole 128-bit register and a
		// concatenation its 32-bit registers; the data follows
		idx := 4 * ((l.size + 15) / 16)
		if len(l.parts) > 0 {
			idx = l.size / 4
		}
		reg := regFor(idx)
		c, isConcat := x.Value.(*parser.Concat)
		var parts []*Datatype
		if s := r.t.sets[name]; s != nil && isConcat {
			parts = unpackConcat(s.DataType)
		}
		if dataLoad != nil {
			r.emitLoadAt(dataLoad.normalized(), idx)
		} else if isConcat && len(parts) == len(c.Parts) {
			// constant concatenated data: one immediate per field
			at := idx
			for i, dt := range parts {
				size := (dt.Bits + 7) / 8
				if size == 0 {
					size = 16
				}
				v, err := encodeScalar(dt, size, dt.Order, c.Parts[i])
				if err != nil {
					return err
				}
				r.add(&model.Immediate{DReg: regFor(at), Data: v, HostOrder: (&load{dt: dt, order: dt.Order, size: size}).hostHint()})
				at += padded(size) / 4
			}
		} else {
			s := r.t.sets[name]
			dt, order, size := DatatypeByName("integer"), HostOrder, uint32(4)
			if s != nil {
				if d := DatatypeByID(s.DataType); d != nil {
					dt, order = d, d.Order
				}
				size = s.DataLen
			}
			if err := r.loadValue(dt, order, size, x.Value, reg); err != nil {
				return err
			}
		}
		ds.SRegData = reg
	}
	for _, st := range x.Stmts {
		sub := &ruleCtx{c: r.c, t: r.t, family: r.family}
		if err := sub.stmt(st); err != nil {
			return err
		}
		ds.Exprs = append(ds.Exprs, sub.exprs...)
	}
	r.add(ds)
	return nil
}

// concatWithConstants loads a concatenation whose parts are selectors or
// constants; a constant part takes the type of its field in types and is
// put in its register with an immediate, as nft does.
func (r *ruleCtx) concatWithConstants(c *parser.Concat, types []*Datatype) (*load, error) {
	if len(types) != len(c.Parts) {
		return nil, fmt.Errorf("value does not match the concatenation")
	}
	l := &load{}
	var ids []uint32
	for i, p := range c.Parts {
		pl, err := r.evalSel(p)
		if err == nil {
			pl = pl.normalized()
		} else {
			dt := types[i]
			size := (dt.Bits + 7) / 8
			if size == 0 {
				size = 16
			}
			pl = &load{dt: dt, order: dt.Order, size: size, bits: size * 8}
			v, verr := r.value(pl, p)
			if verr != nil {
				return nil, verr
			}
			imm := &model.Immediate{Data: v, HostOrder: pl.hostHint()}
			pl.emit = func(reg uint32) []model.Expr {
				cp := *imm
				cp.DReg = reg
				return []model.Expr{&cp}
			}
		}
		l.parts = append(l.parts, pl)
		l.size += padded(pl.size)
		ids = append(ids, pl.dt.ID)
	}
	l.dt = &Datatype{ID: ConcatTypeID(ids...), Name: "concat"}
	l.bits = l.size * 8
	return l, nil
}

// flatWords is words with lists ("bypass,fanout") flattened.
func flatWords(args []parser.Expr) []string {
	var out []string
	for _, a := range args {
		if l, ok := a.(*parser.List); ok {
			out = append(out, flatWords(l.Elems)...)
			continue
		}
		out = append(out, words([]parser.Expr{a})...)
	}
	return out
}

// generic handles statements the parser knows only by shape.
func (r *ruleCtx) generic(x *parser.GenericStmt) error {
	ws := flatWords(x.Args)
	switch x.Keyword {
	case "reset":
		// reset tcp option NAME|KIND: strip the option
		if len(ws) == 3 && ws[0] == "tcp" && ws[1] == "option" {
			kind := -1
			if opt := tcpOptionByName(ws[2]); opt != nil {
				kind = int(opt.Type)
			} else if n, err := strconv.Atoi(ws[2]); err == nil {
				kind = n
			}
			if kind < 0 || kind > 255 {
				return fmt.Errorf("unknown tcp option %q", ws[2])
			}
			r.add(&model.Exthdr{Op: model.ExthdrTCPOpt, Type: uint8(kind)})
			return nil
		}
	}
	return fmt.Errorf("unsupported statement %q", x.Keyword)
}

func hasWord(ws []string, w string) bool {
	for _, x := range ws {
		if x == w {
			return true
		}
	}
	return false
}

// natAddrFamily returns ip or ip6 for an address expression in inet NAT.
func natAddrFamily(e parser.Expr, defs map[string]parser.Expr) model.Family {
	switch x := e.(type) {
	case *parser.Range:
		return natAddrFamily(x.Lo, defs)
	case *parser.Prefix:
		return natAddrFamily(x.X, defs)
	case *parser.VarRef:
		if d, ok := defs[x.Name]; ok {
			return natAddrFamily(d, defs)
		}
	}
	if s, ok := litText(e); ok && strings.Contains(strings.Trim(s, "[]"), ":") {
		return model.FamilyIP6
	}
	if _, ok := litText(e); ok {
		return model.FamilyIP
	}
	return model.FamilyInet
}

// natMapHasPorts reports whether a NAT map's data are "addr . port"
// concatenations.
func (r *ruleCtx) natMapHasPorts(ml *parser.MapLookup) bool {
	if sr, ok := ml.Map.(*parser.SetRef); ok {
		s := r.t.sets[sr.Name]
		return s != nil && (s.DataType == ConcatTypeID(TypeIPAddr, TypeInetService) ||
			s.DataType == ConcatTypeID(TypeIP6Addr, TypeInetService))
	}
	se, ok := ml.Map.(*parser.SetExpr)
	if !ok {
		return false
	}
	for _, el := range se.Elems() {
		if me, ok := el.(*parser.MapElem); ok {
			if c, ok := me.Value.(*parser.Concat); ok && len(c.Parts) == 2 {
				return true
			}
		}
	}
	return false
}

// unpackConcat splits a packed concatenation type id into its datatypes;
// nil when a field type is unknown.
func unpackConcat(id uint32) []*Datatype {
	var out []*Datatype
	for id != 0 {
		dt := DatatypeByID(id & (1<<concatTypeBits - 1))
		if dt == nil {
			return nil
		}
		out = append([]*Datatype{dt}, out...)
		id >>= concatTypeBits
	}
	return out
}

// natMapHasIntervals reports whether a NAT map's data hold address (or
// port) ranges or prefixes: "{ k : 10.0.0.1-10.0.0.5 . 80-90 }".
func natMapHasIntervals(se *parser.SetExpr) bool {
	isIv := func(e parser.Expr) bool {
		switch e.(type) {
		case *parser.Range, *parser.Prefix:
			return true
		}
		return false
	}
	for _, el := range se.Elems() {
		me, ok := el.(*parser.MapElem)
		if !ok {
			continue
		}
		if isIv(me.Value) {
			return true
		}
		if c, ok := me.Value.(*parser.Concat); ok {
			for _, p := range c.Parts {
				if isIv(p) {
					return true
				}
			}
		}
	}
	return false
}

// natIntervalMap compiles NAT through an anonymous map whose data are
// ranges: the data hold addr_min . addr_max (or addr_min . port_min .
// addr_max . port_max), loaded into consecutive 32-bit registers.
func (r *ruleCtx) natIntervalMap(x *parser.NatStmt, ml *parser.MapLookup, se *parser.SetExpr, fam model.Family, addrType string, addrLen, flags uint32) error {
	k, err := r.evalSel(ml.Key)
	if err != nil {
		return err
	}
	if err := r.emitDeps(k); err != nil {
		return err
	}
	addr := &load{dt: DatatypeByName(addrType), order: BigEndian, size: addrLen, bits: addrLen * 8}
	port := &load{dt: DatatypeByName("inet_service"), order: BigEndian, size: 2, bits: 16}
	withPorts := false
	for _, el := range se.Elems() {
		if me, ok := el.(*parser.MapElem); ok {
			if _, ok := me.Value.(*parser.Concat); ok {
				withPorts = true
			}
		}
	}
	fields := []*load{addr, addr}
	if withPorts {
		fields = []*load{addr, port, addr, port}
	}
	// encode each element's data as its low and high bounds
	var elems []parser.Expr
	var datas [][]byte
	for _, el := range se.Elems() {
		me, ok := el.(*parser.MapElem)
		if !ok {
			return fmt.Errorf("map element without data")
		}
		parts := []parser.Expr{me.Value}
		if c, ok := me.Value.(*parser.Concat); ok {
			parts = c.Parts
		}
		if len(parts) != len(fields)/2 {
			return fmt.Errorf("map data does not match the NAT mapping")
		}
		var lo, hi []byte
		for i, p := range parts {
			iv, err := r.elemInterval(fields[i], p)
			if err != nil {
				return err
			}
			pad := make([]byte, padded(fields[i].size)-fields[i].size)
			lo = append(append(lo, iv.lo...), pad...)
			hi = append(append(hi, iv.hi...), pad...)
		}
		datas = append(datas, append(lo, hi...))
		// the placeholder data carries the element's index
		elems = append(elems, &parser.MapElem{Span: me.Span, Key: me.Key,
			Value: &parser.Literal{Kind: parser.LitNumber, Text: strconv.Itoa(len(datas) - 1)}})
	}
	var ids []uint32
	var size uint32
	var lens []uint32
	for _, f := range fields {
		ids = append(ids, f.dt.ID)
		size += padded(f.size)
		lens = append(lens, f.size)
	}
	data := &load{dt: &Datatype{ID: ConcatTypeID(ids...), Name: "concat"}, order: BigEndian, size: size, bits: size * 8,
		parts: fields}
	r.emitKey(k, setHasInterval(se), 1)
	// build the map with placeholder data, then set the real bounds
	placeholder := &load{dt: DatatypeByName("integer"), order: BigEndian, size: 4, bits: 32}
	s, err := r.anonSet(k, parser.NewSetExpr(se.Span, elems), placeholder)
	if err != nil {
		return err
	}
	// nft describes the data by the address type (with the port type
	// when there are ports) and marks them as intervals in the userdata
	s.DataType, s.DataLen, s.DataFieldLens = addr.dt.ID, data.size, lens
	dataOrder := uint32(2)
	if withPorts {
		s.DataType, dataOrder = ConcatTypeID(addr.dt.ID, port.dt.ID), 0
	}
	ud := udataU32(udataSetKeyByteorder, keyByteorder(k))
	ud = append(ud, udataU32(udataSetDataByteorder, dataOrder)...)
	if len(k.parts) > 0 {
		if t := typeofUdata(k); t != nil {
			ud = append(ud, tlv(udataSetKeyTypeof, t)...)
		}
	}
	s.Userdata = append(ud, udataU32(udataSetDataInterval, 1)...)
	for i := range s.Elements {
		d := s.Elements[i].Data
		if len(d) != 4 {
			continue
		}
		if idx := int(binary.BigEndian.Uint32(d)); idx < len(datas) {
			s.Elements[i].Data = datas[idx]
		}
	}
	r.add(&model.Lookup{SReg: 1, DReg: 1, HasDReg: true, Set: s.Name, SetID: s.ID})
	t := uint32(0)
	if x.Kind == "dnat" {
		t = 1
	}
	if x.Prefix {
		flags |= 0x40
	}
	n := &model.NAT{Type: t, Family: uint32(fam), RegAddrMin: 1, Flags: flags}
	if withPorts {
		a, p := padded(addrLen)/4, uint32(1)
		n.RegProtoMin = regFor(a)
		n.RegAddrMax = regFor(a + p)
		n.RegProtoMax = regFor(a + p + a)
	} else {
		n.RegAddrMax = regFor(padded(addrLen) / 4)
	}
	r.add(n)
	return nil
}
