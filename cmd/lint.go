package cmd

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
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
	err = render.WriteDiagnostics(s.out, format, all, render.DiagOptions{
		Source:      func(f string) []byte { return sources[f] },
		ToolVersion: Version,
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

// lintFile reads and parses one file with its includes and lints it.
// Parse errors and include failures are diagnostics; only failing to read
// the named file itself is an error.
func lintFile(name string, o *lintOptions, stdin io.Reader, sources map[string][]byte) ([]compiler.Diagnostic, error) {
	var b []byte
	var err error
	if name == "-" {
		b, err = io.ReadAll(stdin)
		name = "<stdin>"
	} else {
		b, err = os.ReadFile(name)
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	sources[name] = b
	ld := &includeLoader{dirs: o.includeDirs, sources: sources}
	f := ld.parse(name, b, 0)
	if f == nil {
		return ld.diags, nil
	}
	ds := append(ld.diags, compiler.Lint(f, compiler.LintOptions{System: o.system})...)
	compiler.SortDiagnostics(ds)
	return ds, nil
}

// includeLoader parses a file and follows its includes, turning parse
// errors and unresolvable includes into diagnostics.
type includeLoader struct {
	dirs    []string
	sources map[string][]byte
	diags   []compiler.Diagnostic
	stack   []string
}

const maxIncludeDepth = 16

func (ld *includeLoader) parse(name string, b []byte, depth int) *parser.File {
	f, err := parser.ParseBytes(name, b)
	var el parser.ErrorList
	if errors.As(err, &el) {
		for _, e := range el {
			p := model.Pos{File: e.Pos.File, Line: e.Pos.Line, Col: e.Pos.Col}
			if e.End.Line > 0 && (e.End.Line > e.Pos.Line || e.End.Col > e.Pos.Col) {
				p.EndLine, p.EndCol = e.End.Line, e.End.Col
			}
			ld.diags = append(ld.diags, compiler.Diagnostic{Code: compiler.CodeSyntax, Severity: compiler.SeverityError, Pos: p, Message: e.Msg})
		}
	} else if err != nil {
		ld.diags = append(ld.diags, compiler.Diagnostic{Code: compiler.CodeSyntax, Severity: compiler.SeverityError, Pos: model.Pos{File: name}, Message: err.Error()})
	}
	if f == nil {
		return nil
	}
	ld.stack = append(ld.stack, name)
	defer func() { ld.stack = ld.stack[:len(ld.stack)-1] }()
	for _, c := range f.Commands {
		inc, ok := c.(*parser.Include)
		if !ok || inc.Path == nil || len(inc.Files) > 0 {
			continue
		}
		ld.include(name, inc, depth)
	}
	return f
}

// include resolves an include path like nft: relative to the including
// file's directory, then each -I directory; a path with wildcards may
// match nothing.
func (ld *includeLoader) include(from string, inc *parser.Include, depth int) {
	report := func(format string, args ...any) {
		ld.diags = append(ld.diags, compiler.Diagnostic{Code: compiler.CodeInclude, Severity: compiler.SeverityError,
			Pos: compiler.PosOf(inc.Path), Message: fmt.Sprintf(format, args...)})
	}
	if depth >= maxIncludeDepth {
		report("includes nest deeper than %d levels; is a file including itself?", maxIncludeDepth)
		return
	}
	path := inc.Path.Name()
	glob := strings.ContainsAny(path, "*?[")
	var dirs []string
	if filepath.IsAbs(path) {
		dirs = []string{""}
	} else {
		dirs = append([]string{filepath.Dir(from)}, ld.dirs...)
	}
	var matches []string
	for _, d := range dirs {
		p := filepath.Join(d, path)
		if glob {
			m, err := filepath.Glob(p)
			if err != nil {
				report("bad include pattern %q: %v", path, err)
				return
			}
			if len(m) > 0 {
				sort.Strings(m)
				matches = m
				break
			}
			continue
		}
		if _, err := os.Stat(p); err == nil {
			matches = []string{p}
			break
		}
	}
	if len(matches) == 0 {
		if glob {
			return // nft accepts a pattern that matches nothing
		}
		report("include %q not found (searched %s); add -I DIR or fix the path", path, strings.Join(dirs, ", "))
		return
	}
	for _, m := range matches {
		for _, s := range ld.stack {
			if s == m {
				report("include %q includes itself (through %s)", path, strings.Join(ld.stack, " -> "))
				return
			}
		}
		b, err := os.ReadFile(m)
		if err != nil {
			report("include %q: %v", path, err)
			continue
		}
		ld.sources[m] = b
		if f := ld.parse(m, b, depth+1); f != nil {
			inc.Files = append(inc.Files, f)
		}
	}
}
