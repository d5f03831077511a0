package parser

import (
	"math/rand"
	"strings"
	"testing"
)

// Position answers the same whichever order offsets are asked in: its line
// hint must never change the result.
func TestPositionAnyOrder(t *testing.T) {
	var b strings.Builder
	rng := rand.New(rand.NewSource(1))
	for i := 0; i < 500; i++ {
		b.WriteString(strings.Repeat("x", rng.Intn(5)))
		b.WriteByte('\n')
	}
	text := b.String()
	want := func(off int) (line, col int) {
		line = 1 + strings.Count(text[:off], "\n")
		return line, off - (strings.LastIndexByte(text[:off], '\n') + 1) + 1
	}
	src := NewSource("f", text)
	check := func(off int) {
		p := src.Position(off)
		l, c := want(off)
		if p.Line != l || p.Col != c || p.Offset != off {
			t.Fatalf("offset %d: %d:%d, want %d:%d", off, p.Line, p.Col, l, c)
		}
	}
	for off := 0; off <= len(text); off++ { // forwards, as compilers ask
		check(off)
	}
	for off := len(text); off >= 0; off-- {
		check(off)
	}
	for i := 0; i < 5000; i++ {
		check(rng.Intn(len(text) + 1))
	}
}
