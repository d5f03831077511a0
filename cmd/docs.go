package cmd

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"
	"github.com/spf13/cobra/doc"
)

type docsOptions struct {
	dir string
}

// newDocsCommand generates the man pages in docs/man (hidden: a build step).
func newDocsCommand(s *streams) *cobra.Command {
	o := &docsOptions{}
	c := &cobra.Command{
		Use:    "docs",
		Short:  "Generate the nftflow man pages",
		Hidden: true,
		Args:   cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			return runDocs(o, c.Root(), s)
		},
	}
	c.Flags().StringVar(&o.dir, "dir", "docs/man", "directory to write the man pages to")
	return c
}

func runDocs(o *docsOptions, root *cobra.Command, s *streams) error {
	if err := os.MkdirAll(o.dir, 0o755); err != nil {
		return usageError(fmt.Errorf("docs: %w", err))
	}
	root.DisableAutoGenTag = true
	hdr := &doc.GenManHeader{Title: "NFTFLOW", Section: "8", Source: "nftflow", Manual: "nftflow manual"}
	if err := doc.GenManTree(root, hdr, o.dir); err != nil {
		return usageError(fmt.Errorf("docs: %w", err))
	}
	fmt.Fprintf(s.out, "man pages written to %s\n", o.dir)
	return nil
}
