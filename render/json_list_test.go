package render

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/nftflow/nftflow/model"
)

func jsonString(v any) string {
	var sb strings.Builder
	jsonEncode(&sb, v)
	return sb.String()
}

// TestJSONElemStatements checks element statements as nft 1.0.6 -j
// prints them: a limit, and only the first of several statements.
func TestJSONElemStatements(t *testing.T) {
	for _, tc := range []struct{ text, want string }{
		{`10.1.0.3 . 5201 limit rate 1/second counter packets 0 bytes 0`,
			`{"elem": {"val": {"concat": ["10.1.0.3", 5201]}, "limit": {"rate": 1, "per": "second", "burst": 5}}}`},
		{`10.1.0.3 counter packets 1 bytes 2 limit rate 1/second`,
			`{"elem": {"val": "10.1.0.3", "counter": {"packets": 1, "bytes": 2}}}`},
		{`80 limit rate over 2 kbytes/minute burst 4 kbytes`,
			`{"elem": {"val": 80, "limit": {"rate": 2, "per": "minute", "inv": true, "rate_unit": "kbytes", "burst": 4, "burst_unit": "kbytes"}}}`},
	} {
		if got := jsonString(jsonElem(tc.text, false)); !jsonEqual(t, got, tc.want) {
			t.Errorf("jsonElem(%q) = %s, want %s", tc.text, got, tc.want)
		}
	}
}

// TestJSONWideValues checks that values wider than 64 bits stay hex strings
// (nft prints their text) while narrower ones are numbers.
func TestJSONWideValues(t *testing.T) {
	if got := jsonScalar("0x870697a7a6173656f03636f6d00"); got != "0x870697a7a6173656f03636f6d00" {
		t.Errorf("wide value = %#v, want the hex string", got)
	}
	if got := jsonString(jsonScalar("0xff")); got != "255" {
		t.Errorf("narrow value = %s, want 255", got)
	}
}

// TestJSONBinopFlags checks that a flag mask in a binary operation nests
// as nft's ((a | b) | c) and a flag test stays a list.
func TestJSONBinopFlags(t *testing.T) {
	if got, want := jsonString(jsonFlagsOr("fin,syn,rst")), `{"|": [{"|": ["fin", "syn"]}, "rst"]}`; !jsonEqual(t, got, want) {
		t.Errorf("jsonFlagsOr = %s, want %s", got, want)
	}
	if got, want := jsonString(jsonFlags("ack,urg")), `["ack", "urg"]`; !jsonEqual(t, got, want) {
		t.Errorf("jsonFlags = %s, want %s", got, want)
	}
}

// TestJSONConstantSetSize checks that a constant set's size is left out,
// as nft 1.0.6 does, and a plain set's is kept.
func TestJSONConstantSetSize(t *testing.T) {
	for _, tc := range []struct {
		flags uint32
		want  bool
	}{{lsSetConstant, false}, {0, true}} {
		var b bytes.Buffer
		j := NewJSONLister(&b, ListOptions{})
		j.BeginTable(&model.Table{Family: model.FamilyIP, Name: "t"})
		j.Set(&model.Set{Family: model.FamilyIP, Table: "t", Name: "s", KeyType: 7, KeyLen: 4, Flags: tc.flags, Size: 18})
		j.EndTable()
		if err := j.Close(); err != nil {
			t.Fatal(err)
		}
		if got := strings.Contains(b.String(), `"size": 18`); got != tc.want {
			t.Errorf("flags %#x: size listed = %v, want %v:\n%s", tc.flags, got, tc.want, b.String())
		}
	}
}

func jsonEqual(t *testing.T, a, b string) bool {
	t.Helper()
	var x, y any
	if err := json.Unmarshal([]byte(a), &x); err != nil {
		t.Fatalf("bad JSON %s: %v", a, err)
	}
	if err := json.Unmarshal([]byte(b), &y); err != nil {
		t.Fatalf("bad JSON %s: %v", b, err)
	}
	return reflect.DeepEqual(x, y)
}

// TestJSONNoCallbackStatements checks the statements nft 1.0.6 has no JSON
// form for: a map update and a chain binding are listed as their text.
func TestJSONNoCallbackStatements(t *testing.T) {
	var b bytes.Buffer
	j := NewJSONLister(&b, ListOptions{})
	j.BeginTable(&model.Table{Family: model.FamilyIP, Name: "t"})
	j.AddSet(&model.Set{Family: model.FamilyIP, Table: "t", Name: "m", Flags: 0x8 | 0x10 | 0x1,
		KeyType: 7, KeyLen: 4, DataType: 19, DataLen: 4})
	j.BindingChain("__chain%d", []*model.Rule{{Family: model.FamilyIP, Exprs: []model.Expr{
		&model.Counter{Packets: 1, Bytes: 2}, &model.Immediate{Verdict: &model.Verdict{Code: 1}}}}})
	j.BeginChain(&model.Chain{Family: model.FamilyIP, Table: "t", Name: "c"})
	j.Rule(&model.Rule{Family: model.FamilyIP, Table: "t", Chain: "c", Exprs: []model.Expr{
		&model.Payload{DReg: 1, Base: model.BaseNetwork, Offset: 12, Len: 4},
		&model.Meta{Key: 3, DReg: 2},
		&model.Dynset{Op: 1, SRegKey: 1, SRegData: 2, Set: "m"},
	}})
	j.Rule(&model.Rule{Family: model.FamilyIP, Table: "t", Chain: "c", Exprs: []model.Expr{
		&model.Immediate{Verdict: &model.Verdict{Code: -3, Chain: "__chain%d"}},
	}})
	j.EndChain()
	j.EndTable()
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Nftables []map[string]map[string]any `json:"nftables"`
	}
	if err := json.Unmarshal(b.Bytes(), &doc); err != nil {
		t.Fatalf("%v\n%s", err, b.String())
	}
	var got []any
	for _, o := range doc.Nftables {
		if r, ok := o["rule"]; ok {
			got = append(got, r["expr"])
		}
	}
	want := []any{
		[]any{"update @m { ip saddr : meta mark }"},
		[]any{"jump {\n\t\t\tcounter packets 1 bytes 2 accept\n\t\t}"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("rule exprs = %#v, want %#v", got, want)
	}
}

// TestRuleJSON checks rule statements against what nft 1.0.6 -j prints.
func TestRuleJSON(t *testing.T) {
	set := &model.Set{Family: model.FamilyInet, Table: "t", Name: "s", Flags: 0x10 | 0x20,
		KeyType: 7<<6 | 13, KeyLen: 8}
	for _, tc := range []struct {
		name  string
		exprs []model.Expr
		want  string
	}{
		{"log flags", []model.Expr{&model.Log{Prefix: "x ", HasPrefix: true, Flags: 0x4 | 0x20}},
			`[{"log": {"prefix": "x ", "flags": ["ip options", "ether"]}}]`},
		{"one log flag", []model.Expr{&model.Log{Flags: 0x8}},
			`[{"log": {"flags": "skuid"}}]`},
		{"fib oif 0 is a string", []model.Expr{
			&model.Fib{DReg: 1, Result: 1, Flags: 1 | 8}, &model.Cmp{SReg: 1, Data: u32le(0)}},
			`[{"match": {"op": "==", "left": {"fib": {"result": "oif", "flags": ["saddr", "iif"]}}, "right": "0"}}]`},
		{"set add with an immediate in the key", []model.Expr{
			&model.Payload{DReg: 8, Base: model.BaseNetwork, Offset: 12, Len: 4},
			&model.Immediate{DReg: 9, Data: []byte{0, 22}},
			&model.Dynset{Op: 0, SRegKey: 8, Set: "s", Timeout: 60000}},
			`[{"set": {"op": "add", "elem": {"elem": {"val": {"concat": [{"payload": {"protocol": "ip", "field": "saddr"}}, 22]}, "timeout": 60}}, "set": "@s"}}]`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := NewLister(&bytes.Buffer{}, ListOptions{})
			l.AddSet(set)
			expr, ok := l.RuleJSON(&model.Rule{Family: model.FamilyIP, Exprs: tc.exprs})
			if !ok {
				t.Fatalf("no JSON form (text %q)", l.RuleText(&model.Rule{Family: model.FamilyIP, Exprs: tc.exprs}))
			}
			if got := jsonString(expr); !jsonEqual(t, got, tc.want) {
				t.Errorf("got  %s\nwant %s", got, tc.want)
			}
		})
	}
}

// TestJSONKernelConcatNames checks the key type nft 1.0.6 -j prints for a
// typeof concatenation with an untyped field (checked against nft -j).
func TestJSONKernelConcatNames(t *testing.T) {
	for _, tc := range []struct {
		id   uint32
		n    int
		want string
		ok   bool
	}{
		{7<<6 | 13, 2, "", false},                   // ip saddr . tcp dport: unchanged
		{7 << 6, 2, `"ipv4_addr"`, true},            // ip saddr . ct original proto-dst
		{0<<6 | 7, 2, `"ipv4_addr"`, true},          // ct original proto-dst . ip saddr
		{7<<12 | 0<<6 | 13, 3, `"ipv4_addr"`, true}, // stops at the first zero
		{7, 1, "", false},
	} {
		got, ok := jsonKernelConcatNames(tc.id, tc.n)
		if ok != tc.ok || ok && jsonString(got) != tc.want {
			t.Errorf("jsonKernelConcatNames(%#x, %d) = %s, %v; want %s, %v", tc.id, tc.n, jsonString(got), ok, tc.want, tc.ok)
		}
	}
}

// TestDynsetConstantKey checks a set update whose key is one constant:
// nft 1.0.6 prints it untyped, "0xa020304 [invalid type]", in text and
// JSON alike, while a concatenation with a constant keeps its types.
func TestDynsetConstantKey(t *testing.T) {
	l := NewLister(&bytes.Buffer{}, ListOptions{})
	l.AddSet(&model.Set{Family: model.FamilyIP, Table: "t", Name: "s", Flags: 0x10, KeyType: 7, KeyLen: 4})
	r := &model.Rule{Family: model.FamilyIP, Exprs: []model.Expr{
		&model.Immediate{DReg: 1, Data: []byte{10, 2, 3, 5}},
		&model.Dynset{Op: 0, SRegKey: 1, Set: "s"},
	}}
	if got, want := l.RuleText(r), "add @s { 0xa020305 [invalid type] }"; got != want {
		t.Errorf("text: got %q, want %q", got, want)
	}
	expr, ok := l.RuleJSON(r)
	if !ok {
		t.Fatal("no JSON form")
	}
	if got, want := jsonString(expr), `[{"set": {"op": "add", "elem": "0xa020305 [invalid type]", "set": "@s"}}]`; !jsonEqual(t, got, want) {
		t.Errorf("json: got %s, want %s", got, want)
	}
}
