package cmd

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/nftflow/nftflow/compiler"
	"github.com/nftflow/nftflow/parser"
	"github.com/nftflow/nftflow/render"
)

// compileOptions are the flags of `nftflow compile`.
type compileOptions struct {
	debug string // "netlink" (the only notation so far)
	file  string // "-" reads standard input
}

func newCompileCommand(s *streams) *cobra.Command {
	o := &compileOptions{}
	c := &cobra.Command{
		Use:   "compile [--debug netlink] FILE",
		Short: "Print the netlink expressions a ruleset compiles to",
		Long: `Compile an nft ruleset file to the nf_tables objects nft would send and
print every rule as its netlink expressions, in the notation of
"nft --debug=netlink" (and of the nftables test suite's .payload files):
a "FAMILY TABLE CHAIN" line, one "[ ... ]" line per expression, preceded by
the anonymous sets the rule creates. Nothing is sent to the kernel.
FILE "-" reads standard input.`,
		Args: cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			o.file = args[0]
			return runCompile(o, s.in, s.out, s.err)
		},
	}
	c.Flags().StringVar(&o.debug, "debug", "netlink", "output notation: netlink")
	return c
}

func runCompile(o *compileOptions, stdin io.Reader, out, errOut io.Writer) error {
	if o.debug != "netlink" {
		return usageError(fmt.Errorf("unknown --debug notation %q (want netlink)", o.debug))
	}
	var b []byte
	var err error
	if o.file == "-" {
		b, err = io.ReadAll(stdin)
	} else {
		b, err = os.ReadFile(o.file)
	}
	if err != nil {
		return usageError(fmt.Errorf("read %s: %w", o.file, err))
	}
	name := o.file
	if name == "-" {
		name = "<stdin>"
	}
	f, err := parser.ParseBytes(name, b)
	if err != nil {
		fmt.Fprintln(errOut, err)
		return silentExit(ExitFindings)
	}
	batch, err := compiler.Compile(f)
	if err != nil {
		var el compiler.ErrorList
		if errors.As(err, &el) {
			for _, e := range el {
				fmt.Fprintln(errOut, e)
			}
		} else {
			fmt.Fprintln(errOut, err)
		}
		return silentExit(ExitFindings)
	}
	if err := render.WriteNetlinkBatch(out, batch); err != nil {
		return fmt.Errorf("write: %w", err)
	}
	return nil
}
