package cmd

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/nftflow/nftflow/kernel"
	"github.com/nftflow/nftflow/model"
)

// applyNetns creates a throwaway network namespace removed when the test ends.
func applyNetns(t *testing.T, tag string) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root to create a network namespace")
	}
	for _, c := range []string{"ip", "nft"} {
		if _, err := exec.LookPath(c); err != nil {
			t.Skipf("needs %s", c)
		}
	}
	name := fmt.Sprintf("nftflow-test-apply-%s-%d", tag, os.Getpid())
	if out, err := exec.Command("ip", "netns", "add", name).CombinedOutput(); err != nil {
		t.Fatalf("ip netns add: %v: %s", err, out)
	}
	t.Cleanup(func() { _ = exec.Command("ip", "netns", "del", name).Run() })
	// Declarative applies record what they applied; keep that out of /var/lib.
	t.Setenv("NFTFLOW_STATE_DIR", t.TempDir())
	return name
}

func nftInNetns(t *testing.T, ns string, args ...string) string {
	t.Helper()
	out, err := exec.Command("ip", append([]string{"netns", "exec", ns, "nft"}, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("nft %s: %v: %s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// applyRuleset is loaded by nft -f and by nftflow apply; the listings of
// the two namespaces must be identical.
const applyRuleset = `define lan = 192.168.1.0/24

table inet filter {
	counter dropped { }

	set blocked {
		type ipv4_addr
		flags interval
		elements = { 10.0.0.0/8, 172.16.0.0/12 }
	}

	chain input {
		type filter hook input priority filter; policy drop;
		iif "lo" accept
		ct state established,related accept
		ip saddr @blocked counter name "dropped" drop
		ip saddr $lan tcp dport { 22, 80, 443 } accept
		meta l4proto icmp accept
	}

	chain forward {
		type filter hook forward priority filter; policy drop;
		ct state established,related accept
		jump lan_out
	}

	chain lan_out {
		ip saddr $lan oifname "eth0" accept comment "to the uplink"
	}
}

table ip nat {
	chain postrouting {
		type nat hook postrouting priority srcnat; policy accept;
		oifname "eth0" ip saddr $lan masquerade
	}
}
`

func TestApplyMatchesNft(t *testing.T) {
	nsPeer := applyNetns(t, "peer")
	nsOurs := applyNetns(t, "ours")
	file := filepath.Join(t.TempDir(), "ruleset.nft")
	if err := os.WriteFile(file, []byte(applyRuleset), 0o644); err != nil {
		t.Fatal(err)
	}
	nftInNetns(t, nsPeer, "-f", file)

	var out, errOut bytes.Buffer
	if code := Main([]string{"apply", "--check", "--netns", nsOurs, file}, nil, &out, &errOut); code != ExitOK {
		t.Fatalf("apply --check: exit %d: %s", code, errOut.String())
	}
	if got := nftInNetns(t, nsOurs, "list", "ruleset"); got != "" {
		t.Fatalf("apply --check changed the ruleset:\n%s", got)
	}
	if code := Main([]string{"apply", "--netns", nsOurs, file}, nil, &out, &errOut); code != ExitOK {
		t.Fatalf("apply: exit %d: %s", code, errOut.String())
	}
	want := nftInNetns(t, nsPeer, "list", "ruleset")
	if got := nftInNetns(t, nsOurs, "list", "ruleset"); got != want {
		t.Errorf("after nftflow apply:\n%s\nafter nft -f:\n%s", got, want)
	}
}

func TestApplyRefusalPointsAtTheLine(t *testing.T) {
	ns := applyNetns(t, "refuse")
	nftInNetns(t, ns, "add table ip keep; add chain ip keep c; add rule ip keep c counter")
	before := nftInNetns(t, ns, "list", "ruleset")
	file := filepath.Join(t.TempDir(), "bad.nft")
	src := "table ip t {\n\tchain c {\n\t\tcounter accept\n\t\tcounter jump nowhere\n\t}\n}\n"
	if err := os.WriteFile(file, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	code := Main([]string{"apply", "--netns", ns, file}, nil, &out, &errOut)
	if code != ExitFindings {
		t.Fatalf("apply of a jump to a missing chain: exit %d, want %d: %s", code, ExitFindings, errOut.String())
	}
	msg := errOut.String()
	if !strings.Contains(msg, file+":4:") || !strings.Contains(msg, "chain nowhere does not exist") ||
		!strings.Contains(msg, "\t\tcounter jump nowhere\n") || !strings.Contains(msg, "^") {
		t.Errorf("error output does not point at line 4 with the source line and a caret:\n%s", msg)
	}
	if after := nftInNetns(t, ns, "list", "ruleset"); after != before {
		t.Errorf("a refused apply changed the ruleset:\nbefore:\n%s\nafter:\n%s", before, after)
	}
}

func TestOffloadRefusedPicksHardwareFlowtables(t *testing.T) {
	hw := &model.Flowtable{Name: "hw", Flags: model.FlowtableHWOffload}
	sw := &model.Flowtable{Name: "sw"}
	err := kernel.OpErrors{
		{Op: model.Op{Obj: hw}, Errno: unix.EOPNOTSUPP},
		{Op: model.Op{Obj: sw}, Errno: unix.EOPNOTSUPP},
		{Op: model.Op{Obj: &model.Flowtable{Name: "gone", Flags: model.FlowtableHWOffload}}, Errno: unix.ENOENT},
	}
	got := offloadRefused(fmt.Errorf("apply: %w", err))
	if len(got) != 1 || got[0] != hw {
		t.Fatalf("offloadRefused = %v, want only the hardware flowtable refused with EOPNOTSUPP", got)
	}
	if offloadRefused(errors.New("other")) != nil {
		t.Error("offloadRefused of an unrelated error is not empty")
	}
}
