package plan

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"reflect"
	"sort"
	"strconv"
	"strings"

	"github.com/nftflow/nftflow/model"
)

// canon writes a canonical text form of v: nil and empty slices are the
// same, map keys are sorted, and fields named HostOrder (printing hints
// never sent to the kernel) are skipped.
func canon(b *strings.Builder, v reflect.Value) { canonWith(canonOut{sb: b}, v, canonCache{}) }

// canonCache holds what canon needs of each type it meets, so that keying
// many rules does not ask reflect for the same fields again.
type canonCache map[reflect.Type]*canonType

// canonType is a type's name and, for structs, the fields canon writes.
type canonType struct {
	str    string       // Type.String
	name   string       // Type.Name
	fields []canonField // of structs
}

type canonField struct {
	index int
	name  string
}

func (cc canonCache) of(t reflect.Type) *canonType {
	if ct := cc[t]; ct != nil {
		return ct
	}
	ct := &canonType{str: t.String(), name: t.Name()}
	if t.Kind() == reflect.Struct {
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			if f.Name == "HostOrder" || !f.IsExported() {
				continue
			}
			ct.fields = append(ct.fields, canonField{i, f.Name})
		}
	}
	cc[t] = ct
	return ct
}

// canonOut is where canonWith writes: a strings.Builder, or only the
// hash of the text (hashWriter). A concrete type, so that the short
// buffers canonWith formats into stay on the stack.
type canonOut struct {
	sb *strings.Builder
	h  *hashWriter
}

func (o canonOut) put(p []byte) {
	if o.h != nil {
		o.h.Write(p)
	} else {
		o.sb.Write(p)
	}
}

func (o canonOut) puts(s string) {
	if o.h != nil {
		o.h.WriteString(s)
	} else {
		o.sb.WriteString(s)
	}
}

func (o canonOut) putc(c byte) {
	if o.h != nil {
		o.h.WriteByte(c)
	} else {
		o.sb.WriteByte(c)
	}
}

// hashWriter is the 64-bit FNV-1a hash of what is written to it (the
// hash hashOf computes), without allocating.
type hashWriter struct{ h uint64 }

func newHashWriter() *hashWriter { return &hashWriter{h: 14695981039346656037} }

func (w *hashWriter) Write(p []byte) (int, error) {
	for _, c := range p {
		w.h = (w.h ^ uint64(c)) * 1099511628211
	}
	return len(p), nil
}

func (w *hashWriter) WriteString(s string) (int, error) {
	for i := 0; i < len(s); i++ {
		w.h = (w.h ^ uint64(s[i])) * 1099511628211
	}
	return len(s), nil
}

func (w *hashWriter) WriteByte(c byte) error {
	w.h = (w.h ^ uint64(c)) * 1099511628211
	return nil
}

func canonWith(b canonOut, v reflect.Value, cc canonCache) {
	switch v.Kind() {
	case reflect.Invalid:
		b.puts("nil")
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			b.puts("nil")
			return
		}
		if v.Kind() == reflect.Interface {
			b.puts(cc.of(v.Elem().Type()).str)
		}
		canonWith(b, v.Elem(), cc)
	case reflect.Struct:
		ct := cc.of(v.Type())
		b.puts(ct.name)
		b.putc('{')
		for _, f := range ct.fields {
			b.puts(f.name)
			b.putc(':')
			canonWith(b, v.Field(f.index), cc)
			b.putc(' ')
		}
		b.putc('}')
	case reflect.Slice, reflect.Array:
		if v.Type().Elem().Kind() == reflect.Uint8 {
			b.puts("0x")
			if v.Kind() == reflect.Slice {
				if src := v.Bytes(); len(src) <= 32 {
					var buf [64]byte // no allocation for the usual short data
					hex.Encode(buf[:], src)
					b.put(buf[:2*len(src)])
				} else {
					b.puts(hex.EncodeToString(src))
				}
			} else {
				const digits = "0123456789abcdef"
				for i := 0; i < v.Len(); i++ {
					x := v.Index(i).Uint()
					b.putc(digits[x>>4&0xf])
					b.putc(digits[x&0xf])
				}
			}
			return
		}
		b.putc('[')
		for i := 0; i < v.Len(); i++ {
			canonWith(b, v.Index(i), cc)
			b.putc(',')
		}
		b.putc(']')
	case reflect.Map:
		keys := v.MapKeys()
		sort.Slice(keys, func(i, j int) bool { return fmt.Sprint(keys[i]) < fmt.Sprint(keys[j]) })
		b.putc('{')
		for _, k := range keys {
			canonWith(b, k, cc)
			b.putc(':')
			canonWith(b, v.MapIndex(k), cc)
			b.putc(',')
		}
		b.putc('}')
	case reflect.String:
		var buf [64]byte
		b.put(strconv.AppendQuote(buf[:0], v.String()))
	case reflect.Bool:
		b.puts(strconv.FormatBool(v.Bool()))
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		var buf [24]byte
		b.put(strconv.AppendInt(buf[:0], v.Int(), 10))
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		var buf [24]byte
		b.put(strconv.AppendUint(buf[:0], v.Uint(), 10))
	default:
		b.puts(fmt.Sprintf("%v", v.Interface()))
	}
}

// setResolver names an anonymous set by its content, given the name and
// batch id a rule refers to it by; ok is false for named sets.
type setResolver func(name string, id uint32) (key string, ok bool)

// isAnon reports whether a set name is an anonymous set's.
func isAnon(name string) bool {
	return strings.HasPrefix(name, "__set") || strings.HasPrefix(name, "__map") || strings.HasPrefix(name, "__objmap")
}

// normExpr returns a copy of e without run-time state (counter values,
// consumed quota, last-seen time) and with anonymous set references
// replaced by the sets' contents, so that a compiled rule and the same
// rule read back from the kernel compare equal.
func normExpr(e model.Expr, anon setResolver) model.Expr {
	ref := func(name string, id uint32) string {
		if isAnon(name) || name == "" && id != 0 {
			if k, ok := anon(name, id); ok {
				return "anon:" + k
			}
		}
		return name
	}
	switch x := e.(type) {
	case *model.Counter:
		return &model.Counter{}
	case *model.Quota:
		c := *x
		c.Consumed = 0
		c.Flags &^= quotaDepleted // state, not configuration
		return &c
	case *model.Last:
		return &model.Last{}
	case *model.Lookup:
		c := *x
		c.Set, c.SetID = ref(x.Set, x.SetID), 0
		return &c
	case *model.Dynset:
		c := *x
		c.Set, c.SetID = ref(x.Set, x.SetID), 0
		c.Exprs = normExprs(x.Exprs, anon)
		return &c
	case *model.Objref:
		c := *x
		if x.Set != "" || x.SetID != 0 {
			// The map form carries no type: the map's decides.
			c.Set, c.SetID, c.Type = ref(x.Set, x.SetID), 0, 0
		}
		return &c
	case *model.Log:
		c := *x
		if !c.HasGroup && !c.HasLevel {
			// The kernel reports syslog logging at its default level.
			c.Level, c.HasLevel = logLevelWarning, true
		}
		return &c
	case *model.Inner:
		c := *x
		if x.Expr != nil {
			c.Expr = normExpr(x.Expr, anon)
		}
		return &c
	case *model.NAT:
		// The kernel fills in the range end registers and the
		// NF_NAT_RANGE_* flags the ranges imply (nft_nat_init).
		c := *x
		if c.RegAddrMin != 0 {
			if c.RegAddrMax == 0 {
				c.RegAddrMax = c.RegAddrMin
			}
			c.Flags |= natRangeMapIPs
		}
		if c.RegProtoMin != 0 {
			if c.RegProtoMax == 0 {
				c.RegProtoMax = c.RegProtoMin
			}
			c.Flags |= natRangeProtoSpecified
		}
		return &c
	case *model.Masq:
		c := *x
		if c.RegProtoMin != 0 {
			if c.RegProtoMax == 0 {
				c.RegProtoMax = c.RegProtoMin
			}
			c.Flags |= natRangeProtoSpecified
		}
		return &c
	case *model.Redir:
		c := *x
		if c.RegProtoMin != 0 {
			if c.RegProtoMax == 0 {
				c.RegProtoMax = c.RegProtoMin
			}
			c.Flags |= natRangeProtoSpecified
		}
		return &c
	}
	return e
}

// NF_NAT_RANGE_* flags (uapi nf_nat.h).
const (
	natRangeMapIPs         uint32 = 0x1
	natRangeProtoSpecified uint32 = 0x2
)

func normExprs(es []model.Expr, anon setResolver) []model.Expr {
	out := make([]model.Expr, 0, len(es))
	for i := 0; i < len(es); i++ {
		// nft 1.0.6 sends a range match as a cmp gte, cmp lte pair.
		if r, ok := cmpPairRange(es, i); ok {
			out = append(out, r)
			i++
			continue
		}
		out = append(out, normExpr(es[i], anon))
	}
	return out
}

// Cmp operators (NFT_CMP_*).
const (
	cmpLTE uint32 = 3
	cmpGTE uint32 = 5
)

// cmpPairRange returns the range "cmp gte; cmp lte" on one register at
// es[i] means.
func cmpPairRange(es []model.Expr, i int) (*model.Range, bool) {
	if i+1 >= len(es) {
		return nil, false
	}
	a, ok1 := es[i].(*model.Cmp)
	b, ok2 := es[i+1].(*model.Cmp)
	if !ok1 || !ok2 || a.Op != cmpGTE || b.Op != cmpLTE || a.SReg != b.SReg || len(a.Data) != len(b.Data) {
		return nil, false
	}
	return &model.Range{SReg: a.SReg, Op: 0, From: a.Data, To: b.Data}, true
}

// Kernel defaults and state flags.
const (
	logLevelWarning uint32 = 4 // LOGLEVEL_WARNING
	quotaDepleted   uint32 = 2 // NFT_QUOTA_F_DEPLETED
)

// exprsKeyWith is the canonical text of an expression list, with a type
// cache that many calls share.
func exprsKeyWith(es []model.Expr, anon setResolver, cc canonCache) string {
	var b strings.Builder
	b.Grow(128 * len(es))
	canonWith(canonOut{sb: &b}, reflect.ValueOf(normExprs(es, anon)), cc)
	return b.String()
}

// Set flags (uapi NFT_SET_*).
const (
	setAnonymous uint32 = 0x1
	setConstant  uint32 = 0x2
	setInterval  uint32 = 0x4
	setMap       uint32 = 0x8
	setTimeout   uint32 = 0x10
	setEval      uint32 = 0x20
	setObject    uint32 = 0x40
	setConcat    uint32 = 0x80
	setExpr      uint32 = 0x100
)

// dataVerdict is NFT_DATA_VERDICT, the data type of verdict maps.
const dataVerdict uint32 = 0xffffff00

// setFlagsCompared are the set flags a file decides; the kernel adds
// others (NFT_SET_EXPR, NFT_SET_CONCAT) on its own.
const setFlagsCompared = setAnonymous | setConstant | setInterval | setMap | setTimeout | setEval | setObject

// setDefKey identifies a set's definition (everything but its elements
// and its user data). size is compared only when the file gives one.
func setDefKey(s *model.Set, wantSize uint32) string {
	var b strings.Builder
	dataLen := s.DataLen
	if s.DataType == dataVerdict {
		dataLen = 0 // the kernel reports the verdict's size, nft sends none
	}
	var fields []uint32
	if s.Flags&setInterval != 0 {
		// The kernel keeps the concatenation fields only for the
		// interval (pipapo) sets that need them.
		fields = s.FieldLens
	}
	fmt.Fprintf(&b, "flags=%x key=%d/%d data=%d/%d obj=%d timeout=%d gc=%d fields=%v",
		s.Flags&setFlagsCompared, s.KeyType, s.KeyLen, s.DataType, dataLen, s.ObjType,
		s.Timeout.Milliseconds(), s.GCInterval.Milliseconds(), fields)
	if wantSize != 0 && s.Flags&setAnonymous == 0 {
		fmt.Fprintf(&b, " size=%d", s.Size)
	}
	b.WriteString(" exprs=")
	canon(&b, reflect.ValueOf(normExprs(s.Exprs, func(string, uint32) (string, bool) { return "", false })))
	return b.String()
}

// elemKey identifies one element: key, range end, flags, data, verdict,
// object, its own timeout, comment and statements (without counter
// values). It is a compact binary string: sets may hold millions.
func elemKey(s *model.Set, e *model.SetElem) string {
	b := make([]byte, 0, 2+len(e.Key)+len(e.KeyEnd)+len(e.Data)+8)
	field := func(tag byte, v []byte) {
		b = append(b, tag, byte(len(v)))
		b = append(b, v...)
	}
	field('k', e.Key)
	if len(e.KeyEnd) > 0 {
		field('e', e.KeyEnd)
	}
	if e.Flags != 0 {
		b = append(b, 'f')
		b = binary.BigEndian.AppendUint32(b, e.Flags)
	}
	if len(e.Data) > 0 {
		field('d', e.Data)
	}
	if e.Verdict != nil {
		b = append(b, 'v')
		b = binary.BigEndian.AppendUint32(b, uint32(e.Verdict.Code))
		field(':', []byte(e.Verdict.Chain))
	}
	if e.ObjRef != "" {
		field('o', []byte(e.ObjRef))
	}
	if e.Timeout != 0 && e.Timeout != s.Timeout {
		b = append(b, 't')
		b = binary.BigEndian.AppendUint64(b, uint64(e.Timeout.Milliseconds()))
	}
	if len(e.Userdata) > 0 {
		field('u', e.Userdata)
	}
	if len(e.Exprs) > 0 {
		var x strings.Builder
		canon(&x, reflect.ValueOf(normExprs(e.Exprs, func(string, uint32) (string, bool) { return "", false })))
		b = append(b, 'x')
		b = append(b, x.String()...)
	}
	return string(b)
}

// anonSetKey identifies an anonymous set by its definition and contents.
func anonSetKey(s *model.Set) string {
	keys := make([]string, len(s.Elements))
	for i := range s.Elements {
		keys[i] = elemKey(s, &s.Elements[i])
	}
	sort.Strings(keys)
	return setDefKey(s, 0) + " {" + strings.Join(keys, ",") + "}"
}

// chainKey identifies a chain's definition (not its rules).
func chainKey(c *model.Chain) string {
	var b strings.Builder
	if h := c.Hook; h != nil {
		devs := append([]string(nil), h.Devices...)
		sort.Strings(devs)
		fmt.Fprintf(&b, "hook %s %d %d %v ", h.Type, h.Hooknum, h.Priority, devs)
	}
	fmt.Fprintf(&b, "flags=%x comment=%q", c.Flags&^chainFlagBase, c.Comment)
	return b.String()
}

// chainPolicy is the chain's policy as the kernel reports it: a base
// chain without one accepts.
func chainPolicy(c *model.Chain) uint32 {
	if c.Hook == nil {
		return 0
	}
	if c.Policy == nil {
		return 1 // NF_ACCEPT
	}
	return *c.Policy
}

// Chain flags (uapi NFT_CHAIN_*).
const (
	chainFlagBase    uint32 = 0x1
	chainFlagBinding uint32 = 0x4
)

// flowtableKey identifies a flowtable's definition without its devices.
func flowtableKey(f *model.Flowtable) string {
	return fmt.Sprintf("hook %d prio %d flags %x", f.Hooknum, f.Priority, f.Flags)
}

// objectKey identifies a named object's configuration (not its state).
func objectKey(o *model.Object) string {
	var b strings.Builder
	fmt.Fprintf(&b, "type %d ", o.Type)
	if o.Data != nil {
		canon(&b, reflect.ValueOf(normExpr(o.Data, func(string, uint32) (string, bool) { return "", false })))
	}
	b.WriteString(" u")
	b.WriteString(hex.EncodeToString(o.Userdata))
	return b.String()
}
