package render

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/nftflow/nftflow/compiler"
	"github.com/nftflow/nftflow/model"
)

// DiagFormat is an output format for lint diagnostics.
type DiagFormat string

// The diagnostic formats of `nftflow lint --format`.
const (
	DiagText   DiagFormat = "text"   // file:line:col: severity: message [CODE], source line, caret
	DiagJSON   DiagFormat = "json"   // a JSON array of DiagJSONRecord
	DiagSARIF  DiagFormat = "sarif"  // SARIF 2.1.0 for GitHub code scanning
	DiagGitHub DiagFormat = "github" // GitHub Actions workflow commands (::error ...)
)

// DiagFormats lists the formats in the order the help text shows them.
func DiagFormats() []DiagFormat { return []DiagFormat{DiagText, DiagJSON, DiagSARIF, DiagGitHub} }

// ParseDiagFormat maps a --format value to a DiagFormat.
func ParseDiagFormat(s string) (DiagFormat, error) {
	for _, f := range DiagFormats() {
		if string(f) == s {
			return f, nil
		}
	}
	return "", fmt.Errorf("unknown format %q (want text, json, sarif or github)", s)
}

// DiagOptions configure WriteDiagnostics.
type DiagOptions struct {
	// Source returns the text of a file named in a diagnostic so the text
	// format can quote the offending line; nil or a nil result omits it.
	Source func(file string) []byte
	// ToolVersion is reported as tool.driver.version in SARIF.
	ToolVersion string
	// BaseDir, when set, is the directory SARIF locations are made
	// relative to (the repository root in CI); absolute paths outside it
	// become file:// URIs.
	BaseDir string
}

// WriteDiagnostics writes diags to w in format f, in the order given.
func WriteDiagnostics(w io.Writer, f DiagFormat, diags []compiler.Diagnostic, opts DiagOptions) error {
	switch f {
	case DiagText:
		return writeDiagText(w, diags, opts)
	case DiagJSON:
		return writeDiagJSON(w, diags)
	case DiagSARIF:
		return writeDiagSARIF(w, diags, opts)
	case DiagGitHub:
		return writeDiagGitHub(w, diags)
	}
	return fmt.Errorf("unknown diagnostic format %q", f)
}

// writeDiagText writes the human format: the position line, then the
// source line and a caret under the span, as nft and the parser do.
func writeDiagText(w io.Writer, diags []compiler.Diagnostic, opts DiagOptions) error {
	var b bytes.Buffer
	cache := map[string][]string{}
	for _, d := range diags {
		p := d.Pos
		if p.IsValid() {
			fmt.Fprintf(&b, "%s:%d:%d: %s: %s [%s]\n", p.File, p.Line, p.Col, d.Severity, d.Message, d.Code)
		} else if p.File != "" {
			fmt.Fprintf(&b, "%s: %s: %s [%s]\n", p.File, d.Severity, d.Message, d.Code)
		} else {
			fmt.Fprintf(&b, "%s: %s [%s]\n", d.Severity, d.Message, d.Code)
		}
		if line, ok := sourceLine(cache, opts.Source, p.File, p.Line); ok {
			b.WriteString(line)
			b.WriteByte('\n')
			b.WriteString(caretLine(line, p.Col, caretWidth(p, line)))
			b.WriteByte('\n')
		}
		if d.Suggestion != "" {
			fmt.Fprintf(&b, "  suggestion: %s\n", d.Suggestion)
		}
	}
	_, err := w.Write(b.Bytes())
	return err
}

// sourceLine returns line n (1-based) of file, without its newline.
func sourceLine(cache map[string][]string, src func(string) []byte, file string, n int) (string, bool) {
	if src == nil || n <= 0 {
		return "", false
	}
	lines, ok := cache[file]
	if !ok {
		if text := src(file); text != nil {
			lines = strings.Split(string(text), "\n")
		}
		cache[file] = lines
	}
	if n > len(lines) {
		return "", false
	}
	return strings.TrimRight(lines[n-1], "\r"), true
}

// caretWidth is how many carets mark the span: to its end on the same
// line (EndCol is exclusive), else to the end of the line, at least one.
func caretWidth(p model.Pos, line string) int {
	if p.Col <= 0 {
		return 0
	}
	w := 1
	switch {
	case p.EndLine == p.Line && p.EndCol > p.Col:
		w = p.EndCol - p.Col
	case p.EndLine > p.Line:
		w = len(line) - p.Col + 1
	}
	if max := len(line) - p.Col + 1; w > max {
		w = max
	}
	if w < 1 {
		w = 1
	}
	return w
}

// caretLine puts n carets under column col (1-based, in bytes) of line,
// keeping the line's tabs so the caret lines up in a terminal.
func caretLine(line string, col, n int) string {
	if col <= 0 {
		return ""
	}
	var b strings.Builder
	for i := 0; i < col-1 && i < len(line); i++ {
		if line[i] == '\t' {
			b.WriteByte('\t')
		} else {
			b.WriteByte(' ')
		}
	}
	for i := len(line); i < col-1; i++ {
		b.WriteByte(' ')
	}
	b.WriteString(strings.Repeat("^", n))
	return b.String()
}

// DiagJSONRecord is one element of the JSON format's array. The field set
// is stable: fields may be added, never renamed or removed. Lines and
// columns are 1-based; end_column is exclusive; 0 means unknown.
type DiagJSONRecord struct {
	Code       string `json:"code"`
	Severity   string `json:"severity"` // "error", "warning" or "info"
	File       string `json:"file"`
	Line       int    `json:"line"`
	Column     int    `json:"column"`
	EndLine    int    `json:"end_line"`
	EndColumn  int    `json:"end_column"`
	Message    string `json:"message"`
	Suggestion string `json:"suggestion"`
}

func writeDiagJSON(w io.Writer, diags []compiler.Diagnostic) error {
	recs := make([]DiagJSONRecord, 0, len(diags))
	for _, d := range diags {
		recs = append(recs, DiagJSONRecord{
			Code: d.Code, Severity: d.Severity.String(),
			File: d.Pos.File, Line: d.Pos.Line, Column: d.Pos.Col,
			EndLine: d.Pos.EndLine, EndColumn: d.Pos.EndCol,
			Message: d.Message, Suggestion: d.Suggestion,
		})
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(recs)
}

// SARIF 2.1.0, the subset GitHub code scanning reads.
type sarifLog struct {
	Schema  string     `json:"$schema"`
	Version string     `json:"version"`
	Runs    []sarifRun `json:"runs"`
}

type sarifRun struct {
	Tool    sarifTool     `json:"tool"`
	Results []sarifResult `json:"results"`
}

type sarifTool struct {
	Driver sarifDriver `json:"driver"`
}

type sarifDriver struct {
	Name           string      `json:"name"`
	Version        string      `json:"version,omitempty"`
	InformationURI string      `json:"informationUri"`
	Rules          []sarifRule `json:"rules"`
}

type sarifText struct {
	Text string `json:"text"`
}

type sarifRule struct {
	ID                   string       `json:"id"`
	Name                 string       `json:"name"`
	ShortDescription     sarifText    `json:"shortDescription"`
	HelpURI              string       `json:"helpUri"`
	DefaultConfiguration sarifDefault `json:"defaultConfiguration"`
}

type sarifDefault struct {
	Level string `json:"level"`
}

type sarifResult struct {
	RuleID    string          `json:"ruleId"`
	RuleIndex int             `json:"ruleIndex"`
	Level     string          `json:"level"`
	Message   sarifText       `json:"message"`
	Locations []sarifLocation `json:"locations"`
}

type sarifLocation struct {
	PhysicalLocation sarifPhysical `json:"physicalLocation"`
}

type sarifPhysical struct {
	ArtifactLocation sarifArtifact `json:"artifactLocation"`
	Region           *sarifRegion  `json:"region,omitempty"`
}

type sarifArtifact struct {
	URI string `json:"uri"`
}

type sarifRegion struct {
	StartLine   int `json:"startLine"`
	StartColumn int `json:"startColumn,omitempty"`
	EndLine     int `json:"endLine,omitempty"`
	EndColumn   int `json:"endColumn,omitempty"`
}

const codesURL = "https://github.com/nftflow/nftflow/blob/main/docs/codes.md"

// sarifLevel maps a severity to a SARIF result level.
func sarifLevel(s compiler.Severity) string {
	switch s {
	case compiler.SeverityError:
		return "error"
	case compiler.SeverityWarning:
		return "warning"
	}
	return "note"
}

func writeDiagSARIF(w io.Writer, diags []compiler.Diagnostic, opts DiagOptions) error {
	drv := sarifDriver{
		Name:           "nftflow",
		Version:        opts.ToolVersion,
		InformationURI: "https://github.com/nftflow/nftflow",
		Rules:          []sarifRule{},
	}
	index := map[string]int{}
	for _, c := range compiler.Codes() {
		index[c.Code] = len(drv.Rules)
		drv.Rules = append(drv.Rules, sarifRule{
			ID: c.Code, Name: c.Name,
			ShortDescription:     sarifText{c.Short},
			HelpURI:              codesURL + "#" + strings.ToLower(c.Code) + "-" + c.Name,
			DefaultConfiguration: sarifDefault{sarifLevel(c.Severity)},
		})
	}
	results := make([]sarifResult, 0, len(diags))
	for _, d := range diags {
		i, ok := index[d.Code]
		if !ok {
			i = len(drv.Rules)
			index[d.Code] = i
			drv.Rules = append(drv.Rules, sarifRule{ID: d.Code, Name: d.Code,
				ShortDescription: sarifText{d.Code}, HelpURI: codesURL,
				DefaultConfiguration: sarifDefault{sarifLevel(d.Severity)}})
		}
		msg := d.Message
		if d.Suggestion != "" {
			msg += " Suggestion: " + d.Suggestion
		}
		loc := sarifLocation{PhysicalLocation: sarifPhysical{ArtifactLocation: sarifArtifact{URI: sarifURI(d.Pos.File, opts.BaseDir)}}}
		if d.Pos.IsValid() {
			r := &sarifRegion{StartLine: d.Pos.Line, StartColumn: d.Pos.Col}
			if d.Pos.EndLine >= d.Pos.Line && d.Pos.EndLine > 0 {
				r.EndLine = d.Pos.EndLine
				if d.Pos.EndCol > 0 {
					r.EndColumn = d.Pos.EndCol
				}
			}
			loc.PhysicalLocation.Region = r
		} else {
			// GitHub code scanning wants a region: point at the file's start.
			loc.PhysicalLocation.Region = &sarifRegion{StartLine: 1}
		}
		results = append(results, sarifResult{
			RuleID: d.Code, RuleIndex: i, Level: sarifLevel(d.Severity),
			Message: sarifText{msg}, Locations: []sarifLocation{loc},
		})
	}
	log := sarifLog{
		Schema:  "https://json.schemastore.org/sarif-2.1.0.json",
		Version: "2.1.0",
		Runs:    []sarifRun{{Tool: sarifTool{Driver: drv}, Results: results}},
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(log)
}

// sarifURI makes a file name a relative URI with forward slashes, which
// GitHub resolves against the repository root: absolute paths under base
// become relative to it, others file:// URIs.
func sarifURI(file, base string) string {
	if file == "" || file == "-" || file == "<stdin>" {
		return "stdin"
	}
	r := strings.NewReplacer("%", "%25", " ", "%20", "#", "%23", "?", "%3F")
	clean := filepath.Clean(file)
	if filepath.IsAbs(clean) {
		if base != "" {
			if rel, err := filepath.Rel(base, clean); err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
				return r.Replace(filepath.ToSlash(rel))
			}
		}
		return "file://" + r.Replace(filepath.ToSlash(clean))
	}
	return r.Replace(strings.TrimPrefix(filepath.ToSlash(clean), "./"))
}

// writeDiagGitHub writes workflow commands that GitHub Actions turns into
// annotations on the pull request.
func writeDiagGitHub(w io.Writer, diags []compiler.Diagnostic) error {
	var b bytes.Buffer
	for _, d := range diags {
		kind := "notice"
		switch d.Severity {
		case compiler.SeverityError:
			kind = "error"
		case compiler.SeverityWarning:
			kind = "warning"
		}
		props := []string{}
		if d.Pos.File != "" {
			props = append(props, "file="+ghProp(d.Pos.File))
		}
		if d.Pos.IsValid() {
			props = append(props, fmt.Sprintf("line=%d", d.Pos.Line), fmt.Sprintf("col=%d", d.Pos.Col))
			if d.Pos.EndLine > 0 {
				props = append(props, fmt.Sprintf("endLine=%d", d.Pos.EndLine))
				if d.Pos.EndLine == d.Pos.Line && d.Pos.EndCol > 0 {
					props = append(props, fmt.Sprintf("endColumn=%d", d.Pos.EndCol))
				}
			}
		}
		props = append(props, "title="+ghProp(d.Code))
		msg := d.Message
		if d.Suggestion != "" {
			msg += "\nSuggestion: " + d.Suggestion
		}
		fmt.Fprintf(&b, "::%s %s::%s\n", kind, strings.Join(props, ","), ghData(msg))
	}
	_, err := w.Write(b.Bytes())
	return err
}

// ghData escapes a workflow command's message.
func ghData(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A").Replace(s)
}

// ghProp escapes a workflow command's property value.
func ghProp(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A", ":", "%3A", ",", "%2C").Replace(s)
}
