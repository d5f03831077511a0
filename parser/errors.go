package parser

import (
	"fmt"
	"io"
	"sort"
	"strings"
)

// Error is a positioned parse error.
type Error struct {
	Pos Pos
	End Pos // end of the offending range; may equal Pos
	Msg string
	// Line is the source line the error points into, for the caret display.
	Line string
}

// Error formats the error as file:line:col: message.
func (e *Error) Error() string { return e.Pos.String() + ": " + e.Msg }

// ErrorList is a list of errors sorted by position.
type ErrorList []*Error

// MaxErrors is how many errors ErrorList.Error and Format show before
// "(and N more errors)".
const MaxErrors = 10

// Len, Less and Swap sort the list by file and offset.
func (l ErrorList) Len() int      { return len(l) }
func (l ErrorList) Swap(i, j int) { l[i], l[j] = l[j], l[i] }
func (l ErrorList) Less(i, j int) bool {
	a, b := l[i].Pos, l[j].Pos
	if a.File != b.File {
		return a.File < b.File
	}
	return a.Offset < b.Offset
}

// Sort sorts the list by position and drops exact duplicates.
func (l *ErrorList) Sort() {
	sort.Stable(*l)
	out := (*l)[:0]
	for i, e := range *l {
		if i > 0 {
			p := out[len(out)-1]
			if p.Pos == e.Pos && p.Msg == e.Msg {
				continue
			}
		}
		out = append(out, e)
	}
	*l = out
}

// Error returns the first errors, one a line, and a count of the rest.
func (l ErrorList) Error() string {
	switch len(l) {
	case 0:
		return "no errors"
	case 1:
		return l[0].Error()
	}
	var sb strings.Builder
	for i, e := range l {
		if i == MaxErrors {
			fmt.Fprintf(&sb, "\n(and %d more errors)", len(l)-MaxErrors)
			break
		}
		if i > 0 {
			sb.WriteByte('\n')
		}
		sb.WriteString(e.Error())
	}
	return sb.String()
}

// Err returns nil for an empty list, else the list.
func (l ErrorList) Err() error {
	if len(l) == 0 {
		return nil
	}
	return l
}

// Format writes each error like nft does: the message, the source line and
// a caret line marking the offending range. At most MaxErrors are shown.
func (l ErrorList) Format(w io.Writer) {
	for i, e := range l {
		if i == MaxErrors {
			fmt.Fprintf(w, "(and %d more errors)\n", len(l)-MaxErrors)
			return
		}
		FormatError(w, e)
	}
}

// FormatError writes one error with its source line and caret.
func FormatError(w io.Writer, e *Error) {
	fmt.Fprintf(w, "%s: %s\n", e.Pos, e.Msg)
	if e.Line == "" {
		return
	}
	fmt.Fprintf(w, "%s\n", e.Line)
	var sb strings.Builder
	for i := 0; i < e.Pos.Col-1 && i < len(e.Line); i++ {
		if e.Line[i] == '\t' {
			sb.WriteByte('\t')
		} else {
			sb.WriteByte(' ')
		}
	}
	n := 1
	if e.End.Line == e.Pos.Line && e.End.Col > e.Pos.Col {
		n = e.End.Col - e.Pos.Col
	}
	sb.WriteString(strings.Repeat("^", n))
	fmt.Fprintf(w, "%s\n", sb.String())
}
