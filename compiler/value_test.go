package compiler

import "testing"

// prefixMaskByte must agree with prefixMask, which builds the whole mask.
func TestPrefixMaskByte(t *testing.T) {
	for _, size := range []uint32{1, 2, 4, 6, 16} {
		for n := 0; n <= int(size)*8; n++ {
			m := prefixMask(size, n)
			for i := range m {
				if got := prefixMaskByte(i, n); got != m[i] {
					t.Fatalf("size %d /%d byte %d: %#x, want %#x", size, n, i, got, m[i])
				}
			}
		}
	}
}
