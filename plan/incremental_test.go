package plan

import (
	"fmt"
	"math/rand"
	"slices"
	"strings"
	"testing"
)

// applyHunks rebuilds the new text from the old one and the hunks.
func applyHunks(a, b []string, hs []Hunk) ([]string, error) {
	var out []string
	o := 0
	for _, h := range hs {
		if h.OldStart < o || h.OldEnd < h.OldStart || h.NewEnd < h.NewStart {
			return nil, fmt.Errorf("hunk %+v out of order", h)
		}
		out = append(out, a[o:h.OldStart]...)
		out = append(out, b[h.NewStart:h.NewEnd]...)
		o = h.OldEnd
	}
	return append(out, a[o:]...), nil
}

func TestDiffLinesRebuildsTheNewText(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	for trial := 0; trial < 300; trial++ {
		n := r.Intn(3000)
		a := make([]string, n)
		for i := range a {
			if r.Intn(10) == 0 {
				a[i] = "dup" // repeated lines: no anchors
			} else {
				a[i] = fmt.Sprint("line ", i)
			}
		}
		b := slices.Clone(a)
		for e := r.Intn(20); e > 0; e-- {
			i := r.Intn(len(b) + 1)
			switch r.Intn(3) {
			case 0:
				b = slices.Insert(b, i, fmt.Sprint("new ", trial, e))
			case 1:
				if i < len(b) {
					b = slices.Delete(b, i, min(len(b), i+1+r.Intn(5)))
				}
			default:
				if i < len(b) {
					b[i] = fmt.Sprint("changed ", trial, e)
				}
			}
		}
		hs := DiffLines(a, b)
		got, err := applyHunks(a, b, hs)
		if err != nil {
			t.Fatalf("trial %d: %v", trial, err)
		}
		if !slices.Equal(got, b) {
			t.Fatalf("trial %d: hunks %v do not rebuild the new text", trial, hs)
		}
		// Hunks are small: an edit touches a few lines.
		changed := 0
		for _, h := range hs {
			changed += h.OldEnd - h.OldStart + h.NewEnd - h.NewStart
		}
		if changed > 200 {
			t.Errorf("trial %d: %d lines in hunks for at most 20 edits", trial, changed)
		}
	}
}

func TestDiffLinesBigShiftedList(t *testing.T) {
	// 1,000 lines dropped at the start, 1,000 added at the end, and the
	// first and last lines (list delimiters) changed: what a set of
	// 200,000 elements shifted by 1,000 looks like.
	var a, b []string
	for i := 0; i < 200000; i++ {
		a = append(a, fmt.Sprint("10.0.", i))
	}
	for i := 1000; i < 201000; i++ {
		b = append(b, fmt.Sprint("10.0.", i))
	}
	a[0], b[0] = "elements = { "+a[0], "elements = { "+b[0]
	a[len(a)-1] += " }"
	b[len(b)-1] += " }"
	hs := DiffLines(a, b)
	got, _ := applyHunks(a, b, hs)
	if !slices.Equal(got, b) {
		t.Fatal("hunks do not rebuild the new text")
	}
	changed := 0
	for _, h := range hs {
		changed += h.OldEnd - h.OldStart + h.NewEnd - h.NewStart
	}
	if changed > 2010 {
		t.Errorf("%d lines in hunks, want about 2,000: %v", changed, hs)
	}
}

func TestClassify(t *testing.T) {
	text := "table ip t {\n" + // 0 other
		"\tchain c {\n" + // 1 other
		"\t\ttcp dport 22 accept # ssh\n" + // 2 rule
		"\n" + // 3 blank
		"\t\t# note\n" + // 4 blank
		"\t\tip saddr { 1.1.1.1,\n" + // 5 other (rule over two lines)
		"\t\t\t2.2.2.2 } drop\n" + // 6 other
		"\t}\n" + // 7 other
		"\tset s {\n" + // 8 other
		"\t\telements = { 10.0.0.1,\n" + // 9 edge
		"\t\t\t10.0.0.2, 10.0.0.3,\n" + // 10 elems
		"\t\t\t10.0.0.4 }\n" + // 11 edge
		"\t}\n}\n"
	at := func(s string) int { return strings.Index(text, s) }
	spans := []Span{
		{Start: at("tcp dport 22"), Stop: at(" # ssh"), Kind: SpanRule, Ref: 0},
		{Start: at("ip saddr {"), Stop: at(" drop\n") + 5, Kind: SpanRule, Ref: 0},
		{Start: at("elements"), Stop: at("{ 10.0.0.1") + 1, Kind: SpanElemsOpen, Ref: 1},
		{Start: at("10.0.0.1"), Stop: at("10.0.0.1") + 8, Kind: SpanElem, Ref: 1},
		{Start: at("10.0.0.2"), Stop: at("10.0.0.2") + 8, Kind: SpanElem, Ref: 1},
		{Start: at("10.0.0.3"), Stop: at("10.0.0.3") + 8, Kind: SpanElem, Ref: 1},
		{Start: at("10.0.0.4"), Stop: at("10.0.0.4") + 8, Kind: SpanElem, Ref: 1},
		{Start: at(" }\n\t}\n}") + 1, Stop: at(" }\n\t}\n}") + 2, Kind: SpanElemsEnd, Ref: 1},
	}
	want := []LineKind{LineOther, LineOther, LineRule, LineBlank, LineBlank, LineOther, LineOther, LineOther,
		LineOther, LineElemsEdge, LineElems, LineElemsEdge, LineOther, LineOther}
	got := Classify(text, spans)
	if len(got) != len(want) {
		t.Fatalf("%d lines, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i].Kind != want[i] {
			t.Errorf("line %d %q: kind %d, want %d", i+1, strings.Split(text, "\n")[i], got[i].Kind, want[i])
		}
	}
}
