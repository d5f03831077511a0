package render

import (
	"fmt"
	"strings"
	"testing"

	"github.com/nftflow/nftflow/parser"
)

// BenchmarkFormat100k prints the 100,000-rule benchmark ruleset (parsed
// once, outside the timer).
func BenchmarkFormat100k(b *testing.B) {
	var sb strings.Builder
	sb.WriteString("table ip bench {\n\tchain input {\n\t\ttype filter hook input priority filter; policy accept;\n")
	for i := 0; i < 100000; i++ {
		fmt.Fprintf(&sb, "\t\tip saddr 10.%d.%d.%d tcp dport %d counter accept\n", i>>16&255, i>>8&255, i&255, 1024+i%60000)
	}
	sb.WriteString("\t}\n}\n")
	src := sb.String()
	f, err := parser.ParseString("bench.nft", src)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(src)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if out := FormatFile(f); len(out) != len(src) {
			b.Fatalf("formatted %d bytes, want %d", len(out), len(src))
		}
	}
}
