package kernel

import (
	"bufio"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"strings"

	"github.com/nftflow/nftflow/model"
)

var msgNames = map[uint16]string{
	msgNewTable: "NEWTABLE", msgDelTable: "DELTABLE", msgNewChain: "NEWCHAIN", msgDelChain: "DELCHAIN",
	msgNewRule: "NEWRULE", msgDelRule: "DELRULE", msgNewSet: "NEWSET", msgDelSet: "DELSET",
	msgNewSetElem: "NEWSETELEM", msgDelSetElem: "DELSETELEM", msgNewObj: "NEWOBJ", msgDelObj: "DELOBJ",
	msgNewFlowtable: "NEWFLOWTABLE", msgDelFlowtable: "DELFLOWTABLE", msgDestroyTable: "DESTROYTABLE",
	msgDestroyChain: "DESTROYCHAIN", msgDestroyRule: "DESTROYRULE", msgDestroySet: "DESTROYSET",
	msgDestroySetElem: "DESTROYSETELEM", msgDestroyObj: "DESTROYOBJ", msgDestroyFlowtabl: "DESTROYFLOWTABLE",
}

func flagNames(f uint16) string {
	var s []string
	for _, x := range []struct {
		bit  uint16
		name string
	}{{nlmFRequest, "request"}, {nlmFAck, "ack"}, {nlmFReplace, "replace"}, {nlmFExcl, "excl"}, {nlmFCreate, "create"}, {nlmFAppend, "append"}} {
		if f&x.bit != 0 {
			s = append(s, x.name)
		}
	}
	return strings.Join(s, ",")
}

// WriteBatch writes the netlink messages Apply would send for b (without
// BATCH_BEGIN/END), one header line per message naming the operation and
// its source position, followed by a hex dump. It is a debugging aid.
func WriteBatch(w io.Writer, b model.Batch) error {
	wire, err := encodeBatch(&b, seqBegin+1)
	if err != nil {
		return err
	}
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, "# %d operations, %d messages, %d bytes\n", len(b.Ops), len(wire.msgs), wire.size)
	i := 0
	for _, chunk := range wire.chunks {
		for len(chunk) >= nlmsgHdrLen {
			l := int(binary.NativeEndian.Uint32(chunk))
			typ := binary.NativeEndian.Uint16(chunk[4:]) & 0xff
			flags := binary.NativeEndian.Uint16(chunk[6:])
			seq := binary.NativeEndian.Uint32(chunk[8:])
			ref := wire.msgs[i]
			op := b.Ops[ref.op]
			name := msgNames[typ]
			if name == "" {
				name = fmt.Sprintf("type%d", typ)
			}
			fmt.Fprintf(bw, "seq %d %s flags %s len %d: %s", seq, name, flagNames(flags), l, Describe(op))
			if p := op.Pos; p.IsValid() {
				fmt.Fprintf(bw, " (%s:%d:%d)", p.File, p.Line, p.Col)
			}
			if ref.elem >= 0 {
				fmt.Fprintf(bw, " elements from %d", ref.elem)
			}
			bw.WriteString("\n")
			d := hex.Dumper(bw)
			_, _ = d.Write(chunk[:l])
			_ = d.Close()
			chunk = chunk[l:]
			i++
		}
	}
	return bw.Flush()
}
