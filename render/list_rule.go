package render

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math/big"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/nftflow/nftflow/compiler"
	"github.com/nftflow/nftflow/model"
)

// lsSel is what a register holds while a rule is decoded: a selector
// ("tcp dport", "meta mark") with the datatype of its values.
type lsSel struct {
	text  string
	dt    lsDtype
	host  bool // register value in host byte order
	size  int  // bytes the value occupies
	mask  []byte
	shift uint // value = (reg & mask) >> shift
	// Dependency facts: which protocol key this selector is.
	depKind int // lsDepL3 (nfproto, meta protocol, ether type), lsDepL4 (l4proto, ip protocol, nexthdr)
	proto   *compiler.Proto
	field   *compiler.Field
	netPfx  bool   // the load covers only a prefix of the field (bytes)
	hex     bool   // raw payload: integers print in hex
	loadOff uint32 // payload: bit offset and length of the load
	loadLen uint32
	raw     bool // a map result or similar: print as is
	// exprText is the selector with the operators applied to it
	// ("meta mark & 0x00000010"), prec the precedence of the outermost one.
	exprText   string
	prec       int
	isMap      bool // the result of a map lookup
	interval   bool // ... whose data are ranges
	concatData bool // ... or concatenations
	setsL4     bool // ip protocol, ip6 nexthdr: name the transport header
	isExthdr   bool // an IPv6 extension header field
	isTCPOpt   bool // a TCP option field
	// bwMask and bwXor are the operands of the bitwise operation that
	// produced the register ((reg & mask) ^ xor).
	bwMask, bwXor []byte
	bwSrc         string // the plain selector the bitwise operation read
	// rawText is the raw "@base,offset,length" of a payload load. A field
	// shifted into place prints as mapText when it is the key of a map,
	// as setText when it is the key of a set lookup.
	rawText, mapText, setText string
	rawJS, mapJS, setJS       any
	js                        any // libnftables JSON of the selector; nil when not known
	binJS                     any // ... with the operators of exprText applied
	// multi lists the adjacent header fields of a merged load.
	multi []*compiler.Field
	// killedDeps are the dependency matches the key of a map lookup
	// removed, for the uses of the result that keep them.
	killedDeps []*lsStmt
}

const (
	lsDepNone = iota
	lsDepL3
	lsDepL4
	lsDepLL // meta iiftype ether before an ether header match
)

// lsStmt is one printed statement; dependencies may be removed later.
type lsStmt struct {
	js       any    // libnftables JSON of the statement; nil when not known
	depProto string // protocol header of a dependency match ("ether", "vlan")
	text     string
	depKind  int
	dead     bool
}

// lsRuleCtx is the decoding state of one rule.
type lsRuleCtx struct {
	l     *Lister
	fam   model.Family
	regs  map[uint32]*lsSel
	out   []*lsStmt
	l3    uint64 // network protocol in force (ethertype), 0 unknown
	l4    uint64 // transport protocol in force, 256 unknown
	l3dep *lsStmt
	lldep *lsStmt
	nhdep *lsStmt // ip protocol / ip6 nexthdr: only tcp options remove it
	// icmpType is the ICMP type matched so far; fields that exist only
	// for one type (mtu, gateway) remove that match, nft's dependency.
	icmpType     uint64
	icmpTypeStmt *lsStmt
	vlanDepth    int // vlan headers announced by a vlan type match
	l4dep        *lsStmt
	// llVlan is set once "ether type 8021q" (or 8021ad) is matched: the
	// link layer stays a vlan header even after "vlan type ip" moves the
	// network protocol on, as in nft's protocol context. llVlanDep is that
	// ether type match, a dependency a later vlan field removes.
	llVlan    bool
	llVlanDep *lsStmt
}

// lsReg32 normalises a register number to its 4-byte register index.
func lsReg32(r uint32) uint32 {
	if r >= 1 && r <= 4 {
		return 8 + (r-1)*4
	}
	return r
}

// RuleText returns the rule in nft syntax (without the handle comment).
// Expressions it cannot decode appear as "<unsupported: KIND>" and make
// Err report ErrUndecodable.
func (l *Lister) RuleText(r *model.Rule) string {
	c := l.decodeRule(r)
	var parts []string
	for _, s := range c.out {
		if !s.dead {
			parts = append(parts, s.text)
		}
	}
	text := strings.Join(parts, " ")
	if r.Comment != "" {
		if text != "" {
			text += " "
		}
		text += "comment " + lsQuote(r.Comment)
	}
	return text
}

// RuleJSON returns the rule's statements as libnftables JSON expression
// objects; ok is false when some statement has no JSON form yet.
func (l *Lister) RuleJSON(r *model.Rule) (expr []any, ok bool) {
	c := l.decodeRule(r)
	for _, s := range c.out {
		if s.dead {
			continue
		}
		if s.js == nil {
			return nil, false
		}
		expr = append(expr, s.js)
	}
	return expr, true
}

// decodeRule turns the rule's expressions into statements.
func (l *Lister) decodeRule(r *model.Rule) *lsRuleCtx {
	c := &lsRuleCtx{l: l, fam: r.Family, regs: map[uint32]*lsSel{}, l4: 256}
	switch r.Family {
	case model.FamilyIP:
		c.l3 = 0x0800
	case model.FamilyIP6:
		c.l3 = 0x86dd
	case model.FamilyARP:
		c.l3 = 0x0806
	}
	for i := 0; i < len(r.Exprs); i++ {
		i += c.expr(r.Exprs, i)
	}
	return c
}

func (c *lsRuleCtx) emit(text string) *lsStmt {
	// A statement that is not a match ends the protocol context nft
	// removes dependencies in: a later header match keeps them.
	c.l3dep, c.l4dep, c.lldep, c.nhdep, c.icmpTypeStmt = nil, nil, nil, nil, nil
	c.llVlanDep = nil
	return c.emitMatch(text)
}

// emitMatch appends a match statement.
func (c *lsRuleCtx) emitMatch(text string) *lsStmt {
	s := &lsStmt{text: text}
	c.out = append(c.out, s)
	return s
}

func (c *lsRuleCtx) unsupported(what string) {
	c.l.bad = append(c.l.bad, what)
	c.emit("<unsupported: " + what + ">")
}

// expr decodes exprs[i] (and possibly following ones) and returns how many
// extra expressions it consumed.
func (c *lsRuleCtx) expr(exprs []model.Expr, i int) int {
	switch e := exprs[i].(type) {
	case *model.Meta:
		if e.SReg != 0 {
			c.setStmt(lsMetaText(e.Key, c.fam), e.SReg, lsMetaType(e.Key))
			return 0
		}
		c.load(e.DReg, c.metaSel(e.Key))
	case *model.Ct:
		if e.SReg != 0 {
			k := compiler.CtKeyByNum(e.Key)
			name := fmt.Sprintf("ct key%d", e.Key)
			dt := lsDtypeByID(lsTInteger)
			if k != nil {
				name = "ct " + k.Name
				if e.HasDirection {
					name = "ct " + map[uint8]string{0: "original", 1: "reply"}[e.Direction] + " " + k.Name
				}
				dt = lsDtypeByName(k.Type)
			}
			c.setStmt(name, e.SReg, dt)
			return 0
		}
		c.load(e.DReg, c.ctSel(e))
	case *model.Payload:
		if e.SReg != 0 {
			s := c.payloadSel(e)
			c.useDeps(s)
			if c.fieldWrite(e, s) || c.rawWrite(e, s) {
				return 0
			}
			c.setStmtOrder(s.text, e.SReg, s.dt, false)
			return 0
		}
		c.load(e.DReg, c.payloadSel(e))
	case *model.Bitwise:
		return c.bitwise(e)
	case *model.Cmp:
		c.cmp(exprs, i, e)
		if i+1 < len(exprs) {
			if n, ok := exprs[i+1].(*model.Cmp); ok && e.Op == 5 && n.Op == 3 && n.SReg == e.SReg {
				return 1 // consumed as a range (gte + lte)
			}
		}
	case *model.Range:
		s := c.regs[lsReg32(e.SReg)]
		if s == nil {
			c.unsupported("range")
			return 0
		}
		op := ""
		if e.Op == 1 {
			op = "!= "
		}
		c.match(s, op+lsRangeValue(s.dt, e.From, s.host)+"-"+lsRangeValue(s.dt, e.To, s.host), 0, false)
	case *model.Immediate:
		if e.DReg == 0 && e.Verdict != nil {
			if rules, ok := c.l.bindings[e.Verdict.Chain]; ok && (e.Verdict.Code == -3 || e.Verdict.Code == -4) {
				// nft 1.0.6 has no JSON form for a chain binding and
				// prints its text as a string.
				text := c.l.bindingText(e.Verdict.Code, rules)
				c.emit(text).js = text
				return 0
			}
			c.emit(lsVerdictName(e.Verdict.Code, e.Verdict.Chain)).js = jsonVerdict(e.Verdict)
			return 0
		}
		c.regs[lsReg32(e.DReg)] = &lsSel{text: "", raw: true, size: len(e.Data), dt: lsDtypeByID(lsTInteger), mask: e.Data}
	case *model.Lookup:
		c.lookup(e)
	case *model.Counter:
		c.emit(fmt.Sprintf("counter packets %d bytes %d", e.Packets, e.Bytes)).js = jsonStmt(e)
	case *model.Queue:
		c.queue(e)
	case *model.NAT:
		c.nat(e)
	case *model.Dynset:
		c.dynset(e)
	case *model.Numgen:
		text := "numgen inc"
		if e.Type == 1 {
			text = "numgen random"
		}
		text += fmt.Sprintf(" mod %d", e.Modulus)
		if e.Offset != 0 {
			text += fmt.Sprintf(" offset %d", e.Offset)
		}
		mode := "inc"
		if e.Type == 1 {
			mode = "random"
		}
		c.load(e.DReg, &lsSel{text: text, dt: lsDtypeByID(lsTInteger), host: true, size: 4,
			js: jsonObj{{"numgen", jsonObj{{"mode", mode}, {"mod", e.Modulus}, {"offset", e.Offset}}}}})
	case *model.Hash:
		text := "symhash"
		var srcJS any
		if e.Type == 0 {
			src, js, ok := c.hashSource(e.SReg, int(e.Len))
			if !ok {
				c.unsupported("hash")
				return 0
			}
			text, srcJS = "jhash "+src, js
		}
		text += fmt.Sprintf(" mod %d", e.Modulus)
		hjs := jsonObj{{"mod", e.Modulus}}
		if e.HasSeed {
			text += fmt.Sprintf(" seed 0x%x", e.Seed)
			hjs = append(hjs, jsonKV{"seed", e.Seed})
		}
		if e.Offset != 0 {
			text += fmt.Sprintf(" offset %d", e.Offset)
			hjs = append(hjs, jsonKV{"offset", e.Offset})
		}
		var js any = jsonObj{{"symhash", hjs}}
		if e.Type == 0 {
			if srcJS != nil {
				js = jsonObj{{"jhash", append(hjs, jsonKV{"expr", srcJS})}}
			} else {
				js = nil
			}
		}
		c.load(e.DReg, &lsSel{text: text, dt: lsDtypeByID(lsTInteger), host: true, size: 4, js: js})
	case *model.Fib:
		c.load(e.DReg, lsFibSel(e))
	case *model.Rt:
		sel, ok := lsRtSel(e, c.fam)
		if !ok {
			c.unsupported("rt")
			return 0
		}
		c.load(e.DReg, sel)
	case *model.Socket:
		sel, ok := lsSocketSel(e)
		if !ok {
			c.unsupported("socket")
			return 0
		}
		c.load(e.DReg, sel)
	case *model.Exthdr:
		if e.Op == model.ExthdrTCPOpt && e.DReg == 0 && e.SReg == 0 {
			c.tcpOptReset(e)
			return 0
		}
		sel, ok := lsExthdrSel(e)
		if !ok {
			c.unsupported("exthdr")
			delete(c.regs, lsReg32(e.DReg))
			return 0
		}
		if c.nhdep != nil && e.Op == model.ExthdrTCPOpt {
			c.nhdep.dead = true
			c.nhdep = nil
		}
		if e.SReg != 0 {
			c.useDeps(sel)
			c.setStmtOrder(sel.text, e.SReg, sel.dt, false)
			return 0
		}
		c.load(e.DReg, sel)
	case *model.Xfrm:
		sel, ok := lsXfrmSel(e)
		if !ok {
			c.unsupported("xfrm")
			delete(c.regs, lsReg32(e.DReg))
			return 0
		}
		c.load(e.DReg, sel)
	case *model.Tproxy:
		c.tproxy(e)
	case *model.Dup:
		c.dupFwd("dup", e.RegAddr, e.RegDev, 0)
	case *model.Fwd:
		c.dupFwd("fwd", e.RegAddr, e.RegDev, e.NFProto)
	case *model.Byteorder:
		// Byte order conversions feed concatenations and intervals; the
		// selector stays the same for printing.
		if s := c.regs[lsReg32(e.SReg)]; s != nil {
			cp := *s
			cp.host = e.Op == 0 // NFT_BYTEORDER_NTOH leaves host order
			c.regs[lsReg32(e.DReg)] = &cp
			return 0
		}
		c.unsupported("byteorder")
	case *model.Objref:
		c.objref(e)
	case *model.Masq:
		c.natPorts("masquerade", e.RegProtoMin, e.RegProtoMax, e.Flags)
	case *model.Redir:
		c.natPorts("redirect", e.RegProtoMin, e.RegProtoMax, e.Flags)
	case *model.Osf:
		text := "osf"
		switch e.TTL {
		case 1:
			text += " ttl loose"
		case 2:
			text += " ttl skip"
		}
		if e.Flags&1 != 0 {
			text += " version"
		} else {
			text += " name"
		}
		ojs := jsonObj{{"key", strings.Fields(text)[len(strings.Fields(text))-1]}}
		if e.TTL != 0 {
			ojs = append(jsonObj{{"ttl", map[uint8]string{1: "loose", 2: "skip"}[e.TTL]}}, ojs...)
		}
		c.load(e.DReg, &lsSel{text: text, dt: lsDtypeByID(lsTString), size: 16, js: jsonObj{{"osf", ojs}}})
	default:
		if t := c.l.stmtText(e); !strings.HasPrefix(t, "<unsupported") {
			if rj, ok := e.(*model.Reject); ok && rj.Type == 0 && c.l3dep != nil {
				// reject with icmp[v6] brings its own nfproto check.
				c.l3dep.dead = true
				c.l3dep = nil
			}
			st := c.emit(t)
			st.js = jsonStmt(e)
			if rj, ok := e.(*model.Reject); ok {
				fam := c.fam
				if (fam == model.FamilyInet || fam == model.FamilyBridge || fam == model.FamilyNetdev) && rj.Type == 0 {
					// inet names the ICMP flavour the rule matched.
					fam = model.FamilyIP
					if c.l3 == 0x86dd {
						fam = model.FamilyIP6
					}
					st.text = lsRejectExplicit(rj, fam)
				}
				st.js = jsonReject(rj, fam)
			}
			return 0
		}
		c.unsupported(e.Kind())
		// Whatever it loaded is unknown: forget every register rather
		// than attribute later comparisons to an older selector.
		c.regs = map[uint32]*lsSel{}
	}
	return 0
}

// load stores a selector in a register.
func (c *lsRuleCtx) load(reg uint32, s *lsSel) {
	c.regs[lsReg32(reg)] = s
}

func (c *lsRuleCtx) setStmt(name string, sreg uint32, dt lsDtype) {
	c.setStmtOrder(name, sreg, dt, dt.hostOrder())
}

// setStmtOrder prints "NAME set VALUE"; host gives the byte order of an
// immediate value (packet fields are written in network order).
func (c *lsRuleCtx) setStmtOrder(name string, sreg uint32, dt lsDtype, host bool) {
	s := c.regs[lsReg32(sreg)]
	if s == nil {
		c.unsupported(name + " set")
		return
	}
	text := c.valueOf(s, dt)
	if s.raw && s.text == "" {
		text = lsFormatValue(dt, s.mask, host)
	}
	st := c.emit(name + " set " + text)
	if key := jsonSetKey(name); key != nil {
		var val any
		if s.raw && s.text == "" {
			t := text
			if dt.dt != nil && dt.dt.Bitmask && dt.id != lsTCtLabel && !strings.HasPrefix(t, "0x") {
				val = jsonFlags(t)
			} else {
				val = jsonAtom(t)
			}
		} else {
			val = s.valueJS()
		}
		if val != nil {
			st.js = jsonObj{{"mangle", jsonObj{{"key", key}, {"value", val}}}}
		}
	}
}

// valueOf prints a register's content used as a value of type dt.
func (c *lsRuleCtx) valueOf(s *lsSel, dt lsDtype) string {
	if s.raw && s.text == "" {
		return lsFormatValue(dt, s.mask, dt.hostOrder())
	}
	c.useDeps(s)
	return s.value()
}

func lsMetaText(key uint32, fam model.Family) string {
	k := compiler.MetaKeyByNum(key)
	if k == nil {
		return fmt.Sprintf("meta key%d", key)
	}
	switch k.Name {
	case "iif", "oif", "iifname", "oifname", "iifgroup", "oifgroup":
		return k.Name
	}
	return "meta " + k.Name
}

func lsMetaType(key uint32) lsDtype {
	if key == 30 { // meta time: nanoseconds since the epoch
		return lsDtypeByID(lsTTimeDate)
	}
	k := compiler.MetaKeyByNum(key)
	if k == nil {
		return lsDtypeByID(lsTInteger)
	}
	return lsDtypeByName(k.Type)
}

func (c *lsRuleCtx) metaSel(key uint32) *lsSel {
	dt := lsMetaType(key)
	s := &lsSel{text: lsMetaText(key, c.fam), dt: dt, host: dt.hostOrder()}
	if k := compiler.MetaKeyByNum(key); k != nil {
		s.js = jsonObj{{"meta", jsonObj{{"key", k.Name}}}}
		s.size = int(k.Len)
		switch k.Name {
		case "nfproto", "protocol":
			s.depKind = lsDepL3
		case "l4proto":
			s.depKind = lsDepL4
		case "iiftype":
			s.depKind = lsDepLL
		}
	}
	if dt.id == lsTEtherType || dt.id == lsTInetProto || key == 24 { // meta random is big endian
		s.host = false
	}
	return s
}

func (c *lsRuleCtx) ctSel(e *model.Ct) *lsSel {
	k := compiler.CtKeyByNum(e.Key)
	if k == nil {
		return &lsSel{text: fmt.Sprintf("ct key%d", e.Key), dt: lsDtypeByID(lsTInteger), host: true}
	}
	name := k.Name
	dt := lsDtypeByName(k.Type)
	if name == "saddr" || name == "daddr" {
		if c.l3 == 0x86dd {
			dt = lsDtypeByID(lsTIP6Addr)
		}
		// nft names the family the table or a match gives these keys.
		switch {
		case c.l3 == 0x0800 && e.HasDirection:
			name = "ip " + name
		case c.l3 == 0x86dd && e.HasDirection:
			name = "ip6 " + name
		}
	}
	text := "ct " + name
	if e.HasDirection {
		dir := "original"
		if e.Direction == 1 {
			dir = "reply"
		}
		text = "ct " + dir + " " + name
	}
	s := &lsSel{text: text, dt: dt, host: dt.hostOrder(), size: int(k.Len)}
	ctjs := jsonObj{{"key", k.Name}}
	if e.HasDirection {
		ctjs = append(ctjs, jsonKV{"dir", map[uint8]string{0: "original", 1: "reply"}[e.Direction]})
	}
	s.js = jsonObj{{"ct", ctjs}}
	if name == "id" {
		s.host = false // ct id is big endian
	}
	switch dt.id {
	case lsTIPAddr, lsTIP6Addr, lsTInetService, lsTInetProto:
		s.host = false
	}
	return s
}

// payloadSel maps a payload load to "proto field", or raw "@base,off,len".
func (c *lsRuleCtx) payloadSel(e *model.Payload) *lsSel {
	var p *compiler.Proto
	switch e.Base {
	case model.BaseLL:
		p = compiler.ProtoByName("ether")
		if e.Offset*8 >= 112 && (c.l3 == 0x8100 || c.l3 == 0x88a8 || c.llVlan) {
			p = compiler.ProtoByName("vlan")
			if c.vlanDepth > 0 && e.Offset*8 >= 112+32*uint32(c.vlanDepth) {
				// A second vlan header sits 4 bytes after the first.
				q := *p
				q.Offset = 112 + 32*uint32(c.vlanDepth)
				p = &q
			}
		}
	case model.BaseNetwork:
		switch c.l3 {
		case 0x0800:
			p = compiler.ProtoByName("ip")
		case 0x86dd:
			p = compiler.ProtoByName("ip6")
		case 0x0806:
			p = compiler.ProtoByName("arp")
		}
	case model.BaseTransport:
		if c.l4 < 256 {
			p = c.l.transportProto(c.l4)
		}
		if p == nil {
			p = compiler.ProtoByName("th")
		}
	}
	off, n := e.Offset*8, e.Len*8
	if p != nil {
		off0 := off
		if p.Offset != 0 {
			if off < p.Offset {
				p = nil
			} else {
				off -= p.Offset
			}
		}
		if p != nil {
			// An exact field, or a byte-aligned load of a field's start
			// (prefix match on addresses, sub-byte fields with a mask).
			var best *compiler.Field
			for i := range p.Fields {
				f := &p.Fields[i]
				if f.Offset == off && f.Len == n {
					best = f
					break
				}
			}
			if best != nil && p.Name == "icmp" && best.Name == "gateway" && c.icmpType != 5 {
				// Without a redirect type in force nft reads these bytes
				// as the echo id and sequence.
				best = nil
			}
			if best == nil {
				// nft merges matches on adjacent fields into one load.
				if fields := lsAdjacentFields(p, off, n); fields != nil {
					// Printed field by field when compared; as the raw
					// load anywhere else.
					return &lsSel{text: lsRawPayload(e), dt: lsDtypeByID(lsTInteger), size: int(e.Len), hex: true,
						proto: p, loadOff: off, loadLen: n, multi: fields, js: jsonRawPayload(e)}
				}
				for i := range p.Fields {
					f := &p.Fields[i]
					subByte := f.Len%8 != 0 || f.Offset%8 != 0
					if subByte && f.Offset >= off && f.Offset+f.Len <= off+n && best == nil {
						best = f
					}
					if f.Offset == off && f.Len > n && (f.Type == "ipv4_addr" || f.Type == "ipv6_addr") {
						best = f
						break
					}
				}
			}
			if alt := c.icmpField(p, off, n); alt != nil {
				best = alt
			}
			if best != nil {
				dt := lsDtypeByName(best.Type)
				s := &lsSel{text: p.Name + " " + best.Name, dt: dt, size: int(e.Len), proto: p, field: best, loadOff: off, loadLen: n,
					js: jsonPayload(p.Name, best.Name), rawText: lsRawPayload(e), rawJS: jsonRawPayload(e)}
				if best.Len > n {
					s.netPfx = true
				}
				if best.Len < n || best.Offset != off {
					// Sub-field of the loaded bytes: needs a mask.
					s.shift = uint(off + n - best.Offset - best.Len)
				}
				if (p.Name == "ip" && best.Name == "protocol") || (p.Name == "ip6" && best.Name == "nexthdr") {
					// Written by the user, never added by nft: it tells the
					// transport protocol but is not removed as a dependency.
					s.setsL4 = true
				}
				if best.Name == "type" && (p.Name == "ether" || p.Name == "vlan") {
					s.depKind = lsDepL3
				}
				_ = off0
				return s
			}
		}
	}
	return &lsSel{text: lsRawPayload(e), dt: lsDtypeByID(lsTInteger), size: int(e.Len), hex: true, js: jsonRawPayload(e)}
}

// lsRawPayload prints a payload load as nft's raw "@base,offset,length".
func lsRawPayload(e *model.Payload) string {
	base := [...]string{"ll", "nh", "th", "ih"}
	b := "?"
	if int(e.Base) < len(base) {
		b = base[e.Base]
	}
	return fmt.Sprintf("@%s,%d,%d", b, e.Offset*8, e.Len*8)
}

// bitwise applies a mask to the selector in the register.
func (c *lsRuleCtx) bitwise(e *model.Bitwise) int {
	s := c.regs[lsReg32(e.SReg)]
	if s == nil {
		c.unsupported("bitwise")
		c.regs[lsReg32(e.DReg)] = nil
		return 0
	}
	if e.Op == model.BitwiseBool && lsAllZero(e.Xor) && lsAllFF(e.Mask) && s.exprText == "" && (s.size == 0 || len(e.Mask) >= s.size) {
		// A mask of all ones changes nothing; nft drops it.
		cp := *s
		c.regs[lsReg32(e.DReg)] = &cp
		return 0
	}
	cp := *s
	v := func(b []byte) string {
		if s.hex {
			return fmt.Sprintf("0x%x", lsToInt(b, s.host))
		}
		return lsFormatValue(s.dt, b, s.host)
	}
	// A right shift by the field's own offset in its loaded bytes only
	// normalises a masked header field ("ip dscp" into a set key).
	if e.Op == model.BitwiseRShift && s.field != nil && s.mask != nil && s.exprText == "" &&
		s.shift != 0 && uint(lsHostU32(e.Data)) == s.shift && s.rawText != "" {
		// nft 1.0.6 prints such a key of a map or verdict map as the raw
		// load: "(@nh,0,16 & 0xfc0) >> 6 map @m".
		m := lsToInt(s.mask, false)
		mapText := fmt.Sprintf("(%s & 0x%x) >> %d", s.rawText, m, s.shift)
		var mapJS any
		if s.rawJS != nil {
			mapJS = jsonObj{{">>", []any{jsonObj{{"&", []any{s.rawJS, jsonBigInt(m)}}}, s.shift}}}
		}
		// The shift stays in print ("add @s { ip dscp >> 2 }"), except
		// as the key of a set lookup.
		defer func() {
			if r := c.regs[lsReg32(e.DReg)]; r != nil {
				r.mapText, r.mapJS = mapText, mapJS
				r.setText, r.setJS = s.text, s.js
			}
		}()
	}
	switch {
	case e.Op == model.BitwiseLShift || e.Op == model.BitwiseRShift:
		op := " << "
		if e.Op == model.BitwiseRShift {
			op = " >> "
		}
		cp.exprText = s.operand(lsPrecShift) + op + fmt.Sprint(lsHostU32(e.Data))
		cp.prec = lsPrecShift
		cp.mask = nil
	case lsAllZero(e.Xor):
		cp.mask = e.Mask
		m := v(e.Mask)
		if s.dt.dt != nil && s.dt.dt.Bitmask && strings.Contains(m, ",") {
			m = "(" + strings.ReplaceAll(m, ",", " | ") + ")"
		}
		cp.exprText = s.operand(lsPrecAnd) + " & " + m
		cp.prec = lsPrecAnd
	case lsAllFF(e.Mask):
		cp.exprText = s.operand(lsPrecXor) + " ^ " + v(e.Xor)
		cp.prec = lsPrecXor
		cp.mask = nil
	case lsIsComplement(e.Mask, e.Xor):
		cp.exprText = s.operand(lsPrecOr) + " | " + v(e.Xor)
		cp.prec = lsPrecOr
		cp.mask = nil
	default:
		// nft 1.0.6 prints (reg & m) ^ x as "reg & (m | x) | x" when x
		// only sets bits m clears, else as "reg & m ^ x".
		or := make([]byte, len(e.Mask))
		disjoint := len(e.Xor) == len(e.Mask)
		for i := range or {
			if i < len(e.Xor) {
				or[i] = e.Mask[i] | e.Xor[i]
				disjoint = disjoint && e.Mask[i]&e.Xor[i] == 0
			}
		}
		if disjoint {
			cp.exprText = s.operand(lsPrecAnd) + " & " + v(or) + " | " + v(e.Xor)
			cp.prec = lsPrecOr
		} else {
			cp.exprText = s.operand(lsPrecAnd) + " & " + v(e.Mask) + " ^ " + v(e.Xor)
			cp.prec = lsPrecXor
		}
		cp.mask = nil
	}
	if e.Op == model.BitwiseBool {
		cp.bwMask, cp.bwXor = e.Mask, e.Xor
		if s.exprText == "" {
			cp.bwSrc = s.text
		}
	}
	cp.binJS = jsonBinop(s.valueJS(), e, v)
	if cp.mask == nil {
		cp.js = cp.binJS
	}
	if cp.mask != nil && s.proto != nil && s.field != nil && s.loadLen > 0 {
		first, count := maskBits(e.Mask)
		for i := range s.proto.Fields {
			f := &s.proto.Fields[i]
			if count > 0 && f.Offset == s.loadOff+uint32(first) && f.Len == uint32(count) {
				cp.field = f
				cp.text = s.proto.Name + " " + f.Name
				cp.dt = lsDtypeByName(f.Type)
				cp.shift = uint(s.loadOff + s.loadLen - f.Offset - f.Len)
				cp.exprText = ""
				cp.prec = 0
				cp.js = jsonPayload(s.proto.Name, f.Name)
				if s.isExthdr {
					cp.js = jsonObj{{"exthdr", jsonObj{{"name", s.proto.Name}, {"field", f.Name}}}}
				}
				if s.isTCPOpt {
					cp.js = jsonObj{{"tcp option", jsonObj{{"name", strings.TrimPrefix(s.proto.Name, "tcp option ")}, {"field", f.Name}}}}
				}
				break
			}
		}
	}
	c.regs[lsReg32(e.DReg)] = &cp
	return 0
}

// Operator precedence of binary operations, for parentheses.
const (
	lsPrecOr = iota + 1
	lsPrecXor
	lsPrecAnd
	lsPrecShift
)

// operand prints the selector as the operand of an operator of
// precedence prec, in parentheses when it binds less tightly.
func (s *lsSel) operand(prec int) string {
	t := s.value()
	if s.prec != 0 && s.prec < prec {
		return "(" + t + ")"
	}
	return t
}

// value prints the selector where a value is expected.
func (s *lsSel) value() string {
	if s.exprText != "" {
		return s.exprText
	}
	return s.text
}

func lsAllFF(b []byte) bool {
	for _, c := range b {
		if c != 0xff {
			return false
		}
	}
	return len(b) > 0
}

func lsIsComplement(a, b []byte) bool {
	if len(a) != len(b) || len(a) == 0 {
		return false
	}
	for i := range a {
		if a[i] != ^b[i] {
			return false
		}
	}
	return true
}

func lsAllZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

var lsCmpOps = [...]string{"", "!= ", "< ", "<= ", "> ", ">= "}

// cmp prints a relational match.
func (c *lsRuleCtx) cmp(exprs []model.Expr, i int, e *model.Cmp) {
	s := c.regs[lsReg32(e.SReg)]
	if s == nil {
		c.unsupported("cmp")
		return
	}
	op := ""
	if int(e.Op) < len(lsCmpOps) {
		op = lsCmpOps[e.Op]
	}
	// gte followed by lte on the same register is a range.
	if e.Op == 5 && i+1 < len(exprs) {
		if n, ok := exprs[i+1].(*model.Cmp); ok && n.Op == 3 && n.SReg == e.SReg {
			lo, hi := e.Data, n.Data
			if s.shift > 0 && s.mask != nil {
				// A masked sub-byte field compares shifted values.
				a, b := lsToInt(lo, s.host), lsToInt(hi, s.host)
				a.Rsh(a, s.shift)
				b.Rsh(b, s.shift)
				lo, hi = lsIntBytes(a, s.dt), lsIntBytes(b, s.dt)
				c.match(s, lsRangeValue(s.dt, lo, false)+"-"+lsRangeValue(s.dt, hi, false), 0, false)
				return
			}
			c.match(s, lsRangeValue(s.dt, lo, s.host)+"-"+lsRangeValue(s.dt, hi, s.host), 0, false)
			return
		}
	}
	data := e.Data
	if len(s.multi) > 0 && (e.Op == 0 || e.Op == 1) && s.mask == nil {
		pos := 0
		for _, f := range s.multi {
			nb := int(f.Len / 8)
			if pos+nb > len(data) {
				break
			}
			sub := &lsSel{text: s.proto.Name + " " + f.Name, dt: lsDtypeByName(f.Type), proto: s.proto, field: f, js: jsonPayload(s.proto.Name, f.Name)}
			if (s.proto.Name == "ip" && f.Name == "protocol") || (s.proto.Name == "ip6" && f.Name == "nexthdr") {
				sub.setsL4 = true
			}
			if f.Name == "type" && (s.proto.Name == "ether" || s.proto.Name == "vlan") {
				sub.depKind = lsDepL3
			}
			part := data[pos : pos+nb]
			c.match(sub, op+lsFormatValue(sub.dt, part, false), lsToInt(part, false).Uint64(), e.Op == 0)
			pos += nb
		}
		return
	}
	if s.mask != nil && !s.raw {
		// Flag test: (reg & mask) != 0 prints the mask's flags.
		if s.dt.dt != nil && s.dt.dt.Bitmask && e.Op == 1 && lsAllZero(data) {
			c.match(s, lsFormatValue(s.dt, s.mask, s.host), 0, false)
			return
		}
		if s.dt.dt != nil && s.dt.dt.Bitmask && s.exprText != "" && s.shift == 0 {
			m := lsFormatValue(s.dt, s.mask, s.host)
			switch {
			case e.Op == 0 && lsAllZero(data):
				// No flag of the mask set.
				c.match(s, "! "+m, 0, false)
				return
			case (e.Op == 0 || e.Op == 1) && bytes.Equal(data, s.mask) && !strings.Contains(m, ","):
				rel := "=="
				if e.Op == 1 {
					rel = "!="
				}
				c.match(&lsSel{text: s.text + " & " + m, proto: s.proto, js: s.valueJS()}, rel+" "+m, 0, false)
				return
			}
		}
		if s.dt.id == lsTMark && (e.Op == 0 || e.Op == 1) && s.exprText != "" && len(s.mask) == 4 {
			// Marks match a prefix of their bits as nft prints it:
			// "meta mark 0x00010000/16".
			m := lsToInt(s.mask, s.host).FillBytes(make([]byte, 4))
			if pl := lsPrefixLen(m); pl > 0 && pl < 32 {
				c.match(s, op+lsFormatValue(s.dt, data, s.host)+fmt.Sprintf("/%d", pl), 0, false)
				return
			}
		}
		if pl := lsPrefixLen(s.mask); pl >= 0 && (s.dt.id == lsTIPAddr || s.dt.id == lsTIP6Addr) && !s.netPfx {
			c.match(s, op+lsFormatValue(s.dt, lsPadTo(data, s.dt.bytes()), s.host)+fmt.Sprintf("/%d", pl), 0, false)
			return
		}
		if s.shift > 0 || s.field != nil && s.field.Len%8 != 0 {
			v := lsToInt(data, s.host)
			v.Rsh(v, s.shift)
			c.match(s, op+lsFormatValue(s.dt, lsIntBytes(v, s.dt), false), v.Uint64(), e.Op == 0)
			return
		}
		if s.dt.dt != nil && s.dt.dt.Bitmask {
			c.match(s, op+fmt.Sprintf("%s / %s", lsFormatValue(s.dt, data, s.host), lsFormatValue(s.dt, s.mask, s.host)), 0, false)
			return
		}
		eqOp := "== "
		if op != "" {
			eqOp = op
		}
		val := lsFormatValue(s.dt, data, s.host)
		if s.hex {
			val = fmt.Sprintf("0x%x", lsToInt(data, s.host))
		}
		c.match(&lsSel{text: s.value(), proto: s.proto, js: s.valueJS()}, eqOp+val, 0, false)
		return
	}
	if (s.netPfx || len(data) < s.dt.bytes()) && (s.dt.id == lsTIPAddr || s.dt.id == lsTIP6Addr) {
		// A compare of the first bytes only is a prefix match.
		c.match(s, op+lsFormatValue(s.dt, lsPadTo(data, s.dt.bytes()), false)+fmt.Sprintf("/%d", len(data)*8), 0, false)
		return
	}
	if s.dt.id == lsTIfname || s.dt.id == lsTString {
		str := lsCString(data)
		if len(data) < 16 && !bytes.Contains(data, []byte{0}) {
			str += "*"
		}
		c.match(s, op+lsQuote(str), 0, false)
		return
	}
	if s.dt.id == lsTIfindex && len(data) == 4 {
		if name, ok := c.l.opts.IfNames[binary.NativeEndian.Uint32(data)]; ok {
			c.match(s, op+lsQuote(name), 0, false)
			return
		}
	}
	if s.exprText != "" && s.mask == nil {
		// (reg | x), (reg ^ x), shifts: the relation is spelled out.
		rel := "== "
		if op != "" {
			rel = op
		}
		c.match(&lsSel{text: s.value(), proto: s.proto, js: s.valueJS()}, rel+lsFormatValue(s.dt, data, s.host), 0, false)
		return
	}
	if s.dt.dt != nil && s.dt.dt.Bitmask && (e.Op == 0 || e.Op == 1) && s.mask == nil && s.exprText == "" && len(s.dt.dt.Symbols) > 0 {
		// A whole-value compare on flags: a single flag prints by name
		// after the relation; several flags of a header field print as a
		// number, those of meta and ct keys as an OR of the flags, which
		// nft 1.0.6 prints without "==".
		rel := "== "
		if e.Op == 1 {
			rel = "!= "
		}
		v := lsToInt(data, s.host)
		if name, ok := s.dt.dt.SymbolName(v.Uint64()); ok && v.IsUint64() {
			c.match(s, rel+name, 0, false)
			return
		}
		if s.proto != nil {
			c.match(s, rel+fmt.Sprintf("0x%x", v), 0, false)
			return
		}
		if e.Op == 0 {
			rel = ""
		}
		c.match(s, rel+strings.ReplaceAll(lsFormatValue(s.dt, data, s.host), ",", " | "), 0, false)
		return
	}
	v := lsToInt(data, s.host)
	if s.hex {
		c.match(s, op+fmt.Sprintf("0x%x", v), v.Uint64(), e.Op == 0)
		return
	}
	c.match(s, op+lsFormatValue(s.dt, data, s.host), v.Uint64(), e.Op == 0)
}

// lsIntBytes encodes v as a big-endian value of the type's size.
func lsIntBytes(v *big.Int, d lsDtype) []byte {
	n := d.bytes()
	if n == 0 {
		n = 4
	}
	b := v.FillBytes(make([]byte, max(n, (v.BitLen()+7)/8)))
	return b
}

func lsPadTo(b []byte, n int) []byte {
	if len(b) >= n {
		return b
	}
	out := make([]byte, n)
	copy(out, b)
	return out
}

// match emits "selector value", recording and killing dependencies.
func (c *lsRuleCtx) match(s *lsSel, value string, v uint64, eq bool) {
	c.useDeps(s)
	st := c.emitMatch(s.text + " " + value)
	if !c.l.textOnly {
		st.js = jsonMatch(s, value)
	}
	if eq && s.depKind == lsDepL3 && s.proto != nil && s.proto.Name == "vlan" && (v == 0x8100 || v == 0x88a8) {
		c.vlanDepth++
	}
	if eq && s.depKind == lsDepL3 {
		st.depKind = lsDepL3
		if s.proto != nil {
			st.depProto = s.proto.Name
		}
		switch {
		case s.dt.id == lsTNFProto:
			switch v {
			case 2:
				c.l3 = 0x0800
			case 10:
				c.l3 = 0x86dd
			}
		default:
			c.l3 = v
		}
		c.l3dep = st
		if s.proto != nil && s.proto.Name == "ether" && (v == 0x8100 || v == 0x88a8) {
			c.llVlan, c.llVlanDep = true, st
		}
	}
	if eq && s.depKind == lsDepLL && v == 1 {
		c.lldep = st
	}
	if eq && s.proto != nil && s.field != nil && s.field.Name == "type" && (s.proto.Name == "icmp" || s.proto.Name == "icmpv6") {
		c.icmpType, c.icmpTypeStmt = v, st
	}
	if eq && s.setsL4 {
		c.l4 = v
		c.nhdep = st
		if c.fam == model.FamilyIP || c.fam == model.FamilyIP6 {
			// In ip and ip6 tables nft takes an explicit ip protocol (ip6
			// nexthdr) as the transport header's dependency.
			st.depKind = lsDepL4
			c.l4dep = st
		}
	}
	if eq && s.depKind == lsDepL4 {
		st.depKind = lsDepL4
		c.l4 = v
		c.l4dep = st
	}
}

// useDeps removes the dependency statement that the selector makes
// redundant (meta l4proto tcp before tcp dport, ...).
func (c *lsRuleCtx) useDeps(s *lsSel) {
	if s.proto == nil {
		return
	}
	switch s.proto.Layer {
	case compiler.LayerTransport:
		if c.l4dep != nil {
			c.l4dep.dead = true
			c.l4dep = nil
			// icmp and icmpv6 bring their network protocol along in inet.
			if (s.proto.Name == "icmp" && c.l3 == 0x0800 || s.proto.Name == "icmpv6" && c.l3 == 0x86dd) && c.l3dep != nil {
				c.l3dep.dead = true
				c.l3dep = nil
			}
		}
	case compiler.LayerNetwork:
		if c.l3dep != nil && (s.proto.Number == 0 || uint64(s.proto.Number) == c.l3) {
			c.l3dep.dead = true
			c.l3dep = nil
		}
	case compiler.LayerLink:
		if c.lldep != nil {
			c.lldep.dead = true
			c.lldep = nil
		}
		// vlan fields need "ether type 8021q", which nft adds itself;
		// the vlan type nft adds for the header above does not count.
		if s.proto.Name == "vlan" && s.field != nil && s.field.Name != "type" && c.l3dep != nil && c.l3 == 0x8100 && c.l3dep.depProto != "vlan" {
			c.l3dep.dead = true
			c.l3dep = nil
		} else if s.proto.Name == "vlan" && s.field != nil && s.field.Name != "type" && c.llVlanDep != nil && c.l3 != 0x8100 && c.l3 != 0x88a8 {
			// "vlan type ip" moved the network protocol on; the ether
			// type 8021q before it is still the vlan field's dependency.
			c.llVlanDep.dead = true
			c.llVlanDep = nil
		}
	}
}

// lookup prints a set membership test or a map/vmap lookup.
func (c *lsRuleCtx) lookup(e *model.Lookup) {
	set := c.l.sets[e.Set]
	if set == nil {
		c.unsupported("lookup")
		return
	}
	wasDead := make([]bool, len(c.out))
	for i, st := range c.out {
		wasDead[i] = st.dead
	}
	l3dep := c.l3dep
	keyText, key, ok := c.keyText(e.SReg, set)
	if !ok {
		c.unsupported("lookup")
		return
	}
	ref := c.setRef(set, key)
	inv := ""
	if e.Flags&1 != 0 {
		inv = "!= "
	}
	keyJS := c.keyJSON(e.SReg, set)
	refJS := c.setRefJSON(set, ref)
	if key.dt.id == lsTTime && set.Flags&lsSetAnonymous != 0 && set.Flags&lsSetMap == 0 {
		refJS = jsonTimeSet(ref)
	}
	if key.dt.id == lsTRealm && set.Flags&lsSetAnonymous != 0 && set.Flags&lsSetMap == 0 {
		refJS = jsonStringSet(refJS)
	}
	if keyText == key.value() {
		switch {
		case !e.HasDReg && key.setText != "":
			keyText, keyJS = key.setText, key.setJS
		case e.HasDReg && key.mapText != "":
			keyText, keyJS = key.mapText, key.mapJS
			// A raw load needs its network protocol match kept.
			for i, st := range c.out[:len(wasDead)] {
				st.dead = wasDead[i]
			}
			c.l3dep = l3dep
		}
	}
	if !e.HasDReg && e.Flags&1 == 0 && set.Flags&lsSetAnonymous != 0 && key.proto != nil && key.field != nil &&
		key.field.Name == "type" && key.proto.Name == "icmp" && set.KeyLen == 1 {
		// nft takes the smallest type of the set as the ICMP type in
		// force, which picks the field later loads of shared bytes print as.
		minType := -1
		for _, el := range set.Elements {
			if len(el.Key) == 1 && (minType < 0 || int(el.Key[0]) < minType) {
				minType = int(el.Key[0])
			}
		}
		if minType >= 0 {
			c.icmpType, c.icmpTypeStmt = uint64(minType), nil
		}
	}
	if !e.HasDReg {
		if k := c.regs[lsReg32(e.SReg)]; inv == "" && k != nil && k.exprText != "" && k.dt.dt != nil && k.dt.dt.Bitmask {
			inv = "== " // nft spells out the relation after a flag mask
		}
		st := c.emitMatch(keyText + " " + inv + ref)
		if keyJS != nil && refJS != nil {
			op := "=="
			if inv == "!= " {
				op = "!="
			}
			st.js = jsonObj{{"match", jsonObj{{"op", op}, {"left", keyJS}, {"right", refJS}}}}
		}
		return
	}
	if e.DReg == 0 {
		st := c.emit(keyText + " vmap " + ref)
		if keyJS != nil && refJS != nil {
			st.js = jsonObj{{"vmap", jsonObj{{"key", keyJS}, {"data", refJS}}}}
		}
		return
	}
	_, dt := lsSetTypes(set)
	var d lsDtype
	if len(dt.fields) > 0 {
		d = dt.fields[0].dt
	}
	m := &lsSel{text: keyText + " map " + ref, dt: d, size: int(set.DataLen), isMap: true, interval: dt.interval, concatData: len(dt.fields) > 1}
	for i, st := range c.out[:len(wasDead)] {
		if st.dead && !wasDead[i] {
			m.killedDeps = append(m.killedDeps, st)
		}
	}
	if keyJS != nil && refJS != nil {
		m.js = jsonObj{{"map", jsonObj{{"key", keyJS}, {"data", refJS}}}}
	}
	c.regs[lsReg32(e.DReg)] = m
}

// keyText prints the set key held in sreg and the registers after it (a
// concatenation when the set's key is longer than the first selector).
// Immediate values print with the set's field types.
func (c *lsRuleCtx) keyText(sreg uint32, set *model.Set) (string, *lsSel, bool) {
	key := c.regs[lsReg32(sreg)]
	if key == nil {
		return "", nil, false
	}
	kt, _ := lsSetTypes(set)
	text, ok := c.concatText(sreg, kt, int(set.KeyLen))
	return text, key, ok
}

// concatText prints the value held in sreg and, when total is longer than
// its first selector, the registers after it as a concatenation.
// Immediate values print with the field types of t.
func (c *lsRuleCtx) concatText(sreg uint32, t lsSetType, total int) (string, bool) {
	key := c.regs[lsReg32(sreg)]
	if key == nil {
		return "", false
	}
	fieldText := func(s *lsSel, i int) string {
		if s.raw && s.text == "" && i < len(t.fields) {
			f := t.fields[i]
			b := s.mask
			if f.size > 0 && f.size < len(b) {
				b = b[:f.size]
			}
			return lsFormatKey(f, b)
		}
		return s.value()
	}
	c.useDeps(key)
	parts := []string{fieldText(key, 0)}
	if total > 0 && key.size > 0 && total > lsRoundUp4(key.size) && len(t.fields) > 1 {
		r := lsReg32(sreg) + uint32(lsRoundUp4(key.size)/4)
		n := lsRoundUp4(key.size)
		for n < total && len(parts) < len(t.fields) {
			s := c.regs[r]
			if s == nil || s.size == 0 {
				return "", false
			}
			c.useDeps(s)
			parts = append(parts, fieldText(s, len(parts)))
			n += lsRoundUp4(s.size)
			r += uint32(lsRoundUp4(s.size) / 4)
		}
	}
	return strings.Join(parts, " . "), true
}

// hashSource prints the n bytes a jhash reads from sreg on: one selector
// or a concatenation of the registers that follow ("ip saddr . tcp sport").
func (c *lsRuleCtx) hashSource(sreg uint32, n int) (string, any, bool) {
	r := lsReg32(sreg)
	var texts []string
	var js []any
	for got := 0; got < n || len(texts) == 0; {
		s := c.regs[r]
		if s == nil || s.raw && s.text == "" {
			return "", nil, false
		}
		c.useDeps(s)
		texts = append(texts, s.value())
		js = append(js, s.valueJS())
		if s.size == 0 {
			break
		}
		got += lsRoundUp4(s.size)
		r += uint32(lsRoundUp4(s.size) / 4)
	}
	if len(texts) == 1 {
		return texts[0], js[0], true
	}
	for _, j := range js {
		if j == nil {
			return strings.Join(texts, " . "), nil, true
		}
	}
	return strings.Join(texts, " . "), jsonObj{{"concat", js}}, true
}

// setRef prints "@name", or the elements of an anonymous set.
func (c *lsRuleCtx) setRef(set *model.Set, key *lsSel) string {
	if set.Flags&lsSetAnonymous == 0 {
		return "@" + set.Name
	}
	kt, dt := lsSetTypes(set)
	// An anonymous set's elements take the type of what is looked up.
	if len(kt.fields) == 1 && key.dt.id != 0 && (kt.fields[0].dt.id == lsTInteger || key.field != nil && key.dt.dt != nil) {
		kt.fields[0].dt = key.dt
	}
	if len(kt.fields) == 1 {
		kt.fields[0].shift = key.shift
		if key.proto != nil || key.hex {
			kt.fields[0].host = key.host
		}
		kt.fields[0].hex = key.hex
	}
	kt = c.l.withIfNames(kt)
	dt = c.l.withIfNames(dt)
	return "{ " + strings.Join(c.l.setElements(set, kt, dt, true), ", ") + " }"
}

// dynset prints "add @s { key timeout T stmts : data }".
func (c *lsRuleCtx) dynset(e *model.Dynset) {
	set := c.l.sets[e.Set]
	if set == nil {
		c.unsupported("dynset")
		return
	}
	keyText, _, ok := c.keyText(e.SRegKey, set)
	if !ok {
		c.unsupported("dynset")
		return
	}
	op := map[uint32]string{0: "add", 1: "update", 2: "delete"}[e.Op]
	if op == "" {
		c.unsupported("dynset")
		return
	}
	var keyJS any // nil: from the key's selectors
	if k := c.regs[lsReg32(e.SRegKey)]; k != nil && k.raw && k.text == "" &&
		(set.KeyLen == 0 || int(set.KeyLen) <= lsRoundUp4(len(k.mask))) {
		// nft 1.0.6 gives a constant (not concatenated) key of a set
		// update no type and prints it as "0xa020304 [invalid type]".
		keyText = "0x" + new(big.Int).SetBytes(k.mask).Text(16) + " [invalid type]"
		keyJS = keyText
	}
	text := op + " @" + set.Name + " { " + keyText
	if e.Timeout != 0 {
		text += " timeout " + lsFormatDuration(lsMsDuration(e.Timeout))
	}
	for _, x := range e.Exprs {
		if _, ok := x.(*model.Counter); ok {
			text += " counter"
			continue
		}
		text += " " + c.l.stmtText(x)
	}
	if e.SRegData != 0 {
		_, dt := lsSetTypes(set)
		d, ok := c.concatText(e.SRegData, dt, int(set.DataLen))
		if !ok {
			c.unsupported("dynset")
			return
		}
		text += " : " + d
	}
	st := c.emit(text + " }")
	st.js = c.dynsetJSON(e, set, keyJS)
	if e.SRegData != 0 {
		// A map update: nft 1.0.6 has no JSON form for it and prints
		// its text as a string.
		st.js = st.text
	}
}

// dynsetJSON is the JSON of an add/update/delete set statement; key, when
// not nil, is the JSON of its key.
func (c *lsRuleCtx) dynsetJSON(e *model.Dynset, set *model.Set, key any) any {
	if key == nil {
		key = c.keyJSON(e.SRegKey, set)
	}
	if key == nil || e.SRegData != 0 {
		return nil
	}
	var stmts []any
	for _, x := range e.Exprs {
		js := jsonStmt(x)
		if _, ok := x.(*model.Counter); ok {
			js = jsonObj{{"counter", nil}}
		}
		if js == nil {
			return nil
		}
		stmts = append(stmts, js)
	}
	elem := key
	if e.Timeout != 0 {
		elem = jsonObj{{"elem", jsonObj{{"val", key}, {"timeout", e.Timeout / 1000}}}}
	}
	o := jsonObj{{"op", map[uint32]string{0: "add", 1: "update", 2: "delete"}[e.Op]}, {"elem", elem}, {"set", "@" + set.Name}}
	if len(stmts) > 0 {
		o = append(o, jsonKV{"stmt", stmts})
	}
	return jsonObj{{"set", o}}
}

// objref prints a named object reference, directly or through a map.
func (c *lsRuleCtx) objref(e *model.Objref) {
	var target string
	if e.Set != "" {
		set := c.l.sets[e.Set]
		if set == nil {
			c.unsupported("objref")
			return
		}
		keyText, key, ok := c.keyText(e.SReg, set)
		if !ok {
			c.unsupported("objref")
			return
		}
		target = keyText + " map " + c.setRef(set, key)
	} else {
		target = lsQuote(e.Name)
	}
	typ := e.Type
	if typ == 0 && e.Set != "" {
		typ = c.l.sets[e.Set].ObjType
	}
	var st *lsStmt
	switch typ {
	case 3:
		st = c.emit("ct helper set " + target)
	case 7:
		st = c.emit("ct timeout set " + target)
	case 9:
		st = c.emit("ct expectation set " + target)
	case 8:
		st = c.emit("meta secmark set " + target)
	default:
		st = c.emit(lsObjTypeName(typ) + " name " + target)
	}
	if e.Set == "" {
		st.js = jsonObj{{lsObjTypeName(typ), e.Name}}
	} else if set := c.l.sets[e.Set]; set != nil {
		key := c.keyJSON(e.SReg, set)
		ref := c.setRefJSON(set, c.setRef(set, c.regs[lsReg32(e.SReg)]))
		if key != nil && ref != nil {
			st.js = jsonObj{{lsObjTypeName(typ), jsonObj{{"map", jsonObj{{"key", key}, {"data", ref}}}}}}
		}
	}
}

func lsRoundUp4(n int) int { return (n + 3) &^ 3 }

// field of a set key or data type.
type lsSetField struct {
	dt    lsDtype
	size  int // bytes in the element data
	host  bool
	shift uint // sub-byte header fields: value = key >> shift
	hex   bool // raw payload fields print in hex
	// ifnames resolves iface_index values to names.
	ifnames map[uint32]string
}

// lsSetType is a set's key or data type.
type lsSetType struct {
	interval bool   // map data are intervals (nat maps)
	decl     string // "type ipv4_addr . inet_service"
	fields   []lsSetField
}

// lsSetTypes returns the key and data types of a set from its type ids.
func lsSetTypes(s *model.Set) (lsSetType, lsSetType) {
	key := lsTypeFromID(s.KeyType, s.FieldLens, int(s.KeyLen))
	var data lsSetType
	if s.Flags&lsSetMap != 0 {
		if s.DataType == compiler.TypeVerdictData {
			data = lsSetType{decl: "verdict", fields: []lsSetField{{dt: lsDtypeByID(lsTVerdict)}}}
		} else {
			data = lsTypeFromID(s.DataType, nil, int(s.DataLen))
		}
	}
	key.decl = "type " + key.decl
	if s.Flags&lsSetMap != 0 && len(data.fields) > 0 {
		v, ok := lsUserdataTLV(s.Userdata, 6)
		one := data.fields[0]
		if ok && len(v) >= 1 && v[0] != 0 || len(data.fields) == 1 && one.dt.bytes() > 0 && int(s.DataLen) == 2*one.dt.bytes() {
			data.interval = true
			data.decl = "interval " + data.decl
			if len(data.fields) == 1 {
				data.fields[0].size = one.dt.bytes()
			}
		}
	}
	lsApplyTypeof(&key, s.Userdata, lsUdKeyTypeof)
	if strings.HasPrefix(key.decl, "typeof ") && s.Flags&lsSetMap != 0 && s.DataType != compiler.TypeVerdictData {
		lsApplyTypeof(&data, s.Userdata, lsUdDataTypeof)
		data.decl = strings.TrimPrefix(data.decl, "typeof ")
	}
	return key, data
}

func lsTypeFromID(id uint32, lens []uint32, total int) lsSetType {
	var ids []uint32
	if id < 64 {
		ids = []uint32{id}
	} else {
		for v := id; v != 0; v >>= 6 {
			ids = append([]uint32{v & 0x3f}, ids...)
		}
	}
	var t lsSetType
	var names []string
	for i, x := range ids {
		d := lsDtypeByID(x)
		n := d.bytes()
		if i < len(lens) {
			n = int(lens[i])
		} else if len(ids) == 1 && total > 0 {
			n = total
		}
		names = append(names, d.name)
		t.fields = append(t.fields, lsSetField{dt: d, size: n, host: d.hostOrder()})
	}
	t.decl = strings.Join(names, " . ")
	return t
}

// elemOut is one printed element with what nft sorts it by.
type elemOut struct {
	text     string
	sortKey  []*big.Int
	catchall bool
}

// setElements prints a set's elements in nft's order, intervals folded
// back into ranges and prefixes. nft builds its element list from the dump
// last-first, then sorts it (stably) by value; catch-all elements go last.
func (l *Lister) setElements(s *model.Set, kt, dt lsSetType, anon bool) []string {
	if s.Flags&lsSetInterval != 0 {
		// nft stores interval keys in network byte order.
		fields := make([]lsSetField, len(kt.fields))
		copy(fields, kt.fields)
		for i := range fields {
			fields[i].host = false
		}
		kt.fields = fields
	}
	var outs []elemOut
	// Concatenated ranges keep the kernel's order.
	pipapo := s.Flags&lsSetInterval != 0 && len(kt.fields) > 1
	if s.Flags&lsSetInterval != 0 && s.Flags&lsSetConcat == 0 && len(kt.fields) == 1 {
		outs = l.intervalElements(s, kt, dt)
	} else {
		for k := range s.Elements {
			i := len(s.Elements) - 1 - k
			if pipapo {
				i = k
			}
			e := s.Elements[i]
			if e.Flags&2 != 0 { // NFT_SET_ELEM_CATCHALL
				outs = append(outs, elemOut{text: l.elemText("*", e, dt), catchall: true})
				continue
			}
			if e.Flags&1 != 0 && len(e.KeyEnd) == 0 {
				continue
			}
			var parts []string
			var keys []*big.Int
			off := 0
			for _, f := range kt.fields {
				n := f.size
				if len(kt.fields) > 1 {
					n = lsRoundUp4(f.size)
				}
				if n == 0 || off+n > len(e.Key) {
					n = len(e.Key) - off
				}
				lo := e.Key[off : off+n]
				if f.size < n && len(kt.fields) > 1 {
					lo = lo[:f.size]
				}
				k := lsToInt(lo, f.host)
				if f.dt.dt != nil && f.dt.dt.Bitmask && len(f.dt.dt.Symbols) > 0 && k.Sign() > 0 {
					// nft sorts "a | b" by its leftmost flag, the lowest bit.
					k = new(big.Int).Lsh(big.NewInt(1), k.TrailingZeroBits())
				}
				keys = append(keys, k)
				if len(e.KeyEnd) >= off+n {
					hi := e.KeyEnd[off : off+n]
					if f.size < n && len(kt.fields) > 1 {
						hi = hi[:f.size]
					}
					parts = append(parts, lsRangeText(f, lo, hi))
				} else {
					parts = append(parts, lsFormatKey(f, lo))
				}
				off += n
			}
			if len(kt.fields) > 1 {
				// nft compares concatenations as one host-order number.
				keys = []*big.Int{lsToInt(e.Key, true)}
			}
			outs = append(outs, elemOut{text: l.elemText(strings.Join(parts, " . "), e, dt), sortKey: keys})
		}
	}
	sortable := !pipapo
	sort.SliceStable(outs, func(i, j int) bool {
		a, b := outs[i], outs[j]
		if a.catchall != b.catchall {
			return b.catchall
		}
		if !sortable {
			return false
		}
		for k := 0; k < len(a.sortKey) && k < len(b.sortKey); k++ {
			if c := a.sortKey[k].Cmp(b.sortKey[k]); c != 0 {
				return c < 0
			}
		}
		return false
	})
	out := make([]string, len(outs))
	for i, o := range outs {
		out[i] = o.text
	}
	return out
}

// intervalElements folds the start and end elements of a one-field
// interval set into ranges.
func (l *Lister) intervalElements(s *model.Set, kt, dt lsSetType) []elemOut {
	var sorted []model.SetElem
	var outs []elemOut
	for _, e := range s.Elements {
		if e.Flags&2 != 0 {
			outs = append(outs, elemOut{text: l.elemText("*", e, dt), catchall: true})
			continue
		}
		sorted = append(sorted, e)
	}
	sort.SliceStable(sorted, func(i, j int) bool {
		c := bytes.Compare(sorted[i].Key, sorted[j].Key)
		if c != 0 {
			return c < 0
		}
		return sorted[i].Flags&1 != 0 && sorted[j].Flags&1 == 0
	})
	f := kt.fields[0]
	for i := 0; i < len(sorted); i++ {
		e := sorted[i]
		if e.Flags&1 != 0 { // interval end without a start
			continue
		}
		lo := e.Key
		var hi []byte
		if i+1 < len(sorted) && sorted[i+1].Flags&1 != 0 {
			hi = lsDecrement(sorted[i+1].Key)
			i++
		} else if i+1 < len(sorted) {
			// Adjacent intervals share a boundary: the next start ends
			// this one.
			hi = lsDecrement(sorted[i+1].Key)
		} else {
			hi = bytes.Repeat([]byte{0xff}, len(lo))
		}
		outs = append(outs, elemOut{text: l.elemText(lsRangeText(f, lo, hi), e, dt), sortKey: []*big.Int{lsToInt(lo, false)}})
	}
	return outs
}

func lsFormatKey(f lsSetField, b []byte) string {
	if f.dt.id == lsTIfname || f.dt.id == lsTString {
		return lsQuote(lsCString(b))
	}
	if f.dt.id == lsTIfindex && len(b) == 4 {
		if name, ok := f.ifnames[binary.NativeEndian.Uint32(b)]; ok {
			return lsQuote(name)
		}
	}
	if f.hex {
		return fmt.Sprintf("0x%x", lsToInt(b, f.host))
	}
	if f.shift > 0 {
		v := lsToInt(b, f.host)
		v.Rsh(v, f.shift)
		return lsFormatValue(f.dt, lsIntBytes(v, f.dt), false)
	}
	if f.dt.dt != nil && f.dt.dt.Bitmask {
		return strings.ReplaceAll(lsFormatValue(f.dt, b, f.host), ",", " | ")
	}
	return lsFormatValue(f.dt, b, f.host)
}

// lsRangeText prints [lo, hi] as a value, a prefix or a range.
func lsRangeText(f lsSetField, lo, hi []byte) string {
	if bytes.Equal(lo, hi) {
		return lsFormatKey(f, lo)
	}
	if f.dt.id == lsTIfname || f.dt.id == lsTString {
		p := lsCString(lo)
		if len(hi) > len(p) && string(hi[:len(p)]) == p && allFF(hi[len(p):]) {
			return lsQuote(p + "*")
		}
	}
	if f.dt.id == lsTTime {
		return lsRangeValue(f.dt, lo, f.host) + "-" + lsRangeValue(f.dt, hi, f.host)
	}
	// nft prints range bounds numerically.
	if f.dt.dt != nil && len(f.dt.dt.Symbols) > 0 && !f.dt.dt.Bitmask && f.dt.id != lsTTimeDay {
		num := f
		num.dt = lsDtype{id: lsTInteger, name: "integer", dt: compiler.DatatypeByID(lsTInteger)}
		return lsFormatKey(num, lo) + "-" + lsFormatKey(num, hi)
	}
	if (f.dt.id == lsTIPAddr || f.dt.id == lsTIP6Addr) && !f.host {
		if pl := lsRangeAsPrefix(lo, hi); pl >= 0 {
			return lsFormatKey(f, lo) + fmt.Sprintf("/%d", pl)
		}
	}
	return lsFormatKey(f, lo) + "-" + lsFormatKey(f, hi)
}

func lsDecrement(b []byte) []byte {
	out := append([]byte(nil), b...)
	for i := len(out) - 1; i >= 0; i-- {
		if out[i] > 0 {
			out[i]--
			break
		}
		out[i] = 0xff
	}
	return out
}

// elemText adds an element's timeout, comment, statements and data.
func (l *Lister) elemText(key string, e model.SetElem, dt lsSetType) string {
	var sb strings.Builder
	sb.WriteString(key)
	if e.Timeout != 0 {
		sb.WriteString(" timeout " + lsFormatDuration(e.Timeout))
	}
	if e.Expiration != 0 {
		sb.WriteString(" expires " + lsFormatDuration(e.Expiration))
	}
	if c := lsUdString(e.Userdata, 0); c != "" {
		sb.WriteString(" comment " + lsQuote(c))
	}
	for _, x := range e.Exprs {
		sb.WriteString(" " + l.stmtText(x))
	}
	if e.Verdict != nil {
		sb.WriteString(" : " + lsVerdictName(e.Verdict.Code, e.Verdict.Chain))
	} else if e.ObjRef != "" {
		sb.WriteString(" : " + lsQuote(e.ObjRef))
	} else if e.Data != nil && len(dt.fields) > 0 {
		if dt.interval && len(e.Data)%2 == 0 {
			// The minimum of every field, then the maximum of every field.
			half := len(e.Data) / 2
			var parts []string
			off := 0
			for _, f := range dt.fields {
				n := f.size
				if len(dt.fields) > 1 {
					n = lsRoundUp4(f.size)
				}
				if n == 0 || off+n > half {
					break
				}
				f.host = false
				lo, hi := e.Data[off:off+f.size], e.Data[half+off:half+off+f.size]
				if len(dt.fields) == 1 && bytes.Equal(lo, hi) && (f.dt.id == lsTIPAddr || f.dt.id == lsTIP6Addr) {
					// A lone address range of one address prints as a
					// full-length prefix.
					parts = append(parts, fmt.Sprintf("%s/%d", lsFormatKey(f, lo), 8*len(lo)))
					break
				}
				parts = append(parts, lsRangeText(f, lo, hi))
				off += n
			}
			sb.WriteString(" : " + strings.Join(parts, " . "))
		} else if len(dt.fields) == 1 {
			sb.WriteString(" : " + lsFormatKey(dt.fields[0], e.Data))
		} else {
			var parts []string
			off := 0
			for _, f := range dt.fields {
				n := lsRoundUp4(f.size)
				if off+n > len(e.Data) {
					break
				}
				parts = append(parts, lsFormatKey(f, e.Data[off:off+f.size]))
				off += n
			}
			sb.WriteString(" : " + strings.Join(parts, " . "))
		}
	}
	return sb.String()
}

// stmtText prints a self-contained statement expression (one that does
// not read registers), or an unsupported marker.
func (l *Lister) stmtText(e model.Expr) string {
	switch e := e.(type) {
	case *model.Counter:
		return fmt.Sprintf("counter packets %d bytes %d", e.Packets, e.Bytes)
	case *model.Limit:
		return "limit " + lsLimitText(e, false)
	case *model.Quota:
		s := "quota "
		if e.Flags&1 != 0 {
			s += "over "
		}
		s += lsBytesUnit(e.Bytes)
		if e.Consumed != 0 {
			s += " used " + lsBytesUnit(e.Consumed)
		}
		return s
	case *model.Log:
		return lsLogText(e)
	case *model.Notrack:
		return "notrack"
	case *model.FlowOffload:
		return "flow add @" + e.Flowtable
	case *model.Masq:
		if e.RegProtoMin == 0 && e.Flags == 0 {
			return "masquerade"
		}
	case *model.Redir:
		if e.RegProtoMin == 0 && e.Flags == 0 {
			return "redirect"
		}
	case *model.Reject:
		return lsRejectText(e, l.family)
	case *model.Objref:
		if e.Set == "" {
			return lsObjTypeName(e.Type) + " name " + lsQuote(e.Name)
		}
	case *model.Connlimit:
		s := "ct count "
		if e.Flags&1 != 0 {
			s += "over "
		}
		return s + fmt.Sprint(e.Count)
	case *model.Last:
		if !e.Set {
			return "last"
		}
		return "last used " + lsFormatDuration(lsMsDuration(e.Msecs))
	case *model.Synproxy:
		if e.MSS != 0 || e.Wscale != 0 || e.Flags&0x3 != 0 {
			// nft 1.0.6 prints both values as soon as one is set.
			text := fmt.Sprintf("synproxy mss %d wscale %d", e.MSS, e.Wscale)
			if e.Flags&0x8 != 0 {
				text += " timestamp"
			}
			if e.Flags&0x4 != 0 {
				text += " sack-perm"
			}
			return text
		}
		return strings.Join(strings.Fields("synproxy "+lsSynproxyText(e)), " ")
	}
	l.bad = append(l.bad, e.Kind())
	return "<unsupported: " + e.Kind() + ">"
}

func lsLimitText(e *model.Limit, obj bool) string {
	s := "rate "
	if e.Flags&1 != 0 {
		s += "over "
	}
	unit := map[uint64]string{1: "second", 60: "minute", 3600: "hour", 86400: "day", 604800: "week"}[e.Unit]
	if unit == "" {
		unit = fmt.Sprintf("%dseconds", e.Unit)
	}
	if e.Type == 1 { // NFT_LIMIT_PKT_BYTES
		s += lsBytesUnit(e.Rate) + "/" + unit
		if e.Burst != 0 {
			s += " burst " + lsBytesUnit(uint64(e.Burst))
		}
		return s
	}
	s += fmt.Sprintf("%d/%s", e.Rate, unit)
	if e.Burst != 0 && e.Burst != 5 {
		s += fmt.Sprintf(" burst %d packets", e.Burst)
	}
	return s
}

func lsLogText(e *model.Log) string {
	s := "log"
	if e.HasPrefix {
		s += " prefix " + lsQuote(e.Prefix)
	}
	if e.HasGroup {
		s += fmt.Sprintf(" group %d", e.Group)
	}
	if e.Snaplen != 0 {
		s += fmt.Sprintf(" snaplen %d", e.Snaplen)
	}
	if e.QThreshold != 0 {
		s += fmt.Sprintf(" queue-threshold %d", e.QThreshold)
	}
	if e.HasLevel && e.Level != 4 {
		levels := []string{"emerg", "alert", "crit", "err", "warn", "notice", "info", "debug", "audit"}
		if int(e.Level) < len(levels) {
			s += " level " + levels[e.Level]
		}
	}
	if e.Flags != 0 {
		if e.Flags&0x2f == 0x2f { // NF_LOG_MASK
			s += " flags all"
		} else {
			var fl []string
			names := []struct {
				bit  uint32
				name string
			}{{1, "tcp sequence"}, {2, "tcp options"}, {4, "ip options"}, {8, "skuid"}, {32, "ether"}}
			var tcp []string
			for _, n := range names {
				if e.Flags&n.bit != 0 {
					if strings.HasPrefix(n.name, "tcp ") {
						tcp = append(tcp, strings.TrimPrefix(n.name, "tcp "))
						continue
					}
					fl = append(fl, "flags "+n.name)
				}
			}
			if len(tcp) > 0 {
				fl = append([]string{"flags tcp " + strings.Join(tcp, ",")}, fl...)
			}
			s += " " + strings.Join(fl, " ")
		}
	}
	return s
}

func lsRejectText(e *model.Reject, fam model.Family) string {
	if e.Type == 0 && fam == model.FamilyIP6 {
		if e.Code == 4 {
			return "reject"
		}
		d := compiler.DatatypeByID(compiler.TypeICMPv6Code)
		if n, ok := d.SymbolName(uint64(e.Code)); ok {
			return "reject with icmpv6 " + n
		}
		return fmt.Sprintf("reject with icmpv6 %d", e.Code)
	}
	switch e.Type {
	case 1: // NFT_REJECT_TCP_RST
		return "reject with tcp reset"
	case 0: // NFT_REJECT_ICMP_UNREACH
		if e.Code == 3 {
			return "reject"
		}
		d := compiler.DatatypeByID(compiler.TypeICMPCode)
		if n, ok := d.SymbolName(uint64(e.Code)); ok {
			return "reject with icmp " + n
		}
		return fmt.Sprintf("reject with icmp %d", e.Code)
	case 2: // NFT_REJECT_ICMPX_UNREACH
		if e.Code == 1 {
			return "reject"
		}
		d := compiler.DatatypeByID(compiler.TypeICMPXCode)
		if n, ok := d.SymbolName(uint64(e.Code)); ok {
			return "reject with icmpx " + n
		}
		return fmt.Sprintf("reject with icmpx %d", e.Code)
	}
	return fmt.Sprintf("reject type %d", e.Type)
}

func lsSynproxyText(e *model.Synproxy) string {
	var parts []string
	if e.MSS != 0 {
		parts = append(parts, fmt.Sprintf("mss %d", e.MSS))
	}
	if e.Wscale != 0 {
		parts = append(parts, fmt.Sprintf("wscale %d", e.Wscale))
	}
	s := strings.Join(parts, " ")
	if e.Flags&0x8 != 0 {
		s += " timestamp"
	}
	if e.Flags&0x4 != 0 {
		s += " sack-perm"
	}
	return s
}

func lsMsDuration(ms uint64) time.Duration { return time.Duration(ms) * time.Millisecond }

// lsHostU32 reads a host-order 32-bit value.
func lsHostU32(b []byte) uint32 {
	if len(b) < 4 {
		b = lsPadTo(b, 4)
	}
	return binary.NativeEndian.Uint32(b)
}

// regValue prints the value a register holds as type dt.
func (c *lsRuleCtx) regValue(r uint32, dt lsDtype) (string, bool) {
	s := c.regs[lsReg32(r)]
	if s == nil {
		return "", false
	}
	return c.valueOf(s, dt), true
}

// queue prints a queue statement as nft 1.0.6 lists it: "queue", its
// flags, and "to" with the queue number, the range num-(num+total-1)
// (16-bit arithmetic, as nft's), or the expression that picks the queue
// (numgen, hash, map) from a register.
func (c *lsRuleCtx) queue(e *model.Queue) {
	text := "queue"
	var flags []string
	if e.Flags&0x1 != 0 { // NFT_QUEUE_FLAG_BYPASS
		flags = append(flags, "bypass")
	}
	if e.Flags&0x2 != 0 { // NFT_QUEUE_FLAG_CPU_FANOUT
		flags = append(flags, "fanout")
	}
	if len(flags) > 0 {
		text += " flags " + strings.Join(flags, ",")
	}
	var to string
	var toJS any
	switch {
	case e.SRegQnum != 0:
		m := c.regs[lsReg32(e.SRegQnum)]
		if m == nil {
			c.unsupported("queue")
			return
		}
		c.useDeps(m)
		to, toJS = m.text, m.js
	case e.Total > 1:
		hi := e.Num + e.Total - 1
		to, toJS = fmt.Sprintf("%d-%d", e.Num, hi), jsonObj{{"range", []any{e.Num, hi}}}
	default:
		to, toJS = strconv.Itoa(int(e.Num)), e.Num
	}
	o := jsonObj{{"num", toJS}}
	switch len(flags) {
	case 1:
		o = append(o, jsonKV{"flags", flags[0]})
	case 2:
		o = append(o, jsonKV{"flags", []any{flags[0], flags[1]}})
	}
	c.emit(text + " to " + to).js = jsonObj{{"queue", o}}
}

func lsNatFlags(f uint32) string {
	var fl []string
	if f&0x4 != 0 {
		fl = append(fl, "random")
	}
	if f&0x10 != 0 {
		fl = append(fl, "fully-random")
	}
	if f&0x8 != 0 {
		fl = append(fl, "persistent")
	}
	if len(fl) == 0 {
		return ""
	}
	return " " + strings.Join(fl, ",")
}

func (c *lsRuleCtx) nat(e *model.NAT) {
	text := "snat"
	if e.Type == 1 {
		text = "dnat"
	}
	adt := lsDtypeByID(lsTIPAddr)
	if e.Family == 10 {
		adt = lsDtypeByID(lsTIP6Addr)
	}
	if c.fam == model.FamilyInet && e.RegAddrMin != 0 {
		if e.Family == 10 {
			text += " ip6"
		} else {
			text += " ip"
		}
	}
	// A map lookup yields the whole target (address range, address and
	// port): print the map once, with the family as nft does.
	if m := c.regs[lsReg32(e.RegAddrMin)]; e.RegAddrMin != 0 && m != nil && m.isMap {
		if c.fam != model.FamilyInet && (m.interval || m.concatData || e.Flags&0x40 != 0) {
			if e.Family == 10 {
				text += " ip6"
			} else {
				text += " ip"
			}
		}
		if e.Flags&0x40 != 0 { // NF_NAT_RANGE_NETMAP
			text += " prefix"
		}
		c.useDeps(m)
		st := c.emit(text + " to " + m.text + lsNatFlags(e.Flags&^0x43))
		if m.js != nil && e.Flags&^0x43 == 0 {
			o := jsonObj{}
			if f := strings.Fields(text); len(f) > 1 {
				o = append(o, jsonKV{"family", f[1]})
			}
			o = append(o, jsonKV{"addr", m.js})
			if e.Flags&0x40 != 0 {
				o = append(o, jsonKV{"flags", "netmap"}, jsonKV{"type_flags", "prefix"})
			}
			st.js = jsonObj{{strings.Fields(text)[0], o}}
		}
		return
	}
	addr := ""
	if e.RegAddrMin != 0 {
		a, ok := c.regValue(e.RegAddrMin, adt)
		if !ok {
			c.unsupported("nat")
			return
		}
		addr = a
		if e.Family == 10 && e.RegProtoMin != 0 {
			addr = "[" + a + "]"
		}
		if e.RegAddrMax != 0 && e.RegAddrMax != e.RegAddrMin {
			b, _ := c.regValue(e.RegAddrMax, adt)
			lo, hi := c.regs[lsReg32(e.RegAddrMin)], c.regs[lsReg32(e.RegAddrMax)]
			if pl := -1; lo != nil && hi != nil && lo.raw && hi.raw {
				pl = lsRangeAsPrefix(lo.mask, hi.mask)
				if pl >= 0 {
					// An address range that is a whole prefix prints as one.
					addr = a + fmt.Sprintf("/%d", pl)
					b = ""
				}
			}
			if b != "" {
				if e.Family == 10 && e.RegProtoMin != 0 {
					addr += "-[" + b + "]"
				} else {
					addr += "-" + b
				}
			}
		}
	}
	port := ""
	if e.RegProtoMin != 0 {
		if ps := c.regs[lsReg32(e.RegProtoMin)]; ps != nil && ps.isMap {
			// nft 1.0.6 keeps the protocol match before a port that
			// comes from a map ("meta l4proto tcp dnat ip to a:tcp dport map {...}").
			for _, st := range ps.killedDeps {
				st.dead = false
			}
		}
		p, ok := c.regValue(e.RegProtoMin, lsDtypeByID(lsTInetService))
		if !ok {
			c.unsupported("nat")
			return
		}
		port = ":" + p
		if e.RegProtoMax != 0 && e.RegProtoMax != e.RegProtoMin {
			q, _ := c.regValue(e.RegProtoMax, lsDtypeByID(lsTInetService))
			port += "-" + q
		}
	}
	if addr != "" || port != "" {
		text += " to " + addr + port
	}
	st := c.emit(text + lsNatFlags(e.Flags&^0x3))
	o := jsonObj{}
	if f := strings.Fields(text); len(f) > 1 && (f[1] == "ip" || f[1] == "ip6") {
		o = append(o, jsonKV{"family", f[1]})
	}
	if addr != "" {
		var a any = jsonAtom(strings.Trim(strings.Replace(addr, "]-[", "-", 1), "[]"))
		if as := c.regs[lsReg32(e.RegAddrMin)]; as != nil && (!as.raw || as.text != "") {
			// numgen, hash and the like: the expression itself
			if a = as.valueJS(); a == nil {
				return
			}
		}
		o = append(o, jsonKV{"addr", a})
	}
	if port != "" {
		var p any = jsonAtom(strings.TrimPrefix(port, ":"))
		if ps := c.regs[lsReg32(e.RegProtoMin)]; ps != nil && (!ps.raw || ps.text != "") {
			if p = ps.valueJS(); p == nil {
				return
			}
		}
		o = append(o, jsonKV{"port", p})
	}
	if fl := strings.TrimSpace(lsNatFlags(e.Flags &^ 0x3)); fl != "" {
		o = append(o, jsonKV{"flags", jsonFlags(fl)})
	}
	st.js = jsonObj{{strings.Fields(text)[0], o}}
}

func (c *lsRuleCtx) natPorts(kind string, min, max, flags uint32) {
	text := kind
	if min != 0 {
		p, ok := c.regValue(min, lsDtypeByID(lsTInetService))
		if !ok {
			c.unsupported(kind)
			return
		}
		text += " to :" + p
		if max != 0 && max != min {
			q, _ := c.regValue(max, lsDtypeByID(lsTInetService))
			text += "-" + q
		}
	}
	st := c.emit(text + lsNatFlags(flags&^0x3))
	o := jsonObj{}
	if min != 0 {
		p, _ := c.regValue(min, lsDtypeByID(lsTInetService))
		if max != 0 && max != min {
			q, _ := c.regValue(max, lsDtypeByID(lsTInetService))
			o = append(o, jsonKV{"port", jsonObj{{"range", []any{jsonScalar(p), jsonScalar(q)}}}})
		} else {
			o = append(o, jsonKV{"port", jsonScalar(p)})
		}
	}
	if fl := strings.TrimSpace(lsNatFlags(flags &^ 0x3)); fl != "" {
		o = append(o, jsonKV{"flags", jsonFlags(fl)})
	}
	if len(o) == 0 {
		st.js = jsonObj{{kind, nil}}
	} else {
		st.js = jsonObj{{kind, o}}
	}
}

// maskBits returns the position of the first set bit of a big-endian mask
// and the number of contiguous set bits from there (0 when not contiguous).
func maskBits(m []byte) (first, count int) {
	first = -1
	for i := 0; i < len(m)*8; i++ {
		if lsBitAt(m, i) == 1 {
			if first < 0 {
				first = i
			} else if i != first+count {
				return first, 0
			}
			count++
		}
	}
	return first, count
}

func allFF(b []byte) bool {
	for _, c := range b {
		if c != 0xff {
			return false
		}
	}
	return len(b) > 0
}

// withIfNames lets iface_index fields print interface names.
func (l *Lister) withIfNames(t lsSetType) lsSetType {
	fields := make([]lsSetField, len(t.fields))
	copy(fields, t.fields)
	for i := range fields {
		fields[i].ifnames = l.opts.IfNames
	}
	t.fields = fields
	return t
}

// bindingText prints "jump {" with the rules of an anonymous (binding)
// chain, one level deeper than the rule that jumps to it.
func (l *Lister) bindingText(code int32, rules []*model.Rule) string {
	verb := "jump"
	if code == -4 {
		verb = "goto"
	}
	l.depth++
	inner := strings.Repeat("\t", l.depth+2)
	var sb strings.Builder
	sb.WriteString(verb + " {\n")
	for _, r := range rules {
		// nft 1.0.6 prints no handles for the binding's rules, even with -a.
		sb.WriteString(inner + l.RuleText(r) + "\n")
	}
	l.depth--
	sb.WriteString(strings.Repeat("\t", l.depth+2) + "}")
	return sb.String()
}

// lsFibSel maps a fib expression to "fib daddr . iif type".
func lsFibSel(e *model.Fib) *lsSel {
	var parts []string
	for _, f := range []struct {
		bit  uint32
		name string
	}{{1, "saddr"}, {2, "daddr"}, {4, "mark"}, {8, "iif"}, {16, "oif"}} {
		if e.Flags&f.bit != 0 {
			parts = append(parts, f.name)
		}
	}
	res := map[uint32]string{1: "oif", 2: "oifname", 3: "type"}[e.Result]
	dt := map[uint32]uint32{1: lsTIfindex, 2: lsTIfname, 3: compiler.TypeFibAddr}[e.Result]
	var flags []any
	for _, p := range parts {
		flags = append(flags, p)
	}
	s := &lsSel{text: "fib " + strings.Join(parts, " . ") + " " + res, dt: lsDtypeByID(dt), host: true, size: 4,
		js: jsonObj{{"fib", jsonObj{{"result", res}, {"flags", flags}}}}}
	if e.Result == 2 {
		s.size = 16
	}
	if e.Flags&0x20 != 0 { // NFTA_FIB_F_PRESENT
		s.dt = lsDtypeByID(lsTBoolean)
		s.size = 1
	}
	return s
}

// lsRtSel maps an rt expression to "rt classid", "rt ip nexthop", ...
func lsRtSel(e *model.Rt, fam model.Family) (*lsSel, bool) {
	s, ok := lsRtSelText(e, fam)
	if !ok {
		return nil, false
	}
	f := strings.Fields(s.text)
	o := jsonObj{{"key", f[len(f)-1]}}
	if len(f) == 3 {
		o = append(o, jsonKV{"family", f[1]})
	}
	s.js = jsonObj{{"rt", o}}
	return s, true
}

func lsRtSelText(e *model.Rt, fam model.Family) (*lsSel, bool) {
	switch e.Key {
	case 0:
		return &lsSel{text: "rt classid", dt: lsDtypeByID(lsTRealm), host: true, size: 4}, true
	case 1, 2:
		text, dt, n := "rt ip nexthop", lsTIPAddr, 4
		if e.Key == 2 {
			text, dt, n = "rt ip6 nexthop", lsTIP6Addr, 16
		}

		return &lsSel{text: text, dt: lsDtypeByID(dt), size: n}, true
	case 3:
		return &lsSel{text: "rt mtu", dt: lsDtypeByID(lsTInteger), host: true, size: 2}, true
	case 4:
		return &lsSel{text: "rt ipsec", dt: lsDtypeByID(lsTBoolean), host: true, size: 1}, true
	}
	return nil, false
}

// lsSocketSel maps a socket expression to "socket transparent", ...
func lsSocketSel(e *model.Socket) (*lsSel, bool) {
	s, ok := lsSocketSelText(e)
	if ok {
		s.js = jsonObj{{"socket", jsonObj{{"key", strings.TrimPrefix(s.text, "socket ")}}}}
	}
	return s, ok
}

func lsSocketSelText(e *model.Socket) (*lsSel, bool) {
	switch e.Key {
	case 0:
		return &lsSel{text: "socket transparent", dt: lsDtypeByID(lsTInteger), host: true, size: 1}, true
	case 1:
		return &lsSel{text: "socket mark", dt: lsDtypeByID(lsTMark), host: true, size: 4}, true
	case 2:
		return &lsSel{text: "socket wildcard", dt: lsDtypeByID(lsTInteger), host: true, size: 1}, true
	}
	return nil, false
}

// lsOptionDesc is an IPv4 option or SCTP chunk nft names, with its fields
// by offset and length in bytes.
type lsOptionDesc struct {
	name   string
	fields map[[2]uint32]string
}

// lsIPOptions are the IPv4 options nft names.
var lsIPOptions = map[uint8]lsOptionDesc{
	7:   {"rr", map[[2]uint32]string{{2, 1}: "ptr", {3, 4}: "addr"}},
	131: {"lsrr", map[[2]uint32]string{{2, 1}: "ptr", {3, 4}: "addr"}},
	137: {"ssrr", map[[2]uint32]string{{2, 1}: "ptr", {3, 4}: "addr"}},
	148: {"ra", map[[2]uint32]string{{2, 2}: "value"}},
}

// lsSCTPChunks are the SCTP chunk types nft names.
var lsSCTPChunks = map[uint8]lsOptionDesc{
	0:    {"data", map[[2]uint32]string{{4, 4}: "tsn", {8, 2}: "stream", {10, 2}: "ssn", {12, 4}: "ppid"}},
	1:    {"init", lsSCTPInitFields},
	2:    {"init-ack", lsSCTPInitFields},
	3:    {"sack", map[[2]uint32]string{{4, 4}: "cum-tsn-ack", {8, 4}: "a-rwnd", {12, 2}: "num-gap-ack-blocks", {14, 2}: "num-dup-tsns"}},
	4:    {"heartbeat", nil},
	5:    {"heartbeat-ack", nil},
	6:    {"abort", nil},
	7:    {"shutdown", map[[2]uint32]string{{4, 4}: "cum-tsn-ack"}},
	8:    {"shutdown-ack", nil},
	9:    {"error", nil},
	10:   {"cookie-echo", nil},
	11:   {"cookie-ack", nil},
	12:   {"ecne", map[[2]uint32]string{{4, 4}: "lowest-tsn"}},
	13:   {"cwr", map[[2]uint32]string{{4, 4}: "lowest-tsn"}},
	14:   {"shutdown-complete", nil},
	0x80: {"asconf-ack", map[[2]uint32]string{{4, 4}: "seqno"}},
	0xc0: {"forward-tsn", map[[2]uint32]string{{4, 4}: "new-cum-tsn"}},
	0xc1: {"asconf", map[[2]uint32]string{{4, 4}: "seqno"}},
}

var lsSCTPInitFields = map[[2]uint32]string{{4, 4}: "init-tag", {8, 4}: "a-rwnd",
	{12, 2}: "num-outbound-streams", {14, 2}: "num-inbound-streams", {16, 4}: "initial-tsn"}

// lsOptionSel maps an IPv4 option ("ip option rr ptr") or SCTP chunk
// ("sctp chunk data flags") load. nft adds no protocol dependency for
// them, so none is removed.
func lsOptionSel(e *model.Exthdr) (*lsSel, bool) {
	kind, table := "ip option", lsIPOptions
	common := map[[2]uint32]string{{0, 1}: "type", {1, 1}: "length"}
	if e.Op == model.ExthdrSCTP {
		kind, table = "sctp chunk", lsSCTPChunks
		common = map[[2]uint32]string{{0, 1}: "type", {1, 1}: "flags", {2, 2}: "length"}
	}
	o, ok := table[e.Type]
	if !ok {
		return nil, false
	}
	// IPv4 options need the network protocol ip, and remove its match.
	var proto *compiler.Proto
	if kind == "ip option" {
		proto = compiler.ProtoByName("ip")
	}
	if e.Flags&1 != 0 { // NFT_EXTHDR_F_PRESENT
		return &lsSel{text: kind + " " + o.name, dt: lsDtypeByID(lsTBoolean), host: true, size: 1, proto: proto,
			js: jsonObj{{kind, jsonObj{{"name", o.name}}}}}, true
	}
	f, ok := common[[2]uint32{e.Offset, e.Len}]
	if !ok {
		f, ok = o.fields[[2]uint32{e.Offset, e.Len}]
	}
	if !ok {
		return nil, false
	}
	dt := lsDtypeByID(lsTInteger)
	if kind == "ip option" && f == "addr" {
		dt = lsDtypeByID(lsTIPAddr)
	}
	return &lsSel{text: kind + " " + o.name + " " + f, dt: dt, size: int(e.Len), proto: proto,
		js: jsonObj{{kind, jsonObj{{"name", o.name}, {"field", f}}}}}, true
}

// lsXfrmSel maps an xfrm load to "ipsec in|out [spnum N] KEY".
func lsXfrmSel(e *model.Xfrm) (*lsSel, bool) {
	key, family, dt, size := "", "", lsDtypeByID(lsTInteger), 4
	switch e.Key {
	case 1, 3:
		key, family, dt = map[uint32]string{1: "daddr", 3: "saddr"}[e.Key], "ip", lsDtypeByID(lsTIPAddr)
	case 2, 4:
		key, family, dt, size = map[uint32]string{2: "daddr", 4: "saddr"}[e.Key], "ip6", lsDtypeByID(lsTIP6Addr), 16
	case 5:
		key = "reqid"
	case 6:
		key = "spi"
	default:
		return nil, false
	}
	dir := "in"
	if e.Dir == 1 {
		dir = "out"
	}
	text := "ipsec " + dir
	if e.SPNum != 0 {
		text += fmt.Sprintf(" spnum %d", e.SPNum)
	}
	o := jsonObj{{"key", key}}
	if family != "" {
		text += " " + family
		o = append(o, jsonKV{"family", family})
	}
	o = append(o, jsonKV{"dir", dir}, jsonKV{"spnum", e.SPNum})
	return &lsSel{text: text + " " + key, dt: dt, size: size, host: e.Key == 5, js: jsonObj{{"ipsec", o}}}, true
}

// lsTCPOptions are the TCP options nft names, with their fields (offset
// and length in bytes).
var lsTCPOptions = map[uint8]struct {
	name   string
	fields map[[2]uint32]string
}{
	0:  {"eol", nil},
	1:  {"nop", nil},
	2:  {"maxseg", map[[2]uint32]string{{2, 2}: "size"}},
	3:  {"window", map[[2]uint32]string{{2, 1}: "count"}},
	4:  {"sack-perm", nil},
	5:  {"sack", map[[2]uint32]string{{2, 4}: "left", {6, 4}: "right"}},
	8:  {"timestamp", map[[2]uint32]string{{2, 4}: "tsval", {6, 4}: "tsecr"}},
	19: {"md5sig", nil},
	34: {"fastopen", nil},
	30: {"mptcp", nil},
}

// lsExthdrSel maps a TCP option or IPv6 extension header load.
func lsExthdrSel(e *model.Exthdr) (*lsSel, bool) {
	if e.Op == model.ExthdrIPv4 || e.Op == model.ExthdrSCTP {
		return lsOptionSel(e)
	}
	s, ok := lsExthdrSelText(e)
	if ok && e.Op == model.ExthdrIPv6 {
		f := strings.Fields(s.text) // NAME FIELD, or exthdr NAME
		o := jsonObj{{"name", f[len(f)-1]}}
		if f[0] != "exthdr" {
			o = jsonObj{{"name", f[0]}, {"field", f[1]}}
		}
		s.js = jsonObj{{"exthdr", o}}
		return s, true
	}
	if _, named := lsTCPOptions[e.Type]; ok && !named {
		// Unnamed options go by kind, offset and length in bits.
		n := e.Len * 8
		if e.Flags&1 != 0 && n == 0 {
			n = 8
		}
		s.js = jsonObj{{"tcp option", jsonObj{{"base", e.Type}, {"offset", e.Offset * 8}, {"len", n}}}}
		return s, ok
	}
	if ok {
		f := strings.Fields(s.text) // tcp option NAME [FIELD]
		o := jsonObj{{"name", f[2]}}
		if len(f) > 3 {
			o = append(o, jsonKV{"field", f[3]})
		}
		s.js = jsonObj{{"tcp option", o}}
	}
	return s, ok
}

func lsExthdrSelText(e *model.Exthdr) (*lsSel, bool) {
	if e.Op == model.ExthdrIPv6 {
		return lsIPv6ExthdrSel(e)
	}
	if e.Op == model.ExthdrIPv4 || e.Op == model.ExthdrSCTP {
		return lsOptionSel(e)
	}
	if e.Op != model.ExthdrTCPOpt {
		return nil, false
	}
	o, ok := lsTCPOptions[e.Type]
	if !ok {
		// Unnamed options go by number: "tcp option 6 exists".
		o.name = fmt.Sprint(e.Type)
	}
	tcp := compiler.ProtoByName("tcp")
	if e.Type == 5 && e.Flags&1 == 0 && e.Len == 4 && e.Offset >= 2 && e.Offset <= 30 && (e.Offset-2)%4 == 0 {
		// SACK blocks: sack (the first), sack1..sack3, each left, right.
		block, side := (e.Offset-2)/8, "left"
		if (e.Offset-2)%8 == 4 {
			side = "right"
		}
		name := "sack"
		if block > 0 {
			name = fmt.Sprintf("sack%d", block)
		}
		return &lsSel{text: "tcp option " + name + " " + side, dt: lsDtypeByID(lsTInteger), size: 4, proto: tcp}, true
	}
	if e.Flags&1 != 0 { // NFT_EXTHDR_F_PRESENT
		return &lsSel{text: "tcp option " + o.name, dt: lsDtypeByID(lsTBoolean), host: true, size: 1, proto: tcp}, true
	}
	if o.name == fmt.Sprint(e.Type) {
		return &lsSel{text: fmt.Sprintf("tcp option @%d,%d,%d", e.Type, e.Offset*8, e.Len*8), dt: lsDtypeByID(lsTInteger), size: int(e.Len), proto: tcp}, true
	}
	switch {
	case e.Offset == 0 && e.Len == 1:
		return &lsSel{text: "tcp option " + o.name + " kind", dt: lsDtypeByID(lsTInteger), size: 1, proto: tcp}, true
	case e.Offset == 1 && e.Len == 1:
		return &lsSel{text: "tcp option " + o.name + " length", dt: lsDtypeByID(lsTInteger), size: 1, proto: tcp}, true
	}
	if e.Type == 30 && e.Offset == 2 && e.Len == 1 {
		// The mptcp subtype is the upper nibble of the third byte: the
		// load is masked with 0xf0 and compared shifted.
		sub := &compiler.Proto{Name: "tcp option mptcp", Layer: compiler.LayerTransport,
			Fields: []compiler.Field{{Name: "subtype", Offset: 16, Len: 4, Type: "integer"}}}
		return &lsSel{text: "tcp option mptcp @2,1", dt: lsDtypeByID(lsTInteger), size: 1, proto: sub,
			field: &sub.Fields[0], loadOff: 16, loadLen: 8, shift: 4, isTCPOpt: true}, true
	}
	f, ok := o.fields[[2]uint32{e.Offset, e.Len}]
	if !ok {
		return nil, false
	}
	return &lsSel{text: "tcp option " + o.name + " " + f, dt: lsDtypeByID(lsTInteger), size: int(e.Len), proto: tcp}, true
}

// tcpOptReset prints "reset tcp option NAME", an exthdr expression that
// neither loads nor stores: the kernel strips the option.
func (c *lsRuleCtx) tcpOptReset(e *model.Exthdr) {
	o, ok := lsTCPOptions[e.Type]
	if !ok {
		st := c.emit(fmt.Sprintf("reset tcp option %d", e.Type))
		st.js = jsonObj{{"reset", jsonObj{{"tcp option", jsonObj{{"base", e.Type}, {"offset", 0}, {"len", 0}}}}}}
		return
	}
	st := c.emit("reset tcp option " + o.name)
	st.js = jsonObj{{"reset", jsonObj{{"tcp option", jsonObj{{"name", o.name}}}}}}
}

func (c *lsRuleCtx) tproxy(e *model.Tproxy) {
	text := "tproxy"
	adt := lsDtypeByID(lsTIPAddr)
	if e.Family == 10 || c.fam == model.FamilyIP6 {
		adt = lsDtypeByID(lsTIP6Addr)
	}
	// Only inet tables name the address family.
	if c.fam == model.FamilyInet {
		switch e.Family {
		case 2:
			text += " ip"
		case 10:
			text += " ip6"
		}
	}
	to := ""
	var addrJS, portJS any
	if e.RegAddr != 0 {
		a, ok := c.regValue(e.RegAddr, adt)
		if !ok {
			c.unsupported("tproxy")
			return
		}
		addrJS = jsonAtom(a)
		if as := c.regs[lsReg32(e.RegAddr)]; !as.raw || as.text != "" {
			addrJS = as.valueJS()
		}
		if e.Family == 10 {
			a = "[" + a + "]"
		}
		to = a
	}
	if e.RegPort != 0 {
		p, ok := c.regValue(e.RegPort, lsDtypeByID(lsTInetService))
		if !ok {
			c.unsupported("tproxy")
			return
		}
		if ps := c.regs[lsReg32(e.RegPort)]; !ps.raw || ps.text != "" {
			// nft 1.0.6 prints the port only when it is a constant; its
			// JSON keeps the expression ("port": {"map": ...}).
			portJS = ps.valueJS()
		} else {
			to += ":" + p
			portJS = jsonScalar(p)
		}
	}
	st := c.emit(strings.TrimSuffix(text+" to "+to, " "))
	o := jsonObj{}
	if f := strings.Fields(text); len(f) > 1 {
		o = append(o, jsonKV{"family", f[1]})
	}
	if addrJS != nil {
		o = append(o, jsonKV{"addr", addrJS})
	}
	if portJS != nil {
		o = append(o, jsonKV{"port", portJS})
	}
	if (e.RegAddr != 0) != (addrJS != nil) || (e.RegPort != 0) != (portJS != nil) {
		return // no JSON form
	}
	st.js = jsonObj{{"tproxy", o}}
}

// lsAdjacentFields returns the whole-byte fields of p that exactly tile
// the load [off, off+n) bits, when there are at least two.
func lsAdjacentFields(p *compiler.Proto, off, n uint32) []*compiler.Field {
	var out []*compiler.Field
	pos := off
	for pos < off+n {
		var next *compiler.Field
		for i := range p.Fields {
			f := &p.Fields[i]
			if f.Offset == pos && f.Len%8 == 0 && f.Offset+f.Len <= off+n {
				next = f
				break
			}
		}
		if next == nil {
			return nil
		}
		out = append(out, next)
		pos += next.Len
	}
	if len(out) < 2 {
		return nil
	}
	return out
}

// transportProto returns the transport header with IP protocol number n,
// from a table built once per Lister.
func (l *Lister) transportProto(n uint64) *compiler.Proto {
	if l.transport == nil {
		l.transport = map[uint64]*compiler.Proto{}
		for _, q := range compiler.Protos() {
			if q.Layer == compiler.LayerTransport && q.Name != "th" {
				if _, dup := l.transport[uint64(q.Number)]; !dup {
					l.transport[uint64(q.Number)] = compiler.ProtoByName(q.Name)
				}
			}
		}
	}
	return l.transport[n]
}

// lsIPv6Exthdrs are the IPv6 extension headers nft names, by next header
// number, with their fields (offsets and lengths in bits).
var lsIPv6Exthdrs = map[uint8]*compiler.Proto{
	0: {Name: "hbh", Layer: compiler.LayerNetwork, Fields: []compiler.Field{
		{Name: "nexthdr", Offset: 0, Len: 8, Type: "inet_proto"}, {Name: "hdrlength", Offset: 8, Len: 8, Type: "integer"}}},
	43: {Name: "rt", Layer: compiler.LayerNetwork, Fields: []compiler.Field{
		{Name: "nexthdr", Offset: 0, Len: 8, Type: "inet_proto"}, {Name: "hdrlength", Offset: 8, Len: 8, Type: "integer"},
		{Name: "type", Offset: 16, Len: 8, Type: "integer"}, {Name: "seg-left", Offset: 24, Len: 8, Type: "integer"}}},
	44: {Name: "frag", Layer: compiler.LayerNetwork, Fields: []compiler.Field{
		{Name: "nexthdr", Offset: 0, Len: 8, Type: "inet_proto"}, {Name: "reserved", Offset: 8, Len: 8, Type: "integer"},
		{Name: "frag-off", Offset: 16, Len: 13, Type: "integer"}, {Name: "reserved2", Offset: 29, Len: 2, Type: "integer"},
		{Name: "more-fragments", Offset: 31, Len: 1, Type: "integer"}, {Name: "id", Offset: 32, Len: 32, Type: "integer"}}},
	60: {Name: "dst", Layer: compiler.LayerNetwork, Fields: []compiler.Field{
		{Name: "nexthdr", Offset: 0, Len: 8, Type: "inet_proto"}, {Name: "hdrlength", Offset: 8, Len: 8, Type: "integer"}}},
	135: {Name: "mh", Layer: compiler.LayerNetwork, Fields: []compiler.Field{
		{Name: "nexthdr", Offset: 0, Len: 8, Type: "inet_proto"}, {Name: "hdrlength", Offset: 8, Len: 8, Type: "integer"},
		{Name: "type", Offset: 16, Len: 8, Type: "mh_type"}, {Name: "reserved", Offset: 24, Len: 8, Type: "integer"},
		{Name: "checksum", Offset: 32, Len: 16, Type: "integer"}}},
}

// lsIPv6ExthdrSel maps an IPv6 extension header load ("frag id",
// "exthdr rt exists"); sub-byte fields are resolved by the mask that
// follows, as for payloads.
func lsIPv6ExthdrSel(e *model.Exthdr) (*lsSel, bool) {
	p, ok := lsIPv6Exthdrs[e.Type]
	if !ok {
		return nil, false
	}
	if e.Flags&1 != 0 { // NFT_EXTHDR_F_PRESENT
		return &lsSel{text: "exthdr " + p.Name, dt: lsDtypeByID(lsTBoolean), host: true, size: 1, proto: p}, true
	}
	off, n := e.Offset*8, e.Len*8
	var best *compiler.Field
	for i := range p.Fields {
		f := &p.Fields[i]
		if f.Offset == off && f.Len == n {
			best = f
			break
		}
		if best == nil && f.Offset >= off && f.Offset+f.Len <= off+n && (f.Len%8 != 0 || f.Offset%8 != 0) {
			best = f
		}
	}
	if best == nil && e.Type == 43 {
		// Segment routing header fields (routing type 4).
		srh := &compiler.Proto{Name: "srh", Layer: compiler.LayerNetwork, Fields: []compiler.Field{
			{Name: "last-entry", Offset: 32, Len: 8, Type: "integer"}, {Name: "flags", Offset: 40, Len: 8, Type: "integer"},
			{Name: "tag", Offset: 48, Len: 16, Type: "integer"}}}
		if f := lsFieldAt(srh, off, n); f != nil {
			return &lsSel{text: "srh " + f.Name, dt: lsDtypeByName(f.Type), size: int(e.Len), proto: srh, field: f,
				loadOff: off, loadLen: n, isExthdr: true}, true
		}
		if n == 128 && off >= 64 && (off-64)%128 == 0 {
			return &lsSel{text: fmt.Sprintf("srh sid[%d]", (off-64)/128+1), dt: lsDtypeByID(lsTIP6Addr), size: 16,
				proto: srh, isExthdr: true}, true
		}
	}
	if best == nil {
		return nil, false
	}
	s := &lsSel{text: p.Name + " " + best.Name, dt: lsDtypeByName(best.Type), size: int(e.Len), proto: p, field: best,
		loadOff: off, loadLen: n, isExthdr: true}
	if best.Len < n {
		s.shift = uint(off + n - best.Offset - best.Len)
	}
	return s, true
}

// dupFwd prints "dup to ADDR [device DEV]" and "fwd to DEV".
func (c *lsRuleCtx) dupFwd(kind string, regAddr, regDev, nfproto uint32) {
	var addr, dev string
	var addrJS any
	adt := lsDtypeByID(lsTIPAddr)
	if c.fam == model.FamilyIP6 || nfproto == 10 {
		adt = lsDtypeByID(lsTIP6Addr)
	}
	if regAddr != 0 {
		a, ok := c.regValue(regAddr, adt)
		if !ok {
			c.unsupported(kind)
			return
		}
		addr = a
		addrJS = a
		if as := c.regs[lsReg32(regAddr)]; !as.raw || as.text != "" {
			addrJS = as.valueJS() // a map lookup and the like
		}
	}
	if regDev != 0 && c.regs[lsReg32(regDev)] != nil && c.regs[lsReg32(regDev)].isMap && addr == "" {
		// The device comes from a map lookup ("dup to meta mark map {...}").
		s := c.regs[lsReg32(regDev)]
		c.useDeps(s)
		key := "dev"
		if kind == "dup" {
			key = "addr" // as for a lone device, nft 1.0.6 names it "addr"
		}
		st := c.emit(kind + " to " + s.value())
		if js := s.valueJS(); js != nil {
			st.js = jsonObj{{kind, jsonObj{{key, js}}}}
		}
		return
	}
	if regDev != 0 {
		s := c.regs[lsReg32(regDev)]
		if s == nil || !s.raw || len(s.mask) != 4 {
			c.unsupported(kind)
			return
		}
		idx := binary.NativeEndian.Uint32(s.mask)
		name, ok := c.l.opts.IfNames[idx]
		if !ok {
			c.unsupported(kind)
			return
		}
		dev = lsQuote(name)
	}
	text := kind
	if kind == "fwd" && addr != "" {
		text += map[bool]string{true: " ip6", false: " ip"}[nfproto == 10]
	}
	var o jsonObj
	switch {
	case addr != "" && dev != "":
		text += " to " + addr + " device " + dev
		o = jsonObj{{"addr", addrJS}, {"dev", dev[1 : len(dev)-1]}}
	case addr != "":
		text += " to " + addr
		o = jsonObj{{"addr", addrJS}}
	default:
		text += " to " + dev
		// nft 1.0.6 names a lone dup device "addr".
		key := "dev"
		if kind == "dup" {
			key = "addr"
		}
		o = jsonObj{{key, dev[1 : len(dev)-1]}}
	}
	if kind == "fwd" && addr != "" {
		o = append(jsonObj{{"family", strings.Fields(text)[1]}}, o...)
	}
	st := c.emit(text)
	if addr == "" || addrJS != nil {
		st.js = jsonObj{{kind, o}}
	}
}

// lsRejectExplicit prints "reject with icmp[v6] CODE" even for the default
// code, as nft does in inet tables.
func lsRejectExplicit(e *model.Reject, fam model.Family) string {
	t := lsRejectText(e, fam)
	if t != "reject" {
		return t
	}
	if fam == model.FamilyIP6 {
		return "reject with icmpv6 port-unreachable"
	}
	return "reject with icmp port-unreachable"
}

// lsRangeValue prints a range bound: relative times in plain seconds,
// everything else as a value.
func lsRangeValue(d lsDtype, b []byte, host bool) string {
	if d.id == lsTTime {
		return fmt.Sprintf("%ds", lsToInt(b, host).Uint64()/1000)
	}
	// nft prints range bounds numerically.
	if d.dt != nil && len(d.dt.Symbols) > 0 && !d.dt.Bitmask && d.id != lsTTimeDay {
		return lsToInt(b, host).String()
	}
	return lsFormatValue(d, b, host)
}

// fieldWrite prints "proto field set value" for the read-modify-write nft
// emits to set a header field narrower than its bytes: load the bytes,
// keep the other bits with a mask, put the value in with xor, write back.
func (c *lsRuleCtx) fieldWrite(e *model.Payload, dst *lsSel) bool {
	src := c.regs[lsReg32(e.SReg)]
	if src == nil || src.bwMask == nil || src.proto == nil || src.loadLen != e.Len*8 || dst.proto != src.proto {
		return false
	}
	inv := make([]byte, len(src.bwMask))
	for i, b := range src.bwMask {
		inv[i] = ^b
	}
	first, count := maskBits(inv)
	if count == 0 {
		return false
	}
	for i := range src.proto.Fields {
		f := &src.proto.Fields[i]
		if f.Offset != src.loadOff+uint32(first) || f.Len != uint32(count) {
			continue
		}
		v := lsToInt(src.bwXor, false)
		v.Rsh(v, uint(src.loadLen)-uint(first)-uint(count))
		dt := lsDtypeByName(f.Type)
		val := lsFormatValue(dt, lsIntBytes(v, dt), false)
		st := c.emit(src.proto.Name + " " + f.Name + " set " + val)
		st.js = jsonObj{{"mangle", jsonObj{{"key", jsonPayload(src.proto.Name, f.Name)}, {"value", jsonAtom(val)}}}}
		return true
	}
	return false
}

// rawWrite prints a raw payload write of the same bytes masked (and
// or-ed) as nft 1.0.6 does: "P set P & ~MASK" when only a mask clears
// bits, and "P set P & (MASK | XOR) | XOR" when bits are set too.
func (c *lsRuleCtx) rawWrite(e *model.Payload, dst *lsSel) bool {
	src := c.regs[lsReg32(e.SReg)]
	if src == nil || src.bwMask == nil || !dst.hex || src.bwSrc != dst.text || len(src.bwMask) != int(e.Len) {
		return false
	}
	mask := lsToInt(src.bwMask, false)
	xor := lsToInt(src.bwXor, false)
	var text string
	var value any
	if xor.Sign() == 0 {
		all := new(big.Int).Lsh(big.NewInt(1), uint(e.Len*8))
		all.Sub(all, big.NewInt(1))
		inv := new(big.Int).Xor(mask, all)
		text = fmt.Sprintf("%s & 0x%x", dst.text, inv)
		value = jsonObj{{"&", []any{dst.js, jsonBigInt(inv)}}}
	} else {
		or := new(big.Int).Or(mask, xor)
		text = fmt.Sprintf("%s & 0x%x | 0x%x", dst.text, or, xor)
		value = jsonObj{{"|", []any{jsonObj{{"&", []any{dst.js, jsonBigInt(or)}}}, jsonBigInt(xor)}}}
	}
	st := c.emit(dst.text + " set " + text)
	if dst.js != nil {
		st.js = jsonObj{{"mangle", jsonObj{{"key", dst.js}, {"value", value}}}}
	}
	return true
}

// jsonBigInt is a JSON number, or nft's hex string when it does not fit.
func jsonBigInt(v *big.Int) any {
	if v.IsUint64() {
		return v.Uint64()
	}
	return fmt.Sprintf("0x%x", v)
}

// icmpField picks the ICMP field that shares its bytes with others by the
// type matched before, and removes that match when the field implies it.
func (c *lsRuleCtx) icmpField(p *compiler.Proto, off, n uint32) *compiler.Field {
	if p.Name != "icmp" && p.Name != "icmpv6" {
		return nil
	}
	t := c.icmpType
	name := ""
	implied := false
	switch {
	case p.Name == "icmp" && off == 48 && n == 16 && t == 3:
		name, implied = "mtu", true
	case p.Name == "icmp" && off == 32 && n == 32 && t == 5:
		name, implied = "gateway", true
	case p.Name == "icmpv6" && off == 32 && n == 32 && t == 2:
		name, implied = "mtu", true
	case p.Name == "icmpv6" && off == 32 && n == 32 && t == 4:
		name, implied = "parameter-problem", true
	case p.Name == "icmpv6" && off == 32 && n == 16 && t >= 130 && t <= 132:
		name, implied = "max-delay", true
	}
	if name == "" {
		return nil
	}
	if implied && c.icmpTypeStmt != nil {
		c.icmpTypeStmt.dead = true
		c.icmpTypeStmt = nil
	}
	f := p.Field(name)
	if f != nil && name == "gateway" {
		// nft compares the gateway as a plain number.
		g := *f
		g.Type = "integer"
		return &g
	}
	return f
}

// lsFieldAt returns p's field at exactly [off, off+n) bits, or nil.
func lsFieldAt(p *compiler.Proto, off, n uint32) *compiler.Field {
	for i := range p.Fields {
		if p.Fields[i].Offset == off && p.Fields[i].Len == n {
			return &p.Fields[i]
		}
	}
	return nil
}
