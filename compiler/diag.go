package compiler

import (
	"fmt"

	"github.com/nftflow/nftflow/model"
)

// Severity orders diagnostics.
type Severity int

// Severities, least to most severe.
const (
	SeverityInfo Severity = iota
	SeverityWarning
	SeverityError
)

// String returns "info", "warning" or "error".
func (s Severity) String() string {
	switch s {
	case SeverityError:
		return "error"
	case SeverityWarning:
		return "warning"
	}
	return "info"
}

// Diagnostic is one finding of a check: a stable code (e.g. "NF1001"), a
// severity, a source position and a message that says what to do.
type Diagnostic struct {
	Code     string
	Severity Severity
	Pos      model.Pos
	Message  string
	// Suggestion, when not empty, is replacement text the user can paste
	// (for example a corrected "devices = { ... }" line).
	Suggestion string
}

// Error formats the diagnostic as "file:line:col: severity: message [code]".
func (d Diagnostic) Error() string {
	return fmt.Sprintf("%s:%d:%d: %s: %s [%s]", d.Pos.File, d.Pos.Line, d.Pos.Col, d.Severity, d.Message, d.Code)
}
