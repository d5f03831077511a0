package render

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/nftflow/nftflow/parser"
)

// nftInputs are rulesets the host kernel accepts (no flowtables, no
// synproxy or secmark), written loosely.
var nftInputs = map[string]string{
	"statements": `table ip s {
	ct helper ftp { type "ftp" protocol tcp; l3proto ip; }
	ct timeout cto { protocol tcp; l3proto ip; policy = { established: 100, close: 13 }; }
	ct expectation ce { protocol tcp; dport 22; timeout 10m; size 12; l3proto ip; }
	limit lim { rate over 10 mbytes/second burst 100 kbytes; }
	map m { type ipv4_addr : counter; }
	chain pre {
		type filter hook prerouting priority raw; policy accept;
		notrack
		ip saddr 10.0.0.0/8 meta mark set 0x10 ct mark set meta mark
		tcp dport 21 ct helper set "ftp"
		tcp dport 22 ct timeout set "cto"
		ct expectation set "ce"
		log prefix "pre " level info
		log flags all
		limit name "lim"
		ip saddr 1.1.1.1 counter name ip saddr map @m
		ip dscp set cs1
		tcp option maxseg size set 1400
		jhash ip saddr . tcp dport mod 2 seed 0xdeadbeef offset 100 == 1 accept
		numgen inc mod 4 offset 10 < 12 drop
		symhash mod 2 vmap { 0 : accept, 1 : drop }
		fib saddr . iif oif missing drop
		osf ttl loose name "Linux" accept
		meta l4proto tcp tproxy to :50080
		dup to 10.0.0.1 device "lo"
		reject with icmp host-unreachable
		quota over 10 mbytes used 0 bytes
		limit rate over 1025 kbytes/second burst 1023 kbytes
		ct count over 10
		ip frag-off & 0x1fff != 0 drop
		ct state new,established accept
		@nh,0,8 0x45
	}
	chain post {
		type nat hook postrouting priority srcnat; policy accept;
		meta l4proto tcp masquerade to :1024-2048 random,persistent
		ip daddr 1.1.1.1 snat ip prefix to ip saddr map { 10.141.11.0/24 : 192.168.2.0/24 }
	}
}
`,
	"declarations": `table inet t {
	chain c { comment "ccomment"; type filter hook input priority filter + 5; policy accept; tcp dport 22 accept; }
	set s { comment "scomment"; type ipv4_addr; timeout 1h; gc-interval 10s; size 100; policy memory; flags interval,timeout; auto-merge; counter; }
	set p { type inet_service; elements = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11 }; }
	set q { type ipv6_addr; elements = { ::1, ::2, ::3 }; }
	set a { type ipv4_addr; elements = { 10.0.0.1, 10.0.0.2, 10.0.0.3 }; }
	counter cnt { comment "cc"; }
	quota qq { over 10 mbytes; }
	comment "tcomment"
	flags dormant
}
table netdev n {
	chain ingress { type filter hook ingress device "lo" priority -500; policy accept; }
}
table bridge b {
	chain f { type filter hook forward priority filter; ether type vlan vlan id 10 accept; }
}
`,
}

// TestFormatAgainstNft loads each input into nft in a throwaway network
// namespace and checks that (1) fmt of nft's listing is the listing, and
// (2) fmt of the input, loaded into a fresh ruleset, lists exactly as the
// input does: formatting changes layout, not meaning.
func TestFormatAgainstNft(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root for a network namespace")
	}
	if _, err := exec.LookPath("nft"); err != nil {
		t.Skip("nft not installed")
	}
	ns := fmt.Sprintf("nftflow-test-fmt-%d", os.Getpid())
	if out, err := exec.Command("ip", "netns", "add", ns).CombinedOutput(); err != nil {
		t.Skipf("ip netns add: %v: %s", err, out)
	}
	t.Cleanup(func() { exec.Command("ip", "netns", "del", ns).Run() })
	nft := func(stdin []byte, args ...string) ([]byte, error) {
		cmd := exec.Command("ip", append([]string{"netns", "exec", ns, "nft"}, args...)...)
		cmd.Stdin = bytes.NewReader(stdin)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			return nil, fmt.Errorf("nft %s: %w: %s", strings.Join(args, " "), err, stderr.String())
		}
		return out, nil
	}
	list := func(src []byte) []byte {
		t.Helper()
		if _, err := nft(nil, "flush", "ruleset"); err != nil {
			t.Fatal(err)
		}
		if _, err := nft(src, "-f", "-"); err != nil {
			t.Fatal(err)
		}
		out, err := nft(nil, "list", "ruleset")
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	format := func(name string, src []byte) []byte {
		t.Helper()
		f, err := parser.ParseBytes(name, src)
		if err != nil {
			t.Fatal(err)
		}
		return FormatFile(f)
	}
	for name, in := range nftInputs {
		t.Run(name, func(t *testing.T) {
			listing := list([]byte(in))
			if got := format("listing", listing); !bytes.Equal(got, listing) {
				t.Errorf("fmt of nft's listing differs:\n%s", FormatDiff("nft list", "fmt", listing, got))
			}
			formatted := format(name, []byte(in))
			if again := list(formatted); !bytes.Equal(again, listing) {
				t.Errorf("the formatted ruleset lists differently:\n%s", FormatDiff("input", "formatted", listing, again))
			}
		})
	}
}
