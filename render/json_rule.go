package render

import (
	"fmt"
	"strings"

	"github.com/nftflow/nftflow/model"
)

// The helpers below give the statements and selectors of a decoded rule
// their libnftables JSON form (nft -j), next to their text. A nil result
// means "no JSON form yet": the rule is then listed without "expr".

// valueJS is the JSON of the selector where a value is expected (with
// its operators applied).
func (s *lsSel) valueJS() any {
	if s.exprText != "" && s.binJS != nil {
		return s.binJS
	}
	return s.js
}

func jsonPayload(proto, field string) any {
	return jsonObj{{"payload", jsonObj{{"protocol", proto}, {"field", field}}}}
}

func jsonRawPayload(e *model.Payload) any {
	base := [...]string{"ll", "nh", "th", "ih"}
	if int(e.Base) >= len(base) {
		return nil
	}
	return jsonObj{{"payload", jsonObj{{"base", base[e.Base]}, {"offset", e.Offset * 8}, {"len", e.Len * 8}}}}
}

// jsonBinop is the JSON of a bitwise operation on left.
func jsonBinop(left any, e *model.Bitwise, v func([]byte) string) any {
	if left == nil {
		return nil
	}
	switch {
	case e.Op == model.BitwiseLShift:
		return jsonObj{{"<<", []any{left, lsHostU32(e.Data)}}}
	case e.Op == model.BitwiseRShift:
		return jsonObj{{">>", []any{left, lsHostU32(e.Data)}}}
	case lsAllZero(e.Xor):
		m := v(e.Mask)
		if strings.Contains(m, ",") {
			return jsonObj{{"&", []any{left, jsonFlagsOr(m)}}}
		}
		return jsonObj{{"&", []any{left, jsonAtom(m)}}}
	case lsAllFF(e.Mask):
		return jsonObj{{"^", []any{left, jsonAtom(v(e.Xor))}}}
	case lsIsComplement(e.Mask, e.Xor):
		return jsonObj{{"|", []any{left, jsonAtom(v(e.Xor))}}}
	case len(e.Mask) == len(e.Xor):
		or := make([]byte, len(e.Mask))
		disjoint := true
		for i := range or {
			or[i] = e.Mask[i] | e.Xor[i]
			disjoint = disjoint && e.Mask[i]&e.Xor[i] == 0
		}
		if disjoint {
			return jsonObj{{"|", []any{jsonObj{{"&", []any{left, jsonAtom(v(or))}}}, jsonAtom(v(e.Xor))}}}
		}
		return jsonObj{{"^", []any{jsonObj{{"&", []any{left, jsonAtom(v(e.Mask))}}}, jsonAtom(v(e.Xor))}}}
	}
	return nil
}

// jsonMatch is the JSON of "selector [op] value" as match printed it.
func jsonMatch(s *lsSel, value string) any {
	left := s.js
	if left == nil {
		return nil
	}
	op := "=="
	for _, o := range []string{"!= ", "<= ", ">= ", "< ", "> ", "== "} {
		if strings.HasPrefix(value, o) {
			op = strings.TrimSpace(o)
			value = value[len(o):]
			break
		}
	}
	var right any
	switch {
	case s.mask != nil && s.dt.dt != nil && s.dt.dt.Bitmask && !strings.Contains(value, " / "):
		// A flag test: (reg & flags) != 0, or "! flags": none of them.
		op = "in"
		if v, ok := strings.CutPrefix(value, "! "); ok {
			op, value = "!", v
		}
		if parts := strings.Split(value, ","); len(parts) > 1 {
			var list []any
			for _, p := range parts {
				list = append(list, p)
			}
			right = list
		} else if s.dt.id == lsTCtLabel {
			right = jsonScalar(value)
		} else {
			right = value
		}
	case strings.Contains(value, " / "):
		// (reg & mask) == value on flags: "tcp flags syn / syn,ack".
		v, m, _ := strings.Cut(value, " / ")
		left = jsonObj{{"&", []any{left, jsonFlags(m)}}}
		right = jsonFlags(v)
	case s.dt.id == lsTIfindex && !strings.HasPrefix(value, `"`):
		// An interface index with no name (fib ... oif 0): nft prints
		// the text of the ifindex type, a string.
		right = value
	case s.dt.id == lsTRealm && !strings.HasPrefix(value, "{"):
		// Realms are symbolic constants: JSON strings even when numeric.
		right = strings.Trim(value, `"`)
	case s.dt.id == lsTBoolean:
		right = value == "exists"
	case s.dt.id == lsTTime && strings.HasPrefix(value, "{ "):
		right = jsonTimeSet(value)
	case s.dt.id == lsTTime:
		if lo, hi, ok := strings.Cut(value, "-"); ok {
			a, ok1 := jsonSeconds(lo)
			b, ok2 := jsonSeconds(hi)
			if !ok1 || !ok2 {
				return nil
			}
			right = jsonObj{{"range", []any{a, b}}}
			break
		}
		sec, ok := jsonSeconds(value)
		if !ok {
			return nil
		}
		right = sec
	default:
		right = jsonAtom(value)
		if r, ok := right.(jsonObj); ok && len(r) == 1 && r[0].k == "prefix" && s.dt.id == lsTMark {
			// A mark prefix: the value is a number.
			if p, ok := r[0].v.(jsonObj); ok && len(p) == 2 {
				if a, ok := p[0].v.(string); ok {
					right = jsonObj{{"prefix", jsonObj{{"addr", jsonScalar(a)}, p[1]}}}
				}
			}
		}
		if r, ok := right.(jsonObj); ok && len(r) == 1 && r[0].k == "range" && s.dt.dt != nil &&
			len(s.dt.dt.Symbols) > 0 && !s.dt.dt.Bitmask && s.dt.id != lsTInetService && s.dt.id != lsTInetProto {
			// Range bounds print as numbers in text but by name in JSON.
			bounds := r[0].v.([]any)
			named := make([]any, len(bounds))
			for i, b := range bounds {
				named[i] = b
				if n, ok := b.(uint64); ok {
					if name, ok := s.dt.dt.SymbolName(n); ok {
						named[i] = name
					}
				}
			}
			right = jsonObj{{"range", named}}
		}
	}
	return jsonObj{{"match", jsonObj{{"op", op}, {"left", left}, {"right", right}}}}
}

func jsonVerdict(v *model.Verdict) any {
	switch v.Code {
	case -3, -4:
		return jsonObj{{lsVerdictName(v.Code, "")[:4], jsonObj{{"target", v.Chain}}}}
	}
	name := lsVerdictName(v.Code, v.Chain)
	if strings.Contains(name, " ") {
		return nil
	}
	return jsonObj{{name, nil}}
}

// jsonSetKey is the JSON of the key a "NAME set VALUE" statement writes.
func jsonSetKey(name string) any {
	switch {
	case strings.HasPrefix(name, "meta "):
		return jsonObj{{"meta", jsonObj{{"key", strings.TrimPrefix(name, "meta ")}}}}
	case strings.HasPrefix(name, "ct original ") || strings.HasPrefix(name, "ct reply "):
		f := strings.Fields(name)
		return jsonObj{{"ct", jsonObj{{"key", f[2]}, {"dir", f[1]}}}}
	case strings.HasPrefix(name, "ct "):
		return jsonObj{{"ct", jsonObj{{"key", strings.TrimPrefix(name, "ct ")}}}}
	case !strings.Contains(name, " "):
		return jsonObj{{"meta", jsonObj{{"key", name}}}}
	}
	f := strings.Fields(name)
	if len(f) == 2 {
		return jsonPayload(f[0], f[1])
	}
	if len(f) == 3 && f[0] == "arp" {
		// "arp daddr ether": the field name has a space
		return jsonPayload(f[0], f[1]+" "+f[2])
	}
	if len(f) >= 3 && f[0] == "tcp" && f[1] == "option" {
		o := jsonObj{{"name", f[2]}}
		if len(f) > 3 {
			o = append(o, jsonKV{"field", f[3]})
		}
		return jsonObj{{"tcp option", o}}
	}
	return nil
}

// jsonStringSet turns the numbers of an anonymous set's JSON into strings,
// as nft prints realms.
func jsonStringSet(v any) any {
	o, ok := v.(jsonObj)
	if !ok || len(o) != 1 || o[0].k != "set" {
		return v
	}
	elems, ok := o[0].v.([]any)
	if !ok {
		return v
	}
	out := make([]any, len(elems))
	for i, e := range elems {
		out[i] = e
		if n, ok := e.(uint64); ok {
			out[i] = fmt.Sprint(n)
		}
	}
	return jsonObj{{"set", out}}
}

// jsonTimeSet is the JSON of an anonymous set of durations
// ("{ 33s, 1m7s, 33s-55s }"): seconds and ranges of seconds.
func jsonTimeSet(text string) any {
	inner := strings.TrimSuffix(strings.TrimPrefix(text, "{ "), " }")
	var elems []any
	for _, e := range strings.Split(inner, ", ") {
		if lo, hi, ok := strings.Cut(e, "-"); ok {
			a, ok1 := jsonSeconds(lo)
			b, ok2 := jsonSeconds(hi)
			if !ok1 || !ok2 {
				return nil
			}
			elems = append(elems, jsonObj{{"range", []any{a, b}}})
			continue
		}
		v, ok := jsonSeconds(e)
		if !ok {
			return nil
		}
		elems = append(elems, v)
	}
	return jsonObj{{"set", elems}}
}

// jsonSeconds turns a printed duration ("1h2m3s") into whole seconds.
func jsonSeconds(d string) (uint64, bool) {
	var total, n uint64
	digits := false
	for i := 0; i < len(d); i++ {
		c := d[i]
		if c >= '0' && c <= '9' {
			n = n*10 + uint64(c-'0')
			digits = true
			continue
		}
		if !digits {
			return 0, false
		}
		switch {
		case strings.HasPrefix(d[i:], "ms"):
			total += n / 1000
			i++
		case c == 'd':
			total += n * 86400
		case c == 'h':
			total += n * 3600
		case c == 'm':
			total += n * 60
		case c == 's':
			total += n
		default:
			return 0, false
		}
		n, digits = 0, false
	}
	return total, !digits
}

// jsonStmt is the JSON of a statement that reads no register.
func jsonStmt(e model.Expr) any {
	switch e := e.(type) {
	case *model.Counter:
		return jsonObj{{"counter", jsonObj{{"packets", e.Packets}, {"bytes", e.Bytes}}}}
	case *model.Limit:
		o := jsonLimit(e)
		if e.Type != 1 && e.Burst == 0 {
			o = append(o, jsonKV{"burst", 0})
		}
		if e.Type == 1 && e.Burst == 0 {
			o = append(o, jsonKV{"burst", 0}, jsonKV{"burst_unit", "bytes"})
		}
		return jsonObj{{"limit", jsonObj(o)}}
	case *model.Quota:
		v, u := jsonBytesUnit(e.Bytes)
		o := jsonObj{{"val", v}, {"val_unit", u}}
		if e.Consumed != 0 {
			uv, uu := jsonBytesUnit(e.Consumed)
			o = append(o, jsonKV{"used", uv}, jsonKV{"used_unit", uu})
		}
		if e.Flags&1 != 0 {
			o = append(o, jsonKV{"inv", true})
		}
		return jsonObj{{"quota", o}}
	case *model.Log:
		o := jsonObj{}
		if e.HasPrefix {
			o = append(o, jsonKV{"prefix", e.Prefix})
		}
		if e.HasGroup {
			o = append(o, jsonKV{"group", e.Group})
		}
		if e.Snaplen != 0 {
			o = append(o, jsonKV{"snaplen", e.Snaplen})
		}
		if e.QThreshold != 0 {
			o = append(o, jsonKV{"queue-threshold", e.QThreshold})
		}
		if e.HasLevel && e.Level != 4 {
			levels := []string{"emerg", "alert", "crit", "err", "warn", "notice", "info", "debug", "audit"}
			if int(e.Level) < len(levels) {
				o = append(o, jsonKV{"level", levels[e.Level]})
			}
		}
		if e.Flags&0x2f == 0x2f {
			o = append(o, jsonKV{"flags", "all"})
		} else if e.Flags != 0 {
			var flags []any
			for _, f := range []struct {
				bit  uint32
				name string
			}{{0x1, "tcp sequence"}, {0x2, "tcp options"}, {0x4, "ip options"}, {0x8, "skuid"}, {0x20, "ether"}} {
				if e.Flags&f.bit != 0 {
					flags = append(flags, f.name)
				}
			}
			switch len(flags) {
			case 0:
			case 1:
				o = append(o, jsonKV{"flags", flags[0]})
			default:
				o = append(o, jsonKV{"flags", flags})
			}
		}
		if len(o) == 0 {
			return jsonObj{{"log", nil}}
		}
		return jsonObj{{"log", o}}
	case *model.Notrack:
		return jsonObj{{"notrack", nil}}
	case *model.FlowOffload:
		return jsonObj{{"flow", jsonObj{{"op", "add"}, {"flowtable", "@" + e.Flowtable}}}}
	case *model.Masq:
		if e.RegProtoMin == 0 && e.Flags == 0 {
			return jsonObj{{"masquerade", nil}}
		}
	case *model.Redir:
		if e.RegProtoMin == 0 && e.Flags == 0 {
			return jsonObj{{"redirect", nil}}
		}
	case *model.Reject:
		switch e.Type {
		case 1:
			return jsonObj{{"reject", jsonObj{{"type", "tcp reset"}}}}
		}
		return nil
	case *model.Objref:
		if e.Set == "" {
			return jsonObj{{lsObjTypeName(e.Type), e.Name}}
		}
	case *model.Synproxy:
		o := jsonObj{}
		if e.MSS != 0 {
			o = append(o, jsonKV{"mss", e.MSS})
		}
		if e.Wscale != 0 {
			o = append(o, jsonKV{"wscale", e.Wscale})
		}
		var flags []any
		if e.Flags&0x8 != 0 {
			flags = append(flags, "timestamp")
		}
		if e.Flags&0x4 != 0 {
			flags = append(flags, "sack-perm")
		}
		if flags != nil {
			o = append(o, jsonKV{"flags", flags})
		}
		if len(o) == 0 {
			return jsonObj{{"synproxy", nil}}
		}
		return jsonObj{{"synproxy", o}}
	case *model.Connlimit:
		o := jsonObj{{"val", e.Count}}
		if e.Flags&1 != 0 {
			o = append(o, jsonKV{"inv", true})
		}
		return jsonObj{{"ct count", o}}
	}
	return nil
}

// keyJSON is the JSON of a set key held in sreg (a concatenation when the
// set's key is longer than the first selector).
func (c *lsRuleCtx) keyJSON(sreg uint32, set *model.Set) any {
	kt, _ := lsSetTypes(set)
	// fieldJS is a selector's JSON; an immediate value (ip saddr . 22)
	// takes the type of its field in the key, as concatText prints it.
	fieldJS := func(s *lsSel, i int) any {
		if s.raw && s.text == "" && s.valueJS() == nil && i < len(kt.fields) {
			f := kt.fields[i]
			b := s.mask
			if f.size > 0 && f.size < len(b) {
				b = b[:f.size]
			}
			return jsonAtom(lsFormatKey(f, b))
		}
		return s.valueJS()
	}
	key := c.regs[lsReg32(sreg)]
	if key == nil || fieldJS(key, 0) == nil {
		return nil
	}
	if set.KeyLen == 0 || key.size == 0 || int(set.KeyLen) <= lsRoundUp4(key.size) {
		return fieldJS(key, 0)
	}
	parts := []any{fieldJS(key, 0)}
	r := lsReg32(sreg) + uint32(lsRoundUp4(key.size)/4)
	n := lsRoundUp4(key.size)
	for n < int(set.KeyLen) {
		s := c.regs[r]
		if s == nil || s.size == 0 || fieldJS(s, len(parts)) == nil {
			return nil
		}
		parts = append(parts, fieldJS(s, len(parts)))
		n += lsRoundUp4(s.size)
		r += uint32(lsRoundUp4(s.size) / 4)
	}
	return jsonObj{{"concat", parts}}
}

// setRefJSON is the JSON of "@name" or of an anonymous set's elements,
// converted from their printed form.
func (c *lsRuleCtx) setRefJSON(set *model.Set, ref string) any {
	if set.Flags&lsSetAnonymous == 0 {
		return ref
	}
	inner := strings.TrimSuffix(strings.TrimPrefix(ref, "{ "), " }")
	isMap := set.Flags&(lsSetMap|lsSetObject) != 0
	var elems []any
	for _, e := range strings.Split(inner, ", ") {
		elems = append(elems, jsonElem(e, isMap))
	}
	return jsonObj{{"set", elems}}
}

// jsonFlags is a comma-separated flag list as JSON: a string for one flag,
// a list for several.
func jsonFlags(v string) any {
	parts := strings.Split(v, ",")
	if len(parts) == 1 {
		return v
	}
	var list []any
	for _, p := range parts {
		list = append(list, p)
	}
	return list
}

// jsonFlagsOr is the JSON of a flag combination "a,b,c" used as an
// operand of a binary operation: nft nests it as ((a | b) | c).
func jsonFlagsOr(v string) any {
	parts := strings.Split(v, ",")
	var o any = parts[0]
	for _, p := range parts[1:] {
		o = jsonObj{{"|", []any{o, p}}}
	}
	return o
}

// jsonReject is the JSON of a reject statement in family fam.
func jsonReject(e *model.Reject, fam model.Family) any {
	switch e.Type {
	case 1:
		return jsonObj{{"reject", jsonObj{{"type", "tcp reset"}}}}
	case 0, 2:
		text := lsRejectText(e, fam)
		typ := "icmp"
		switch {
		case e.Type == 2:
			typ = "icmpx"
		case fam == model.FamilyIP6:
			typ = "icmpv6"
		}
		code := ""
		if text == "reject" {
			code = map[string]string{"icmp": "port-unreachable", "icmpx": "port-unreachable", "icmpv6": "port-unreachable"}[typ]
		} else if f := strings.Fields(text); len(f) == 4 {
			code = f[3]
		} else {
			return nil
		}
		return jsonObj{{"reject", jsonObj{{"type", typ}, {"expr", code}}}}
	}
	return nil
}
