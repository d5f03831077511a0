package compiler_test

import (
	"fmt"

	"github.com/nftflow/nftflow/compiler"
	"github.com/nftflow/nftflow/parser"
)

// Lint a ruleset held in memory: parse it, check it, print what it finds.
func ExampleLint() {
	src := `table inet filter {
	flowtable ft {
		hook ingress priority filter
		devices = { "eth0", "eth1" }
	}

	chain input {
		type filter hook input priority filter;
		meta l4proto { tcp, udp } flow add @ft
	}
}
`
	f, err := parser.ParseString("ruleset.nft", src)
	if err != nil {
		fmt.Println(err)
		return
	}
	ds := compiler.Lint(f, compiler.LintOptions{})
	for _, d := range ds {
		fmt.Println(d.Error())
	}
	fmt.Println("errors:", compiler.HasErrors(ds, false))
	// Output:
	// ruleset.nft:9:29: error: flow add only works in a chain hooked at forward, not hook input: the kernel refuses it with "Operation not supported"; move it to a `type filter hook forward` chain [NF201]
	// errors: true
}
