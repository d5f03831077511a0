package cmd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"runtime"
	"runtime/debug"

	"github.com/nftflow/nftflow/kernel"
	"github.com/nftflow/nftflow/model"
	"github.com/nftflow/nftflow/parser"
	"github.com/nftflow/nftflow/plan"
)

// freshApply is the declarative apply of tables the kernel does not have
// yet. There is nothing to compare them with, so the compiled operations
// are the batch: they are encoded as the compiler finishes them and let go
// (a plan.Recorder keeps what the record of the apply needs), and a big
// file is never held as objects and as messages at once.
type freshApply struct {
	genid uint32
	enc   *kernel.BatchEncoder
	err   error // the first operation that could not be encoded
	// The recorder hashes the rules on a goroutine of its own, while
	// the compiler goes on: ops feeds it, done is closed when it is
	// through (then recErr is its error).
	rec    *plan.Recorder
	ops    chan model.Op
	done   chan struct{}
	recErr error
}

// freshStream is the loadFilesWith hook of apply: when the files are
// fresh tables (freshTables) and the kernel has none of them, it returns
// the function the compiled operations go to and sets *fa.
func freshStream(ctx context.Context, o *applyOptions, fa **freshApply) func([]*parser.File) (func(model.Op) error, func()) {
	return func(files []*parser.File) (func(model.Op) error, func()) {
		emit, done := freshEmit(ctx, o, fa, files)
		if emit == nil {
			unlimitMemory() // limitParse's limit: the plan needs what it needs
		}
		return emit, done
	}
}

// freshEmit is freshStream's hook for the parsed files.
func freshEmit(ctx context.Context, o *applyOptions, fa **freshApply, files []*parser.File) (func(model.Op) error, func()) {
	if o.decl.merge || o.dumpBatch {
		return nil, nil
	}
	for _, name := range o.files {
		if name == "-" {
			return nil, nil // refusals are explained by compiling again
		}
	}
	ids, compileBytes, ok := freshTables(files)
	if !ok {
		return nil, nil
	}
	// Only the tables are read: when one exists, the declarative apply
	// reads what it holds.
	genid, existing, err := kernel.ReadTables(ctx, o.netns, func(fam model.Family, name string) bool { return ids[plan.TableID{Family: fam, Name: name}] })
	if err != nil || len(existing) > 0 || genid == 0 {
		return nil, nil // the declarative apply plans (and reports the error)
	}
	f := &freshApply{genid: genid, enc: kernel.NewBatchEncoder(), rec: plan.NewRecorder(),
		ops: make(chan model.Op, 1024), done: make(chan struct{})}
	*fa = f
	limitMemory(o.files, compileBytes)
	go func() {
		defer close(f.done)
		for op := range f.ops {
			if err := f.rec.Add(op); err != nil && f.recErr == nil {
				f.recErr = err
			}
		}
	}()
	emit := func(op model.Op) error {
		if f.err != nil {
			return nil
		}
		if f.err = f.enc.Add(op); f.err == nil {
			f.ops <- op
		}
		return nil
	}
	// Once compiled, what is live is about the batch: the limit has
	// done its work.
	return emit, func() { close(f.ops); unlimitMemory() }
}

// freshTables reports whether declarative files can be applied as fresh
// tables, and names their tables: every table block declares a table of
// its own, each chain, set and object once, no flowtable (their devices are
// checked and may be changed before sending), and there is no `flush
// ruleset` (it deletes other tables).
// It also estimates what compiling them takes beyond the syntax tree, in
// bytes (for limitMemory).
func freshTables(files []*parser.File) (map[plan.TableID]bool, int, bool) {
	if !isDeclarative(files) {
		return nil, 0, false
	}
	ids := map[plan.TableID]bool{}
	compileBytes := 0
	var walk func(files []*parser.File) bool
	walk = func(files []*parser.File) bool {
		for _, f := range files {
			for _, c := range f.Commands {
				switch x := c.(type) {
				case *parser.Include:
					if !walk(x.Files) {
						return false
					}
				case *parser.CmdStmt:
					return false
				case *parser.TableBlock:
					fam := model.FamilyIP
					if x.Family != "" {
						var ok bool
						if fam, ok = model.ParseFamily(x.Family); !ok {
							return false
						}
					}
					if x.Name == nil {
						return false
					}
					id := plan.TableID{Family: fam, Name: x.Name.Name()}
					if ids[id] || !uniqueItems(x.Items) {
						return false
					}
					ids[id] = true
					for _, it := range x.Items {
						if cb, ok := it.(*parser.ChainBlock); ok {
							// the batch: nft's 388 bytes for a rule of
							// two matches, a counter and a verdict
							compileBytes += 400 * cb.NumRules()
						}
						if sb, ok := it.(*parser.SetBlock); ok && sb.Elements != nil {
							if sb.Elements.Compact() {
								// kept compact, not as a tree: its sorted
								// intervals and chunks being encoded
								compileBytes += 64 * sb.Elements.Len()
							} else {
								// the sorted intervals
								compileBytes += 128 * sb.Elements.Len()
							}
						}
					}
				}
			}
		}
		return true
	}
	if !walk(files) || len(ids) == 0 {
		return nil, 0, false
	}
	return ids, compileBytes, true
}

// uniqueItems reports whether a table block declares each chain, set and
// object once, and no flowtable.
func uniqueItems(items []parser.TableItem) bool {
	seen := map[string]bool{}
	once := func(kind, name string) bool {
		k := kind + " " + name
		if seen[k] {
			return false
		}
		seen[k] = true
		return true
	}
	for _, it := range items {
		switch y := it.(type) {
		case *parser.FlowtableBlock:
			return false
		case *parser.ChainBlock:
			if y.Name == nil || !once("chain", y.Name.Name()) {
				return false
			}
		case *parser.SetBlock:
			if y.Name == nil || !once("set", y.Name.Name()) {
				return false
			}
		case *parser.ObjectBlock:
			if y.Name == nil || !once("object "+y.Kind, y.Name.Name()) {
				return false
			}
		}
	}
	return true
}

// applyFresh sends what freshStream encoded. It returns done=false when
// another program changed the ruleset since it was read: the caller then
// compares the files with the kernel as usual.
func applyFresh(ctx context.Context, o *applyOptions, s *streams, lf *loadedFiles, fa *freshApply) (done bool, err error) {
	if fa.err != nil {
		return true, printApplyError(s.err, fa.err, lf.sources)
	}
	var records func() [][]byte
	if !o.check {
		records = func() [][]byte {
			<-fa.done
			if fa.recErr != nil {
				return make([][]byte, len(fa.rec.Desired().Tables)) // not recorded
			}
			return recordAsync(fa.rec.Desired(), fa.rec.Record)()
		}
	}
	// Refusals are mapped back to the operations by compiling the files
	// again, emitting as before: compiling is deterministic, so the
	// operations come as they were encoded.
	rebuild := func() (*model.Batch, error) {
		quiet := &streams{in: s.in, out: io.Discard, err: io.Discard}
		var b model.Batch
		collect := func([]*parser.File) (func(model.Op) error, func()) {
			return func(op model.Op) error { b.Ops = append(b.Ops, op); return nil }, nil
		}
		_, ok, err := loadFilesWith(o.files, o.includeDirs, quiet, collect)
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, errors.New("the files changed while applying")
		}
		return &b, nil
	}
	lf.timer.mark("fresh")
	err = kernel.ApplyEncodedAtGeneration(ctx, fa.enc, rebuild, kernel.Options{NetNS: o.netns, Check: o.check}, fa.genid)
	lf.timer.mark("apply")
	if errors.Is(err, kernel.ErrGenerationChanged) {
		return false, nil
	}
	if err != nil {
		return true, printApplyError(s.err, err, lf.sources)
	}
	<-fa.done
	desired := fa.rec.Desired()
	if o.decl.verbose {
		fmt.Fprintf(s.err, "nftflow: %d changes, %d operations sent\n", len(desired.Tables), fa.enc.Len())
	}
	if !o.check {
		saveApplied(o.netns, desired, records(), s.err)
	}
	return true, nil
}

// bigInput is the input size from which limitMemory limits.
const bigInput = 4 << 20

// limitMemory sets a soft memory limit for the fresh apply of big inputs
// (unless GOMEMLIMIT is set): 1.25 times what is live once the files are
// parsed, 8 MB, and compileBytes, freshTables' estimate of the batch and
// of the sorted intervals of set elements. The syntax tree is let go
// piece by piece while the batch grows (rules kept as spans are parsed one
// at a time); the limit keeps the collector from letting the heap grow to
// twice what is live first, as GOGC=100 would. Where the live heap does
// pass the limit, the collector is capped at half the CPU: slower, never
// failing.
func limitMemory(names []string, compileBytes int) {
	if os.Getenv("GOMEMLIMIT") != "" || inputSize(names) < bigInput {
		return
	}
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	debug.SetMemoryLimit(int64(ms.HeapAlloc)*5/4 + 8<<20 + int64(compileBytes))
}

// limitParse sets a soft memory limit for parsing big inputs (unless
// GOMEMLIMIT is set): 14 bytes per byte of input, what the syntax tree of
// a file of rules takes, and 16 MB. Without it the collector lets the heap
// reach twice the tree before the files are even compiled (100,000 rules:
// 110 MB of heap for 70 live). limitMemory then sets the limit for
// compiling, or unlimitMemory lifts it.
func limitParse(names []string) {
	if size := inputSize(names); size >= bigInput && os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(14*size + 16<<20)
	}
}

func inputSize(names []string) int64 {
	var size int64
	for _, name := range names {
		if fi, err := os.Stat(name); err == nil {
			size += fi.Size()
		}
	}
	return size
}

// unlimitMemory lifts limitMemory's limit once the files are compiled
// (unless GOMEMLIMIT set one).
func unlimitMemory() {
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(math.MaxInt64)
	}
}
