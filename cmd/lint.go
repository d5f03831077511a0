package cmd

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/nftflow/nftflow/compiler"
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

Exit status: 0 no errors, 1 errors found (or warnings with --strict),
2 usage or I/O error.`,
		Example: `  nftflow lint /etc/nftables.conf
  nftflow lint --strict -I /etc/nftables.d ruleset.nft
  nftflow lint --format sarif ruleset.nft > nftflow.sarif
  nftflow lint --format github examples/*.nft`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			o.files = args
			return runLint(o, s)
		},
	}
	c.Flags().StringVar(&o.format, "format", "text", "output format: text, json, sarif or github")
	c.Flags().BoolVar(&o.strict, "strict", false, "exit 1 on warnings too")
	c.Flags().StringArrayVarP(&o.includeDirs, "include", "I", nil, "add DIR to the include search path (repeatable)")
	return c
}

// runLint parses, checks and reports every file.
func runLint(o *lintOptions, s *streams) error {
	format, err := render.ParseDiagFormat(o.format)
	if err != nil {
		return usageError(err)
	}
	sources := map[string][]byte{}
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
		Source:      func(f string) []byte { return sources[f] },
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
func lintFile(name string, o *lintOptions, stdin io.Reader, sources map[string][]byte) ([]compiler.Diagnostic, error) {
	var f *parser.File
	var perr error
	if name == "-" {
		b, err := io.ReadAll(stdin)
		if err != nil {
			return nil, fmt.Errorf("read standard input: %w", err)
		}
		f, perr = parser.ParseString("<stdin>", string(b))
	} else {
		fh, err := os.Open(name)
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", name, err)
		}
		fh.Close()
		f, perr = parser.ParseFile(name, parser.Options{IncludeDirs: o.includeDirs})
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

// collectSources records the text of the file and of every file it
// includes, for the caret display.
func collectSources(f *parser.File, sources map[string][]byte) {
	if f.Src != nil {
		sources[f.Src.Name] = []byte(f.Src.Text)
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
