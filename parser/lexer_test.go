package parser

import (
	"strings"
	"testing"

	"github.com/alecthomas/participle/v2"
	"github.com/alecthomas/participle/v2/lexer"
)

func lexString(s string) []string {
	sc := &scanner{src: s}
	var out []string
	for {
		t := sc.next()
		if t.kind == EOF {
			return out
		}
		if t.kind == Newline {
			out = append(out, "NL")
			continue
		}
		out = append(out, t.kind.String()+":"+s[t.start:t.end])
	}
}

func TestLexer(t *testing.T) {
	cases := []struct{ in, want string }{
		{"ip saddr 10.0.0.0/8", "word:ip word:saddr number:10.0.0.0 '/':/ number:8"},
		{"tcp dport 1024-65535", "word:tcp word:dport number:1024 '-':- number:65535"},
		{"ip6 daddr fe80::1 ::1 2001:db8::/32", "word:ip6 word:daddr number:fe80::1 number:::1 number:2001:db8:: '/':/ number:32"},
		{"ether saddr aa:bb:cc:dd:ee:ff", "word:ether word:saddr number:aa:bb:cc:dd:ee:ff"},
		{"dnat to 1.2.3.4:80", "word:dnat word:to number:1.2.3.4 ':':: number:80"},
		{"redirect to :8080", "word:redirect word:to ':':: number:8080"},
		{"meta hour \"10:00\" timeout 1h30m", "word:meta word:hour string:\"10:00\" word:timeout number:1h30m"},
		{"set GEOIP_CC_wan-lan_120 sack-perm", "word:set word:GEOIP_CC_wan-lan_120 word:sack-perm"},
		{"a . b : c", "word:a '.':. word:b ':':: word:c"},
		{"x == y != z <= >= << >> & | ^ !", "word:x '==':== word:y '!=':!= word:z '<=':<= '>=':>= '<<':<< '>>':>> '&':& '|':| '^':^ '!':!"},
		{"$var @set @th,16,8", "variable:$var '@':@ word:set '@':@ word:th ',':, number:16 ',':, number:8"},
		{"a \\\n b # comment\nc;d", "word:a word:b NL word:c ';':; word:d"},
		{"0x0a ff", "number:0x0a word:ff"},
		{"[2001:db8::1]:80", "'[':[ number:2001:db8::1 ']':] ':':: number:80"},
	}
	for _, c := range cases {
		got := strings.Join(lexString(c.in), " ")
		if got != c.want {
			t.Errorf("lex %q:\n got %s\nwant %s", c.in, got, c.want)
		}
	}
}

func TestLexerErrors(t *testing.T) {
	sc := &scanner{src: "a \"open\nb ` c"}
	for sc.next().kind != EOF {
	}
	if len(sc.errMsgs) != 2 || sc.errMsgs[0] != "unterminated string" || sc.errMsgs[1] != "illegal character" {
		t.Errorf("errors %q at %v", sc.errMsgs, sc.errs)
	}
}

// TestParticipleDefinition: the hand-written lexer works as a participle
// lexer.Definition for a participle grammar of its own.
func TestParticipleDefinition(t *testing.T) {
	type assignment struct {
		Name  string `parser:"@Word Assign"`
		Value string `parser:"@(Number | String | Word)"`
	}
	type grammar struct {
		Items []*assignment `parser:"(@@ (Newline | Semi)*)*"`
	}
	p, err := participle.Build[grammar](participle.Lexer(&Definition{}))
	if err != nil {
		t.Fatal(err)
	}
	g, err := p.ParseString("x.nft", "a = 1\nb = \"two\"; c = three\n")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, it := range g.Items {
		got = append(got, it.Name+"="+it.Value)
	}
	if strings.Join(got, ",") != `a=1,b="two",c=three` {
		t.Errorf("got %v", got)
	}
	// chunk mode: one token per top-level command
	l, err := (&Definition{Chunks: true}).LexString("y.nft", "table ip t {\n chain c { }\n}\nflush ruleset; list tables\n")
	if err != nil {
		t.Fatal(err)
	}
	toks, err := lexer.ConsumeAll(l)
	if err != nil {
		t.Fatal(err)
	}
	var chunks []string
	for _, tk := range toks {
		if !tk.EOF() {
			chunks = append(chunks, tk.Value)
		}
	}
	want := []string{"table ip t {\n chain c { }\n}", "flush ruleset", "list tables"}
	if strings.Join(chunks, "|") != strings.Join(want, "|") {
		t.Errorf("chunks %q", chunks)
	}
}
