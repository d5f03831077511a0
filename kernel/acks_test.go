package kernel

import (
	"encoding/binary"
	"syscall"
	"testing"
)

// errMsg builds an NLMSG_ERROR as the kernel sends it with capped,
// extended ACKs: errno, the original header, then MSG and OFFS TLVs.
func errMsg(seq uint32, errno syscall.Errno, text string, off uint32) []byte {
	var e encoder
	p := binary.NativeEndian.AppendUint32(nil, uint32(-int32(errno)))
	orig := make([]byte, nlmsgHdrLen)
	binary.NativeEndian.PutUint32(orig, 64)
	binary.NativeEndian.PutUint32(orig[8:], seq)
	p = append(p, orig...)
	e.b = p
	e.str(nlmsgerrMsg, text)
	e.attr(nlmsgerrOffs, binary.NativeEndian.AppendUint32(nil, off))
	h := make([]byte, nlmsgHdrLen)
	binary.NativeEndian.PutUint32(h, uint32(nlmsgHdrLen+len(e.b)))
	binary.NativeEndian.PutUint16(h[4:], nlmsgError)
	binary.NativeEndian.PutUint16(h[6:], nlmFCapped|nlmFAckTLVs)
	return append(h, e.b...)
}

func TestParseAcks(t *testing.T) {
	b := append(errMsg(7, syscall.ENOENT, "bad chain", 40), errMsg(9, syscall.EEXIST, "", 0)...)
	acks, err := parseAcks(b, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(acks) != 2 || acks[0].seq != 7 || acks[0].errno != syscall.ENOENT || acks[0].msg != "bad chain" || acks[0].off != 40 ||
		acks[1].seq != 9 || acks[1].errno != syscall.EEXIST {
		t.Errorf("parseAcks = %+v", acks)
	}
}

// FuzzParseAcks: no answer from the kernel, however malformed, may panic.
func FuzzParseAcks(f *testing.F) {
	f.Add(errMsg(7, syscall.ENOENT, "x", 40))
	f.Add([]byte{20, 0, 0, 0, 2, 0, 0, 2})
	f.Fuzz(func(t *testing.T, b []byte) {
		_, _ = parseAcks(b, nil)
	})
}
