package compiler

import "sort"

// CodeInfo describes one diagnostic code of `nftflow lint`: the catalogue
// behind docs/codes.md and the SARIF rules list.
type CodeInfo struct {
	Code     string   // "NF101"
	Name     string   // "undefined-flowtable": a short slug
	Severity Severity // the severity the check reports
	Short    string   // one-line description
}

// Diagnostic codes. Stable: once published a code keeps its meaning; a
// retired check leaves a hole. NF0xx input, NF1xx references, NF2xx
// flowtables, NF3xx types and context, NF4xx dead code.
const (
	CodeSyntax  = "NF001" // the parser rejected the input
	CodeInclude = "NF002" // an include could not be resolved or read

	CodeUndefinedFlowtable = "NF101"
	CodeUndefinedSet       = "NF102"
	CodeUndefinedObject    = "NF103"
	CodeUndefinedChain     = "NF104"
	CodeJumpLoop           = "NF105"
	CodeUndefinedVariable  = "NF106"
	CodeDuplicate          = "NF107"
	CodeUndefinedTable     = "NF108"
	CodeDuplicateElement   = "NF109"
	CodeOverlap            = "NF110"

	CodeFlowNotForward     = "NF201"
	CodeFlowtableFamily    = "NF202"
	CodeFlowtableHook      = "NF203"
	CodeFlowtablePriority  = "NF204"
	CodeFlowtableNoDevices = "NF205"
	CodeBypassedStatement  = "NF210"
	CodeFlowNotL4          = "NF211"
	CodeUnusedFlowtable    = "NF212"
	CodeFlowtableDevDup    = "NF213"
	CodeFlowtableDevShared = "NF214"
	CodeFlowAfterAccept    = "NF215"

	CodeAddressFamily   = "NF301"
	CodePortRange       = "NF302"
	CodeReversedRange   = "NF303"
	CodePrefixLength    = "NF304"
	CodeElementType     = "NF305"
	CodeUnknownConstant = "NF306"
	CodeStatementHook   = "NF307"
	CodeValueRange      = "NF308"
	CodeChainType       = "NF309"
	CodeInvalidExpr     = "NF310"

	CodeUnreachableRule = "NF401"
	CodeUnusedChain     = "NF402"
	CodeUnusedSet       = "NF403"
	CodeAfterTerminal   = "NF404"
)

// codeTable returns the catalogue; keep docs/codes.md in step (a test
// checks). A function, not a variable: no package-level mutable state.
func codeTable() []CodeInfo {
	return []CodeInfo{
		{CodeSyntax, "syntax-error", SeverityError, "The ruleset does not parse"},
		{CodeInclude, "include-error", SeverityError, "An include file cannot be found or read"},

		{CodeUndefinedFlowtable, "undefined-flowtable", SeverityError, "flow add @ft names a flowtable the table does not declare"},
		{CodeUndefinedSet, "undefined-set", SeverityError, "@name refers to a set or map the table does not declare"},
		{CodeUndefinedObject, "undefined-object", SeverityError, "A named object (counter, quota, limit, ct helper, ...) is used but not declared"},
		{CodeUndefinedChain, "undefined-chain", SeverityError, "jump or goto names a chain the table does not declare"},
		{CodeJumpLoop, "jump-loop", SeverityError, "Chains jump to each other in a cycle"},
		{CodeUndefinedVariable, "undefined-variable", SeverityError, "$name is used but never defined"},
		{CodeDuplicate, "conflicting-declaration", SeverityError, "An object is declared twice in one table with different properties"},
		{CodeUndefinedTable, "undefined-table", SeverityError, "A command refers to a table the ruleset does not declare"},
		{CodeDuplicateElement, "duplicate-element", SeverityWarning, "A set or map lists the same element twice"},
		{CodeOverlap, "overlapping-intervals", SeverityError, "Two ranges of one map overlap"},

		{CodeFlowNotForward, "flow-add-not-forward", SeverityError, "flow add used outside a chain hooked at forward"},
		{CodeFlowtableFamily, "flowtable-family", SeverityError, "Flowtable declared in a family other than ip, ip6 or inet"},
		{CodeFlowtableHook, "flowtable-hook", SeverityError, "Flowtable hook is not ingress"},
		{CodeFlowtablePriority, "flowtable-priority", SeverityError, "Flowtable priority is missing or not one nft accepts"},
		{CodeFlowtableNoDevices, "flowtable-no-devices", SeverityWarning, "Flowtable lists no devices, so it offloads nothing"},
		{CodeBypassedStatement, "bypassed-after-flow-add", SeverityWarning, "A statement after flow add does not see offloaded packets"},
		{CodeFlowNotL4, "flow-add-not-l4", SeverityWarning, "flow add not restricted to tcp and udp, the only protocols the kernel offloads"},
		{CodeUnusedFlowtable, "unused-flowtable", SeverityWarning, "A flowtable no rule adds flows to"},
		{CodeFlowtableDevDup, "flowtable-duplicate-device", SeverityWarning, "A flowtable lists the same device twice"},
		{CodeFlowtableDevShared, "flowtable-shared-device", SeverityError, "A device is listed in two flowtables of one table"},
		{CodeFlowAfterAccept, "flow-add-after-established-accept", SeverityWarning, "flow add comes after a rule that accepts established packets, so it never offloads"},

		{CodeAddressFamily, "address-family", SeverityError, "An IPv4 address where IPv6 is expected, or the reverse"},
		{CodePortRange, "port-range", SeverityError, "A port outside 0-65535"},
		{CodeReversedRange, "reversed-range", SeverityError, "A range whose low end is above its high end"},
		{CodePrefixLength, "prefix-length", SeverityError, "A prefix longer than the address"},
		{CodeElementType, "element-type", SeverityError, "A set element of the wrong type"},
		{CodeUnknownConstant, "unknown-constant", SeverityError, "An unknown symbolic constant (ct state, icmp type, service name, ...)"},
		{CodeStatementHook, "statement-hook", SeverityError, "A statement not allowed in this chain's type or hook"},
		{CodeValueRange, "value-range", SeverityError, "A number out of range for the field it is compared with"},
		{CodeInvalidExpr, "invalid-expression", SeverityError, "An expression or option combination nft refuses in this position"},
		{CodeChainType, "chain-type", SeverityError, "A base chain type, hook or priority name the family does not support"},

		{CodeUnreachableRule, "unreachable-rule", SeverityWarning, "A rule after an unconditional verdict can never match"},
		{CodeUnusedChain, "unused-chain", SeverityWarning, "A regular chain that no jump or goto reaches"},
		{CodeUnusedSet, "unused-set", SeverityInfo, "A named set or map that no rule uses"},
		{CodeAfterTerminal, "statement-after-terminal", SeverityError, "A statement after a verdict, reject, queue or NAT in the same rule"},
	}
}

// Codes returns the catalogue of diagnostic codes sorted by code: the
// checks of `nftflow lint` and the topology checks of `--system`.
func Codes() []CodeInfo {
	out := append(codeTable(), TopologyCodes()...)
	sort.Slice(out, func(i, j int) bool { return out[i].Code < out[j].Code })
	return out
}

// LookupCode returns the catalogue entry for code.
func LookupCode(code string) (CodeInfo, bool) {
	for _, c := range Codes() {
		if c.Code == code {
			return c, true
		}
	}
	return CodeInfo{}, false
}
