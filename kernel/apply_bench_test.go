package kernel

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"testing"

	"github.com/nftflow/nftflow/model"
)

// BenchmarkEncode100kRules measures serializing a 100,000-rule batch (no
// kernel): the part of Apply that is nftflow's own work.
func BenchmarkEncode100kRules(b *testing.B) {
	batch := bigRuleBatch(100000)
	b.ReportAllocs()
	for b.Loop() {
		w, err := encodeBatch(&batch, 2)
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(w.size)/1e6, "MB-wire")
	}
}

// BenchmarkApply100kRules applies a hand-built 100,000-rule batch into a
// fresh network namespace per iteration: encoding plus the kernel's work,
// without parser and compiler. bench/apply.bench.sh compares the whole
// command with nft.
func BenchmarkApply100kRules(b *testing.B) {
	benchApply(b, bigRuleBatch(100000))
}

// BenchmarkApply1MIntervals applies one interval set of 1,000,000 ranges.
func BenchmarkApply1MIntervals(b *testing.B) {
	benchApply(b, bigIntervalSet(1000000))
}

func benchApply(b *testing.B, batch model.Batch) {
	if os.Geteuid() != 0 {
		b.Skip("needs root to create a network namespace")
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		b.StopTimer()
		ns := fmt.Sprintf("nftflow-bench-%d-%d", os.Getpid(), i)
		if out, err := exec.Command("ip", "netns", "add", ns).CombinedOutput(); err != nil {
			b.Fatalf("ip netns add: %v: %s", err, out)
		}
		b.StartTimer()
		err := Apply(context.Background(), batch, Options{NetNS: ns})
		b.StopTimer()
		_ = exec.Command("ip", "netns", "del", ns).Run()
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
}
