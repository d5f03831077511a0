// Command nftflow manages Linux nftables rulesets, with first-class support
// for netfilter flowtables and IPIP tunnels.
package main

import (
	"os"

	"github.com/nftflow/nftflow/cmd"
)

func main() {
	os.Exit(cmd.Main(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}
