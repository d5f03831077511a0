package kernel_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/nftflow/nftflow/kernel"
	"github.com/nftflow/nftflow/model"
)

// Apply sends a batch as one transaction; a refusal names the operation
// and its source position.
func ExampleApply() {
	pos := model.Pos{File: "ruleset.nft", Line: 1, Col: 1}
	b := model.Batch{Ops: []model.Op{
		{Verb: model.VerbAdd, Pos: pos, Obj: &model.Table{Family: model.FamilyInet, Name: "filter"}},
		{Verb: model.VerbAdd, Pos: model.Pos{File: "ruleset.nft", Line: 2, Col: 2}, Obj: &model.Chain{
			Family: model.FamilyInet, Table: "filter", Name: "input",
			Hook: &model.ChainHook{Type: "filter", Hooknum: 1 /* input */, Priority: 0},
		}},
	}}
	err := kernel.Apply(context.Background(), b, kernel.Options{NetNS: "lab", Check: true})
	var oe *kernel.OpError
	if errors.As(err, &oe) {
		p := oe.Pos()
		fmt.Printf("%s:%d:%d: %v\n", p.File, p.Line, p.Col, oe)
	}
}
