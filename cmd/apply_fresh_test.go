package cmd

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nftflow/nftflow/parser"
)

// freshFor loads file as apply does and reports whether it took the
// fresh-table path.
func freshFor(t *testing.T, ns, file string) bool {
	t.Helper()
	o := &applyOptions{netns: ns, files: []string{file}}
	var fresh *freshApply
	s := &streams{in: strings.NewReader(""), out: io.Discard, err: io.Discard}
	if _, ok, err := loadFilesWith(o.files, nil, s, freshStream(context.Background(), o, &fresh)); err != nil || !ok {
		t.Fatalf("load %s: ok %v, %v", file, ok, err)
	}
	return fresh != nil
}

// A table the kernel does not have is compiled straight into the batch;
// the result, and the record of the apply, are those of the planned path.
func TestFreshApplyAsPlanned(t *testing.T) {
	stateFresh, statePlanned := t.TempDir(), t.TempDir()
	nsFresh, nsPlanned := applyNetns(t, "fresh"), applyNetns(t, "planned")
	file := writeFile(t, t.TempDir(), "v1.nft", declV1)
	nftInNetns(t, nsPlanned, "add table inet filter")

	if !freshFor(t, nsFresh, file) {
		t.Fatal("a table the kernel does not have did not take the fresh path")
	}
	if freshFor(t, nsPlanned, file) {
		t.Fatal("a table the kernel has took the fresh path")
	}
	t.Setenv("NFTFLOW_STATE_DIR", stateFresh)
	mustApply(t, nsFresh, file)
	t.Setenv("NFTFLOW_STATE_DIR", statePlanned)
	mustApply(t, nsPlanned, file)
	if got, want := nftInNetns(t, nsFresh, "list", "ruleset"), nftInNetns(t, nsPlanned, "list", "ruleset"); got != want {
		t.Errorf("fresh apply:\n%s\nplanned apply:\n%s", got, want)
	}
	recFresh, err := os.ReadFile(filepath.Join(stateDirIn(stateFresh, nsFresh), "inet-filter.json"))
	if err != nil {
		t.Fatal(err)
	}
	recPlanned, err := os.ReadFile(filepath.Join(stateDirIn(statePlanned, nsPlanned), "inet-filter.json"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(recFresh, recPlanned) {
		t.Errorf("the fresh apply recorded\n%s\nthe planned one\n%s", recFresh, recPlanned)
	}
	// Applied again, the fresh table is compared and nothing changes.
	t.Setenv("NFTFLOW_STATE_DIR", stateFresh)
	if msg := mustApply(t, nsFresh, file); !strings.Contains(msg, "nothing to change") {
		t.Errorf("second apply: %q, want nothing to change", msg)
	}
}

func stateDirIn(dir, ns string) string {
	return filepath.Join(dir, "netns-"+ns)
}

func TestFreshTables(t *testing.T) {
	for _, tc := range []struct {
		src  string
		want bool
	}{
		{"table ip t { chain c { accept } }\ntable inet t { chain c { } }", true},
		{"define x = 1\ntable ip t {\n\tset s { type ipv4_addr; }\n\tcounter k { }\n\tchain c { }\n}", true},
		{"table ip t { chain c { } }\ntable ip t { chain d { } }", false}, // one table, two blocks
		{"table ip t {\n\tchain c { }\n\tchain c { accept }\n}", false},   // a chain declared twice
		{"table ip t {\n\tset s { type ipv4_addr; }\n\tset s { type ipv4_addr; }\n}", false},
		{"flush ruleset\ntable ip t { chain c { } }", false}, // deletes other tables
		{"table inet t { flowtable f { hook ingress priority 0; devices = { lo }; } }", false},
		{"add table ip t\nadd chain ip t c", false}, // commands
	} {
		f, err := parser.ParseString("t.nft", tc.src)
		if err != nil {
			t.Fatalf("%q: %v", tc.src, err)
		}
		if _, _, got := freshTables([]*parser.File{f}); got != tc.want {
			t.Errorf("freshTables(%q) = %v, want %v", tc.src, got, tc.want)
		}
	}
}
