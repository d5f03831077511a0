package cmd

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/nftflow/nftflow/compiler"
	"github.com/nftflow/nftflow/kernel"
	"github.com/nftflow/nftflow/model"
	"github.com/nftflow/nftflow/parser"
	"github.com/nftflow/nftflow/render"
)

// lintOptions are the flags of `nftflow lint`.
type lintOptions struct {
	format      string
	strict      bool
	includeDirs []string
	files       []string
	// system, when not nil, adds the checks that need the running
	// system (set by --system, wired by the command that provides it).
	system compiler.System

	// --system and its sources: the running kernel (optionally inside
	// a namespace), or a saved topology with a chosen kernel version.
	useSystem bool
	netns     string
	topology  string
	kernel    string
}

func newLintCommand(s *streams) *cobra.Command {
	o := &lintOptions{}
	c := &cobra.Command{
		Use:   "lint [flags] FILE...",
		Short: "Check rulesets without a kernel or root",
		Long: `Check nft rulesets for errors nft or the kernel would report, and for
mistakes they would not: undefined sets, chains, flowtables and variables,
jump loops, flow add outside a forward chain, statements after flow add
that offloaded packets skip, wrong address families, ports and constants,
statements in the wrong chain type or hook, rules that can never run.

It needs no kernel and no root. Every diagnostic has a code (see
docs/codes.md). FILE "-" reads standard input.

With --system, lint also checks each flowtable against this machine:
devices that do not exist or are down, a tunnel listed where this kernel
wants its underlay device (or the reverse), flags offload on a device that
cannot offload, and it prints the corrected devices line. --topology FILE
(saved by "nftflow flowtable topology") and --kernel VERSION do the same
offline, for another machine.

Exit status: 0 no errors, 1 errors found (or warnings with --strict),
2 usage or I/O error.`,
		Example: `  nftflow lint /etc/nftables.conf
  nftflow lint --strict -I /etc/nftables.d ruleset.nft
  nftflow lint --format sarif ruleset.nft > nftflow.sarif
  nftflow lint --format github examples/*.nft
  nftflow lint --system --netns router ruleset.nft
  nftflow lint --topology router.json --kernel 6.1 ruleset.nft`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			o.files = args
			return runLint(o, s)
		},
	}
	c.Flags().StringVar(&o.format, "format", "text", "output format: text, json, sarif or github")
	c.Flags().BoolVar(&o.strict, "strict", false, "exit 1 on warnings too")
	c.Flags().StringArrayVarP(&o.includeDirs, "include", "I", nil, "add DIR to the include search path (repeatable)")
	c.Flags().BoolVar(&o.useSystem, "system", false, "also check flowtable devices against this machine's devices, routes and kernel")
	c.Flags().StringVar(&o.netns, "netns", "", "with --system: read the devices of the named network namespace")
	c.Flags().StringVar(&o.topology, "topology", "", "with --system: read devices and routes from a file saved by 'nftflow flowtable topology'")
	c.Flags().StringVar(&o.kernel, "kernel", "", "with --system: check for this kernel version instead of the running one")
	return c
}

// systemFacts gathers what --system checks against: a saved topology or
// the running system, and the features of --kernel or the running kernel.
func systemFacts(o *lintOptions) (compiler.System, error) {
	if !o.useSystem {
		if o.netns != "" || o.topology != "" || o.kernel != "" {
			return nil, usageError(errors.New("--netns, --topology and --kernel need --system"))
		}
		return nil, nil
	}
	var topo model.Topology
	fileKernel := ""
	var err error
	if o.topology != "" {
		if o.netns != "" {
			return nil, usageError(errors.New("--topology and --netns exclude each other"))
		}
		topo, fileKernel, err = loadTopologyFile(o.topology)
	} else {
		topo, err = kernel.ReadTopology(o.netns)
	}
	if err != nil {
		return nil, usageError(fmt.Errorf("read system: %w", err))
	}
	feat, err := flowtableFeatures(o.kernel, fileKernel, kernelTopologySource{})
	if err != nil {
		return nil, err
	}
	return compiler.SystemFacts{Topo: topo, Feat: feat}, nil
}

// runLint parses, checks and reports every file.
func runLint(o *lintOptions, s *streams) error {
	format, err := render.ParseDiagFormat(o.format)
	if err != nil {
		return usageError(err)
	}
	if o.system == nil {
		if o.system, err = systemFacts(o); err != nil {
			return err
		}
	}
	sources := sourceTexts{}
	var all []compiler.Diagnostic
	for _, name := range o.files {
		ds, err := lintFile(name, o, s.in, sources)
		if err != nil {
			return usageError(err)
		}
		all = append(all, ds...)
	}
	base, _ := os.Getwd() // SARIF locations relative to where lint runs
	err = render.WriteDiagnostics(s.out, format, all, render.DiagOptions{
		Source:      sources.bytes,
		ToolVersion: Version,
		BaseDir:     base,
	})
	if err != nil {
		return usageError(fmt.Errorf("write diagnostics: %w", err))
	}
	if format == render.DiagText && len(all) > 0 {
		fmt.Fprintln(s.err, summary(all))
	}
	if compiler.HasErrors(all, o.strict) {
		return silentExit(ExitFindings)
	}
	return nil
}

// summary counts diagnostics by severity: "2 errors, 1 warning".
func summary(ds []compiler.Diagnostic) string {
	var n [3]int
	for _, d := range ds {
		n[d.Severity]++
	}
	var parts []string
	for _, x := range []struct {
		sev  compiler.Severity
		word string
	}{{compiler.SeverityError, "error"}, {compiler.SeverityWarning, "warning"}, {compiler.SeverityInfo, "info"}} {
		if c := n[x.sev]; c > 0 {
			w := x.word
			if c > 1 && w != "info" {
				w += "s"
			}
			parts = append(parts, fmt.Sprintf("%d %s", c, w))
		}
	}
	return strings.Join(parts, ", ")
}

// lintFile parses one file with its includes (parser.ParseFile) and lints
// it. Parse errors and include failures are diagnostics; only failing to
// read the named file itself is an error.
func lintFile(name string, o *lintOptions, stdin io.Reader, sources sourceTexts) ([]compiler.Diagnostic, error) {
	f, perr, err := parseInput(name, o.includeDirs, stdin)
	if err != nil {
		return nil, err
	}
	ds := parseDiagnostics(perr)
	if f == nil {
		if len(ds) == 0 && perr != nil {
			return nil, perr
		}
		return ds, nil
	}
	collectSources(f, sources)
	if name == "-" {
		ds = append(ds, stdinIncludes(f)...)
	}
	ds = append(ds, compiler.Lint(f, compiler.LintOptions{System: o.system})...)
	compiler.SortDiagnostics(ds)
	return ds, nil
}

// parseDiagnostics turns the parser's errors into diagnostics: NF002 for
// includes that cannot be followed, NF001 for the rest.
func parseDiagnostics(err error) []compiler.Diagnostic {
	if err == nil {
		return nil
	}
	var el parser.ErrorList
	if !errors.As(err, &el) {
		return nil
	}
	var ds []compiler.Diagnostic
	for _, e := range el {
		p := model.Pos{File: e.Pos.File, Line: e.Pos.Line, Col: e.Pos.Col}
		if e.End.Line > 0 && (e.End.Line > e.Pos.Line || e.End.Col > e.Pos.Col) {
			p.EndLine, p.EndCol = e.End.Line, e.End.Col
		}
		code, msg := compiler.CodeSyntax, e.Msg
		if strings.HasPrefix(msg, "include") {
			code = compiler.CodeInclude
			if strings.Contains(msg, "not found") {
				msg += "; add -I DIR or fix the path"
			}
		}
		ds = append(ds, compiler.Diagnostic{Code: code, Severity: compiler.SeverityError, Pos: p, Message: msg})
	}
	return ds
}

// sourceTexts maps file names to their text, for printing the source line
// of a diagnostic. The texts are the parser's own, not copies.
type sourceTexts map[string]string

// bytes returns the text of file f, or nil when it is not known.
func (st sourceTexts) bytes(f string) []byte {
	t, ok := st[f]
	if !ok {
		return nil
	}
	return []byte(t)
}

// collectSources records the text of the file and of every file it
// includes, for the caret display.
func collectSources(f *parser.File, sources sourceTexts) {
	if f.Src != nil {
		sources[f.Src.Name] = f.Src.Text
	}
	for _, c := range f.Commands {
		if inc, ok := c.(*parser.Include); ok {
			for _, sub := range inc.Files {
				if sub != nil {
					collectSources(sub, sources)
				}
			}
		}
	}
}

// stdinIncludes reports the includes of a ruleset read from standard
// input: they are not followed (there is no file to resolve them from).
func stdinIncludes(f *parser.File) []compiler.Diagnostic {
	var ds []compiler.Diagnostic
	for _, c := range f.Commands {
		if inc, ok := c.(*parser.Include); ok && inc.Path != nil {
			ds = append(ds, compiler.Diagnostic{Code: compiler.CodeInclude, Severity: compiler.SeverityError,
				Pos:     compiler.PosOf(inc.Path),
				Message: fmt.Sprintf("include %s is not followed when the ruleset comes from standard input; pass the file's path instead of -", inc.Path.Text)})
		}
	}
	return ds
}
