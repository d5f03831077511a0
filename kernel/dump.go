package kernel

import (
	"errors"
	"fmt"

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
		if fnErr != nil || uint16(m.Header.Type) != nfnlSubsysNFTables<<8|uint16(want) {
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
func (d *Dumper) Rules(f Filter, fn func(*model.Rule) error) error {
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
		r, err := DecodeRule(b)
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
func (d *Dumper) SetElems(s *model.Set) error {
	req, err := request(msgGetSetElem, s.Family, []netlink.Attribute{
		strAttr(1, s.Table), // NFTA_SET_ELEM_LIST_TABLE
		strAttr(2, s.Name),  // NFTA_SET_ELEM_LIST_SET
	})
	if err != nil {
		return err
	}
	s.Elements = s.Elements[:0]
	return d.dump(req, msgNewSetElem, func(b []byte) error {
		_, elems, err := DecodeSetElems(b)
		if err != nil {
			return err
		}
		s.Elements = append(s.Elements, elems...)
		return nil
	})
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
