package plan

import (
	"errors"
	"fmt"
	"hash/fnv"
	"hash/maphash"
	"reflect"
	"slices"
	"strings"

	"github.com/nftflow/nftflow/model"
)

// Incremental planning: when the kernel's ruleset is still exactly what the
// last apply of a file left (same generation, same namespace, same boot),
// the kernel need not be read and the file need not be compiled whole. The
// new text is compared with the text of that apply line by line; when
// every changed line holds whole rules or whole set elements, only those
// lines are compiled (every other rule and element line is blanked, so the
// declarations around them still compile, with the same positions) and the
// differences go to the kernel by handle. Anything else (a changed
// declaration, a multi-line rule, an interval set) makes the caller fall
// back to the full plan (Make).

// LineKind classifies a source line for incremental planning.
type LineKind uint8

// The kinds of lines.
const (
	LineOther     LineKind = iota // a change here needs the full plan
	LineBlank                     // empty or only a comment
	LineRule                      // exactly one whole rule
	LineElems                     // only whole elements of one set, and commas
	LineElemsEdge                 // elements of one set with its "elements = {" or closing "}"
)

// Container is a chain or a named set, by table.
type Container struct {
	Family model.Family
	Table  string
	Name   string
	Set    bool
}

// LineInfo is what one source line holds. Ref indexes SourceMap.Containers
// (-1 for none); Handle is the kernel handle of the rule that starts on the
// line (0 for none).
type LineInfo struct {
	Kind   LineKind
	Ref    int32
	Handle uint64
}

// SourceMap is the text of an applied file and, per line, what it holds.
type SourceMap struct {
	Text       string
	Containers []Container
	// NoElemChanges lists containers (sets) whose elements cannot be
	// changed incrementally: interval, timeout or dynamic sets, and sets
	// the file lists an element of twice.
	NoElemChanges []int32
	Lines         []LineInfo
}

// SpanKind is what a source span is.
type SpanKind uint8

// The kinds of spans Classify takes.
const (
	SpanRule      SpanKind = iota // a whole rule
	SpanElem                      // one set element (with its options)
	SpanElemsOpen                 // "elements = {" of a set's element list
	SpanElemsEnd                  // the closing "}" of a set's element list
)

// Span is a byte range of the text [Start, Stop) and what it is.
type Span struct {
	Start, Stop int
	Kind        SpanKind
	Ref         int32
}

// SplitLines returns the lines of text without their newlines.
func SplitLines(text string) []string {
	lines := strings.Split(text, "\n")
	if len(lines) > 0 && lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	return lines
}

// Classify returns the kind of every line of text given the spans of its
// rules and set elements (which do not overlap), in any order.
func Classify(text string, spans []Span) []LineInfo {
	spans = slices.Clone(spans)
	slices.SortFunc(spans, func(a, b Span) int { return a.Start - b.Start })
	out := make([]LineInfo, 0, strings.Count(text, "\n")+1) // exactly: big files have millions
	si := 0
	var rest []byte
	for ls := 0; ls < len(text); {
		le := len(text)
		if i := strings.IndexByte(text[ls:], '\n'); i >= 0 {
			le = ls + i
		}
		line := text[ls:le]
		li := LineInfo{Ref: -1}
		// The spans on this line: one may begin on an earlier line.
		k := si
		if k > 0 && spans[k-1].Stop > ls {
			k--
		}
		rules, elems, edge, mixed := 0, 0, false, false
		var covered []Span
		for ; k < len(spans) && spans[k].Start < le; k++ {
			sp := spans[k]
			if sp.Stop <= ls {
				continue
			}
			if sp.Start < ls || sp.Stop > le+1 {
				mixed = true // over several lines
			}
			if li.Ref >= 0 && li.Ref != sp.Ref {
				mixed = true
			}
			li.Ref = sp.Ref
			covered = append(covered, sp)
			switch sp.Kind {
			case SpanRule:
				rules++
			case SpanElem:
				elems++
			default:
				edge = true
			}
		}
		for si < len(spans) && spans[si].Start < le {
			si++
		}
		switch {
		case len(covered) == 0:
			if t := strings.TrimSpace(line); t == "" || t[0] == '#' {
				li.Kind = LineBlank
			}
		case mixed || rules > 1 || rules == 1 && (elems > 0 || edge):
		default:
			// What the spans leave of the line must be blanks, commas
			// (between elements) or a trailing comment.
			rest = append(rest[:0], line...)
			for _, sp := range covered {
				for o := max(sp.Start, ls); o < min(sp.Stop, le); o++ {
					rest[o-ls] = ' '
				}
			}
			r := strings.TrimSpace(string(rest))
			if i := strings.IndexByte(r, '#'); i >= 0 {
				r = strings.TrimSpace(r[:i])
			}
			if elems > 0 || edge {
				r = strings.Trim(strings.ReplaceAll(r, " ", ""), ",")
			}
			if r == "" {
				switch {
				case rules == 1:
					li.Kind = LineRule
				case edge:
					li.Kind = LineElemsEdge
				default:
					li.Kind = LineElems
				}
			}
		}
		out = append(out, li)
		ls = le + 1
	}
	return out
}

// Hunk is a changed region: old lines [OldStart, OldEnd) became new lines
// [NewStart, NewEnd) (0-based).
type Hunk struct {
	OldStart, OldEnd, NewStart, NewEnd int
}

// maxDiffDP bounds the cells of the exact line diff between two anchors.
const maxDiffDP = 1 << 22

// DiffLines returns the changed regions between two texts' lines. It
// trims the common start and end, anchors on lines that occur once on
// each side (in increasing order), and compares what lies between anchors
// exactly when it is small; a big unanchored region is one hunk.
func DiffLines(a, b []string) []Hunk {
	var out []Hunk
	diffRange(a, b, 0, len(a), 0, len(b), &out, true)
	return out
}

func diffRange(a, b []string, a0, a1, b0, b1 int, out *[]Hunk, anchor bool) {
	for a0 < a1 && b0 < b1 && a[a0] == b[b0] {
		a0++
		b0++
	}
	for a1 > a0 && b1 > b0 && a[a1-1] == b[b1-1] {
		a1--
		b1--
	}
	if a0 == a1 && b0 == b1 {
		return
	}
	if a0 == a1 || b0 == b1 {
		*out = append(*out, Hunk{a0, a1, b0, b1})
		return
	}
	if anchor && (a1-a0)*(b1-b0) > 1024 {
		if as := anchors(a, b, a0, a1, b0, b1); len(as) > 0 {
			pa, pb := a0, b0
			for _, m := range as {
				diffRange(a, b, pa, m[0], pb, m[1], out, false)
				pa, pb = m[0]+1, m[1]+1
			}
			diffRange(a, b, pa, a1, pb, b1, out, false)
			return
		}
	}
	if (a1-a0)*(b1-b0) <= maxDiffDP {
		diffDP(a, b, a0, a1, b0, b1, out)
		return
	}
	*out = append(*out, Hunk{a0, a1, b0, b1})
}

// anchorSampleFrom is the region size from which anchors are sampled.
const anchorSampleFrom = 1 << 16

// anchors returns pairs of equal lines unique on both sides, in increasing
// order on both (a longest increasing subsequence of the matches). In big
// regions only lines whose hash has its low 6 bits clear are candidates
// (about one in 64, chosen by content so that both sides pick the same):
// the gaps between anchors stay small enough to compare exactly, and the
// maps stay small.
func anchors(a, b []string, a0, a1, b0, b1 int) [][2]int {
	seed := maphash.MakeSeed()
	var mask uint64
	if a1-a0 > anchorSampleFrom || b1-b0 > anchorSampleFrom {
		mask = 63
	}
	first := map[uint64]int32{} // old index, -1 when repeated
	for i := a0; i < a1; i++ {
		h := maphash.String(seed, a[i])
		if h&mask != 0 {
			continue
		}
		if _, ok := first[h]; ok {
			first[h] = -1
		} else {
			first[h] = int32(i)
		}
	}
	type cand struct {
		h uint64
		j int
	}
	var cs []cand
	seen := map[uint64]int32{}
	for j := b0; j < b1; j++ {
		h := maphash.String(seed, b[j])
		if h&mask != 0 {
			continue
		}
		seen[h]++
		cs = append(cs, cand{h, j})
	}
	var ms [][2]int
	for _, c := range cs {
		if i, ok := first[c.h]; ok && i >= 0 && seen[c.h] == 1 && a[i] == b[c.j] {
			ms = append(ms, [2]int{int(i), c.j})
		}
	}
	// Longest increasing subsequence on the old index (patience).
	tails := []int{}
	prev := make([]int, len(ms))
	for k, m := range ms {
		i, _ := slices.BinarySearchFunc(tails, m[0], func(t, v int) int { return ms[t][0] - v })
		if i > 0 {
			prev[k] = tails[i-1]
		} else {
			prev[k] = -1
		}
		if i == len(tails) {
			tails = append(tails, k)
		} else {
			tails[i] = k
		}
	}
	if len(tails) == 0 {
		return nil
	}
	res := make([][2]int, len(tails))
	for k, i := tails[len(tails)-1], len(tails)-1; i >= 0; k, i = prev[k], i-1 {
		res[i] = ms[k]
	}
	return res
}

func diffDP(a, b []string, a0, a1, b0, b1 int, out *[]Hunk) {
	n, m := a1-a0, b1-b0
	t := make([]int32, (n+1)*(m+1))
	at := func(i, j int) int32 { return t[i*(m+1)+j] }
	for i := n - 1; i >= 0; i-- {
		for j := m - 1; j >= 0; j-- {
			v := at(i+1, j+1) + 1
			if a[a0+i] != b[b0+j] {
				v = max(at(i+1, j), at(i, j+1))
			}
			t[i*(m+1)+j] = v
		}
	}
	i, j := 0, 0
	for i < n || j < m {
		if i < n && j < m && a[a0+i] == b[b0+j] {
			i++
			j++
			continue
		}
		h := Hunk{a0 + i, a0 + i, b0 + j, b0 + j}
		for i < n || j < m {
			if i < n && j < m && a[a0+i] == b[b0+j] {
				break
			}
			if j >= m || i < n && at(i+1, j) >= at(i, j+1) {
				i++
			} else {
				j++
			}
		}
		h.OldEnd, h.NewEnd = a0+i, b0+j
		*out = append(*out, h)
	}
}

// Reduce returns text with every line outside the hunks that holds only
// rules or only set elements (without list delimiters) emptied: what
// compiles from the result is the declarations, the rules and elements of
// the changed lines, and those on lines that are never emptied. old
// selects the old side of the hunks.
func Reduce(lines []string, kind func(i int) LineKind, hunks []Hunk, old bool) string {
	changed := make([]bool, len(lines))
	for _, h := range hunks {
		s, e := h.NewStart, h.NewEnd
		if old {
			s, e = h.OldStart, h.OldEnd
		}
		for i := s; i < e; i++ {
			changed[i] = true
		}
	}
	var b strings.Builder
	for i, l := range lines {
		if !changed[i] {
			if k := kind(i); k == LineRule || k == LineElems {
				l = ""
			}
		}
		b.WriteString(l)
		b.WriteByte('\n')
	}
	return b.String()
}

// ErrNeedFull is returned when a change cannot be planned incrementally.
var ErrNeedFull = errors.New("the change needs a full plan")

func needFull(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrNeedFull, fmt.Sprintf(format, args...))
}

// IncrementalInput is what PlanIncremental compares.
type IncrementalInput struct {
	Old      *SourceMap
	NewText  string   // the new text
	NewLines []string // its lines (SplitLines)
	Hunks    []Hunk
	// OldBatch and NewBatch are compiled from Reduce of the old and the
	// new text.
	OldBatch, NewBatch model.Batch
	// NewRanges are the line ranges [first, last] (0-based) of each
	// container's body (chains) or element list (sets) in the new text,
	// by container index; NewLineInfo classifies the new text's lines as
	// Classify does on the reduced new text (only the changed lines are
	// used).
	NewRanges   map[int32][][2]int
	NewLineInfo []LineInfo
}

// Incremental is an incremental plan.
type Incremental struct {
	Batch   model.Batch
	Changes int
	// next is the source map once the batch is committed, without the
	// handles of new rules: SetHandle fills them in.
	next    *SourceMap
	newRule map[int]int // batch op index of a new rule -> its new line
}

// Empty reports whether there is nothing to send.
func (p *Incremental) Empty() bool { return len(p.Batch.Ops) == 0 }

// SetHandle records the handle the kernel gave the rule of batch op op.
func (p *Incremental) SetHandle(op int, handle uint64) {
	if l, ok := p.newRule[op]; ok {
		p.next.Lines[l].Handle = handle
	}
}

// Next returns the source map of the new text, or an error when a new
// rule's handle is unknown.
func (p *Incremental) Next() (*SourceMap, error) {
	for op, l := range p.newRule {
		if p.next.Lines[l].Handle == 0 {
			return nil, fmt.Errorf("no handle for the rule of operation %d (line %d)", op, l+1)
		}
	}
	return p.next, nil
}

// ElemFlagsNoIncr are the set flags under which elements are not changed
// one by one: intervals (neighbours merge), timeouts and dynamic sets (the
// kernel's elements differ from the file's by themselves).
const ElemFlagsNoIncr = 0x4 | 0x10 | 0x20

// PlanIncremental plans the change of in.Old's text into in.NewLines
// without reading the kernel. It returns an error wrapping ErrNeedFull
// when the change needs the full plan.
func PlanIncremental(in IncrementalInput) (*Incremental, error) {
	old := in.Old
	oldLines := len(old.Lines)
	// Changed old lines must hold only whole rules, elements or nothing.
	for _, h := range in.Hunks {
		for i := h.OldStart; i < h.OldEnd; i++ {
			if old.Lines[i].Kind == LineOther {
				return nil, needFull("line %d changed", i+1)
			}
		}
		for j := h.NewStart; j < h.NewEnd; j++ {
			if j >= len(in.NewLineInfo) || in.NewLineInfo[j].Kind == LineOther {
				return nil, needFull("new line %d is not a whole rule or element line", j+1)
			}
		}
	}
	// Declarations must be equal.
	od, err := declarations(in.OldBatch)
	if err != nil {
		return nil, err
	}
	nd, err := declarations(in.NewBatch)
	if err != nil {
		return nil, err
	}
	if !slices.Equal(od, nd) {
		return nil, needFull("a declaration changed")
	}
	cidx := map[Container]int32{}
	for i, c := range old.Containers {
		cidx[c] = int32(i)
	}
	alignOld := AlignNew(in.Hunks, len(in.NewLines))
	inHunkNew := make([]bool, len(in.NewLines))
	for _, h := range in.Hunks {
		for n := h.NewStart; n < h.NewEnd; n++ {
			inHunkNew[n] = true
		}
	}
	if len(in.NewLines) > 0 && alignOld[len(in.NewLines)-1] >= int32(oldLines) {
		return nil, fmt.Errorf("line alignment past the old text")
	}
	inHunkOld := make([]bool, oldLines)
	for _, h := range in.Hunks {
		for i := h.OldStart; i < h.OldEnd; i++ {
			inHunkOld[i] = true
		}
	}
	// Every unchanged rule and element line must still be in its chain or
	// set (the text around it may have moved braces).
	within := func(ref int32, line int) bool {
		for _, r := range in.NewRanges[ref] {
			if r[0] <= line && line <= r[1] {
				return true
			}
		}
		return false
	}
	for n := range in.NewLines {
		o := alignOld[n]
		if o < 0 {
			continue
		}
		li := old.Lines[o]
		if (li.Kind == LineRule || li.Kind == LineElems || li.Kind == LineElemsEdge || li.Handle != 0) && li.Ref >= 0 && !within(li.Ref, n) {
			return nil, needFull("line %d moved out of its chain or set", n+1)
		}
	}

	// Rules: the old ones on changed lines go, the new ones on changed
	// lines come, each chain's kept rules stay in order.
	type item struct {
		handle uint64
		ops    []model.Op // anonymous sets, then the rule
		line   int
	}
	oldRules := map[int32][]uint64{} // chain -> handles in order
	for _, li := range old.Lines {
		if li.Handle != 0 {
			oldRules[li.Ref] = append(oldRules[li.Ref], li.Handle)
		}
	}
	newItems := map[int32][]item{}
	// New rules with their anonymous sets, by line.
	newRulesAt := map[int][]item{}
	var pending []model.Op
	elemsNew := map[int32][]model.SetElem{}
	elemsOld := map[int32][]model.SetElem{}
	setOf := map[int32]*model.Set{}
	collect := func(b model.Batch, isNew bool) error {
		pending = pending[:0]
		anon := map[string]bool{}
		for _, op := range b.Ops {
			switch x := op.Obj.(type) {
			case *model.Set:
				if isAnon(x.Name) {
					anon[x.Name] = true
					pending = append(pending, op)
					continue
				}
				ref, ok := cidx[Container{x.Family, x.Table, x.Name, true}]
				if !ok {
					return needFull("set %s not in the last apply", x.Name)
				}
				setOf[ref] = x
				for _, e := range x.Elements {
					if isNew {
						elemsNew[ref] = append(elemsNew[ref], e)
					} else {
						elemsOld[ref] = append(elemsOld[ref], e)
					}
				}
			case *model.SetElems:
				if anon[x.Set] || isAnon(x.Set) {
					pending = append(pending, op)
					continue
				}
				ref, ok := cidx[Container{x.Family, x.Table, x.Set, true}]
				if !ok {
					return needFull("set %s not in the last apply", x.Set)
				}
				if isNew {
					elemsNew[ref] = append(elemsNew[ref], x.Elements...)
				} else {
					elemsOld[ref] = append(elemsOld[ref], x.Elements...)
				}
			case *model.Rule:
				line := x.Pos.Line - 1
				if !isNew {
					if line >= 0 && line < oldLines && inHunkOld[line] && old.Lines[line].Handle == 0 {
						return needFull("old rule on line %d without a handle", line+1)
					}
					pending = pending[:0]
					continue
				}
				if line < 0 || line >= len(in.NewLines) {
					return needFull("rule without a position")
				}
				if !inHunkNew[line] {
					pending = pending[:0]
					continue // an unchanged rule on a line never emptied
				}
				ops := append(append([]model.Op(nil), pending...), op)
				pending = pending[:0]
				newRulesAt[line] = append(newRulesAt[line], item{ops: ops, line: line})
			}
		}
		return nil
	}
	if err := collect(in.OldBatch, false); err != nil {
		return nil, err
	}
	if err := collect(in.NewBatch, true); err != nil {
		return nil, err
	}
	for n := range in.NewLines {
		if o := alignOld[n]; o >= 0 {
			if li := old.Lines[o]; li.Handle != 0 {
				newItems[li.Ref] = append(newItems[li.Ref], item{handle: li.Handle, line: n})
			}
			continue
		}
		for _, it := range newRulesAt[n] {
			r := it.ops[len(it.ops)-1].Obj.(*model.Rule)
			ref, ok := cidx[Container{r.Family, r.Table, r.Chain, false}]
			if !ok {
				return nil, needFull("chain %s not in the last apply", r.Chain)
			}
			newItems[ref] = append(newItems[ref], it)
		}
	}

	p := &Incremental{newRule: map[int]int{}}
	var dels, adds []model.Op
	ruleAt := map[int]int{} // index in adds of a new rule -> its line
	chains := make([]int32, 0, len(oldRules)+len(newItems))
	for ref := range oldRules {
		chains = append(chains, ref)
	}
	for ref := range newItems {
		if _, ok := oldRules[ref]; !ok {
			chains = append(chains, ref)
		}
	}
	slices.Sort(chains)
	for _, ref := range chains {
		c := old.Containers[ref]
		hs, items := oldRules[ref], newItems[ref]
		pos := make(map[uint64]int, len(hs))
		for i, h := range hs {
			pos[h] = i
		}
		i := 0 // next old rule
		var gap []item
		// flush sends the gap before the kept rule with handle next (0:
		// the chain's end), which old rules hs[i:upto] held.
		flush := func(next uint64, upto int) {
			var removed []uint64
			for ; i < upto; i++ {
				removed = append(removed, hs[i])
			}
			k := min(len(removed), len(gap))
			for t := range gap {
				ops := gap[t].ops
				r := *ops[len(ops)-1].Obj.(*model.Rule)
				verb := model.VerbAdd
				r.Handle, r.Position = 0, 0
				switch {
				case t < k:
					verb, r.Handle = model.VerbReplace, removed[t]
				case next != 0:
					verb, r.Position = model.VerbInsert, next
				}
				adds = append(adds, ops[:len(ops)-1]...)
				ruleAt[len(adds)] = gap[t].line
				adds = append(adds, model.Op{Verb: verb, Obj: &r, Pos: ops[len(ops)-1].Pos})
				p.Changes++
			}
			for _, h := range removed[k:] {
				dels = append(dels, model.Op{Verb: model.VerbDelete, Obj: &model.Rule{Family: c.Family, Table: c.Table, Chain: c.Name, Handle: h}})
				p.Changes++
			}
			gap = gap[:0]
			i++ // the kept rule itself
		}
		for _, it := range items {
			if it.handle == 0 {
				gap = append(gap, it)
				continue
			}
			at, ok := pos[it.handle]
			if !ok || at < i {
				return nil, needFull("rules of chain %s out of order", c.Name)
			}
			flush(it.handle, at)
		}
		flush(0, len(hs))
	}

	// Elements: what only the old side has goes, what only the new side
	// has comes (elements on lines both sides keep cancel out).
	var elemRefs []int32
	for ref := range elemsOld {
		elemRefs = append(elemRefs, ref)
	}
	for ref := range elemsNew {
		if _, ok := elemsOld[ref]; !ok {
			elemRefs = append(elemRefs, ref)
		}
	}
	slices.Sort(elemRefs)
	for _, ref := range elemRefs {
		s := setOf[ref]
		count := map[string]int{}
		for i := range elemsOld[ref] {
			count[elemKey(s, &elemsOld[ref][i])]++
		}
		var add []model.SetElem
		for i := range elemsNew[ref] {
			k := elemKey(s, &elemsNew[ref][i])
			if count[k] > 0 {
				count[k]--
				continue
			}
			add = append(add, elemsNew[ref][i])
		}
		var del []model.SetElem
		for i := range elemsOld[ref] {
			k := elemKey(s, &elemsOld[ref][i])
			if count[k] > 0 {
				count[k]--
				del = append(del, elemsOld[ref][i])
			}
		}
		if len(add) == 0 && len(del) == 0 {
			continue
		}
		if s.Flags&ElemFlagsNoIncr != 0 || slices.Contains(old.NoElemChanges, ref) {
			return nil, needFull("elements of set %s change", s.Name)
		}
		if len(del) > 0 {
			dels = append(dels, model.Op{Verb: model.VerbDelete, Obj: &model.SetElems{Family: s.Family, Table: s.Table, Set: s.Name, Elements: del}, Pos: del[0].Pos})
		}
		if len(add) > 0 {
			// Create, not add: an element another line of the file already
			// has must not be counted once here and deleted later.
			adds = append(adds, model.Op{Verb: model.VerbCreate, Obj: &model.SetElems{Family: s.Family, Table: s.Table, Set: s.Name, Elements: add}, Pos: add[0].Pos})
		}
		p.Changes += len(add) + len(del)
	}
	p.Batch.Ops = append(dels, adds...)
	for k, line := range ruleAt {
		p.newRule[len(dels)+k] = line
	}

	// The source map after the commit.
	next := &SourceMap{Text: in.NewText, Containers: old.Containers, NoElemChanges: old.NoElemChanges,
		Lines: make([]LineInfo, len(in.NewLines))}
	for n := range in.NewLines {
		if o := alignOld[n]; o >= 0 {
			next.Lines[n] = old.Lines[o]
			continue
		}
		li := in.NewLineInfo[n]
		li.Handle = 0
		next.Lines[n] = li
	}
	p.next = next
	return p, nil
}

// declarations returns a canonical form of the batch's operations other
// than rules, anonymous sets and set elements, without positions.
func declarations(b model.Batch) ([]string, error) {
	var out []string
	for _, op := range b.Ops {
		var obj any
		switch x := op.Obj.(type) {
		case *model.Rule, *model.SetElems:
			continue
		case *model.Set:
			if isAnon(x.Name) {
				continue
			}
			c := *x
			c.Elements, c.Pos = nil, model.Pos{}
			obj = &c
		case *model.Table:
			c := *x
			c.Pos = model.Pos{}
			obj = &c
		case *model.Chain:
			c := *x
			c.Pos = model.Pos{}
			obj = &c
		case *model.Flowtable:
			c := *x
			c.Pos = model.Pos{}
			obj = &c
		case *model.Object:
			c := *x
			c.Pos = model.Pos{}
			obj = &c
		default:
			return nil, needFull("%T in the file", op.Obj)
		}
		var sb strings.Builder
		sb.WriteString(op.Verb.String())
		canon(&sb, reflect.ValueOf(obj))
		out = append(out, sb.String())
	}
	return out, nil
}

// ElemKeyHash hashes an element's key (and range end) for finding
// duplicates.
func ElemKeyHash(e *model.SetElem) uint64 {
	h := fnv.New64a()
	h.Write(e.Key)
	h.Write([]byte{0xff})
	h.Write(e.KeyEnd)
	return h.Sum64()
}

// AlignNew maps each line of the new text to its line in the old text, or
// -1 for lines the hunks changed.
func AlignNew(hunks []Hunk, newLines int) []int32 {
	out := make([]int32, newLines)
	o, n := 0, 0
	for _, h := range hunks {
		for ; n < h.NewStart; n++ {
			out[n] = int32(o)
			o++
		}
		for ; n < h.NewEnd; n++ {
			out[n] = -1
		}
		o = h.OldEnd
	}
	for ; n < newLines; n++ {
		out[n] = int32(o)
		o++
	}
	return out
}

// Remove deletes b's hashes from a.
func (a *Applied) Remove(b *Applied) {
	for h := range b.hashes {
		delete(a.hashes, h)
	}
}

// Add adds b's hashes (and tables) to a.
func (a *Applied) Add(b *Applied) {
	if a.hashes == nil {
		a.hashes = map[uint64]struct{}{}
	}
	for h := range b.hashes {
		a.hashes[h] = struct{}{}
	}
	for _, t := range b.Tables {
		if !slices.Contains(a.Tables, t) {
			a.Tables = append(a.Tables, t)
		}
	}
}
