package kernel

import (
	"fmt"
	"net"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/nftflow/nftflow/model"
)

// OpError is the kernel refusing one operation of a batch (or nftflow
// failing to encode it). It carries the operation and so its source
// position.
type OpError struct {
	Op    model.Op
	Index int // index of Op in the batch; -1 for an error about the whole batch
	// Expr is the index of the rule expression the kernel pointed at, or -1.
	Expr int
	// Elem is the index of the set element the kernel pointed at, or -1.
	Elem int
	// ElemFirst is the first element of the refused set-element message
	// when the kernel did not say which element it refused.
	ElemFirst int
	Errno     syscall.Errno // the kernel's error; 0 when Err is set
	Msg       string        // the kernel's extended ACK message, if any
	Cause     string        // a plain explanation and what to do, if known
	Err       error         // an error found before sending (encoding)
}

// Pos returns the most precise source position known for the error: that
// of the refused expression or element if the kernel said which, else that
// of the operation.
func (e *OpError) Pos() model.Pos {
	if r, ok := e.Op.Obj.(*model.Rule); ok && e.Expr >= 0 && e.Expr < len(r.ExprPos) && r.ExprPos[e.Expr].IsValid() {
		return r.ExprPos[e.Expr]
	}
	if els := elemsOf(e.Op.Obj); e.Elem >= 0 && e.Elem < len(els) && els[e.Elem].Pos.IsValid() {
		return els[e.Elem].Pos
	}
	if e.Op.Pos.IsValid() {
		return e.Op.Pos
	}
	return objPos(e.Op.Obj)
}

func elemsOf(obj any) []model.SetElem {
	switch o := obj.(type) {
	case *model.Set:
		return o.Elements
	case *model.SetElems:
		return o.Elements
	}
	return nil
}

func objPos(obj any) model.Pos {
	switch o := obj.(type) {
	case *model.Table:
		return o.Pos
	case *model.Chain:
		return o.Pos
	case *model.Rule:
		return o.Pos
	case *model.Set:
		return o.Pos
	case *model.SetElems:
		return o.Pos
	case *model.Flowtable:
		return o.Pos
	case *model.Object:
		return o.Pos
	case *model.Ruleset:
		return o.Pos
	}
	return model.Pos{}
}

// Error formats the error without its position (cmd prints the position
// and the source line): "add rule ip t c: No such file or directory: ...".
func (e *OpError) Error() string {
	var b strings.Builder
	if e.Index < 0 {
		b.WriteString("batch")
	} else {
		b.WriteString(Describe(e.Op))
	}
	b.WriteString(": ")
	if e.Err != nil {
		b.WriteString(e.Err.Error())
	} else {
		b.WriteString(e.Errno.Error())
	}
	if e.Msg != "" {
		fmt.Fprintf(&b, " (kernel: %s)", e.Msg)
	}
	if e.Cause != "" {
		b.WriteString(": ")
		b.WriteString(e.Cause)
	}
	return b.String()
}

// Unwrap returns the encoding error or the errno, so errors.Is(err,
// unix.ENOENT) works.
func (e *OpError) Unwrap() error {
	if e.Err != nil {
		return e.Err
	}
	return e.Errno
}

// OpErrors is every refusal the kernel reported for one batch, in batch
// order. The kernel keeps validating after the first refusal, so later
// errors may be consequences of the first.
type OpErrors []*OpError

func (es OpErrors) Error() string {
	if len(es) == 0 {
		return "no errors"
	}
	s := es[0].Error()
	if len(es) > 1 {
		s += fmt.Sprintf(" (and %d more errors)", len(es)-1)
	}
	return s
}

// Unwrap lets errors.As find each *OpError.
func (es OpErrors) Unwrap() []error {
	out := make([]error, len(es))
	for i, e := range es {
		out[i] = e
	}
	return out
}

// Describe names an operation as nft would write its command head, for
// messages: "add rule inet filter forward", "create table ip t".
func Describe(op model.Op) string {
	v := op.Verb.String()
	switch o := op.Obj.(type) {
	case *model.Table:
		return fmt.Sprintf("%s table %s %s", v, o.Family, o.Name)
	case *model.Chain:
		return fmt.Sprintf("%s chain %s %s %s", v, o.Family, o.Table, o.Name)
	case *model.Rule:
		if o.Handle != 0 && op.Verb != model.VerbAdd && op.Verb != model.VerbInsert {
			return fmt.Sprintf("%s rule %s %s %s handle %d", v, o.Family, o.Table, o.Chain, o.Handle)
		}
		return fmt.Sprintf("%s rule %s %s %s", v, o.Family, o.Table, o.Chain)
	case *model.Set:
		kind := "set"
		if o.Flags&setFlagMap != 0 {
			kind = "map"
		}
		return fmt.Sprintf("%s %s %s %s %s", v, kind, o.Family, o.Table, o.Name)
	case *model.SetElems:
		return fmt.Sprintf("%s element %s %s %s", v, o.Family, o.Table, o.Set)
	case *model.Flowtable:
		return fmt.Sprintf("%s flowtable %s %s %s", v, o.Family, o.Table, o.Name)
	case *model.Object:
		return fmt.Sprintf("%s %s %s %s %s", v, objTypeName(o.Type), o.Family, o.Table, o.Name)
	case *model.Ruleset:
		if o.Family == 0 {
			return v + " ruleset"
		}
		return fmt.Sprintf("%s ruleset %s", v, o.Family)
	}
	return fmt.Sprintf("%s %T", v, op.Obj)
}

func objTypeName(t uint32) string {
	switch t {
	case objCounter:
		return "counter"
	case objQuota:
		return "quota"
	case objCtHelper:
		return "ct helper"
	case objLimit:
		return "limit"
	case objConnlimit:
		return "connlimit"
	case objTunnel:
		return "tunnel"
	case objCtTimeout:
		return "ct timeout"
	case objSecmark:
		return "secmark"
	case objCtExpect:
		return "ct expectation"
	case objSynproxy:
		return "synproxy"
	}
	return "object"
}

// deviceProbe looks at the devices of the namespace a batch went to, to
// explain refusals. A nil *deviceProbe knows nothing.
type deviceProbe struct {
	netns string
	// flowtables caches the answer of the flowtable support probe: 0 not
	// asked yet, 1 supported, -1 not supported, 2 unknown.
	flowtables int
}

// noFlowtables reports whether the running kernel definitely lacks
// flowtable support (a throwaway probe, asked once per explanation run).
func (p *deviceProbe) noFlowtables() bool {
	if p == nil {
		return false
	}
	if p.flowtables == 0 {
		p.flowtables = 2
		if ok, err := ProbeFlowtables(); err == nil {
			p.flowtables = -1
			if ok {
				p.flowtables = 1
			}
		}
	}
	return p.flowtables == -1
}

// noFlowtableSupport explains ENOENT on anything flowtable-related when the
// kernel has no flowtables at all (as ENOENT reads, users look for a
// missing table or device instead).
func noFlowtableSupport() string {
	rel, _ := KernelRelease()
	if rel != "" {
		rel = " (Linux " + rel + ")"
	}
	return "this kernel has no flowtable support" + rel + ": it needs CONFIG_NF_FLOW_TABLE with the module nf_flow_table_inet (and nft_flow_offload for flow add); load them or use a kernel that has them"
}

// netnsDeviceProbe probes devices inside the named namespace.
func netnsDeviceProbe(netns string) *deviceProbe { return &deviceProbe{netns: netns} }

// explain returns a plain cause for the refusal, where errno and object
// allow one. probe checks device existence (nil: no check).
func explain(e *OpError, probe *deviceProbe) string {
	if e.Err != nil {
		return ""
	}
	expr := ruleExpr(e)
	switch e.Errno {
	case unix.EPERM, unix.EACCES:
		return "nftflow needs CAP_NET_ADMIN in the target network namespace: run it as root"
	case unix.ERESTART:
		return "the ruleset was changed by another program meanwhile; try again"
	case unix.ENOENT:
		switch o := e.Op.Obj.(type) {
		case *model.Flowtable:
			if o.Family != model.FamilyInet && o.Family != model.FamilyIP && o.Family != model.FamilyIP6 {
				return fmt.Sprintf("flowtables exist only in ip, ip6 and inet tables, not in %s tables", o.Family)
			}
			if probe.noFlowtables() {
				return noFlowtableSupport()
			}
			if missing, ok := checkDevices(probe, o.Devices); ok && len(missing) > 0 {
				return missingDevices(missing)
			} else if ok {
				return "this kernel lacks flowtable support (CONFIG_NF_FLOW_TABLE; load module nf_flow_table_inet), or table " + o.Table + " does not exist"
			}
			return "table " + o.Table + " does not exist, a device in devices = { ... } does not exist, or the kernel lacks flowtable support (CONFIG_NF_FLOW_TABLE, module nf_flow_table_inet)"
		case *model.Chain:
			if o.Hook != nil && len(o.Hook.Devices) > 0 {
				if missing, ok := checkDevices(probe, o.Hook.Devices); ok && len(missing) > 0 {
					return missingDevices(missing)
				}
			}
			if e.Op.Verb == model.VerbDelete {
				return "chain " + o.Name + " or table " + o.Table + " does not exist"
			}
			return "table " + o.Table + " does not exist, or the chain type " + hookType(o) + " is not available for this family and hook"
		case *model.Table:
			return "table " + o.Name + " does not exist"
		case *model.Rule:
			if fo, ok := expr.(*model.FlowOffload); ok {
				if probe.noFlowtables() {
					return noFlowtableSupport()
				}
				return "flowtable " + fo.Flowtable + " does not exist in table " + o.Table + ", or this kernel lacks flow offload support (CONFIG_NFT_FLOW_OFFLOAD, module nft_flow_offload)"
			}
			switch x := expr.(type) {
			case *model.Immediate:
				if x.Verdict != nil && x.Verdict.Chain != "" {
					return "chain " + x.Verdict.Chain + " does not exist in table " + o.Table
				}
			case *model.Lookup:
				return "set or map " + x.Set + " does not exist in table " + o.Table
			case *model.Dynset:
				return "set " + x.Set + " does not exist in table " + o.Table
			case *model.Objref:
				if x.Name != "" {
					return fmt.Sprintf("%s %s does not exist in table %s", objTypeName(x.Type), x.Name, o.Table)
				}
				return "map " + x.Set + " does not exist in table " + o.Table
			}
			if expr != nil {
				return fmt.Sprintf("the %s expression refers to something that does not exist, or this kernel lacks the nft_%s module", expr.Kind(), expr.Kind())
			}
			return "table " + o.Table + ", chain " + o.Chain + ", or a set, map, chain or object the rule refers to does not exist"
		case *model.Set:
			if c := elemChain(e); c != "" {
				return "chain " + c + " does not exist in table " + o.Table + " (the element jumps to it; chains must exist before the maps that refer to them)"
			}
			if e.Elem >= 0 || e.ElemFirst >= 0 {
				return "an element refers to a chain or object that does not exist in table " + o.Table
			}
			return "table " + o.Table + " does not exist, or no set backend supports these flags"
		case *model.SetElems:
			if e.Op.Verb == model.VerbDelete {
				return "set " + o.Set + " or the element does not exist"
			}
			if c := elemChain(e); c != "" {
				return "chain " + c + " does not exist in table " + o.Table + " (the element jumps to it)"
			}
			return "set " + o.Set + " does not exist in table " + o.Table + ", or an element refers to a missing chain or object"
		case *model.Object:
			return "table " + o.Table + " or the object does not exist"
		}
		return "it refers to something that does not exist"
	case unix.EOPNOTSUPP:
		switch o := e.Op.Obj.(type) {
		case *model.Flowtable:
			if o.Flags&model.FlowtableHWOffload != 0 {
				if no := probe.noHWOffload(o.Devices); len(no) > 0 {
					return fmt.Sprintf("%s hardware flow offload (no hw-tc-offload feature); remove `flags offload` or use --offload-fallback", cannotDo(no))
				}
				return fmt.Sprintf("a device of %s cannot do hardware flow offload; remove `flags offload` or use --offload-fallback", strings.Join(o.Devices, ", "))
			}
		case *model.Rule:
			if _, ok := expr.(*model.FlowOffload); ok {
				return "flow add @flowtable works only in a chain with hook forward"
			}
			for _, x := range o.Exprs {
				if _, ok := x.(*model.FlowOffload); ok && expr == nil {
					return "flow add @flowtable works only in a chain with hook forward"
				}
			}
		case *model.Chain:
			if o.Flags&0x2 != 0 {
				return "a device of this chain cannot do hardware offload; remove `flags offload`"
			}
		}
		return "not supported by this kernel, or not in this context"
	case unix.EEXIST:
		if e.Op.Verb == model.VerbCreate {
			return "it already exists (create refuses existing objects; add does not)"
		}
		return "it already exists with different properties, or an element overlaps an existing one"
	case unix.EBUSY:
		return "it is in use: rules, maps or other objects refer to it; delete those first"
	case unix.ELOOP, unix.EMLINK:
		return "the jumps or gotos form a loop, or nest deeper than the kernel allows (16 chains)"
	case unix.ENOSPC:
		return "the set is full (raise its size)"
	case unix.E2BIG, unix.ERANGE:
		return "a value is out of range"
	case unix.EINVAL:
		return "the kernel considers it invalid"
	case unix.ENOBUFS:
		if e.Index < 0 {
			return "the kernel refused the batch; only the first refusals are shown and nothing was changed"
		}
	case unix.ENOMEM:
		return "the kernel ran out of memory"
	}
	return ""
}

func hookType(c *model.Chain) string {
	if c.Hook == nil || c.Hook.Type == "" {
		return "filter"
	}
	return c.Hook.Type
}

func ruleExpr(e *OpError) model.Expr {
	if r, ok := e.Op.Obj.(*model.Rule); ok && e.Expr >= 0 && e.Expr < len(r.Exprs) {
		return r.Exprs[e.Expr]
	}
	return nil
}

func checkDevices(probe *deviceProbe, devs []string) ([]string, bool) {
	if probe == nil || len(devs) == 0 {
		return nil, false
	}
	return probe.missing(devs)
}

// missing reports which of devs do not exist; ok is false when it cannot
// tell.
func (p *deviceProbe) missing(devs []string) (missing []string, ok bool) {
	err := WithNetns(p.netns, func() error {
		for _, d := range devs {
			if _, err := net.InterfaceByName(d); err != nil {
				missing = append(missing, d)
			}
		}
		return nil
	})
	return missing, err == nil
}

// noHWOffload returns the devices among devs that lack the hw-tc-offload
// feature (the drivers that cannot take a flowtable with flags offload),
// or nil when that cannot be told.
func (p *deviceProbe) noHWOffload(devs []string) []string {
	if p == nil {
		return nil
	}
	topo, err := ReadTopology(p.netns)
	if err != nil {
		return nil
	}
	var links []model.Link
	for _, d := range devs {
		if l, ok := topo.LinkByName(d); ok {
			links = append(links, l)
		}
	}
	if len(links) == 0 || FillHWTCOffload(p.netns, links) != nil {
		return nil
	}
	var no []string
	for _, l := range links {
		if l.HWTCOffload == model.CapNo {
			no = append(no, l.Name)
		}
	}
	return no
}

func missingDevices(missing []string) string {
	if len(missing) == 1 {
		return "device " + missing[0] + " does not exist"
	}
	return "devices " + strings.Join(missing, ", ") + " do not exist"
}

// elemChain returns the chain the refused element jumps to, if any.
func elemChain(e *OpError) string {
	els := elemsOf(e.Op.Obj)
	if e.Elem >= 0 && e.Elem < len(els) && els[e.Elem].Verdict != nil {
		return els[e.Elem].Verdict.Chain
	}
	return ""
}

func cannotDo(devs []string) string {
	if len(devs) == 1 {
		return "device " + devs[0] + " cannot do"
	}
	return "devices " + strings.Join(devs, ", ") + " cannot do"
}
