package parser

import (
	"fmt"
	"strings"
	"testing"
)

// gen100k returns the benchmark ruleset: one chain with n rules of the
// form `ip saddr 10.A.B.C tcp dport P counter accept`.
func gen100k(n int) string {
	var sb strings.Builder
	sb.Grow(n * 56)
	sb.WriteString("table ip bench {\n\tchain input {\n\t\ttype filter hook input priority filter; policy accept;\n")
	for i := 0; i < n; i++ {
		fmt.Fprintf(&sb, "\t\tip saddr 10.%d.%d.%d tcp dport %d counter accept\n", i>>16&255, i>>8&255, i&255, 1024+i%60000)
	}
	sb.WriteString("\t}\n}\n")
	return sb.String()
}

// BenchmarkParse100k parses a 100,000-rule file (about 5.5 MB).
func BenchmarkParse100k(b *testing.B) {
	src := gen100k(100000)
	b.SetBytes(int64(len(src)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		f, err := ParseString("bench.nft", src)
		if err != nil {
			b.Fatal(err)
		}
		if n := len(f.Commands[0].(*TableBlock).Items[0].(*ChainBlock).Rules()); n != 100000 {
			b.Fatalf("parsed %d rules", n)
		}
	}
}

// BenchmarkParseSmall parses a one-rule file: the fixed cost of a parse.
func BenchmarkParseSmall(b *testing.B) {
	src := "table ip t { chain c { ip saddr 1.2.3.4 accept } }\n"
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := ParseString("x", src); err != nil {
			b.Fatal(err)
		}
	}
}
