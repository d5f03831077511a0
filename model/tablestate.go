package model

// TableState is one table with everything in it: the unit a declarative
// apply compares, whether compiled from a file or read from the kernel.
type TableState struct {
	Table  *Table
	Chains []*Chain
	// Rules holds each chain's rules in chain order, keyed by chain name.
	Rules      map[string][]*Rule
	Sets       []*Set // named and anonymous, with their elements
	Flowtables []*Flowtable
	Objects    []*Object
}

// Snapshot is the state of some tables read at one ruleset generation.
type Snapshot struct {
	// GenID is the ruleset generation the tables were read at; a batch
	// planned from the snapshot is sent guarded by it.
	GenID  uint32
	Tables []*TableState
}
