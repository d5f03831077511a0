package cmd

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/nftflow/nftflow/compiler"
	"github.com/nftflow/nftflow/kernel"
	"github.com/nftflow/nftflow/model"
)

// flowtableDevicesOptions are the flags and arguments of
// `nftflow flowtable devices`.
type flowtableDevicesOptions struct {
	netns    string
	output   string
	verbose  bool
	kernel   string // resolve for this kernel version instead of the running one
	topology string // read devices and routes from this file instead of the kernel
	ifaces   []string
}

// flowtableTopologyOptions are the flags of `nftflow flowtable topology`.
type flowtableTopologyOptions struct {
	netns string
}

// topologyFile is the JSON that `nftflow flowtable topology` writes and
// `--topology` reads: a namespace's devices and routes and the kernel
// release they were read on.
type topologyFile struct {
	Kernel string        `json:"kernel,omitempty"`
	Links  []model.Link  `json:"links"`
	Routes []model.Route `json:"routes"`
}

func newFlowtableCommand(s *streams) *cobra.Command {
	c := &cobra.Command{
		Use:   "flowtable",
		Short: "Work out flowtable device lists for this system",
		Long: `Commands about netfilter flowtables and the devices they hook.

A flowtable catches flows on the ingress of the devices it lists. Which
devices those must be depends on the kernel: it walks from the routed
device down to the device packets really arrive on (vlan to its real
device, bridge to its ports, and since Linux 6.19 an ipip tunnel to its
underlay device; ip6tnl since 7.0).`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error { return c.Help() },
	}
	c.AddCommand(newFlowtableDevicesCommand(s), newFlowtableTopologyCommand(s))
	return c
}

func newFlowtableDevicesCommand(s *streams) *cobra.Command {
	o := &flowtableDevicesOptions{}
	c := &cobra.Command{
		Use:   "devices [IFACE...]",
		Short: "Print the devices a flowtable needs to accelerate forwarding between interfaces",
		Long: `Print the device list a flowtable needs so that forwarding between the
given interfaces is accelerated in both directions on this kernel. The
first line is the list, comma separated, ready for devices = { ... }.
With -v each device is followed by the reasons it is there.

Without IFACE arguments, every interface that forwards is used: up, not
loopback, not a bridge or bond port, with an IP address (other than IPv6
link-local) or a route through it.

The devices and routes are read from the kernel (of the namespace given
with --netns), the kernel's features from the running kernel. --kernel
resolves for another kernel version, --topology reads devices and routes
saved by 'nftflow flowtable topology', so a list can be planned away from
the router.`,
		Example: `  nftflow flowtable devices eth0 tun0
  nftflow flowtable devices --netns fw -v
  nftflow flowtable devices --kernel 6.19 eth0 tun0
  nftflow flowtable devices --topology router.json --kernel 6.1 -o json`,
		RunE: func(_ *cobra.Command, args []string) error {
			o.ifaces = args
			return runFlowtableDevices(o, kernelTopologySource{}, s)
		},
	}
	f := c.Flags()
	f.StringVar(&o.netns, "netns", "", "read the devices and routes of the named network namespace (/run/netns/NAME)")
	f.StringVarP(&o.output, "output", "o", "text", "output format: text or json")
	f.BoolVarP(&o.verbose, "verbose", "v", false, "explain why each device is in the list")
	f.StringVar(&o.kernel, "kernel", "", "resolve for this kernel version (e.g. 6.1, 6.19, 7.0) instead of the running kernel")
	f.StringVar(&o.topology, "topology", "", "read devices and routes from FILE (written by 'nftflow flowtable topology') instead of the kernel")
	return c
}

func newFlowtableTopologyCommand(s *streams) *cobra.Command {
	o := &flowtableTopologyOptions{}
	c := &cobra.Command{
		Use:   "topology",
		Short: "Print the devices and routes the flowtable commands see, as JSON",
		Long: `Print, as JSON, what 'nftflow flowtable devices' reads from the kernel:
the devices (kind, state, lower device, bridge master, vlan id, tunnel
addresses and the kernel's route to each tunnel remote) and the routes,
with the kernel release. Save it and pass it to --topology to plan a
flowtable away from the machine.`,
		Example: `  nftflow flowtable topology --netns fw > fw.json
  nftflow flowtable devices --topology fw.json --kernel 7.0`,
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			return runFlowtableTopology(o, kernelTopologySource{}, s)
		},
	}
	c.Flags().StringVar(&o.netns, "netns", "", "read the named network namespace (/run/netns/NAME)")
	return c
}

// topologySource is where the flowtable commands get system facts; tests
// inject their own.
type topologySource interface {
	Topology(netns string) (model.Topology, error)
	Features() (model.Features, error)
}

// kernelTopologySource asks the running kernel.
type kernelTopologySource struct{}

func (kernelTopologySource) Topology(netns string) (model.Topology, error) {
	return kernel.ReadTopology(netns)
}

func (kernelTopologySource) Features() (model.Features, error) { return kernel.DetectFeatures() }

// devicesJSON is the -o json output of `nftflow flowtable devices`.
type devicesJSON struct {
	Kernel      string                     `json:"kernel"`
	Features    model.Features             `json:"features"`
	Interfaces  []string                   `json:"interfaces"`
	Devices     []compiler.FlowtableDevice `json:"devices"`
	Line        string                     `json:"line"`
	Diagnostics []diagJSON                 `json:"diagnostics"`
}

type diagJSON struct {
	Code     string `json:"code"`
	Severity string `json:"severity"`
	Message  string `json:"message"`
}

func runFlowtableDevices(o *flowtableDevicesOptions, src topologySource, s *streams) error {
	if o.output != "text" && o.output != "json" {
		return usageError(fmt.Errorf("unknown output format %q: want text or json", o.output))
	}
	if o.topology != "" && o.netns != "" {
		return usageError(errors.New("--topology and --netns exclude each other"))
	}
	var topo model.Topology
	fileKernel := ""
	if o.topology != "" {
		var err error
		if topo, fileKernel, err = loadTopologyFile(o.topology); err != nil {
			return usageError(err)
		}
	} else {
		var err error
		if topo, err = src.Topology(o.netns); err != nil {
			return usageError(fmt.Errorf("read devices: %w", err))
		}
	}
	feats, err := flowtableFeatures(o.kernel, fileKernel, src)
	if err != nil {
		return err
	}

	ifaces := o.ifaces
	if len(ifaces) == 0 {
		ifaces = compiler.ForwardingInterfaces(topo)
	}
	res := compiler.ResolveFlowtableDevices(topo, feats, ifaces)
	diags := res.Diagnostics
	if !feats.Flowtables {
		diags = append([]compiler.Diagnostic{{
			Code: compiler.CodeFlowtableUnsupported, Severity: compiler.SeverityWarning,
			Message: fmt.Sprintf("this kernel (%s) cannot create flowtables (CONFIG_NF_FLOW_TABLE; decided by %s): the list is what a kernel of this version with flowtables needs", kernelLabel(feats), feats.FlowtablesHow),
		}}, diags...)
	}
	failed := len(res.Devices) == 0
	for _, d := range diags {
		if d.Severity == compiler.SeverityError {
			failed = true
		}
	}

	if o.output == "json" {
		out := devicesJSON{
			Kernel: kernelLabel(feats), Features: feats, Interfaces: ifaces,
			Devices: res.Devices, Line: compiler.DevicesLine(res.Names()), Diagnostics: []diagJSON{},
		}
		if out.Devices == nil {
			out.Devices = []compiler.FlowtableDevice{}
		}
		if out.Interfaces == nil {
			out.Interfaces = []string{}
		}
		for _, d := range diags {
			out.Diagnostics = append(out.Diagnostics, diagJSON{Code: d.Code, Severity: d.Severity.String(), Message: d.Message})
		}
		enc := json.NewEncoder(s.out)
		enc.SetIndent("", "  ")
		if err := enc.Encode(out); err != nil {
			return usageError(err)
		}
	} else {
		for _, d := range diags {
			fmt.Fprintf(s.err, "nftflow: %s: %s [%s]\n", d.Severity, d.Message, d.Code)
		}
		if len(res.Devices) == 0 {
			fmt.Fprintln(s.err, "nftflow: no devices: name the interfaces to forward between")
		} else {
			fmt.Fprintln(s.out, strings.Join(res.Names(), ", "))
		}
		if o.verbose {
			fmt.Fprintf(s.out, "# %s\n", featureSummary(feats))
			how := "as named"
			if len(o.ifaces) == 0 {
				how = "every interface that forwards"
			}
			fmt.Fprintf(s.out, "# interfaces: %s (%s)\n", strings.Join(ifaces, ", "), how)
			for _, d := range res.Devices {
				for i, r := range d.Reasons {
					fmt.Fprintf(s.out, "[for %s] %s\n", d.For[i], r)
				}
			}
		}
	}
	if failed {
		return silentExit(ExitFindings)
	}
	return nil
}

// loadTopologyFile reads a topology saved by `nftflow flowtable topology`:
// the devices and routes, and the kernel release they were read on.
func loadTopologyFile(path string) (model.Topology, string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return model.Topology{}, "", fmt.Errorf("read topology: %w", err)
	}
	var tf topologyFile
	if err := json.Unmarshal(b, &tf); err != nil {
		return model.Topology{}, "", fmt.Errorf("read topology %s: %w", path, err)
	}
	return model.Topology{Links: tf.Links, Routes: tf.Routes}, tf.Kernel, nil
}

// flowtableFeatures decides which kernel to resolve for: --kernel, else
// the kernel a topology file was saved on, else the running kernel.
func flowtableFeatures(flag, fileKernel string, src topologySource) (model.Features, error) {
	v := flag
	if v == "" {
		v = fileKernel
	}
	if v != "" {
		kv, err := model.ParseKernelVersion(v)
		if err != nil {
			return model.Features{}, usageError(err)
		}
		f := model.FeaturesForVersion(kv)
		if flag == "" {
			f.Release = fileKernel
		}
		return f, nil
	}
	f, err := src.Features()
	if err != nil {
		return f, usageError(fmt.Errorf("detect kernel features: %w", err))
	}
	return f, nil
}

func kernelLabel(f model.Features) string {
	if f.Release != "" {
		return f.Release
	}
	return f.Version.String()
}

// featureSummary is the -v header: what this kernel's flowtable walks.
func featureSummary(f model.Features) string {
	yn := func(b bool) string {
		if b {
			return "yes"
		}
		return "no"
	}
	how := map[string]string{
		"probe":   "probed",
		"modules": "from the module files",
		"version": "assumed from the version, not probed",
	}[f.FlowtablesHow]
	if how == "" {
		how = f.FlowtablesHow
	}
	return fmt.Sprintf("Linux %s: flowtables %s (%s), vlan/bridge/pppoe forward path %s (>= 5.13), ipip acceleration %s (>= 6.19), ip6tnl acceleration %s (>= 7.0)",
		kernelLabel(f), yn(f.Flowtables), how, yn(f.ForwardPath), yn(f.IPIPAccel), yn(f.IP6IP6Accel))
}

func runFlowtableTopology(o *flowtableTopologyOptions, src topologySource, s *streams) error {
	topo, err := src.Topology(o.netns)
	if err != nil {
		return usageError(fmt.Errorf("read devices: %w", err))
	}
	tf := topologyFile{Links: topo.Links, Routes: topo.Routes}
	if tf.Links == nil {
		tf.Links = []model.Link{}
	}
	if tf.Routes == nil {
		tf.Routes = []model.Route{}
	}
	if f, err := src.Features(); err == nil {
		tf.Kernel = kernelLabel(f)
	}
	enc := json.NewEncoder(s.out)
	enc.SetIndent("", "  ")
	if err := enc.Encode(tf); err != nil {
		return usageError(err)
	}
	return nil
}
