package kernel

import (
	"context"
	"encoding/binary"
	"fmt"

	"github.com/mdlayher/netlink"

	"github.com/nftflow/nftflow/model"
)

// createBatch is how many IPCTNL_MSG_CT_NEW messages CreateFlows packs into
// one sendmsg; the kernel acknowledges only the last one of each batch.
const createBatch = 128

// CreateFlows inserts conntrack entries into the table of the named network
// namespace ("" = current) the way `conntrack -I` does, batching many
// messages per system call. next fills f (reset to the zero Flow before each
// call) and returns false when there are no more. Each flow needs Orig with
// addresses and protocol, and Timeout; Reply defaults to Orig inverted. It
// returns how many entries were created; the first kernel refusal stops it.
func CreateFlows(ctx context.Context, netns string, next func(f *model.Flow) bool) (int, error) {
	c, err := dialConntrack(netns, 0)
	if err != nil {
		return 0, err
	}
	defer c.Close()

	var (
		f     model.Flow
		buf   []byte
		msgs  = make([]netlink.Message, 0, createBatch)
		total int
		done  bool
	)
	for !done {
		if err := ctx.Err(); err != nil {
			return total, err
		}
		msgs = msgs[:0]
		buf = buf[:0]
		var offs [createBatch + 1]int
		for len(msgs) < createBatch {
			f = model.Flow{}
			if !next(&f) {
				done = true
				break
			}
			if f.Timeout == nil {
				return total, fmt.Errorf("create flow %d: a timeout is required", total+len(msgs))
			}
			offs[len(msgs)] = len(buf)
			buf = AppendFlowAttrs(buf, &f)
			offs[len(msgs)+1] = len(buf)
			msgs = append(msgs, netlink.Message{Header: netlink.Header{
				Type:  ctMsgType(ipctnlMsgCtNew),
				Flags: netlink.Request | netlink.Create | netlink.Excl,
			}})
		}
		if len(msgs) == 0 {
			break
		}
		for i := range msgs {
			msgs[i].Data = buf[offs[i]:offs[i+1]:offs[i+1]]
		}
		msgs[len(msgs)-1].Header.Flags |= netlink.Acknowledge
		sent, err := c.SendMessages(msgs)
		if err != nil {
			return total, fmt.Errorf("create flows: %w", err)
		}
		last := sent[len(sent)-1].Header.Sequence
		if err := ctWaitAck(c, last); err != nil {
			return total, fmt.Errorf("create flows: %w", err)
		}
		total += len(msgs)
	}
	return total, nil
}

// ctWaitAck reads replies until the acknowledgement of sequence seq; a kernel
// error for any message of the batch is returned.
func ctWaitAck(c *netlink.Conn, seq uint32) error {
	for {
		msgs, err := c.Receive()
		if err != nil {
			return err
		}
		for _, m := range msgs {
			if m.Header.Type == netlink.Error && m.Header.Sequence == seq {
				return nil
			}
		}
	}
}

// AppendFlowAttrs appends f as an IPCTNL_MSG_CT_NEW payload (nfgenmsg and
// CTA_* attributes) to b: tuples, status, timeout, mark, zone and the TCP,
// SCTP or DCCP state. A Reply without addresses is taken as Orig inverted.
func AppendFlowAttrs(b []byte, f *model.Flow) []byte {
	fam := f.Family
	if fam == 0 {
		fam = model.FamilyIP
		if f.Orig.Src.Is6() {
			fam = model.FamilyIP6
		}
	}
	b = append(b, byte(fam), nfnetlinkV0, 0, 0)
	b = ctAppendTuple(b, ctaTupleOrig, &f.Orig)
	reply := f.Reply
	if !reply.Src.IsValid() {
		reply = model.FlowTuple{
			Src: f.Orig.Dst, Dst: f.Orig.Src, Proto: f.Orig.Proto,
			SrcPort: f.Orig.DstPort, DstPort: f.Orig.SrcPort,
			ICMPType: replyICMPType(f.Orig.Proto, f.Orig.ICMPType), ICMPCode: f.Orig.ICMPCode, ICMPID: f.Orig.ICMPID,
		}
	}
	b = ctAppendTuple(b, ctaTupleReply, &reply)
	if f.Status != 0 {
		// The kernel refuses (EBUSY) a status that would clear
		// IPS_CONFIRMED, which it sets on entries it creates; conntrack -I
		// always sends it too.
		b = ctAppendBE32(b, ctaStatus, uint32(f.Status|model.StatusConfirmed))
	}
	if f.Timeout != nil {
		b = ctAppendBE32(b, ctaTimeout, *f.Timeout)
	}
	if f.Mark != nil {
		b = ctAppendBE32(b, ctaMark, *f.Mark)
	}
	if f.Zone != nil {
		b = ctAppendAttr(b, ctaZone, binary.BigEndian.AppendUint16(nil, *f.Zone))
	}
	if f.State != nil {
		var nest uint16
		switch f.Orig.Proto {
		case model.ProtoTCP:
			nest = ctaProtoinfoTCP
		case model.ProtoSCTP:
			nest = ctaProtoinfoSCTP
		case model.ProtoDCCP:
			nest = ctaProtoinfoDCCP
		}
		if nest != 0 {
			outer := ctBeginNest(&b, ctaProtoinfo)
			inner := ctBeginNest(&b, nest)
			b = ctAppendAttr(b, ctaProtoinfoState, []byte{*f.State})
			ctEndNest(b, inner)
			ctEndNest(b, outer)
		}
	}
	return b
}

// replyICMPType maps an ICMP query type to its reply (echo request 8 ->
// echo reply 0, and so on), as the kernel expects in the reply tuple.
func replyICMPType(proto, t uint8) uint8 {
	if proto == model.ProtoICMP {
		switch t {
		case 8:
			return 0
		case 13:
			return 14
		case 15:
			return 16
		case 17:
			return 18
		}
		return t
	}
	if proto == model.ProtoICMPv6 {
		switch t {
		case 128:
			return 129
		case 139:
			return 140
		}
	}
	return t
}

func ctAppendTuple(b []byte, typ uint16, t *model.FlowTuple) []byte {
	tn := ctBeginNest(&b, typ)
	ipn := ctBeginNest(&b, ctaTupleIP)
	if t.Src.Is4() {
		s, d := t.Src.As4(), t.Dst.As4()
		b = ctAppendAttr(b, ctaIPv4Src, s[:])
		b = ctAppendAttr(b, ctaIPv4Dst, d[:])
	} else {
		s, d := t.Src.As16(), t.Dst.As16()
		b = ctAppendAttr(b, ctaIPv6Src, s[:])
		b = ctAppendAttr(b, ctaIPv6Dst, d[:])
	}
	ctEndNest(b, ipn)
	pn := ctBeginNest(&b, ctaTupleProto)
	b = ctAppendAttr(b, ctaProtoNum, []byte{t.Proto})
	switch {
	case t.IsICMP():
		id, typ, code := uint16(ctaProtoICMPID), uint16(ctaProtoICMPType), uint16(ctaProtoICMPCode)
		if t.Proto == model.ProtoICMPv6 {
			id, typ, code = ctaProtoICMPv6ID, ctaProtoICMPv6Type, ctaProtoICMPv6Code
		}
		b = ctAppendAttr(b, id, binary.BigEndian.AppendUint16(nil, t.ICMPID))
		b = ctAppendAttr(b, typ, []byte{t.ICMPType})
		b = ctAppendAttr(b, code, []byte{t.ICMPCode})
	case t.HasPorts():
		b = ctAppendAttr(b, ctaProtoSrcPort, binary.BigEndian.AppendUint16(nil, t.SrcPort))
		b = ctAppendAttr(b, ctaProtoDstPort, binary.BigEndian.AppendUint16(nil, t.DstPort))
	}
	ctEndNest(b, pn)
	if t.Zone != nil {
		b = ctAppendAttr(b, ctaTupleZone, binary.BigEndian.AppendUint16(nil, *t.Zone))
	}
	ctEndNest(b, tn)
	return b
}

func ctAppendBE32(b []byte, typ uint16, v uint32) []byte {
	var d [4]byte
	binary.BigEndian.PutUint32(d[:], v)
	return ctAppendAttr(b, typ, d[:])
}

// ctAppendAttr appends one netlink attribute, padded to 4 bytes.
func ctAppendAttr(b []byte, typ uint16, data []byte) []byte {
	b = binary.NativeEndian.AppendUint16(b, uint16(ctNlaHeaderSize+len(data)))
	b = binary.NativeEndian.AppendUint16(b, typ)
	b = append(b, data...)
	for len(b)%4 != 0 {
		b = append(b, 0)
	}
	return b
}

// ctBeginNest appends a nested attribute header and returns its offset for
// ctEndNest to fill in the length.
func ctBeginNest(b *[]byte, typ uint16) int {
	off := len(*b)
	*b = binary.NativeEndian.AppendUint16(*b, 0)
	*b = binary.NativeEndian.AppendUint16(*b, typ|ctNlaFNested)
	return off
}

func ctEndNest(b []byte, off int) {
	binary.NativeEndian.PutUint16(b[off:], uint16(len(b)-off))
}
