// Package parser turns nft ruleset text (the `nft -f` language) into an
// AST with source positions: a hand-written lexer behind participle's
// lexer.Definition, participle for the top-level structure and hand-written
// Parseable productions for the context-sensitive command, rule, statement
// and expression levels. It also follows includes and expands $variables
// (Resolve), reporting positioned errors.
//
// parser imports none of nftflow's other packages and does no I/O beyond
// reading the files it is asked to parse.
package parser
