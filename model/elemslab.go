package model

// ElemSlab holds set elements that are nothing but a key and flags (the
// start and end elements of an interval set) in two flat slices instead of
// one SetElem each: a million-range set takes a few megabytes rather than
// hundreds. Element i has key Keys[i*KeyLen:(i+1)*KeyLen] and flags
// Flags[i] (NFT_SET_ELEM_INTERVAL_END).
type ElemSlab struct {
	KeyLen int
	Keys   []byte
	Flags  []uint8
}

// Len returns the number of elements.
func (s *ElemSlab) Len() int { return len(s.Flags) }

// Key returns element i's key (a slice of the slab).
func (s *ElemSlab) Key(i int) []byte { return s.Keys[i*s.KeyLen : (i+1)*s.KeyLen] }

// Add appends an element; key must be KeyLen bytes long.
func (s *ElemSlab) Add(key []byte, flags uint8) {
	s.Keys = append(s.Keys, key...)
	s.Flags = append(s.Flags, flags)
}

// Truncate drops the elements from index n on.
func (s *ElemSlab) Truncate(n int) {
	s.Keys = s.Keys[:n*s.KeyLen]
	s.Flags = s.Flags[:n]
}

// Elements returns the slab's elements as SetElems, each key copied.
func (s *ElemSlab) Elements() []SetElem {
	out := make([]SetElem, s.Len())
	for i := range out {
		out[i] = SetElem{Key: append([]byte(nil), s.Key(i)...), Flags: uint32(s.Flags[i])}
	}
	return out
}
