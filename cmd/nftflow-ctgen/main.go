// Command nftflow-ctgen fills a network namespace's conntrack table with
// synthetic entries over ctnetlink, for benchmarks and tests:
//
//	nftflow-ctgen -netns bench -n 200000
//
// Entries are TCP (ESTABLISHED, assured), UDP and ICMP over IPv4, with one
// in eight over IPv6; every tuple is distinct. It creates entries the way
// `conntrack -I` does, many messages per system call.
package main

import (
	"context"
	"flag"
	"fmt"
	"net/netip"
	"os"

	"github.com/nftflow/nftflow/kernel"
	"github.com/nftflow/nftflow/model"
)

func main() {
	netns := flag.String("netns", "", "network namespace to fill (/run/netns/NAME); empty = current")
	n := flag.Int("n", 1000, "number of entries to create")
	timeout := flag.Uint("timeout", 3600, "entry timeout in seconds")
	flag.Parse()
	created, err := kernel.CreateFlows(context.Background(), *netns, generator(*n, uint32(*timeout)))
	if err != nil {
		fmt.Fprintf(os.Stderr, "nftflow-ctgen: %v (after %d entries)\n", err, created)
		os.Exit(1)
	}
	fmt.Fprintf(os.Stderr, "nftflow-ctgen: %d entries created\n", created)
}

// generator returns a CreateFlows callback producing n distinct entries.
func generator(n int, timeout uint32) func(*model.Flow) bool {
	i := 0
	established := uint8(3) // TCP_CONNTRACK_ESTABLISHED
	return func(f *model.Flow) bool {
		if i >= n {
			return false
		}
		k := uint32(i)
		i++
		t := timeout
		f.Timeout = &t
		// Source address and port encode k so every tuple is distinct.
		port := uint16(1024 + k%60000)
		host := k / 60000
		if k%8 == 7 {
			src := netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, 15: byte(host), 14: byte(host >> 8)})
			f.Orig = model.FlowTuple{Src: src, Dst: netip.MustParseAddr("2001:db8:ffff::1"),
				Proto: model.ProtoTCP, SrcPort: port, DstPort: 443}
			f.State = &established
			f.Status = model.StatusAssured | model.StatusSeenReply
			return true
		}
		src := netip.AddrFrom4([4]byte{10, byte(host >> 8), byte(host), 1})
		dst := netip.AddrFrom4([4]byte{192, 0, 2, byte(1 + k%200)})
		switch k % 8 {
		case 5, 6:
			f.Orig = model.FlowTuple{Src: src, Dst: dst, Proto: model.ProtoUDP, SrcPort: port, DstPort: 53}
		case 4:
			f.Orig = model.FlowTuple{Src: src, Dst: dst, Proto: model.ProtoICMP, ICMPType: 8, ICMPID: port}
		default:
			f.Orig = model.FlowTuple{Src: src, Dst: dst, Proto: model.ProtoTCP, SrcPort: port, DstPort: 80}
			f.State = &established
			f.Status = model.StatusAssured | model.StatusSeenReply
		}
		return true
	}
}
