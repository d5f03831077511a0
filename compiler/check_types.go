package compiler

import (
	"fmt"
	"math/big"
	"net/netip"
	"strconv"
	"strings"

	"github.com/nftflow/nftflow/parser"
)

// valueType is what a selector holds: its datatype and width in bits.
type valueType struct {
	dt   *Datatype
	bits uint32 // 0 when unknown or variable
	name string // what holds the value, for messages ("queue num")
	// sel, when set, names it instead (joined only for a message).
	sel *parser.Selector
	// exact is set when bits is the exact width even if 0 (raw payload).
	exact bool
}

// label names what holds the value, for messages.
func (vt valueType) label() string {
	if vt.sel != nil {
		return vt.sel.Field()
	}
	return vt.name
}

// selectorType returns the datatype of a selector, using the shared
// protocol, meta and ct tables. ok is false for selectors it does not
// know (raw payloads, exthdrs, ...), which are then not checked.
func selectorType(family string, s *parser.Selector) (valueType, bool) {
	p := s.Path
	if len(p) == 0 {
		return valueType{}, false
	}
	if len(p) == 3 && strings.HasPrefix(p[0], "@") {
		// Raw payload @base,offset,length: an integer of length bits.
		n, err := strconv.Atoi(p[2])
		if err != nil || n < 0 || n > 128 {
			return valueType{}, false
		}
		return valueType{dt: DatatypeByName("integer"), bits: uint32(n), sel: s, exact: true}, true
	}
	if len(p) >= 4 && p[0] == "tcp" && p[1] == "option" {
		if strings.HasPrefix(p[2], "@") && len(p) == 5 {
			n, err := strconv.Atoi(p[4])
			if err != nil || n < 0 || n > 128 {
				return valueType{}, false
			}
			return valueType{dt: DatatypeByName("integer"), bits: uint32(n), sel: s, exact: true}, true
		}
		if o := TCPOptionByName(p[2]); o != nil && len(p) == 4 {
			if fd := o.Field(p[3]); fd != nil && DatatypeByName(fd.Type) != nil {
				return valueType{dt: DatatypeByName(fd.Type), bits: fd.Len, sel: s}, true
			}
		}
		return valueType{}, false
	}
	if len(p) == 2 && !(p[0] == "rt" && rtKey(p[1])) {
		if eh := ExthdrByName(p[0]); eh != nil {
			if fd := eh.Field(p[1]); fd != nil && DatatypeByName(fd.Type) != nil {
				return valueType{dt: DatatypeByName(fd.Type), bits: fd.Len, sel: s}, true
			}
		}
	}
	switch {
	case p[0] == "rt" && p[len(p)-1] == "nexthop" && len(p) <= 3:
		v := family
		if len(p) == 3 {
			v = p[1]
		}
		switch v {
		case "ip":
			return valueType{dt: DatatypeByName("ipv4_addr"), bits: 32, sel: s}, true
		case "ip6":
			return valueType{dt: DatatypeByName("ipv6_addr"), bits: 128, sel: s}, true
		}
		return valueType{}, false
	case len(p) == 2 && p[0] == "meta":
		if k := MetaKeyByName(p[1]); k != nil {
			return valueType{dt: DatatypeByName(k.Type), bits: k.Len * 8, sel: s}, DatatypeByName(k.Type) != nil
		}
	case len(p) == 1:
		if k := MetaKeyByName(p[0]); k != nil && k.Bare {
			return valueType{dt: DatatypeByName(k.Type), bits: k.Len * 8, sel: s}, DatatypeByName(k.Type) != nil
		}
	case len(p) >= 2 && p[0] == "ct":
		rest := p[1:]
		if len(rest) > 1 && (rest[0] == "original" || rest[0] == "reply") {
			rest = rest[1:]
		}
		key := strings.Join(rest, " ")
		k := CtKeyByName(key)
		if k == nil {
			return valueType{}, false
		}
		typ, bits := k.Type, k.Len*8
		if key == "saddr" || key == "daddr" {
			switch family {
			case "ip":
				typ, bits = "ipv4_addr", 32
			case "ip6":
				typ, bits = "ipv6_addr", 128
			default:
				return valueType{}, false
			}
		}
		if dt := DatatypeByName(typ); dt != nil {
			return valueType{dt: dt, bits: bits, sel: s}, true
		}
	case len(p) == 2:
		if pr := ProtoByName(p[0]); pr != nil {
			if f := pr.Field(p[1]); f != nil {
				if dt := DatatypeByName(f.Type); dt != nil {
					return valueType{dt: dt, bits: f.Len, sel: s}, true
				}
			}
		}
	}
	return valueType{}, false
}

// rtKey reports the keys of the routing expression (rt mtu), as opposed
// to the fields of the IPv6 routing header (rt type).
func rtKey(k string) bool {
	switch k {
	case "nexthop", "mtu", "classid", "ipsec":
		return true
	}
	return false
}

// symbolic lists the datatypes whose names nft resolves from its own
// tables (or /etc/services, /etc/protocols), where an unknown word is an
// error. Types resolved from the system (users, groups, realms, device
// groups, interface names) are not checked.
func symbolic(dt *Datatype) bool {
	switch dt.Name {
	case "ct_state", "ct_dir", "ct_status", "ct_event", "icmp_type", "icmpv6_type",
		"icmp_code", "icmpv6_code", "icmpx_code", "tcp_flag", "pkt_type", "inet_proto",
		"ether_type", "arp_op", "nf_proto", "dscp", "ecn", "fib_addrtype", "boolean",
		"day", "dccp_pkttype", "mh_type", "igmp_type", "inet_service", "iface_type":
		return len(dt.Symbols) > 0
	}
	return false
}

// addrFamily classifies an address literal: 4, 6 or 0 (not an address).
func addrFamily(s string) int {
	a, err := netip.ParseAddr(s)
	if err != nil {
		return 0
	}
	if a.Is4() {
		return 4
	}
	return 6
}

// parseUint reads a plain unsigned integer (decimal or 0x hex).
func parseUint(s string) (*big.Int, bool) {
	if s == "" {
		return nil, false
	}
	// Fast path: most literals fit 64 bits.
	if strings.HasPrefix(s, "0x") || strings.HasPrefix(s, "0X") {
		if u, err := strconv.ParseUint(s[2:], 16, 64); err == nil {
			return new(big.Int).SetUint64(u), true
		}
	} else if s[0] >= '0' && s[0] <= '9' {
		if u, err := strconv.ParseUint(s, 10, 64); err == nil {
			return new(big.Int).SetUint64(u), true
		}
	} else {
		return nil, false
	}
	v := new(big.Int)
	if strings.HasPrefix(s, "0x") || strings.HasPrefix(s, "0X") {
		_, ok := v.SetString(s[2:], 16)
		return v, ok
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return nil, false
		}
	}
	_, ok := v.SetString(s, 10)
	return v, ok
}

// typeCtx says where a value is checked, for codes and messages.
type typeCtx struct {
	inSet string // the named set's name when checking its elements
}

func (tc typeCtx) where(vt valueType) string {
	if tc.inSet != "" {
		return fmt.Sprintf("set %s (type %s)", tc.inSet, vt.dt.Name)
	}
	return vt.label()
}

// checkValue checks a constant (or a set/list/range of constants)
// against a selector's type.
func (l *linter) checkValue(vt valueType, e parser.Expr, tc typeCtx) {
	if vt.dt == nil || isNil(e) {
		return
	}
	switch x := l.resolve(e).(type) {
	case *parser.SetExpr:
		for _, el := range x.Elems() {
			switch y := el.(type) {
			case *parser.Elem:
				l.checkValue(vt, y.Key, tc)
			case *parser.MapElem:
				l.checkValue(vt, y.Key, tc)
			default:
				l.checkValue(vt, y, tc)
			}
		}
	case *parser.List:
		for _, y := range x.Elems {
			l.checkValue(vt, y, tc)
		}
	case *parser.Binary:
		if vt.dt.Bitmask && (x.Op == "|" || x.Op == "or") {
			l.checkValue(vt, x.X, tc)
			l.checkValue(vt, x.Y, tc)
		}
	case *parser.Paren:
		l.checkValue(vt, x.X, tc)
	case *parser.Range:
		l.checkValue(vt, x.Lo, tc)
		l.checkValue(vt, x.Hi, tc)
	case *parser.Prefix:
		if lit, ok := x.X.(*parser.Literal); ok {
			l.checkLiteral(vt, lit, tc)
		}
	case *parser.Elem:
		l.checkValue(vt, x.Key, tc)
	case *parser.Literal:
		l.checkLiteral(vt, x, tc)
	}
}

func (l *linter) checkLiteral(vt valueType, lit *parser.Literal, tc typeCtx) {
	dt := vt.dt
	v := lit.Value()
	if v == "*" {
		return // the catch-all element of a set or map
	}
	famCode := CodeAddressFamily
	if tc.inSet != "" {
		famCode = CodeElementType
	}
	switch {
	case dt.IsA("ipv4_addr"):
		if addrFamily(v) == 6 {
			d := l.report(famCode, lit, "%s is an IPv6 address but %s holds IPv4 addresses; use an IPv4 address%s", v, tc.where(vt), ip6Hint(vt.label()))
			d.Suggestion = ip6Suggestion(vt.label())
		}
		return
	case dt.IsA("ipv6_addr"):
		if addrFamily(v) == 4 && lit.Kind == parser.LitNumber {
			d := l.report(famCode, lit, "%s is an IPv4 address but %s holds IPv6 addresses; use an IPv6 address%s", v, tc.where(vt), ip4Hint(vt.label()))
			d.Suggestion = ip4Suggestion(vt.label())
		}
		return
	case lit.Kind == parser.LitString:
		if dt.IsA("string") {
			if v == "" {
				l.report(CodeInvalidExpr, lit, "empty string: nft refuses it (\"Empty string is not allowed\"); use a name, or \"name*\" for a prefix")
			} else if max := vt.bits / 8; max > 0 && uint32(len(strings.TrimSuffix(v, "*"))) > max {
				l.report(CodeValueRange, lit, "%q is %d bytes but %s holds at most %d", v, len(v), tc.where(vt), max)
			}
		}
		return
	}
	if dt.Name == "ct_label" {
		if n, ok := parseUint(v); ok && n.Cmp(big.NewInt(128)) >= 0 {
			l.report(CodeValueRange, lit, "ct label bit %s is out of range: labels are bits 0-127", v)
		}
		return
	}
	if n, ok := parseUint(v); ok {
		bits := vt.bits
		if !vt.exact && dt.Bits > 0 && (bits == 0 || dt.Bits < bits) {
			bits = dt.Bits
		}
		if (bits == 0 && !vt.exact) || bits > 128 {
			return
		}
		if n.IsUint64() && bits < 64 && n.Uint64() < 1<<bits {
			return // the common case, without big arithmetic
		}
		lim := new(big.Int).Lsh(big.NewInt(1), uint(bits))
		if n.Cmp(lim) >= 0 {
			maxv := new(big.Int).Sub(lim, big.NewInt(1))
			if dt.Name == "inet_service" {
				l.report(CodePortRange, lit, "port %s is outside 0-65535 (%s); ports are 16-bit: use a value from 0 to 65535", v, tc.where(vt))
			} else {
				l.report(CodeValueRange, lit, "value %s exceeds the range 0-%s of %s; use a value that fits", v, maxv, tc.where(vt))
			}
		}
		return
	}
	if lit.Kind == parser.LitSymbol && dt.Name == "mark" {
		l.report(CodeUnknownConstant, lit, "%s takes a number (like 0x10), not %q", tc.where(vt), v)
		return
	}
	if lit.Kind == parser.LitSymbol && symbolic(dt) {
		if _, ok := dt.Lookup(v); ok {
			return
		}
		if dt.Bitmask && strings.Contains(v, ",") {
			for _, part := range strings.Split(v, ",") {
				if _, ok := dt.Lookup(strings.TrimSpace(part)); !ok {
					l.unknownSymbol(vt, lit, strings.TrimSpace(part), tc)
					return
				}
			}
			return
		}
		l.unknownSymbol(vt, lit, v, tc)
	}
}

func (l *linter) unknownSymbol(vt valueType, lit *parser.Literal, v string, tc typeCtx) {
	var names []string
	for _, s := range vt.dt.Symbols {
		names = append(names, s.Name)
	}
	hint := didYouMean(v, names)
	list := ""
	if len(names) <= 16 {
		list = "; valid: " + strings.Join(names, ", ")
	}
	what := vt.dt.Desc
	if what == "" {
		what = vt.dt.Name
	}
	l.report(CodeUnknownConstant, lit, "unknown %s %q for %s%s%s", what, v, tc.where(vt), hint, list)
}

func ip6Hint(sel string) string {
	if strings.HasPrefix(sel, "ip ") {
		return ", or match IPv6 with ip6 " + strings.TrimPrefix(sel, "ip ")
	}
	return ""
}

func ip6Suggestion(sel string) string {
	if strings.HasPrefix(sel, "ip ") {
		return "ip6 " + strings.TrimPrefix(sel, "ip ")
	}
	return ""
}

func ip4Hint(sel string) string {
	if strings.HasPrefix(sel, "ip6 ") {
		return ", or match IPv4 with ip " + strings.TrimPrefix(sel, "ip6 ")
	}
	return ""
}

func ip4Suggestion(sel string) string {
	if strings.HasPrefix(sel, "ip6 ") {
		return "ip " + strings.TrimPrefix(sel, "ip6 ")
	}
	return ""
}

// leftTypes returns the value types a match's left side produces: one per
// concatenated part; nil when unknown.
func (l *linter) leftTypes(family string, e parser.Expr) ([]valueType, []parser.Expr) {
	switch x := e.(type) {
	case *parser.Selector:
		if vt, ok := selectorType(family, x); ok {
			return []valueType{vt}, nil
		}
	case *parser.Binary:
		// tcp flags & (syn | ack): the mask has the selector's type.
		if sel, ok := x.X.(*parser.Selector); ok && (x.Op == "&" || x.Op == "and") {
			if vt, ok := selectorType(family, sel); ok {
				return []valueType{vt}, []parser.Expr{x.Y}
			}
		}
	case *parser.Concat:
		var out []valueType
		for _, p := range x.Parts {
			sel, ok := p.(*parser.Selector)
			if !ok {
				return nil, nil
			}
			vt, ok := selectorType(family, sel)
			if !ok {
				return nil, nil
			}
			out = append(out, vt)
		}
		return out, nil
	}
	return nil, nil
}

// checkTyped checks value e against types (one per concatenated part).
func (l *linter) checkTyped(types []valueType, e parser.Expr, tc typeCtx) {
	if len(types) == 1 {
		l.checkValue(types[0], e, tc)
		return
	}
	switch x := l.resolve(e).(type) {
	case *parser.SetExpr:
		for _, el := range x.Elems() {
			k := el
			switch y := el.(type) {
			case *parser.Elem:
				k = y.Key
			case *parser.MapElem:
				k = y.Key
			}
			l.checkTyped(types, k, tc)
		}
	case *parser.Concat:
		if len(x.Parts) != len(types) {
			return
		}
		for i, p := range x.Parts {
			l.checkValue(types[i], p, tc)
		}
	}
}

// checkRuleTypes checks the constants of one rule against the types of
// what they are compared with or assigned to.
func (l *linter) checkRuleTypes(t *ltable, r *parser.Rule) {
	for _, st := range r.Stmts {
		switch s := st.(type) {
		case *parser.ExprStmt:
			l.checkExprTypes(t, s.X)
		case *parser.SetStmt:
			if sel, ok := s.Left.(*parser.Selector); ok {
				if vt, ok := selectorType(t.family, sel); ok {
					switch v := l.resolve(s.Value).(type) {
					case *parser.Literal, *parser.List:
						l.checkValue(vt, v, typeCtx{})
					case *parser.MapLookup:
						l.checkMapValues(vt, v)
						l.checkExprTypes(t, v)
					case *parser.Binary:
						// ip dscp set ip dscp & 0x4f: the operand has the field's width.
						if y, ok := l.resolve(v.Y).(*parser.Literal); ok && v.Op != "<<" && v.Op != ">>" {
							l.checkValue(vt, y, typeCtx{})
						}
					}
				}
			}
		case *parser.NatStmt:
			l.checkNatTypes(t, s)
		}
		forStmtExprs(st, l.checkShapes)
	}
}

// checkMapValues checks the values of an anonymous map against vt.
func (l *linter) checkMapValues(vt valueType, m *parser.MapLookup) {
	set, ok := l.resolve(m.Map).(*parser.SetExpr)
	if !ok {
		return
	}
	for _, el := range set.Elems() {
		if me, ok := el.(*parser.MapElem); ok {
			l.checkValue(vt, me.Value, typeCtx{})
		}
	}
}

func (l *linter) checkExprTypes(t *ltable, e parser.Expr) {
	walkExpr(e, func(x parser.Expr) bool {
		switch y := x.(type) {
		case *parser.Relational:
			if y.Op == "/" {
				return true
			}
			if sel, ok := y.Left.(*parser.Selector); ok {
				// The common case, without building a slice of types.
				if vt, ok := selectorType(t.family, sel); ok {
					l.checkValue(vt, y.Right, typeCtx{})
				}
				return true
			}
			if types, masks := l.leftTypes(t.family, y.Left); types != nil {
				for _, m := range masks {
					l.checkValue(types[0], m, typeCtx{})
				}
				l.checkTyped(types, y.Right, typeCtx{})
			}
		case *parser.MapLookup:
			if types, _ := l.leftTypes(t.family, y.Key); types != nil {
				if set, ok := l.resolve(y.Map).(*parser.SetExpr); ok {
					l.checkTyped(types, set, typeCtx{})
				}
			}
		}
		return true
	})
}

// checkShapes checks constants whose validity needs no type: prefix
// lengths and range bounds.
func (l *linter) checkShapes(e parser.Expr) {
	walkExpr(e, func(x parser.Expr) bool {
		switch y := x.(type) {
		case *parser.Prefix:
			lit, ok := l.resolve(y.X).(*parser.Literal)
			if !ok || y.Len == nil {
				return true
			}
			n, err := strconv.Atoi(y.Len.Value())
			if err != nil {
				return true
			}
			switch addrFamily(lit.Value()) {
			case 4:
				if n > 32 {
					l.report(CodePrefixLength, y, "prefix /%d is longer than an IPv4 address (32 bits); use a length from 0 to 32", n)
				}
			case 6:
				if n > 128 {
					l.report(CodePrefixLength, y, "prefix /%d is longer than an IPv6 address (128 bits); use a length from 0 to 128", n)
				}
			}
		case *parser.Range:
			lo, ok1 := l.resolve(y.Lo).(*parser.Literal)
			hi, ok2 := l.resolve(y.Hi).(*parser.Literal)
			if !ok1 || !ok2 {
				return true
			}
			if c, ok := compareConst(lo.Value(), hi.Value()); ok && c > 0 {
				d := l.report(CodeReversedRange, y, "range %s-%s is reversed: its low end is above its high end; nft rejects it (\"Range has zero or negative size\")", lo.Value(), hi.Value())
				d.Suggestion = hi.Value() + "-" + lo.Value()
			}
		}
		return true
	})
}

// compareConst compares two integers or two addresses of one family.
func compareConst(a, b string) (int, bool) {
	if x, ok := parseUint(a); ok {
		if y, ok := parseUint(b); ok {
			return x.Cmp(y), true
		}
		return 0, false
	}
	if x, ok := parseDuration(a); ok {
		if y, ok := parseDuration(b); ok {
			return cmpInt(x, y), true
		}
	}
	x, err1 := netip.ParseAddr(a)
	y, err2 := netip.ParseAddr(b)
	if err1 != nil || err2 != nil || x.Is4() != y.Is4() {
		return 0, false
	}
	return x.Compare(y), true
}

// checkNatTypes checks a NAT statement's address family and port.
func (l *linter) checkNatTypes(t *ltable, s *parser.NatStmt) {
	fam := s.Family
	if fam == "" && (t.family == "ip" || t.family == "ip6") {
		fam = t.family
	}
	var vt valueType
	switch fam {
	case "ip":
		vt = valueType{dt: DatatypeByName("ipv4_addr"), bits: 32, name: s.Kind + " ip to"}
	case "ip6":
		vt = valueType{dt: DatatypeByName("ipv6_addr"), bits: 128, name: s.Kind + " ip6 to"}
	}
	if vt.dt != nil {
		switch a := l.resolve(s.Addr).(type) {
		case *parser.Literal, *parser.Range, *parser.Prefix:
			l.checkValue(vt, a, typeCtx{})
		case *parser.MapLookup:
			// dnat ip6 to KEY map { K : ADDR [. PORT] }
			if set, ok := l.resolve(a.Map).(*parser.SetExpr); ok {
				for _, el := range set.Elems() {
					if me, ok := el.(*parser.MapElem); ok {
						v := me.Value
						if c, ok := v.(*parser.Concat); ok && len(c.Parts) > 0 {
							v = c.Parts[0]
						}
						l.checkValue(vt, v, typeCtx{})
					}
				}
			}
		}
	}
	if !isNil(s.Port) {
		switch p := l.resolve(s.Port).(type) {
		case *parser.Literal, *parser.Range:
			l.checkValue(valueType{dt: DatatypeByName("inet_service"), bits: 16, name: s.Kind + " port"}, p, typeCtx{})
		}
	}
}

// setKeyTypes returns the key types a set declaration names (type A . B
// or typeof SELECTOR . SELECTOR).
func (l *linter) setKeyTypes(family string, d *parser.SetBlock) []valueType {
	if isNil(d.Key) {
		return nil
	}
	if d.Typeof {
		types, _ := l.leftTypes(family, d.Key)
		return types
	}
	var parts []parser.Expr
	if c, ok := d.Key.(*parser.Concat); ok {
		parts = c.Parts
	} else {
		parts = []parser.Expr{d.Key}
	}
	var out []valueType
	for _, p := range parts {
		dt := DatatypeByName(exprText(p))
		if dt == nil {
			return nil
		}
		out = append(out, valueType{dt: dt, bits: dt.Bits, name: dt.Name})
	}
	return out
}

// checkSetElementTypes checks elements added to a named set against its
// declared key type (and a map's data type).
func (l *linter) checkSetElementTypes(t *ltable, s *lset, elems *parser.SetExpr) {
	var keys []valueType
	var data *Datatype
	for _, d := range s.decls {
		if k := l.setKeyTypes(t.family, d); k != nil {
			keys = k
			if d.IsMap && !d.Typeof && !isNil(d.Data) {
				data = DatatypeByName(exprText(d.Data))
			}
			break
		}
	}
	tc := typeCtx{inSet: s.name}
	for _, el := range elems.Elems() {
		k := el
		var val parser.Expr
		switch y := el.(type) {
		case *parser.Elem:
			k = y.Key
		case *parser.MapElem:
			k, val = y.Key, y.Value
		}
		if keys != nil {
			l.checkTyped(keys, k, tc)
		}
		if data != nil && val != nil {
			l.checkValue(valueType{dt: data, bits: data.Bits, name: data.Name}, val, typeCtx{inSet: s.name})
		}
		l.checkShapes(el)
	}
}

// parseDuration reads nft's time notation (1d2h3m4s, 500ms) in ms.
func parseDuration(s string) (int64, bool) {
	if s == "" || s[0] < '0' || s[0] > '9' {
		return 0, false
	}
	var total, n int64
	digits := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= '0' && c <= '9' {
			n = n*10 + int64(c-'0')
			digits = true
			continue
		}
		if !digits {
			return 0, false
		}
		var unit int64
		switch {
		case strings.HasPrefix(s[i:], "ms"):
			unit = 1
			i++
		case c == 's':
			unit = 1000
		case c == 'm':
			unit = 60 * 1000
		case c == 'h':
			unit = 3600 * 1000
		case c == 'd':
			unit = 86400 * 1000
		default:
			return 0, false
		}
		total += n * unit
		n, digits = 0, false
	}
	if digits {
		return 0, false // a bare number is not a duration here
	}
	return total, true
}

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
