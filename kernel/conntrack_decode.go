package kernel

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"

	"github.com/nftflow/nftflow/model"
)

// ctnetlink constants from linux/netfilter/nfnetlink.h and
// nfnetlink_conntrack.h.
const (
	nfnlSubsysCtnetlink = 1
	nfnetlinkV0         = 0

	ipctnlMsgCtNew    = 0
	ipctnlMsgCtGet    = 1
	ipctnlMsgCtDelete = 2

	nfnlgrpConntrackNew     = 1
	nfnlgrpConntrackUpdate  = 2
	nfnlgrpConntrackDestroy = 3

	ctaTupleOrig     = 1
	ctaTupleReply    = 2
	ctaStatus        = 3
	ctaProtoinfo     = 4
	ctaHelp          = 5
	ctaTimeout       = 7
	ctaMark          = 8
	ctaCountersOrig  = 9
	ctaCountersReply = 10
	ctaUse           = 11
	ctaID            = 12
	ctaZone          = 18
	ctaSecctx        = 19
	ctaTimestamp     = 20
	ctaLabels        = 22

	ctaTupleIP    = 1
	ctaTupleProto = 2
	ctaTupleZone  = 3

	ctaIPv4Src = 1
	ctaIPv4Dst = 2
	ctaIPv6Src = 3
	ctaIPv6Dst = 4

	ctaProtoNum        = 1
	ctaProtoSrcPort    = 2
	ctaProtoDstPort    = 3
	ctaProtoICMPID     = 4
	ctaProtoICMPType   = 5
	ctaProtoICMPCode   = 6
	ctaProtoICMPv6ID   = 7
	ctaProtoICMPv6Type = 8
	ctaProtoICMPv6Code = 9

	ctaProtoinfoTCP  = 1
	ctaProtoinfoDCCP = 2
	ctaProtoinfoSCTP = 3
	// The state is attribute 1 in the TCP, DCCP and SCTP nests alike.
	ctaProtoinfoState = 1

	ctaCountersPackets = 1
	ctaCountersBytes   = 2

	ctaTimestampStart = 1
	ctaTimestampStop  = 2

	ctaHelpName   = 1
	ctaSecctxName = 1

	ctNlaFNested    = 0x8000
	ctNlaTypeMask   = 0x3fff
	ctNfgenmsgSize  = 4
	ctNlaHeaderSize = 4
)

// errCtTruncated reports a message shorter than its headers say.
var errCtTruncated = errors.New("truncated netlink attribute")

// ctNextAttr splits the first netlink attribute off b. ok is false at the end
// of b; err is set when the attribute's length is out of bounds.
func ctNextAttr(b []byte) (typ uint16, data, rest []byte, ok bool, err error) {
	if len(b) < ctNlaHeaderSize {
		return 0, nil, nil, false, nil
	}
	l := int(binary.NativeEndian.Uint16(b))
	if l < ctNlaHeaderSize || l > len(b) {
		return 0, nil, nil, false, errCtTruncated
	}
	typ = binary.NativeEndian.Uint16(b[2:]) & ctNlaTypeMask
	data = b[ctNlaHeaderSize:l]
	al := (l + 3) &^ 3
	if al > len(b) {
		al = len(b)
	}
	return typ, data, b[al:], true, nil
}

func ctBE16(b []byte) (uint16, bool) {
	if len(b) < 2 {
		return 0, false
	}
	return binary.BigEndian.Uint16(b), true
}

func ctBE32(b []byte) (uint32, bool) {
	if len(b) < 4 {
		return 0, false
	}
	return binary.BigEndian.Uint32(b), true
}

func ctBE64(b []byte) (uint64, bool) {
	if len(b) < 8 {
		return 0, false
	}
	return binary.BigEndian.Uint64(b), true
}

// FlowDecoder decodes ctnetlink conntrack messages into model.Flow values
// without allocating per message: the *model.Flow it returns, and
// everything that flow points to, are reused by the next Decode. Copy what
// you need to keep. The zero value is ready to use.
type FlowDecoder struct {
	f                   model.Flow
	state               uint8
	timeout, mark, use  uint32
	id                  uint32
	zone                uint16
	origZone, replyZone uint16
	counters            model.FlowCounters
	start, stop         uint64
	labels              []byte
}

// Decode decodes the payload of one IPCTNL_MSG_CT_NEW or IPCTNL_MSG_CT_DELETE
// message: the nfgenmsg header followed by the CTA_* attributes. Missing
// optional attributes leave the matching fields nil; unknown attributes are
// skipped; malformed lengths return an error, never a panic.
func (d *FlowDecoder) Decode(b []byte) (*model.Flow, error) {
	if len(b) < ctNfgenmsgSize {
		return nil, fmt.Errorf("conntrack message of %d bytes: %w", len(b), errCtTruncated)
	}
	f := &d.f
	*f = model.Flow{Family: model.Family(b[0])}
	b = b[ctNfgenmsgSize:]
	var haveOrigCounters, haveReplyCounters bool
	for {
		typ, data, rest, ok, err := ctNextAttr(b)
		if err != nil {
			return nil, fmt.Errorf("conntrack attribute: %w", err)
		}
		if !ok {
			break
		}
		b = rest
		switch typ {
		case ctaTupleOrig:
			if err := decodeTuple(data, &f.Orig, &d.origZone); err != nil {
				return nil, fmt.Errorf("original tuple: %w", err)
			}
		case ctaTupleReply:
			if err := decodeTuple(data, &f.Reply, &d.replyZone); err != nil {
				return nil, fmt.Errorf("reply tuple: %w", err)
			}
		case ctaStatus:
			if v, ok := ctBE32(data); ok {
				f.Status = model.FlowStatus(v)
			}
		case ctaProtoinfo:
			if err := d.decodeProtoinfo(data); err != nil {
				return nil, fmt.Errorf("protoinfo: %w", err)
			}
		case ctaHelp:
			if s, err := ctNestedString(data, ctaHelpName); err != nil {
				return nil, fmt.Errorf("helper: %w", err)
			} else {
				f.Helper = s
			}
		case ctaSecctx:
			if s, err := ctNestedString(data, ctaSecctxName); err != nil {
				return nil, fmt.Errorf("secctx: %w", err)
			} else {
				f.SecCtx = s
			}
		case ctaTimeout:
			if v, ok := ctBE32(data); ok {
				d.timeout, f.Timeout = v, &d.timeout
			}
		case ctaMark:
			if v, ok := ctBE32(data); ok {
				d.mark, f.Mark = v, &d.mark
			}
		case ctaUse:
			if v, ok := ctBE32(data); ok {
				d.use, f.Use = v, &d.use
			}
		case ctaID:
			if v, ok := ctBE32(data); ok {
				d.id, f.ID = v, &d.id
			}
		case ctaZone:
			if v, ok := ctBE16(data); ok {
				d.zone, f.Zone = v, &d.zone
			}
		case ctaCountersOrig:
			p, by, ok, err := decodeCounters(data)
			if err != nil {
				return nil, fmt.Errorf("original counters: %w", err)
			}
			if ok {
				d.counters.OrigPackets, d.counters.OrigBytes = p, by
				haveOrigCounters = true
			}
		case ctaCountersReply:
			p, by, ok, err := decodeCounters(data)
			if err != nil {
				return nil, fmt.Errorf("reply counters: %w", err)
			}
			if ok {
				d.counters.ReplyPackets, d.counters.ReplyBytes = p, by
				haveReplyCounters = true
			}
		case ctaTimestamp:
			if err := d.decodeTimestamp(data); err != nil {
				return nil, fmt.Errorf("timestamp: %w", err)
			}
		case ctaLabels:
			d.labels = append(d.labels[:0], data...)
			f.Labels = d.labels
		}
	}
	if haveOrigCounters || haveReplyCounters {
		if !haveOrigCounters {
			d.counters.OrigPackets, d.counters.OrigBytes = 0, 0
		}
		if !haveReplyCounters {
			d.counters.ReplyPackets, d.counters.ReplyBytes = 0, 0
		}
		f.Counters = &d.counters
	}
	return f, nil
}

func decodeTuple(b []byte, t *model.FlowTuple, zone *uint16) error {
	for {
		typ, data, rest, ok, err := ctNextAttr(b)
		if err != nil {
			return err
		}
		if !ok {
			return nil
		}
		b = rest
		switch typ {
		case ctaTupleIP:
			if err := decodeTupleIP(data, t); err != nil {
				return err
			}
		case ctaTupleProto:
			if err := decodeTupleProto(data, t); err != nil {
				return err
			}
		case ctaTupleZone:
			if v, ok := ctBE16(data); ok {
				*zone, t.Zone = v, zone
			}
		}
	}
}

func decodeTupleIP(b []byte, t *model.FlowTuple) error {
	for {
		typ, data, rest, ok, err := ctNextAttr(b)
		if err != nil {
			return err
		}
		if !ok {
			return nil
		}
		b = rest
		switch typ {
		case ctaIPv4Src, ctaIPv4Dst:
			if len(data) != 4 {
				continue
			}
			a := netip.AddrFrom4([4]byte(data))
			if typ == ctaIPv4Src {
				t.Src = a
			} else {
				t.Dst = a
			}
		case ctaIPv6Src, ctaIPv6Dst:
			if len(data) != 16 {
				continue
			}
			a := netip.AddrFrom16([16]byte(data))
			if typ == ctaIPv6Src {
				t.Src = a
			} else {
				t.Dst = a
			}
		}
	}
}

func decodeTupleProto(b []byte, t *model.FlowTuple) error {
	for {
		typ, data, rest, ok, err := ctNextAttr(b)
		if err != nil {
			return err
		}
		if !ok {
			return nil
		}
		b = rest
		switch typ {
		case ctaProtoNum:
			if len(data) >= 1 {
				t.Proto = data[0]
			}
		case ctaProtoSrcPort:
			if v, ok := ctBE16(data); ok {
				t.SrcPort = v
			}
		case ctaProtoDstPort:
			if v, ok := ctBE16(data); ok {
				t.DstPort = v
			}
		case ctaProtoICMPID, ctaProtoICMPv6ID:
			if v, ok := ctBE16(data); ok {
				t.ICMPID = v
			}
		case ctaProtoICMPType, ctaProtoICMPv6Type:
			if len(data) >= 1 {
				t.ICMPType = data[0]
			}
		case ctaProtoICMPCode, ctaProtoICMPv6Code:
			if len(data) >= 1 {
				t.ICMPCode = data[0]
			}
		}
	}
}

func (d *FlowDecoder) decodeProtoinfo(b []byte) error {
	for {
		typ, data, rest, ok, err := ctNextAttr(b)
		if err != nil {
			return err
		}
		if !ok {
			return nil
		}
		b = rest
		switch typ {
		case ctaProtoinfoTCP, ctaProtoinfoDCCP, ctaProtoinfoSCTP:
			for {
				st, sdata, srest, ok, err := ctNextAttr(data)
				if err != nil {
					return err
				}
				if !ok {
					break
				}
				data = srest
				if st == ctaProtoinfoState && len(sdata) >= 1 {
					d.state, d.f.State = sdata[0], &d.state
				}
			}
		}
	}
}

func decodeCounters(b []byte) (packets, bytes uint64, ok bool, err error) {
	var havePackets, haveBytes bool
	for {
		typ, data, rest, more, err := ctNextAttr(b)
		if err != nil {
			return 0, 0, false, err
		}
		if !more {
			break
		}
		b = rest
		switch typ {
		case ctaCountersPackets:
			packets, havePackets = ctBE64(data)
		case ctaCountersBytes:
			bytes, haveBytes = ctBE64(data)
		}
	}
	return packets, bytes, havePackets && haveBytes, nil
}

func (d *FlowDecoder) decodeTimestamp(b []byte) error {
	for {
		typ, data, rest, ok, err := ctNextAttr(b)
		if err != nil {
			return err
		}
		if !ok {
			return nil
		}
		b = rest
		switch typ {
		case ctaTimestampStart:
			if v, ok := ctBE64(data); ok {
				d.start, d.f.Start = v, &d.start
			}
		case ctaTimestampStop:
			if v, ok := ctBE64(data); ok {
				d.stop, d.f.Stop = v, &d.stop
			}
		}
	}
}

// ctNestedString returns the NUL-terminated string attribute want inside b.
func ctNestedString(b []byte, want uint16) (string, error) {
	for {
		typ, data, rest, ok, err := ctNextAttr(b)
		if err != nil {
			return "", err
		}
		if !ok {
			return "", nil
		}
		b = rest
		if typ == want {
			for i, c := range data {
				if c == 0 {
					data = data[:i]
					break
				}
			}
			return string(data), nil
		}
	}
}
