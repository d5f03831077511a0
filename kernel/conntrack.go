package kernel

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"

	"github.com/nftflow/nftflow/model"
)

// FlowOptions select where and what DumpFlows and WatchFlows read.
type FlowOptions struct {
	// Netns is the named network namespace to read ("" = the current one).
	Netns string
	// Family limits the dump to model.FamilyIP or model.FamilyIP6; 0 reads
	// both (AF_UNSPEC). WatchFlows filters events by it.
	Family model.Family
}

func ctMsgType(msg uint16) netlink.HeaderType {
	return netlink.HeaderType(nfnlSubsysCtnetlink<<8 | msg)
}

// dialConntrack opens a NETLINK_NETFILTER socket in the namespace.
func dialConntrack(netns string, groups uint32) (*netlink.Conn, error) {
	return DialNetlink(unix.NETLINK_NETFILTER, netns, &netlink.Config{Groups: groups})
}

// ctCloseOnCancel makes a blocked receive on c return when ctx ends; the
// returned stop function must be called when done.
func ctCloseOnCancel(ctx context.Context, c *netlink.Conn) (stop func()) {
	done := make(chan struct{})
	go func() {
		select {
		case <-ctx.Done():
			_ = c.SetReadDeadline(time.Unix(1, 0))
		case <-done:
		}
	}()
	return func() { close(done) }
}

// DumpFlows reads the conntrack table and calls fn for every entry as it
// arrives, so memory stays flat however large the table is. The *model.Flow
// passed to fn is reused for the next entry: copy what you keep. An error
// from fn stops the dump and is returned as is.
func DumpFlows(ctx context.Context, opts FlowOptions, fn func(*model.Flow) error) error {
	c, err := dialConntrack(opts.Netns, 0)
	if err != nil {
		return err
	}
	defer c.Close()
	stop := ctCloseOnCancel(ctx, c)
	defer stop()
	// Ask for a large receive buffer so the kernel can fill big datagrams.
	_ = c.SetReadBuffer(1 << 20)

	var d FlowDecoder
	return ctDumpRaw(ctx, c, opts.Family, func(_ netlink.Header, data []byte) error {
		f, err := d.Decode(data)
		if err != nil {
			return err
		}
		return fn(f)
	})
}

// ctRecvBuffer is the size of the one receive buffer a dump reuses. The
// kernel fills dump datagrams up to 32 KiB; twice that leaves room.
const ctRecvBuffer = 64 << 10

// ctDumpRaw sends a conntrack dump request and hands every reply message's
// payload to fn, stopping at the end of the dump. It reads the socket into
// one reused buffer (mdlayher/netlink's Receive allocates one per
// datagram), so a dump of any size allocates nothing per entry.
func ctDumpRaw(ctx context.Context, c *netlink.Conn, family model.Family, fn func(netlink.Header, []byte) error) error {
	req := netlink.Message{
		Header: netlink.Header{
			Type:  ctMsgType(ipctnlMsgCtGet),
			Flags: netlink.Request | netlink.Dump,
		},
		Data: []byte{byte(family), nfnetlinkV0, 0, 0},
	}
	sent, err := c.Send(req)
	if err != nil {
		return fmt.Errorf("conntrack dump request: %w", err)
	}
	rc, err := c.SyscallConn()
	if err != nil {
		return fmt.Errorf("conntrack dump: %w", err)
	}
	buf := make([]byte, ctRecvBuffer)
	for {
		var n int
		var rerr error
		err := rc.Read(func(fd uintptr) bool {
			n, _, rerr = unix.Recvfrom(int(fd), buf, unix.MSG_TRUNC)
			return rerr != unix.EAGAIN && rerr != unix.EWOULDBLOCK
		})
		if err == nil {
			err = rerr
		}
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return fmt.Errorf("conntrack dump: %w", err)
		}
		if n > len(buf) {
			return fmt.Errorf("conntrack dump: datagram of %d bytes exceeds the %d-byte buffer", n, len(buf))
		}
		done, err := ctEachMessage(buf[:n], sent.Header.Sequence, fn)
		if err != nil || done {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
	}
}

// ctEachMessage walks the netlink messages of one datagram, handing
// conntrack entries to fn. done reports the end of the dump.
func ctEachMessage(b []byte, seq uint32, fn func(netlink.Header, []byte) error) (done bool, err error) {
	const hdrLen = 16
	for len(b) >= hdrLen {
		h := netlink.Header{
			Length:   binary.NativeEndian.Uint32(b),
			Type:     netlink.HeaderType(binary.NativeEndian.Uint16(b[4:])),
			Flags:    netlink.HeaderFlags(binary.NativeEndian.Uint16(b[6:])),
			Sequence: binary.NativeEndian.Uint32(b[8:]),
			PID:      binary.NativeEndian.Uint32(b[12:]),
		}
		l := int(h.Length)
		if l < hdrLen || l > len(b) {
			return false, fmt.Errorf("conntrack dump: netlink message length %d out of bounds", l)
		}
		data := b[hdrLen:l]
		if al := (l + 3) &^ 3; al < len(b) {
			b = b[al:]
		} else {
			b = nil
		}
		if h.Sequence != seq {
			continue // not ours (a stale reply)
		}
		switch h.Type {
		case netlink.Done:
			return true, nil
		case netlink.Error:
			if len(data) >= 4 {
				if code := int32(binary.NativeEndian.Uint32(data)); code != 0 {
					return false, fmt.Errorf("conntrack dump: %w", unix.Errno(-code))
				}
			}
			return true, nil
		case ctMsgType(ipctnlMsgCtNew):
			if err := fn(h, data); err != nil {
				return false, err
			}
		}
	}
	return false, nil
}

// FlowEvent is the kind of a conntrack event.
type FlowEvent uint8

// The conntrack event kinds, as conntrack -E names them.
const (
	FlowNew FlowEvent = iota + 1
	FlowUpdate
	FlowDestroy
)

// String returns "NEW", "UPDATE" or "DESTROY".
func (e FlowEvent) String() string {
	switch e {
	case FlowNew:
		return "NEW"
	case FlowUpdate:
		return "UPDATE"
	case FlowDestroy:
		return "DESTROY"
	}
	return "UNKNOWN"
}

// FlowChange is one conntrack event as WatchFlows reports it.
type FlowChange struct {
	Kind FlowEvent
	// Flow is reused between events: copy what you keep. Nil when Lost.
	Flow *model.Flow
	// PortID is the netlink port of the process whose request caused the
	// event (conntrack -E's "[USERSPACE] portid="), 0 for the kernel.
	PortID uint32
	// Lost reports that the kernel dropped events because the socket
	// buffer overflowed (ENOBUFS); watching goes on.
	Lost bool
}

// WatchFlows subscribes to conntrack NEW, UPDATE and DESTROY events and calls
// fn for each until ctx ends (it then returns nil) or fn returns an error.
func WatchFlows(ctx context.Context, opts FlowOptions, fn func(FlowChange) error) error {
	groups := uint32(1<<(nfnlgrpConntrackNew-1) | 1<<(nfnlgrpConntrackUpdate-1) | 1<<(nfnlgrpConntrackDestroy-1))
	c, err := dialConntrack(opts.Netns, groups)
	if err != nil {
		return err
	}
	defer c.Close()
	stop := ctCloseOnCancel(ctx, c)
	defer stop()
	_ = c.SetReadBuffer(4 << 20)

	var d FlowDecoder
	for ctx.Err() == nil {
		for m, err := range c.ReceiveIter() {
			if err != nil {
				if ctx.Err() != nil {
					return nil
				}
				if errors.Is(err, unix.ENOBUFS) {
					if err := fn(FlowChange{Lost: true}); err != nil {
						return err
					}
					break
				}
				return fmt.Errorf("conntrack events: %w", err)
			}
			var ev FlowEvent
			switch m.Header.Type {
			case ctMsgType(ipctnlMsgCtNew):
				ev = FlowUpdate
				if m.Header.Flags&(netlink.Create|netlink.Excl) != 0 {
					ev = FlowNew
				}
			case ctMsgType(ipctnlMsgCtDelete):
				ev = FlowDestroy
			default:
				continue
			}
			f, err := d.Decode(m.Data)
			if err != nil {
				return err
			}
			if opts.Family != 0 && f.Family != opts.Family {
				continue
			}
			if err := fn(FlowChange{Kind: ev, Flow: f, PortID: m.Header.PID}); err != nil {
				return err
			}
		}
	}
	return nil
}
