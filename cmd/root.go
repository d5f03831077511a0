// Package cmd holds the nftflow cobra commands: flag parsing and wiring
// only. Each command parses its flags into an options struct and hands it,
// with injected I/O, to a run function, so behaviour is testable without
// the command line.
package cmd

import (
	"errors"
	"fmt"
	"io"

	"github.com/spf13/cobra"
)

// Exit codes, mapped in one place (see exitCode).
const (
	ExitOK       = 0 // success
	ExitFindings = 1 // lint errors, a diff to show, a refused apply
	ExitUsage    = 2 // usage or I/O error
)

// exitError carries an exit code through cobra's error return. A nil err
// with a code means "already reported, just exit with this code".
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit status %d", e.code)
	}
	return e.err.Error()
}

func (e *exitError) Unwrap() error { return e.err }

// usageError marks an error as a usage or I/O problem (exit 2).
func usageError(err error) error { return &exitError{code: ExitUsage, err: err} }

// silentExit ends the command with code after output was already written.
func silentExit(code int) error { return &exitError{code: code} }

// streams are the I/O a command writes to; tests inject buffers.
type streams struct {
	in       io.Reader
	out, err io.Writer
}

// NewRootCommand builds the nftflow command tree writing to the given streams.
func NewRootCommand(in io.Reader, out, errOut io.Writer) *cobra.Command {
	s := &streams{in: in, out: out, err: errOut}
	root := &cobra.Command{
		Use:   "nftflow",
		Short: "Manage nftables rulesets and netfilter flowtables",
		Long: `nftflow manages Linux nftables rulesets written in nft's own syntax,
with first-class support for netfilter flowtables (software and hardware
flow offload) and IPIP tunnels.

  nftflow lint ruleset.nft      check a ruleset, no kernel and no root needed
  nftflow fmt -d ruleset.nft    show how the canonical layout differs`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetIn(in)
	root.SetOut(out)
	root.SetErr(errOut)
	// One line per command; each command lives in a file of its own.
	root.AddCommand(newVersionCommand(s))
	root.AddCommand(newApplyCommand(s))
	root.AddCommand(newDiffCommand(s))
	root.AddCommand(newCompileCommand(s))
	root.AddCommand(newFmtCommand(s))
	root.AddCommand(newLintCommand(s))
	root.AddCommand(newDocsCommand(s))
	root.AddCommand(newListCommand(s))
	root.AddCommand(newFlowtableCommand(s))
	return root
}

// Main runs nftflow with args and returns the process exit code.
func Main(args []string, in io.Reader, out, errOut io.Writer) int {
	root := NewRootCommand(in, out, errOut)
	root.SetArgs(args)
	err := root.Execute()
	return exitCode(err, errOut)
}

// exitCode reports err (if any) and maps it to an exit code.
func exitCode(err error, errOut io.Writer) int {
	if err == nil {
		return ExitOK
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.err != nil {
			fmt.Fprintf(errOut, "nftflow: %v\n", ee.err)
		}
		return ee.code
	}
	fmt.Fprintf(errOut, "nftflow: %v\n", err)
	// Errors cobra returns itself are usage errors (unknown flag, bad args).
	return ExitUsage
}
