package kernel

import (
	"context"
	"encoding/binary"
	"errors"
	"strings"
	"testing"

	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"
	"time"

	"github.com/nftflow/nftflow/model"
)

// bigRuleBatch builds a table with one chain of n rules
// "ip saddr 10.A.B.C tcp dport P counter accept".
func bigRuleBatch(n int) model.Batch {
	const fam = model.FamilyIP
	ops := make([]model.Op, 0, n+2)
	ops = append(ops,
		add(&model.Table{Family: fam, Name: "big"}, 1),
		add(&model.Chain{Family: fam, Table: "big", Name: "input",
			Hook: &model.ChainHook{Type: "filter", Hooknum: 1}}, 2))
	for i := 0; i < n; i++ {
		addr := []byte{10, byte(i >> 16), byte(i >> 8), byte(i)}
		ops = append(ops, add(&model.Rule{Family: fam, Table: "big", Chain: "input",
			Exprs: []model.Expr{
				&model.Payload{DReg: 1, Base: model.BaseNetwork, Offset: 12, Len: 4},
				&model.Cmp{SReg: 1, Data: addr},
				&model.Meta{Key: 16, DReg: 1},
				&model.Cmp{SReg: 1, Data: []byte{6}},
				&model.Payload{DReg: 1, Base: model.BaseTransport, Offset: 2, Len: 2},
				&model.Cmp{SReg: 1, Data: be16(uint16(1024 + i%60000))},
				&model.Counter{},
				verdict(nfAccept, ""),
			}}, 3+i))
	}
	return model.Batch{Ops: ops}
}

// bigIntervalSet builds an interval set of n disjoint ranges
// 10.x.y.z/31 style (two addresses each, one address apart).
func bigIntervalSet(n int) model.Batch {
	const fam = model.FamilyIP
	els := make([]model.SetElem, 0, 2*n+1)
	els = append(els, model.SetElem{Key: []byte{0, 0, 0, 0}, Flags: 1})
	for i := 0; i < n; i++ {
		start := uint32(10<<24) + uint32(i)*4
		els = append(els,
			model.SetElem{Key: binary.BigEndian.AppendUint32(nil, start)},
			model.SetElem{Key: binary.BigEndian.AppendUint32(nil, start+2), Flags: 1})
	}
	return model.Batch{Ops: []model.Op{
		add(&model.Table{Family: fam, Name: "bigset"}, 1),
		add(&model.Set{Family: fam, Table: "bigset", Name: "nets", ID: 1, Flags: 0x4,
			KeyType: 7, KeyLen: 4, Elements: els}, 2),
	}}
}

func TestApplyLargeBatches(t *testing.T) {
	if testing.Short() {
		t.Skip("large batches take seconds")
	}
	ns := netnsForTest(t)

	// Without its table every one of 100,001 messages is refused: every
	// refusal must arrive (no ENOBUFS on the receive side either).
	noTable := bigRuleBatch(100000)
	noTable.Ops = noTable.Ops[1:]
	err := Apply(context.Background(), noTable, Options{NetNS: ns})
	if oes, ok := err.(OpErrors); !ok || len(oes) != len(noTable.Ops) || oes[len(oes)-1].Index != len(noTable.Ops)-1 {
		t.Fatalf("applying 100,001 refused operations: got %T (%d errors?), want one *OpError per operation", err, len(oes))
	}
	start := time.Now()
	if err := Apply(context.Background(), bigRuleBatch(100000), Options{NetNS: ns}); err != nil {
		t.Fatalf("Apply 100000 rules: %v", err)
	}
	t.Logf("100000 rules: %v", time.Since(start))
	out := nftIn(t, ns, "-a", "list", "chain", "ip", "big", "input")
	if n := strings.Count(out, " accept # handle "); n != 100000 {
		t.Errorf("chain has %d rules, want 100000", n)
	}
	if !strings.Contains(out, "ip saddr 10.1.134.159 tcp dport 41023 counter packets 0 bytes 0 accept") {
		t.Error("rule 99999 missing or different")
	}
	start = time.Now()
	if err := Apply(context.Background(), bigIntervalSet(1000000), Options{NetNS: ns}); err != nil {
		t.Fatalf("Apply a 1000000-interval set: %v", err)
	}
	t.Logf("1000000 intervals: %v", time.Since(start))
	// Listing a million-element rbtree set takes the kernel minutes (each
	// dump continuation re-walks the tree), and so does nft get element:
	// probe elements with single-element GETSETELEM requests, and compare
	// every element of a 100,000-interval set below.
	for _, probe := range []struct {
		addr string
		in   bool
	}{{"10.0.0.1", true}, {"10.61.8.253", true}, {"10.61.8.254", false}, {"10.61.9.1", false}, {"9.255.255.255", false}, {"10.61.9.4", false}} {
		if got := hasElem(t, ns, "bigset", "nets", ip4(probe.addr)); got != probe.in {
			t.Errorf("element %s in the million-interval set: %v, want %v", probe.addr, got, probe.in)
		}
	}
	if err := Apply(context.Background(), model.Batch{Ops: []model.Op{{Verb: model.VerbDelete, Obj: &model.Table{Family: model.FamilyIP, Name: "bigset"}}}}, Options{NetNS: ns}); err != nil {
		t.Fatalf("delete table bigset: %v", err)
	}
	const n = 100000
	if err := Apply(context.Background(), bigIntervalSet(n), Options{NetNS: ns}); err != nil {
		t.Fatalf("Apply a %d-interval set: %v", n, err)
	}
	got := dumpElemKeys(t, ns, "bigset", "nets")
	want := bigIntervalSet(n).Ops[1].Obj.(*model.Set).Elements
	seen := make(map[[5]byte]int, len(want))
	for _, e := range want {
		var k [5]byte
		copy(k[:4], e.Key)
		k[4] = byte(e.Flags & 1)
		seen[k]++
	}
	for _, k := range got {
		seen[k]--
	}
	bad := 0
	for _, c := range seen {
		if c != 0 {
			bad++
		}
	}
	if len(got) != len(want) || bad != 0 {
		t.Errorf("kernel holds %d elements, want %d; %d keys differ", len(got), len(want), bad)
	}
}

// dumpElemKeys returns the 4-byte keys (and the interval-end flag in the
// 5th byte) of every element of an ip-family set.
func dumpElemKeys(t *testing.T, ns, table, set string) [][5]byte {
	t.Helper()
	c, err := DialNetlink(unix.NETLINK_NETFILTER, ns, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var e encoder
	e.str(attrElemListTable, table)
	e.str(attrElemListSet, set)
	req := netlink.Message{
		Header: netlink.Header{Type: netlink.HeaderType(nftType(13 /* GETSETELEM */)), Flags: netlink.Request | netlink.Dump},
		Data:   append([]byte{byte(model.FamilyIP), 0, 0, 0}, e.b...),
	}
	msgs, err := c.Execute(req)
	if err != nil {
		t.Fatalf("dump elements: %v", err)
	}
	var keys [][5]byte
	for _, m := range msgs {
		ad, err := netlink.NewAttributeDecoder(m.Data[4:])
		if err != nil {
			t.Fatal(err)
		}
		for ad.Next() {
			if ad.Type() != attrElemListElements {
				continue
			}
			ad.Nested(func(list *netlink.AttributeDecoder) error {
				for list.Next() {
					var k [5]byte
					list.Nested(func(el *netlink.AttributeDecoder) error {
						el.ByteOrder = binary.BigEndian
						for el.Next() {
							switch el.Type() {
							case attrElemKey:
								el.Nested(func(d *netlink.AttributeDecoder) error {
									for d.Next() {
										copy(k[:4], d.Bytes())
									}
									return nil
								})
							case attrElemFlags:
								k[4] = byte(el.Uint32() & 1)
							}
						}
						return nil
					})
					keys = append(keys, k)
				}
				return nil
			})
		}
	}
	return keys
}

// hasElem asks the kernel whether key is in an ip-family interval set.
func hasElem(t *testing.T, ns, table, set string, key []byte) bool {
	t.Helper()
	c, err := DialNetlink(unix.NETLINK_NETFILTER, ns, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var e encoder
	e.str(attrElemListTable, table)
	e.str(attrElemListSet, set)
	n := e.nest(attrElemListElements)
	e.putElem(&model.SetElem{Key: key})
	e.unnest(n)
	req := netlink.Message{
		Header: netlink.Header{Type: netlink.HeaderType(nftType(13 /* GETSETELEM */)), Flags: netlink.Request},
		Data:   append([]byte{byte(model.FamilyIP), 0, 0, 0}, e.b...),
	}
	_, err = c.Execute(req)
	if errors.Is(err, unix.ENOENT) {
		return false
	}
	if err != nil {
		t.Fatalf("get element: %v", err)
	}
	return true
}
