package kernel

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"strings"
	"unsafe"

	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"

	"github.com/nftflow/nftflow/model"
)

// RulesetState identifies one state of a namespace's ruleset: two reads
// return equal values only if no transaction was committed in between.
// The generation id alone is not enough (a namespace created later can
// reach the same generation), so the namespace's cookie, which the kernel
// never reuses, and the boot id are part of it.
type RulesetState struct {
	BootID      string
	NetnsCookie uint64
	GenID       uint32
}

// Next returns the state after one more committed transaction: the kernel
// counts generations up by one per commit, skipping 0.
func (s RulesetState) Next() RulesetState {
	s.GenID++
	if s.GenID == 0 {
		s.GenID = 1
	}
	return s
}

// ReadRulesetState reads the state identity of the namespace's ruleset.
func ReadRulesetState(netns string) (RulesetState, error) {
	boot, err := os.ReadFile("/proc/sys/kernel/random/boot_id")
	if err != nil {
		return RulesetState{}, fmt.Errorf("read boot id: %w", err)
	}
	s, err := openSocket(netns)
	if err != nil {
		return RulesetState{}, err
	}
	defer s.close()
	st := RulesetState{BootID: strings.TrimSpace(string(boot))}
	rc, err := s.c.SyscallConn()
	if err != nil {
		return RulesetState{}, fmt.Errorf("read namespace cookie: %w", err)
	}
	var gerr error
	if err := rc.Control(func(fd uintptr) {
		var v uint64
		v, gerr = getsockoptUint64(int(fd), unix.SOL_SOCKET, unix.SO_NETNS_COOKIE)
		st.NetnsCookie = v
	}); err != nil {
		return RulesetState{}, fmt.Errorf("read namespace cookie: %w", err)
	}
	if gerr != nil {
		return RulesetState{}, fmt.Errorf("read namespace cookie: %w", gerr)
	}
	if st.GenID, err = s.genID(); err != nil {
		return RulesetState{}, err
	}
	return st, nil
}

func getsockoptUint64(fd, level, opt int) (uint64, error) {
	var v uint64
	l := uint32(unsafe.Sizeof(v))
	_, _, e := unix.Syscall6(unix.SYS_GETSOCKOPT, uintptr(fd), uintptr(level), uintptr(opt), uintptr(unsafe.Pointer(&v)), uintptr(unsafe.Pointer(&l)), 0)
	if e != 0 {
		return 0, e
	}
	return v, nil
}

// nlmFEcho asks the kernel to send the sender the notification of the
// object a message created (NLM_F_ECHO).
const nlmFEcho = 0x8

// markEcho sets NLM_F_ECHO on the messages of the operations for which
// echo returns true.
func markEcho(w *wire, echo func(op int) bool) {
	i := 0
	for _, c := range w.chunks {
		for off := 0; off+nlmsgHdrLen <= len(c) && i < len(w.msgs); i++ {
			l := int(binary.NativeEndian.Uint32(c[off:]))
			if echo(int(w.msgs[i].op)) {
				f := binary.NativeEndian.Uint16(c[off+6:])
				binary.NativeEndian.PutUint16(c[off+6:], f|nlmFEcho)
			}
			off += nlmsgAlign(l)
		}
	}
}

// parseEchoedRule returns the handle of an echoed NEWRULE notification.
func parseEchoedRule(m []byte) (uint64, bool) {
	if len(m) < nlmsgHdrLen+nfgenmsgLen {
		return 0, false
	}
	b := m[nlmsgHdrLen+nfgenmsgLen:]
	for len(b) >= 4 {
		l := int(binary.NativeEndian.Uint16(b))
		typ := binary.NativeEndian.Uint16(b[2:]) & 0x3fff
		if l < 4 || l > len(b) {
			return 0, false
		}
		if typ == attrRuleHandle && l == 12 {
			return binary.BigEndian.Uint64(b[4:12]), true
		}
		b = b[min(nlmsgAlign(l), len(b)):]
	}
	return 0, false
}

// RuleHandleIs reports whether the chain's rule with the given handle
// exists (a GETRULE for that one rule): a cheap check of handles derived
// without reading the chain.
func RuleHandleIs(netns string, fam model.Family, table, chain string, handle uint64) (bool, error) {
	// A plain socket: the library cannot read capped extended ACKs.
	c, err := DialNetlink(unix.NETLINK_NETFILTER, netns, nil)
	if err != nil {
		return false, err
	}
	defer c.Close()
	var e encoder
	m := e.begin(nftType(msgGetRule), nlmFRequest, 0, uint8(fam), 0)
	e.str(attrRuleTable, table)
	e.str(attrRuleChain, chain)
	e.u64(attrRuleHandle, handle)
	e.end(m)
	var req netlink.Message
	if err := req.UnmarshalBinary(e.b); err != nil {
		return false, err
	}
	msgs, err := c.Execute(req)
	if errors.Is(err, unix.ENOENT) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("read rule %d of chain %s: %w", handle, chain, err)
	}
	for _, msg := range msgs {
		if h, ok := parseEchoedRule(append(make([]byte, nlmsgHdrLen), msg.Data...)); ok {
			return h == handle, nil
		}
	}
	return false, nil
}
