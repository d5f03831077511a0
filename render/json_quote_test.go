package render

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestJSONQuoteMatchesMarshal: the fast path writes what json.Marshal does.
func TestJSONQuoteMatchesMarshal(t *testing.T) {
	for _, s := range []string{"", "family", "10.0.0.0", "a b", `q"uote`, `back\\slash`, "<html>", "a&b",
		"tab\there", "nl\n", "\x00", "ünïcode", "\u2028", "\xff", "~}|{"} {
		var sb strings.Builder
		jsonQuote(&sb, s)
		want, _ := json.Marshal(s)
		if sb.String() != string(want) {
			t.Errorf("jsonQuote(%q) = %s, json.Marshal %s", s, sb.String(), want)
		}
	}
}
