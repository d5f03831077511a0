package kernel

import (
	"fmt"
	"net"
)

// InterfaceNames returns the interface names of the named network namespace
// ("" = current) by index, for printing iif/oif matches as nft does.
func InterfaceNames(netns string) (map[uint32]string, error) {
	names := map[uint32]string{}
	err := WithNetns(netns, func() error {
		ifs, err := net.Interfaces()
		if err != nil {
			return fmt.Errorf("list interfaces: %w", err)
		}
		for _, i := range ifs {
			names[uint32(i.Index)] = i.Name
		}
		return nil
	})
	return names, err
}
