package cmd

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestLintExitCodes checks the exit status contract of `nftflow lint`:
// 0 clean (or only warnings), 1 errors (or warnings with --strict),
// 2 usage or I/O errors.
func TestLintExitCodes(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	clean := write("clean.nft", "table ip t {\n\tchain c {\n\t\ttype filter hook input priority filter;\n\t\ttcp dport 22 accept\n\t}\n}\n")
	warn := write("warn.nft", "table ip t {\n\tchain c {\n\t\ttype filter hook input priority filter;\n\t\tdrop\n\t\ttcp dport 22 accept\n\t}\n}\n")
	bad := write("bad.nft", "table ip t {\n\tchain c {\n\t\ttype filter hook input priority filter;\n\t\tjump nowhere\n\t}\n}\n")
	syntax := write("syntax.nft", "table ip t {\n")
	for _, tc := range []struct {
		args []string
		code int
		out  string
	}{
		{[]string{"lint", clean}, ExitOK, ""},
		{[]string{"lint", "--strict", clean}, ExitOK, ""},
		{[]string{"lint", warn}, ExitOK, "[NF401]"},
		{[]string{"lint", "--strict", warn}, ExitFindings, "[NF401]"},
		{[]string{"lint", bad}, ExitFindings, "[NF104]"},
		{[]string{"lint", syntax}, ExitFindings, "[NF001]"},
		{[]string{"lint", clean, bad}, ExitFindings, "[NF104]"},
		{[]string{"lint", filepath.Join(dir, "missing.nft")}, ExitUsage, ""},
		{[]string{"lint", "--format", "yaml", clean}, ExitUsage, ""},
		{[]string{"lint"}, ExitUsage, ""},
		{[]string{"lint", "--no-such-flag", clean}, ExitUsage, ""},
		{[]string{"lint", "--format", "json", bad}, ExitFindings, `"code": "NF104"`},
		{[]string{"lint", "--format", "github", "--strict", warn}, ExitFindings, "::warning file="},
	} {
		var out, errb bytes.Buffer
		code := Main(tc.args, strings.NewReader(""), &out, &errb)
		if code != tc.code {
			t.Errorf("%v: exit %d, want %d\nstdout: %s\nstderr: %s", tc.args, code, tc.code, out.String(), errb.String())
		}
		if tc.out != "" && !strings.Contains(out.String(), tc.out) {
			t.Errorf("%v: stdout lacks %q:\n%s", tc.args, tc.out, out.String())
		}
		if tc.out == "" && out.Len() > 0 {
			t.Errorf("%v: unexpected stdout:\n%s", tc.args, out.String())
		}
	}
}
