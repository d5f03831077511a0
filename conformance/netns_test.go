package conformance

import (
	"fmt"
	"os"
	"os/exec"
	"testing"
)

// requirePeer skips the test unless it runs as root (for network
// namespaces) with nft installed, and returns nft's path.
func requirePeer(t *testing.T) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("skipping: needs root for network namespaces")
	}
	nft, err := exec.LookPath("nft")
	if err != nil {
		t.Skip("skipping: nft not installed")
	}
	return nft
}

// newNetns creates the throwaway namespace nftflow-test-NAME-PID, removed
// when the test ends; it skips when namespaces cannot be made.
func newNetns(t *testing.T, name string) string {
	t.Helper()
	ns := fmt.Sprintf("nftflow-test-%s-%d", name, os.Getpid())
	if out, err := exec.Command("ip", "netns", "add", ns).CombinedOutput(); err != nil {
		t.Skipf("skipping: cannot create a network namespace: %v: %s", err, out)
	}
	t.Cleanup(func() { _ = exec.Command("ip", "netns", "del", ns).Run() })
	return ns
}
