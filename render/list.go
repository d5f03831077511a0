package render

import (
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/nftflow/nftflow/compiler"
	"github.com/nftflow/nftflow/model"
)

// ListOptions select what a listing shows, as nft's -a and -t do.
type ListOptions struct {
	Handle bool // -a: "# handle N" after each object
	Terse  bool // -t: no set elements
	// IfNames maps interface indexes to names, so that iif and oif print
	// as nft prints them ("lo" rather than 1); nil prints numbers.
	IfNames map[uint32]string
}

// ErrUndecodable is wrapped by the error a Lister reports when some rule
// expressions could not be turned back into nft syntax; the listing shows
// them as "<unsupported: ...>" markers instead of dropping them.
var ErrUndecodable = errors.New("expressions could not be decoded into nft syntax")

// Lister prints model objects read back from the kernel in the layout of
// `nft list ruleset`. Objects arrive one at a time, in the order a listing
// prints them: BeginTable, then the table's objects, sets, flowtables, then
// each chain (BeginChain, Rule..., EndChain), then EndTable. Sets, anonymous
// ones included, must be given (with their elements) before the rules that
// refer to them.
type Lister struct {
	w    io.Writer
	opts ListOptions

	table  *model.Table
	sets   map[string]*model.Set // sets of the current table, by name
	delim  string                // printed before the next table member
	bad    []string              // undecodable expressions seen
	chains int                   // chains printed so far
	family model.Family          // family of the rule being printed
	depth  int                   // nesting of binding chains being printed
	bare   bool                  // single-object listing: no blank lines
	// transport maps IP protocol numbers to transport headers.
	transport map[uint64]*compiler.Proto
	// bindings holds the rules of anonymous chains ("jump { ... }").
	bindings map[string][]*model.Rule
	werr     error
	// textOnly is set while Rule prints a rule: the statements' JSON
	// forms are not built then.
	textOnly bool
}

// NewLister returns a Lister writing to w.
func NewLister(w io.Writer, opts ListOptions) *Lister {
	return &Lister{w: w, opts: opts}
}

func (l *Lister) printf(format string, args ...any) {
	if l.werr != nil {
		return
	}
	_, l.werr = fmt.Fprintf(l.w, format, args...)
}

// Err returns the first write error, or an error wrapping ErrUndecodable
// when some expressions were printed as markers.
func (l *Lister) Err() error {
	if l.werr != nil {
		return l.werr
	}
	if len(l.bad) > 0 {
		return fmt.Errorf("%w: %s", ErrUndecodable, strings.Join(lsUniq(l.bad), ", "))
	}
	return nil
}

func lsUniq(ss []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range ss {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

func (l *Lister) handle(h uint64) string {
	if !l.opts.Handle {
		return ""
	}
	return " # handle " + strconv.FormatUint(h, 10)
}

// BeginTable prints a table header with its flags and comment.
func (l *Lister) BeginTable(t *model.Table) {
	l.table = t
	l.sets = map[string]*model.Set{}
	l.delim = ""
	l.bare = false
	l.printf("table %s %s {%s\n", t.Family, t.Name, l.handle(t.Handle))
	if t.Flags != 0 {
		var fl []string
		if t.Flags&1 != 0 {
			fl = append(fl, "dormant")
		}
		if t.Flags&2 != 0 {
			fl = append(fl, "owner")
		}
		if t.Flags&4 != 0 {
			fl = append(fl, "persist")
		}
		l.printf("\tflags %s\n", strings.Join(fl, ","))
		l.delim = "\n"
	}
	if t.Comment != "" {
		// nft separates the members from the flags line, not the comment.
		l.printf("\tcomment %s\n", lsQuote(t.Comment))
	}
}

// BeginTableBare opens a table the way nft does around a single chain, set
// or flowtable listing: no handle, flags or comment.
func (l *Lister) BeginTableBare(t *model.Table) {
	l.table = t
	l.sets = map[string]*model.Set{}
	l.delim = ""
	l.bare = true
	l.printf("table %s %s {\n", t.Family, t.Name)
}

// EndTable closes the table.
func (l *Lister) EndTable() {
	l.printf("}\n")
	l.table = nil
}

func (l *Lister) member() {
	l.printf("%s", l.delim)
	if !l.bare {
		l.delim = "\n"
	}
}

func lsQuote(s string) string { return `"` + s + `"` }

// AddSet records a set for rules that refer to it; anonymous sets are not
// printed on their own.
func (l *Lister) AddSet(s *model.Set) {
	if l.sets == nil {
		l.sets = map[string]*model.Set{}
	}
	l.sets[s.Name] = s
}

// Set records and prints a set or map (anonymous sets are only recorded).
func (l *Lister) Set(s *model.Set) {
	l.AddSet(s)
	if s.Flags&lsSetAnonymous != 0 {
		return
	}
	l.member()
	l.printSet(s, "\t")
}

// Set flags (NFT_SET_*).
const (
	lsSetAnonymous = 0x1
	lsSetConstant  = 0x2
	lsSetInterval  = 0x4
	lsSetMap       = 0x8
	lsSetTimeout   = 0x10
	lsSetEval      = 0x20
	lsSetObject    = 0x40
	lsSetConcat    = 0x80
	lsSetExpr      = 0x100
)

func (l *Lister) printSet(s *model.Set, tab string) {
	kind := "set"
	if s.Flags&(lsSetMap|lsSetObject) != 0 {
		kind = "map"
	} else if s.Flags&lsSetEval != 0 && s.Flags&lsSetAnonymous != 0 {
		kind = "meter"
	}
	tt := tab + "\t"
	l.printf("%s%s %s {%s\n", tab, kind, s.Name, l.handle(s.Handle))
	keyT, dataT := lsSetTypes(s)
	l.printf("%s%s", tt, keyT.decl)
	if s.Flags&lsSetMap != 0 {
		l.printf(" : %s", dataT.decl)
	} else if s.Flags&lsSetObject != 0 {
		l.printf(" : %s", lsObjTypeName(s.ObjType))
	}
	l.printf("\n")
	if s.Flags&lsSetConstant == 0 {
		if s.Policy != nil && *s.Policy != 0 {
			l.printf("%spolicy memory\n", tt)
		}
		if s.Size > 0 {
			l.printf("%ssize %d\n", tt, s.Size)
		}
	}
	flags := s.Flags
	if s.Timeout != 0 {
		flags &^= lsSetTimeout
	}
	if flags&(lsSetConstant|lsSetInterval|lsSetTimeout|lsSetEval) != 0 {
		var fl []string
		if s.Flags&lsSetConstant != 0 {
			fl = append(fl, "constant")
		}
		if s.Flags&lsSetEval != 0 {
			fl = append(fl, "dynamic")
		}
		if s.Flags&lsSetInterval != 0 {
			fl = append(fl, "interval")
		}
		if s.Flags&lsSetTimeout != 0 {
			fl = append(fl, "timeout")
		}
		l.printf("%sflags %s\n", tt, strings.Join(fl, ","))
	}
	if len(s.Exprs) > 0 {
		var parts []string
		for _, e := range s.Exprs {
			if _, ok := e.(*model.Counter); ok {
				parts = append(parts, "counter")
				continue
			}
			parts = append(parts, l.stmtText(e))
		}
		l.printf("%s%s\n", tt, strings.Join(parts, " "))
	}
	if merge, ok := lsUserdataTLV(s.Userdata, 2); ok && len(merge) > 0 && merge[0] != 0 {
		l.printf("%sauto-merge\n", tt)
	}
	if s.Timeout != 0 {
		l.printf("%stimeout %s\n", tt, lsFormatDuration(s.Timeout))
	}
	if s.GCInterval != 0 {
		l.printf("%sgc-interval %s\n", tt, lsFormatDuration(s.GCInterval))
	}
	if c := lsUdString(s.Userdata, 7); c != "" {
		l.printf("%scomment %s\n", tt, lsQuote(c))
	}
	if !l.opts.Terse && hasElements(s) {
		i, n := 0, 0 // elements printed, and on the current line
		l.eachElement(s, l.withIfNames(keyT), dataT, func(e string) {
			if i == 0 {
				l.write(tt, "elements = { ")
			} else {
				l.write(lsElemDelim(keyT, &n))
			}
			l.write(e)
			i++
			n++
		})
		if i > 0 {
			l.printf(" }\n")
		}
	}
	l.printf("%s}\n", tab)
}

// lsElemDelim returns the separator after n elements, wrapping lines as nft
// does: five short integers or two IPv4 addresses per line, one element per
// line for other types.
func lsElemDelim(k lsSetType, n *int) string {
	const newline = ",\n\t\t\t     "
	per := 1
	if len(k.fields) == 1 {
		switch k.fields[0].dt.id {
		case lsTNFProto, lsTInteger, lsTARPOp, lsTInetProto, lsTInetService, lsTTCPFlag, lsTDCCPPkt, lsTMark, lsTIfindex, lsTClassid, lsTUID, lsTGID, lsTCtDir:
			per = 5
		case lsTIPAddr, lsTCtState, lsTCtStatus, lsTPktType:
			per = 2
		}
	}
	if per > 1 {
		if *n < per {
			return ", "
		}
		*n = 0
	}
	return newline
}

// lsUserdataTLV returns the value of TLV typ in nftnl userdata.
func lsUserdataTLV(ud []byte, typ byte) ([]byte, bool) {
	for len(ud) >= 2 {
		t, n := ud[0], int(ud[1])
		if len(ud) < 2+n {
			return nil, false
		}
		if t == typ {
			return ud[2 : 2+n], true
		}
		ud = ud[2+n:]
	}
	return nil, false
}

// lsUdString returns a NUL-terminated string TLV of nftnl userdata.
func lsUdString(ud []byte, typ byte) string {
	v, ok := lsUserdataTLV(ud, typ)
	if !ok {
		return ""
	}
	if i := strings.IndexByte(string(v), 0); i >= 0 {
		v = v[:i]
	}
	return string(v)
}

// lsFormatDuration prints a duration as nft does: 1d2h3m4s5ms.
func lsFormatDuration(d time.Duration) string {
	ms := d.Milliseconds()
	if ms == 0 {
		return "0s"
	}
	var sb strings.Builder
	units := []struct {
		n    int64
		name string
	}{{86400000, "d"}, {3600000, "h"}, {60000, "m"}, {1000, "s"}, {1, "ms"}}
	for _, u := range units {
		if ms >= u.n {
			fmt.Fprintf(&sb, "%d%s", ms/u.n, u.name)
			ms %= u.n
		}
	}
	return sb.String()
}

func lsObjTypeName(t uint32) string {
	switch t {
	case 1:
		return "counter"
	case 2:
		return "quota"
	case 3:
		return "ct helper"
	case 4:
		return "limit"
	case 5:
		return "connlimit"
	case 6:
		return "tunnel"
	case 7:
		return "ct timeout"
	case 8:
		return "secmark"
	case 9:
		return "ct expectation"
	case 10:
		return "synproxy"
	}
	return fmt.Sprintf("object type %d", t)
}

// Flowtable prints a flowtable.
func (l *Lister) Flowtable(f *model.Flowtable) {
	l.member()
	l.printf("\tflowtable %s {%s\n", f.Name, l.handle(f.Handle))
	// Flowtables hook the netdev ingress hook whatever the table family.
	l.printf("\t\thook %s priority %s\n", lsHookName(model.FamilyNetdev, f.Hooknum), lsPrioName(f.Family, f.Hooknum, f.Priority))
	if len(f.Devices) > 0 {
		l.printf("\t\tdevices = { %s }\n", strings.Join(lsReversed(f.Devices), ", "))
	}
	if f.Flags&model.FlowtableHWOffload != 0 {
		l.printf("\t\tflags offload\n")
	}
	if f.Flags&model.FlowtableCounter != 0 {
		l.printf("\t\tcounter\n")
	}
	l.printf("\t}\n")
}

// Object prints a named stateful object.
func (l *Lister) Object(o *model.Object) {
	l.member()
	l.printf("\t%s %s {%s\n", lsObjTypeName(o.Type), o.Name, l.handle(o.Handle))
	if c := lsUdString(o.Userdata, 0); c != "" {
		l.printf("\t\tcomment %s\n", lsQuote(c))
	}
	for _, line := range l.objectBody(o) {
		l.printf("\t\t%s\n", line)
	}
	l.printf("\t}\n")
}

func (l *Lister) objectBody(o *model.Object) []string {
	switch d := o.Data.(type) {
	case *model.Counter:
		return []string{fmt.Sprintf("packets %d bytes %d", d.Packets, d.Bytes)}
	case *model.Quota:
		s := ""
		if d.Flags&1 != 0 {
			s = "over "
		}
		s += lsBytesUnit(d.Bytes)
		if d.Consumed != 0 {
			s += " used " + lsBytesUnit(d.Consumed)
		}
		return []string{s}
	case *model.Limit:
		return []string{lsLimitText(d, true)}
	case *model.CtHelper:
		return []string{
			fmt.Sprintf("type %s protocol %s", lsQuote(d.Name), lsProtoName(d.L4Proto)),
			"l3proto " + lsL3protoName(d.L3Proto),
		}
	case *model.Secmark:
		return []string{"context " + lsQuote(d.Ctx)}
	case *model.CtTimeout:
		names := map[uint8][]string{
			6:  {"syn_sent", "syn_recv", "established", "fin_wait", "close_wait", "last_ack", "time_wait", "close", "syn_sent2", "retrans", "unacknowledged"},
			17: {"unreplied", "replied"},
		}[d.L4Proto]
		// nft lists only the states that differ from the kernel defaults.
		defaults := map[uint8][]uint32{
			6:  {120, 60, 432000, 120, 60, 30, 120, 10, 120, 300, 300},
			17: {30, 180},
		}[d.L4Proto]
		var pol []string
		for i, n := range names {
			if v, ok := d.Policy[uint32(i)]; ok && v != defaults[i] {
				pol = append(pol, fmt.Sprintf("%s : %d", n, v))
			}
		}
		if len(names) == 0 {
			break
		}
		return []string{"protocol " + lsProtoName(d.L4Proto), "l3proto " + lsL3protoName(d.L3Proto),
			"policy = { " + strings.Join(pol, ", ") + " }"}
	case *model.Synproxy:
		lines := []string{fmt.Sprintf("mss %d", d.MSS), fmt.Sprintf("wscale %d", d.Wscale)}
		var fl []string
		if d.Flags&0x8 != 0 { // NF_SYNPROXY_OPT_TIMESTAMP
			fl = append(fl, "timestamp")
		}
		if d.Flags&0x4 != 0 { // NF_SYNPROXY_OPT_SACK_PERM
			fl = append(fl, "sack-perm")
		}
		if len(fl) > 0 {
			lines = append(lines, strings.Join(fl, " "))
		}
		return lines
	case *model.Connlimit:
		s := "count "
		if d.Flags&1 != 0 {
			s += "over "
		}
		return []string{s + fmt.Sprint(d.Count)}
	case *model.CtExpect:
		return []string{
			"protocol " + lsProtoName(d.L4Proto),
			fmt.Sprintf("dport %d", d.DPort),
			fmt.Sprintf("timeout %s", lsFormatDuration(time.Duration(d.Timeout)*time.Millisecond)),
			fmt.Sprintf("size %d", d.Size),
			"l3proto " + lsL3protoName(d.L3Proto),
		}
	}
	l.bad = append(l.bad, "object "+o.Data.Kind())
	return []string{fmt.Sprintf("<unsupported: %s>", o.Data.Kind())}
}

func lsL3protoName(p uint16) string {
	switch p {
	case 2:
		return "ip"
	case 10:
		return "ip6"
	case 1:
		return "inet"
	}
	return fmt.Sprint(p)
}

// lsBytesUnit prints a byte count with the largest exact unit, as nft does.
func lsBytesUnit(b uint64) string {
	units := []string{"bytes", "kbytes", "mbytes", "gbytes"}
	i := 0
	for b >= 1024 && b%1024 == 0 && i < len(units)-1 {
		b /= 1024
		i++
	}
	return fmt.Sprintf("%d %s", b, units[i])
}

// BeginChain prints a chain header, with the base chain's hook line.
func (l *Lister) BeginChain(c *model.Chain) {
	l.member()
	l.chains++
	l.printf("\tchain %s {%s\n", c.Name, l.handle(c.Handle))
	if c.Comment != "" {
		l.printf("\t\tcomment %s\n", lsQuote(c.Comment))
	}
	if c.Hook != nil {
		l.printf("\t\ttype %s hook %s", c.Hook.Type, lsHookName(c.Family, c.Hook.Hooknum))
		switch len(c.Hook.Devices) {
		case 0:
		case 1:
			l.printf(" device %s", lsQuote(c.Hook.Devices[0]))
		default:
			// nft lists several devices unquoted, last reported first.
			l.printf(" devices = { %s }", strings.Join(lsReversed(c.Hook.Devices), ", "))
		}
		l.printf(" priority %s;", lsPrioName(c.Family, c.Hook.Hooknum, c.Hook.Priority))
		pol := "accept"
		if c.Policy != nil && *c.Policy == 0 {
			pol = "drop"
		}
		l.printf(" policy %s;\n", pol)
	}
	if c.Flags&0x2 != 0 { // NFT_CHAIN_HW_OFFLOAD
		l.printf("\t\tflags offload;\n")
	}
}

// BindingChain records the rules of an anonymous chain (NFT_CHAIN_BINDING)
// so that rules jumping to it print them inline, as nft does; such chains
// are not printed on their own.
func (l *Lister) BindingChain(name string, rules []*model.Rule) {
	if l.bindings == nil {
		l.bindings = map[string][]*model.Rule{}
	}
	l.bindings[name] = rules
}

// ChainsPrinted returns how many chains BeginChain has printed.
func (l *Lister) ChainsPrinted() int { return l.chains }

// ChainsFirst reports whether all chains must be given before any rule;
// text listings print each chain with its rules.
func (l *Lister) ChainsFirst() bool { return false }

// EndChain closes the chain.
func (l *Lister) EndChain() { l.printf("\t}\n") }

// Rule prints one rule of the current chain.
func (l *Lister) Rule(r *model.Rule) {
	l.family = r.Family
	l.textOnly = true
	text := l.RuleText(r)
	l.textOnly = false
	l.write("\t\t", text, l.handle(r.Handle), "\n")
}

// write writes strings without formatting (the per-rule path).
func (l *Lister) write(ss ...string) {
	for _, s := range ss {
		if l.werr != nil {
			return
		}
		_, l.werr = io.WriteString(l.w, s)
	}
}

func lsHookName(fam model.Family, h uint32) string {
	switch fam {
	case model.FamilyNetdev:
		switch h {
		case 0:
			return "ingress"
		case 1:
			return "egress"
		}
	case model.FamilyARP:
		switch h {
		case 0:
			return "input"
		case 1:
			return "output"
		case 2:
			return "forward"
		}
	default:
		names := []string{"prerouting", "input", "forward", "output", "postrouting", "ingress"}
		if int(h) < len(names) {
			return names[h]
		}
	}
	return "unknown"
}

// lsPrioName prints a chain priority with nft's symbolic names for the
// family and hook, as "filter", "raw + 5" or a plain number.
func lsPrioName(fam model.Family, hook uint32, prio int32) string {
	type std struct {
		name string
		val  int32
	}
	var stds []std
	if fam == model.FamilyBridge {
		stds = []std{{"dstnat", -300}, {"filter", -200}, {"out", 100}, {"srcnat", 300}}
	} else {
		stds = []std{{"raw", -300}, {"mangle", -150}, {"dstnat", -100}, {"filter", 0}, {"security", 50}, {"srcnat", 100}}
	}
	for _, s := range stds {
		off := prio - s.val
		if off < -10 || off > 10 || !lsPrioCompat(fam, hook, s.name) {
			continue
		}
		switch {
		case off == 0:
			return s.name
		case off > 0:
			return fmt.Sprintf("%s + %d", s.name, off)
		default:
			return fmt.Sprintf("%s - %d", s.name, -off)
		}
	}
	return fmt.Sprint(prio)
}

// lsPrioCompat reports whether nft uses the standard priority name for the
// family and hook.
func lsPrioCompat(fam model.Family, hook uint32, name string) bool {
	if fam == model.FamilyBridge {
		switch name {
		case "dstnat":
			return hook == 0
		case "filter":
			return true
		case "out":
			return hook == 3
		case "srcnat":
			return hook == 4
		}
		return false
	}
	inet := fam == model.FamilyIP || fam == model.FamilyIP6 || fam == model.FamilyInet
	switch name {
	case "filter":
		return inet || fam == model.FamilyARP || fam == model.FamilyNetdev
	case "raw", "mangle", "security":
		return inet
	case "dstnat":
		return inet && hook == 0
	case "srcnat":
		return inet && hook == 4
	}
	return false
}

// lsReversed returns devices last first: nft lists hook devices in the
// reverse of the order the kernel reports them.
func lsReversed(devs []string) []string {
	out := make([]string, len(devs))
	for i, d := range devs {
		out[len(out)-1-i] = d
	}
	return out
}
