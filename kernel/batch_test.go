package kernel

import (
	"encoding/binary"
	"strings"
	"testing"

	"github.com/nftflow/nftflow/model"
)

// walkMsgs calls fn for every message of a wire, with its element count
// when it is a set-element message.
func walkMsgs(t *testing.T, w *wire, fn func(typ uint16, seq uint32, msg []byte, elems int)) {
	t.Helper()
	for _, c := range w.chunks {
		for len(c) > 0 {
			l := int(binary.NativeEndian.Uint32(c))
			msg := c[:l]
			typ := binary.NativeEndian.Uint16(msg[4:]) & 0xff
			seq := binary.NativeEndian.Uint32(msg[8:])
			elems := -1
			for p := nlmsgHdrLen + nfgenmsgLen; p < l; {
				al := int(binary.NativeEndian.Uint16(msg[p:]))
				at := binary.NativeEndian.Uint16(msg[p+2:]) &^ nlaFNested
				if typ == msgNewSetElem && at == attrElemListElements {
					if al > maxAttrLen {
						t.Fatalf("elements nest of %d bytes", al)
					}
					elems = 0
					for q := p + nlaHdrLen; q < p+al; elems++ {
						q += nlmsgAlign(int(binary.NativeEndian.Uint16(msg[q:])))
					}
				}
				p += nlmsgAlign(al)
			}
			fn(typ, seq, msg, elems)
			c = c[l:]
		}
	}
}

func TestEncodeSplitsSetElements(t *testing.T) {
	b := bigIntervalSet(100000)
	w, err := encodeBatch(&b, 2)
	if err != nil {
		t.Fatal(err)
	}
	total, msgs, wantSeq := 0, 0, uint32(2)
	walkMsgs(t, w, func(typ uint16, seq uint32, msg []byte, elems int) {
		if seq != wantSeq {
			t.Fatalf("message seq %d, want %d", seq, wantSeq)
		}
		ref := w.msgs[w.indexOf(seq)]
		if typ == msgNewSetElem {
			if int(ref.elem) != total {
				t.Errorf("message %d starts at element %d, recorded %d", seq, total, ref.elem)
			}
			total += elems
			msgs++
		}
		wantSeq++
	})
	if want := 2*100000 + 1; total != want {
		t.Errorf("%d elements encoded, want %d", total, want)
	}
	if msgs < 2 {
		t.Errorf("elements went into %d message(s); the list must be split", msgs)
	}
	if w.indexOf(1) != -1 || w.indexOf(wantSeq) != -1 {
		t.Error("indexOf accepts sequence numbers outside the batch")
	}
}

func TestEncodeRefusesOversizedAttribute(t *testing.T) {
	exprs := make([]model.Expr, 5000)
	for i := range exprs {
		exprs[i] = &model.Counter{}
	}
	b := model.Batch{Ops: []model.Op{{Verb: model.VerbAdd, Pos: model.Pos{File: "f", Line: 3, Col: 1},
		Obj: &model.Rule{Family: model.FamilyIP, Table: "t", Chain: "c", Exprs: exprs}}}}
	_, err := encodeBatch(&b, 2)
	oe, ok := err.(*OpError)
	if !ok || oe.Pos().Line != 3 || !strings.Contains(err.Error(), "65535") {
		t.Fatalf("encoding a rule of 5000 expressions: %v, want an *OpError at line 3 about the 64 KiB limit", err)
	}
}

func TestEncodeVerbs(t *testing.T) {
	tbl := &model.Table{Family: model.FamilyInet, Name: "t"}
	cases := []struct {
		op    model.Op
		typ   uint16
		flags uint16
	}{
		{model.Op{Verb: model.VerbAdd, Obj: tbl}, msgNewTable, nlmFRequest | nlmFCreate},
		{model.Op{Verb: model.VerbCreate, Obj: tbl}, msgNewTable, nlmFRequest | nlmFCreate | nlmFExcl},
		{model.Op{Verb: model.VerbDelete, Obj: tbl}, msgDelTable, nlmFRequest},
		{model.Op{Verb: model.VerbDestroy, Obj: tbl}, msgDestroyTable, nlmFRequest},
		{model.Op{Verb: model.VerbFlush, Obj: tbl}, msgDelRule, nlmFRequest},
		{model.Op{Verb: model.VerbInsert, Obj: &model.Rule{Table: "t", Chain: "c"}}, msgNewRule, nlmFRequest | nlmFCreate},
		{model.Op{Verb: model.VerbAdd, Obj: &model.Rule{Table: "t", Chain: "c"}}, msgNewRule, nlmFRequest | nlmFCreate | nlmFAppend},
		{model.Op{Verb: model.VerbReplace, Obj: &model.Rule{Table: "t", Chain: "c", Handle: 4}}, msgNewRule, nlmFRequest | nlmFReplace},
		{model.Op{Verb: model.VerbDelete, Obj: &model.Rule{Table: "t", Chain: "c", Handle: 4}}, msgDelRule, nlmFRequest},
		{model.Op{Verb: model.VerbFlush, Obj: &model.Set{Table: "t", Name: "s"}}, msgDelSetElem, nlmFRequest},
		{model.Op{Verb: model.VerbFlush, Obj: &model.Ruleset{}}, msgDelTable, nlmFRequest},
		{model.Op{Verb: model.VerbDelete, Obj: &model.Flowtable{Table: "t", Name: "f"}}, msgDelFlowtable, nlmFRequest},
		{model.Op{Verb: model.VerbDelete, Obj: &model.Object{Table: "t", Name: "o", Type: objCounter}}, msgDelObj, nlmFRequest},
	}
	for _, c := range cases {
		b := model.Batch{Ops: []model.Op{c.op}}
		w, err := encodeBatch(&b, 2)
		if err != nil {
			t.Errorf("%s: %v", Describe(c.op), err)
			continue
		}
		msg := w.chunks[0]
		typ := binary.NativeEndian.Uint16(msg[4:])
		flags := binary.NativeEndian.Uint16(msg[6:])
		if typ != nftType(c.typ) || flags != c.flags {
			t.Errorf("%s: type %#x flags %#x, want %#x %#x", Describe(c.op), typ, flags, nftType(c.typ), c.flags)
		}
	}
	for _, op := range []model.Op{
		{Verb: model.VerbReset, Obj: tbl},
		{Verb: model.VerbDelete, Obj: &model.Rule{Table: "t", Chain: "c"}},
		{Verb: model.VerbAdd, Obj: &model.Ruleset{}},
		{Verb: model.VerbAdd, Obj: "not an object"},
	} {
		b := model.Batch{Ops: []model.Op{op}}
		if _, err := encodeBatch(&b, 2); err == nil {
			t.Errorf("%s encoded without error", Describe(op))
		}
	}
}

// A counter with no counts is sent as nft sends it: its name and an empty
// data nest (the kernel starts at zero); given counts are sent.
func TestEncodeCounterAsNft(t *testing.T) {
	var e encoder
	e.putExpr(attrListElem, &model.Counter{})
	want := "\x14\x00\x01\x80\x0c\x00\x01\x00counter\x00\x04\x00\x02\x80"
	if got := string(e.b); got != want {
		t.Errorf("counter: %q, want %q (nft 1.0.6's bytes)", got, want)
	}
	e.reset()
	e.putExpr(attrListElem, &model.Counter{Packets: 3, Bytes: 5})
	if len(e.b) != len(want)+24 {
		t.Errorf("counter with counts: %d bytes, want %d", len(e.b), len(want)+24)
	}
}

// TestEncodeQueueAsNft checks the queue expression's bytes against what
// nft 1.0.6 sends (nft --debug=mnl): a queue number and total without a
// flags attribute, and a queue picked by an expression with its flags and
// register only (the kernel refuses a number together with a register).
func TestEncodeQueueAsNft(t *testing.T) {
	for _, tc := range []struct {
		rule string
		q    *model.Queue
		want string
	}{
		{"queue num 2", &model.Queue{Num: 2, Total: 1},
			"\x24\x00\x01\x80\x0a\x00\x01\x00queue\x00\x00\x00\x14\x00\x02\x80" +
				"\x06\x00\x01\x00\x00\x02\x00\x00\x06\x00\x02\x00\x00\x01\x00\x00"},
		{"queue flags bypass to numgen inc mod 4", &model.Queue{Flags: 1, SRegQnum: 1},
			"\x24\x00\x01\x80\x0a\x00\x01\x00queue\x00\x00\x00\x14\x00\x02\x80" +
				"\x06\x00\x03\x00\x00\x01\x00\x00\x08\x00\x04\x00\x00\x00\x00\x01"},
	} {
		var e encoder
		e.putExpr(attrListElem, tc.q)
		if got := string(e.b); got != tc.want {
			t.Errorf("%s: %q, want %q (nft 1.0.6's bytes)", tc.rule, got, tc.want)
		}
	}
}
