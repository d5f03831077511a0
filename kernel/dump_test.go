package kernel

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/mdlayher/netlink"

	"github.com/nftflow/nftflow/model"
)

var (
	recordDumps = flag.Bool("record", false, "re-record testdata/dump/*.nlmsg from a namespace loaded with nft -f (root)")
	updateDumps = flag.Bool("update", false, "rewrite testdata/dump/*.golden from the decoded messages")
)

// dumpAll runs every dump of a ruleset listing on d, in the order a listing
// needs them, and returns the decoded objects.
func dumpAll(d *Dumper) ([]any, error) {
	var out []any
	add := func(v any) error { out = append(out, v); return nil }
	if err := d.Tables(Filter{}, func(t *model.Table) error { return add(t) }); err != nil {
		return nil, err
	}
	if err := d.Chains(Filter{}, func(c *model.Chain) error { return add(c) }); err != nil {
		return nil, err
	}
	var sets []*model.Set
	if err := d.Sets(Filter{}, func(s *model.Set) error { sets = append(sets, s); return nil }); err != nil {
		return nil, err
	}
	for _, s := range sets {
		if err := d.SetElems(s); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	if err := d.Objects(Filter{}, func(o *model.Object) error { return add(o) }); err != nil {
		return nil, err
	}
	if err := d.Flowtables(Filter{}, func(f *model.Flowtable) error { return add(f) }); err != nil {
		return nil, err
	}
	if err := d.Rules(Filter{}, func(r *model.Rule) error { return add(r) }); err != nil {
		return nil, err
	}
	return out, nil
}

// decodeRecorded decodes recorded answers the way the Dumper does, set
// elements attached to the set they belong to.
func decodeRecorded(msgs []netlink.Message) ([]any, error) {
	var out []any
	sets := map[string]*model.Set{}
	for _, m := range msgs {
		typ := uint16(m.Header.Type)
		if typ>>8 != nfnlSubsysNFTables {
			continue
		}
		var v any
		var err error
		switch uint8(typ) {
		case msgNewTable:
			v, err = DecodeTable(m.Data)
		case msgNewChain:
			v, err = DecodeChain(m.Data)
		case msgNewRule:
			v, err = DecodeRule(m.Data)
		case msgNewSet:
			var s *model.Set
			s, err = DecodeSet(m.Data)
			if err == nil {
				sets[s.Table+"/"+s.Name] = s
			}
			v = s
		case msgNewSetElem:
			h, elems, err := DecodeSetElems(m.Data)
			if err != nil {
				return nil, err
			}
			s := sets[h.Table+"/"+h.Set]
			if s == nil {
				return nil, fmt.Errorf("elements of unknown set %s", h.Set)
			}
			s.Elements = append(s.Elements, elems...)
			continue
		case msgNewObj:
			v, err = DecodeObject(m.Data)
		case msgNewFlowtable:
			v, err = DecodeFlowtable(m.Data)
		default:
			return nil, fmt.Errorf("unexpected message type %#x", typ)
		}
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

// describe renders decoded objects as indented JSON, each tagged with its
// Go type so that expression kinds are visible in the golden file.
func describe(objs []any) ([]byte, error) {
	var buf bytes.Buffer
	for _, o := range objs {
		b, err := json.MarshalIndent(tagged(reflect.ValueOf(o)), "", "  ")
		if err != nil {
			return nil, err
		}
		buf.Write(b)
		buf.WriteByte('\n')
	}
	return buf.Bytes(), nil
}

// tagged converts a value to JSON-friendly maps, naming interface values'
// concrete types and omitting zero fields.
func tagged(v reflect.Value) any {
	switch v.Kind() {
	case reflect.Interface:
		if v.IsNil() {
			return nil
		}
		inner := v.Elem()
		t := inner.Type()
		if t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		return map[string]any{t.Name(): tagged(inner)}
	case reflect.Pointer:
		if v.IsNil() {
			return nil
		}
		return tagged(v.Elem())
	case reflect.Struct:
		m := map[string]any{}
		for i := 0; i < v.NumField(); i++ {
			f := v.Field(i)
			if f.IsZero() {
				continue
			}
			m[v.Type().Field(i).Name] = tagged(f)
		}
		return m
	case reflect.Slice:
		if v.Type().Elem().Kind() == reflect.Uint8 {
			return fmt.Sprintf("%x", v.Bytes())
		}
		s := make([]any, v.Len())
		for i := range s {
			s[i] = tagged(v.Index(i))
		}
		return s
	case reflect.Map:
		m := map[string]any{}
		for _, k := range v.MapKeys() {
			m[fmt.Sprint(k.Interface())] = tagged(v.MapIndex(k))
		}
		return m
	}
	return v.Interface()
}

// writeMessages stores messages as their netlink wire encoding, back to back.
func writeMessages(path string, msgs []netlink.Message) error {
	var buf bytes.Buffer
	for _, m := range msgs {
		m.Header.Length = uint32(16 + len(m.Data))
		b, err := m.MarshalBinary()
		if err != nil {
			return err
		}
		buf.Write(b)
	}
	return os.WriteFile(path, buf.Bytes(), 0o644)
}

// readMessages parses a file written by writeMessages.
func readMessages(path string) ([]netlink.Message, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var msgs []netlink.Message
	for len(b) > 0 {
		if len(b) < 16 {
			return nil, errors.New("truncated message header")
		}
		n := int(uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16 | uint32(b[3])<<24)
		n = (n + 3) &^ 3
		if n < 16 || n > len(b) {
			return nil, fmt.Errorf("bad message length %d", n)
		}
		var m netlink.Message
		if err := m.UnmarshalBinary(b[:n]); err != nil {
			return nil, err
		}
		msgs = append(msgs, m)
		b = b[n:]
	}
	return msgs, nil
}

// testNetns creates a throwaway network namespace removed at cleanup.
func testNetns(t *testing.T) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("skipping: needs root to create a network namespace")
	}
	name := fmt.Sprintf("nftflow-test-dump-%d", os.Getpid())
	if out, err := exec.Command("ip", "netns", "add", name).CombinedOutput(); err != nil {
		t.Skipf("skipping: ip netns add: %v: %s", err, out)
	}
	t.Cleanup(func() { exec.Command("ip", "netns", "del", name).Run() })
	return name
}

// record loads input into a fresh namespace and records the dump answers.
func record(t *testing.T, input string) []netlink.Message {
	ns := testNetns(t)
	if out, err := exec.Command("ip", "netns", "exec", ns, "nft", "-f", input).CombinedOutput(); err != nil {
		t.Fatalf("nft -f %s: %v: %s", input, err, out)
	}
	d, err := NewDumper(ns)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	var msgs []netlink.Message
	d.Record = func(m netlink.Message) { msgs = append(msgs, m) }
	if _, err := dumpAll(d); err != nil {
		t.Fatal(err)
	}
	return msgs
}

// TestDecodeRecordedDumps decodes recorded kernel answers (no kernel
// needed) and compares the objects with the golden description.
func TestDecodeRecordedDumps(t *testing.T) {
	inputs, err := filepath.Glob("testdata/dump/*.nft")
	if err != nil || len(inputs) == 0 {
		t.Fatalf("no inputs: %v", err)
	}
	for _, in := range inputs {
		base := strings.TrimSuffix(in, ".nft")
		t.Run(filepath.Base(base), func(t *testing.T) {
			if *recordDumps {
				if err := writeMessages(base+".nlmsg", record(t, in)); err != nil {
					t.Fatal(err)
				}
			}
			msgs, err := readMessages(base + ".nlmsg")
			if err != nil {
				t.Fatal(err)
			}
			objs, err := decodeRecorded(msgs)
			if err != nil {
				t.Fatal(err)
			}
			for _, o := range objs {
				if r, ok := o.(*model.Rule); ok {
					for _, e := range r.Exprs {
						if u, ok := e.(*model.Unknown); ok {
							t.Errorf("rule %d: expression %q not decoded", r.Handle, u.Name)
						}
					}
				}
			}
			got, err := describe(objs)
			if err != nil {
				t.Fatal(err)
			}
			if *updateDumps || *recordDumps {
				if err := os.WriteFile(base+".golden", got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(base + ".golden")
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("decoded objects differ from %s.golden (run with -update after checking):\n%s", base, got)
			}
		})
	}
}

// TestDumpLive loads a ruleset into a namespace and checks that a live dump
// decodes into the same objects as the recording made from it (root only).
func TestDumpLive(t *testing.T) {
	msgs := record(t, "testdata/dump/basic.nft")
	live, err := decodeRecorded(msgs)
	if err != nil {
		t.Fatal(err)
	}
	var chains, rules, sets, elems int
	for _, o := range live {
		switch v := o.(type) {
		case *model.Chain:
			chains++
		case *model.Rule:
			rules++
		case *model.Set:
			sets++
			elems += len(v.Elements)
		}
	}
	// basic.nft: 3 chains, 11 rules, 2 named sets + 1 anonymous set.
	if chains != 3 || rules != 11 || sets != 3 {
		t.Errorf("got %d chains, %d rules, %d sets; want 3, 11, 3", chains, rules, sets)
	}
	if elems == 0 {
		t.Error("no set elements dumped")
	}
}

// TestDecodeExprUnknown checks that an unknown expression kind is kept.
func TestDecodeExprUnknown(t *testing.T) {
	e, err := DecodeExpr("frobnicate", []byte{1, 2, 3, 4})
	if err != nil {
		t.Fatal(err)
	}
	u, ok := e.(*model.Unknown)
	if !ok || u.Name != "frobnicate" || !bytes.Equal(u.Raw, []byte{1, 2, 3, 4}) {
		t.Fatalf("got %#v", e)
	}
}

// FuzzDecodeRule checks that no input makes the rule decoder panic.
func FuzzDecodeRule(f *testing.F) {
	if msgs, err := readMessages("testdata/dump/basic.nlmsg"); err == nil {
		for _, m := range msgs {
			f.Add(m.Data)
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		DecodeRule(b)
		DecodeSet(b)
		DecodeSetElems(b)
		DecodeChain(b)
		DecodeObject(b)
	})
}

// TestChainRulesMatchesTableDump checks that the chain by chain dumps
// return the rules of a table's dump, in the same order, over chains that
// span several replies, an empty chain, and a chain that does not exist
// (root only).
func TestChainRulesMatchesTableDump(t *testing.T) {
	ns := testNetns(t)
	var b strings.Builder
	b.WriteString("table ip t {\n\tchain empty {\n\t}\n")
	for c := 0; c < 4; c++ {
		fmt.Fprintf(&b, "\tchain c%d {\n", c)
		for i := 0; i < 700; i++ {
			fmt.Fprintf(&b, "\t\tip saddr 10.%d.%d.%d tcp dport %d counter accept\n", c, i>>8, i&255, 1000+i)
		}
		b.WriteString("\t}\n")
	}
	b.WriteString("}\ntable ip other {\n\tchain c0 {\n\t\taccept\n\t}\n}\n")
	p := filepath.Join(t.TempDir(), "many.nft")
	if err := os.WriteFile(p, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("ip", "netns", "exec", ns, "nft", "-f", p).CombinedOutput(); err != nil {
		t.Fatalf("nft -f: %v: %s", err, out)
	}
	d, err := NewDumper(ns)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	f := Filter{Family: model.FamilyIP, Table: "t"}
	var chains []string
	if err := d.Chains(f, func(c *model.Chain) error { chains = append(chains, c.Name); return nil }); err != nil {
		t.Fatal(err)
	}
	key := func(r *model.Rule) string { return fmt.Sprintf("%s/%d/%d", r.Chain, r.Handle, len(r.Exprs)) }
	var whole, byChain []string
	if err := d.Rules(f, func(r *model.Rule) error { whole = append(whole, key(r)); return nil }); err != nil {
		t.Fatal(err)
	}
	if err := d.ChainRules(f, append(chains, "gone"), func(r *model.Rule) error { byChain = append(byChain, key(r)); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(whole) != 4*700 {
		t.Fatalf("the table dump has %d rules, want %d", len(whole), 4*700)
	}
	if strings.Join(whole, " ") != strings.Join(byChain, " ") {
		t.Errorf("chain by chain: %d rules, table dump: %d; they differ", len(byChain), len(whole))
	}
}
