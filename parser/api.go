package parser

import (
	"fmt"
	"os"
	"unsafe"
)

// ParseString parses text as an nft file named name. It returns the AST
// (possibly partial, with BadNodes where recovery skipped input) and an
// ErrorList when there were errors.
func ParseString(name, text string) (*File, error) {
	f, errs := parseSource(NewSource(name, text))
	return f, errs.Err()
}

// ParseBytes is ParseString for a byte slice.
func ParseBytes(name string, b []byte) (*File, error) { return ParseString(name, string(b)) }

// ReadFile reads and parses one file without following includes.
func ReadFile(path string) (*File, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	return ParseString(path, ownedString(b))
}

// ownedString turns a buffer nobody else holds (a file just read) into a
// string without copying it: the AST keeps substrings of it, and a 5 MB
// ruleset is not held twice.
func ownedString(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(unsafe.SliceData(b), len(b))
}
