package kernel

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os/exec"
	"runtime"
	"testing"

	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"

	"github.com/nftflow/nftflow/model"
)

// nlmsg builds one netlink message (header and body).
func nlmsg(typ, flags uint16, body []byte) []byte {
	b := make([]byte, nlmsgHdrLen, nlmsgHdrLen+len(body)+3)
	binary.NativeEndian.PutUint32(b, uint32(nlmsgHdrLen+len(body)))
	binary.NativeEndian.PutUint16(b[4:], typ)
	binary.NativeEndian.PutUint16(b[6:], flags)
	b = append(b, body...)
	for len(b)%4 != 0 {
		b = append(b, 0)
	}
	return b
}

func TestEachMessage(t *testing.T) {
	errno := make([]byte, 4)
	code := -int32(unix.EOPNOTSUPP)
	binary.NativeEndian.PutUint32(errno, uint32(code))
	ruleType := uint16(nfnlSubsysNFTables<<8 | msgNewRule)
	cases := []struct {
		name    string
		dgram   []byte
		bodies  []string
		ends    bool
		wantErr error
	}{
		{"two messages, more to come", append(nlmsg(ruleType, 2, []byte("abc")), nlmsg(ruleType, 2, []byte("defgh"))...), []string{"abc", "defgh"}, false, nil},
		{"done ends", append(nlmsg(ruleType, 2, []byte("x")), nlmsg(nlmsgDone, 2, make([]byte, 4))...), []string{"x"}, true, nil},
		{"error code", nlmsg(nlmsgError, 0, append(errno, make([]byte, 16)...)), nil, true, unix.EOPNOTSUPP},
		{"done with error", nlmsg(nlmsgDone, 2, errno), nil, true, unix.EOPNOTSUPP},
	}
	for _, c := range cases {
		var got []string
		err := eachMessage(c.dgram, func(typ, flags uint16, data []byte) error {
			if typ != ruleType {
				t.Errorf("%s: type %#x", c.name, typ)
			}
			got = append(got, string(data))
			return nil
		})
		if c.wantErr == nil && err != nil || c.wantErr != nil && !errors.Is(err, c.wantErr) {
			t.Errorf("%s: err %v, want %v", c.name, err, c.wantErr)
		}
		if len(got) != len(c.bodies) {
			t.Errorf("%s: bodies %q, want %q", c.name, got, c.bodies)
		}
		for i := range got {
			if i < len(c.bodies) && got[i] != c.bodies[i] {
				t.Errorf("%s: body %d %q, want %q", c.name, i, got[i], c.bodies[i])
			}
		}
		if e := chunkEnds(c.dgram); e != c.ends {
			t.Errorf("%s: chunkEnds %v, want %v", c.name, e, c.ends)
		}
	}
	// A length running past the datagram is an error, not a panic.
	bad := nlmsg(ruleType, 0, []byte("abcd"))
	binary.NativeEndian.PutUint32(bad, 200)
	if err := eachMessage(bad, func(uint16, uint16, []byte) error { return nil }); err == nil {
		t.Error("overlong message accepted")
	}
	if !chunkEnds(bad) {
		t.Error("chunkEnds: a malformed datagram must end the dump")
	}
}

func TestAttrIter(t *testing.T) {
	b, err := netlink.MarshalAttributes([]netlink.Attribute{
		{Type: 1, Data: []byte("filter\x00")},
		{Type: 3 | netlink.Nested, Data: []byte{0, 0, 0, 0, 0, 0, 0, 7}},
		{Type: 4, Data: []byte{0, 0, 1, 0}},
	})
	if err != nil {
		t.Fatal(err)
	}
	a := attrIter{b: b}
	var last string
	if !a.next() || a.typ != 1 || a.strInterned(&last) != "filter" {
		t.Fatalf("first attribute: %d %q", a.typ, a.data)
	}
	if !a.next() || a.typ != 3 || a.u64() != 7 {
		t.Fatalf("second attribute: %d %v (NLA_F_NESTED must be masked)", a.typ, a.data)
	}
	if !a.next() || a.u32() != 256 || a.u64() != 0 || a.err == nil {
		t.Fatalf("third attribute: u32 should read 256, u64 fail: err %v", a.err)
	}
	a = attrIter{b: []byte{200, 0, 1, 0, 1, 2}}
	if a.next() || a.err == nil {
		t.Error("overlong attribute accepted")
	}
}

// setElemsMsg encodes an NFT_MSG_NEWSETELEM body for the given elements.
func setElemsMsg(t *testing.T, elems []model.SetElem, timeout bool) []byte {
	t.Helper()
	ae := netlink.NewAttributeEncoder()
	ae.ByteOrder = binary.BigEndian
	ae.String(1, "t")
	ae.String(2, "s")
	ae.Nested(3, func(list *netlink.AttributeEncoder) error {
		for _, e := range elems {
			list.Nested(1, func(el *netlink.AttributeEncoder) error {
				el.Nested(1, func(k *netlink.AttributeEncoder) error {
					k.Bytes(1, e.Key)
					return nil
				})
				if e.Flags != 0 {
					el.Uint32(3, e.Flags)
				}
				if timeout {
					el.Uint64(4, 60000)
				}
				return nil
			})
		}
		return nil
	})
	b, err := ae.Encode()
	if err != nil {
		t.Fatal(err)
	}
	return append([]byte{byte(model.FamilyIP), 0, 0, 0}, b...)
}

func TestSlabElems(t *testing.T) {
	elems := []model.SetElem{
		{Key: []byte{10, 0, 0, 8}, Flags: 1},
		{Key: []byte{10, 0, 0, 4}},
		{Key: []byte{10, 0, 0, 0}},
	}
	msg := setElemsMsg(t, elems, false)
	slab := &model.ElemSlab{KeyLen: 4}
	if !slabElems(slab, msg) {
		t.Fatal("plain interval elements not taken into the slab")
	}
	_, decoded, err := DecodeSetElems(msg)
	if err != nil {
		t.Fatal(err)
	}
	got := slab.Elements()
	if len(got) != len(decoded) {
		t.Fatalf("slab holds %d elements, DecodeSetElems %d", len(got), len(decoded))
	}
	for i := range got {
		if !bytes.Equal(got[i].Key, decoded[i].Key) || got[i].Flags != decoded[i].Flags {
			t.Errorf("element %d: slab %v/%d, decoded %v/%d", i, got[i].Key, got[i].Flags, decoded[i].Key, decoded[i].Flags)
		}
	}
	// Elements with more than a key, or keys of another length, stay out.
	if slabElems(&model.ElemSlab{KeyLen: 4}, setElemsMsg(t, elems, true)) {
		t.Error("elements with a timeout taken into the slab")
	}
	if slabElems(&model.ElemSlab{KeyLen: 16}, msg) {
		t.Error("4-byte keys taken into a 16-byte slab")
	}
}

// TestRawDumpMatchesReceiveIter dumps one namespace three ways: through
// netlink.Conn's ReceiveIter (as when recording), through the raw
// pipelined reader and through the raw reader on one CPU; the decoded
// objects must be the same (root only).
func TestRawDumpMatchesReceiveIter(t *testing.T) {
	ns := testNetns(t)
	if out, err := exec.Command("ip", "netns", "exec", ns, "nft", "-f", "testdata/dump/basic.nft").CombinedOutput(); err != nil {
		t.Fatalf("nft -f: %v: %s", err, out)
	}
	dumpWith := func(record bool) []byte {
		t.Helper()
		d, err := NewDumper(ns)
		if err != nil {
			t.Fatal(err)
		}
		defer d.Close()
		if record {
			d.Record = func(netlink.Message) {}
		}
		objs, err := dumpAll(d)
		if err != nil {
			t.Fatal(err)
		}
		b, err := describe(objs)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	want := dumpWith(true)
	if got := dumpWith(false); !bytes.Equal(got, want) {
		t.Errorf("raw pipelined dump differs from ReceiveIter:\n%s\nwant\n%s", got, want)
	}
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	if got := dumpWith(false); !bytes.Equal(got, want) {
		t.Errorf("raw sequential dump differs from ReceiveIter:\n%s\nwant\n%s", got, want)
	}
}

// TestExprCacheDecodesAlike decodes the recorded rules twice over with a
// shared expression cache and once without: the rules must describe the
// same, and the second pass must come from the cache.
func TestExprCacheDecodesAlike(t *testing.T) {
	msgs, err := readMessages("testdata/dump/basic.nlmsg")
	if err != nil {
		t.Skipf("no recorded dump: %v", err)
	}
	var plain, cached []any
	cache := &exprCache{}
	for pass := range 2 {
		for _, m := range msgs {
			if uint16(m.Header.Type) != nfnlSubsysNFTables<<8|msgNewRule {
				continue
			}
			r, err := decodeRule(m.Data, nil, cache)
			if err != nil {
				t.Fatal(err)
			}
			if pass == 1 {
				cached = append(cached, r)
				p, err := DecodeRule(m.Data)
				if err != nil {
					t.Fatal(err)
				}
				plain = append(plain, p)
			}
		}
	}
	if len(plain) == 0 {
		t.Fatal("no rules in the recording")
	}
	n := len(cache.m)
	a, err := describe(plain)
	if err != nil {
		t.Fatal(err)
	}
	b, err := describe(cached)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a, b) {
		t.Errorf("rules decoded through the cache differ:\n%s\nwant\n%s", b, a)
	}
	if n == 0 || len(cache.m) != n {
		t.Errorf("cache holds %d expressions after the first pass, %d after the second", n, len(cache.m))
	}
}
