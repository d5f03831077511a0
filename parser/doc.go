// Package parser turns nft ruleset text (the whole `nft -f` language) into
// an AST whose every node knows its source range (Node: Pos/End).
//
// The pipeline:
//
//   - a hand-written lexer (lexer.go) produces compact tokens: a kind and
//     a byte range, the text being a substring of the source, never a
//     copy. It is exposed to participle as a lexer.Definition
//     (Definition): token by token, or one Chunk token per top-level
//     command.
//   - participle drives the file grammar (participle.go): a file is a
//     sequence of commands, one Chunk each; the grammar has a single
//     production and never backtracks.
//   - the command production and everything under it (tables, chains,
//     sets, flowtables, objects, rules, statements, expressions) is
//     hand-written recursive descent (parse.go, expr.go), because nft's
//     grammar is context-sensitive: keywords are names where a name is
//     expected (a set named "ip", a chain named "input") and symbols in
//     value position (meta protocol ip). It is registered with
//     participle.ParseTypeWith, participle's function form of a Parseable
//     production, since the Parseable interface gives a production no
//     access to per-parse state (source, error list, node slabs).
//   - errors are positioned (file:line:col), collected in an ErrorList
//     sorted by position and shown like nft shows them, with the source
//     line and a caret; the parser recovers at statement boundaries and
//     reports every error it can in one run.
//
// ParseFile follows include statements; Expand substitutes $variables.
// render.FormatFile prints an AST back in nft's canonical layout.
//
// parser imports none of nftflow's other packages and does no I/O beyond
// reading the files it is asked to parse.
package parser
