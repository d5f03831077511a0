package compiler

import (
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/nftflow/nftflow/model"
	"github.com/nftflow/nftflow/parser"
)

// Error is a compile error at a source position.
type Error struct {
	Pos model.Pos
	Msg string
}

// Error formats the error as "file:line:col: message".
func (e *Error) Error() string {
	return fmt.Sprintf("%s:%d:%d: %s", e.Pos.File, e.Pos.Line, e.Pos.Col, e.Msg)
}

// ErrorList is every compile error of one input, in source order.
type ErrorList []*Error

// Error returns the first error and how many more there are.
func (l ErrorList) Error() string {
	switch len(l) {
	case 0:
		return "no errors"
	case 1:
		return l[0].Error()
	}
	return fmt.Sprintf("%s (and %d more errors)", l[0].Error(), len(l)-1)
}

// compiler holds the state of one Compile call.
type compiler struct {
	batch model.Batch
	errs  ErrorList
	setID uint32
	// chainID numbers the anonymous (bound) chains of the batch.
	chainID uint32
	tables  map[string]*tableCtx // "family name"
	// defines are the top-level variables.
	defines map[string]parser.Expr
	// exprBufs and posBufs are scratch buffers a rule is linearized into
	// (one per nesting level: rules of bound chains nest); exprSlab and
	// posSlab hold the finished rules' expressions, carved to exact size,
	// so a 100,000-rule file does not leave half-empty slices behind.
	exprBufs [][]model.Expr
	posBufs  [][]model.Pos
	exprSlab []model.Expr
	posSlab  []model.Pos
	// release drops the rules and set elements of the syntax tree once
	// compiled (Options.Release).
	release bool
	// emit receives the finished operations (Options.Emit); emitErr is
	// the first error it returned.
	emit    func(model.Op) error
	emitErr error
}

// slabChunk is how many expressions (and positions) one slab holds.
const slabChunk = 4096

// keepExprs copies es into the expression slab and returns the copy, its
// capacity cut to its length so that appending to it never writes into
// another rule's expressions.
func (c *compiler) keepExprs(es []model.Expr) []model.Expr {
	if cap(c.exprSlab)-len(c.exprSlab) < len(es) {
		c.exprSlab = make([]model.Expr, 0, max(slabChunk, len(es)))
	}
	n := len(c.exprSlab)
	c.exprSlab = append(c.exprSlab, es...)
	return c.exprSlab[n : n+len(es) : n+len(es)]
}

// keepPos is keepExprs for expression positions.
func (c *compiler) keepPos(ps []model.Pos) []model.Pos {
	if cap(c.posSlab)-len(c.posSlab) < len(ps) {
		c.posSlab = make([]model.Pos, 0, max(slabChunk, len(ps)))
	}
	n := len(c.posSlab)
	c.posSlab = append(c.posSlab, ps...)
	return c.posSlab[n : n+len(ps) : n+len(ps)]
}

// takeBufs returns empty scratch buffers for linearizing one rule.
func (c *compiler) takeBufs() ([]model.Expr, []model.Pos) {
	if n := len(c.exprBufs); n > 0 {
		es, ps := c.exprBufs[n-1], c.posBufs[n-1]
		c.exprBufs, c.posBufs = c.exprBufs[:n-1], c.posBufs[:n-1]
		return es[:0], ps[:0]
	}
	return make([]model.Expr, 0, 16), make([]model.Pos, 0, 16)
}

// giveBufs returns scratch buffers once their contents have been copied.
func (c *compiler) giveBufs(es []model.Expr, ps []model.Pos) {
	clear(es)
	c.exprBufs, c.posBufs = append(c.exprBufs, es[:0]), append(c.posBufs, ps[:0])
}

// tableCtx is what the compiler knows about one table.
type tableCtx struct {
	c       *compiler
	family  model.Family
	name    string
	sets    map[string]*model.Set
	defines map[string]parser.Expr
	// dynTargets names the sets rules of this table block add, update
	// or delete elements of; only found when operations are emitted as
	// they are made (Options.Emit), since sets go out before the rules.
	dynTargets map[string]bool
}

// Compile turns a parsed file into the batch nft would send for it: the
// tables, chains, sets, flowtables, objects and rules it declares, each
// with the source position it came from. On errors it returns the batch
// compiled so far and an ErrorList.
func Compile(f *parser.File) (*model.Batch, error) {
	return CompileWith(f, Options{})
}

// Options control CompileWith.
type Options struct {
	// Release lets the compiler clear the rules of chain blocks and the
	// elements of set blocks in f as it compiles them, so that a big file
	// is never held twice (as syntax tree and as batch). f is then good
	// only for telling its commands apart.
	Release bool
	// Emit, when set, receives each operation as soon as it is final,
	// in batch order, instead of the returned batch (which is then
	// empty): the caller can encode it and let it go. The first error
	// Emit returns stops the emitting and is returned by CompileWith,
	// unless the file has errors.
	Emit func(model.Op) error
}

// CompileWith is Compile with options.
func CompileWith(f *parser.File, o Options) (*model.Batch, error) {
	c := &compiler{tables: map[string]*tableCtx{}, defines: map[string]parser.Expr{}, release: o.Release, emit: o.Emit}
	c.commands(f.Commands)
	c.flush()
	if len(c.errs) > 0 {
		sort.SliceStable(c.errs, func(i, j int) bool {
			a, b := c.errs[i].Pos, c.errs[j].Pos
			if a.Line != b.Line {
				return a.Line < b.Line
			}
			return a.Col < b.Col
		})
		return &c.batch, c.errs
	}
	if c.emitErr != nil {
		return &c.batch, c.emitErr
	}
	return &c.batch, nil
}

// flush hands the operations compiled so far to Options.Emit. It is called
// only where no earlier operation changes any more: after each rule of a
// chain, and at the end.
func (c *compiler) flush() {
	if c.emit == nil {
		return
	}
	for _, op := range c.batch.Ops {
		if c.emitErr == nil {
			c.emitErr = c.emit(op)
		}
	}
	clear(c.batch.Ops)
	c.batch.Ops = c.batch.Ops[:0]
}

func (c *compiler) pos(n parser.Node) model.Pos {
	if n == nil {
		return model.Pos{}
	}
	p, e := n.Pos(), n.End()
	return model.Pos{File: p.File, Line: p.Line, Col: p.Col, EndLine: e.Line, EndCol: e.Col}
}

func (c *compiler) errorf(n parser.Node, format string, a ...any) {
	c.errs = append(c.errs, &Error{Pos: c.pos(n), Msg: fmt.Sprintf(format, a...)})
}

func (c *compiler) op(v model.Verb, obj any, n parser.Node) {
	c.batch.Ops = append(c.batch.Ops, model.Op{Verb: v, Obj: obj, Pos: c.pos(n)})
}

func verbOf(s string) model.Verb {
	switch s {
	case "create":
		return model.VerbCreate
	case "insert":
		return model.VerbInsert
	case "replace":
		return model.VerbReplace
	case "delete":
		return model.VerbDelete
	case "destroy":
		return model.VerbDestroy
	case "flush":
		return model.VerbFlush
	case "reset":
		return model.VerbReset
	}
	return model.VerbAdd
}

func familyOf(s string) (model.Family, error) {
	if s == "" {
		return model.FamilyIP, nil
	}
	f, ok := model.ParseFamily(s)
	if !ok {
		return 0, fmt.Errorf("unknown family %q", s)
	}
	return f, nil
}

func (c *compiler) table(fam model.Family, name string) *tableCtx {
	k := fam.String() + " " + name
	t := c.tables[k]
	if t == nil {
		t = &tableCtx{c: c, family: fam, name: name, sets: map[string]*model.Set{}, defines: map[string]parser.Expr{}}
		for n, v := range c.defines {
			t.defines[n] = v
		}
		c.tables[k] = t
	}
	return t
}

func (c *compiler) commands(cmds []parser.Command) {
	for _, cmd := range cmds {
		switch x := cmd.(type) {
		case *parser.Define:
			c.defines[x.Name] = x.Value
			for _, t := range c.tables {
				t.defines[x.Name] = x.Value
			}
		case *parser.Undefine:
			delete(c.defines, x.Name)
		case *parser.Include:
			for _, f := range x.Files {
				c.commands(f.Commands)
			}
		case *parser.TableBlock:
			c.tableBlock(x)
		case *parser.ChainBlock:
			t, ok := c.cmdTable(x, x.Family, x.Table)
			if ok {
				c.chain(t, x, verbOf(x.Verb))
			}
		case *parser.SetBlock:
			t, ok := c.cmdTable(x, x.Family, x.Table)
			if ok {
				c.set(t, x, verbOf(x.Verb))
			}
		case *parser.FlowtableBlock:
			t, ok := c.cmdTable(x, x.Family, x.Table)
			if ok {
				c.flowtable(t, x, verbOf(x.Verb))
			}
		case *parser.ObjectBlock:
			t, ok := c.cmdTable(x, x.Family, x.Table)
			if ok {
				c.object(t, x, verbOf(x.Verb))
			}
		case *parser.RuleCmd:
			c.ruleCmd(x)
		case *parser.CmdStmt:
			c.cmdStmt(x)
		case *parser.BadNode:
			c.errorf(x, "syntax error")
		default:
			c.errorf(cmd, "unsupported command %T", cmd)
		}
	}
}

func (c *compiler) cmdTable(n parser.Node, family string, table *parser.Ident) (*tableCtx, bool) {
	fam, err := familyOf(family)
	if err != nil {
		c.errorf(n, "%v", err)
		return nil, false
	}
	if table == nil {
		c.errorf(n, "missing table name")
		return nil, false
	}
	return c.table(fam, table.Name()), true
}

func (c *compiler) tableBlock(x *parser.TableBlock) {
	fam, err := familyOf(x.Family)
	if err != nil {
		c.errorf(x, "%v", err)
		return
	}
	t := c.table(fam, x.Name.Name())
	if c.emit != nil {
		t.dynTargets = dynsetTargets(x.Items)
	}
	tb := &model.Table{Family: fam, Name: t.name, Pos: c.pos(x)}
	verb := verbOf(x.Verb)
	c.op(verb, tb, x)
	if verb == model.VerbDelete || verb == model.VerbDestroy || verb == model.VerbFlush {
		return
	}
	// sets, objects and flowtables first, so rules can refer to them, as
	// nft orders its batch
	for _, it := range x.Items {
		switch y := it.(type) {
		case *parser.FlagsDecl:
			for _, fl := range y.Flags {
				switch fl.Name() {
				case "dormant":
					tb.Flags |= 0x1
				case "owner":
					tb.Flags |= 0x2
				case "persist":
					tb.Flags |= 0x4
				default:
					c.errorf(fl, "unknown table flag %q", fl.Name())
				}
			}
		case *parser.CommentDecl:
			tb.Comment = parser.Unquote(y.Text.Text)
		case *parser.Define:
			t.defines[y.Name] = y.Value
		}
	}
	// nft's order: chains (map elements may jump to them), objects, sets,
	// flowtables, then the rules
	var chains []*parser.ChainBlock
	for _, it := range x.Items {
		switch y := it.(type) {
		case *parser.ChainBlock:
			c.chainDecl(t, y, model.VerbAdd)
			chains = append(chains, y)
		case *parser.BadNode:
			c.errorf(y, "syntax error")
		}
	}
	for _, it := range x.Items {
		if y, ok := it.(*parser.ObjectBlock); ok {
			c.object(t, y, model.VerbAdd)
		}
	}
	for _, it := range x.Items {
		if y, ok := it.(*parser.SetBlock); ok {
			c.set(t, y, model.VerbAdd)
		}
	}
	for _, it := range x.Items {
		if y, ok := it.(*parser.FlowtableBlock); ok {
			c.flowtable(t, y, model.VerbAdd)
		}
	}
	for _, ch := range chains {
		c.chainRules(t, ch, ch.Name.Name())
	}
}

func (c *compiler) chain(t *tableCtx, x *parser.ChainBlock, verb model.Verb) {
	c.chainDecl(t, x, verb)
	if verb == model.VerbAdd || verb == model.VerbCreate {
		c.chainRules(t, x, x.Name.Name())
	}
}

// Hook numbers (NF_INET_*, NF_NETDEV_*, NF_ARP_*).
var inetHooks = map[string]uint32{"prerouting": 0, "input": 1, "forward": 2, "output": 3, "postrouting": 4, "ingress": 5}

func hookNum(fam model.Family, name string) (uint32, bool) {
	switch fam {
	case model.FamilyNetdev:
		v, ok := map[string]uint32{"ingress": 0, "egress": 1}[name]
		return v, ok
	case model.FamilyARP:
		v, ok := map[string]uint32{"input": 0, "output": 1, "forward": 2}[name]
		return v, ok
	}
	v, ok := inetHooks[name]
	return v, ok
}

// PriorityByName returns the value of a symbolic chain priority in family.
func PriorityByName(fam model.Family, name string) (int32, bool) {
	if fam == model.FamilyBridge {
		v, ok := map[string]int32{"dstnat": -300, "filter": -200, "out": 100, "srcnat": 300}[name]
		return v, ok
	}
	if fam == model.FamilyARP || fam == model.FamilyNetdev {
		v, ok := map[string]int32{"filter": 0}[name]
		return v, ok
	}
	v, ok := map[string]int32{"raw": -300, "mangle": -150, "dstnat": -100, "filter": 0, "security": 50, "srcnat": 100}[name]
	return v, ok
}

func (c *compiler) priority(fam model.Family, e parser.Expr) (int32, error) {
	switch x := e.(type) {
	case *parser.Paren:
		return c.priority(fam, x.X)
	case *parser.Unary:
		if x.Op == "-" {
			v, err := c.priority(fam, x.X)
			return -v, err
		}
	case *parser.Binary:
		a, err := c.priority(fam, x.X)
		if err != nil {
			return 0, err
		}
		b, err := c.priority(fam, x.Y)
		if err != nil {
			return 0, err
		}
		switch x.Op {
		case "+":
			return a + b, nil
		case "-":
			return a - b, nil
		}
	case *parser.VarRef:
		if d, ok := c.defines[x.Name]; ok {
			return c.priority(fam, d)
		}
	}
	s, ok := litText(e)
	if !ok {
		return 0, fmt.Errorf("bad priority")
	}
	if v, err := strconv.ParseInt(s, 0, 32); err == nil {
		return int32(v), nil
	}
	if v, ok := PriorityByName(fam, s); ok {
		return v, nil
	}
	return 0, fmt.Errorf("unknown priority %q", s)
}

func (c *compiler) chainDecl(t *tableCtx, x *parser.ChainBlock, verb model.Verb) {
	ch := &model.Chain{Family: t.family, Table: t.name, Name: x.Name.Name(), Pos: c.pos(x)}
	if x.Comment != nil {
		ch.Comment = x.Comment.Name()
	}
	if x.Hook != nil {
		h := &model.ChainHook{Type: "filter"}
		if x.Type != nil {
			h.Type = x.Type.Name()
		}
		n, ok := hookNum(t.family, x.Hook.Name())
		if !ok {
			c.errorf(x.Hook, "unknown hook %q for family %s", x.Hook.Name(), t.family)
		}
		h.Hooknum = n
		if x.Priority != nil {
			p, err := c.priority(t.family, x.Priority)
			if err != nil {
				c.errorf(x.Priority, "%v", err)
			}
			h.Priority = p
		}
		if x.Device != nil {
			h.Devices = deviceList(x.Device, c.defines)
		}
		ch.Hook = h
	}
	if x.Policy != nil {
		s, _ := litText(x.Policy)
		var p uint32
		switch s {
		case "accept":
			p = 1
		case "drop":
			p = 0
		default:
			c.errorf(x.Policy, "unknown policy %q", s)
		}
		ch.Policy = &p
	}
	if x.Flags != nil {
		for _, fl := range x.Flags.Flags {
			if fl.Name() == "offload" {
				ch.Flags |= 0x4 // NFT_CHAIN_HW_OFFLOAD
			}
		}
	}
	c.op(verb, ch, x)
}

func deviceList(e parser.Expr, defs map[string]parser.Expr) []string {
	var out []string
	var walk func(parser.Expr)
	walk = func(e parser.Expr) {
		switch x := e.(type) {
		case *parser.SetExpr:
			for _, el := range x.Elems() {
				walk(el)
			}
		case *parser.List:
			for _, el := range x.Elems {
				walk(el)
			}
		case *parser.VarRef:
			if d, ok := defs[x.Name]; ok {
				walk(d)
			}
		default:
			if s, ok := litText(e); ok {
				out = append(out, s)
			} else if sel, ok := e.(*parser.Selector); ok {
				out = append(out, strings.Join(sel.Path, " "))
			}
		}
	}
	walk(e)
	return out
}

func (c *compiler) chainRules(t *tableCtx, x *parser.ChainBlock, chain string) {
	for i := 0; i < x.NumRules(); i++ {
		r := x.Rule(i) // big files: parsed again here, and let go after
		rule, sets, err := c.rule(t, chain, r)
		if err != nil {
			c.errorf(r, "%v", err)
			continue
		}
		for _, s := range sets {
			c.op(model.VerbAdd, s, r)
		}
		c.op(model.VerbAdd, rule, r)
		c.flush()
		if c.release {
			x.RuleList[i] = nil
		}
	}
	if c.release {
		x.ReleaseRules()
	}
}

// rule linearizes a rule; it returns the rule and the anonymous sets it
// needs (added to the batch before it).
func (c *compiler) rule(t *tableCtx, chain string, r *parser.Rule) (*model.Rule, []*model.Set, error) {
	es, ps := c.takeBufs()
	rc := &ruleCtx{c: c, t: t, family: t.family, chain: chain, exprs: es, pos: ps}
	for _, s := range r.Stmts {
		if err := rc.stmt(s); err != nil {
			return nil, nil, &posErr{pos: c.pos(s), err: err}
		}
	}
	rc.mergePayloads()
	rule := &model.Rule{Family: t.family, Table: t.name, Chain: chain, Exprs: c.keepExprs(rc.exprs), ExprPos: c.keepPos(rc.pos), Pos: c.pos(r)}
	// The scratch buffers go back only when still the ones handed out
	// (appends that grew them left the originals behind, which is fine).
	if cap(rc.exprs) > 0 && cap(rc.pos) > 0 {
		c.giveBufs(rc.exprs, rc.pos)
	}
	if r.Comment != nil {
		rule.Comment = r.Comment.Name()
		rule.Userdata = udataString(0, rule.Comment)
	}
	return rule, rc.sets, nil
}

// posErr carries the statement position of a rule error.
type posErr struct {
	pos model.Pos
	err error
}

func (e *posErr) Error() string { return e.err.Error() }
func (e *posErr) Unwrap() error { return e.err }

// udataString is one NFTNL_UDATA TLV with a NUL-terminated string value.
func udataString(typ byte, s string) []byte {
	b := []byte{typ, byte(len(s) + 1)}
	b = append(b, s...)
	return append(b, 0)
}

func udataU32(typ byte, v uint32) []byte {
	return append([]byte{typ, 4}, le32(v)...)
}

func (c *compiler) ruleCmd(x *parser.RuleCmd) {
	t, ok := c.cmdTable(x, x.Family, x.Table)
	if !ok {
		return
	}
	verb := verbOf(x.Verb)
	chain := x.Chain.Name()
	if x.Rule == nil {
		rl := &model.Rule{Family: t.family, Table: t.name, Chain: chain, Pos: c.pos(x)}
		if x.WhereVal != nil {
			rl.Handle, _ = strconv.ParseUint(x.WhereVal.Value(), 10, 64)
		}
		c.op(verb, rl, x)
		return
	}
	rule, sets, err := c.rule(t, chain, x.Rule)
	if err != nil {
		var pe *posErr
		if errors.As(err, &pe) {
			c.errs = append(c.errs, &Error{Pos: pe.pos, Msg: pe.err.Error()})
		} else {
			c.errorf(x, "%v", err)
		}
		return
	}
	if x.WhereVal != nil {
		v, _ := strconv.ParseUint(x.WhereVal.Value(), 10, 64)
		switch x.Where {
		case "handle":
			if verb == model.VerbReplace {
				rule.Handle = v
			} else {
				rule.Position = v
			}
		case "position":
			rule.Position = v
		}
	}
	rule.Pos = c.pos(x)
	for _, s := range sets {
		c.op(model.VerbAdd, s, x)
	}
	c.op(verb, rule, x)
}

func (c *compiler) cmdStmt(x *parser.CmdStmt) {
	obj := strings.Join(x.Object, " ")
	verb := verbOf(x.Verb)
	switch x.Verb {
	case "list", "monitor", "describe", "export", "import", "rename":
		c.errorf(x, "%s commands cannot be compiled", x.Verb)
		return
	}
	fam, err := familyOf(x.Family)
	if err != nil {
		c.errorf(x, "%v", err)
		return
	}
	args := words(x.Args)
	switch obj {
	case "ruleset":
		var f model.Family
		if x.Family != "" {
			f = fam
		}
		c.op(verb, &model.Ruleset{Family: f, Pos: c.pos(x)}, x)
	case "table":
		if len(args) < 1 {
			c.errorf(x, "missing table name")
			return
		}
		c.op(verb, &model.Table{Family: fam, Name: parser.Unquote(args[0]), Pos: c.pos(x)}, x)
	case "chain":
		if len(args) < 2 {
			c.errorf(x, "missing chain name")
			return
		}
		c.op(verb, &model.Chain{Family: fam, Table: args[0], Name: parser.Unquote(args[1]), Pos: c.pos(x)}, x)
	case "set", "map":
		if len(args) < 2 {
			c.errorf(x, "missing set name")
			return
		}
		c.op(verb, &model.Set{Family: fam, Table: args[0], Name: args[1], Pos: c.pos(x)}, x)
	case "element":
		if len(x.Args) < 3 {
			c.errorf(x, "missing elements")
			return
		}
		t := c.table(fam, args[0])
		name := args[1]
		s := t.sets[name]
		se, ok := x.Args[len(x.Args)-1].(*parser.SetExpr)
		if !ok || s == nil {
			c.errorf(x, "set %s not declared in this file", name)
			return
		}
		elems, err := c.elements(t, s, se)
		if err != nil {
			c.errorf(x, "%v", err)
			return
		}
		c.op(verb, &model.SetElems{Family: fam, Table: t.name, Set: name, SetID: s.ID, Elements: elems, Pos: c.pos(x)}, x)
	case "flowtable":
		if len(args) < 2 {
			c.errorf(x, "missing flowtable name")
			return
		}
		c.op(verb, &model.Flowtable{Family: fam, Table: args[0], Name: args[1], Pos: c.pos(x)}, x)
	default:
		if t, ok := objTypes[obj]; ok && len(args) >= 2 {
			c.op(verb, &model.Object{Family: fam, Table: args[0], Name: args[1], Type: t, Pos: c.pos(x)}, x)
			return
		}
		c.errorf(x, "unsupported command %s %s", x.Verb, obj)
	}
}

func (c *compiler) flowtable(t *tableCtx, x *parser.FlowtableBlock, verb model.Verb) {
	ft := &model.Flowtable{Family: t.family, Table: t.name, Name: x.Name.Name(), Pos: c.pos(x)}
	if x.Hook != nil {
		if x.Hook.Name() != "ingress" {
			c.errorf(x.Hook, "flowtables hook at ingress only, not %q", x.Hook.Name())
		}
		ft.Hooknum = 0
	}
	if x.Priority != nil {
		p, err := c.priority(model.FamilyNetdev, x.Priority)
		if err != nil {
			c.errorf(x.Priority, "%v", err)
		}
		ft.Priority = p
	}
	if x.Devices != nil {
		ft.Devices = deviceList(x.Devices, t.defines)
	}
	if x.Counter {
		ft.Flags |= model.FlowtableCounter
	}
	if x.Flags != nil {
		for _, fl := range x.Flags.Flags {
			switch fl.Name() {
			case "offload":
				ft.Flags |= model.FlowtableHWOffload
			default:
				c.errorf(fl, "unknown flowtable flag %q", fl.Name())
			}
		}
	}
	c.op(verb, ft, x)
}

func wordAt(ws []string, i int) string {
	if i < len(ws) {
		return ws[i]
	}
	return ""
}

// dynsetTargets returns the names of the sets the rules of a table
// block's chains add, update or delete elements of.
func dynsetTargets(items []parser.TableItem) map[string]bool {
	var m map[string]bool
	for _, it := range items {
		cb, ok := it.(*parser.ChainBlock)
		if !ok {
			continue
		}
		for i := 0; i < cb.NumRules(); i++ {
			if sp := cb.RuleSpan(i); !strings.Contains(sp.Src.Text[sp.Start:sp.Stop], "@") {
				continue // no set named: no need to parse a rule kept as a span
			}
			for _, st := range cb.Rule(i).Stmts {
				if d, ok := st.(*parser.DynsetStmt); ok {
					if ref, ok := d.Set.(*parser.SetRef); ok {
						if m == nil {
							m = map[string]bool{}
						}
						m[ref.Name] = true
					}
				}
			}
		}
	}
	return m
}
