package compiler_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/nftflow/nftflow/compiler"
	"github.com/nftflow/nftflow/parser"
)

// FuzzCompile feeds arbitrary rulesets through the parser and the
// compiler: whatever the input, compiling must return objects or errors,
// never panic.
func FuzzCompile(f *testing.F) {
	files, _ := filepath.Glob("testdata/compile/*.nft")
	for _, p := range files {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(string(b))
		}
	}
	f.Add("table ip t { chain c { tcp dport { 1-2, 3 } ct state ! new meta mark set ip dscp map { 1 : 2 } } }")
	f.Add("table inet t { set s { typeof ip saddr . tcp dport; flags interval; elements = { 1.2.3.4 . 1-2 } } }")
	f.Fuzz(func(t *testing.T, src string) {
		file, err := parser.ParseString("fuzz.nft", src)
		if err != nil || file == nil {
			return
		}
		_, _ = compiler.Compile(file)
	})
}
