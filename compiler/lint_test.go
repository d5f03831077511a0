package compiler

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nftflow/nftflow/model"
	"github.com/nftflow/nftflow/parser"
)

// lintCodes parses src and returns "CODE:line" for every diagnostic.
func lintCodes(t *testing.T, src string) ([]string, []Diagnostic) {
	t.Helper()
	f, err := parser.ParseString("t.nft", src)
	if err != nil {
		t.Fatalf("parse: %v\n%s", err, src)
	}
	ds := Lint(f, LintOptions{})
	var out []string
	for _, d := range ds {
		out = append(out, d.Code+":"+strconv.Itoa(d.Pos.Line))
	}
	sort.Strings(out)
	return out, ds
}

type lintCase struct {
	name string
	src  string
	want []string // "CODE:line", any order
}

// peer loads rulesets with the real nft (nft -f, kernel included) in a
// throwaway network namespace, to compare its verdict with lint's.
type peer struct{ ns string }

// newPeer returns nil (and the comparison is skipped) when not root or
// nft is missing.
func newPeer(t *testing.T) *peer {
	if os.Geteuid() != 0 {
		t.Log("not root: lint verdicts are not compared with nft")
		return nil
	}
	if _, err := exec.LookPath("nft"); err != nil {
		t.Log("nft not installed: lint verdicts are not compared with nft")
		return nil
	}
	ns := fmt.Sprintf("nftflow-test-lint-%d-%d", os.Getpid(), time.Now().UnixNano()%1e6)
	if out, err := exec.Command("ip", "netns", "add", ns).CombinedOutput(); err != nil {
		t.Logf("ip netns add: %v %s", err, out)
		return nil
	}
	t.Cleanup(func() { exec.Command("ip", "netns", "del", ns).Run() })
	return &peer{ns: ns}
}

// refuses loads src and reports whether nft refused it, with its message.
func (p *peer) refuses(t *testing.T, src string) (bool, string) {
	f := filepath.Join(t.TempDir(), "r.nft")
	if err := os.WriteFile(f, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("ip", "netns", "exec", p.ns, "nft", "-f", f).CombinedOutput()
	exec.Command("ip", "netns", "exec", p.ns, "nft", "flush", "ruleset").Run()
	return err != nil, string(out)
}

func runLintCases(t *testing.T, cases []lintCase) {
	t.Helper()
	nft := newPeer(t)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if nft != nil && !strings.Contains(tc.src, "flowtable") && !strings.Contains(tc.src, "flow add") {
				// Differential: nft refuses the ruleset exactly when lint
				// reports an error (the host kernel lacks flowtables, so
				// cases with them are not compared).
				_, ds := lintCodes(t, tc.src)
				lintErr := HasErrors(ds, false)
				if refused, msg := nft.refuses(t, tc.src); refused != lintErr {
					t.Errorf("lint error=%v but nft refused=%v: %s", lintErr, refused, msg)
				}
			}
			got, ds := lintCodes(t, tc.src)
			want := append([]string(nil), tc.want...)
			sort.Strings(want)
			if strings.Join(got, " ") != strings.Join(want, " ") {
				var msgs []string
				for _, d := range ds {
					msgs = append(msgs, d.Error())
				}
				t.Errorf("got  %v\nwant %v\n%s", got, want, strings.Join(msgs, "\n"))
			}
			for _, d := range ds {
				if d.Message == "" || !d.Pos.IsValid() {
					t.Errorf("diagnostic without message or position: %+v", d)
				}
				if _, ok := LookupCode(d.Code); !ok {
					t.Errorf("code %s is not in the catalogue", d.Code)
				}
			}
		})
	}
}

// fwd wraps rules in an inet table with a flowtable and a forward chain.
const fwdHead = `table inet t {
	flowtable ft {
		hook ingress priority filter
		devices = { "eth0", "eth1" }
	}

	chain forward {
		type filter hook forward priority filter; policy accept;
`

func TestLintReferences(t *testing.T) {
	runLintCases(t, []lintCase{
		{"undefined flowtable", fwdHead + "\t\tmeta l4proto { tcp, udp } flow add @fx\n\t}\n}\n",
			[]string{"NF101:9", "NF212:2"}},
		{"undefined set", `table ip t {
	chain c {
		type filter hook input priority 0;
		ip saddr @blocked drop
	}
}
`, []string{"NF102:4"}},
		{"undefined counter and quota", `table ip t {
	counter c1 {
	}

	chain c {
		type filter hook input priority 0;
		tcp dport 1 counter name "c1" accept
		tcp dport 2 counter name "c2" accept
		tcp dport 3 quota name "q" drop
	}
}
`, []string{"NF103:8", "NF103:9"}},
		{"undefined ct helper", `table ip t {
	ct helper ftp-std {
		type "ftp" protocol tcp
	}

	chain c {
		type filter hook prerouting priority 0;
		tcp dport 21 ct helper set "ftp-std"
		tcp dport 2121 ct helper set "ftp-standard"
	}
}
`, []string{"NF103:9"}},
		{"objref map values", `table ip t {
	counter a {
	}

	chain c {
		type filter hook input priority 0;
		counter name ip saddr map { 1.1.1.1 : "a", 2.2.2.2 : "b" }
	}
}
`, []string{"NF103:7"}},
		{"undefined chain", `table ip t {
	chain c {
		type filter hook input priority 0;
		tcp dport 22 jump ssh
		goto missing
	}

	chain ssh {
		accept
	}
}
`, []string{"NF104:5"}},
		{"undefined chain in vmap", `table ip t {
	chain c {
		type filter hook input priority 0;
		tcp dport vmap { 22 : jump a, 80 : goto b }
	}

	chain a {
	}
}
`, []string{"NF104:4"}},
		{"jump loop", `table ip t {
	chain c {
		type filter hook input priority 0;
		jump a
	}

	chain a {
		tcp dport 22 jump b
	}

	chain b {
		udp dport 53 goto a
	}
}
`, []string{"NF105:12"}},
		{"self loop", `table ip t {
	chain a {
		tcp dport 1 jump a
	}
}
`, []string{"NF105:3"}},
		{"loop through named vmap", `table ip t {
	map m {
		type inet_service : verdict
		elements = { 22 : jump a }
	}

	chain c {
		type filter hook input priority 0;
		jump a
	}

	chain a {
		tcp dport vmap @m
	}
}
`, []string{"NF105:13"}},
		{"undefined variable", `define lan = 192.168.0.0/24
table ip t {
	chain c {
		type filter hook input priority 0;
		ip saddr $lan accept
		ip saddr $wan drop
	}
}
`, []string{"NF106:6"}},
		{"variable used before define", `table ip t {
	chain c {
		type filter hook input priority 0;
		tcp dport $p accept
	}
}
define p = 22
`, []string{"NF106:4"}},
		{"table-scoped define", `table ip t {
	define p = 22
	chain c {
		type filter hook input priority 0;
		tcp dport $p accept
	}
}
table ip u {
	chain c {
		type filter hook input priority 0;
		tcp dport $p accept
	}
}
`, []string{"NF106:11"}},
		{"define twice", `define p = 22
define p = 23
redefine p = 24
`, []string{"NF107:2"}},
		{"set redeclared with another type", `table ip t {
	set s {
		type ipv4_addr
	}

	set s {
		type inet_service
	}

	chain c {
		type filter hook input priority 0;
		ip saddr @s drop
	}
}
`, []string{"NF107:6"}},
		{"merging blocks is fine", `table ip t {
	set s {
		type ipv4_addr
	}

	chain c {
		type filter hook input priority 0;
	}
}
table ip t {
	set s {
		type ipv4_addr
		elements = { 1.2.3.4 }
	}

	chain c {
		type filter hook input priority 0;
		ip saddr @s drop
	}
}
add table ip t
add table ip t
`, nil},
		{"base chain redeclared with another hook", `table ip t {
	chain c {
		type filter hook input priority 0;
	}

	chain c {
		type filter hook output priority 0;
	}
}
`, []string{"NF107:6"}},
		{"rule for an undeclared chain", `table ip t {
}
add rule ip t c accept
add rule ip u c accept
`, []string{"NF104:3", "NF108:4"}},
		{"add element to an undeclared set", `table ip t {
	set s {
		type ipv4_addr
	}

	chain c {
		type filter hook input priority 0;
		ip saddr @s drop
	}
}
add element ip t s { 1.2.3.4 }
add element ip t x { 1.2.3.4 }
`, []string{"NF102:12"}},
	})
}

func TestLintFlowtables(t *testing.T) {
	runLintCases(t, []lintCase{
		{"clean", fwdHead + "\t\tmeta l4proto { tcp, udp } flow add @ft\n\t\tct state established,related accept\n\t}\n}\n", nil},
		{"flow add in input", `table inet t {
	flowtable ft {
		hook ingress priority filter
		devices = { "eth0" }
	}

	chain input {
		type filter hook input priority filter;
		meta l4proto tcp flow add @ft
	}
}
`, []string{"NF201:9"}},
		{"flow add in a regular chain reached from input", `table inet t {
	flowtable ft {
		hook ingress priority filter
		devices = { "eth0" }
	}

	chain input {
		type filter hook input priority filter;
		jump offload
	}

	chain forward {
		type filter hook forward priority filter;
		jump offload
	}

	chain offload {
		meta l4proto tcp flow add @ft
	}
}
`, []string{"NF201:18"}},
		{"flowtable in netdev", `table netdev t {
	flowtable ft {
		hook ingress priority 0
		devices = { "eth0" }
	}
}
`, []string{"NF202:2"}},
		{"hook egress and priority names", `table inet t {
	flowtable a {
		hook egress priority filter
		devices = { "eth0" }
	}

	flowtable b {
		hook ingress priority dstnat
		devices = { "eth1" }
	}

	flowtable c {
		hook ingress priority filter + 10
		devices = { "eth2" }
	}

	flowtable d {
		devices = { "eth3", "eth3" }
	}

	chain forward {
		type filter hook forward priority filter;
		meta l4proto { tcp, udp } flow add @a
		meta l4proto { tcp, udp } flow add @b
		meta l4proto { tcp, udp } flow add @c
		meta l4proto { tcp, udp } flow add @d
	}
}
`, []string{"NF203:3", "NF204:8", "NF203:17", "NF213:18"}},
		{"device in two flowtables of one table", `table inet t {
	flowtable a {
		hook ingress priority filter
		devices = { "eth0", "eth1" }
	}

	flowtable b {
		hook ingress priority filter + 1
		devices = { "eth1", "eth2" }
	}

	chain forward {
		type filter hook forward priority filter;
		meta l4proto tcp flow add @a
		meta l4proto udp flow add @b
	}
}
table inet u {
	flowtable c {
		hook ingress priority filter
		devices = { "eth0" }
	}

	chain forward {
		type filter hook forward priority filter;
		meta l4proto tcp flow add @c
	}
}
`, []string{"NF214:9"}},
		{"no devices", `table inet t {
	flowtable ft {
		hook ingress priority filter
	}

	chain forward {
		type filter hook forward priority filter;
		meta l4proto { tcp, udp } flow add @ft
	}
}
`, []string{"NF205:2"}},
		{"statements after flow add", fwdHead + `		meta l4proto { tcp, udp } flow add @ft
		counter
		ct state established,related accept
		ip saddr 10.0.0.0/8 meta mark set 0x1 log prefix "x"
		limit rate 10/second accept
		ip dscp set cs1
	}
}
`, []string{"NF210:10", "NF210:12", "NF210:12", "NF210:13", "NF210:14"}},
		{"flow add without l4 restriction", fwdHead + `		flow add @ft
		ip protocol icmp flow add @ft
		tcp dport 80 flow add @ft
		ip protocol { tcp, udp } flow add @ft
	}
}
`, []string{"NF211:9", "NF211:10"}},
		{"flow add after established accept", fwdHead + `		ct state established,related accept
		meta l4proto { tcp, udp } flow add @ft
	}
}
table inet u {
	flowtable ft {
		hook ingress priority filter
		devices = { "eth2" }
	}

	chain forward {
		type filter hook forward priority filter;
		ct state vmap { established : accept, related : accept, invalid : drop }
		meta l4proto { tcp, udp } flow add @ft
	}

	chain forward2 {
		type filter hook forward priority filter + 1;
		iifname "eth2" ct state established accept
		meta l4proto { tcp, udp } flow add @ft
	}
}
`, []string{"NF215:10", "NF215:22"}},
		{"earlier rule excludes other protocols", fwdHead + `		meta l4proto != { tcp, udp } accept
		flow add @ft
	}
}
`, nil},
		{"unused flowtable", `table inet t {
	flowtable ft {
		hook ingress priority filter
		devices = { "eth0" }
	}
}
`, []string{"NF212:2"}},
	})
}

func TestLintTypes(t *testing.T) {
	in := func(rules string) string {
		return "table inet t {\n\tchain c {\n\t\ttype filter hook input priority filter;\n" + rules + "\t}\n}\n"
	}
	runLintCases(t, []lintCase{
		{"address families", in("\t\tip saddr ::1 accept\n\t\tip6 daddr 10.0.0.1 accept\n\t\tip saddr 10.0.0.1 ip6 daddr ::1 accept\n\t\tip saddr { 10.0.0.1, fe80::1 } drop\n"),
			[]string{"NF301:4", "NF301:5", "NF301:6", "NF301:7"}},
		{"ports", in("\t\ttcp dport 70000 accept\n\t\tudp sport { 53, 65536 } accept\n\t\ttcp dport 65535 accept\n"),
			[]string{"NF302:4", "NF302:5"}},
		{"reversed range", in("\t\ttcp dport 2000-1000 accept\n\t\tip saddr 10.0.0.9-10.0.0.1 drop\n\t\ttcp dport 20-20 accept\n"),
			[]string{"NF303:4", "NF303:5"}},
		{"prefix length", in("\t\tip saddr 10.0.0.0/33 drop\n\t\tip6 saddr fe80::/129 drop\n\t\tip6 saddr fe80::/64 drop\n"),
			[]string{"NF304:4", "NF304:5"}},
		{"unknown constants", in("\t\tct state estabished accept\n\t\tct state established,relatd accept\n\t\ticmp type echo-reqest accept\n\t\ttcp dport sshh accept\n\t\ttcp flags syn,ack accept\n\t\tmeta l4proto tcpp accept\n"),
			[]string{"NF306:4", "NF306:5", "NF306:6", "NF306:7", "NF306:9"}},
		{"value range", in("\t\tip dscp 64 accept\n\t\tip ttl 300 accept\n\t\tmeta mark 0x1ffffffff accept\n\t\tip ttl 255 accept\n"),
			[]string{"NF308:4", "NF308:5", "NF308:6"}},
		{"set element types", `table ip t {
	set v4 {
		type ipv4_addr
		elements = { 10.0.0.1, ::1 }
	}

	set ports {
		type inet_service
		elements = { 22, 70000 }
	}

	set pairs {
		type ipv4_addr . inet_service
		elements = { 10.0.0.1 . 22, fe80::1 . 80 }
	}

	chain c {
		type filter hook input priority 0;
		ip saddr @v4 drop
		tcp dport @ports drop
		ip saddr . tcp dport @pairs drop
	}
}
add element ip t v4 { 2001:db8::1 }
`, []string{"NF305:4", "NF302:9", "NF305:14", "NF305:24"}},
		{"nat address family", `table ip nat {
	chain post {
		type nat hook postrouting priority srcnat;
		oifname "eth0" snat to ::1
		oifname "eth1" snat to 10.0.0.1
	}
}
`, []string{"NF301:4"}},
	})
}

func TestLintExpressions(t *testing.T) {
	in := func(hook, rules string) string {
		return "table inet t {\n\tchain c {\n\t\ttype filter hook " + hook + " priority filter;\n" + rules + "\t}\n}\n"
	}
	runLintCases(t, []lintCase{
		{"statement after terminal", in("input", "\t\taccept counter\n\t\ttcp dport 22 reject with tcp reset log\n\t\tcounter accept\n"),
			[]string{"NF404:4", "NF404:5"}},
		{"invalid expressions", in("input", "\t\tct mark set { 1, 2 }\n\t\tlog level warn group 2\n\t\tmeta foo 1\n\t\tct original mark 42\n\t\tct helper \"\"\n\t\tlog level audit prefix \"x\"\n\t\tlog group 2 prefix \"x\"\n"),
			[]string{"NF310:4", "NF310:5", "NF310:6", "NF310:7", "NF310:8", "NF310:9"}},
		{"value widths", in("input", "\t\ttcp dport 1 queue num 65536\n\t\t@th,16,1 2\n\t\tct zone 65536\n\t\tct helper \"12345678901234567\"\n\t\tmeta mark original\n\t\tct label 128\n\t\tip dscp set ip dscp & 0x4f\n\t\tqueue num 65535\n"),
			[]string{"NF308:4", "NF308:5", "NF308:6", "NF308:7", "NF306:8", "NF308:9", "NF308:10"}},
		{"reversed time range", in("input", "\t\tct expiration 1d-1h\n\t\tct expiration 1h-1d\n"),
			[]string{"NF303:4"}},
		{"reject codes", in("input", "\t\ttcp dport 1 reject with icmpv6 adm-prohibited\n\t\ttcp dport 2 reject with icmpx admin-prohibited\n\t\tmeta nfproto ipv4 reject with icmp type host-unreachable\n\t\ttcp dport 3 reject with icmpx no-such-code\n"),
			[]string{"NF306:4", "NF306:7"}},
		{"protocol contexts", in("input", "\t\tmeta nfproto ipv6 ip saddr 10.0.0.1\n\t\tmeta nfproto ipv4 icmpv6 type echo-request\n\t\tmeta nfproto ipv6 reject with icmp host-unreachable\n\t\tmeta l4proto udp reject with tcp reset\n"),
			[]string{"NF301:4", "NF301:6", "NF310:7"}},
		{"inet nat family", `table inet t {
	chain pre {
		type nat hook prerouting priority dstnat;
		dnat to 10.0.0.1
		ip daddr 1.1.1.1 dnat to 10.0.0.1
		dnat ip to 10.0.0.1
		ip6 daddr ::1 dnat to 10.0.0.1
		ip protocol tcp dnat ip6 to ::2
		meta l4proto tcp tproxy to 10.0.0.1
	}
}
`, []string{"NF301:4", "NF301:7", "NF301:8", "NF301:9"}},
		{"queue, fib, osf, vlan, gre", in("input", "\t\ttcp dport 1 queue flags fanout to symhash mod 4\n\t\ttcp dport 2 queue to symhash mod 2 offset 65535\n\t\tfib saddr . daddr oif lo\n\t\tfib mark oif lo\n\t\tosf ttl nottl name \"Linux\"\n\t\tosf name \"morethansixteenbytes\"\n\t\tether type ip vlan id 1\n\t\tgre ether saddr 62:87:4d:d6:19:05\n\t\ttcp dport 3 queue flags bypass,fanout num 1-3\n\t\tfib daddr type local\n"),
			[]string{"NF310:4", "NF308:5", "NF310:6", "NF310:7", "NF310:8", "NF308:9", "NF310:10", "NF310:11"}},
		{"tcp options, extension headers, bare fields", in("input", "\t\ttcp option foobar exists\n\t\ttcp option eol left 1\n\t\ttcp option 256 exists\n\t\ttcp option maxseg size 1460\n\t\tsrh tag { 0, 4-127, 0x10000 }\n\t\tosf name\n\t\tgre ip saddr set 1.2.3.4\n\t\ttcp dport 4 queue num oif\n\t\ttcp dport 5 queue to oif\n\t\ttcp option sack0 left 1\n"),
			[]string{"NF310:4", "NF310:5", "NF308:6", "NF308:8", "NF310:9", "NF310:10", "NF310:11", "NF310:12"}},
		{"overlapping map ranges", in("input", "\t\tip saddr vmap { 10.0.1.0-10.0.1.255 : accept, 10.0.1.1-10.0.2.255 : drop }\n\t\tip saddr vmap { 10.0.0.0/24 : accept, 10.0.1.0/24 : drop }\n\t\tip saddr vmap { 10.0.0.0/8 : accept, 10.9.0.1 : drop }\n"),
			[]string{"NF110:4", "NF110:6"}},
		{"rt nexthop and nfproto", `table ip t {
	chain c {
		type filter hook input priority 0;
		meta nfproto ipv4 accept
		rt ip6 nexthop fd00::1 accept
		rt nexthop fd00::1 accept
		rt nexthop 10.0.0.1 accept
	}
}
table inet u {
	chain c {
		type filter hook input priority 0;
		rt nexthop 10.0.0.1 accept
		meta nfproto ipv4 rt nexthop 10.0.0.1 accept
	}
}
`, []string{"NF310:4", "NF310:5", "NF301:6", "NF310:13"}},
		{"nat map values", `table ip6 t {
	chain c {
		type nat hook prerouting priority dstnat;
		dnat to ct mark map { 20 : 1.2.3.4 }
		dnat to ct mark map { 20 : ::1 }
	}
}
`, []string{"NF301:4"}},
		{"set lookup type", `table ip t {
	set v6 {
		type ipv6_addr
	}

	set v4 {
		type ipv4_addr
	}

	chain c {
		type filter hook input priority 0;
		ip saddr @v6 drop
		ip daddr @v4 drop
	}
}
`, []string{"NF305:12"}},
	})
}

func TestLintContext(t *testing.T) {
	runLintCases(t, []lintCase{
		{"nat statements", `table ip t {
	chain pre {
		type nat hook prerouting priority dstnat;
		masquerade
		snat to 10.0.0.1
		dnat to 10.0.0.2
		meta l4proto tcp redirect to :8080
	}

	chain post {
		type nat hook postrouting priority srcnat;
		masquerade
		dnat to 10.0.0.2
	}

	chain filt {
		type filter hook postrouting priority filter;
		masquerade
	}
}
`, []string{"NF307:4", "NF307:5", "NF307:13", "NF307:18"}},
		{"reject and regular chains", `table inet t {
	chain post {
		type filter hook postrouting priority filter;
		jump sub
	}

	chain in {
		type filter hook input priority filter;
		jump sub
		reject
	}

	chain sub {
		tcp dport 23 reject
	}
}
`, []string{"NF307:14"}},
		{"nat port needs l4 match", `table ip t {
	chain pre {
		type nat hook prerouting priority dstnat;
		th dport 80 dnat to 10.0.0.1:8080
		tcp dport 80 dnat to 10.0.0.1:8080
	}
}
`, []string{"NF307:4"}},
		{"chain types and priorities", `table ip t {
	chain a {
		type nat hook forward priority 0;
	}

	chain b {
		type route hook input priority 0;
	}

	chain c {
		type filter hook input priority srcnat;
	}

	chain d {
		type filter hook prerouting priority dstnat;
	}

	chain e {
		type filter hook prerouting priority raw - 5;
	}
}
`, []string{"NF309:3", "NF309:7", "NF309:11"}},
	})
}

func TestLintDeadCode(t *testing.T) {
	runLintCases(t, []lintCase{
		{"after drop", `table ip t {
	chain c {
		type filter hook input priority 0;
		tcp dport 22 accept
		counter drop
		tcp dport 80 accept
		udp dport 53 accept
	}
}
`, []string{"NF401:6"}},
		{"jump is not terminal, conditional verdicts are fine", `table ip t {
	chain c {
		type filter hook input priority 0;
		jump sub
		tcp dport 22 drop
		limit rate 10/second accept
		tcp dport 80 accept
	}

	chain sub {
		return
	}
}
`, nil},
		{"unused chain", `table ip t {
	chain c {
		type filter hook input priority 0;
	}

	chain orphan {
		accept
	}
}
`, []string{"NF402:6"}},
		{"duplicate element", `table ip t {
	chain c {
		type filter hook input priority 0;
		tcp dport { 22, 80, 22 } accept
	}
}
`, []string{"NF109:4"}},
	})
}

func TestLintSuppression(t *testing.T) {
	runLintCases(t, []lintCase{
		{"ignore comments", `table ip t {
	chain c {
		type filter hook input priority 0;
		drop
		tcp dport 22 accept # nftflow:ignore NF401
	}

	# nftflow:ignore NF402
	chain orphan {
		accept
	}

	chain orphan2 { # nftflow:ignore NF999
	}

	chain orphan3 { # nftflow:ignored
	}

	chain c2 {
		type filter hook output priority 0;
		# nftflow:ignore
		jump nowhere
		jump nowhere2
	}
}
`, []string{"NF402:13", "NF402:16", "NF104:23"}},
		{"file-wide", `# nftflow:ignore-file NF402, NF403
table ip t {
	set s {
		type ipv4_addr
	}

	chain orphan {
	}
}
`, nil},
	})
}

// TestLintExamples: the rulesets that ship in examples/ lint clean.
func TestLintExamples(t *testing.T) {
	files, err := filepath.Glob("../examples/*.nft")
	if err != nil || len(files) < 3 {
		t.Fatalf("examples: %v %v", files, err)
	}
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		f, err := parser.ParseString(p, string(b))
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		for _, d := range Lint(f, LintOptions{}) {
			t.Errorf("%s", d.Error())
		}
	}
}

// fakeSystem is a System with fixed facts.
type fakeSystem struct {
	topo model.Topology
	feat model.Features
}

func (s fakeSystem) Topology() model.Topology { return s.topo }
func (s fakeSystem) Features() model.Features { return s.feat }

// TestLintSystemHook: with a System the topology checks run; without,
// they do not.
func TestLintSystemHook(t *testing.T) {
	src := fwdHead + "\t\tmeta l4proto { tcp, udp } flow add @ft\n\t}\n}\n"
	f, err := parser.ParseString("t.nft", src)
	if err != nil {
		t.Fatal(err)
	}
	if ds := Lint(f, LintOptions{}); len(ds) != 0 {
		t.Fatalf("without system: %v", ds)
	}
	ds := Lint(f, LintOptions{System: fakeSystem{feat: model.Features{Flowtables: false}}})
	found := false
	for _, d := range ds {
		if d.Code == CodeFlowtableUnsupported {
			found = true
		}
	}
	if !found {
		t.Errorf("with a system lacking flowtables, no %s: %v", CodeFlowtableUnsupported, ds)
	}
}

// TestCodesDocumented: every code in the catalogue has a section in
// docs/codes.md, and the catalogue has no duplicates.
func TestCodesDocumented(t *testing.T) {
	b, err := os.ReadFile("../docs/codes.md")
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, c := range Codes() {
		if seen[c.Code] {
			t.Errorf("duplicate code %s", c.Code)
		}
		seen[c.Code] = true
		if !strings.Contains(string(b), "## "+c.Code+" ") {
			t.Errorf("docs/codes.md has no section \"## %s ...\"", c.Code)
		}
		if c.Short == "" || c.Name == "" {
			t.Errorf("code %s lacks a name or description", c.Code)
		}
	}
}
