package kernel

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// TestProbeFlowtablesAgreesWithNft compares the probe with nft's own
// answer: `nft -c` of a table with a flowtable, in a throwaway namespace.
func TestProbeFlowtablesAgreesWithNft(t *testing.T) {
	ns := linksTestNetns(t)
	nft, err := exec.LookPath("nft")
	if err != nil {
		t.Skip("nft not installed")
	}
	got, err := ProbeFlowtables()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("ip", "netns", "exec", ns, nft, "-c", "add table inet t; add flowtable inet t f { hook ingress priority 0; }")
	out, nftErr := cmd.CombinedOutput()
	want := nftErr == nil
	if !want && !strings.Contains(string(out), "No such file or directory") {
		t.Fatalf("nft -c failed for another reason: %s", out)
	}
	if got != want {
		t.Errorf("probe says flowtables=%v, nft -c says %v (%s)", got, want, out)
	}
	f, err := DetectFeatures()
	if err != nil {
		t.Fatal(err)
	}
	if f.Flowtables != want || f.FlowtablesHow != "probe" || f.Version.IsZero() || f.Release == "" {
		t.Errorf("DetectFeatures: %+v", f)
	}
}

// TestProbeBatchIsAborted checks the probe's premise: a batch without its
// end message is checked and acknowledged, then aborted, so the table it
// creates never exists.
func TestProbeBatchIsAborted(t *testing.T) {
	ns := linksTestNetns(t)
	c, err := DialNetlink(unix.NETLINK_NETFILTER, ns, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ok, err := probeBatch(c, false)
	if err != nil || !ok {
		t.Fatalf("table-only probe: %v %v, want an acknowledgement", ok, err)
	}
	out, err := exec.Command("ip", "netns", "exec", ns, "nft", "list", "tables").CombinedOutput()
	if err != nil {
		t.Skipf("nft list tables: %v %s", err, out)
	}
	if strings.TrimSpace(string(out)) != "" {
		t.Errorf("the probe left a table behind: %s", out)
	}
}

func TestFlowtableModules(t *testing.T) {
	root := t.TempDir()
	write := func(p, s string) {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(root, p)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(root, p), []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if _, known := flowtableModules(root, "6.1.0"); known {
		t.Error("no files: answer should be unknown")
	}
	write("lib/modules/6.1.0/modules.dep", "kernel/net/netfilter/nf_tables.ko.xz:\n")
	if ok, known := flowtableModules(root, "6.1.0"); ok || !known {
		t.Errorf("without the module: %v %v", ok, known)
	}
	write("lib/modules/6.1.0/modules.dep", "kernel/net/netfilter/nf_tables.ko.xz:\nkernel/net/netfilter/nf_flow_table_inet.ko.xz: kernel/net/netfilter/nf_flow_table.ko.xz\n")
	if ok, known := flowtableModules(root, "6.1.0"); !ok || !known {
		t.Errorf("installed module: %v %v", ok, known)
	}
	write("lib/modules/7.2.0/modules.builtin", "kernel/net/netfilter/nf_flow_table_inet.ko\n")
	if ok, known := flowtableModules(root, "7.2.0"); !ok || !known {
		t.Errorf("built-in module: %v %v", ok, known)
	}
	write("sys/module/nf_flow_table_inet/refcnt", "0\n")
	if ok, _ := flowtableModules(root, "5.0.0"); !ok {
		t.Error("loaded module not seen")
	}
}
