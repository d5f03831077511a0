package render

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/nftflow/nftflow/compiler"
	"github.com/nftflow/nftflow/model"
)

func sampleDiags() []compiler.Diagnostic {
	return []compiler.Diagnostic{
		{Code: compiler.CodeUndefinedFlowtable, Severity: compiler.SeverityError,
			Pos:     model.Pos{File: "r.nft", Line: 3, Col: 12, EndLine: 3, EndCol: 15},
			Message: "flowtable @fx is not declared in table inet t; declare it or fix the name"},
		{Code: compiler.CodeFlowNotL4, Severity: compiler.SeverityWarning,
			Pos:        model.Pos{File: "r.nft", Line: 3, Col: 3},
			Message:    "flow add, with 50% chance: x,y",
			Suggestion: "meta l4proto { tcp, udp } flow add @ft"},
	}
}

const sampleSource = "table inet t {\n\tchain c {\n\t\tflow add @fx\n\t}\n}\n"

func TestDiagText(t *testing.T) {
	var b bytes.Buffer
	err := WriteDiagnostics(&b, DiagText, sampleDiags(), DiagOptions{Source: func(f string) []byte {
		if f == "r.nft" {
			return []byte(sampleSource)
		}
		return nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	want := "r.nft:3:12: error: flowtable @fx is not declared in table inet t; declare it or fix the name [NF101]\n" +
		"\t\tflow add @fx\n" +
		"\t\t         ^^^\n" +
		"r.nft:3:3: warning: flow add, with 50% chance: x,y [NF211]\n" +
		"\t\tflow add @fx\n" +
		"\t\t^\n" +
		"  suggestion: meta l4proto { tcp, udp } flow add @ft\n"
	if b.String() != want {
		t.Errorf("text output:\n%s\nwant:\n%s", b.String(), want)
	}
}

func TestDiagTextNoSource(t *testing.T) {
	var b bytes.Buffer
	d := []compiler.Diagnostic{{Code: "NF002", Severity: compiler.SeverityError, Pos: model.Pos{File: "x.nft"}, Message: "m"}}
	if err := WriteDiagnostics(&b, DiagText, d, DiagOptions{}); err != nil {
		t.Fatal(err)
	}
	if got := b.String(); got != "x.nft: error: m [NF002]\n" {
		t.Errorf("got %q", got)
	}
}

func TestDiagJSON(t *testing.T) {
	var b bytes.Buffer
	if err := WriteDiagnostics(&b, DiagJSON, sampleDiags(), DiagOptions{}); err != nil {
		t.Fatal(err)
	}
	var recs []map[string]any
	if err := json.Unmarshal(b.Bytes(), &recs); err != nil {
		t.Fatal(err)
	}
	if len(recs) != 2 {
		t.Fatalf("got %d records", len(recs))
	}
	for _, k := range []string{"code", "severity", "file", "line", "column", "end_line", "end_column", "message", "suggestion"} {
		if _, ok := recs[0][k]; !ok {
			t.Errorf("record lacks %q: %v", k, recs[0])
		}
	}
	if recs[0]["code"] != "NF101" || recs[0]["severity"] != "error" || recs[0]["line"] != 3.0 || recs[0]["end_column"] != 15.0 {
		t.Errorf("record 0: %v", recs[0])
	}
	if recs[1]["severity"] != "warning" || recs[1]["suggestion"] != "meta l4proto { tcp, udp } flow add @ft" {
		t.Errorf("record 1: %v", recs[1])
	}
	// No diagnostics is an empty array, never null.
	b.Reset()
	if err := WriteDiagnostics(&b, DiagJSON, nil, DiagOptions{}); err != nil {
		t.Fatal(err)
	}
	if strings.TrimSpace(b.String()) != "[]" {
		t.Errorf("empty: %q", b.String())
	}
}

func TestDiagSARIF(t *testing.T) {
	var b bytes.Buffer
	if err := WriteDiagnostics(&b, DiagSARIF, sampleDiags(), DiagOptions{ToolVersion: "v1"}); err != nil {
		t.Fatal(err)
	}
	var log struct {
		Version string `json:"version"`
		Runs    []struct {
			Tool struct {
				Driver struct {
					Name  string `json:"name"`
					Rules []struct {
						ID               string `json:"id"`
						ShortDescription struct{ Text string }
					} `json:"rules"`
				} `json:"driver"`
			} `json:"tool"`
			Results []struct {
				RuleID    string `json:"ruleId"`
				RuleIndex int    `json:"ruleIndex"`
				Level     string `json:"level"`
				Message   struct{ Text string }
				Locations []struct {
					PhysicalLocation struct {
						ArtifactLocation struct{ URI string }
						Region           struct{ StartLine, StartColumn, EndColumn int }
					}
				}
			} `json:"results"`
		} `json:"runs"`
	}
	if err := json.Unmarshal(b.Bytes(), &log); err != nil {
		t.Fatal(err)
	}
	if log.Version != "2.1.0" || len(log.Runs) != 1 || log.Runs[0].Tool.Driver.Name != "nftflow" {
		t.Fatalf("header: %+v", log)
	}
	rules := log.Runs[0].Tool.Driver.Rules
	if len(rules) != len(compiler.Codes()) {
		t.Errorf("%d rules, catalogue has %d", len(rules), len(compiler.Codes()))
	}
	res := log.Runs[0].Results
	if len(res) != 2 {
		t.Fatalf("%d results", len(res))
	}
	for _, r := range res {
		if rules[r.RuleIndex].ID != r.RuleID {
			t.Errorf("ruleIndex %d is %s, result says %s", r.RuleIndex, rules[r.RuleIndex].ID, r.RuleID)
		}
		if rules[r.RuleIndex].ShortDescription.Text == "" {
			t.Errorf("rule %s has no short description", r.RuleID)
		}
	}
	r0 := res[0]
	loc := r0.Locations[0].PhysicalLocation
	if r0.Level != "error" || loc.ArtifactLocation.URI != "r.nft" || loc.Region.StartLine != 3 || loc.Region.StartColumn != 12 || loc.Region.EndColumn != 15 {
		t.Errorf("result 0: %+v", r0)
	}
	if res[1].Level != "warning" || !strings.Contains(res[1].Message.Text, "Suggestion: meta l4proto") {
		t.Errorf("result 1: %+v", res[1])
	}
}

func TestDiagGitHub(t *testing.T) {
	var b bytes.Buffer
	if err := WriteDiagnostics(&b, DiagGitHub, sampleDiags(), DiagOptions{}); err != nil {
		t.Fatal(err)
	}
	want := "::error file=r.nft,line=3,col=12,endLine=3,endColumn=15,title=NF101::flowtable @fx is not declared in table inet t; declare it or fix the name\n" +
		"::warning file=r.nft,line=3,col=3,title=NF211::flow add, with 50%25 chance: x,y%0ASuggestion: meta l4proto { tcp, udp } flow add @ft\n"
	if b.String() != want {
		t.Errorf("github output:\n%s\nwant:\n%s", b.String(), want)
	}
}

func TestParseDiagFormat(t *testing.T) {
	for _, f := range DiagFormats() {
		if g, err := ParseDiagFormat(string(f)); err != nil || g != f {
			t.Errorf("ParseDiagFormat(%q) = %q, %v", f, g, err)
		}
	}
	if _, err := ParseDiagFormat("xml"); err == nil {
		t.Error("xml accepted")
	}
}

func TestSarifURI(t *testing.T) {
	for in, want := range map[string]string{"./a/b.nft": "a/b.nft", "a b.nft": "a%20b.nft", "-": "stdin",
		"/repo/fw/r.nft": "fw/r.nft", "/etc/nftables.conf": "file:///etc/nftables.conf", "/repo": "."} {
		if got := sarifURI(in, "/repo"); got != want {
			t.Errorf("sarifURI(%q) = %q, want %q", in, got, want)
		}
	}
}
