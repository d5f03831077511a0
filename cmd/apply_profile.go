package cmd

import (
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
	"time"
)

// startProfile starts the profiles that the hidden environment variables
// NFTFLOW_CPUPROFILE and NFTFLOW_MEMPROFILE (file names) ask for; the
// returned function stops them and writes the heap profile. For measuring
// apply on big inputs (bench/apply.bench.sh); errors are ignored.
func startProfile() func() {
	cpu, mem := os.Getenv("NFTFLOW_CPUPROFILE"), os.Getenv("NFTFLOW_MEMPROFILE")
	if cpu == "" && mem == "" {
		return func() {}
	}
	var f *os.File
	if cpu != "" {
		var err error
		if f, err = os.Create(cpu); err == nil {
			_ = pprof.StartCPUProfile(f)
		}
	}
	if mem != "" {
		runtime.MemProfileRate = 64 << 10
	}
	return func() {
		if f != nil {
			pprof.StopCPUProfile()
			f.Close()
		}
		if mem != "" {
			if m, err := os.Create(mem); err == nil {
				_ = pprof.Lookup("allocs").WriteTo(m, 0)
				m.Close()
			}
		}
	}
}

// phaseTimer prints the time since the last call when NFTFLOW_TIMING is set.
type phaseTimer struct {
	on   bool
	last time.Time
}

func newPhaseTimer() *phaseTimer {
	return &phaseTimer{on: os.Getenv("NFTFLOW_TIMING") != "", last: time.Now()}
}

func (t *phaseTimer) mark(name string) {
	if t == nil || !t.on {
		return
	}
	now := time.Now()
	if os.Getenv("NFTFLOW_TIMING") == "gc" {
		runtime.GC()
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	fmt.Fprintf(os.Stderr, "timing: %-12s %6.0f ms  heap %4d MB  sys %4d MB  gc %d\n", name, float64(now.Sub(t.last).Microseconds())/1000, ms.HeapAlloc>>20, ms.Sys>>20, ms.NumGC)
	t.last = now
}
