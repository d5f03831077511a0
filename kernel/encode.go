package kernel

import (
	"encoding/binary"
	"fmt"
)

// encoder appends netlink messages and attributes to a byte slice. It
// writes every integer attribute big-endian, as nf_tables expects, and
// back-patches lengths when a message or a nest ends. Errors (an attribute
// or nest longer than 64 KiB) are sticky and reported by err.
type encoder struct {
	b   []byte
	bad error
}

func (e *encoder) reset() { e.b = e.b[:0]; e.bad = nil }

// begin starts a netlink message with an nfgenmsg header and returns its offset.
func (e *encoder) begin(typ uint16, flags uint16, seq uint32, family uint8, resID uint16) int {
	start := len(e.b)
	e.b = binary.NativeEndian.AppendUint32(e.b, 0) // nlmsg_len, patched by end
	e.b = binary.NativeEndian.AppendUint16(e.b, typ)
	e.b = binary.NativeEndian.AppendUint16(e.b, flags)
	e.b = binary.NativeEndian.AppendUint32(e.b, seq)
	e.b = binary.NativeEndian.AppendUint32(e.b, 0) // portid: the kernel
	e.b = append(e.b, family, 0)                   // nfgen_family, version NFNETLINK_V0
	e.b = binary.BigEndian.AppendUint16(e.b, resID)
	return start
}

// end patches the length of the message started at start.
func (e *encoder) end(start int) {
	binary.NativeEndian.PutUint32(e.b[start:], uint32(len(e.b)-start))
}

func (e *encoder) attr(typ uint16, payload []byte) {
	n := nlaHdrLen + len(payload)
	if n > maxAttrLen {
		e.fail(fmt.Errorf("attribute %d is %d bytes, more than netlink's 65535", typ, n))
		return
	}
	e.b = binary.NativeEndian.AppendUint16(e.b, uint16(n))
	e.b = binary.NativeEndian.AppendUint16(e.b, typ)
	e.b = append(e.b, payload...)
	e.pad()
}

func (e *encoder) pad() {
	for len(e.b)%4 != 0 {
		e.b = append(e.b, 0)
	}
}

func (e *encoder) fail(err error) {
	if e.bad == nil {
		e.bad = err
	}
}

func (e *encoder) u8(typ uint16, v uint8) { e.attr(typ, []byte{v}) }

func (e *encoder) u16(typ uint16, v uint16) {
	var b [2]byte
	binary.BigEndian.PutUint16(b[:], v)
	e.attr(typ, b[:])
}

func (e *encoder) u32(typ uint16, v uint32) {
	var b [4]byte
	binary.BigEndian.PutUint32(b[:], v)
	e.attr(typ, b[:])
}

func (e *encoder) u64(typ uint16, v uint64) {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], v)
	e.attr(typ, b[:])
}

// str writes a NUL-terminated string, as libnftnl does.
func (e *encoder) str(typ uint16, s string) {
	n := nlaHdrLen + len(s) + 1
	if n > maxAttrLen {
		e.fail(fmt.Errorf("string attribute %d is %d bytes, more than netlink's 65535", typ, n))
		return
	}
	e.b = binary.NativeEndian.AppendUint16(e.b, uint16(n))
	e.b = binary.NativeEndian.AppendUint16(e.b, typ)
	e.b = append(e.b, s...)
	e.b = append(e.b, 0)
	e.pad()
}

// nest opens a nested attribute; close it with unnest.
func (e *encoder) nest(typ uint16) int {
	start := len(e.b)
	e.b = binary.NativeEndian.AppendUint16(e.b, 0)
	e.b = binary.NativeEndian.AppendUint16(e.b, typ|nlaFNested)
	return start
}

func (e *encoder) unnest(start int) {
	n := len(e.b) - start
	if n > maxAttrLen {
		typ := binary.NativeEndian.Uint16(e.b[start+2:]) &^ nlaFNested
		e.fail(fmt.Errorf("nested attribute %d is %d bytes, more than netlink's 65535", typ, n))
		return
	}
	binary.NativeEndian.PutUint16(e.b[start:], uint16(n))
}

// data writes an NFTA_DATA_VALUE nested in typ.
func (e *encoder) data(typ uint16, v []byte) {
	n := e.nest(typ)
	e.attr(attrDataValue, v)
	e.unnest(n)
}
