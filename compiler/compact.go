package compiler

import (
	"bytes"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/nftflow/nftflow/model"
	"github.com/nftflow/nftflow/parser"
)

// compactIvs are the intervals of a compact element list (parser.SetExpr)
// of addresses: the keys of interval k at keys[2*k*size:], low then high
// (inclusive, big endian), and the element it came from in elem[k]. Twelve
// bytes an IPv4 interval where []interval takes over sixty.
type compactIvs struct {
	size int
	keys []byte
	elem []int32
}

func (c *compactIvs) lo(k int) []byte { return c.keys[2*k*c.size : (2*k+1)*c.size] }
func (c *compactIvs) hi(k int) []byte { return c.keys[(2*k+1)*c.size : (2*k+2)*c.size] }
func (c *compactIvs) len() int        { return len(c.elem) }

// compactAddrKey reports whether the elements of an interval set keyed by
// l can be read straight from a compact list's text: plain IPv4 or IPv6
// addresses in network order.
func compactAddrKey(l *load) bool {
	if l.dt == nil || len(l.parts) > 0 || l.shift != 0 || l.bits != l.size*8 || l.hostHint() {
		return false
	}
	return l.dt.Name == "ipv4_addr" && l.size == 4 || l.dt.Name == "ipv6_addr" && l.size == 16
}

// compactHasInterval is setHasInterval for a compact list: an element
// with '/' or '-' is a prefix or a range.
func compactHasInterval(x *parser.SetExpr) bool {
	for i := 0; i < x.Len(); i++ {
		sp := x.ElemSpan(i)
		if strings.ContainsAny(sp.Src.Text[sp.Start:sp.Stop], "/-") {
			return true
		}
	}
	return false
}

// compactIntervals reads the intervals of a compact list keyed by l
// (compactAddrKey) from the source text. Elements the text alone does not
// settle (a number as an address, a bad prefix length) are compiled from
// their syntax tree as in anonSet, so errors and results are the same.
func (r *ruleCtx) compactIntervals(l *load, x *parser.SetExpr) (*compactIvs, error) {
	n, size := x.Len(), int(l.size)
	c := &compactIvs{size: size, keys: make([]byte, 0, 2*n*size), elem: make([]int32, n)}
	for i := 0; i < n; i++ {
		c.elem[i] = int32(i)
		sp := x.ElemSpan(i)
		if c.appendText(l, sp.Src.Text[sp.Start:sp.Stop]) {
			continue
		}
		iv, err := r.elemInterval(l, x.Elem(i))
		if err != nil {
			return nil, err
		}
		c.keys = append(append(c.keys, iv.lo...), iv.hi...)
	}
	return c, nil
}

// appendText appends the interval of one element's text (A, A/N or A-B),
// or reports false, appending nothing, when the text is anything else.
func (c *compactIvs) appendText(l *load, text string) bool {
	a, op, b := text, byte(0), ""
	if i := strings.IndexAny(text, "/-"); i >= 0 {
		a, op, b = strings.TrimRight(text[:i], " \t"), text[i], strings.TrimLeft(text[i+1:], " \t")
	}
	lo, ok := c.addr(l, a)
	if !ok {
		return false
	}
	switch op {
	case 0:
		c.keys = append(append(c.keys, lo...), lo...)
	case '-':
		hi, ok := c.addr(l, b)
		if !ok {
			return false
		}
		c.keys = append(append(c.keys, lo...), hi...)
	case '/':
		n, err := strconv.Atoi(b)
		if err != nil || n < 0 || n > c.size*8 {
			return false
		}
		k := len(c.keys)
		c.keys = append(append(c.keys, lo...), lo...)
		for i := 0; i < c.size; i++ {
			m := prefixMaskByte(i, n)
			c.keys[k+i] &= m
			c.keys[k+c.size+i] = c.keys[k+i] | ^m
		}
	}
	return true
}

// addr is encodeScalar of an address literal, for the texts it settles
// alone: what netip parses at the key's size, and no symbol of the type.
func (c *compactIvs) addr(l *load, s string) ([]byte, bool) {
	if _, ok := l.dt.Lookup(s); ok {
		return nil, false
	}
	s = strings.TrimSuffix(strings.TrimPrefix(s, "["), "]")
	a, err := netip.ParseAddr(s)
	if err != nil || a.Zone() != "" {
		return nil, false
	}
	if a.Is4() && c.size == 4 {
		b := a.As4()
		return b[:], true
	}
	if a.Is6() && c.size == 16 {
		b := a.As16()
		return b[:], true
	}
	return nil, false
}

// merge is mergeIntervals for compact intervals of elements without data:
// sorted by low key (stably), overlapping and adjacent ones merged when
// merge is set. It returns a new list.
func (c *compactIvs) merge(merge bool) *compactIvs {
	perm := make([]int32, c.len())
	for k := range perm {
		perm[k] = int32(k)
	}
	slices.SortFunc(perm, func(a, b int32) int {
		if d := bytes.Compare(c.lo(int(a)), c.lo(int(b))); d != 0 {
			return d
		}
		return int(a - b)
	})
	out := &compactIvs{size: c.size, keys: make([]byte, 0, len(c.keys)), elem: make([]int32, 0, c.len())}
	next := make([]byte, c.size)
	for _, k := range perm {
		lo, hi := c.lo(int(k)), c.hi(int(k))
		if m := out.len(); merge && m > 0 {
			last := out.hi(m - 1)
			if !isMax(last) && bytes.Compare(lo, incInto(next, last)) <= 0 {
				if bytes.Compare(hi, last) > 0 {
					copy(last, hi)
				}
				continue
			}
		}
		out.keys = append(append(out.keys, lo...), hi...)
		out.elem = append(out.elem, c.elem[k])
	}
	return out
}

// expand is expandIntervals for merged compact intervals: a start element
// per interval (positioned at its source element in x) and an end element
// after it, handed to yield chunk intervals at a time (all at once when
// chunk <= 0).
func (c *compactIvs) expand(x *parser.SetExpr, pos func(parser.Node) model.Pos, merge bool, chunk int, yield func([]model.SetElem)) {
	n := c.len()
	if n == 0 {
		return
	}
	if chunk <= 0 {
		chunk = n
	}
	var slab []byte
	var elems []model.SetElem
	start := func(k int) {
		slab = make([]byte, 0, (2*k+1)*c.size)
		elems = make([]model.SetElem, 0, 2*k+1)
	}
	out := func(b []byte) []byte {
		m := len(slab)
		slab = append(slab, b...)
		return slab[m : m+len(b) : m+len(b)]
	}
	start(min(chunk, n))
	if !isZero(c.lo(0)) {
		elems = append(elems, model.SetElem{Key: make([]byte, c.size), Flags: 1})
	}
	end := make([]byte, c.size)
	for k := 0; k < n; k++ {
		if k > 0 && k%chunk == 0 {
			yield(elems)
			start(min(chunk, n-k))
		}
		e := model.SetElem{Key: out(c.lo(k)), Pos: pos(x.ElemSpan(int(c.elem[k])))}
		if hi := c.hi(k); isMax(hi) {
			e.Userdata = tlvU32(1, 1) // NFTNL_SET_ELEM_F_INTERVAL_OPEN, as in expandIntervals
			elems = append(elems, e)
			continue
		}
		elems = append(elems, e)
		incInto(end, c.hi(k))
		if merge && k+1 < n && bytes.Equal(c.lo(k+1), end) {
			continue
		}
		elems = append(elems, model.SetElem{Key: out(end), Flags: 1})
	}
	yield(elems)
}

// incInto stores b+1 in dst (same length) and returns dst.
func incInto(dst, b []byte) []byte {
	copy(dst, b)
	for i := len(dst) - 1; i >= 0; i-- {
		dst[i]++
		if dst[i] != 0 {
			break
		}
	}
	return dst
}
