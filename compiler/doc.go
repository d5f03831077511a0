// Package compiler turns the parser's AST into kernel objects (package
// model) and runs the checks behind `nftflow lint`. Its output depends only
// on its input: it opens no sockets and reads no kernel state. It imports
// the parser's AST and model, never kernel or render.
package compiler
