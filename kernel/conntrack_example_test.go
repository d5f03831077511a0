package kernel_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"os/signal"

	"github.com/nftflow/nftflow/kernel"
	"github.com/nftflow/nftflow/model"
)

// Count the offloaded flows of the namespace "fw" without holding the table
// in memory.
func ExampleDumpFlows() {
	var total, offloaded int
	err := kernel.DumpFlows(context.Background(), kernel.FlowOptions{Netns: "fw"}, func(f *model.Flow) error {
		total++
		if f.Status.Offloaded() {
			offloaded++
		}
		return nil
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%d flows, %d offloaded\n", total, offloaded)
}

// Print flows as they leave the table, until interrupted.
func ExampleWatchFlows() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	err := kernel.WatchFlows(ctx, kernel.FlowOptions{}, func(ch kernel.FlowChange) error {
		if ch.Kind == kernel.FlowDestroy {
			fmt.Println(ch.Flow.Orig.Src, "->", ch.Flow.Orig.Dst, ch.Flow.StateName())
		}
		return nil
	})
	if err != nil {
		log.Fatal(err)
	}
}
