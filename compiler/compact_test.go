package compiler_test

import (
	"fmt"
	"math/rand"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/nftflow/nftflow/compiler"
	"github.com/nftflow/nftflow/internal/corpus"
	"github.com/nftflow/nftflow/model"
	"github.com/nftflow/nftflow/parser"
)

// compileCompact compiles src with compact element lists from min elements
// (0: never), into a batch and, separately, through Emit.
func compileCompact(t *testing.T, src string, min int) (batch *model.Batch, emitted []model.Op, err, emitErr error) {
	t.Helper()
	old := parser.CompactElementsMin
	parser.CompactElementsMin = min
	defer func() { parser.CompactElementsMin = old }()
	parse := func() *parser.File {
		f, perr := parser.ParseString("c.nft", src)
		if perr != nil {
			t.Fatalf("parse: %v\n%s", perr, src)
		}
		return f
	}
	batch, err = compiler.Compile(parse())
	_, emitErr = compiler.CompileWith(parse(), compiler.Options{Release: true, Emit: func(op model.Op) error {
		emitted = append(emitted, op)
		return nil
	}})
	return batch, emitted, err, emitErr
}

func randAddr(rng *rand.Rand, v6 bool) string {
	if v6 {
		return fmt.Sprintf("2001:db8::%x:%x", rng.Intn(4), rng.Intn(1<<16))
	}
	return fmt.Sprintf("10.%d.%d.%d", rng.Intn(2), rng.Intn(4), rng.Intn(256))
}

// Interval sets compiled from compact lists (read from the text) must be
// the very operations the syntax tree compiles to, errors included: random
// lists of addresses, prefixes and ranges, overlapping, adjacent, repeated,
// reaching the ends of the address space, with and without auto-merge.
func TestCompactIntervalsSameOps(t *testing.T) {
	rng := rand.New(rand.NewSource(7))
	refused := 0
	odd := []string{"0.0.0.0/0", "255.255.255.255", "10.0.0.0/33", "167772161", "10.0.0.9-10.0.0.1",
		"10.0.0.1/8", "0.0.0.0", "10.0.0.0/32", "::/0", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "2001:db8::/129", "::ffff:10.0.0.1"}
	for trial := 0; trial < 300; trial++ {
		v6 := trial%3 == 2
		var items []string
		for i, n := 0, 1+rng.Intn(40); i < n; i++ {
			a := randAddr(rng, v6)
			switch rng.Intn(4) {
			case 0:
				items = append(items, a)
			case 1:
				bits := 32
				if v6 {
					bits = 128
				}
				items = append(items, fmt.Sprintf("%s/%d", a, bits-rng.Intn(12)))
			case 2:
				items = append(items, a+" - "+randAddr(rng, v6))
			case 3:
				items = append(items, a+"-"+a)
			}
			if rng.Intn(15) == 0 {
				items = append(items, odd[rng.Intn(len(odd))])
			}
		}
		typ, fam := "ipv4_addr", "ip"
		if v6 {
			typ, fam = "ipv6_addr", "ip6"
		}
		merge := ""
		if trial%2 == 0 {
			merge = "auto-merge\n"
		}
		src := fmt.Sprintf("table %s t {\n\tset s {\n\t\ttype %s\n\t\tflags interval\n\t\t%selements = { %s }\n\t}\n}\n", fam, typ, merge, strings.Join(items, ",\n\t\t\t"))
		b0, e0, err0, eerr0 := compileCompact(t, src, 0)
		b1, e1, err1, eerr1 := compileCompact(t, src, 1)
		if fmt.Sprint(err0) != fmt.Sprint(err1) || fmt.Sprint(eerr0) != fmt.Sprint(eerr1) {
			t.Fatalf("errors differ:\n%v / %v\ncompact: %v / %v\n%s", err0, eerr0, err1, eerr1, src)
		}
		if err0 != nil {
			refused++
		}
		if !reflect.DeepEqual(b0, b1) {
			t.Fatalf("batches differ:\n%s", src)
		}
		if !reflect.DeepEqual(e0, e1) {
			t.Fatalf("emitted operations differ:\n%s", src)
		}
	}
	if refused == 0 || refused > 250 {
		t.Errorf("%d of 300 lists refused: the comparison should see both outcomes", refused)
	}
}

// Rules kept as spans (big files) compile to the very operations of rules
// parsed at once, for every shared dump: as a batch, and emitted with the
// tree let go as it is compiled.
func TestLazyRulesSameOps(t *testing.T) {
	dir, err := corpus.Dir()
	if err != nil {
		t.Skipf("skipping: no corpus (%v); set NFTFLOW_CORPUS", err)
	}
	dumps, err := corpus.Dumps(dir)
	if err != nil {
		t.Fatal(err)
	}
	type result struct {
		batch   *model.Batch
		err     string
		emitted []model.Op
		emitErr string
	}
	compile := func(src []byte, lazy bool) result {
		old := parser.LazyRulesMinSize
		parser.LazyRulesMinSize = 1 << 62
		if lazy {
			parser.LazyRulesMinSize = 0
		}
		defer func() { parser.LazyRulesMinSize = old }()
		f, perr := parser.ParseBytes("d.nft", src)
		if perr != nil {
			return result{err: "parse: " + perr.Error()}
		}
		var r result
		b, err := compiler.Compile(f)
		r.batch, r.err = b, fmt.Sprint(err)
		g, _ := parser.ParseBytes("d.nft", src)
		_, eerr := compiler.CompileWith(g, compiler.Options{Release: true, Emit: func(op model.Op) error {
			r.emitted = append(r.emitted, op)
			return nil
		}})
		r.emitErr = fmt.Sprint(eerr)
		return r
	}
	for _, p := range dumps {
		src, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		src = corpus.StripCount(src)
		r0, r1 := compile(src, false), compile(src, true)
		if r0.err != r1.err || !reflect.DeepEqual(r0.batch, r1.batch) {
			t.Errorf("%s: batch differs with rules kept as spans (%s / %s)", p, r0.err, r1.err)
		}
		if r0.emitErr != r1.emitErr || !reflect.DeepEqual(r0.emitted, r1.emitted) {
			t.Errorf("%s: emitted operations differ with rules kept as spans", p)
		}
	}
}
