package compiler

import (
	"fmt"
	"sort"
	"strings"

	"github.com/nftflow/nftflow/model"
	"github.com/nftflow/nftflow/parser"
)

// System supplies facts about the machine a ruleset is meant for, for
// `nftflow lint --system`. Lint runs the topology checks
// (CheckFlowtableDevices) on every flowtable when it is set.
type System interface {
	Topology() model.Topology
	Features() model.Features
}

// LintOptions configure Lint. The zero value runs every check that needs
// no kernel.
type LintOptions struct {
	// System, when not nil, adds the checks that need the running
	// system's devices, routes and kernel features.
	System System
}

// Lint checks a parsed ruleset (includes already followed by the parser)
// and returns its diagnostics sorted by position. It needs no kernel and
// no privileges; its result depends only on its input and opts.System.
func Lint(f *parser.File, opts LintOptions) []Diagnostic {
	l := newLinter(opts)
	l.collect(f)
	l.checkReferences()
	l.checkLoops()
	l.checkChains()
	l.checkFlowtables()
	l.checkRules()
	l.checkUnused()
	if opts.System != nil {
		l.checkSystem(opts.System)
	}
	diags := suppress(f, l.diags)
	SortDiagnostics(diags)
	return diags
}

// Suppression comments: `# nftflow:ignore CODE[,CODE...]` silences those
// codes (all codes when none is given) on its own line, or on the next
// line when the comment stands alone; `# nftflow:ignore-file CODE...`
// silences them in the whole file.
const (
	ignoreDirective     = "nftflow:ignore"
	ignoreFileDirective = "nftflow:ignore-file"
)

type ignoreKey struct {
	file string
	line int // 0: the whole file
}

// suppress drops the diagnostics that suppression comments silence.
func suppress(f *parser.File, ds []Diagnostic) []Diagnostic {
	ignores := map[ignoreKey][]string{}
	var visit func(f *parser.File)
	visit = func(f *parser.File) {
		for _, c := range f.Comments {
			text := strings.TrimSpace(strings.TrimPrefix(c.Text, "#"))
			fileWide := strings.HasPrefix(text, ignoreFileDirective)
			if !fileWide && !strings.HasPrefix(text, ignoreDirective) {
				continue
			}
			rest := strings.TrimPrefix(strings.TrimPrefix(text, ignoreFileDirective), ignoreDirective)
			if rest != "" && rest[0] != ' ' && rest[0] != '\t' {
				continue // some other word that starts the same way
			}
			codes := strings.FieldsFunc(rest, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' })
			if len(codes) == 0 {
				codes = []string{"*"}
			}
			p := c.Pos()
			if fileWide {
				ignores[ignoreKey{p.File, 0}] = append(ignores[ignoreKey{p.File, 0}], codes...)
				continue
			}
			line := p.Line
			if strings.TrimSpace(c.Src.Line(p.Line)[:p.Col-1]) == "" {
				line++ // a comment alone on its line applies to the next one
			}
			ignores[ignoreKey{p.File, line}] = append(ignores[ignoreKey{p.File, line}], codes...)
		}
		for _, cmd := range f.Commands {
			if inc, ok := cmd.(*parser.Include); ok {
				for _, sub := range inc.Files {
					if sub != nil {
						visit(sub)
					}
				}
			}
		}
	}
	visit(f)
	if len(ignores) == 0 {
		return ds
	}
	silenced := func(d Diagnostic) bool {
		for _, k := range []ignoreKey{{d.Pos.File, d.Pos.Line}, {d.Pos.File, 0}} {
			for _, c := range ignores[k] {
				if c == "*" || strings.EqualFold(c, d.Code) {
					return true
				}
			}
		}
		return false
	}
	out := ds[:0]
	for _, d := range ds {
		if !silenced(d) {
			out = append(out, d)
		}
	}
	return out
}

// SortDiagnostics orders diagnostics by file, line, column and code.
func SortDiagnostics(ds []Diagnostic) {
	sort.SliceStable(ds, func(i, j int) bool {
		a, b := ds[i].Pos, ds[j].Pos
		if a.File != b.File {
			return a.File < b.File
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		if a.Col != b.Col {
			return a.Col < b.Col
		}
		return ds[i].Code < ds[j].Code
	})
}

// HasErrors reports whether any diagnostic is an error, or (strict) a
// warning.
func HasErrors(ds []Diagnostic, strict bool) bool {
	for _, d := range ds {
		if d.Severity == SeverityError || strict && d.Severity == SeverityWarning {
			return true
		}
	}
	return false
}

// PosOf converts a node's span to a model position (end exclusive).
func PosOf(n parser.Node) model.Pos {
	if n == nil {
		return model.Pos{}
	}
	s, e := n.Pos(), n.End()
	p := model.Pos{File: s.File, Line: s.Line, Col: s.Col}
	if e.IsValid() && (e.Line > s.Line || e.Line == s.Line && e.Col > s.Col) {
		p.EndLine, p.EndCol = e.Line, e.Col
	}
	return p
}

// isNil reports whether a node interface holds a nil pointer.
func isNil(n parser.Node) bool {
	if n == nil {
		return true
	}
	switch x := n.(type) {
	case *parser.Ident:
		return x == nil
	case *parser.Literal:
		return x == nil
	case *parser.SetExpr:
		return x == nil
	case *parser.List:
		return x == nil
	case *parser.FlagsDecl:
		return x == nil
	case *parser.Rule:
		return x == nil
	}
	return false
}

// ---------------------------------------------------------------------------
// The index: what the ruleset declares, merged across blocks and commands.

type linter struct {
	opts   LintOptions
	diags  []Diagnostic
	tables []*ltable
	byKey  map[string]*ltable
	// vars holds every define seen, for resolving $variables in checks
	// that look at values; scoping is checked while collecting.
	vars map[string]parser.Expr
	// elemCmds are `add element` commands, checked once sets are known.
	elemCmds []elemCmd
}

type elemCmd struct {
	table *ltable
	set   *parser.Ident
	elems *parser.SetExpr
	node  parser.Node
}

type ltable struct {
	family, name string
	node         parser.Node
	chains       map[string]*lchain
	chainOrder   []*lchain
	sets         map[string]*lset
	setOrder     []*lset
	fts          map[string]*lflowtable
	ftOrder      []*lflowtable
	objs         map[string]*lobj // "kind name"
	declared     bool             // a table block or add table, not only implied
	implied      bool             // first named by a command: NF108 reported
}

type lchain struct {
	name  string
	table *ltable
	decls []*parser.ChainBlock
	base  *parser.ChainBlock // the declaration with the hook, if any
	typ   string
	hook  string
	rules []*parser.Rule
	// out are the jumps and gotos out of this chain, in source order.
	out []edge
	// refs counts references to this chain (jump, goto, vmap values).
	refs int
	// declared is false for chains only implied by `add rule`.
	declared bool
}

type edge struct {
	to   string
	kind string // jump or goto
	node parser.Node
}

type lset struct {
	name  string
	decls []*parser.SetBlock
	used  bool
	// targets caches mapTargets.
	targets     []edge
	targetsDone bool
}

type lflowtable struct {
	name  string
	decls []*parser.FlowtableBlock
	used  bool
}

type lobj struct {
	kind, name string
	decls      []*parser.ObjectBlock
	used       bool
}

func newLinter(opts LintOptions) *linter {
	return &linter{opts: opts, byKey: map[string]*ltable{}, vars: map[string]parser.Expr{}}
}

func (l *linter) report(code string, n parser.Node, format string, args ...any) *Diagnostic {
	sev := SeverityError
	if c, ok := LookupCode(code); ok {
		sev = c.Severity
	}
	l.diags = append(l.diags, Diagnostic{Code: code, Severity: sev, Pos: PosOf(n), Message: fmt.Sprintf(format, args...)})
	return &l.diags[len(l.diags)-1]
}

func normFamily(f string) string {
	if f == "" {
		return "ip"
	}
	return f
}

func (l *linter) table(family, name string, n parser.Node) *ltable {
	family = normFamily(family)
	key := family + " " + name
	t := l.byKey[key]
	if t == nil {
		t = &ltable{family: family, name: name, node: n,
			chains: map[string]*lchain{}, sets: map[string]*lset{},
			fts: map[string]*lflowtable{}, objs: map[string]*lobj{}}
		l.byKey[key] = t
		l.tables = append(l.tables, t)
	}
	return t
}

func (t *ltable) String() string { return "table " + t.family + " " + t.name }

func (t *ltable) chain(name string) *lchain {
	c := t.chains[name]
	if c == nil {
		c = &lchain{name: name, table: t}
		t.chains[name] = c
		t.chainOrder = append(t.chainOrder, c)
	}
	return c
}

// scope tracks the defines visible at a point of the file.
type scope struct {
	parent *scope
	vars   map[string]parser.Node // name -> the define
}

func (s *scope) lookup(name string) (parser.Node, bool) {
	for ; s != nil; s = s.parent {
		if n, ok := s.vars[name]; ok {
			return n, true
		}
	}
	return nil, false
}

// collect walks the file (and its includes) in order, building the index
// and checking variable scoping on the way.
func (l *linter) collect(f *parser.File) {
	top := &scope{vars: map[string]parser.Node{}}
	l.collectCommands(f.Commands, top)
}

func (l *linter) collectCommands(cmds []parser.Command, sc *scope) {
	for _, c := range cmds {
		switch c := c.(type) {
		case *parser.Include:
			for _, inc := range c.Files {
				if inc != nil {
					l.collectCommands(inc.Commands, sc)
				}
			}
		case *parser.Define:
			l.define(c, sc)
		case *parser.Undefine:
			// nft accepts undefine of a name that is not defined.
			delete(sc.vars, c.Name)
		case *parser.TableBlock:
			l.checkIdentVar(c.Name, sc)
			t := l.table(c.Family, c.Name.Name(), c)
			t.declared = true
			inner := &scope{parent: sc, vars: map[string]parser.Node{}}
			for _, it := range c.Items {
				l.collectItem(t, it, inner)
			}
		case *parser.ChainBlock:
			l.collectItem(l.cmdTable(c.Family, c.Table, c, sc), c, sc)
		case *parser.SetBlock:
			l.collectItem(l.cmdTable(c.Family, c.Table, c, sc), c, sc)
		case *parser.FlowtableBlock:
			l.collectItem(l.cmdTable(c.Family, c.Table, c, sc), c, sc)
		case *parser.ObjectBlock:
			l.collectItem(l.cmdTable(c.Family, c.Table, c, sc), c, sc)
		case *parser.RuleCmd:
			l.collectRuleCmd(c, sc)
		case *parser.CmdStmt:
			l.collectCmdStmt(c, sc)
		}
	}
}

// cmdTable returns the table a command form (`add chain ip t c`) names.
func (l *linter) cmdTable(family string, name *parser.Ident, n parser.Node, sc *scope) *ltable {
	l.checkIdentVar(name, sc)
	t := l.table(family, name.Name(), n)
	if !t.declared {
		t.implied = true
		l.report(CodeUndefinedTable, name, "%s is not declared in this ruleset; add `table %s %s { }` before this command", t, t.family, t.name)
		t.declared = true // report once
	}
	return t
}

func (l *linter) define(d *parser.Define, sc *scope) {
	l.checkExprVars(d.Value, sc)
	if prev, ok := sc.vars[d.Name]; ok && !d.Redefine {
		l.report(CodeDuplicate, d, "$%s is already defined at %s; use `redefine %s = ...` to change it", d.Name, prettyPos(prev), d.Name)
	}
	sc.vars[d.Name] = d
	l.vars[d.Name] = d.Value
}

func prettyPos(n parser.Node) string {
	p := n.Pos()
	return fmt.Sprintf("%s:%d:%d", p.File, p.Line, p.Col)
}

func (l *linter) collectItem(t *ltable, it parser.TableItem, sc *scope) {
	switch it := it.(type) {
	case *parser.Define:
		l.define(it, sc)
	case *parser.ChainBlock:
		l.checkIdentVar(it.Name, sc)
		c := t.chain(it.Name.Name())
		c.declared = true
		c.decls = append(c.decls, it)
		if it.Hook != nil || it.Type != nil {
			if c.base != nil && !sameChainSpec(c.base, it) {
				l.report(CodeDuplicate, it.Name, "chain %s in %s is declared again with a different type, hook or priority (first at %s); a base chain cannot change its hook: use one declaration", c.name, t, prettyPos(c.base.Name))
			}
			if c.base == nil {
				c.base = it
				c.typ = it.Type.Name()
				c.hook = it.Hook.Name()
			}
		}
		for _, e := range []parser.Expr{it.Device, it.Priority, it.Policy} {
			l.checkExprVars(e, sc)
		}
		for _, r := range it.Rules() {
			l.addRule(c, r, sc)
		}
	case *parser.SetBlock:
		l.checkIdentVar(it.Name, sc)
		s := t.sets[it.Name.Name()]
		if s == nil {
			s = &lset{name: it.Name.Name()}
			t.sets[s.name] = s
			t.setOrder = append(t.setOrder, s)
		} else if prev := s.decls[0]; !sameSetSpec(prev, it) {
			kind := "set"
			if it.IsMap {
				kind = "map"
			}
			l.report(CodeDuplicate, it.Name, "%s %s in %s is declared again with a different type or flags (first at %s); nft refuses it with \"File exists\": use one declaration", kind, s.name, t, prettyPos(prev.Name))
		}
		s.decls = append(s.decls, it)
		for _, e := range []parser.Expr{it.Timeout, it.GCInterval, it.Size, it.Policy} {
			l.checkExprVars(e, sc)
		}
		if it.Elements != nil {
			l.checkExprVars(it.Elements, sc)
		}
	case *parser.FlowtableBlock:
		l.checkIdentVar(it.Name, sc)
		ft := t.fts[it.Name.Name()]
		if ft == nil {
			ft = &lflowtable{name: it.Name.Name()}
			t.fts[ft.name] = ft
			t.ftOrder = append(t.ftOrder, ft)
		} else if prev := firstHooked(ft.decls); prev != nil && it.Hook != nil && !sameFlowtableSpec(prev, it) {
			l.report(CodeDuplicate, it.Name, "flowtable %s in %s is declared again with a different hook or priority (first at %s); only devices can be added to an existing flowtable", ft.name, t, prettyPos(prev.Name))
		}
		ft.decls = append(ft.decls, it)
		l.checkExprVars(it.Priority, sc)
		l.checkExprVars(it.Devices, sc)
	case *parser.ObjectBlock:
		l.checkIdentVar(it.Name, sc)
		key := it.Kind + " " + it.Name.Name()
		o := t.objs[key]
		if o == nil {
			o = &lobj{kind: it.Kind, name: it.Name.Name()}
			t.objs[key] = o
		}
		o.decls = append(o.decls, it)
		for _, ln := range it.Lines {
			for _, a := range ln.Args {
				l.checkExprVars(a, sc)
			}
		}
	}
}

func firstHooked(ds []*parser.FlowtableBlock) *parser.FlowtableBlock {
	for _, d := range ds {
		if d.Hook != nil {
			return d
		}
	}
	return nil
}

func exprText(e parser.Expr) string {
	if isNil(e) {
		return ""
	}
	// Ident and Literal have a Text field that hides Span.Text.
	switch x := e.(type) {
	case *parser.Ident:
		return x.Text
	case *parser.Literal:
		return x.Text
	}
	type texter interface{ Text() string }
	if t, ok := e.(texter); ok {
		return strings.Join(strings.Fields(t.Text()), " ")
	}
	return ""
}

func sameChainSpec(a, b *parser.ChainBlock) bool {
	return a.Type.Name() == b.Type.Name() && a.Hook.Name() == b.Hook.Name() &&
		exprText(a.Priority) == exprText(b.Priority)
}

func sameSetSpec(a, b *parser.SetBlock) bool {
	if a.IsMap != b.IsMap {
		return false
	}
	// A declaration that only adds elements (no type) merges.
	if isNil(a.Key) || isNil(b.Key) {
		return true
	}
	if a.Typeof != b.Typeof || exprText(a.Key) != exprText(b.Key) || exprText(a.Data) != exprText(b.Data) {
		return false
	}
	return flagsText(a.Flags) == flagsText(b.Flags) || a.Flags == nil || b.Flags == nil
}

func flagsText(f *parser.FlagsDecl) string {
	if f == nil {
		return ""
	}
	var names []string
	for _, i := range f.Flags {
		names = append(names, i.Name())
	}
	sort.Strings(names)
	return strings.Join(names, ",")
}

func sameFlowtableSpec(a, b *parser.FlowtableBlock) bool {
	return a.Hook.Name() == b.Hook.Name() && exprText(a.Priority) == exprText(b.Priority)
}

func (l *linter) addRule(c *lchain, r *parser.Rule, sc *scope) {
	if r == nil {
		return
	}
	c.rules = append(c.rules, r)
	for _, s := range r.Stmts {
		l.checkStmtVars(s, sc)
	}
}

func (l *linter) collectRuleCmd(rc *parser.RuleCmd, sc *scope) {
	if rc.Rule == nil || rc.Chain == nil || rc.Table == nil {
		return
	}
	switch rc.Verb {
	case "add", "insert", "create", "replace":
	default:
		return
	}
	t := l.cmdTable(rc.Family, rc.Table, rc.Table, sc)
	l.checkIdentVar(rc.Chain, sc)
	c := t.chain(rc.Chain.Name())
	if !c.declared && !t.implied {
		l.report(CodeUndefinedChain, rc.Chain, "chain %s is not declared in %s; declare it (`add chain %s %s %s`) before adding rules", c.name, t, t.family, t.name, c.name)
		c.declared = true
	}
	if rc.Verb == "insert" && rc.Where == "" {
		// insert without a position puts the rule first.
		c.rules = append([]*parser.Rule{rc.Rule}, c.rules...)
		for _, s := range rc.Rule.Stmts {
			l.checkStmtVars(s, sc)
		}
		return
	}
	l.addRule(c, rc.Rule, sc)
}

// collectCmdStmt records `add element` commands; other verbs (flush,
// delete, list, ...) declare nothing.
func (l *linter) collectCmdStmt(cs *parser.CmdStmt, sc *scope) {
	for _, a := range cs.Args {
		l.checkExprVars(a, sc)
	}
	if len(cs.Object) == 0 {
		return
	}
	switch cs.Object[0] {
	case "table":
		if (cs.Verb == "add" || cs.Verb == "create") && len(cs.Args) > 0 {
			if id := asIdent(cs.Args[0]); id != nil {
				l.table(cs.Family, id.Name(), cs).declared = true
			}
		}
	case "element":
		if cs.Verb != "add" && cs.Verb != "create" {
			return
		}
		var names []*parser.Ident
		var elems *parser.SetExpr
		for _, a := range cs.Args {
			if se, ok := a.(*parser.SetExpr); ok {
				elems = se
			} else if id := asIdent(a); id != nil {
				names = append(names, id)
			}
		}
		if len(names) < 2 || elems == nil {
			return
		}
		t := l.cmdTable(cs.Family, names[0], cs, sc)
		l.elemCmds = append(l.elemCmds, elemCmd{table: t, set: names[1], elems: elems, node: cs})
	}
}

// asIdent views a name written as an identifier or a literal word as an
// Ident; nil for anything else.
func asIdent(e parser.Expr) *parser.Ident {
	switch x := e.(type) {
	case *parser.Ident:
		return x
	case *parser.Literal:
		if x.Kind == parser.LitSymbol || x.Kind == parser.LitString {
			return &parser.Ident{Span: x.Span, Text: x.Text}
		}
	case *parser.VarRef:
		return &parser.Ident{Span: x.Span, Text: "$" + x.Name}
	}
	return nil
}

// ---------------------------------------------------------------------------
// Variables

func (l *linter) checkIdentVar(id *parser.Ident, sc *scope) {
	if id != nil && id.IsVar() {
		name := strings.TrimPrefix(id.Text, "$")
		if _, ok := sc.lookup(name); !ok {
			l.report(CodeUndefinedVariable, id, "$%s is not defined; add `define %s = ...` before its first use", name, name)
		}
	}
}

func (l *linter) checkStmtVars(s parser.Stmt, sc *scope) {
	forStmtExprs(s, func(e parser.Expr) { l.checkExprVars(e, sc) })
}

func (l *linter) checkExprVars(e parser.Expr, sc *scope) {
	walkExpr(e, func(x parser.Expr) bool {
		switch x := x.(type) {
		case *parser.VarRef:
			if _, ok := sc.lookup(x.Name); !ok {
				l.report(CodeUndefinedVariable, x, "$%s is not defined; add `define %s = ...` before its first use", x.Name, x.Name)
			}
		case *parser.Ident:
			l.checkIdentVar(x, sc)
		case *parser.Verdict:
			l.checkIdentVar(x.Target, sc)
		}
		return true
	})
}

// resolve follows $variables to their defined value (bounded, so a
// self-referencing define cannot loop).
func (l *linter) resolve(e parser.Expr) parser.Expr {
	for i := 0; i < 16; i++ {
		var name string
		switch x := e.(type) {
		case *parser.VarRef:
			name = x.Name
		case *parser.Ident:
			if !x.IsVar() {
				return e
			}
			name = strings.TrimPrefix(x.Text, "$")
		default:
			return e
		}
		v, ok := l.vars[name]
		if !ok {
			return e
		}
		e = v
	}
	return e
}

// resolveName returns the name an identifier denotes, following $vars.
func (l *linter) resolveName(id *parser.Ident) string {
	if id == nil {
		return ""
	}
	if !id.IsVar() {
		return id.Name()
	}
	switch v := l.resolve(id).(type) {
	case *parser.Ident:
		return v.Name()
	case *parser.Literal:
		return v.Value()
	}
	return id.Name()
}

// ---------------------------------------------------------------------------
// Walking expressions and statements

// walkExpr calls fn on e and, while fn returns true, on its children.
// It allocates nothing: large rulesets are walked many times.
func walkExpr(e parser.Expr, fn func(parser.Expr) bool) {
	switch x := e.(type) {
	case nil:
	case *parser.Literal:
		if x != nil {
			fn(x)
		}
	case *parser.Selector:
		if x != nil {
			fn(x)
		}
	case *parser.Ident:
		if x != nil {
			fn(x)
		}
	case *parser.VarRef:
		if x != nil {
			fn(x)
		}
	case *parser.SetRef:
		if x != nil {
			fn(x)
		}
	case *parser.Verdict:
		if x != nil {
			fn(x)
		}
	case *parser.Primary:
		if x != nil && fn(x) {
			walkExprs(x.Args, fn)
		}
	case *parser.Prefix:
		if x != nil && fn(x) {
			walkExpr(x.X, fn)
		}
	case *parser.Range:
		if x != nil && fn(x) {
			walkExpr(x.Lo, fn)
			walkExpr(x.Hi, fn)
		}
	case *parser.Binary:
		if x != nil && fn(x) {
			walkExpr(x.X, fn)
			walkExpr(x.Y, fn)
		}
	case *parser.Unary:
		if x != nil && fn(x) {
			walkExpr(x.X, fn)
		}
	case *parser.Paren:
		if x != nil && fn(x) {
			walkExpr(x.X, fn)
		}
	case *parser.Concat:
		if x != nil && fn(x) {
			walkExprs(x.Parts, fn)
		}
	case *parser.List:
		if x != nil && fn(x) {
			walkExprs(x.Elems, fn)
		}
	case *parser.SetExpr:
		if x != nil && fn(x) {
			walkExprs(x.Elems(), fn)
		}
	case *parser.Elem:
		if x != nil && fn(x) {
			walkExpr(x.Key, fn)
			for _, o := range x.Opts {
				walkExprs(o.Args, fn)
			}
			for _, st := range x.Stmts {
				walkStmt(st, fn)
			}
		}
	case *parser.MapElem:
		if x != nil && fn(x) {
			walkExpr(x.Key, fn)
			walkExpr(x.Value, fn)
		}
	case *parser.MapLookup:
		if x != nil && fn(x) {
			walkExpr(x.Key, fn)
			walkExpr(x.Map, fn)
		}
	case *parser.Relational:
		if x != nil && fn(x) {
			walkExpr(x.Left, fn)
			walkExpr(x.Right, fn)
		}
	case *parser.Quantity:
		if x != nil && fn(x) && x.Value != nil {
			walkExpr(x.Value, fn)
		}
	default:
		if !isNil(e) {
			fn(e)
		}
	}
}

func walkExprs(es []parser.Expr, fn func(parser.Expr) bool) {
	for _, e := range es {
		walkExpr(e, fn)
	}
}

// walkStmt walks every expression directly inside a statement, without
// building the slice stmtExprs returns.
func walkStmt(s parser.Stmt, fn func(parser.Expr) bool) {
	forStmtExprs(s, func(e parser.Expr) { walkExpr(e, fn) })
}

// forStmtExprs calls fn on each expression directly inside a statement.
func forStmtExprs(s parser.Stmt, fn func(parser.Expr)) {
	call := func(e parser.Expr) {
		if !isNil(e) {
			fn(e)
		}
	}
	opts := func(os []*parser.Option) {
		for _, o := range os {
			for _, a := range o.Args {
				call(a)
			}
		}
	}
	switch x := s.(type) {
	case *parser.ExprStmt:
		call(x.X)
	case *parser.VerdictStmt:
		if x.Target != nil {
			call(x.Target)
		}
		opts(x.Opts)
	case *parser.LogStmt:
		opts(x.Opts)
	case *parser.LimitStmt:
		if x.Rate != nil {
			call(x.Rate)
		}
		if x.Burst != nil {
			call(x.Burst)
		}
	case *parser.QuotaStmt:
		if x.Quota != nil {
			call(x.Quota)
		}
		if x.Used != nil {
			call(x.Used)
		}
	case *parser.RejectStmt:
		for _, e := range x.With {
			call(e)
		}
	case *parser.NatStmt:
		call(x.Addr)
		call(x.Port)
		if x.Flags != nil {
			call(x.Flags)
		}
	case *parser.SetStmt:
		call(x.Left)
		call(x.Value)
	case *parser.DupStmt:
		call(x.To)
		call(x.Device)
	case *parser.FwdStmt:
		call(x.To)
		call(x.Device)
	case *parser.TproxyStmt:
		call(x.Addr)
		call(x.Port)
	case *parser.SynproxyStmt:
		opts(x.Opts)
	case *parser.DynsetStmt:
		call(x.Set)
		call(x.Key)
		call(x.Value)
		for _, st := range x.Stmts {
			forStmtExprs(st, fn)
		}
	case *parser.FlowStmt:
		call(x.Ft)
	case *parser.ObjRefStmt:
		call(x.Name)
	case *parser.LastStmt:
		call(x.Used)
	case *parser.GenericStmt:
		for _, e := range x.Args {
			call(e)
		}
	}
}

// ruleWalk walks every expression of a rule, statements included.
func ruleWalk(r *parser.Rule, fn func(parser.Expr) bool) {
	for _, s := range r.Stmts {
		walkStmt(s, fn)
	}
}
