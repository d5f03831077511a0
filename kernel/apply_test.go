package kernel

import (
	"context"
	"encoding/binary"
	"errors"
	"net/netip"
	"os/exec"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/nftflow/nftflow/model"
)

// Hand-built expressions for the integration tests (what the compiler
// emits for the same nft text, per `nft --debug=netlink`).

func be16(v uint16) []byte { return binary.BigEndian.AppendUint16(nil, v) }

func ip4(s string) []byte { a := netip.MustParseAddr(s).As4(); return a[:] }

// ipSaddr: "ip saddr ADDR" in an ip-family table.
func ipSaddr(addr string) []model.Expr {
	return []model.Expr{
		&model.Payload{DReg: 1, Base: model.BaseNetwork, Offset: 12, Len: 4},
		&model.Cmp{SReg: 1, Op: 0, Data: ip4(addr)},
	}
}

// tcpDport: "tcp dport PORT".
func tcpDport(p uint16) []model.Expr {
	return []model.Expr{
		&model.Meta{Key: 16 /* l4proto */, DReg: 1},
		&model.Cmp{SReg: 1, Op: 0, Data: []byte{6}},
		&model.Payload{DReg: 1, Base: model.BaseTransport, Offset: 2, Len: 2},
		&model.Cmp{SReg: 1, Op: 0, Data: be16(p)},
	}
}

func verdict(code int32, chain string) *model.Immediate {
	return &model.Immediate{DReg: 0, Verdict: &model.Verdict{Code: code, Chain: chain}}
}

const (
	nfDrop   int32 = 0
	nfAccept int32 = 1
	nftJump  int32 = -3
)

func concatExprs(xs ...[]model.Expr) []model.Expr {
	var out []model.Expr
	for _, x := range xs {
		out = append(out, x...)
	}
	return out
}

func pos(line int) model.Pos { return model.Pos{File: "test.nft", Line: line, Col: 1} }

func u32p(v uint32) *uint32 { return &v }

func nftIn(t *testing.T, ns string, args ...string) string {
	t.Helper()
	if _, err := exec.LookPath("nft"); err != nil {
		t.Skip("needs nft to judge the result")
	}
	out, err := exec.Command("ip", append([]string{"netns", "exec", ns, "nft"}, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("nft %s: %v: %s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

func add(obj any, line int) model.Op { return model.Op{Verb: model.VerbAdd, Obj: obj, Pos: pos(line)} }

// sampleBatch covers tables, base and regular chains with a policy, rules
// with payload/meta/cmp/immediate/counter/lookup, a named set, an interval
// set, a verdict map and a named counter.
func sampleBatch() model.Batch {
	const fam = model.FamilyIP
	return model.Batch{Ops: []model.Op{
		add(&model.Table{Family: fam, Name: "t"}, 1),
		add(&model.Chain{Family: fam, Table: "t", Name: "input",
			Hook:   &model.ChainHook{Type: "filter", Hooknum: 1, Priority: 0},
			Policy: u32p(0)}, 2),
		add(&model.Chain{Family: fam, Table: "t", Name: "other"}, 3),
		add(&model.Set{Family: fam, Table: "t", Name: "admins", ID: 1,
			KeyType: 7, KeyLen: 4,
			Elements: []model.SetElem{{Key: ip4("10.0.0.1")}, {Key: ip4("10.0.0.2")}}}, 4),
		add(&model.Set{Family: fam, Table: "t", Name: "nets", ID: 2,
			Flags: 0x4, KeyType: 7, KeyLen: 4,
			Elements: []model.SetElem{
				{Key: ip4("0.0.0.0"), Flags: 1},
				{Key: ip4("192.168.0.0")}, {Key: ip4("192.168.1.0"), Flags: 1},
			}}, 5),
		add(&model.Set{Family: fam, Table: "t", Name: "ports", ID: 3,
			Flags: 0x8, KeyType: 13, KeyLen: 2, DataType: 0xffffff00,
			Elements: []model.SetElem{
				{Key: be16(22), Verdict: &model.Verdict{Code: nfAccept}},
				{Key: be16(80), Verdict: &model.Verdict{Code: nftJump, Chain: "other"}},
			}}, 6),
		add(&model.Object{Family: fam, Table: "t", Name: "hits", Type: objCounter, Data: &model.Counter{}}, 7),
		add(&model.Rule{Family: fam, Table: "t", Chain: "input",
			Exprs: concatExprs(ipSaddr("10.0.0.1"), tcpDport(22), []model.Expr{&model.Counter{}, verdict(nfAccept, "")})}, 8),
		add(&model.Rule{Family: fam, Table: "t", Chain: "input",
			Exprs: []model.Expr{
				&model.Payload{DReg: 1, Base: model.BaseNetwork, Offset: 12, Len: 4},
				&model.Lookup{SReg: 1, Set: "admins", SetID: 1},
				verdict(nfAccept, ""),
			}}, 9),
		add(&model.Rule{Family: fam, Table: "t", Chain: "input",
			Exprs: []model.Expr{
				&model.Meta{Key: 16, DReg: 1},
				&model.Cmp{SReg: 1, Op: 0, Data: []byte{6}},
				&model.Payload{DReg: 1, Base: model.BaseTransport, Offset: 2, Len: 2},
				&model.Lookup{SReg: 1, DReg: 0, HasDReg: true, Set: "ports", SetID: 3},
			}}, 10),
		add(&model.Rule{Family: fam, Table: "t", Chain: "other",
			Exprs: []model.Expr{&model.Objref{Type: objCounter, Name: "hits"}, verdict(nfDrop, "")}}, 11),
	}}
}

const sampleListing = `table ip t {
	counter hits {
		packets 0 bytes 0
	}

	set admins {
		type ipv4_addr
		elements = { 10.0.0.1, 10.0.0.2 }
	}

	set nets {
		type ipv4_addr
		flags interval
		elements = { 192.168.0.0/24 }
	}

	map ports {
		type inet_service : verdict
		elements = { 22 : accept, 80 : jump other }
	}

	chain input {
		type filter hook input priority filter; policy drop;
		ip saddr 10.0.0.1 tcp dport 22 counter packets 0 bytes 0 accept
		ip saddr @admins accept
		tcp dport vmap @ports
	}

	chain other {
		counter name "hits" drop
	}
}
`

func TestApplySampleMatchesNftListing(t *testing.T) {
	ns := netnsForTest(t)
	if err := Apply(context.Background(), sampleBatch(), Options{NetNS: ns}); err != nil {
		t.Fatalf("Apply: %v", err)
	}
	got := nftIn(t, ns, "list", "ruleset")
	if got != sampleListing {
		t.Errorf("nft list ruleset:\n%s\nwant:\n%s", got, sampleListing)
	}
}

func TestApplyCheckLeavesNothing(t *testing.T) {
	ns := netnsForTest(t)
	if err := Apply(context.Background(), sampleBatch(), Options{NetNS: ns, Check: true}); err != nil {
		t.Fatalf("Apply check: %v", err)
	}
	if got := nftIn(t, ns, "list", "ruleset"); got != "" {
		t.Errorf("check mode changed the ruleset:\n%s", got)
	}
	// Check mode still reports what the kernel refuses.
	b := sampleBatch()
	b.Ops = append(b.Ops, add(&model.Rule{Family: model.FamilyIP, Table: "t", Chain: "nosuchchain",
		Exprs: []model.Expr{verdict(nfAccept, "")}}, 42))
	err := Apply(context.Background(), b, Options{NetNS: ns, Check: true})
	var oe *OpError
	if !errors.As(err, &oe) || oe.Errno != unix.ENOENT || oe.Pos().Line != 42 {
		t.Fatalf("check of a rule in a missing chain: got %v, want ENOENT at line 42", err)
	}
}

func TestApplyRefusedLastRuleChangesNothing(t *testing.T) {
	ns := netnsForTest(t)
	nftIn(t, ns, "add table inet keep; add chain inet keep c { type filter hook forward priority 0; }; add rule inet keep c counter accept")
	before := nftIn(t, ns, "list", "ruleset")

	b := sampleBatch()
	// The last rule jumps to a chain that does not exist.
	bad := &model.Rule{Family: model.FamilyIP, Table: "t", Chain: "input",
		Exprs:   []model.Expr{&model.Counter{}, verdict(nftJump, "nowhere")},
		ExprPos: []model.Pos{{File: "test.nft", Line: 99, Col: 3}, {File: "test.nft", Line: 99, Col: 11}}}
	b.Ops = append(b.Ops, model.Op{Verb: model.VerbAdd, Obj: bad, Pos: pos(99)})
	err := Apply(context.Background(), b, Options{NetNS: ns})
	if err == nil {
		t.Fatal("Apply of a rule jumping to a missing chain succeeded")
	}
	var oe *OpError
	if !errors.As(err, &oe) {
		t.Fatalf("error %T %v is not an *OpError", err, err)
	}
	if oe.Op.Obj != bad || oe.Pos().Line != 99 || oe.Index != len(b.Ops)-1 {
		t.Errorf("error points at op %d (%s) line %d, want the last rule at line 99", oe.Index, Describe(oe.Op), oe.Pos().Line)
	}
	if oe.Errno != unix.ENOENT {
		t.Errorf("errno %v, want ENOENT", oe.Errno)
	}
	if after := nftIn(t, ns, "list", "ruleset"); after != before {
		t.Errorf("a refused batch changed the ruleset:\nbefore:\n%s\nafter:\n%s", before, after)
	}
	t.Logf("error: %v", err)
}

func TestApplyDetectsConcurrentChange(t *testing.T) {
	ns := netnsForTest(t)
	b := model.Batch{Ops: []model.Op{add(&model.Table{Family: model.FamilyIP, Name: "mine"}, 1)}}

	// Another program changes the ruleset once: Apply re-reads and succeeds.
	n := 0
	opts := Options{NetNS: ns, beforeSend: func(attempt int) error {
		if attempt == 0 {
			n++
			nftIn(t, ns, "add", "table", "ip", "theirs")
		}
		return nil
	}}
	if err := Apply(context.Background(), b, opts); err != nil {
		t.Fatalf("Apply after one concurrent change: %v", err)
	}
	if n != 1 {
		t.Fatalf("hook ran %d times", n)
	}
	got := nftIn(t, ns, "list", "tables")
	if !strings.Contains(got, "table ip mine") || !strings.Contains(got, "table ip theirs") {
		t.Fatalf("tables after retry: %s", got)
	}

	// It changes it before every attempt: Apply gives up cleanly.
	b2 := model.Batch{Ops: []model.Op{add(&model.Table{Family: model.FamilyIP, Name: "mine2"}, 1)}}
	i := 0
	opts.beforeSend = func(int) error {
		i++
		nftIn(t, ns, "add", "table", "ip", "theirs"+string(rune('a'+i)))
		return nil
	}
	err := Apply(context.Background(), b2, opts)
	if !errors.Is(err, ErrGenerationChanged) {
		t.Fatalf("Apply under constant concurrent change: %v, want ErrGenerationChanged", err)
	}
	if strings.Contains(nftIn(t, ns, "list", "tables"), "mine2") {
		t.Error("the refused batch was committed")
	}
}

// TestApplyChainBinding sends an anonymous chain bound to a jump (nft's
// "jump { ... }"), referred to by ID only, and compares nft's listing of
// the same ruleset loaded by nft itself.
func TestApplyChainBinding(t *testing.T) {
	ns := netnsForTest(t)
	peer := netnsForTest(t)
	nftIn(t, peer, "add table ip t; add chain ip t c; add rule ip t c jump { counter accept; }")
	const fam = model.FamilyIP
	b := model.Batch{Ops: []model.Op{
		add(&model.Table{Family: fam, Name: "t"}, 1),
		add(&model.Chain{Family: fam, Table: "t", Name: "c"}, 2),
		add(&model.Chain{Family: fam, Table: "t", Flags: 0x4 /* binding */, ID: 1}, 3),
		add(&model.Rule{Family: fam, Table: "t", ChainID: 1, Exprs: []model.Expr{&model.Counter{}, verdict(nfAccept, "")}}, 3),
		add(&model.Rule{Family: fam, Table: "t", Chain: "c", Exprs: []model.Expr{
			&model.Immediate{Verdict: &model.Verdict{Code: nftJump, ChainID: 1}}}}, 3),
	}}
	if err := Apply(context.Background(), b, Options{NetNS: ns}); err != nil {
		t.Fatalf("Apply: %v", err)
	}
	if got, want := nftIn(t, ns, "list", "ruleset"), nftIn(t, peer, "list", "ruleset"); got != want {
		t.Errorf("nft list ruleset:\n%s\nwant (nft's own):\n%s", got, want)
	}
}

// TestApplyTCPOptionReset: "reset tcp option" is an exthdr expression
// with no register at all, which the kernel requires.
func TestApplyTCPOptionReset(t *testing.T) {
	ns := netnsForTest(t)
	peer := netnsForTest(t)
	nftIn(t, peer, "add table ip t; add chain ip t c; add rule ip t c reset tcp option maxseg")
	b := model.Batch{Ops: []model.Op{
		add(&model.Table{Family: model.FamilyIP, Name: "t"}, 1),
		add(&model.Chain{Family: model.FamilyIP, Table: "t", Name: "c"}, 2),
		add(&model.Rule{Family: model.FamilyIP, Table: "t", Chain: "c", Exprs: []model.Expr{
			&model.Exthdr{Type: 2, Op: model.ExthdrTCPOpt}}}, 3),
	}}
	if err := Apply(context.Background(), b, Options{NetNS: ns}); err != nil {
		t.Fatalf("Apply: %v", err)
	}
	if got, want := nftIn(t, ns, "list", "ruleset"), nftIn(t, peer, "list", "ruleset"); got != want {
		t.Errorf("nft list ruleset:\n%s\nwant (nft's own):\n%s", got, want)
	}
}
