package cmd

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"

	"github.com/nftflow/nftflow/compiler"
	"github.com/nftflow/nftflow/kernel"
	"github.com/nftflow/nftflow/model"
	"github.com/nftflow/nftflow/parser"
	"github.com/nftflow/nftflow/plan"
)

// The incremental apply: after a declarative apply of one file, nftflow
// keeps the file's text, what each line holds (rules with their kernel
// handles, set elements) and the identity of the ruleset state its commit
// produced (boot, namespace cookie, generation id). The next apply of that
// file, when the kernel is still in exactly that state, compares the two
// texts line by line and, when only whole rule or element lines changed,
// compiles just those lines and sends the differences by handle: it
// neither reads the kernel nor compiles the rest of the file. Anything
// else, or any doubt, takes the full path (read, compile, plan).

// incrementalState is what is kept between applies (one per namespace).
type incrementalState struct {
	Version int                 `json:"version"`
	File    string              `json:"file"`
	State   kernel.RulesetState `json:"state"`
	Map     *plan.SourceMap     `json:"-"`
	// Stored in the header; the lines and text follow it in binary.
	Containers    []plan.Container `json:"containers"`
	NoElemChanges []int32          `json:"no_elem_changes,omitempty"`
	Lines         int              `json:"lines"`
}

const incrementalVersion = 1

func incrementalFile(netns string) string {
	return filepath.Join(stateDir(netns), "incremental")
}

// saveIncremental writes st atomically; a failure only warns (the next
// apply takes the full path).
func saveIncremental(netns string, st *incrementalState, errOut io.Writer) {
	st.Version = incrementalVersion
	st.Containers, st.NoElemChanges, st.Lines = st.Map.Containers, st.Map.NoElemChanges, len(st.Map.Lines)
	hdr, err := json.Marshal(st)
	if err == nil {
		n := len(st.Map.Lines)
		b := make([]byte, len(hdr)+1+13*n, len(hdr)+1+13*n+len(st.Map.Text))
		copy(b, hdr)
		b[len(hdr)] = '\n'
		kinds, refs, handles := b[len(hdr)+1:], b[len(hdr)+1+n:], b[len(hdr)+1+5*n:]
		for i, l := range st.Map.Lines {
			kinds[i] = byte(l.Kind)
			binary.LittleEndian.PutUint32(refs[4*i:], uint32(l.Ref))
			binary.LittleEndian.PutUint64(handles[8*i:], l.Handle)
		}
		b = append(b, st.Map.Text...)
		if err = os.MkdirAll(stateDir(netns), 0o755); err == nil {
			name := incrementalFile(netns)
			if err = os.WriteFile(name+".tmp", b, 0o644); err == nil {
				err = os.Rename(name+".tmp", name)
			}
		}
	}
	if err != nil {
		fmt.Fprintf(errOut, "nftflow: warning: cannot record the apply for the next one: %v\n", err)
	}
}

// dropIncremental forgets the recorded state (after an apply it does not
// describe).
func dropIncremental(netns string) { _ = os.Remove(incrementalFile(netns)) }

func loadIncremental(netns string) (*incrementalState, error) {
	b, err := os.ReadFile(incrementalFile(netns))
	if err != nil {
		return nil, err
	}
	i := bytes.IndexByte(b, '\n')
	if i < 0 {
		return nil, errors.New("no header")
	}
	st := &incrementalState{}
	if err := json.Unmarshal(b[:i], st); err != nil {
		return nil, err
	}
	if st.Version != incrementalVersion {
		return nil, fmt.Errorf("version %d", st.Version)
	}
	b = b[i+1:]
	n := st.Lines
	if len(b) < 13*n {
		return nil, errors.New("truncated")
	}
	m := &plan.SourceMap{Containers: st.Containers, NoElemChanges: st.NoElemChanges, Lines: make([]plan.LineInfo, n)}
	for k := range n {
		m.Lines[k] = plan.LineInfo{
			Kind:   plan.LineKind(b[k]),
			Ref:    int32(binary.LittleEndian.Uint32(b[n+4*k:])),
			Handle: binary.LittleEndian.Uint64(b[5*n+8*k:]),
		}
	}
	m.Text = string(b[13*n:])
	if len(plan.SplitLines(m.Text)) != n {
		return nil, errors.New("text and lines disagree")
	}
	st.Map = m
	return st, nil
}

// incrementalEligible reports whether the options allow the incremental
// path at all; it returns the file's absolute path.
func incrementalEligible(o *applyOptions) (string, bool) {
	if len(o.files) != 1 || o.files[0] == "-" || o.decl.merge || o.dumpBatch || os.Getenv("NFTFLOW_NO_INCREMENTAL") != "" {
		return "", false
	}
	abs, err := filepath.Abs(o.files[0])
	if err != nil {
		return "", false
	}
	return abs, true
}

// runApplyIncremental applies the file incrementally when it can
// (handled=true); otherwise the caller takes the full path.
func runApplyIncremental(ctx context.Context, o *applyOptions, s *streams) (bool, error) {
	abs, ok := incrementalEligible(o)
	if !ok {
		return false, nil
	}
	st, err := loadIncremental(o.netns)
	if err != nil || st.File != abs {
		return false, nil
	}
	// A short run over big texts: collect garbage less often.
	defer debug.SetGCPercent(debug.SetGCPercent(400))
	cur, err := kernel.ReadRulesetState(o.netns)
	if err != nil || cur != st.State {
		return false, nil
	}
	text, err := os.ReadFile(abs)
	if err != nil {
		return false, nil // the full path reports it
	}
	newLines := plan.SplitLines(string(text))
	oldLines := plan.SplitLines(st.Map.Text)
	hunks := plan.DiffLines(oldLines, newLines)
	if len(hunks) == 0 {
		if o.decl.verbose {
			fmt.Fprintln(s.err, "nftflow: nothing to change")
		}
		return true, nil
	}
	align := plan.AlignNew(hunks, len(newLines))
	oldKind := func(i int) plan.LineKind { return st.Map.Lines[i].Kind }
	newKind := func(i int) plan.LineKind {
		if a := align[i]; a >= 0 {
			return st.Map.Lines[a].Kind
		}
		return plan.LineOther
	}
	oldRed := plan.Reduce(oldLines, oldKind, hunks, true)
	newRed := plan.Reduce(newLines, newKind, hunks, false)
	oldFile, err := parser.ParseString(abs, oldRed)
	if err != nil {
		return false, nil
	}
	newFile, err := parser.ParseString(abs, newRed)
	if err != nil {
		return false, nil // the full path reports the error
	}
	if !isDeclarative([]*parser.File{newFile}) || hasInclude(newFile) {
		return false, nil
	}
	oldBatch, err := compiler.Compile(oldFile)
	if err != nil {
		return false, nil
	}
	newBatch, err := compiler.Compile(newFile)
	if err != nil {
		return false, nil
	}
	cidx := map[plan.Container]int32{}
	for i, c := range st.Map.Containers {
		cidx[c] = int32(i)
	}
	spans, ranges, ok := sourceSpans(newFile, cidx, false)
	if !ok {
		return false, nil
	}
	p, err := plan.PlanIncremental(plan.IncrementalInput{
		Old: st.Map, NewText: string(text), NewLines: newLines, Hunks: hunks,
		OldBatch: *oldBatch, NewBatch: *newBatch,
		NewRanges: ranges, NewLineInfo: plan.Classify(newRed, spans),
	})
	if err != nil {
		if o.decl.verbose {
			fmt.Fprintf(s.err, "nftflow: full apply: %v\n", err)
		}
		return false, nil
	}
	sources := sourceTexts{abs: string(text)}
	if !p.Empty() {
		opts := kernel.Options{NetNS: o.netns, Check: o.check,
			Echo: func(op int) bool {
				_, ok := p.Batch.Ops[op].Obj.(*model.Rule)
				return ok && p.Batch.Ops[op].Verb != model.VerbDelete
			},
			RuleHandle: p.SetHandle,
		}
		err := kernel.ApplyAtGeneration(ctx, p.Batch, opts, cur.GenID)
		if errors.Is(err, kernel.ErrGenerationChanged) {
			return false, nil // changed meanwhile: the full path re-reads
		}
		var oes kernel.OpErrors
		if errors.As(err, &oes) && slices.ContainsFunc(oes, func(e *kernel.OpError) bool { return e.Errno == 17 }) {
			return false, nil // EEXIST: an element the file lists twice
		}
		if err != nil {
			return true, printApplyError(s.err, err, sources)
		}
	}
	if o.decl.verbose {
		if p.Empty() {
			fmt.Fprintln(s.err, "nftflow: nothing to change")
		} else {
			fmt.Fprintf(s.err, "nftflow: %d changes, %d operations sent (incremental)\n", p.Changes, len(p.Batch.Ops))
		}
	}
	if o.check {
		return true, nil
	}
	next, err := p.Next()
	if err != nil {
		dropIncremental(o.netns)
		fmt.Fprintf(s.err, "nftflow: warning: the next apply will read the kernel: %v\n", err)
		return true, nil
	}
	state := cur
	if !p.Empty() {
		state = cur.Next()
	}
	saveIncremental(o.netns, &incrementalState{File: abs, State: state, Map: next}, s.err)
	updateApplied(o.netns, *oldBatch, *newBatch, s.err)
	return true, nil
}

// updateApplied replaces, in the records of the last apply (drift), what
// the changed lines held before with what they hold now.
func updateApplied(netns string, oldBatch, newBatch model.Batch, errOut io.Writer) {
	od, err1 := plan.FromBatch(oldBatch)
	nd, err2 := plan.FromBatch(newBatch)
	if err1 != nil || err2 != nil {
		return
	}
	for _, ts := range nd.Tables {
		name := stateFile(netns, ts.Table)
		b, err := os.ReadFile(name)
		if err != nil {
			continue
		}
		a := &plan.Applied{}
		// Called directly: json.Unmarshal and json.Marshal would scan the
		// megabyte of hashes once more each.
		if err := a.UnmarshalJSON(b); err != nil {
			continue
		}
		var ots *model.TableState
		for _, t := range od.Tables {
			if t.Table.Family == ts.Table.Family && t.Table.Name == ts.Table.Name {
				ots = t
			}
		}
		if ots != nil {
			a.Remove(plan.Record(&plan.Desired{Tables: []*model.TableState{ots}}))
		}
		a.Add(plan.Record(&plan.Desired{Tables: []*model.TableState{ts}}))
		out, err := a.MarshalJSON()
		if err == nil {
			if err = os.WriteFile(name+".tmp", out, 0o644); err == nil {
				err = os.Rename(name+".tmp", name)
			}
		}
		if err != nil {
			fmt.Fprintf(errOut, "nftflow: warning: cannot record the apply: %v\n", err)
		}
	}
}

func hasInclude(f *parser.File) bool {
	return slices.ContainsFunc(f.Commands, func(c parser.Command) bool { _, ok := c.(*parser.Include); return ok })
}

// sourceSpans returns the spans of the rules and set elements of f's
// table blocks, and the line ranges of its chains' bodies and sets'
// element lists, by container. With add, containers missing from cidx
// are added to it; otherwise they make ok false.
func sourceSpans(f *parser.File, cidx map[plan.Container]int32, add bool) (spans []plan.Span, ranges map[int32][][2]int, ok bool) {
	ranges = map[int32][][2]int{}
	ref := func(c plan.Container) (int32, bool) {
		if r, ok := cidx[c]; ok {
			return r, true
		}
		if !add {
			return 0, false
		}
		r := int32(len(cidx))
		cidx[c] = r
		return r, true
	}
	name := func(id *parser.Ident) (string, bool) {
		if id == nil || strings.HasPrefix(id.Text, "$") {
			return "", false
		}
		return id.Name(), true
	}
	for _, c := range f.Commands {
		tb, isTable := c.(*parser.TableBlock)
		if !isTable {
			continue
		}
		fam, famOK := model.ParseFamily(tb.Family)
		if tb.Family == "" {
			fam, famOK = model.FamilyIP, true
		}
		tname, nameOK := name(tb.Name)
		if !famOK || !nameOK {
			return nil, nil, false
		}
		for _, it := range tb.Items {
			switch x := it.(type) {
			case *parser.ChainBlock:
				cn, ok := name(x.Name)
				if !ok {
					return nil, nil, false
				}
				r, ok := ref(plan.Container{Family: fam, Table: tname, Name: cn})
				if !ok {
					return nil, nil, false
				}
				ranges[r] = append(ranges[r], [2]int{x.Pos().Line - 1, x.End().Line - 1})
				for i := 0; i < x.NumRules(); i++ {
					sp := x.RuleSpan(i) // rules kept as spans stay so
					spans = append(spans, plan.Span{Start: sp.Offset(), Stop: sp.EndOffset(), Kind: plan.SpanRule, Ref: r})
				}
			case *parser.SetBlock:
				sn, ok := name(x.Name)
				if !ok {
					return nil, nil, false
				}
				r, ok := ref(plan.Container{Family: fam, Table: tname, Name: sn, Set: true})
				if !ok {
					return nil, nil, false
				}
				if x.Elements == nil || !elementsChangeable(x) {
					continue // element lines stay "other": changes take the full path
				}
				es := x.Elements
				ranges[r] = append(ranges[r], [2]int{es.Pos().Line - 1, es.End().Line - 1})
				spans = append(spans,
					plan.Span{Start: elementsKeyword(es), Stop: es.Offset() + 1, Kind: plan.SpanElemsOpen, Ref: r},
					plan.Span{Start: es.EndOffset() - 1, Stop: es.EndOffset(), Kind: plan.SpanElemsEnd, Ref: r})
				for i := 0; i < es.Len(); i++ {
					sp := es.ElemSpan(i) // no syntax tree for compact lists
					spans = append(spans, plan.Span{Start: sp.Offset(), Stop: sp.EndOffset(), Kind: plan.SpanElem, Ref: r})
				}
			}
		}
	}
	return spans, ranges, true
}

// elementsChangeable reports whether a set's elements may change one by
// one: not for interval sets (neighbouring ranges merge), nor for sets
// with timeouts or the dynamic flag (the packet path changes them).
func elementsChangeable(s *parser.SetBlock) bool {
	if s.Timeout != nil {
		return false
	}
	if s.Flags != nil {
		for _, f := range s.Flags.Flags {
			switch f.Name() {
			case "interval", "timeout", "dynamic":
				return false
			}
		}
	}
	return true
}

// elementsKeyword returns the offset of "elements =" before a set's
// element list when it is on the same line, else the list's own offset.
func elementsKeyword(es *parser.SetExpr) int {
	off := es.Offset()
	if es.Src == nil || off > len(es.Src.Text) {
		return off
	}
	text := es.Src.Text
	ls := strings.LastIndexByte(text[:off], '\n') + 1
	before := strings.TrimRight(text[ls:off], " \t")
	if !strings.HasSuffix(before, "=") {
		return off
	}
	before = strings.TrimRight(before[:len(before)-1], " \t")
	if !strings.HasSuffix(before, "elements") {
		return off
	}
	return ls + len(before) - len("elements")
}

// incrementalPrep is what a full declarative apply needs to record its
// result for the next, incremental, apply.
type incrementalPrep struct {
	netns, file string
	m           *plan.SourceMap
	cidx        map[plan.Container]int32
	ruleLines   []int // 0-based start lines of the file's rules
	// Sets whose elements cannot change one by one (NoElemChanges).
	flags  map[plan.Container]uint32
	noIncr map[int32]bool

	// Set by plan for the batch about to be sent: the batch, and, for
	// tables the batch creates, the handles the kernel will give their
	// rules (it numbers a new table's chains, sets, rules, flowtables
	// and objects 1, 2, ... in the order they are created), checked
	// against the echo of each such table's last rule.
	batch   *model.Batch
	derived map[int]uint64
	last    map[int]bool

	// The fresh apply (apply_fresh.go) sends operations as they are
	// compiled: observe numbers them as the kernel will, and lastRules
	// are checked once it committed. broken is set when a line has two
	// rules, so that nothing is recorded.
	counter   map[plan.TableID]uint64
	lastRules map[plan.TableID]freshRule
	broken    bool
}

// freshRule is a rule of a new table with its expected handle.
type freshRule struct {
	chain  string
	handle uint64
}

// withIncremental wraps the loadFilesWith hook of apply: it classifies the
// lines of a single declarative file before it is compiled (*p, nil when
// the apply cannot be recorded) and, when the fresh apply streams the
// operations, watches them go by.
func withIncremental(o *applyOptions, p **incrementalPrep, inner func([]*parser.File) (func(model.Op) error, func())) func([]*parser.File) (func(model.Op) error, func()) {
	return func(files []*parser.File) (func(model.Op) error, func()) {
		*p = prepareIncremental(o, files)
		emit, done := inner(files)
		if *p == nil || emit == nil {
			return emit, done
		}
		prep := *p
		prep.counter, prep.lastRules = map[plan.TableID]uint64{}, map[plan.TableID]freshRule{}
		return func(op model.Op) error {
			prep.observe(op)
			return emit(op)
		}, done
	}
}

// prepareIncremental classifies the lines of a single declarative file
// before a full apply; nil when the result cannot be recorded.
func prepareIncremental(o *applyOptions, files []*parser.File) *incrementalPrep {
	abs, ok := incrementalEligible(o)
	if !ok || o.check || o.decl.skipMissingDevices || o.offloadFallback || len(files) != 1 || hasInclude(files[0]) || !isDeclarative(files) {
		return nil
	}
	f := files[0]
	if f.Src == nil {
		return nil
	}
	cidx := map[plan.Container]int32{}
	spans, _, ok := sourceSpans(f, cidx, true)
	if !ok {
		return nil
	}
	m := &plan.SourceMap{Text: f.Src.Text, Containers: make([]plan.Container, len(cidx))}
	for c, i := range cidx {
		m.Containers[i] = c
	}
	m.Lines = plan.Classify(m.Text, spans)
	p := &incrementalPrep{netns: o.netns, file: abs, m: m, cidx: cidx, flags: map[plan.Container]uint32{}, noIncr: map[int32]bool{}}
	for _, sp := range spans {
		if sp.Kind == plan.SpanRule {
			p.ruleLines = append(p.ruleLines, f.Src.Position(sp.Start).Line-1)
		}
	}
	return p
}

// noteSets marks the sets whose elements cannot change one by one: by
// their flags, or because the file lists an element twice.
func (p *incrementalPrep) noteSets(op model.Op) {
	mark := func(c plan.Container, es []model.SetElem) {
		if r, ok := p.cidx[c]; ok && !p.noIncr[r] && (p.flags[c]&plan.ElemFlagsNoIncr != 0 || hasDuplicateKeys(es)) {
			p.noIncr[r] = true
			p.m.NoElemChanges = append(p.m.NoElemChanges, r)
		}
	}
	switch x := op.Obj.(type) {
	case *model.Set:
		c := plan.Container{Family: x.Family, Table: x.Table, Name: x.Name, Set: true}
		p.flags[c] = x.Flags
		mark(c, x.Elements)
	case *model.SetElems:
		mark(plan.Container{Family: x.Family, Table: x.Table, Name: x.Set, Set: true}, x.Elements)
	}
}

// observe follows an operation of the fresh apply, in the order it is
// sent: every chain, set, rule and object it creates takes the next
// handle of its (new) table.
func (p *incrementalPrep) observe(op model.Op) {
	p.noteSets(op)
	switch op.Verb {
	case model.VerbDelete, model.VerbDestroy, model.VerbFlush, model.VerbReset:
		p.broken = true // a fresh apply only creates
		return
	}
	id, creates := handleTable(op)
	if !creates {
		return
	}
	p.counter[id]++
	r, ok := op.Obj.(*model.Rule)
	if !ok {
		return
	}
	h := p.counter[id]
	p.lastRules[id] = freshRule{chain: r.Chain, handle: h}
	if _, ok := p.cidx[plan.Container{Family: r.Family, Table: r.Table, Name: r.Chain}]; !ok {
		return // a rule of a chain binding
	}
	line := op.Pos.Line - 1
	if line < 0 || line >= len(p.m.Lines) || p.m.Lines[line].Handle != 0 {
		p.broken = true
		return
	}
	p.m.Lines[line].Handle = h
}

// finishFresh records a committed fresh apply once the handles it
// expected are confirmed: the generation moved by exactly its commit and
// the last rule of each table has the handle expected.
func (p *incrementalPrep) finishFresh(genid uint32, errOut io.Writer) {
	dropIncremental(p.netns)
	if p.broken || p.counter == nil {
		return
	}
	cur, err := kernel.ReadRulesetState(p.netns)
	if err != nil || cur.GenID != (kernel.RulesetState{GenID: genid}).Next().GenID {
		return
	}
	for id, r := range p.lastRules {
		if ok, err := kernel.RuleHandleIs(p.netns, id.Family, id.Name, r.chain, r.handle); err != nil || !ok {
			fmt.Fprintf(errOut, "nftflow: warning: the kernel numbered the new rules differently than expected; the next apply will read the kernel\n")
			return
		}
	}
	for _, l := range p.ruleLines {
		if p.m.Lines[l].Handle == 0 {
			return
		}
	}
	saveIncremental(p.netns, &incrementalState{File: p.file, State: cur, Map: p.m}, errOut)
}

// plan notes the batch about to be sent and derives the handles of the
// rules of the tables it creates.
func (p *incrementalPrep) plan(pl *plan.Plan, current []*model.TableState) {
	exists := map[plan.TableID]bool{}
	for _, ts := range current {
		exists[plan.TableID{Family: ts.Table.Family, Name: ts.Table.Name}] = true
	}
	p.batch = &pl.Batch
	p.derived, p.last = map[int]uint64{}, map[int]bool{}
	next := map[plan.TableID]uint64{}
	lastRule := map[plan.TableID]int{}
	for i, op := range pl.Batch.Ops {
		id, creates := handleTable(op)
		if !creates || exists[id] {
			continue
		}
		next[id]++
		if _, ok := op.Obj.(*model.Rule); ok {
			p.derived[i] = next[id]
			lastRule[id] = i
		}
	}
	for _, i := range lastRule {
		p.last[i] = true
	}
}

// handleTable returns the table of the object an operation acts on, and
// whether the operation creates it (so that it takes the table's next
// handle): chains, sets, rules, flowtables and objects have handles.
func handleTable(op model.Op) (plan.TableID, bool) {
	var id plan.TableID
	switch x := op.Obj.(type) {
	case *model.Chain:
		id = plan.TableID{Family: x.Family, Name: x.Table}
	case *model.Set:
		id = plan.TableID{Family: x.Family, Name: x.Table}
	case *model.Rule:
		id = plan.TableID{Family: x.Family, Name: x.Table}
	case *model.Flowtable:
		id = plan.TableID{Family: x.Family, Name: x.Table}
	case *model.Object:
		id = plan.TableID{Family: x.Family, Name: x.Table}
	default:
		return id, false
	}
	switch op.Verb {
	case model.VerbDelete, model.VerbDestroy, model.VerbFlush, model.VerbReset:
		return id, false
	}
	return id, true
}

// echo reports whether the kernel must echo the handle of the rule that
// batch operation i creates: the rules of existing tables, and the last
// rule of each new table.
func (p *incrementalPrep) echo(i int) bool {
	op := p.batch.Ops[i]
	r, ok := op.Obj.(*model.Rule)
	if !ok || op.Verb == model.VerbDelete || op.Verb == model.VerbDestroy {
		return false
	}
	if _, ok := p.derived[i]; ok && !p.last[i] {
		return false
	}
	_, ok = p.cidx[plan.Container{Family: r.Family, Table: r.Table, Name: r.Chain}]
	return ok || p.last[i]
}

// finish records the applied file with every rule's handle, when the
// kernel is known to hold exactly its result.
func (p *incrementalPrep) finish(pl *plan.Plan, handles map[int]uint64, snapGen uint32, errOut io.Writer) {
	dropIncremental(p.netns)
	if pl == nil {
		return
	}
	cur, err := kernel.ReadRulesetState(p.netns)
	if err != nil {
		return
	}
	want := snapGen
	if !pl.Empty() {
		want = kernel.RulesetState{GenID: snapGen}.Next().GenID
	}
	if cur.GenID != want {
		return // another commit came in between: the record would lie
	}
	set := func(line int, h uint64) bool {
		if line < 0 || line >= len(p.m.Lines) || p.m.Lines[line].Handle != 0 {
			return false
		}
		p.m.Lines[line].Handle = h
		return true
	}
	for _, k := range pl.Kept {
		if _, ok := p.cidx[plan.Container{Family: k.Family, Table: k.Table, Name: k.Chain}]; !ok {
			continue // a rule of a chain binding
		}
		if !set(k.Pos.Line-1, k.Handle) {
			return
		}
	}
	for i := range p.last {
		if handles[i] != p.derived[i] {
			fmt.Fprintf(errOut, "nftflow: warning: the kernel numbered the new rules differently than expected (%d, not %d); the next apply will read the kernel\n", handles[i], p.derived[i])
			return
		}
	}
	all := make(map[int]uint64, len(handles)+len(p.derived))
	for i, h := range p.derived {
		all[i] = h
	}
	for i, h := range handles {
		all[i] = h
	}
	for i, h := range all {
		r := pl.Batch.Ops[i].Obj.(*model.Rule)
		if _, ok := p.cidx[plan.Container{Family: r.Family, Table: r.Table, Name: r.Chain}]; !ok {
			continue // a rule of a chain binding
		}
		if !set(pl.Batch.Ops[i].Pos.Line-1, h) {
			return
		}
	}
	for _, l := range p.ruleLines {
		if p.m.Lines[l].Handle == 0 {
			return // a rule whose handle is unknown
		}
	}
	saveIncremental(p.netns, &incrementalState{File: p.file, State: cur, Map: p.m}, errOut)
}

func hasDuplicateKeys(es []model.SetElem) bool {
	if len(es) < 2 {
		return false
	}
	hs := make([]uint64, len(es))
	for i := range es {
		hs[i] = plan.ElemKeyHash(&es[i])
	}
	slices.Sort(hs)
	for i := 1; i < len(hs); i++ {
		if hs[i] == hs[i-1] {
			return true
		}
	}
	return false
}
