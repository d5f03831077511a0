package cmd

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/nftflow/nftflow/kernel"
	"github.com/nftflow/nftflow/model"
	"github.com/nftflow/nftflow/plan"
	"github.com/nftflow/nftflow/render"
)

// diffOptions are the flags of `nftflow diff`.
type diffOptions struct {
	netns       string
	exitCode    bool
	output      string // text or json
	includeDirs []string
	files       []string
}

func newDiffCommand(s *streams) *cobra.Command {
	o := &diffOptions{}
	c := &cobra.Command{
		Use:     "diff [--netns NAME] [--exit-code] [-o text|json] FILE...",
		Aliases: []string{"plan"},
		Short:   "Show what `nftflow apply` would change in the kernel",
		Long: `Compare the tables the files declare with the kernel's and print what
"nftflow apply" would change, per table, in nft syntax: "+" is added,
"-" removed, "~" replaced (the kernel's version, then "=>" and the file's).
Only the tables the files declare are read (with "flush ruleset": every
table of that family). Nothing is changed.

A change marked "(drift)" was made by another program since nftflow last
applied these tables: nftflow records what it applied under
/var/lib/nftflow (or $NFTFLOW_STATE_DIR).

--exit-code exits 1 when there are changes and 0 when there are none, like
"git diff --exit-code". -o json prints the changes for programs (see
docs/diff.md for the schema).

Exit status: 0 success (no changes with --exit-code), 1 changes with
--exit-code or errors in the files, 2 usage or I/O error.`,
		Example: `  nftflow diff /etc/nftables.conf
  nftflow plan --exit-code ruleset.nft || nftflow apply ruleset.nft
  nftflow diff -o json --netns lab ruleset.nft`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.files = args
			return runDiff(cmd.Context(), o, s)
		},
	}
	c.Flags().StringVar(&o.netns, "netns", "", "compare with the ruleset of the named network namespace")
	c.Flags().BoolVar(&o.exitCode, "exit-code", false, "exit 1 when there are changes, 0 when there are none")
	c.Flags().StringVarP(&o.output, "output", "o", "text", "output format: text or json")
	c.Flags().StringArrayVarP(&o.includeDirs, "include", "I", nil, "add DIR to the include search path (repeatable)")
	return c
}

func runDiff(ctx context.Context, o *diffOptions, s *streams) error {
	if ctx == nil {
		ctx = context.Background()
	}
	if o.output != "text" && o.output != "json" {
		return usageError(fmt.Errorf("unknown output format %q (want text or json)", o.output))
	}
	lf, ok, err := loadFiles(o.files, o.includeDirs, s)
	if err != nil {
		return usageError(err)
	}
	if !ok {
		return silentExit(ExitFindings)
	}
	if !isDeclarative(lf.files) {
		return usageError(fmt.Errorf("diff compares table blocks: %s has commands (add, insert, delete, ...), which nftflow apply runs as they are", strings.Join(o.files, ", ")))
	}
	desired, err := plan.FromBatch(lf.batch)
	if err != nil {
		return usageError(err)
	}
	snap, err := kernel.ReadSnapshot(ctx, o.netns, desired.Manages)
	if err != nil {
		return usageError(fmt.Errorf("read the current ruleset: %w", err))
	}
	p := plan.Make(desired, snap.Tables, plan.Options{Applied: loadApplied(o.netns, desired, s.err)})
	ifnames, _ := kernel.InterfaceNames(o.netns)
	dp := &diffPrinter{sources: lf.sources, ifnames: ifnames, current: p.Current}
	bw := bufio.NewWriter(s.out)
	if o.output == "json" {
		err = dp.writeJSON(bw, p)
	} else {
		dp.writeText(bw, p)
	}
	if ferr := bw.Flush(); err == nil {
		err = ferr
	}
	if err != nil {
		return usageError(err)
	}
	if o.exitCode && !p.Empty() {
		return silentExit(ExitFindings)
	}
	return nil
}

// diffPrinter renders changes in nft syntax.
type diffPrinter struct {
	sources sourceTexts
	ifnames map[uint32]string
	current []*model.TableState
}

// lister returns a printer that knows the kernel's sets of the table (for
// rules using anonymous sets).
func (dp *diffPrinter) lister(id plan.TableID, w io.Writer) *render.Lister {
	l := render.NewLister(w, render.ListOptions{IfNames: dp.ifnames})
	for _, ts := range dp.current {
		if ts.Table.Family == id.Family && ts.Table.Name == id.Name {
			for _, s := range ts.Sets {
				l.AddSet(s)
			}
		}
	}
	return l
}

// sourceText returns the source span of pos, on one line.
func (dp *diffPrinter) sourceText(p model.Pos) string {
	src, ok := dp.sources[p.File]
	if !p.IsValid() || !ok {
		return ""
	}
	lines := strings.Split(string(src), "\n")
	if p.Line > len(lines) {
		return ""
	}
	endLine, endCol := p.EndLine, p.EndCol
	if endLine < p.Line || endLine > len(lines) {
		endLine, endCol = p.Line, 0
	}
	var parts []string
	for ln := p.Line; ln <= endLine; ln++ {
		line := strings.TrimRight(lines[ln-1], "\r")
		from, to := 0, len(line)
		if ln == p.Line {
			from = min(p.Col-1, len(line))
		}
		if ln == endLine && endCol > 0 {
			to = min(endCol-1, len(line))
		}
		if from < to {
			parts = append(parts, strings.TrimSpace(line[from:to]))
		}
	}
	return strings.Join(parts, " ")
}

// ruleText prints a rule: the file's rules as written, the kernel's as nft
// lists them.
func (dp *diffPrinter) ruleText(id plan.TableID, r *model.Rule, fromFile bool) string {
	if fromFile {
		if t := dp.sourceText(r.Pos); t != "" {
			return t
		}
	}
	l := dp.lister(id, io.Discard)
	return l.RuleText(r)
}

// objectText prints a chain header, set, flowtable or object as nft lists
// it, on one line.
func (dp *diffPrinter) objectText(id plan.TableID, obj any) string {
	var b bytes.Buffer
	l := dp.lister(id, &b)
	switch x := obj.(type) {
	case *model.Chain:
		c := *x
		l.BeginChain(&c)
		l.EndChain()
	case *model.Set:
		s := *x
		s.Handle = 0
		l.Set(&s)
	case *model.Flowtable:
		f := *x
		f.Handle = 0
		l.Flowtable(&f)
	case *model.Object:
		ob := *x
		ob.Handle = 0
		l.Object(&ob)
	case *model.Table:
		return ""
	}
	return oneLine(b.String())
}

// oneLine joins a multi-line listing into one line.
func oneLine(s string) string {
	var parts []string
	for _, ln := range strings.Split(s, "\n") {
		if ln = strings.TrimSpace(ln); ln != "" {
			parts = append(parts, ln)
		}
	}
	return strings.Join(parts, " ")
}

// elementText prints a changed element; show is false when it is printed
// with another one (the end of an interval whose start changed too).
func (dp *diffPrinter) elementText(id plan.TableID, s *model.Set, e *model.SetElem, changed map[string]bool) (string, bool) {
	if s != nil && s.Flags&0x4 != 0 && len(e.KeyEnd) == 0 {
		return dp.intervalText(id, s, e, changed)
	}
	return dp.elemText(id, s, e), true
}

// elemText prints one element as nft lists it inside its set.
func (dp *diffPrinter) elemText(id plan.TableID, s *model.Set, e *model.SetElem) string {
	if s == nil {
		return fmt.Sprintf("%x", e.Key)
	}
	c := *s
	c.Handle = 0
	c.Flags &^= 0x1 // print it as a named set
	if e != nil {
		c.Elements = []model.SetElem{*e}
	}
	var b bytes.Buffer
	l := dp.lister(id, &b)
	l.Set(&c)
	out := b.String()
	if i := strings.Index(out, "elements = {"); i >= 0 {
		rest := out[i+len("elements = {"):]
		depth := 1
		for j, r := range rest {
			switch r {
			case '{':
				depth++
			case '}':
				depth--
			}
			if depth == 0 {
				return strings.TrimSpace(oneLine(rest[:j]))
			}
		}
	}
	return fmt.Sprintf("%x", e.Key)
}

// intervalElems prints the changed elements of an interval set as the
// ranges they bound: a changed start is printed with its end, a changed
// end (whose start did not change) with its start. changed holds the keys
// of the elements changed with the same mark.
func (dp *diffPrinter) intervalText(id plan.TableID, s *model.Set, e *model.SetElem, changed map[string]bool) (string, bool) {
	els := slices.Clone(s.Elements)
	slices.SortStableFunc(els, func(a, b model.SetElem) int { return bytes.Compare(a.Key, b.Key) })
	i := slices.IndexFunc(els, func(x model.SetElem) bool { return bytes.Equal(x.Key, e.Key) && x.Flags == e.Flags })
	if i < 0 {
		return dp.elemText(id, s, e), true
	}
	pair := []model.SetElem{*e}
	if e.Flags&elemIntervalEnd != 0 {
		if i == 0 || els[i-1].Flags&elemIntervalEnd != 0 {
			return dp.elemText(id, s, e), true
		}
		if changed[elemID(&els[i-1])] {
			return "", false // printed with its start
		}
		pair = []model.SetElem{els[i-1], *e}
	} else if i+1 < len(els) && els[i+1].Flags&elemIntervalEnd != 0 {
		pair = append(pair, els[i+1])
	}
	c := *s
	c.Handle = 0
	c.Flags &^= 0x1
	c.Elements = pair
	return dp.elemText(id, &c, nil), true
}

// elemIntervalEnd is NFT_SET_ELEM_INTERVAL_END.
const elemIntervalEnd = 0x1

func elemID(e *model.SetElem) string { return fmt.Sprintf("%x/%x", e.Key, e.Flags) }

// diffLine is one printed change.
type diffLine struct {
	Mark   string `json:"op"`
	Family string `json:"family"`
	Table  string `json:"table"`
	Kind   string `json:"kind"`
	Name   string `json:"name,omitempty"`
	Handle uint64 `json:"handle,omitempty"`
	Old    string `json:"old,omitempty"`
	New    string `json:"new,omitempty"`
	Drift  bool   `json:"drift"`
}

func (dp *diffPrinter) lines(p *plan.Plan) []diffLine {
	var out []diffLine
	// changed["+set"] holds the elements of set added (and "-set" removed).
	changed := map[string]map[string]bool{}
	for _, c := range p.Changes {
		if c.Kind != "element" {
			continue
		}
		k := string(c.Mark) + c.Name
		if changed[k] == nil {
			changed[k] = map[string]bool{}
		}
		for _, x := range []any{c.Old, c.New} {
			if e, ok := x.(*model.SetElem); ok {
				changed[k][elemID(e)] = true
			}
		}
	}
	for _, c := range p.Changes {
		d := diffLine{Mark: string(c.Mark), Family: c.Table.Family.String(), Table: c.Table.Name, Kind: c.Kind, Name: c.Name, Drift: c.Drift}
		switch c.Kind {
		case "rule":
			if r, ok := c.Old.(*model.Rule); ok {
				d.Old = dp.ruleText(c.Table, r, false)
				d.Handle = r.Handle
			}
			if r, ok := c.New.(*model.Rule); ok {
				d.New = dp.ruleText(c.Table, r, true)
			}
		case "element":
			show := true
			if e, ok := c.Old.(*model.SetElem); ok {
				d.Old, show = dp.elementText(c.Table, c.OldSet, e, changed[string(c.Mark)+c.Name])
			}
			if e, ok := c.New.(*model.SetElem); ok {
				d.New, show = dp.elementText(c.Table, c.NewSet, e, changed[string(c.Mark)+c.Name])
			}
			if !show {
				continue
			}
		case "policy":
			d.Old = policyName(c.Old.(*model.Chain))
			d.New = policyName(c.New.(*model.Chain))
		case "table":
			if t, ok := c.Old.(*model.Table); ok {
				d.Old = fmt.Sprintf("flags 0x%x", t.Flags)
			}
			if t, ok := c.New.(*model.Table); ok {
				d.New = fmt.Sprintf("flags 0x%x", t.Flags)
			}
		default:
			if c.Old != nil {
				d.Old = dp.objectText(c.Table, c.Old)
			}
			if c.New != nil {
				d.New = dp.objectText(c.Table, c.New)
			}
		}
		out = append(out, d)
	}
	return out
}

func policyName(c *model.Chain) string {
	if c.Policy != nil && *c.Policy == 0 {
		return "policy drop"
	}
	return "policy accept"
}

// writeText prints the changes grouped by table:
//
//	table inet filter
//	+ rule input: tcp dport 22 accept
//	~ rule input handle 7: tcp dport 80 accept
//	    => tcp dport 8080 accept
func (dp *diffPrinter) writeText(w io.Writer, p *plan.Plan) {
	lines := dp.lines(p)
	if len(lines) == 0 {
		fmt.Fprintln(w, "No changes: the kernel matches the files.")
		return
	}
	var table string
	var add, del, rep, drift int
	for _, d := range lines {
		if t := d.Family + " " + d.Table; t != table {
			table = t
			fmt.Fprintf(w, "table %s\n", t)
		}
		what := d.Kind
		if d.Name != "" && d.Kind != "table" {
			what += " " + d.Name
		}
		if d.Handle != 0 {
			what += fmt.Sprintf(" handle %d", d.Handle)
		}
		suffix := ""
		if d.Drift {
			suffix = "  (drift)"
			drift++
		}
		switch d.Mark {
		case "+":
			add++
			fmt.Fprintf(w, "+ %s: %s%s\n", what, d.New, suffix)
		case "-":
			del++
			fmt.Fprintf(w, "- %s: %s%s\n", what, d.Old, suffix)
		default:
			rep++
			fmt.Fprintf(w, "~ %s: %s%s\n    => %s\n", what, d.Old, suffix, d.New)
		}
	}
	fmt.Fprintf(w, "%d to add, %d to change, %d to remove", add, rep, del)
	if drift > 0 {
		fmt.Fprintf(w, " (%d drifted from the last apply)", drift)
	}
	fmt.Fprintf(w, "; %d operations in one transaction\n", len(p.Batch.Ops))
}

// diffJSON is the -o json document (docs/diff.md).
type diffJSON struct {
	Changes    []diffLine     `json:"changes"`
	Summary    map[string]int `json:"summary"`
	Operations int            `json:"operations"`
}

func (dp *diffPrinter) writeJSON(w io.Writer, p *plan.Plan) error {
	lines := dp.lines(p)
	doc := diffJSON{Changes: lines, Summary: map[string]int{"add": 0, "change": 0, "remove": 0, "drift": 0}, Operations: len(p.Batch.Ops)}
	if doc.Changes == nil {
		doc.Changes = []diffLine{}
	}
	for i := range lines {
		switch lines[i].Mark {
		case "+":
			lines[i].Mark = "add"
			doc.Summary["add"]++
		case "-":
			lines[i].Mark = "remove"
			doc.Summary["remove"]++
		default:
			lines[i].Mark = "replace"
			doc.Summary["change"]++
		}
		if lines[i].Drift {
			doc.Summary["drift"]++
		}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(doc)
}
