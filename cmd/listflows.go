package cmd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"os/signal"
	"strconv"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/nftflow/nftflow/compiler"
	"github.com/nftflow/nftflow/kernel"
	"github.com/nftflow/nftflow/model"
	"github.com/nftflow/nftflow/render"
)

// listFlowsOptions are the flags of `nftflow list flows`.
type listFlowsOptions struct {
	netns        string
	output       string
	offloaded    bool
	hw           bool
	notOffloaded bool
	proto        string
	src, dst     string
	port         int
	zone         int
	watch        bool
	// flowPaths reads what the slow-path check of offloaded flows needs;
	// nil reads it from the kernel (loadFlowPathChecker). Tests replace it.
	flowPaths func(netns string) (*compiler.FlowPathChecker, error)
}

func newListFlowsCommand(s *streams) *cobra.Command {
	o := &listFlowsOptions{}
	c := &cobra.Command{
		Use:   "flows",
		Short: "List conntrack flows, offloaded ones marked",
		Long: `List the conntrack table over ctnetlink, IPv4 and IPv6, as an aligned
table (default), JSON lines, or lines exactly as conntrack -L prints them.
Flows offloaded to a flowtable are marked OFFLOAD, to hardware HW_OFFLOAD.
With --watch, stream NEW, UPDATE and DESTROY events until interrupted.`,
		Example: `  nftflow list flows
  nftflow list flows --netns fw --offloaded
  nftflow list flows -o conntrack --proto tcp --port 443
  nftflow list flows -o json --src 192.0.2.0/24
  nftflow list flows --watch --hw`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			ctx, stop := signal.NotifyContext(c.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return runListFlows(ctx, o, c.Flags().Changed, s)
		},
	}
	f := c.Flags()
	f.StringVar(&o.netns, "netns", "", "read the conntrack table of the named network namespace (/run/netns/NAME)")
	f.StringVarP(&o.output, "output", "o", "table", "output format: table, json or conntrack")
	f.BoolVar(&o.offloaded, "offloaded", false, "only flows offloaded to a flowtable, in software or hardware")
	f.BoolVar(&o.hw, "hw", false, "only flows offloaded to hardware")
	f.BoolVar(&o.notOffloaded, "not-offloaded", false, "only flows that are not offloaded")
	f.StringVar(&o.proto, "proto", "", "only this layer-4 protocol (tcp, udp, icmp, icmpv6, sctp, gre, ... or a number)")
	f.StringVar(&o.src, "src", "", "only flows whose original source is ADDR or inside ADDR/PREFIX")
	f.StringVar(&o.dst, "dst", "", "only flows whose original destination is ADDR or inside ADDR/PREFIX")
	f.IntVar(&o.port, "port", 0, "only flows with this source or destination port, either direction")
	f.IntVar(&o.zone, "zone", 0, "only flows in this conntrack zone")
	f.BoolVar(&o.watch, "watch", false, "stream NEW, UPDATE and DESTROY events until interrupted")
	return c
}

// parsePrefix accepts ADDR or ADDR/PREFIX.
func parsePrefix(s string) (netip.Prefix, error) {
	if p, err := netip.ParsePrefix(s); err == nil {
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("%q is not an address or prefix", s)
	}
	return netip.PrefixFrom(a, a.BitLen()), nil
}

// flowFilter turns the flags into a model.FlowFilter. changed reports
// whether a flag was given (so --port 0 and --zone 0 can be asked for).
func (o *listFlowsOptions) flowFilter(changed func(string) bool) (model.FlowFilter, error) {
	ff := model.FlowFilter{Offloaded: o.offloaded, HWOffloaded: o.hw, NotOffloaded: o.notOffloaded}
	if o.notOffloaded && (o.offloaded || o.hw) {
		return ff, errors.New("--not-offloaded cannot be combined with --offloaded or --hw")
	}
	if o.proto != "" {
		p, ok := model.ParseProto(o.proto)
		if !ok {
			return ff, fmt.Errorf("--proto: unknown protocol %q", o.proto)
		}
		ff.Proto, ff.HasProto = p, true
	}
	var err error
	if o.src != "" {
		if ff.Src, err = parsePrefix(o.src); err != nil {
			return ff, fmt.Errorf("--src: %w", err)
		}
	}
	if o.dst != "" {
		if ff.Dst, err = parsePrefix(o.dst); err != nil {
			return ff, fmt.Errorf("--dst: %w", err)
		}
	}
	if changed("port") {
		if o.port < 0 || o.port > 65535 {
			return ff, fmt.Errorf("--port: %d is not a port number", o.port)
		}
		ff.Port, ff.HasPort = uint16(o.port), true
	}
	if changed("zone") {
		if o.zone < 0 || o.zone > 65535 {
			return ff, fmt.Errorf("--zone: %d is not a zone number", o.zone)
		}
		ff.Zone, ff.HasZone = uint16(o.zone), true
	}
	return ff, nil
}

func runListFlows(ctx context.Context, o *listFlowsOptions, changed func(string) bool, s *streams) error {
	format, ok := render.ParseFlowFormat(o.output)
	if !ok {
		return usageError(fmt.Errorf("--output: unknown format %q (want table, json or conntrack)", o.output))
	}
	ff, err := o.flowFilter(changed)
	if err != nil {
		return usageError(err)
	}
	w := render.NewFlowWriter(s.out, format, nil)
	opts := kernel.FlowOptions{Netns: o.netns}
	if o.watch {
		err = kernel.WatchFlows(ctx, opts, func(ch kernel.FlowChange) error {
			if ch.Lost {
				fmt.Fprintln(s.err, "nftflow: warning: events lost, the socket receive buffer overflowed")
				return nil
			}
			if !ff.Match(ch.Flow) {
				return nil
			}
			return w.WriteEvent(ch.Kind.String(), ch.PortID, ch.Flow)
		})
	} else {
		slow := newSlowPathCheck(o, format, s.err)
		err = kernel.DumpFlows(ctx, opts, func(f *model.Flow) error {
			if !ff.Match(f) {
				return nil
			}
			if slow != nil && f.Status.Offloaded() {
				return w.WriteSlowPath(f, slow.check(f))
			}
			return w.Write(f)
		})
	}
	if err != nil {
		// Show what was read, but no summary for a listing cut short.
		_ = w.Flush()
		if errors.Is(err, os.ErrPermission) {
			err = fmt.Errorf("%w (reading conntrack needs CAP_NET_ADMIN: run as root)", err)
		}
		return usageError(fmt.Errorf("list flows: %w", err))
	}
	if err := w.Close(); err != nil {
		return usageError(fmt.Errorf("list flows: %w", err))
	}
	if format == render.FlowConntrack && !o.watch {
		// conntrack -L reports its count on stderr; so do we, in its words.
		fmt.Fprintln(s.err, "nftflow (conntrack format): "+strconv.Itoa(w.Counts().Flows)+" flow entries have been shown.")
	}
	return nil
}

// slowPathCheck finds the directions of offloaded flows that no flowtable
// catches (compiler.FlowPathChecker). It reads the namespace's devices and
// routes, the kernel's features and the ruleset's flowtables once, when the
// first offloaded flow comes; if that fails it says so on stderr once and
// checks nothing.
type slowPathCheck struct {
	netns   string
	load    func(netns string) (*compiler.FlowPathChecker, error)
	errw    io.Writer
	tried   bool
	checker *compiler.FlowPathChecker
}

// newSlowPathCheck returns the check for a listing in format, or nil when
// there is none: the conntrack format stays conntrack -L's, and --watch
// streams events as they come.
func newSlowPathCheck(o *listFlowsOptions, format render.FlowFormat, errw io.Writer) *slowPathCheck {
	if format == render.FlowConntrack || o.watch {
		return nil
	}
	load := o.flowPaths
	if load == nil {
		load = loadFlowPathChecker
	}
	return &slowPathCheck{netns: o.netns, load: load, errw: errw}
}

// check returns the slow-path findings for the offloaded flow f.
func (c *slowPathCheck) check(f *model.Flow) []compiler.FlowSlowPath {
	if !c.tried {
		c.tried = true
		ch, err := c.load(c.netns)
		if err != nil {
			fmt.Fprintf(c.errw, "nftflow: note: offloaded flows not checked for directions on the slow path: %v\n", err)
			return nil
		}
		c.checker = ch
	}
	if c.checker == nil {
		return nil
	}
	return c.checker.Check(f.Orig.Src, f.Reply.Src)
}

// loadFlowPathChecker reads the devices and routes of netns, the running
// kernel's features and the flowtables of the namespace's ruleset.
func loadFlowPathChecker(netns string) (*compiler.FlowPathChecker, error) {
	topo, err := kernel.ReadTopology(netns)
	if err != nil {
		return nil, fmt.Errorf("read devices and routes: %w", err)
	}
	feat, err := kernel.DetectFeatures()
	if err != nil {
		return nil, fmt.Errorf("kernel features: %w", err)
	}
	d, err := kernel.NewDumper(netns)
	if err != nil {
		return nil, fmt.Errorf("read flowtables: %w", err)
	}
	defer d.Close()
	var fts []model.Flowtable
	if err := d.Flowtables(kernel.Filter{}, func(ft *model.Flowtable) error {
		fts = append(fts, *ft)
		return nil
	}); err != nil {
		return nil, fmt.Errorf("read flowtables: %w", err)
	}
	return compiler.NewFlowPathChecker(topo, feat, fts), nil
}
