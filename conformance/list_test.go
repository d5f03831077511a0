package conformance

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/nftflow/nftflow/cmd"
	"github.com/nftflow/nftflow/internal/corpus"
)

var listVerbose = flag.Bool("list-diff", false, "list-dumps: print the first differing line of each failing dump")

// TestListDumps is the list-dumps suite: every non-empty corpus dump that
// nft -f loads into a fresh namespace must list byte for byte as
// `nft list ruleset` lists it.
func TestListDumps(t *testing.T) {
	dir := corpusDir(t)
	if os.Geteuid() != 0 {
		t.Skip("skipping list-dumps: needs root for network namespaces")
	}
	if _, err := exec.LookPath("nft"); err != nil {
		t.Skip("skipping list-dumps: nft not installed")
	}
	dumps, err := corpus.Dumps(dir)
	if err != nil {
		t.Fatal(err)
	}
	ns := fmt.Sprintf("nftflow-test-list-%d", os.Getpid())
	passed, passedJSON, total := 0, 0, 0
	var failed []string
	for _, p := range dumps {
		b, err := os.ReadFile(p)
		if err != nil || len(bytes.TrimSpace(b)) == 0 {
			continue
		}
		want, ok := loadDump(t, ns, p)
		if !ok {
			continue
		}
		total++
		var out, errOut bytes.Buffer
		code := cmd.Main([]string{"list", "ruleset", "--netns", ns}, nil, &out, &errOut)
		rel, _ := filepath.Rel(dir, p)
		if code == 0 && out.String() == want {
			passed++
		} else {
			failed = append(failed, rel)
			if *listVerbose {
				t.Logf("%s: exit %d %s\n%s", rel, code, strings.TrimSpace(errOut.String()), firstDiff(want, out.String()))
			}
		}
		// The same state as libnftables JSON.
		if wantJSON, err := exec.Command("ip", "netns", "exec", ns, "nft", "-j", "list", "ruleset").Output(); err == nil {
			out.Reset()
			errOut.Reset()
			code := cmd.Main([]string{"list", "ruleset", "-o", "json", "--netns", ns}, nil, &out, &errOut)
			w, werr := normalizeJSON(wantJSON)
			g, gerr := normalizeJSON(out.Bytes())
			if code == 0 && werr == nil && gerr == nil && reflect.DeepEqual(w, g) {
				passedJSON++
			} else if *listVerbose {
				t.Logf("%s: json: exit %d %s", rel, code, strings.TrimSpace(errOut.String()))
			}
		}
		exec.Command("ip", "netns", "del", ns).Run()
	}
	t.Logf("failing dumps: %d", len(failed))
	report(t, "list-dumps", passed, total)
	report(t, "list-dumps-json", passedJSON, total)
}

// normalizeJSON decodes nft -j output, dropping what nftflow adds on
// purpose to nft 1.0.6's JSON (table and chain comments, hook devices,
// table flags, the dynamic set flag).
func normalizeJSON(b []byte) ([]any, error) {
	var doc struct {
		Nftables []map[string]map[string]any `json:"nftables"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		return nil, err
	}
	var out []any
	for _, o := range doc.Nftables {
		for kind, v := range o {
			switch kind {
			case "table":
				delete(v, "comment")
				delete(v, "flags")
			case "chain":
				delete(v, "comment")
				delete(v, "dev")
			case "set", "map":
				if fl, ok := v["flags"].([]any); ok {
					var keep []any
					for _, f := range fl {
						if f != "dynamic" {
							keep = append(keep, f)
						}
					}
					if len(keep) == 0 {
						delete(v, "flags")
					} else {
						v["flags"] = keep
					}
				}
			}
		}
		out = append(out, o)
	}
	return out, nil
}

// loadDump creates namespace ns, loads the dump with nft -f and returns
// nft's own listing; ok is false when this kernel or nft refuses the dump.
func loadDump(t *testing.T, ns, path string) (string, bool) {
	t.Helper()
	exec.Command("ip", "netns", "del", ns).Run()
	if out, err := exec.Command("ip", "netns", "add", ns).CombinedOutput(); err != nil {
		t.Fatalf("ip netns add: %v: %s", err, out)
	}
	t.Cleanup(func() { exec.Command("ip", "netns", "del", ns).Run() })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := exec.CommandContext(ctx, "ip", "netns", "exec", ns, "nft", "-f", path).Run(); err != nil {
		exec.Command("ip", "netns", "del", ns).Run()
		return "", false
	}
	out, err := exec.CommandContext(ctx, "ip", "netns", "exec", ns, "nft", "list", "ruleset").Output()
	if err != nil {
		exec.Command("ip", "netns", "del", ns).Run()
		return "", false
	}
	return string(out), true
}

// firstDiff shows the first line where got differs from want.
func firstDiff(want, got string) string {
	wl, gl := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := 0; i < len(wl) || i < len(gl); i++ {
		var w, g string
		if i < len(wl) {
			w = wl[i]
		}
		if i < len(gl) {
			g = gl[i]
		}
		if w != g {
			return fmt.Sprintf("line %d:\n  nft:     %q\n  nftflow: %q", i+1, w, g)
		}
	}
	return "(no difference)"
}
