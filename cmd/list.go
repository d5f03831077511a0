package cmd

import "github.com/spf13/cobra"

// newListCommand is the `nftflow list` parent: it only groups the listing
// subcommands, one line each below.
func newListCommand(s *streams) *cobra.Command {
	c := &cobra.Command{
		Use:   "list",
		Short: "List kernel state: conntrack flows, rulesets, tables",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			return c.Help()
		},
	}
	// One line per subcommand; each lives in cmd/listNAME.go.
	c.AddCommand(newListFlowsCommand(s))
	c.AddCommand(newListRulesetCommands(s)...)
	return c
}
