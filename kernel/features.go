package kernel

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"

	"github.com/nftflow/nftflow/model"
)

// Constants of the flowtable probe (uapi nf_tables.h, nfnetlink.h).
const (
	ftProbeSubsys        = 10   // NFNL_SUBSYS_NFTABLES
	ftProbeBatchBegin    = 0x10 // NFNL_MSG_BATCH_BEGIN
	ftProbeMsgNewTable   = 0    // NFT_MSG_NEWTABLE
	ftProbeMsgNewFT      = 22   // NFT_MSG_NEWFLOWTABLE
	ftProbeFamilyInet    = 1    // NFPROTO_INET
	ftProbeTableName     = 1    // NFTA_TABLE_NAME
	ftProbeFTTable       = 1    // NFTA_FLOWTABLE_TABLE
	ftProbeFTName        = 2    // NFTA_FLOWTABLE_NAME
	ftProbeFTHook        = 3    // NFTA_FLOWTABLE_HOOK
	ftProbeFTHookNum     = 1    // NFTA_FLOWTABLE_HOOK_NUM
	ftProbeFTHookPrio    = 2    // NFTA_FLOWTABLE_HOOK_PRIORITY
	ftProbeNetdevIngress = 0    // NF_NETDEV_INGRESS
)

// DetectFeatures finds out what the running kernel supports for
// flowtables: the version from uname, then whether flowtables exist at all
// (ProbeFlowtables in the namespace netns, falling back to module files),
// and the version-derived facts (model.FeaturesForVersion). Flowtable
// support is a property of the kernel, not of a namespace, so no namespace
// is taken.
func DetectFeatures() (model.Features, error) {
	rel, err := KernelRelease()
	if err != nil {
		return model.Features{}, err
	}
	v, err := model.ParseKernelVersion(rel)
	if err != nil {
		return model.Features{}, fmt.Errorf("kernel release: %w", err)
	}
	f := model.FeaturesForVersion(v)
	f.Release = rel
	if ok, err := ProbeFlowtables(); err == nil {
		f.Flowtables, f.FlowtablesHow = ok, "probe"
	} else if ok, known := flowtableModules("/", rel); known {
		f.Flowtables, f.FlowtablesHow = ok, "modules"
	}
	return f, nil
}

// ReadSystem gathers what the flowtable topology checks need
// (compiler.CheckFlowtableDevices, compiler.ResolveFlowtableDevices): the
// devices and routes of the namespace netns ("" for the current one) with
// each device's hw-tc-offload capability, and the running kernel's
// features. A failure to read device features leaves them unknown rather
// than failing.
func ReadSystem(netns string) (model.Topology, model.Features, error) {
	topo, err := ReadTopology(netns)
	if err != nil {
		return topo, model.Features{}, err
	}
	_ = FillHWTCOffload(netns, topo.Links) // best effort: CapUnknown stays
	f, err := DetectFeatures()
	return topo, f, err
}

// KernelRelease returns uname -r.
func KernelRelease() (string, error) {
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		return "", fmt.Errorf("uname: %w", err)
	}
	return unix.ByteSliceToString(u.Release[:]), nil
}

// ProbeFlowtables asks the kernel whether it can create an inet flowtable.
// It sends, from a fresh network namespace that dies with the socket, a
// batch that creates a throwaway table and a flowtable in it, and leaves
// out the batch end message, so the kernel checks every message, reports
// the results and aborts the transaction: nothing is created anywhere.
// ENOENT on the flowtable means no flowtable support (the flowtable type,
// module nf_flow_table_inet, is missing). It needs CAP_SYS_ADMIN and
// CAP_NET_ADMIN; other errors (EPERM) are returned: the answer is unknown.
func ProbeFlowtables() (bool, error) {
	c, err := dialFreshNetns(unix.NETLINK_NETFILTER)
	if err != nil {
		return false, err
	}
	defer c.Close()
	return probeBatch(c, true)
}

// probeBatch sends the probe batch on c: a throwaway table and, when
// withFlowtable is set, a flowtable in it, without a batch end. It reports
// whether the last message was accepted.
func probeBatch(c *netlink.Conn, withFlowtable bool) (bool, error) {
	if err := c.SetReadDeadline(time.Now().Add(3 * time.Second)); err != nil {
		return false, fmt.Errorf("probe flowtables: %w", err)
	}
	table := fmt.Sprintf("nftflow-probe-%d", os.Getpid())
	ae := netlink.NewAttributeEncoder()
	ae.String(ftProbeTableName, table)
	tableAttrs, err := ae.Encode()
	if err != nil {
		return false, fmt.Errorf("probe flowtables: %w", err)
	}
	ae = netlink.NewAttributeEncoder()
	ae.String(ftProbeFTTable, table)
	ae.String(ftProbeFTName, "probe")
	ae.Nested(ftProbeFTHook, func(nae *netlink.AttributeEncoder) error {
		nae.Bytes(ftProbeFTHookNum, be32(ftProbeNetdevIngress))
		nae.Bytes(ftProbeFTHookPrio, be32(0))
		return nil
	})
	ftAttrs, err := ae.Encode()
	if err != nil {
		return false, fmt.Errorf("probe flowtables: %w", err)
	}
	nfgen := func(family uint8, resID uint16) []byte {
		return []byte{family, 0, byte(resID >> 8), byte(resID)}
	}
	msgs := []netlink.Message{
		{Header: netlink.Header{Type: ftProbeBatchBegin, Flags: netlink.Request}, Data: nfgen(unix.AF_UNSPEC, ftProbeSubsys)},
		{Header: netlink.Header{Type: ftProbeSubsys<<8 | ftProbeMsgNewTable, Flags: netlink.Request | netlink.Create}, Data: append(nfgen(ftProbeFamilyInet, 0), tableAttrs...)},
	}
	if withFlowtable {
		msgs = append(msgs, netlink.Message{Header: netlink.Header{Type: ftProbeSubsys<<8 | ftProbeMsgNewFT, Flags: netlink.Request | netlink.Create}, Data: append(nfgen(ftProbeFamilyInet, 0), ftAttrs...)})
	}
	// Only the last message asks for an acknowledgement; an error on any
	// is reported anyway. No NFNL_MSG_BATCH_END: the kernel aborts.
	msgs[len(msgs)-1].Header.Flags |= netlink.Acknowledge
	sent, err := c.SendMessages(msgs)
	if err != nil {
		return false, fmt.Errorf("probe flowtables: send: %w", err)
	}
	want := sent[len(sent)-1].Header.Sequence
	for {
		replies, err := c.Receive()
		if err != nil {
			var oe *netlink.OpError
			if errors.As(err, &oe) {
				switch {
				case errors.Is(oe.Err, unix.ENOENT):
					return false, nil
				case errors.Is(oe.Err, unix.EINVAL), errors.Is(oe.Err, unix.EOPNOTSUPP):
					// The flowtable type exists; the kernel disliked the
					// probe's details (before 5.8 a flowtable needed devices).
					return true, nil
				}
			}
			return false, fmt.Errorf("probe flowtables: %w", err)
		}
		for _, m := range replies {
			if m.Header.Type == netlink.Error && m.Header.Sequence == want {
				return true, nil // acknowledged without error
			}
		}
	}
}

// dialFreshNetns opens a netlink socket in a new, empty network namespace.
// The namespace lives as long as the socket.
func dialFreshNetns(family int) (*netlink.Conn, error) {
	runtime.LockOSThread()
	orig, err := os.Open(fmt.Sprintf("/proc/self/task/%d/ns/net", unix.Gettid()))
	if err != nil {
		runtime.UnlockOSThread()
		return nil, fmt.Errorf("open current netns: %w", err)
	}
	defer orig.Close()
	if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
		runtime.UnlockOSThread()
		return nil, fmt.Errorf("new netns: %w", err)
	}
	c, dialErr := netlink.Dial(family, nil)
	if err := unix.Setns(int(orig.Fd()), unix.CLONE_NEWNET); err != nil {
		// Leave the thread locked so the runtime discards it.
		if c != nil {
			c.Close()
		}
		return nil, fmt.Errorf("leave new netns: %w", err)
	}
	runtime.UnlockOSThread()
	if dialErr != nil {
		return nil, fmt.Errorf("dial netlink: %w", dialErr)
	}
	return c, nil
}

// flowtableModules looks for the flowtable module in the module files under
// root: loaded (/sys/module), built in (modules.builtin) or installed
// (modules.dep). known is false when the files needed to decide are absent.
func flowtableModules(root, release string) (ok, known bool) {
	for _, m := range []string{"nf_flow_table_inet", "nf_flow_table"} {
		if _, err := os.Stat(filepath.Join(root, "sys/module", m)); err == nil && m == "nf_flow_table_inet" {
			return true, true
		}
	}
	dir := filepath.Join(root, "lib/modules", release)
	found, any := false, false
	for _, f := range []string{"modules.builtin", "modules.dep"} {
		fh, err := os.Open(filepath.Join(dir, f))
		if err != nil {
			continue
		}
		any = true
		sc := bufio.NewScanner(fh)
		sc.Buffer(make([]byte, 64*1024), 1024*1024)
		for sc.Scan() {
			line := sc.Text()
			if i := strings.IndexByte(line, ':'); i >= 0 {
				line = line[:i]
			}
			if strings.HasSuffix(line, "/nf_flow_table_inet.ko") || strings.Contains(line, "/nf_flow_table_inet.ko.") {
				found = true
				break
			}
		}
		fh.Close()
		if found {
			return true, true
		}
	}
	return false, any
}
