package kernel

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/nftflow/nftflow/model"
)

// pppoeDevices reads /proc/net/pppoe text: the PPPoE sessions of a
// namespace, one per line after the header ("Id Address Device"), and
// returns the distinct ethernet devices they run over.
func pppoeDevices(r io.Reader) ([]string, error) {
	var devs []string
	seen := map[string]bool{}
	sc := bufio.NewScanner(r)
	first := true
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if first {
			first = false
			if len(f) > 0 && f[0] == "Id" {
				continue
			}
		}
		if len(f) != 3 {
			continue
		}
		if !seen[f[2]] {
			seen[f[2]] = true
			devs = append(devs, f[2])
		}
	}
	return devs, sc.Err()
}

// fillPPPoELower sets the lower device of a ppp link from the PPPoE
// sessions, which rtnetlink does not tell: when the namespace has exactly
// one ppp device without a known lower device and its PPPoE sessions all
// run over one ethernet device, that device is the ppp device's lower
// device (the usual home router with one uplink). sessions is the content
// of /proc/net/pppoe. Anything less clear-cut is left unknown.
func fillPPPoELower(links []model.Link, sessions io.Reader) error {
	var ppp []int
	for i, l := range links {
		if (l.Kind == model.LinkKindPPP || l.Kind == model.LinkKindPPPoE) && l.Lower == 0 {
			ppp = append(ppp, i)
		}
	}
	if len(ppp) != 1 {
		return nil
	}
	devs, err := pppoeDevices(sessions)
	if err != nil || len(devs) != 1 {
		return err
	}
	for _, l := range links {
		if l.Name == devs[0] {
			links[ppp[0]].Lower = l.Index
			return nil
		}
	}
	return nil
}

// readPPPoESessions opens the PPPoE session list of the namespace netns.
// /proc/thread-self/net follows the calling thread's namespace, which
// WithNetns sets.
func readPPPoESessions(netns string) (string, error) {
	var text string
	err := WithNetns(netns, func() error {
		b, err := os.ReadFile("/proc/thread-self/net/pppoe")
		if err != nil {
			return err
		}
		text = string(b)
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("read pppoe sessions: %w", err)
	}
	return text, nil
}
