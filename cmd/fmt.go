package cmd

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/nftflow/nftflow/parser"
	"github.com/nftflow/nftflow/render"
	"github.com/spf13/cobra"
)

// fmtOptions are the flags of nftflow fmt.
type fmtOptions struct {
	write bool     // -w: rewrite files in place
	diff  bool     // -d: print a unified diff instead of the formatted text
	files []string // no files or "-": standard input
}

func newFmtCommand(s *streams) *cobra.Command {
	o := &fmtOptions{}
	c := &cobra.Command{
		Use:   "fmt [-w] [-d] [FILE...]",
		Short: "Print nft ruleset files in nft's canonical layout",
		Long: `fmt parses nft ruleset files and prints them in the canonical layout of
'nft list ruleset': tab indentation, one statement a line, table items in the
order nft lists them, nft's spacing and set element wrapping. Expressions,
comments, include and define lines are kept as written.

With no FILE, or FILE "-", fmt reads standard input.

Exit status: 0 when formatted (or, with -d, when nothing would change);
1 with -d when some file is not in canonical layout; 2 on a parse or I/O
error, with positioned errors on stderr.`,
		Example: `  nftflow fmt ruleset.nft         print the canonical layout
  nftflow fmt -d ruleset.nft      show what would change (exit 1 if anything)
  nftflow fmt -w /etc/nftables.conf  rewrite in place`,
		RunE: func(_ *cobra.Command, args []string) error {
			o.files = args
			return runFmt(o, s)
		},
	}
	c.Flags().BoolVarP(&o.write, "write", "w", false, "write the result back to each file instead of stdout")
	c.Flags().BoolVarP(&o.diff, "diff", "d", false, "print a unified diff of the changes instead of the result")
	return c
}

// runFmt formats each file; see the command help for exit codes.
func runFmt(o *fmtOptions, s *streams) error {
	files := o.files
	if len(files) == 0 {
		files = []string{"-"}
	}
	if o.write && fmtContains(files, "-") {
		return usageError(errors.New("fmt: -w cannot rewrite standard input"))
	}
	failed, differs := false, false
	for _, name := range files {
		src, err := fmtReadInput(name, s.in)
		if err != nil {
			fmt.Fprintf(s.err, "nftflow: %v\n", err)
			failed = true
			continue
		}
		display := name
		if name == "-" {
			display = "<stdin>"
		}
		f, err := parser.ParseBytes(display, src)
		if err != nil {
			var el parser.ErrorList
			if errors.As(err, &el) {
				el.Format(s.err)
			} else {
				fmt.Fprintf(s.err, "%v\n", err)
			}
			failed = true
			continue
		}
		out := render.FormatFile(f)
		switch {
		case o.diff:
			if d := render.FormatDiff(display+".orig", display, src, out); d != nil {
				differs = true
				s.out.Write(d)
			}
			if o.write && !bytes.Equal(src, out) {
				if err := fmtWriteAtomic(name, out); err != nil {
					fmt.Fprintf(s.err, "nftflow: %v\n", err)
					failed = true
				}
			}
		case o.write:
			if !bytes.Equal(src, out) {
				if err := fmtWriteAtomic(name, out); err != nil {
					fmt.Fprintf(s.err, "nftflow: %v\n", err)
					failed = true
				}
			}
		default:
			s.out.Write(out)
		}
	}
	switch {
	case failed:
		return silentExit(ExitUsage)
	case differs && !o.write:
		return silentExit(ExitFindings)
	}
	return nil
}

func fmtContains(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}

func fmtReadInput(name string, stdin io.Reader) ([]byte, error) {
	if name == "-" {
		b, err := io.ReadAll(stdin)
		if err != nil {
			return nil, fmt.Errorf("read standard input: %w", err)
		}
		return b, nil
	}
	b, err := os.ReadFile(name)
	if err != nil {
		return nil, fmt.Errorf("read: %w", err)
	}
	return b, nil
}

// writeAtomic replaces path with data through a temporary file in the same
// directory and a rename, keeping the file mode.
func fmtWriteAtomic(path string, data []byte) error {
	st, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".nftflow-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	name := tmp.Name()
	_, werr := tmp.Write(data)
	if werr == nil {
		werr = tmp.Chmod(st.Mode().Perm())
	}
	if werr == nil {
		werr = tmp.Sync()
	}
	if cerr := tmp.Close(); werr == nil {
		werr = cerr
	}
	if werr == nil {
		werr = os.Rename(name, path)
	}
	if werr != nil {
		os.Remove(name)
		return fmt.Errorf("write %s: %w", path, werr)
	}
	return nil
}
