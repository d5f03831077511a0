package compiler

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/nftflow/nftflow/parser"
)

// FuzzLint: whatever the parser makes of an input (partial trees with
// BadNodes included), Lint must not panic.
func FuzzLint(f *testing.F) {
	files, _ := filepath.Glob("../examples/*.nft")
	for _, p := range files {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(string(b))
		}
	}
	f.Add("table inet t { chain c { type filter hook forward priority filter; meta l4proto { tcp, udp } flow add @ft; counter; jump c } }")
	f.Add("define x = $x\ntable ip t { set s { type ipv4_addr . inet_service; elements = { 1.2.3.4 . 99999 } } }")
	f.Add("table ip t { chain c { ip saddr 10.0.0.0/40 dnat to ::1:70000 } }")
	f.Fuzz(func(t *testing.T, src string) {
		file, _ := parser.ParseString("fuzz.nft", src)
		if file == nil {
			return
		}
		for _, d := range Lint(file, LintOptions{}) {
			if d.Code == "" || d.Message == "" {
				t.Fatalf("diagnostic without code or message: %+v", d)
			}
		}
	})
}

// TestLintTruncated lints every prefix of the examples (cut every few
// bytes, so most end mid-statement): partial trees must not make Lint
// panic, and every diagnostic has a code, a message and a position.
func TestLintTruncated(t *testing.T) {
	files, _ := filepath.Glob("../examples/*.nft")
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		for n := 0; n < len(b); n += 5 {
			file, _ := parser.ParseString("cut.nft", string(b[:n]))
			if file == nil {
				continue
			}
			for _, d := range Lint(file, LintOptions{}) {
				if d.Code == "" || d.Message == "" || !d.Pos.IsValid() {
					t.Fatalf("%s cut at %d: bad diagnostic %+v", p, n, d)
				}
			}
		}
	}
}
