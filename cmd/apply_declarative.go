package cmd

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/nftflow/nftflow/compiler"
	"github.com/nftflow/nftflow/kernel"
	"github.com/nftflow/nftflow/model"
	"github.com/nftflow/nftflow/parser"
	"github.com/nftflow/nftflow/plan"
	"github.com/nftflow/nftflow/render"
)

// declarativeOptions are the flags of the declarative apply path.
type declarativeOptions struct {
	merge              bool // give block files nft's additive semantics
	skipMissingDevices bool // drop flowtable devices that do not exist
	verbose            bool // say what was changed
}

// declarativeHelp is appended to `nftflow apply --help`.
const declarativeHelp = `

Declarative files: when every command of the files is a table block
("table inet filter { ... }", the form "nft list ruleset" prints), apply
makes exactly those tables equal to the files and leaves every other table
alone. It reads the tables from the kernel, compares them object by object
and sends only the differences in one transaction guarded by the ruleset
generation: unchanged rules keep their handles and counters, changed rules
are replaced in place, set elements are added and removed one by one.
Applying the same files twice changes nothing the second time. "flush
ruleset" in such a file makes apply delete the other tables (of that
family) too; without it they are never touched. See "nftflow diff".

When the kernel is still exactly as the last apply of the same single file
left it (nothing committed since), apply compares the two versions of the
file line by line and, if only whole rule lines or hash-set element lines
changed, compiles and sends just those, by handle, without reading the
kernel ("-v" says "(incremental)"; NFTFLOW_NO_INCREMENTAL=1 disables it).

Files with commands ("add rule ...", "delete ...", "insert ...") run in
order with nft's semantics; --merge gives nft's semantics to block files
too (add what is missing, never delete).`

// addDeclarativeFlags registers the declarative apply flags and help.
func addDeclarativeFlags(c *cobra.Command, o *declarativeOptions) {
	c.Long += declarativeHelp
	c.Flags().BoolVar(&o.merge, "merge", false, "add table blocks to the kernel's tables as nft -f does, deleting nothing")
	c.Flags().BoolVar(&o.skipMissingDevices, "skip-missing-devices", false, "drop flowtable devices that do not exist, with a warning, instead of failing")
	c.Flags().BoolVarP(&o.verbose, "verbose", "v", false, "print how many changes were sent")
}

// loadedFiles is a set of parsed and compiled files.
type loadedFiles struct {
	files   []*parser.File
	batch   model.Batch
	sources sourceTexts
	timer   *phaseTimer
	// fresh is set when the files were compiled straight into a batch
	// for tables the kernel does not have (apply_fresh.go).
	fresh *freshApply
	// incr records the apply of a single file for the next, incremental
	// one (apply_incremental.go); nil when it cannot.
	incr *incrementalPrep
}

// loadFiles parses (following includes) and compiles every file, printing
// errors; ok is false when any file has errors, err is for I/O. The files
// keep their commands but not the rules and set elements in them (see
// compiler.Options.Release).
func loadFiles(names, includeDirs []string, s *streams) (*loadedFiles, bool, error) {
	return loadFilesWith(names, includeDirs, s, nil)
}

// loadFilesWith is loadFiles; when stream is set, it is called with the
// parsed files before they are compiled, and the operations go to the
// emit function it returns instead of lf.batch (when it returns one),
// then done is called.
func loadFilesWith(names, includeDirs []string, s *streams, stream func([]*parser.File) (emit func(model.Op) error, done func())) (*loadedFiles, bool, error) {
	lf := &loadedFiles{sources: sourceTexts{}, timer: newPhaseTimer()}
	ok := true
	var parsed []*parser.File
	var parsedNames []string
	for _, name := range names {
		f, perr, err := parseInput(name, includeDirs, s.in)
		if err != nil {
			return nil, false, err
		}
		lf.timer.mark("parse")
		if f != nil {
			collectSources(f, lf.sources)
		}
		if perr != nil {
			ds := parseDiagnostics(perr)
			if len(ds) == 0 {
				return nil, false, perr
			}
			_ = render.WriteDiagnostics(s.err, render.DiagText, ds, render.DiagOptions{Source: lf.sources.bytes})
			ok = false
			continue
		}
		parsed = append(parsed, f)
		parsedNames = append(parsedNames, name)
	}
	var emit func(model.Op) error
	if ok && stream != nil {
		var done func()
		if emit, done = stream(parsed); done != nil {
			defer done()
		}
	}
	for i, f := range parsed {
		// The tree's rules and set elements are dropped as they are
		// compiled: only the kinds of its commands are used afterwards.
		b, err := compiler.CompileWith(f, compiler.Options{Release: true, Emit: emit})
		if err != nil {
			var el compiler.ErrorList
			if !errors.As(err, &el) {
				fmt.Fprintf(s.err, "%s: error: %v\n", parsedNames[i], err)
			}
			for _, e := range el {
				writePosError(s.err, e.Pos, e.Msg, lf.sources)
			}
			ok = false
			continue
		}
		lf.timer.mark("compile")
		lf.files = append(lf.files, f)
		lf.batch.Ops = append(lf.batch.Ops, b.Ops...)
	}
	return lf, ok, nil
}

// isDeclarative reports whether every command of the files (and of the
// files they include) is a bare table block, `flush ruleset`, a define or
// an include.
func isDeclarative(files []*parser.File) bool {
	for _, f := range files {
		for _, c := range f.Commands {
			switch x := c.(type) {
			case *parser.TableBlock:
				if x.Verb != "" || !x.Block {
					return false
				}
			case *parser.CmdStmt:
				if x.Verb != "flush" || len(x.Object) != 1 || x.Object[0] != "ruleset" {
					return false
				}
			case *parser.Include:
				if !isDeclarative(x.Files) {
					return false
				}
			case *parser.Define, *parser.Undefine:
			default:
				return false
			}
		}
	}
	return true
}

// runApplyDeclarative is the declarative apply (see declarativeHelp). It
// returns handled=false when the files are imperative (or --merge or
// --dump-batch is given): runApply then sends them as they are.
func runApplyDeclarative(ctx context.Context, o *applyOptions, s *streams, lf *loadedFiles) (bool, error) {
	if o.decl.merge || o.dumpBatch || !isDeclarative(lf.files) {
		return false, nil
	}
	if lf.fresh != nil {
		if done, err := applyFresh(ctx, o, s, lf, lf.fresh); done {
			if err == nil && !o.check && lf.incr != nil {
				lf.incr.finishFresh(lf.fresh.genid, s.err)
			} else if err == nil && !o.check {
				dropIncremental(o.netns)
			}
			return true, err
		}
		// The ruleset changed since it was read: compare with it.
		again, ok, err := loadFiles(o.files, o.includeDirs, s)
		if err != nil {
			return true, usageError(err)
		}
		if !ok {
			return true, silentExit(ExitFindings)
		}
		again.sources = lf.sources
		lf = again
	}
	prep := lf.incr
	if prep != nil {
		for _, op := range lf.batch.Ops {
			prep.noteSets(op)
		}
	}
	// The syntax trees are no longer needed: let the collector reclaim
	// them (about 80 MB for 100,000 rules) before the kernel is read.
	lf.files = nil
	desired, err := plan.FromBatch(lf.batch)
	if err != nil {
		return true, usageError(err)
	}
	lf.batch = model.Batch{}
	lf.timer.mark("frombatch")
	if err := checkFlowtableDevices(desired, o.netns, o.decl.skipMissingDevices, s.err); err != nil {
		return true, err
	}
	if !o.noPreflight {
		preflight(s.err, o.netns, desiredFlowtables(desired), o.readSystem, lf.sources)
	}
	applied := loadApplied(o.netns, desired, s.err)
	// The record of what is applied is computed while the kernel works on
	// the batch (a canonical key per rule: about 0.5 s for 100,000 rules).
	var records func() [][]byte
	if !o.check {
		records = recordAsync(desired, nil)
	}
	for attempt := 0; ; attempt++ {
		// Each send reads the tables, plans and applies; a send again
		// after --offload-fallback dropped `flags offload` plans anew.
		var p *plan.Plan
		var snapErr error
		var snapGen uint32
		handles := map[int]uint64{}
		send := func() error {
			snap, err := kernel.ReadSnapshot(ctx, o.netns, desired.Manages)
			if err != nil {
				snapErr = err
				return nil
			}
			lf.timer.mark("snapshot")
			snapGen = snap.GenID
			p = plan.Make(desired, snap.Tables, plan.Options{Applied: applied})
			if prep != nil {
				prep.plan(p, snap.Tables)
			}
			lf.timer.mark("plan")
			defer lf.timer.mark("apply")
			if p.Empty() {
				return nil
			}
			kopts := kernel.Options{NetNS: o.netns, Check: o.check}
			if prep != nil {
				kopts.Echo = prep.echo
				kopts.RuleHandle = func(op int, h uint64) { handles[op] = h }
			}
			return kernel.ApplyAtGeneration(ctx, p.Batch, kopts, snap.GenID)
		}
		err := sendWithOffloadFallback(o.offloadFallback, s.err, send,
			func(refused []*model.Flowtable) {
				stripOffload(desiredFlowtables(desired), refused)
				records = recordAsync(desired, nil) // the flowtables changed
			})
		if snapErr != nil {
			return true, &exitError{code: ExitFindings, err: fmt.Errorf("read the current ruleset: %w", snapErr)}
		}
		if errors.Is(err, kernel.ErrGenerationChanged) {
			if attempt == 0 {
				continue
			}
			fmt.Fprintln(s.err, "nftflow: another program changed the ruleset while nftflow was applying, twice in a row; nothing was changed, try again")
			return true, silentExit(ExitFindings)
		}
		if err != nil {
			return true, printApplyError(s.err, err, lf.sources)
		}
		if o.decl.verbose {
			if p.Empty() {
				fmt.Fprintln(s.err, "nftflow: nothing to change")
			} else {
				fmt.Fprintf(s.err, "nftflow: %d changes, %d operations sent\n", len(p.Changes), len(p.Batch.Ops))
			}
		}
		if !o.check {
			saveApplied(o.netns, desired, records(), s.err)
			lf.timer.mark("save")
			if prep != nil {
				prep.finish(p, handles, snapGen, s.err)
			} else {
				dropIncremental(o.netns)
			}
		}
		return true, nil
	}
}

// checkFlowtableDevices fails, naming them, when flowtables list devices
// the namespace does not have and the running kernel would refuse them;
// with skip it drops them with a warning.
func checkFlowtableDevices(d *plan.Desired, netns string, skip bool, errOut io.Writer) error {
	has := false
	for _, ts := range d.Tables {
		has = has || len(ts.Flowtables) > 0
	}
	if !has {
		return nil
	}
	topo, err := kernel.ReadTopology(netns)
	if err != nil {
		return usageError(fmt.Errorf("read network devices: %w", err))
	}
	// From 6.16 the kernel accepts a device that does not exist yet and
	// hooks it when it appears (a ruleset loaded before its interfaces come
	// up): there a missing device is no reason to refuse, and the preflight
	// warns about it instead. Older kernels refuse the whole transaction
	// with ENOENT, so nftflow refuses first and names the device.
	lateOK := false
	if f, err := kernel.DetectFeatures(); err == nil {
		lateOK = f.MissingDevicesOK
	}
	return missingFlowtableDevices(d, topo, lateOK, skip, errOut)
}

// missingFlowtableDevices applies the missing-device policy to d: drop
// (skip), keep (lateOK: the kernel takes them) or refuse before sending.
func missingFlowtableDevices(d *plan.Desired, topo model.Topology, lateOK, skip bool, errOut io.Writer) error {
	var missing []string
	for _, ts := range d.Tables {
		for i, ft := range ts.Flowtables {
			var keep []string
			for _, dev := range ft.Devices {
				if _, ok := topo.LinkByName(dev); ok || (lateOK && !skip) {
					keep = append(keep, dev)
					continue
				}
				if skip {
					fmt.Fprintf(errOut, "nftflow: warning: flowtable %s of table %s %s: device %q does not exist, skipped\n", ft.Name, ft.Family, ft.Table, dev)
					continue
				}
				missing = append(missing, fmt.Sprintf("%q (flowtable %s of table %s %s)", dev, ft.Name, ft.Family, ft.Table))
			}
			if skip && len(keep) != len(ft.Devices) {
				c := *ft
				c.Devices = keep
				ts.Flowtables[i] = &c
			}
		}
	}
	if len(missing) > 0 {
		fmt.Fprintf(errOut, "nftflow: no such device: %s; this kernel refuses the whole transaction for it, so nothing was sent (--skip-missing-devices drops missing devices)\n", strings.Join(missing, ", "))
		return silentExit(ExitFindings)
	}
	return nil
}

// stateDir is where the record of the last apply is kept per namespace
// and table ($NFTFLOW_STATE_DIR, default /var/lib/nftflow).
func stateDir(netns string) string {
	dir := os.Getenv("NFTFLOW_STATE_DIR")
	if dir == "" {
		dir = "/var/lib/nftflow"
	}
	ns := "host"
	if netns != "" {
		ns = "netns-" + strings.NewReplacer("/", "_", "..", "_").Replace(netns)
	}
	return filepath.Join(dir, ns)
}

func stateFile(netns string, t *model.Table) string {
	return filepath.Join(stateDir(netns), t.Family.String()+"-"+strings.ReplaceAll(t.Name, "/", "_")+".json")
}

// loadApplied reads the records of the last apply of the desired tables;
// nil when there are none.
func loadApplied(netns string, d *plan.Desired, errOut io.Writer) *plan.Applied {
	var all *plan.Applied
	for _, ts := range d.Tables {
		b, err := os.ReadFile(stateFile(netns, ts.Table))
		if err != nil {
			continue
		}
		a := &plan.Applied{}
		if err := json.Unmarshal(b, a); err != nil {
			fmt.Fprintf(errOut, "nftflow: warning: ignoring %s: %v\n", stateFile(netns, ts.Table), err)
			continue
		}
		all = all.Merge(a)
	}
	return all
}

// recordAsync starts computing the records of the desired tables (one
// JSON document per table, in the order of d.Tables, nil where it failed)
// with record (nil: plan.Record) on another goroutine; the returned
// function waits for them.
func recordAsync(d *plan.Desired, record func(*model.TableState) *plan.Applied) func() [][]byte {
	if record == nil {
		record = func(ts *model.TableState) *plan.Applied {
			return plan.Record(&plan.Desired{Tables: []*model.TableState{ts}})
		}
	}
	done := make(chan [][]byte, 1)
	go func() {
		out := make([][]byte, len(d.Tables))
		for i, ts := range d.Tables {
			out[i], _ = json.Marshal(record(ts))
		}
		done <- out
	}()
	var out [][]byte
	return func() [][]byte {
		if out == nil {
			out = <-done
		}
		return out
	}
}

// saveApplied records the desired tables as applied, one file per table,
// from their records (recordAsync). A failure only warns: the record only
// serves to tell drift apart.
func saveApplied(netns string, d *plan.Desired, records [][]byte, errOut io.Writer) {
	if err := os.MkdirAll(stateDir(netns), 0o755); err != nil {
		fmt.Fprintf(errOut, "nftflow: warning: cannot record the apply: %v\n", err)
		return
	}
	for i, ts := range d.Tables {
		b := records[i]
		var err error
		if b == nil {
			err = errors.New("cannot encode the record")
		}
		if err == nil {
			name := stateFile(netns, ts.Table)
			tmp := name + ".tmp"
			if err = os.WriteFile(tmp, b, 0o644); err == nil {
				err = os.Rename(tmp, name)
			}
		}
		if err != nil {
			fmt.Fprintf(errOut, "nftflow: warning: cannot record the apply: %v\n", err)
		}
	}
}
