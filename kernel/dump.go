package kernel

import (
	"encoding/binary"
	"errors"
	"fmt"
	"runtime"
	"syscall"

	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"

	"github.com/nftflow/nftflow/model"
)

// The nf_tables GET message types used by the dumps (the NEW types the
// kernel answers with are in nftconst.go).
const (
	msgGetTable     = 1
	msgGetChain     = 4
	msgGetRule      = 7
	msgGetSet       = 10
	msgGetSetElem   = 13
	msgGetObj       = 19
	msgGetFlowtable = 23
)

// dumpBufferSize is the receive buffer of a Dumper: above the 32 KB the
// kernel caps dump messages at, with room for any single message.
const dumpBufferSize = 128 << 10

// ErrDumpInterrupted reports that the ruleset changed while it was being
// dumped (NLM_F_DUMP_INTR); the caller may retry.
var ErrDumpInterrupted = errors.New("nf_tables dump interrupted by a concurrent ruleset change")

// Dumper reads an nf_tables ruleset back from the kernel with NFT_MSG_GET*
// dumps, one object at a time, decoding each message into model objects as
// it arrives.
type Dumper struct {
	conn *netlink.Conn
	// Record, when set, receives a copy of every message the kernel
	// answers, in order (used to record golden test inputs).
	Record func(netlink.Message)
	// Discard makes Rules and SetElems read their dumps and drop the
	// messages without decoding them: the listing then costs what the
	// kernel spends building the dump, which is what benchmarks compare
	// against.
	Discard bool
	// CompactElems lets SetElems keep the elements of named interval sets
	// in a model.ElemSlab (listings of large sets; see model.Set.Slab).
	CompactElems bool
	// ShareExprs lets the rules of one Rules dump share the expression
	// objects they repeat byte for byte (decoded once): for listings,
	// which only read them.
	ShareExprs bool

	free chan []byte // receive buffers of raw dumps, reused across dumps
}

// NewDumper dials nf_tables in the named network namespace ("" = current).
func NewDumper(netns string) (*Dumper, error) {
	// A large fixed receive buffer lets the kernel fill 32 KB dump
	// messages (it sizes them after the reader's buffer); with the
	// default peek-sized reads every message is one page, and the rule
	// dump, which restarts from the chain's first rule for each message,
	// turns quadratic on long chains.
	c, err := DialNetlink(unix.NETLINK_NETFILTER, netns, &netlink.Config{MessageBufferSize: dumpBufferSize})
	if err != nil {
		return nil, err
	}
	return &Dumper{conn: c}, nil
}

// NewDumperConn wraps an existing netlink connection (for example one from
// nltest.Dial in tests).
func NewDumperConn(c *netlink.Conn) *Dumper { return &Dumper{conn: c} }

// Close closes the socket.
func (d *Dumper) Close() error { return d.conn.Close() }

// Filter narrows a dump. The zero Filter dumps everything.
type Filter struct {
	Family model.Family // 0: every family (NFPROTO_UNSPEC)
	Table  string       // "": every table
	Chain  string       // rules only: "" for every chain
}

// request builds an nf_tables dump request.
func request(msg uint8, fam model.Family, attrs []netlink.Attribute) (netlink.Message, error) {
	body := []byte{byte(fam), 0, 0, 0} // nfgenmsg: family, NFNETLINK_V0, res_id
	if len(attrs) > 0 {
		b, err := netlink.MarshalAttributes(attrs)
		if err != nil {
			return netlink.Message{}, err
		}
		body = append(body, b...)
	}
	return netlink.Message{
		Header: netlink.Header{
			Type:  netlink.HeaderType(nfnlSubsysNFTables<<8 | uint16(msg)),
			Flags: netlink.Request | netlink.Dump,
		},
		Data: body,
	}, nil
}

// strAttr returns a NUL-terminated string attribute.
func strAttr(typ uint16, s string) netlink.Attribute {
	return netlink.Attribute{Type: typ, Data: append([]byte(s), 0)}
}

// dump sends a dump request and calls fn with the body of each answer of
// type want, as it is read from the socket.
func (d *Dumper) dump(req netlink.Message, want uint8, fn func([]byte) error) error {
	if _, err := d.conn.Send(req); err != nil {
		return fmt.Errorf("send dump request: %w", err)
	}
	typ := nfnlSubsysNFTables<<8 | uint16(want)
	if d.Record == nil {
		if rc, err := d.conn.SyscallConn(); err == nil {
			return d.dumpRaw(rc, typ, fn)
		}
	}
	var fnErr error
	interrupted := false
	for m, err := range d.conn.ReceiveIter() {
		if err != nil {
			return fmt.Errorf("receive dump: %w", err)
		}
		if m.Header.Flags&netlink.DumpInterrupted != 0 {
			interrupted = true
		}
		if d.Record != nil {
			cp := m
			cp.Data = append([]byte(nil), m.Data...)
			d.Record(cp)
		}
		// Keep draining after an error so the socket stays usable.
		if fnErr != nil || uint16(m.Header.Type) != typ {
			continue
		}
		fnErr = fn(m.Data)
	}
	if fnErr != nil {
		return fnErr
	}
	if interrupted {
		return ErrDumpInterrupted
	}
	return nil
}

// dumpBuffers is how many receive buffers a raw dump cycles through: the
// reader fills the next ones while the caller decodes the first.
const dumpBuffers = 4

// dumpChunk is one datagram read by dumpRaw's reader.
type dumpChunk struct {
	buf  []byte // the whole buffer, returned to the free list
	n    int    // bytes received
	err  error
	last bool // holds NLMSG_DONE or NLMSG_ERROR, or err is set
}

// dumpRaw reads the answers to a dump request straight from the socket
// into reused buffers. A reader goroutine receives the datagrams (the
// kernel builds each next part of a dump inside that receive call) while
// the caller decodes the previous ones, so the kernel's time and the
// decoding overlap on two CPUs instead of adding up; no message is copied
// or allocated on the way.
func (d *Dumper) dumpRaw(rc syscall.RawConn, typ uint16, fn func([]byte) error) error {
	if d.free == nil {
		d.free = make(chan []byte, dumpBuffers)
		for range dumpBuffers {
			d.free <- make([]byte, dumpBufferSize)
		}
	}
	recv := func(b []byte) dumpChunk {
		var n int
		var rerr error
		err := rc.Read(func(fd uintptr) bool {
			// MSG_TRUNC: n is the datagram's size even if larger than b.
			n, _, rerr = unix.Recvfrom(int(fd), b, unix.MSG_TRUNC)
			return rerr != unix.EAGAIN
		})
		if err == nil {
			err = rerr
		}
		if err == nil && n > len(b) {
			err = fmt.Errorf("dump message of %d bytes truncated to %d", n, len(b))
		}
		c := dumpChunk{buf: b, n: n, err: err}
		c.last = err != nil || chunkEnds(b[:max(n, 0)])
		return c
	}
	if runtime.GOMAXPROCS(0) == 1 {
		// One CPU: nothing to overlap, so no hand-offs between threads.
		return d.dumpSeq(recv, typ, fn)
	}
	full := make(chan dumpChunk, dumpBuffers)
	go func() {
		defer close(full)
		for {
			c := recv(<-d.free)
			full <- c
			if c.last {
				return
			}
		}
	}()
	var fnErr, endErr error
	interrupted := false
	for c := range full {
		if c.err != nil {
			endErr = fmt.Errorf("receive dump: %w", c.err)
		} else if endErr == nil {
			err := eachMessage(c.buf[:c.n], func(mtyp, flags uint16, data []byte) error {
				if flags&uint16(netlink.DumpInterrupted) != 0 {
					interrupted = true
				}
				// Keep draining after an error so the socket stays usable.
				if fnErr == nil && mtyp == typ {
					fnErr = fn(data)
				}
				return nil
			})
			if err != nil {
				endErr = fmt.Errorf("receive dump: %w", err)
			}
		}
		d.free <- c.buf
	}
	switch {
	case endErr != nil:
		return endErr
	case fnErr != nil:
		return fnErr
	case interrupted:
		return ErrDumpInterrupted
	}
	return nil
}

// dumpSeq is dumpRaw receiving and decoding in turn on one goroutine.
func (d *Dumper) dumpSeq(recv func([]byte) dumpChunk, typ uint16, fn func([]byte) error) error {
	b := <-d.free
	defer func() { d.free <- b }()
	var fnErr error
	interrupted := false
	for {
		c := recv(b)
		if c.err != nil {
			return fmt.Errorf("receive dump: %w", c.err)
		}
		err := eachMessage(c.buf[:c.n], func(mtyp, flags uint16, data []byte) error {
			if flags&uint16(netlink.DumpInterrupted) != 0 {
				interrupted = true
			}
			if fnErr == nil && mtyp == typ {
				fnErr = fn(data)
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("receive dump: %w", err)
		}
		if c.last {
			break
		}
	}
	switch {
	case fnErr != nil:
		return fnErr
	case interrupted:
		return ErrDumpInterrupted
	}
	return nil
}

// Netlink control message types (linux/netlink.h; nlmsgError is in
// apply.go).
const (
	nlmsgNoop = 1
	nlmsgDone = 3
)

// chunkEnds reports whether a datagram holds the end of a dump: an
// NLMSG_DONE or NLMSG_ERROR message (or cannot be parsed).
func chunkEnds(b []byte) bool {
	for len(b) >= nlmsgHdrLen {
		l := int(binary.NativeEndian.Uint32(b))
		t := binary.NativeEndian.Uint16(b[4:])
		if t == nlmsgDone || t == nlmsgError || l < nlmsgHdrLen || l > len(b) {
			return true
		}
		b = b[min(nlmsgAlign(l), len(b)):]
	}
	return len(b) != 0
}

// eachMessage calls fn with the type, flags and body of each message of a
// datagram. NLMSG_DONE and NLMSG_ERROR end the dump; a non-zero error code
// in them is returned as a *netlink.OpError wrapping the errno, as
// netlink.Conn reports it.
func eachMessage(b []byte, fn func(typ, flags uint16, data []byte) error) error {
	for len(b) >= nlmsgHdrLen {
		l := int(binary.NativeEndian.Uint32(b))
		if l < nlmsgHdrLen || l > len(b) {
			return fmt.Errorf("malformed netlink message of length %d in %d bytes", l, len(b))
		}
		t := binary.NativeEndian.Uint16(b[4:])
		flags := binary.NativeEndian.Uint16(b[6:])
		data := b[nlmsgHdrLen:l]
		switch t {
		case nlmsgNoop:
		case nlmsgDone, nlmsgError:
			if t == nlmsgDone && len(data) == 0 {
				return nil
			}
			if len(data) < 4 {
				return fmt.Errorf("short netlink error message")
			}
			if code := int32(binary.NativeEndian.Uint32(data)); code != 0 {
				return &netlink.OpError{Op: "receive", Err: unix.Errno(-code)}
			}
			return nil
		default:
			if err := fn(t, flags, data); err != nil {
				return err
			}
		}
		b = b[min(nlmsgAlign(l), len(b)):]
	}
	return nil
}

// Tables calls fn for each table matching f (Family and Table), in the
// kernel's order.
func (d *Dumper) Tables(f Filter, fn func(*model.Table) error) error {
	req, err := request(msgGetTable, f.Family, nil)
	if err != nil {
		return err
	}
	return d.dump(req, msgNewTable, func(b []byte) error {
		t, err := DecodeTable(b)
		if err != nil {
			return err
		}
		if f.Table != "" && t.Name != f.Table {
			return nil
		}
		return fn(t)
	})
}

// Chains calls fn for each chain of the tables matching f.
func (d *Dumper) Chains(f Filter, fn func(*model.Chain) error) error {
	var attrs []netlink.Attribute
	if f.Table != "" {
		attrs = append(attrs, strAttr(1, f.Table)) // NFTA_CHAIN_TABLE
	}
	req, err := request(msgGetChain, f.Family, attrs)
	if err != nil {
		return err
	}
	return d.dump(req, msgNewChain, func(b []byte) error {
		c, err := DecodeChain(b)
		if err != nil {
			return err
		}
		if f.Table != "" && c.Table != f.Table {
			return nil
		}
		return fn(c)
	})
}

// Rules calls fn for each rule of the tables (and chain) matching f.
// For the rules of a table with more than one chain, ChainRules is much
// faster.
func (d *Dumper) Rules(f Filter, fn func(*model.Rule) error) error {
	var names ruleNames
	var cache *exprCache
	if d.ShareExprs {
		cache = &exprCache{}
	}
	return d.rules(f, &names, cache, fn)
}

// ChainRules calls fn for each rule of the named chains of the table f
// names, chain by chain in the order given, with one dump per chain.
//
// A dump of a whole table's rules is quadratic in the kernel: each reply
// holds at most 32 KB (about 300 rules), and the kernel finds where the
// next one starts by walking every rule of the table from the first. A
// dump of one chain walks that chain only. With 100 chains of 1,000 rules
// the chain by chain dumps take 0.17 s against 1.9 s for the table's (a
// table of 5,000 chains of two rules: 58 ms against 15 ms, one request
// each).
func (d *Dumper) ChainRules(f Filter, chains []string, fn func(*model.Rule) error) error {
	var names ruleNames
	var cache *exprCache
	if d.ShareExprs {
		cache = &exprCache{}
	}
	for _, c := range chains {
		g := f
		g.Chain = c
		if err := d.rules(g, &names, cache, fn); err != nil {
			return err
		}
	}
	return nil
}

func (d *Dumper) rules(f Filter, names *ruleNames, cache *exprCache, fn func(*model.Rule) error) error {
	var attrs []netlink.Attribute
	if f.Table != "" {
		attrs = append(attrs, strAttr(1, f.Table)) // NFTA_RULE_TABLE
		if f.Chain != "" {
			attrs = append(attrs, strAttr(2, f.Chain)) // NFTA_RULE_CHAIN
		}
	}
	req, err := request(msgGetRule, f.Family, attrs)
	if err != nil {
		return err
	}
	return d.dump(req, msgNewRule, func(b []byte) error {
		if d.Discard {
			return nil
		}
		r, err := decodeRule(b, names, cache)
		if err != nil {
			return err
		}
		if (f.Table != "" && r.Table != f.Table) || (f.Chain != "" && r.Chain != f.Chain) {
			return nil
		}
		return fn(r)
	})
}

// Sets calls fn for each set (named and anonymous) of the tables matching
// f, without elements (see SetElems).
func (d *Dumper) Sets(f Filter, fn func(*model.Set) error) error {
	var attrs []netlink.Attribute
	if f.Table != "" {
		attrs = append(attrs, strAttr(1, f.Table)) // NFTA_SET_TABLE
	}
	req, err := request(msgGetSet, f.Family, attrs)
	if err != nil {
		return err
	}
	return d.dump(req, msgNewSet, func(b []byte) error {
		s, err := DecodeSet(b)
		if err != nil {
			return err
		}
		if f.Table != "" && s.Table != f.Table {
			return nil
		}
		return fn(s)
	})
}

// SetElems fills s.Elements with the set's elements (NFT_MSG_GETSETELEM).
// With CompactElems, a named interval set whose elements are plain keys
// gets them in s.Slab instead.
func (d *Dumper) SetElems(s *model.Set) error {
	req, err := request(msgGetSetElem, s.Family, []netlink.Attribute{
		strAttr(1, s.Table), // NFTA_SET_ELEM_LIST_TABLE
		strAttr(2, s.Name),  // NFTA_SET_ELEM_LIST_SET
	})
	if err != nil {
		return err
	}
	s.Elements = s.Elements[:0]
	s.Slab = nil
	const (
		setAnonymous = 0x1
		setInterval  = 0x4
		setMap       = 0x8
		setObject    = 0x40
		setConcat    = 0x80
	)
	var slab *model.ElemSlab
	if d.CompactElems && s.Flags&setInterval != 0 && s.Flags&(setAnonymous|setMap|setObject|setConcat) == 0 &&
		len(s.FieldLens) <= 1 && s.KeyLen > 0 {
		slab = &model.ElemSlab{KeyLen: int(s.KeyLen)}
	}
	err = d.dump(req, msgNewSetElem, func(b []byte) error {
		if d.Discard {
			return nil
		}
		if slab != nil {
			n := slab.Len()
			if slabElems(slab, b) {
				return nil
			}
			// An element with more than a key: back to SetElems.
			slab.Truncate(n)
			s.Elements = slab.Elements()
			slab = nil
		}
		_, elems, err := DecodeSetElems(b)
		if err != nil {
			return err
		}
		s.Elements = append(s.Elements, elems...)
		return nil
	})
	if slab != nil && err == nil {
		s.Slab = slab
	}
	return err
}

// slabElems appends the elements of an NFT_MSG_NEWSETELEM message to slab
// and reports true when every one of them is a plain key of the slab's
// length with no flag but NFT_SET_ELEM_INTERVAL_END; otherwise it returns
// false, having appended some of them.
func slabElems(slab *model.ElemSlab, b []byte) bool {
	const (
		attrElements = 3 // NFTA_SET_ELEM_LIST_ELEMENTS
		elemKey      = 1 // NFTA_SET_ELEM_KEY
		elemFlags    = 3 // NFTA_SET_ELEM_FLAGS
	)
	if len(b) < nfgenHeaderLen {
		return false
	}
	msg := attrIter{b: b[nfgenHeaderLen:]}
	for msg.next() {
		if msg.typ != attrElements {
			continue
		}
		list := attrIter{b: msg.data}
		for list.next() {
			if list.typ != 1 { // NFTA_LIST_ELEM
				return false
			}
			var key []byte
			var flags uint32
			el := attrIter{b: list.data}
			for el.next() {
				switch el.typ {
				case elemKey:
					val := attrIter{b: el.data}
					for val.next() {
						if val.typ != 1 { // NFTA_DATA_VALUE
							return false
						}
						key = val.data
					}
					if val.err != nil {
						return false
					}
				case elemFlags:
					flags = el.u32()
				default:
					return false
				}
			}
			if el.err != nil || len(key) != slab.KeyLen || flags > 1 {
				return false
			}
			slab.Add(key, uint8(flags))
		}
		if list.err != nil {
			return false
		}
	}
	return msg.err == nil
}

// Flowtables calls fn for each flowtable of the tables matching f.
func (d *Dumper) Flowtables(f Filter, fn func(*model.Flowtable) error) error {
	var attrs []netlink.Attribute
	if f.Table != "" {
		attrs = append(attrs, strAttr(1, f.Table)) // NFTA_FLOWTABLE_TABLE
	}
	req, err := request(msgGetFlowtable, f.Family, attrs)
	if err != nil {
		return err
	}
	err = d.dump(req, msgNewFlowtable, func(b []byte) error {
		ft, err := DecodeFlowtable(b)
		if err != nil {
			return err
		}
		if f.Table != "" && ft.Table != f.Table {
			return nil
		}
		return fn(ft)
	})
	// A kernel without flowtable support has nothing to list.
	if errors.Is(err, unix.EOPNOTSUPP) {
		return nil
	}
	return err
}

// Objects calls fn for each named object of the tables matching f.
func (d *Dumper) Objects(f Filter, fn func(*model.Object) error) error {
	var attrs []netlink.Attribute
	if f.Table != "" {
		attrs = append(attrs, strAttr(1, f.Table)) // NFTA_OBJ_TABLE
	}
	req, err := request(msgGetObj, f.Family, attrs)
	if err != nil {
		return err
	}
	return d.dump(req, msgNewObj, func(b []byte) error {
		o, err := DecodeObject(b)
		if err != nil {
			return err
		}
		if f.Table != "" && o.Table != f.Table {
			return nil
		}
		return fn(o)
	})
}
