package render

import (
	"encoding/json"
	"fmt"
	"io"
	"math/big"
	"net/netip"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/nftflow/nftflow/model"
)

// JSONLister prints model objects read back from the kernel in libnftables
// JSON, the format of `nft -j list ruleset`: {"nftables": [metainfo,
// objects...]} on one line, objects written as they arrive. Its methods
// mirror Lister's and must be called in the same order.
//
// Rules carry their statements as libnftables expression objects ("expr")
// where nftflow knows their JSON form; a rule with a statement it does not
// is listed without "expr" and Close reports it.
type JSONLister struct {
	w     io.Writer
	opts  ListOptions
	text  *Lister // for set types and element decoding
	first bool
	werr  error
	// noExpr counts rules listed without "expr": some statement has no
	// JSON form yet.
	noExpr int
}

// jsonKV is one member of an ordered JSON object.
type jsonKV struct {
	k string
	v any
}

// jsonObj is a JSON object whose members keep their order, as nft's do.
type jsonObj []jsonKV

// NewJSONLister returns a JSONLister writing to w; call Close at the end.
func NewJSONLister(w io.Writer, opts ListOptions) *JSONLister {
	j := &JSONLister{w: w, opts: opts, text: NewLister(io.Discard, opts), first: true}
	j.write(`{"nftables": [`)
	j.object(jsonObj{{"metainfo", jsonObj{
		{"version", "1.0.6"}, {"release_name", "Lester Gooch #5"}, {"json_schema_version", 1},
	}}})
	return j
}

func (j *JSONLister) write(s string) {
	if j.werr == nil {
		_, j.werr = io.WriteString(j.w, s)
	}
}

// object writes one element of the nftables array.
func (j *JSONLister) object(o jsonObj) {
	if !j.first {
		j.write(", ")
	}
	j.first = false
	var sb strings.Builder
	jsonEncode(&sb, o)
	j.write(sb.String())
}

// Close ends the document and returns the first error, or an error
// wrapping ErrUndecodable as Lister.Err does.
func (j *JSONLister) Close() error {
	j.write("]}\n")
	if j.werr != nil {
		return j.werr
	}
	if err := j.text.Err(); err != nil {
		return err
	}
	if j.noExpr > 0 {
		return fmt.Errorf("%w: %d rules listed without \"expr\" (statements with no JSON form yet)", ErrUndecodable, j.noExpr)
	}
	return nil
}

// jsonEncode writes v with nft's separators (", " and ": ").
func jsonEncode(sb *strings.Builder, v any) {
	switch x := v.(type) {
	case nil:
		sb.WriteString("null")
	case jsonObj:
		sb.WriteByte('{')
		for i, kv := range x {
			if i > 0 {
				sb.WriteString(", ")
			}
			jsonQuote(sb, kv.k)
			sb.WriteString(": ")
			jsonEncode(sb, kv.v)
		}
		sb.WriteByte('}')
	case []any:
		sb.WriteByte('[')
		for i, e := range x {
			if i > 0 {
				sb.WriteString(", ")
			}
			jsonEncode(sb, e)
		}
		sb.WriteByte(']')
	case string:
		jsonQuote(sb, x)
	case *big.Int:
		sb.WriteString(x.String())
	default:
		b, _ := json.Marshal(x)
		sb.Write(b)
	}
}

// jsonQuote writes s as a JSON string exactly as json.Marshal does, without
// its allocations for the common case of plain printable ASCII.
func jsonQuote(sb *strings.Builder, s string) {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c > 0x7e || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			b, _ := json.Marshal(s)
			sb.Write(b)
			return
		}
	}
	sb.WriteByte('"')
	sb.WriteString(s)
	sb.WriteByte('"')
}

// BeginTable writes a table object.
func (j *JSONLister) BeginTable(t *model.Table) {
	j.text.BeginTable(t)
	o := jsonObj{{"family", t.Family.String()}, {"name", t.Name}, {"handle", t.Handle}}
	var flags []any
	for bit, name := range map[uint32]string{1: "dormant", 2: "owner", 4: "persist"} {
		if t.Flags&bit != 0 {
			flags = append(flags, name)
		}
	}
	if len(flags) > 0 {
		o = append(o, jsonKV{"flags", flags})
	}
	if t.Comment != "" {
		o = append(o, jsonKV{"comment", t.Comment})
	}
	j.object(jsonObj{{"table", o}})
}

// BeginTableBare only records the table (single object listings).
func (j *JSONLister) BeginTableBare(t *model.Table) { j.text.BeginTableBare(t) }

// EndTable ends a table.
func (j *JSONLister) EndTable() { j.text.EndTable() }

// AddSet records a set for later rules without listing it.
func (j *JSONLister) AddSet(s *model.Set) { j.text.AddSet(s) }

// BindingChain records an anonymous chain's rules.
func (j *JSONLister) BindingChain(name string, rules []*model.Rule) {
	j.text.BindingChain(name, rules)
}

// ChainsPrinted returns how many chains were listed.
func (j *JSONLister) ChainsPrinted() int { return j.text.ChainsPrinted() }

// Object writes a named object.
func (j *JSONLister) Object(o *model.Object) {
	base := jsonObj{{"family", o.Family.String()}, {"name", o.Name}, {"table", o.Table}, {"handle", o.Handle}}
	if c := lsUdString(o.Userdata, 0); c != "" {
		base = append(base, jsonKV{"comment", c})
	}
	switch d := o.Data.(type) {
	case *model.Counter:
		base = append(base, jsonKV{"packets", d.Packets}, jsonKV{"bytes", d.Bytes})
	case *model.Quota:
		base = append(base, jsonKV{"bytes", d.Bytes}, jsonKV{"used", d.Consumed}, jsonKV{"inv", d.Flags&1 != 0})
	case *model.Limit:
		base = append(base, jsonLimit(d)...)
	case *model.CtHelper:
		base = append(base, jsonKV{"type", d.Name}, jsonKV{"protocol", lsProtoName(d.L4Proto)}, jsonKV{"l3proto", lsL3protoName(d.L3Proto)})
	case *model.Secmark:
		base = append(base, jsonKV{"context", d.Ctx})
	case *model.Synproxy:
		base = append(base, jsonKV{"mss", d.MSS}, jsonKV{"wscale", d.Wscale})
		var fl []any
		if d.Flags&0x8 != 0 {
			fl = append(fl, "timestamp")
		}
		if d.Flags&0x4 != 0 {
			fl = append(fl, "sack-perm")
		}
		if len(fl) > 0 {
			base = append(base, jsonKV{"flags", fl})
		}
	case *model.CtExpect:
		base = append(base, jsonKV{"protocol", lsProtoName(d.L4Proto)}, jsonKV{"dport", d.DPort},
			jsonKV{"timeout", d.Timeout}, jsonKV{"size", d.Size}, jsonKV{"l3proto", lsL3protoName(d.L3Proto)})
	default:
		j.text.bad = append(j.text.bad, "object "+o.Data.Kind())
	}
	j.object(jsonObj{{lsObjTypeName(o.Type), base}})
}

func jsonLimit(d *model.Limit) []jsonKV {
	per := map[uint64]string{1: "second", 60: "minute", 3600: "hour", 86400: "day", 604800: "week"}[d.Unit]
	out := []jsonKV{}
	if d.Type == 1 {
		rate, ru := jsonBytesUnit(d.Rate)
		out = append(out, jsonKV{"rate", rate}, jsonKV{"per", per})
		if d.Flags&1 != 0 {
			out = append(out, jsonKV{"inv", true})
		}
		out = append(out, jsonKV{"rate_unit", ru})
		if d.Burst != 0 {
			b, bu := jsonBytesUnit(uint64(d.Burst))
			out = append(out, jsonKV{"burst", b}, jsonKV{"burst_unit", bu})
		}
		return out
	}
	out = append(out, jsonKV{"rate", d.Rate}, jsonKV{"per", per})
	if d.Flags&1 != 0 {
		out = append(out, jsonKV{"inv", true})
	}
	if d.Burst != 0 {
		out = append(out, jsonKV{"burst", d.Burst})
	}
	return out
}

func jsonBytesUnit(b uint64) (uint64, string) {
	f := strings.Fields(lsBytesUnit(b))
	n, _ := strconv.ParseUint(f[0], 10, 64)
	return n, f[1]
}

// Set writes a set or map with its elements (anonymous sets are only
// recorded).
func (j *JSONLister) Set(s *model.Set) {
	j.text.AddSet(s)
	if s.Flags&lsSetAnonymous != 0 {
		return
	}
	kind := "set"
	if s.Flags&(lsSetMap|lsSetObject) != 0 {
		kind = "map"
	}
	kt, dt := lsSetTypes(s)
	typ := jsonTypeNames(kt)
	if names, ok := jsonKernelConcatNames(s.KeyType, len(kt.fields)); ok {
		typ = names
	}
	o := jsonObj{{"family", s.Family.String()}, {"name", s.Name}, {"table", s.Table}, {"type", typ}, {"handle", s.Handle}}
	if s.Flags&lsSetMap != 0 {
		// nft names concatenated map data as one string.
		var names []string
		for _, f := range dt.fields {
			names = append(names, f.dt.name)
		}
		o = append(o, jsonKV{"map", strings.Join(names, " . ")})
	} else if s.Flags&lsSetObject != 0 {
		o = append(o, jsonKV{"map", lsObjTypeName(s.ObjType)})
	}
	if c := lsUdString(s.Userdata, 7); c != "" {
		o = append(o, jsonKV{"comment", c})
	}
	if s.Policy != nil && *s.Policy != 0 {
		o = append(o, jsonKV{"policy", "memory"})
	}
	if s.Size > 0 && s.Flags&lsSetConstant == 0 {
		// As in the text listing, nft 1.0.6 leaves out a constant set's size.
		o = append(o, jsonKV{"size", s.Size})
	}
	var flags []any
	for _, f := range []struct {
		bit  uint32
		name string
	}{{lsSetConstant, "constant"}, {lsSetInterval, "interval"}, {lsSetTimeout, "timeout"}, {lsSetEval, "dynamic"}} {
		if s.Flags&f.bit != 0 {
			flags = append(flags, f.name)
		}
	}
	if len(flags) > 0 {
		o = append(o, jsonKV{"flags", flags})
	}
	if s.Timeout != 0 {
		o = append(o, jsonKV{"timeout", int64(s.Timeout.Seconds())})
	}
	if s.GCInterval != 0 {
		o = append(o, jsonKV{"gc-interval", int64(s.GCInterval.Seconds())})
	}
	if len(s.Exprs) > 0 {
		var stmts []any
		for _, e := range s.Exprs {
			stmts = append(stmts, jsonObj{{e.Kind(), nil}})
		}
		o = append(o, jsonKV{"stmt", stmts})
	}
	if j.opts.Terse || !hasElements(s) {
		j.object(jsonObj{{kind, o}})
		return
	}
	// The elements come last: the object is written up to them, then
	// they are streamed one by one (a set may hold millions). They are
	// printed through the text lister and converted, so both outputs
	// agree on order and values.
	var sb strings.Builder
	jsonEncode(&sb, jsonObj{{kind, o}})
	head := strings.TrimSuffix(sb.String(), "}}")
	if !j.first {
		j.write(", ")
	}
	j.first = false
	j.write(head)
	j.write(`, "elem": [`)
	n := 0
	j.text.eachElement(s, j.text.withIfNames(kt), dt, func(t string) {
		sb.Reset()
		if n > 0 {
			sb.WriteString(", ")
		}
		jsonEncode(&sb, jsonElem(t, s.Flags&(lsSetMap|lsSetObject) != 0))
		j.write(sb.String())
		n++
	})
	j.write("]}}")
}

func jsonTypeNames(t lsSetType) any {
	if len(t.fields) == 1 {
		return t.fields[0].dt.name
	}
	var out []any
	for _, f := range t.fields {
		out = append(out, f.dt.name)
	}
	return out
}

// jsonKernelConcatNames handles a typeof concatenation whose kernel key
// type has a zero (untyped) field, as "ip saddr . ct original proto-dst"
// gets: nft 1.0.6 names the key type from the kernel id, reading fields
// from the most significant one (after leading zeros) and stopping at the
// first zero, so such a key lists with fewer names. ok is false when the
// id has no zero field among the n fields.
func jsonKernelConcatNames(id uint32, n int) (any, bool) {
	if n < 2 {
		return nil, false
	}
	var ids []uint32 // most significant first
	for v := id; v != 0; v >>= 6 {
		ids = append([]uint32{v & 0x3f}, ids...)
	}
	if len(ids) == n && !slices.Contains(ids, 0) {
		return nil, false
	}
	var names []any
	for _, i := range ids {
		if i == 0 {
			break
		}
		names = append(names, lsDtypeByID(i).name)
	}
	switch len(names) {
	case 0:
		return nil, false
	case 1:
		return names[0], true
	}
	return names, true
}

// jsonElem converts one printed element ("a . b-c : accept") to JSON.
func jsonElem(text string, isMap bool) any {
	key, data, hasData := text, "", false
	if isMap {
		if i := strings.LastIndex(text, " : "); i >= 0 {
			key, data, hasData = text[:i], text[i+3:], true
		}
	}
	var extras jsonObj
	// Element options follow the key: timeout, expires, comment, counter.
	type opt struct {
		at int
		kw string
	}
	var opts []opt
	for _, kw := range []string{" timeout ", " expires ", " comment ", " counter ", " limit "} {
		if i := strings.Index(key, kw); i >= 0 {
			opts = append(opts, opt{i, kw})
		}
	}
	sort.Slice(opts, func(a, b int) bool { return opts[a].at < opts[b].at })
	// nft 1.0.6 gives an element the JSON of its first statement only.
	stmts := 0
	for n, o := range opts {
		if o.kw == " counter " || o.kw == " limit " {
			if stmts++; stmts > 1 {
				continue
			}
		}
		end := len(key)
		if n+1 < len(opts) {
			end = opts[n+1].at
		}
		rest := key[o.at+len(o.kw) : end]
		var v any = jsonScalar(rest)
		switch o.kw {
		case " counter ":
			var p, b uint64
			if _, err := fmt.Sscanf(rest, "packets %d bytes %d", &p, &b); err == nil {
				v = jsonObj{{"packets", p}, {"bytes", b}}
			}
		case " limit ":
			if l, ok := jsonParseLimit(rest); ok {
				v = jsonObj(jsonLimit(&l))
			}
		case " timeout ", " expires ":
			if sec, ok := jsonSeconds(rest); ok {
				v = sec
			}
		}
		extras = append(extras, jsonKV{strings.TrimSpace(o.kw), v})
	}
	if len(opts) > 0 {
		key = key[:opts[0].at]
	}
	v := jsonKey(key)
	if len(extras) > 0 {
		v = jsonObj{{"elem", append(jsonObj{{"val", v}}, extras...)}}
	}
	if hasData {
		return []any{v, jsonData(data)}
	}
	return v
}

// jsonParseLimit reads back a limit as Lister prints it after "limit ":
// "rate [over] N/UNIT [burst B packets]" or
// "rate [over] N BYTEUNIT/UNIT [burst B BYTEUNIT]".
func jsonParseLimit(text string) (model.Limit, bool) {
	var l model.Limit
	f := strings.Fields(text)
	if len(f) < 2 || f[0] != "rate" {
		return l, false
	}
	f = f[1:]
	if f[0] == "over" {
		l.Flags |= 1
		f = f[1:]
	}
	secs := map[string]uint64{"second": 1, "minute": 60, "hour": 3600, "day": 86400, "week": 604800}
	mult := map[string]uint64{"bytes": 1, "kbytes": 1024, "mbytes": 1024 * 1024, "gbytes": 1024 * 1024 * 1024}
	if len(f) == 0 {
		return l, false
	}
	if n, per, ok := strings.Cut(f[0], "/"); ok {
		r, err := strconv.ParseUint(n, 10, 64)
		if err != nil || secs[per] == 0 {
			return l, false
		}
		// The text leaves out the default packet burst of 5.
		l.Rate, l.Unit, l.Burst = r, secs[per], 5
		f = f[1:]
	} else {
		if len(f) < 2 {
			return l, false
		}
		u, per, ok := strings.Cut(f[1], "/")
		r, err := strconv.ParseUint(f[0], 10, 64)
		if !ok || err != nil || mult[u] == 0 || secs[per] == 0 {
			return l, false
		}
		l.Type, l.Rate, l.Unit = 1, r*mult[u], secs[per]
		f = f[2:]
	}
	if len(f) >= 3 && f[0] == "burst" {
		b, err := strconv.ParseUint(f[1], 10, 32)
		if err != nil {
			return l, false
		}
		if l.Type == 1 {
			if mult[f[2]] == 0 {
				return l, false
			}
			b *= mult[f[2]]
		}
		l.Burst = uint32(b)
		f = f[3:]
	}
	return l, len(f) == 0
}

func jsonKey(key string) any {
	parts := strings.Split(key, " . ")
	if len(parts) > 1 {
		var c []any
		for _, p := range parts {
			c = append(c, jsonAtom(p))
		}
		return jsonObj{{"concat", c}}
	}
	return jsonAtom(key)
}

// jsonAtom converts a value, prefix or range.
func jsonAtom(s string) any {
	if parts := strings.Split(s, " | "); len(parts) > 1 && !strings.HasPrefix(s, `"`) {
		// Flag combinations nest left to right: ((a | b) | c).
		var v any = parts[0]
		for _, p := range parts[1:] {
			v = jsonObj{{"|", []any{v, p}}}
		}
		return v
	}
	if lo, hi, ok := strings.Cut(s, `"-"`); ok && strings.HasPrefix(lo, `"`) && strings.HasSuffix(hi, `"`) {
		return jsonObj{{"range", []any{lo[1:], hi[:len(hi)-1]}}}
	}
	if !strings.HasPrefix(s, `"`) {
		if i := strings.LastIndex(s, "/"); i > 0 {
			if n, err := strconv.Atoi(s[i+1:]); err == nil {
				return jsonObj{{"prefix", jsonObj{{"addr", s[:i]}, {"len", n}}}}
			}
		}
		if i := strings.Index(s, "-"); i > 0 {
			lo, hi := s[:i], s[i+1:]
			if jsonIsNumber(lo) && jsonIsNumber(hi) || jsonIsAddr(lo) && jsonIsAddr(hi) {
				return jsonObj{{"range", []any{jsonScalar(lo), jsonScalar(hi)}}}
			}
		}
	}
	return jsonScalar(s)
}

func jsonIsNumber(s string) bool {
	if strings.HasPrefix(s, "0x") {
		_, err := strconv.ParseUint(s[2:], 16, 64)
		return err == nil
	}
	_, err := strconv.ParseUint(s, 10, 64)
	return err == nil
}

func jsonIsAddr(s string) bool {
	_, err := netip.ParseAddr(s)
	return err == nil
}

// jsonScalar turns a printed scalar into a JSON number or string.
func jsonScalar(s string) any {
	if strings.HasPrefix(s, `"`) && strings.HasSuffix(s, `"`) && len(s) >= 2 {
		return s[1 : len(s)-1]
	}
	if strings.HasPrefix(s, "0x") {
		if len(s) > 2+16 {
			// Wider than 64 bits: nft prints the text form as a string.
			return s
		}
		if v, ok := new(big.Int).SetString(s[2:], 16); ok {
			return v
		}
	}
	if v, err := strconv.ParseUint(s, 10, 64); err == nil {
		return v
	}
	return s
}

// jsonData converts map data: a verdict, or a value.
func jsonData(s string) any {
	f := strings.Fields(s)
	switch {
	case len(f) == 1 && (f[0] == "accept" || f[0] == "drop" || f[0] == "continue" || f[0] == "return"):
		return jsonObj{{f[0], nil}}
	case len(f) == 2 && (f[0] == "jump" || f[0] == "goto"):
		return jsonObj{{f[0], jsonObj{{"target", f[1]}}}}
	}
	return jsonKey(s)
}

// Flowtable writes a flowtable, with its flags (offload, counter).
func (j *JSONLister) Flowtable(f *model.Flowtable) {
	o := jsonObj{{"family", f.Family.String()}, {"name", f.Name}, {"table", f.Table}, {"handle", f.Handle},
		{"hook", lsHookName(model.FamilyNetdev, f.Hooknum)}, {"prio", f.Priority}}
	switch len(f.Devices) {
	case 0:
	case 1:
		o = append(o, jsonKV{"dev", f.Devices[0]})
	default:
		var devs []any
		for _, d := range lsReversed(f.Devices) {
			devs = append(devs, d)
		}
		o = append(o, jsonKV{"dev", devs})
	}
	var flags []any
	if f.Flags&model.FlowtableHWOffload != 0 {
		flags = append(flags, "offload")
	}
	if f.Flags&model.FlowtableCounter != 0 {
		flags = append(flags, "counter")
	}
	if len(flags) > 0 {
		o = append(o, jsonKV{"flags", flags})
	}
	j.object(jsonObj{{"flowtable", o}})
}

// BeginChain writes a chain object.
func (j *JSONLister) BeginChain(c *model.Chain) {
	j.text.chains++
	o := jsonObj{{"family", c.Family.String()}, {"table", c.Table}, {"name", c.Name}, {"handle", c.Handle}}
	if c.Comment != "" {
		o = append(o, jsonKV{"comment", c.Comment})
	}
	if c.Hook != nil {
		o = append(o, jsonKV{"type", c.Hook.Type}, jsonKV{"hook", lsHookName(c.Family, c.Hook.Hooknum)})
		switch len(c.Hook.Devices) {
		case 0:
		case 1:
			o = append(o, jsonKV{"dev", c.Hook.Devices[0]})
		default:
			var devs []any
			for _, d := range lsReversed(c.Hook.Devices) {
				devs = append(devs, d)
			}
			o = append(o, jsonKV{"dev", devs})
		}
		pol := "accept"
		if c.Policy != nil && *c.Policy == 0 {
			pol = "drop"
		}
		o = append(o, jsonKV{"prio", c.Hook.Priority}, jsonKV{"policy", pol})
	}
	j.object(jsonObj{{"chain", o}})
}

// EndChain ends a chain.
func (j *JSONLister) EndChain() {}

// ChainsFirst reports that, as in nft's JSON, all chains of a table come
// before its rules.
func (j *JSONLister) ChainsFirst() bool { return true }

// Rule writes a rule object (without statements, see JSONLister).
func (j *JSONLister) Rule(r *model.Rule) {
	// RuleJSON decodes the rule as RuleText does, so undecodable
	// expressions are reported as they are in text output.
	o := jsonObj{{"family", r.Family.String()}, {"table", r.Table}, {"chain", r.Chain}, {"handle", r.Handle}}
	if r.Comment != "" {
		o = append(o, jsonKV{"comment", r.Comment})
	}
	if expr, ok := j.text.RuleJSON(r); ok {
		o = append(o, jsonKV{"expr", expr})
	} else {
		j.noExpr++
	}
	j.object(jsonObj{{"rule", o}})
}
