package kernel

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"syscall"

	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"

	"github.com/nftflow/nftflow/model"
)

// Options control Apply.
type Options struct {
	// NetNS names the network namespace to apply in (a name under
	// /run/netns or a path); empty means the current one.
	NetNS string
	// Check sends the batch without committing it: the kernel validates
	// every message and then aborts the transaction, as `nft --check` does.
	Check bool

	// Echo, when set, asks the kernel to echo the rules that the
	// operations for which it returns true create; after the commit
	// RuleHandle is called with each such operation's index and the
	// handle the kernel gave the rule.
	Echo       func(op int) bool
	RuleHandle func(op int, handle uint64)

	// beforeSend, when set (tests only), runs after the generation id was
	// read and before the batch is sent; attempt counts from 0.
	beforeSend func(attempt int) error
}

// ErrGenerationChanged is returned when another program changed the
// ruleset between nftflow reading the generation id and committing, twice
// in a row.
var ErrGenerationChanged = errors.New("the ruleset was changed by another program while applying; nothing was changed, try again")

// Sequence numbers: BATCH_BEGIN is seqBegin, object messages follow.
const seqBegin = 1

// Apply sends b to the kernel as one nf_tables transaction: either every
// operation takes effect or none does. With opts.Check the kernel only
// validates. A refused batch returns OpErrors (one *OpError per refused
// message, each carrying the operation and its source position).
func Apply(ctx context.Context, b model.Batch, opts Options) error {
	if len(b.Ops) == 0 {
		return nil
	}
	w, err := encodeBatch(&b, seqBegin+1)
	if err != nil {
		return err
	}
	return applyWire(ctx, w, func() (*model.Batch, error) { return &b, nil }, opts)
}

// applyWire sends an encoded batch (see Apply); ops returns the batch w
// was encoded from, for explaining refusals (called only then).
func applyWire(ctx context.Context, w *wire, ops func() (*model.Batch, error), opts Options) error {
	if opts.Echo != nil {
		markEcho(w, opts.Echo)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	s, err := openSocket(opts.NetNS)
	if err != nil {
		return err
	}
	defer s.close()

	endSeq := w.firstSeq + uint32(len(w.msgs))
	end := batchMsg(nfnlMsgBatchEnd, endSeq, 0)
	for attempt := 0; ; attempt++ {
		genid, err := s.genID()
		if err != nil {
			return err
		}
		if opts.beforeSend != nil {
			if err := opts.beforeSend(attempt); err != nil {
				return err
			}
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		iov := make([][]byte, 0, len(w.chunks)+2)
		iov = append(iov, batchMsg(nfnlMsgBatchBegin, seqBegin, genid))
		iov = append(iov, w.chunks...)
		if !opts.Check {
			iov = append(iov, end)
		}
		acks, err := s.sendBatch(iov, w.size+64)
		if err != nil {
			return err
		}
		errs, restart := mapAcks(ops, w, acks, netnsDeviceProbe(opts.NetNS))
		if restart && attempt == 0 {
			continue
		}
		if restart {
			return ErrGenerationChanged
		}
		if len(errs) > 0 {
			return errs
		}
		if opts.RuleHandle != nil && !opts.Check {
			for _, a := range acks {
				if i := w.indexOf(a.seq); a.echo && i >= 0 {
					opts.RuleHandle(int(w.msgs[i].op), a.handle)
				}
			}
		}
		return nil
	}
}

// batchMsg builds NFNL_MSG_BATCH_BEGIN or _END for the nf_tables
// subsystem, with the generation id attribute when genid is not 0.
func batchMsg(typ uint16, seq, genid uint32) []byte {
	var e encoder
	m := e.begin(typ, nlmFRequest, seq, unix.AF_UNSPEC, nfnlSubsysNFTables)
	if genid != 0 {
		e.u32(nfnlBatchGenID, genid)
	}
	e.end(m)
	return e.b
}

// socket is an nf_tables netlink socket.
type socket struct {
	c     *netlink.Conn
	netns string
}

func openSocket(netns string) (*socket, error) {
	c, err := DialNetlink(unix.NETLINK_NETFILTER, netns, nil)
	if err != nil {
		return nil, err
	}
	// Extended ACKs carry the kernel's message and the offending
	// attribute; capped ACKs keep errors from echoing whole messages.
	_ = c.SetOption(netlink.ExtendedAcknowledge, true)
	_ = c.SetOption(netlink.CapAcknowledge, true)
	return &socket{c: c, netns: netns}, nil
}

func (s *socket) close() { _ = s.c.Close() }

// genID reads the ruleset generation id (NFT_MSG_GETGEN).
func (s *socket) genID() (uint32, error) {
	req := netlink.Message{
		Header: netlink.Header{Type: netlink.HeaderType(nftType(msgGetGen)), Flags: netlink.Request},
		Data:   []byte{unix.AF_UNSPEC, 0, 0, 0},
	}
	msgs, err := s.c.Execute(req)
	if err != nil {
		if errors.Is(err, unix.EPERM) || errors.Is(err, unix.EACCES) {
			return 0, fmt.Errorf("read ruleset generation: %w (nftflow needs CAP_NET_ADMIN: run it as root)", err)
		}
		return 0, fmt.Errorf("read ruleset generation: %w", err)
	}
	for _, m := range msgs {
		if len(m.Data) < nfgenmsgLen {
			continue
		}
		ad, err := netlink.NewAttributeDecoder(m.Data[nfgenmsgLen:])
		if err != nil {
			return 0, fmt.Errorf("read ruleset generation: %w", err)
		}
		ad.ByteOrder = binary.BigEndian
		for ad.Next() {
			if ad.Type() == attrGenID {
				return ad.Uint32(), nil
			}
		}
	}
	return 0, errors.New("read ruleset generation: no generation id in the kernel's answer")
}

// ack is one error or acknowledgement from the kernel.
type ack struct {
	seq   uint32
	errno syscall.Errno // 0 for a positive ACK
	msg   string        // NLMSGERR_ATTR_MSG
	off   int           // NLMSGERR_ATTR_OFFS, -1 when absent
	// echo is set for an echoed NEWRULE notification (errno is 0),
	// which carries the rule's handle.
	echo   bool
	handle uint64
}

// sendBatch sends the batch in one sendmsg (the kernel handles a batch
// only within one skb) and collects the kernel's answers. nfnetlink
// processes the batch synchronously inside sendmsg, so every answer is
// queued when sendmsg returns.
func (s *socket) sendBatch(iov [][]byte, size int) ([]ack, error) {
	rc, err := s.c.SyscallConn()
	if err != nil {
		return nil, fmt.Errorf("send batch: %w", err)
	}
	var sockErr error
	cerr := rc.Control(func(fd uintptr) {
		// The kernel refuses a message larger than the send buffer
		// (EMSGSIZE): size it to the batch. FORCE needs CAP_NET_ADMIN,
		// which applying needs anyway.
		if err := unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_SNDBUFFORCE, size); err != nil {
			if err := unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_SNDBUF, size); err != nil {
				sockErr = err
			}
		}
		// Each error arrives in an skb of its own (about 1 KiB of
		// buffer accounting), and every message of a batch may fail. The
		// limit costs nothing unless errors arrive. Messages are at least
		// 64 bytes but for rare deletes.
		rcv := max(1<<20, min(size/64*1536, 1<<30))
		if err := unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, rcv); err != nil {
			_ = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RCVBUF, rcv)
		}
	})
	if cerr != nil {
		return nil, fmt.Errorf("send batch: %w", cerr)
	}
	if sockErr != nil {
		return nil, fmt.Errorf("send batch: set send buffer to %d bytes: %w", size, sockErr)
	}

	var sendErr error
	werr := rc.Write(func(fd uintptr) bool {
		_, sendErr = unix.SendmsgBuffers(int(fd), iov, nil, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}, 0)
		return sendErr != unix.EAGAIN
	})
	if werr != nil {
		return nil, fmt.Errorf("send batch: %w", werr)
	}
	if sendErr == unix.EMSGSIZE {
		return nil, fmt.Errorf("send batch of %d bytes: %w (the socket send buffer is too small: run as root, or raise net.core.wmem_max)", size, sendErr)
	}
	if sendErr != nil {
		return nil, fmt.Errorf("send batch of %d bytes: %w", size, sendErr)
	}

	var acks []ack
	var recvErr error
	buf := make([]byte, 256<<10)
	rerr := rc.Read(func(fd uintptr) bool {
		for {
			n, _, err := unix.Recvfrom(int(fd), buf, unix.MSG_DONTWAIT)
			if err == unix.EINTR {
				continue
			}
			if err == unix.EAGAIN {
				return true
			}
			if err != nil {
				recvErr = err
				return true
			}
			acks, err = parseAcks(buf[:n], acks)
			if err != nil {
				recvErr = err
				return true
			}
		}
	})
	if rerr != nil {
		return nil, fmt.Errorf("read the kernel's answer: %w", rerr)
	}
	if recvErr == unix.ENOBUFS {
		// Some reports were dropped. Whatever arrived still names refused
		// operations; the batch as a whole was refused either way.
		acks = append(acks, ack{seq: 0, errno: unix.ENOBUFS, msg: "more refusals were lost: the socket receive buffer overflowed", off: -1})
		return acks, nil
	}
	if recvErr != nil {
		return nil, fmt.Errorf("read the kernel's answer: %w", recvErr)
	}
	return acks, nil
}

// Netlink error message details (uapi linux/netlink.h).
const (
	nlmsgError    = 2
	nlmFCapped    = 0x100
	nlmFAckTLVs   = 0x200
	nlmsgerrMsg   = 1
	nlmsgerrOffs  = 2
	nlmsgerrHdLen = 4 + nlmsgHdrLen
)

// parseAcks appends the NLMSG_ERROR messages in one datagram to acks.
func parseAcks(b []byte, acks []ack) ([]ack, error) {
	for len(b) >= nlmsgHdrLen {
		l := int(binary.NativeEndian.Uint32(b))
		if l < nlmsgHdrLen || l > len(b) {
			return acks, errors.New("malformed netlink answer")
		}
		typ := binary.NativeEndian.Uint16(b[4:])
		flags := binary.NativeEndian.Uint16(b[6:])
		m := b[:l]
		b = b[min(nlmsgAlign(l), len(b)):]
		if typ == nftType(msgNewRule) {
			if h, ok := parseEchoedRule(m); ok {
				acks = append(acks, ack{seq: binary.NativeEndian.Uint32(m[8:]), echo: true, handle: h, off: -1})
			}
			continue
		}
		if typ != nlmsgError || l < nlmsgHdrLen+nlmsgerrHdLen {
			continue
		}
		p := m[nlmsgHdrLen:]
		code := int32(binary.NativeEndian.Uint32(p))
		orig := p[4:]
		a := ack{seq: binary.NativeEndian.Uint32(orig[8:]), off: -1}
		if code < 0 {
			a.errno = syscall.Errno(-code)
		}
		tl := nlmsgerrHdLen
		if flags&nlmFCapped == 0 {
			tl = 4 + int(binary.NativeEndian.Uint32(orig))
		}
		if flags&nlmFAckTLVs != 0 && tl >= 0 && tl <= len(p) {
			ad, err := netlink.NewAttributeDecoder(p[min(nlmsgAlign(tl), len(p)):])
			if err == nil {
				for ad.Next() {
					switch ad.Type() {
					case nlmsgerrMsg:
						a.msg = ad.String()
					case nlmsgerrOffs:
						a.off = int(ad.Uint32())
					}
				}
			}
		}
		acks = append(acks, a)
	}
	return acks, nil
}

func nlmsgAlign(n int) int { return (n + 3) &^ 3 }

// mapAcks turns the kernel's answers into errors keyed to operations.
// restart reports that the kernel refused the batch because the
// generation changed (ERESTART on BATCH_BEGIN).
func mapAcks(ops func() (*model.Batch, error), w *wire, acks []ack, probe *deviceProbe) (errs OpErrors, restart bool) {
	var b *model.Batch
	for _, a := range acks {
		if a.errno == 0 {
			continue
		}
		i := w.indexOf(a.seq)
		if i < 0 {
			if a.errno == unix.ERESTART {
				restart = true
				continue
			}
			errs = append(errs, batchError(a))
			continue
		}
		ref := w.msgs[i]
		if len(errs) > 0 && errs[len(errs)-1].Index == int(ref.op) {
			// A later message of an operation already refused (the
			// elements of a set the kernel did not create) only repeats it.
			continue
		}
		if b == nil {
			var err error
			if b, err = ops(); err != nil || b == nil {
				b = &model.Batch{}
			}
		}
		if int(ref.op) >= len(b.Ops) {
			// The operations could not be rebuilt: report the refusal
			// without its source.
			oe := batchError(a)
			oe.Index = int(ref.op)
			errs = append(errs, oe)
			continue
		}
		op := b.Ops[ref.op]
		k := i
		for k > 0 && w.msgs[k-1].op == ref.op {
			k--
		}
		oe := &OpError{Op: op, Index: int(ref.op), Elem: -1, Expr: -1, Errno: a.errno, Msg: a.msg}
		if a.off >= 0 {
			if msg, err := reencode(op, i-k); err == nil {
				locate(oe, msg, a.off, int(ref.elem))
			}
		}
		if oe.Elem < 0 && ref.elem >= 0 {
			oe.ElemFirst = int(ref.elem)
		}
		oe.Cause = explain(oe, probe)
		errs = append(errs, oe)
	}
	return errs, restart
}

func batchError(a ack) *OpError {
	oe := &OpError{Index: -1, Elem: -1, Expr: -1, Errno: a.errno, Msg: a.msg}
	oe.Cause = explain(oe, nil)
	return oe
}

// locate finds the rule expression or set element the kernel's error
// offset points into.
func locate(oe *OpError, msg []byte, off, firstElem int) {
	if off < nlmsgHdrLen+nfgenmsgLen || off >= len(msg) {
		return
	}
	var list uint16
	switch oe.Op.Obj.(type) {
	case *model.Rule:
		list = attrRuleExpressions
	case *model.Set, *model.SetElems:
		list = attrElemListElements
	default:
		return
	}
	pos := nlmsgHdrLen + nfgenmsgLen
	for pos+nlaHdrLen <= len(msg) {
		l := int(binary.NativeEndian.Uint16(msg[pos:]))
		t := binary.NativeEndian.Uint16(msg[pos+2:]) &^ nlaFNested
		if l < nlaHdrLen {
			return
		}
		if off >= pos && off < pos+l {
			if t != list {
				return
			}
			idx := 0
			for p := pos + nlaHdrLen; p+nlaHdrLen <= pos+l; idx++ {
				el := int(binary.NativeEndian.Uint16(msg[p:]))
				if el < nlaHdrLen {
					return
				}
				if off >= p && off < p+el {
					if list == attrRuleExpressions {
						oe.Expr = idx
					} else if firstElem >= 0 {
						oe.Elem = firstElem + idx
					}
					return
				}
				p += nlmsgAlign(el)
			}
			return
		}
		pos += nlmsgAlign(l)
	}
}
