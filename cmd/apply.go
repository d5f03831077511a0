package cmd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/sys/unix"

	"github.com/nftflow/nftflow/kernel"
	"github.com/nftflow/nftflow/model"
	"github.com/nftflow/nftflow/parser"
)

// applyOptions are the flags of `nftflow apply`.
type applyOptions struct {
	netns       string
	check       bool
	includeDirs []string
	dumpBatch   bool // hidden: print the netlink messages instead of sending
	// offloadFallback retries without `flags offload` on flowtables whose
	// devices cannot do hardware offload.
	offloadFallback bool
	// noPreflight skips the flowtable checks before sending
	// (apply_preflight.go).
	noPreflight bool
	// readSystem reads devices and kernel features for the preflight;
	// nil means kernel.ReadSystem.
	readSystem systemReader
	files      []string
	decl       declarativeOptions // apply_declarative.go
}

func newApplyCommand(s *streams) *cobra.Command {
	o := &applyOptions{}
	c := &cobra.Command{
		Use:   "apply [--netns NAME] [--check] [-I DIR] FILE...",
		Short: "Load rulesets into the kernel in one atomic transaction",
		Long: `Parse and compile the nft ruleset files and send them to the kernel as one
nf_tables transaction: either everything takes effect or nothing does.
Like "nft -f", but a refusal points at the line of the file that caused it,
with a plain explanation, and batches of any size go through.

--check sends the transaction and has the kernel validate it and abort, so
nothing changes (as "nft -c -f"). --netns applies inside a named network
namespace (/run/netns/NAME) or a namespace file path. --offload-fallback
applies flowtables with "flags offload" in software when their devices
cannot do hardware offload, with a warning.

If another program changes the ruleset while nftflow is applying, the kernel
refuses the transaction; nftflow retries once, then gives up without
changing anything.

Exit status: 0 applied, 1 refused (parse, compile or kernel errors),
2 usage or I/O error.`,
		Example: `  nftflow apply /etc/nftables.conf
  nftflow apply --check ruleset.nft
  nftflow apply --netns lab -I /etc/nftables.d main.nft`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.files = args
			return runApply(cmd.Context(), o, s)
		},
	}
	c.Flags().StringVar(&o.netns, "netns", "", "apply inside the named network namespace")
	c.Flags().BoolVarP(&o.check, "check", "c", false, "validate in the kernel without committing")
	c.Flags().StringArrayVarP(&o.includeDirs, "include", "I", nil, "add DIR to the include search path (repeatable)")
	c.Flags().BoolVar(&o.offloadFallback, "offload-fallback", false, "if a device cannot do hardware flow offload, apply its flowtable in software")
	c.Flags().BoolVar(&o.dumpBatch, "dump-batch", false, "print the netlink batch instead of sending it (debugging)")
	_ = c.Flags().MarkHidden("dump-batch")
	c.Flags().BoolVar(&o.noPreflight, "no-preflight", false, "do not check flowtable devices against the system before sending")
	addDeclarativeFlags(c, &o.decl)
	c.Long += preflightHelp
	return c
}

// runApply loads every file into one batch and sends it.
func runApply(ctx context.Context, o *applyOptions, s *streams) error {
	if ctx == nil {
		ctx = context.Background()
	}
	defer startProfile()()
	if handled, err := runApplyIncremental(ctx, o, s); handled {
		return err
	}
	var fresh *freshApply
	var incr *incrementalPrep
	limitParse(o.files)
	defer unlimitMemory()
	lf, ok, err := loadFilesWith(o.files, o.includeDirs, s, withIncremental(o, &incr, freshStream(ctx, o, &fresh)))
	if err != nil {
		return usageError(err)
	}
	lf.fresh, lf.incr = fresh, incr
	if !ok {
		return silentExit(ExitFindings)
	}
	if handled, err := runApplyDeclarative(ctx, o, s, lf); handled {
		return err
	}
	batch, sources := lf.batch, lf.sources
	if o.dumpBatch {
		if err := kernel.WriteBatch(s.out, batch); err != nil {
			return printApplyError(s.err, err, sources)
		}
		return nil
	}
	if !o.noPreflight {
		preflight(s.err, o.netns, batchFlowtables(batch), o.readSystem, sources)
	}
	opts := kernel.Options{NetNS: o.netns, Check: o.check}
	err = sendWithOffloadFallback(o.offloadFallback, s.err,
		func() error { return kernel.Apply(ctx, batch, opts) },
		func(refused []*model.Flowtable) { stripOffload(batchFlowtables(batch), refused) })
	if err != nil {
		return printApplyError(s.err, err, sources)
	}
	return nil
}

// parseInput parses one input ("-" is standard input) with its includes.
// f may be set together with perr (the parser recovers); err is for an
// input that cannot be read.
func parseInput(name string, includeDirs []string, in io.Reader) (f *parser.File, perr, err error) {
	if name == "-" {
		b, err := io.ReadAll(in)
		if err != nil {
			return nil, nil, fmt.Errorf("read standard input: %w", err)
		}
		f, perr = parser.ParseString("<stdin>", string(b))
		return f, perr, nil
	}
	fh, err := os.Open(name) // a file we cannot open is an I/O error, not a finding
	if err != nil {
		return nil, nil, fmt.Errorf("read %s: %w", name, err)
	}
	fh.Close()
	f, perr = parser.ParseFile(name, parser.Options{IncludeDirs: includeDirs})
	return f, perr, nil
}

// maxApplyErrors is how many kernel refusals are printed; the rest are
// counted (one missing table makes every later command fail too).
const maxApplyErrors = 10

// printApplyError reports a refused batch: every kernel error at the
// source position of the operation (or expression, or element) it refused.
func printApplyError(w io.Writer, err error, sources sourceTexts) error {
	var oes kernel.OpErrors
	var oe *kernel.OpError
	switch {
	case errors.As(err, &oes):
	case errors.As(err, &oe):
		oes = kernel.OpErrors{oe}
	case errors.Is(err, kernel.ErrGenerationChanged):
		fmt.Fprintf(w, "nftflow: %v\n", err)
		return silentExit(ExitFindings)
	default:
		// Not a refusal: the namespace, the socket or the kernel's answer
		// failed (I/O).
		return usageError(err)
	}
	for i, e := range oes {
		if i == maxApplyErrors {
			fmt.Fprintf(w, "(and %d more errors)\n", len(oes)-maxApplyErrors)
			break
		}
		writePosError(w, e.Pos(), e.Error(), sources)
	}
	if len(oes) > 1 {
		fmt.Fprintf(w, "nftflow: the kernel refused %d operations; nothing was changed\n", len(oes))
	} else {
		fmt.Fprintln(w, "nftflow: nothing was changed")
	}
	return silentExit(ExitFindings)
}

// writePosError prints "file:line:col: error: msg", then the source line
// and a caret line under the span, as nft and the parser do.
func writePosError(w io.Writer, p model.Pos, msg string, sources sourceTexts) {
	if !p.IsValid() {
		if p.File != "" {
			fmt.Fprintf(w, "%s: error: %s\n", p.File, msg)
		} else {
			fmt.Fprintf(w, "error: %s\n", msg)
		}
		return
	}
	fmt.Fprintf(w, "%s:%d:%d: error: %s\n", p.File, p.Line, p.Col, msg)
	src, ok := sources[p.File]
	lines := strings.Split(src, "\n")
	if p.Line > len(lines) || !ok {
		return
	}
	line := strings.TrimRight(lines[p.Line-1], "\r")
	fmt.Fprintln(w, line)
	var b strings.Builder
	for i := 0; i < p.Col-1 && i < len(line); i++ {
		if line[i] == '\t' {
			b.WriteByte('\t')
		} else {
			b.WriteByte(' ')
		}
	}
	n := 1
	switch {
	case p.EndLine == p.Line && p.EndCol > p.Col:
		n = p.EndCol - p.Col
	case p.EndLine > p.Line:
		n = len(line) - p.Col + 1
	}
	n = max(1, min(n, len(line)-p.Col+1))
	b.WriteString(strings.Repeat("^", n))
	fmt.Fprintln(w, b.String())
}

// sendWithOffloadFallback calls send. With fallback set, when the kernel
// refuses `flags offload` on flowtables because their devices cannot do
// hardware offload (offloadRefused), it warns about each at its source
// position, has strip drop the flag from those flowtables in what send
// sends, and sends again: the flowtables then run in software, as OpenWrt's
// fw4 does by hand. It stops at the first refusal for another reason, or
// when a flowtable whose flag was already dropped is refused again.
// Both apply paths (runApply, runApplyDeclarative) send through it.
func sendWithOffloadFallback(fallback bool, w io.Writer, send func() error, strip func(refused []*model.Flowtable)) error {
	err := send()
	var done []*model.Flowtable
	for fallback && err != nil {
		refused := offloadRefused(err)
		if len(refused) == 0 {
			return err
		}
		for _, ft := range refused {
			if slices.ContainsFunc(done, func(d *model.Flowtable) bool { return sameFlowtable(d, ft) }) {
				return err // stripping did not help: give the kernel's answer
			}
		}
		for _, ft := range refused {
			p := ft.Pos
			fmt.Fprintf(w, "%s:%d:%d: warning: devices of flowtable %s cannot do hardware offload; applying it in software (--offload-fallback)\n", p.File, p.Line, p.Col, ft.Name)
		}
		done = append(done, refused...)
		strip(refused)
		err = send()
	}
	return err
}

// stripOffload clears `flags offload` on the flowtables of fts that name
// one of refused (same family, table and name); it returns how many it
// changed.
func stripOffload(fts, refused []*model.Flowtable) int {
	n := 0
	for _, ft := range fts {
		if ft.Flags&model.FlowtableHWOffload == 0 {
			continue
		}
		if slices.ContainsFunc(refused, func(r *model.Flowtable) bool { return sameFlowtable(r, ft) }) {
			ft.Flags &^= model.FlowtableHWOffload
			n++
		}
	}
	return n
}

// offloadRefused returns the flowtables with `flags offload` the kernel
// refused with EOPNOTSUPP: their devices cannot do hardware offload.
func offloadRefused(err error) []*model.Flowtable {
	var oes kernel.OpErrors
	var oe *kernel.OpError
	switch {
	case errors.As(err, &oes):
	case errors.As(err, &oe):
		oes = kernel.OpErrors{oe}
	default:
		return nil
	}
	var fts []*model.Flowtable
	for _, e := range oes {
		ft, ok := e.Op.Obj.(*model.Flowtable)
		if ok && e.Errno == unix.EOPNOTSUPP && ft.Flags&model.FlowtableHWOffload != 0 {
			fts = append(fts, ft)
		}
	}
	return fts
}
