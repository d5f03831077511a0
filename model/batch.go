package model

// Verb is what a batch operation does to its object, as nft's commands say.
type Verb uint8

// The verbs of the nft command language.
const (
	VerbAdd     Verb = iota // add: create, or no-op if it exists (NLM_F_CREATE)
	VerbCreate              // create: fail if it exists (NLM_F_EXCL)
	VerbInsert              // insert (rules): at the start or before Position
	VerbReplace             // replace (rules): the rule with Handle
	VerbDelete              // delete: fail if missing
	VerbDestroy             // destroy: delete, no error if missing
	VerbFlush               // flush: remove contents (rules, elements)
	VerbReset               // reset: zero counters and quotas
)

var verbNames = [...]string{"add", "create", "insert", "replace", "delete", "destroy", "flush", "reset"}

// String returns the verb as nft writes it.
func (v Verb) String() string {
	if int(v) < len(verbNames) {
		return verbNames[v]
	}
	return "unknown"
}

// SetElems adds or deletes elements of an existing set.
type SetElems struct {
	Family   Family
	Table    string
	Set      string
	SetID    uint32 // when the set is created in the same batch
	Elements []SetElem
	Pos      Pos
}

// Ruleset stands for the whole ruleset in "flush ruleset" (Family 0: all).
type Ruleset struct {
	Family Family
	Pos    Pos
}

// Op is one operation of a batch. Obj is one of *Table, *Chain, *Rule,
// *Set, *SetElems, *Flowtable, *Object or *Ruleset.
type Op struct {
	Verb Verb
	Obj  any
	Pos  Pos // the command the operation came from
}

// Batch is an ordered list of operations committed as one transaction.
type Batch struct {
	Ops []Op
}
