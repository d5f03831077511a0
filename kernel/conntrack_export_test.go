package kernel

import (
	"context"

	"github.com/mdlayher/netlink"
)

// DumpConntrackRaw hands the payload of every conntrack dump message from
// the namespace to fn, for the recorder of the golden test inputs.
func DumpConntrackRaw(ctx context.Context, netns string, fn func(payload []byte) error) error {
	c, err := dialConntrack(netns, 0)
	if err != nil {
		return err
	}
	defer c.Close()
	return ctDumpRaw(ctx, c, 0, func(_ netlink.Header, b []byte) error { return fn(b) })
}

// NetnsForTest is netnsForTest for the external test package.
var NetnsForTest = netnsForTest
