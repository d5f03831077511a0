package conformance

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/nftflow/nftflow/compiler"
	"github.com/nftflow/nftflow/internal/corpus"
	"github.com/nftflow/nftflow/model"
	"github.com/nftflow/nftflow/parser"
	"github.com/nftflow/nftflow/render"
)

// pyDecl turns a "!name type ..." or "%name type ..." line of a .t file
// into the declaration inside a table block.
func pyDecl(l corpus.PyLine) string {
	name, rest, _ := strings.Cut(l.Text, " ")
	rest = strings.TrimSpace(rest)
	switch l.Kind {
	case '!':
		kw := "set"
		body := rest
		for _, k := range []string{" flags ", " timeout ", " size ", " policy "} {
			body = strings.ReplaceAll(body, k, "; "+strings.TrimSpace(k)+" ")
		}
		if strings.Contains(strings.SplitN(rest, ";", 2)[0], " : ") {
			kw = "map"
		}
		return fmt.Sprintf("%s %s { %s; }", kw, name, body)
	case '%':
		rest = strings.TrimPrefix(rest, "type ")
		for _, k := range []string{"ct helper", "ct timeout", "ct expectation", "counter", "quota", "limit", "synproxy", "secmark"} {
			if strings.HasPrefix(rest, k) {
				body := strings.TrimSpace(strings.TrimPrefix(rest, k))
				if strings.HasPrefix(body, "{") {
					return fmt.Sprintf("%s %s %s", k, name, body)
				}
				return fmt.Sprintf("%s %s { %s }", k, name, body)
			}
		}
	}
	return ""
}

// payloadIndex holds the entries of a .t file's payload files.
type payloadIndex struct {
	generic  []corpus.PayloadEntry
	byFamily map[string][]corpus.PayloadEntry
}

func (p *payloadIndex) find(family, rule string) (corpus.PayloadEntry, bool) {
	pick := func(es []corpus.PayloadEntry) (corpus.PayloadEntry, bool) {
		var first *corpus.PayloadEntry
		for i := range es {
			if es[i].Rule != rule {
				continue
			}
			if es[i].Family == family {
				return es[i], true
			}
			if first == nil {
				first = &es[i]
			}
		}
		if first != nil {
			return *first, true
		}
		return corpus.PayloadEntry{}, false
	}
	if e, ok := pick(p.byFamily[family]); ok {
		return e, true
	}
	return pick(p.generic)
}

// compareEntry checks compiled output against an expected payload entry
// the way the upstream harness does: expression lines exactly, set
// elements as sets.
func compareEntry(want corpus.PayloadEntry, rule *model.Rule, sets []*model.Set) string {
	var got []string
	for _, e := range rule.Exprs {
		got = append(got, render.NetlinkExpr(e))
	}
	for i := 0; i < len(got) || i < len(want.Exprs); i++ {
		g, w := "(none)", "(none)"
		if i < len(got) {
			g = got[i]
		}
		if i < len(want.Exprs) {
			w = want.Exprs[i]
		}
		if g != w {
			return fmt.Sprintf("got %s want %s\n got: %s\nwant: %s", g, w, strings.Join(got, "\n      "), strings.Join(want.Exprs, "\n      "))
		}
	}
	var wantEl, gotEl []string
	for _, s := range want.Sets {
		wantEl = append(wantEl, s.Elements...)
	}
	for _, s := range sets {
		for i := range s.Elements {
			gotEl = append(gotEl, render.NetlinkElement(s, &s.Elements[i]))
		}
	}
	sort.Strings(wantEl)
	sort.Strings(gotEl)
	if strings.Join(gotEl, "\t") != strings.Join(wantEl, "\t") {
		return fmt.Sprintf("set elements differ:\n got: %s\nwant: %s", strings.Join(gotEl, " | "), strings.Join(wantEl, " | "))
	}
	return ""
}

// TestPyCompile compiles every ";ok" rule of tests/py in every table its
// file declares and compares the expressions with the payload files.
func TestPyCompile(t *testing.T) {
	dir := corpusDir(t)
	files, err := corpus.PyFiles(dir)
	if err != nil {
		t.Fatal(err)
	}
	verbose := os.Getenv("NFTFLOW_CONFORMANCE_VERBOSE") != ""
	passed, total := 0, 0
	failures := map[string]int{}
	for _, path := range files {
		pf, err := corpus.ReadPy(path)
		if err != nil {
			t.Errorf("%v", err)
			continue
		}
		gen, byFam := corpus.PayloadFiles(path)
		idx := &payloadIndex{byFamily: map[string][]corpus.PayloadEntry{}}
		if gen != "" {
			idx.generic, _ = corpus.ReadPayload(gen)
		}
		for fam, p := range byFam {
			idx.byFamily[fam], _ = corpus.ReadPayload(p)
		}
		var decls []string
		for _, l := range pf.Lines {
			if l.OK && (l.Kind == '!' || l.Kind == '%') {
				if d := pyDecl(l); d != "" {
					decls = append(decls, d)
				}
			}
		}
		for _, tb := range pf.Tables {
			chain := tb.Chains[0]
			spec := pf.Chains[chain]
			for _, l := range pf.Lines {
				if l.Kind != 0 || !l.OK {
					continue
				}
				want, ok := idx.find(tb.Family, l.Text)
				if !ok {
					continue
				}
				total++
				src := fmt.Sprintf("table %s %s {\n%s\nchain %s {\n%s\n%s\n}\n}\n", tb.Family, tb.Name,
					strings.Join(decls, "\n"), chain, specLine(spec), l.Text)
				msg := compileOne(src, want)
				if msg == "" {
					passed++
					continue
				}
				key := msg
				if i := strings.IndexByte(key, '\n'); i > 0 {
					key = key[:i]
				}
				failures[key]++
				if verbose {
					t.Logf("%s:%d [%s] %s\n%s", filepath.Base(path), l.Line, tb.Family, l.Text, msg)
				}
			}
		}
	}
	if verbose {
		type kv struct {
			k string
			n int
		}
		var kvs []kv
		for k, n := range failures {
			kvs = append(kvs, kv{k, n})
		}
		sort.Slice(kvs, func(i, j int) bool { return kvs[i].n > kvs[j].n })
		for i, x := range kvs {
			if i > 40 {
				break
			}
			t.Logf("%4d %s", x.n, x.k)
		}
	}
	report(t, "py-compile", passed, total)
}

func specLine(spec string) string {
	if spec == "" {
		return ""
	}
	return spec + ";"
}

func compileOne(src string, want corpus.PayloadEntry) (msg string) {
	defer func() {
		if r := recover(); r != nil {
			msg = fmt.Sprintf("panic: %v", r)
		}
	}()
	f, err := parser.ParseString("rule.nft", src)
	if err != nil {
		return "parse: " + err.Error()
	}
	b, err := compiler.Compile(f)
	if err != nil {
		return "compile: " + err.Error()
	}
	var sets []*model.Set
	var rule *model.Rule
	for _, op := range b.Ops {
		switch x := op.Obj.(type) {
		case *model.Set:
			if x.Flags&0x1 != 0 {
				sets = append(sets, x)
			}
		case *model.Rule:
			rule = x
		}
	}
	if rule == nil {
		return "no rule compiled"
	}
	return compareEntry(want, rule, sets)
}
