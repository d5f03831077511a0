package cmd

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestListDiscard: the hidden --discard flag (benchmarks' measure of the
// kernel's own dump time) lists tables, sets and chains but reads the
// rules and set elements without decoding or printing them.
func TestListDiscard(t *testing.T) {
	ns := listNetns(t)
	rules := filepath.Join(t.TempDir(), "r.nft")
	src := "table ip t {\n\tset s {\n\t\ttype ipv4_addr\n\t\tflags interval\n\t\telements = { 10.0.0.0/8 }\n\t}\n" +
		"\tchain c {\n\t\ttcp dport 22 accept\n\t}\n}\n"
	if err := os.WriteFile(rules, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("ip", "netns", "exec", ns, "nft", "-f", rules).CombinedOutput(); err != nil {
		t.Fatalf("nft -f: %v: %s", err, out)
	}
	var out, errOut bytes.Buffer
	if code := Main([]string{"list", "ruleset", "--netns", ns}, nil, &out, &errOut); code != 0 {
		t.Fatalf("list: exit %d: %s", code, errOut.String())
	}
	if !strings.Contains(out.String(), "tcp dport 22 accept") || !strings.Contains(out.String(), "10.0.0.0/8") {
		t.Fatalf("plain listing lacks the rule or the element:\n%s", out.String())
	}
	out.Reset()
	if code := Main([]string{"list", "ruleset", "--discard", "--netns", ns}, nil, &out, &errOut); code != 0 {
		t.Fatalf("list --discard: exit %d: %s", code, errOut.String())
	}
	got := out.String()
	if !strings.Contains(got, "set s {") || !strings.Contains(got, "chain c {") {
		t.Errorf("--discard lost the set or the chain:\n%s", got)
	}
	if strings.Contains(got, "accept") || strings.Contains(got, "elements") {
		t.Errorf("--discard printed rules or elements:\n%s", got)
	}
}
