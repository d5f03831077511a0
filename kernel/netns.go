package kernel

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"strings"

	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"
)

// NetnsDir is where `ip netns add NAME` bind-mounts named network namespaces.
const NetnsDir = "/run/netns"

// NetnsPath maps a namespace name as given to --netns to a file path: a
// bare NAME means /run/netns/NAME; anything containing a slash is taken as a
// path (for example /proc/1234/ns/net).
func NetnsPath(name string) string {
	if strings.ContainsRune(name, '/') {
		return name
	}
	return NetnsDir + "/" + name
}

// Netns is an open handle on a network namespace. The zero value and a nil
// *Netns both mean "the namespace of the calling process".
type Netns struct {
	f    *os.File
	name string
}

// OpenNetns opens the named network namespace (see NetnsPath). An empty
// name returns nil, which every helper here treats as the current namespace.
func OpenNetns(name string) (*Netns, error) {
	if name == "" {
		return nil, nil
	}
	f, err := os.Open(NetnsPath(name))
	if err != nil {
		return nil, fmt.Errorf("open netns %q: %w", name, err)
	}
	return &Netns{f: f, name: name}, nil
}

// FD returns the namespace's file descriptor, or 0 for the current
// namespace: the value netlink.Config.NetNS expects.
func (n *Netns) FD() int {
	if n == nil || n.f == nil {
		return 0
	}
	return int(n.f.Fd())
}

// Name returns the name the namespace was opened with ("" for current).
func (n *Netns) Name() string {
	if n == nil {
		return ""
	}
	return n.name
}

// Close releases the handle. Closing a nil *Netns is a no-op.
func (n *Netns) Close() error {
	if n == nil || n.f == nil {
		return nil
	}
	return n.f.Close()
}

// DialNetlink dials a netlink socket of the given family (unix.NETLINK_*)
// inside the named network namespace ("" = current). cfg may be nil. The
// socket stays in that namespace for its whole life; the calling goroutine
// and process are not moved.
func DialNetlink(family int, netns string, cfg *netlink.Config) (*netlink.Conn, error) {
	var c netlink.Config
	if cfg != nil {
		c = *cfg
	}
	ns, err := OpenNetns(netns)
	if err != nil {
		return nil, err
	}
	// The socket keeps its namespace after the handle is closed.
	defer ns.Close()
	if fd := ns.FD(); fd != 0 {
		c.NetNS = fd
	}
	conn, err := netlink.Dial(family, &c)
	if err != nil {
		if netns != "" {
			return nil, fmt.Errorf("dial netlink in netns %q: %w", netns, err)
		}
		return nil, fmt.Errorf("dial netlink: %w", err)
	}
	return conn, nil
}

// WithNetns runs fn on a locked OS thread that has entered the named network
// namespace ("" runs fn directly), then moves the thread back. Sockets fn
// opens belong to the target namespace and stay there after fn returns.
// fn must not start goroutines that expect to be in the namespace: only the
// calling thread is moved. If the thread cannot be moved back it is left
// locked, so the Go runtime discards it when the goroutine exits.
func WithNetns(name string, fn func() error) error {
	if name == "" {
		return fn()
	}
	target, err := OpenNetns(name)
	if err != nil {
		return err
	}
	defer target.Close()

	runtime.LockOSThread()
	orig, err := os.Open(fmt.Sprintf("/proc/self/task/%d/ns/net", unix.Gettid()))
	if err != nil {
		runtime.UnlockOSThread()
		return fmt.Errorf("open current netns: %w", err)
	}
	defer orig.Close()
	if err := unix.Setns(target.FD(), unix.CLONE_NEWNET); err != nil {
		runtime.UnlockOSThread()
		return fmt.Errorf("enter netns %q: %w", name, err)
	}
	fnErr := fn()
	if err := unix.Setns(int(orig.Fd()), unix.CLONE_NEWNET); err != nil {
		// Leave the thread locked: it is in the wrong namespace and must die
		// with this goroutine rather than serve others.
		return errors.Join(fnErr, fmt.Errorf("leave netns %q: %w", name, err))
	}
	runtime.UnlockOSThread()
	return fnErr
}
