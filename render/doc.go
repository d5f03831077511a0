// Package render turns nftflow's data into text for people and programs:
// the parser's AST in nft's canonical layout (nftflow fmt), kernel objects
// as nft list ruleset and libnftables JSON print them (nftflow list),
// rule expressions in nft's --debug=netlink notation (nftflow compile),
// conntrack flows as tables, JSON and conntrack -L lines (nftflow list
// flows), and lint diagnostics in text, JSON, SARIF and GitHub formats.
//
// It takes values and writes to an io.Writer: it never opens a socket. It
// imports parser (the AST), model, and compiler for the protocol and
// datatype tables that decoding rules back into nft syntax shares with
// compiling them, and for the Diagnostic type; never kernel.
package render
