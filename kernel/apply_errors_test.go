package kernel

import (
	"context"
	"errors"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/nftflow/nftflow/model"
)

// TestApplyExplainsRefusals provokes the kernel's common refusals and
// checks the errno, the operation blamed and the explanation.
func TestApplyExplainsRefusals(t *testing.T) {
	ns := netnsForTest(t)
	const fam = model.FamilyInet
	base := model.Batch{Ops: []model.Op{
		add(&model.Table{Family: fam, Name: "t"}, 1),
		add(&model.Chain{Family: fam, Table: "t", Name: "a"}, 2),
		add(&model.Chain{Family: fam, Table: "t", Name: "b"}, 3),
		add(&model.Set{Family: fam, Table: "t", Name: "s", ID: 1, KeyType: 7, KeyLen: 4}, 4),
		add(&model.Rule{Family: fam, Table: "t", Chain: "a", Exprs: []model.Expr{
			&model.Payload{DReg: 1, Base: model.BaseNetwork, Offset: 12, Len: 4},
			&model.Lookup{SReg: 1, Set: "s", SetID: 1},
			verdict(nftJump, "b"),
		}}, 5),
		// Loops are detected from base chains: in -> a -> b.
		add(&model.Chain{Family: fam, Table: "t", Name: "in", Hook: &model.ChainHook{Type: "filter", Hooknum: 1}}, 6),
		add(&model.Rule{Family: fam, Table: "t", Chain: "in", Exprs: []model.Expr{verdict(nftJump, "a")}}, 7),
	}}
	if err := Apply(context.Background(), base, Options{NetNS: ns}); err != nil {
		t.Fatalf("Apply base: %v", err)
	}
	cases := []struct {
		name  string
		op    model.Op
		errno unix.Errno // EMLINK is accepted for ELOOP (newer kernels)
		cause string
	}{
		{"create existing table", model.Op{Verb: model.VerbCreate, Obj: &model.Table{Family: fam, Name: "t"}, Pos: pos(10)},
			unix.EEXIST, "already exists"},
		{"delete set in use", model.Op{Verb: model.VerbDelete, Obj: &model.Set{Family: fam, Table: "t", Name: "s"}, Pos: pos(11)},
			unix.EBUSY, "in use"},
		{"jump loop", add(&model.Rule{Family: fam, Table: "t", Chain: "b", Exprs: []model.Expr{verdict(nftJump, "a")}}, 12),
			unix.ELOOP, "loop"},
		{"rule in missing table", add(&model.Rule{Family: fam, Table: "nope", Chain: "a", Exprs: []model.Expr{verdict(nfAccept, "")}}, 13),
			unix.ENOENT, "table nope"},
		{"lookup of missing set", add(&model.Rule{Family: fam, Table: "t", Chain: "a", Exprs: []model.Expr{
			&model.Payload{DReg: 1, Base: model.BaseNetwork, Offset: 12, Len: 4},
			&model.Lookup{SReg: 1, Set: "missing"},
		}}, 14), unix.ENOENT, "set or map missing does not exist"},
	}
	before := nftIn(t, ns, "list", "ruleset")
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := Apply(context.Background(), model.Batch{Ops: []model.Op{c.op}}, Options{NetNS: ns})
			var oe *OpError
			if !errors.As(err, &oe) {
				t.Fatalf("got %v, want an *OpError", err)
			}
			errno := oe.Errno
			if errno == unix.EMLINK && c.errno == unix.ELOOP {
				errno = unix.ELOOP
			}
			if errno != c.errno || oe.Pos() != c.op.Pos || !strings.Contains(oe.Cause, c.cause) {
				t.Errorf("got errno %v at %v cause %q, want %v at %v cause containing %q", oe.Errno, oe.Pos(), oe.Cause, c.errno, c.op.Pos, c.cause)
			}
		})
	}
	if after := nftIn(t, ns, "list", "ruleset"); after != before {
		t.Errorf("refused batches changed the ruleset:\n%s\nwas:\n%s", after, before)
	}
}

// TestApplyFlowtableWithoutKernelSupport runs where the kernel lacks
// flowtables (as the host this was written on): the refusal must say so.
func TestApplyFlowtableWithoutKernelSupport(t *testing.T) {
	ns := netnsForTest(t)
	b := model.Batch{Ops: []model.Op{
		add(&model.Table{Family: model.FamilyInet, Name: "t"}, 1),
		add(&model.Flowtable{Family: model.FamilyInet, Table: "t", Name: "ft", Hooknum: 0, Devices: []string{"lo"}}, 2),
	}}
	err := Apply(context.Background(), b, Options{NetNS: ns})
	if err == nil {
		t.Skip("this kernel supports flowtables")
	}
	var oe *OpError
	if !errors.As(err, &oe) || oe.Errno != unix.ENOENT || oe.Pos().Line != 2 || !strings.Contains(oe.Cause, "no flowtable support") || !strings.Contains(oe.Cause, "CONFIG_NF_FLOW_TABLE") {
		t.Fatalf("got %v, want ENOENT at line 2 saying the kernel has no flowtable support (CONFIG_NF_FLOW_TABLE)", err)
	}
	nd := model.Batch{Ops: []model.Op{
		add(&model.Table{Family: model.FamilyNetdev, Name: "t"}, 1),
		add(&model.Flowtable{Family: model.FamilyNetdev, Table: "t", Name: "ft", Devices: []string{"lo"}}, 2),
	}}
	err = Apply(context.Background(), nd, Options{NetNS: ns})
	if !errors.As(err, &oe) || !strings.Contains(oe.Cause, "only in ip, ip6 and inet tables") {
		t.Fatalf("flowtable in a netdev table: got %v, want the family named as the cause", err)
	}
	// A missing device is not the cause on a kernel without flowtables:
	// the explanation must not send the user looking for it.
	b.Ops[1].Obj.(*model.Flowtable).Devices = []string{"lo", "nosuchdev0"}
	err = Apply(context.Background(), b, Options{NetNS: ns})
	if !errors.As(err, &oe) || !strings.Contains(oe.Cause, "no flowtable support") {
		t.Fatalf("got %v, want the missing kernel support named", err)
	}
}

// TestExplainHardwareOffloadNamesDevices: EOPNOTSUPP on a flowtable with
// flags offload names the devices without hw-tc-offload (lo has none).
func TestExplainHardwareOffloadNamesDevices(t *testing.T) {
	ns := netnsForTest(t)
	oe := &OpError{Index: 1, Elem: -1, Expr: -1, Errno: unix.EOPNOTSUPP, Op: model.Op{Verb: model.VerbAdd,
		Obj: &model.Flowtable{Family: model.FamilyInet, Table: "t", Name: "ft", Devices: []string{"lo"}, Flags: model.FlowtableHWOffload}}}
	got := explain(oe, netnsDeviceProbe(ns))
	if !strings.Contains(got, "device lo cannot do hardware flow offload") || !strings.Contains(got, "--offload-fallback") {
		t.Errorf("explain = %q, want lo named and --offload-fallback suggested", got)
	}
	if got := explain(oe, nil); !strings.Contains(got, "a device of lo") {
		t.Errorf("explain without a probe = %q", got)
	}
}
