package cmd

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/nftflow/nftflow/compiler"
	"github.com/nftflow/nftflow/kernel"
	"github.com/nftflow/nftflow/model"
	"github.com/nftflow/nftflow/parser"
	"github.com/nftflow/nftflow/plan"
)

// fakeKernel refuses, with EOPNOTSUPP, every flowtable of the batch that
// still has `flags offload` and lists a device of noHW: what the kernel
// answers when a driver lacks ndo_setup_tc.
func fakeKernel(b model.Batch, noHW ...string) error {
	var oes kernel.OpErrors
	for i, op := range b.Ops {
		ft, ok := op.Obj.(*model.Flowtable)
		if !ok || ft.Flags&model.FlowtableHWOffload == 0 {
			continue
		}
		for _, d := range ft.Devices {
			if containsString(noHW, d) {
				oes = append(oes, &kernel.OpError{Op: op, Index: i, Expr: -1, Elem: -1, Errno: unix.EOPNOTSUPP})
				break
			}
		}
	}
	if len(oes) == 0 {
		return nil
	}
	return oes
}

func offloadBatch() model.Batch {
	ft := func(table, name string, devs ...string) *model.Flowtable {
		return &model.Flowtable{Family: model.FamilyInet, Table: table, Name: name, Devices: devs,
			Flags: model.FlowtableHWOffload | model.FlowtableCounter, Pos: model.Pos{File: "r.nft", Line: 3, Col: 2}}
	}
	return model.Batch{Ops: []model.Op{
		{Verb: model.VerbAdd, Obj: &model.Table{Family: model.FamilyInet, Name: "a"}},
		{Verb: model.VerbAdd, Obj: ft("a", "ft", "veth0")},
		{Verb: model.VerbAdd, Obj: ft("a", "ft", "veth1")}, // the same flowtable, more devices
		{Verb: model.VerbAdd, Obj: &model.Table{Family: model.FamilyInet, Name: "b"}},
		{Verb: model.VerbAdd, Obj: ft("b", "ft", "eth0")}, // same name, other table: can offload
	}}
}

func TestStripOffloadOnlyTheRefusedFlowtables(t *testing.T) {
	b := offloadBatch()
	refused := []*model.Flowtable{{Family: model.FamilyInet, Table: "a", Name: "ft"}}
	if n := stripOffload(batchFlowtables(b), refused); n != 2 {
		t.Errorf("stripOffload changed %d flowtables, want 2 (both declarations of inet a ft)", n)
	}
	for _, ft := range batchFlowtables(b) {
		hw := ft.Flags&model.FlowtableHWOffload != 0
		if hw != (ft.Table == "b") {
			t.Errorf("flowtable %s %s: offload=%v after the fallback", ft.Table, ft.Name, hw)
		}
		if ft.Flags&model.FlowtableCounter == 0 {
			t.Errorf("flowtable %s %s lost its counter flag", ft.Table, ft.Name)
		}
	}
}

func TestSendWithOffloadFallback(t *testing.T) {
	t.Run("retries in software", func(t *testing.T) {
		b := offloadBatch()
		var w bytes.Buffer
		sends := 0
		err := sendWithOffloadFallback(true, &w,
			func() error { sends++; return fakeKernel(b, "veth1") },
			func(r []*model.Flowtable) { stripOffload(batchFlowtables(b), r) })
		if err != nil || sends != 2 {
			t.Fatalf("err %v after %d sends, want success on the second", err, sends)
		}
		if !strings.Contains(w.String(), "r.nft:3:2: warning: devices of flowtable ft cannot do hardware offload; applying it in software") {
			t.Errorf("no positioned warning: %q", w.String())
		}
		for _, ft := range batchFlowtables(b) {
			// veth1 was refused in the second declaration of a/ft: both
			// declarations go to software, b/ft keeps the flag.
			if hw := ft.Flags&model.FlowtableHWOffload != 0; hw != (ft.Table == "b") {
				t.Errorf("flowtable %s %s %v: offload=%v after the fallback", ft.Table, ft.Name, ft.Devices, hw)
			}
		}
	})
	t.Run("off", func(t *testing.T) {
		b := offloadBatch()
		sends := 0
		err := sendWithOffloadFallback(false, &bytes.Buffer{},
			func() error { sends++; return fakeKernel(b, "veth0") },
			func(r []*model.Flowtable) { stripOffload(batchFlowtables(b), r) })
		var oes kernel.OpErrors
		if !errors.As(err, &oes) || sends != 1 {
			t.Fatalf("without --offload-fallback: err %v after %d sends, want the refusal after 1", err, sends)
		}
	})
	t.Run("other refusals are not retried", func(t *testing.T) {
		sends := 0
		enoent := kernel.OpErrors{{Op: model.Op{Obj: &model.Flowtable{Name: "ft", Flags: model.FlowtableHWOffload}}, Errno: unix.ENOENT}}
		err := sendWithOffloadFallback(true, &bytes.Buffer{}, func() error { sends++; return enoent }, func([]*model.Flowtable) { t.Error("strip called for ENOENT") })
		if err == nil || sends != 1 {
			t.Fatalf("ENOENT: err %v after %d sends", err, sends)
		}
	})
	t.Run("stops when stripping does not help", func(t *testing.T) {
		b := offloadBatch()
		sends := 0
		err := sendWithOffloadFallback(true, &bytes.Buffer{},
			func() error { sends++; return fakeKernel(b, "veth0") },
			func([]*model.Flowtable) {}) // forgets to strip
		if err == nil || sends != 2 {
			t.Fatalf("err %v after %d sends, want the refusal after 2", err, sends)
		}
	})
}

// TestDeclarativeFallbackReplans: the declarative path strips the flag
// from the desired tables and plans again; the new plan creates the
// flowtable in software.
func TestDeclarativeFallbackReplans(t *testing.T) {
	f, err := parser.ParseString("r.nft", "table inet fw {\n\tflowtable ft {\n\t\thook ingress priority 0; devices = { v0 }\n\t\tflags offload\n\t}\n}\n")
	if err != nil {
		t.Fatal(err)
	}
	b, err := compiler.Compile(f)
	if err != nil {
		t.Fatal(err)
	}
	desired, err := plan.FromBatch(*b)
	if err != nil {
		t.Fatal(err)
	}
	sends := 0
	var sent model.Batch
	err = sendWithOffloadFallback(true, &bytes.Buffer{},
		func() error {
			sends++
			sent = plan.Make(desired, nil, plan.Options{}).Batch
			return fakeKernel(sent, "v0")
		},
		func(r []*model.Flowtable) { stripOffload(desiredFlowtables(desired), r) })
	if err != nil || sends != 2 {
		t.Fatalf("err %v after %d sends", err, sends)
	}
	fts := batchFlowtables(sent)
	if len(fts) != 1 || fts[0].Flags&model.FlowtableHWOffload != 0 || fts[0].Devices[0] != "v0" {
		t.Errorf("second plan's flowtables: %+v, want ft on v0 without flags offload", fts)
	}
}
