package model

// Unknown is an expression the decoder could not map to a typed expression:
// its kernel name and the raw NFTA_EXPR_DATA attributes. It is kept rather
// than dropped so that a listing can show it and fail loudly.
type Unknown struct {
	Name string
	Raw  []byte
}

// Kind returns the kernel's expression name.
func (u *Unknown) Kind() string { return u.Name }
