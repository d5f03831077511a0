package render_test

import (
	"bytes"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/nftflow/nftflow/compiler"
	"github.com/nftflow/nftflow/internal/corpus"
	"github.com/nftflow/nftflow/parser"
	"github.com/nftflow/nftflow/plan"
	"github.com/nftflow/nftflow/render"
)

// TestQueueListsAsNft compiles every ;ok rule of the nftables tests'
// any/queue.t in each table the file declares, and lists the compiled rule
// back: it must read as the file's expected listing. (This machine's
// kernel has no nft_queue, so the conformance suites that load rules into
// a namespace cannot list these.)
func TestQueueListsAsNft(t *testing.T) {
	dir, err := corpus.Dir()
	if err != nil {
		t.Skipf("skipping: no corpus (%v)", err)
	}
	pf, err := corpus.ReadPy(filepath.Join(dir, "nftables", "tests", "py", "any", "queue.t"))
	if err != nil {
		t.Skipf("skipping: %v", err)
	}
	n := 0
	for _, tb := range pf.Tables {
		chain := tb.Chains[0]
		for _, l := range pf.Lines {
			if !l.OK || l.Kind != 0 {
				continue
			}
			want := l.Listed
			if want == "" {
				want = l.Text
			}
			src := fmt.Sprintf("table %s %s {\n\tchain %s {\n\t\t%s;\n\t\t%s\n\t}\n}\n", tb.Family, tb.Name, chain, pf.Chains[chain], l.Text)
			f, err := parser.ParseString("queue.nft", src)
			if err != nil {
				t.Errorf("%s: %s: %v", tb.Family, l.Text, err)
				continue
			}
			b, err := compiler.Compile(f)
			if err != nil {
				t.Errorf("%s: %s: %v", tb.Family, l.Text, err)
				continue
			}
			d, err := plan.FromBatch(*b)
			if err != nil || len(d.Tables) != 1 || len(d.Tables[0].Rules[chain]) != 1 {
				t.Errorf("%s: %s: no single rule compiled (%v)", tb.Family, l.Text, err)
				continue
			}
			ts := d.Tables[0]
			lister := render.NewLister(&bytes.Buffer{}, render.ListOptions{})
			for _, s := range ts.Sets {
				lister.AddSet(s)
			}
			if got := lister.RuleText(ts.Rules[chain][0]); got != want {
				t.Errorf("%s: %s: listed as %q, want %q", tb.Family, l.Text, got, want)
			}
			if err := lister.Err(); err != nil {
				t.Errorf("%s: %s: %v", tb.Family, l.Text, err)
			}
			n++
		}
	}
	if n == 0 {
		t.Fatal("no rule checked")
	}
	t.Logf("%d rules listed as nft lists them", n)
}
