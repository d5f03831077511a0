package cmd

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"strings"

	"github.com/spf13/cobra"

	"github.com/nftflow/nftflow/kernel"
	"github.com/nftflow/nftflow/model"
	"github.com/nftflow/nftflow/render"
)

// listRulesetOptions are the flags and arguments of the ruleset listing
// subcommands of `nftflow list`.
type listRulesetOptions struct {
	What   string // ruleset, tables, table, chain, set, map, flowtables, flowtable
	Family model.Family
	Table  string
	Name   string // chain, set, map or flowtable name
	Netns  string
	Handle bool
	Terse  bool
	Output string // text or json
	// Discard (hidden --discard) reads the rule and element dumps and
	// drops them undecoded: benchmarks time it as the kernel's own share.
	Discard bool
}

// newListRulesetCommands returns the ruleset listing subcommands of
// `nftflow list`: ruleset, tables, table, chain, set, map, flowtables,
// flowtable.
func newListRulesetCommands(s *streams) []*cobra.Command {
	type sub struct {
		use, short string
		args       cobra.PositionalArgs
	}
	subs := []sub{
		{"ruleset [FAMILY]", "List the whole ruleset as `nft list ruleset` prints it", cobra.MaximumNArgs(1)},
		{"tables [FAMILY]", "List the tables", cobra.MaximumNArgs(1)},
		{"table [FAMILY] TABLE", "List one table with its contents", cobra.RangeArgs(1, 2)},
		{"chain [FAMILY] TABLE CHAIN", "List one chain with its rules", cobra.RangeArgs(2, 3)},
		{"set [FAMILY] TABLE SET", "List one set with its elements", cobra.RangeArgs(2, 3)},
		{"map [FAMILY] TABLE MAP", "List one map with its elements", cobra.RangeArgs(2, 3)},
		{"flowtables [FAMILY]", "List the flowtables", cobra.MaximumNArgs(1)},
		{"flowtable [FAMILY] TABLE FLOWTABLE", "List one flowtable", cobra.RangeArgs(2, 3)},
	}
	var out []*cobra.Command
	for _, sc := range subs {
		o := &listRulesetOptions{}
		what := strings.Fields(sc.use)[0]
		c := &cobra.Command{
			Use:   sc.use,
			Short: sc.short,
			Args:  sc.args,
			RunE: func(_ *cobra.Command, args []string) error {
				o.What = what
				if err := o.parseArgs(args); err != nil {
					return usageError(err)
				}
				return runListRuleset(o, s)
			},
		}
		c.Flags().StringVar(&o.Netns, "netns", "", "read the ruleset of the named network namespace")
		c.Flags().BoolVarP(&o.Handle, "handle", "a", false, "show object handles")
		c.Flags().BoolVarP(&o.Terse, "terse", "t", false, "omit set elements")
		c.Flags().StringVarP(&o.Output, "output", "o", "text", "output format: text or json")
		c.Flags().BoolVar(&o.Discard, "discard", false, "read the rule and element dumps without decoding them (benchmarks)")
		_ = c.Flags().MarkHidden("discard")
		out = append(out, c)
	}
	return out
}

// parseArgs fills Family, Table and Name from the positional arguments,
// the family defaulting to ip as in nft.
func (o *listRulesetOptions) parseArgs(args []string) error {
	names := 0 // how many names follow the optional family
	switch o.What {
	case "ruleset", "tables", "flowtables":
		names = 0
	case "table":
		names = 1
	default:
		names = 2
	}
	if len(args) > names {
		f, ok := model.ParseFamily(args[0])
		if !ok {
			return fmt.Errorf("unknown family %q (want ip, ip6, inet, arp, bridge or netdev)", args[0])
		}
		o.Family = f
		args = args[1:]
	} else if names > 0 {
		o.Family = model.FamilyIP
	}
	if len(args) != names {
		return fmt.Errorf("list %s: want %d names, got %d", o.What, names, len(args))
	}
	if names >= 1 {
		o.Table = args[0]
	}
	if names == 2 {
		o.Name = args[1]
	}
	if o.Output != "text" && o.Output != "json" {
		return fmt.Errorf("unknown output format %q (want text or json)", o.Output)
	}
	return nil
}

// runListRuleset dumps the requested objects from the kernel and prints
// them as they arrive.
func runListRuleset(o *listRulesetOptions, s *streams) error {
	defer startProfile()()
	// What is live while listing is small (one dump reply, one rule or a
	// run of set elements at a time) and rendering allocates a lot of
	// short-lived text: a heap of four times the live one instead of
	// twice takes a quarter less CPU (100,000 rules in 100 chains: 0.65 s
	// against 0.86 s, peak 30 MB against 18 MB). A soft limit of 48 MB
	// keeps the bigger live heap of a huge set's listing from growing
	// four times too (1,000,000 elements: 62 MB without it, 44 MB at the
	// default GOGC).
	if os.Getenv("GOGC") == "" {
		defer debug.SetGCPercent(debug.SetGCPercent(400))
		if os.Getenv("GOMEMLIMIT") == "" {
			defer debug.SetMemoryLimit(debug.SetMemoryLimit(48 << 20))
		}
	}
	d, err := kernel.NewDumper(o.Netns)
	if err != nil {
		return usageError(err)
	}
	defer d.Close()
	d.Discard = o.Discard
	d.CompactElems = true
	d.ShareExprs = true
	bw := bufio.NewWriterSize(s.out, 64<<10)
	var listErr error
	if o.Output == "json" {
		listErr = listJSON(d, o, bw)
	} else {
		listErr = listText(d, o, bw)
	}
	if err := bw.Flush(); err != nil && listErr == nil {
		listErr = err
	}
	if errors.Is(listErr, render.ErrUndecodable) {
		fmt.Fprintf(s.err, "nftflow: %v\n", listErr)
		return silentExit(ExitFindings)
	}
	if listErr != nil {
		return usageError(listErr)
	}
	return nil
}

// rulesetLister is what the listing feeds objects to: render.Lister for
// text, render.JSONLister for JSON.
type rulesetLister interface {
	BeginTable(t *model.Table)
	BeginTableBare(t *model.Table)
	EndTable()
	Object(o *model.Object)
	Set(s *model.Set)
	AddSet(s *model.Set)
	Flowtable(f *model.Flowtable)
	BindingChain(name string, rules []*model.Rule)
	BeginChain(c *model.Chain)
	Rule(r *model.Rule)
	EndChain()
	ChainsPrinted() int
	ChainsFirst() bool
}

// listText prints the listing in nft's text layout.
func listText(d *kernel.Dumper, o *listRulesetOptions, w io.Writer) error {
	ifnames, err := kernel.InterfaceNames(o.Netns)
	if err != nil {
		return err
	}
	l := render.NewLister(w, render.ListOptions{Handle: o.Handle, Terse: o.Terse, IfNames: ifnames})
	err = listObjects(d, o, l, func(t *model.Table) { fmt.Fprintf(w, "table %s %s\n", t.Family, t.Name) })
	if err != nil {
		return err
	}
	return l.Err()
}

// listJSON prints the listing as libnftables JSON.
func listJSON(d *kernel.Dumper, o *listRulesetOptions, w io.Writer) error {
	ifnames, err := kernel.InterfaceNames(o.Netns)
	if err != nil {
		return err
	}
	j := render.NewJSONLister(w, render.ListOptions{Handle: o.Handle, Terse: o.Terse, IfNames: ifnames})
	err = listObjects(d, o, j, j.BeginTable)
	if cerr := j.Close(); err == nil {
		err = cerr
	}
	return err
}

// listObjects dumps the tables the command asks for and feeds their
// contents to l; for `list tables` it calls tableOnly per table instead.
func listObjects(d *kernel.Dumper, o *listRulesetOptions, l rulesetLister, tableOnly func(*model.Table)) error {
	tables, err := collectTables(d, o)
	if err != nil {
		return err
	}
	if o.What == "table" || o.What == "chain" || o.What == "set" || o.What == "map" || o.What == "flowtable" {
		if len(tables) == 0 {
			return fmt.Errorf("list %s: table %s %s not found", o.What, o.Family, o.Table)
		}
	}
	for _, t := range tables {
		if o.What == "tables" {
			tableOnly(t)
			continue
		}
		if err := listTable(d, l, o, t); err != nil {
			return err
		}
	}
	return nil
}

func collectTables(d *kernel.Dumper, o *listRulesetOptions) ([]*model.Table, error) {
	var tables []*model.Table
	err := d.Tables(kernel.Filter{Family: o.Family, Table: o.Table}, func(t *model.Table) error {
		tables = append(tables, t)
		return nil
	})
	return tables, err
}

// listTable prints one table with the members the command asks for:
// objects, sets, flowtables, then chains with their rules, streaming rules
// as the kernel returns them.
func listTable(d *kernel.Dumper, l rulesetLister, o *listRulesetOptions, t *model.Table) error {
	f := kernel.Filter{Family: t.Family, Table: t.Name}
	all := o.What == "ruleset" || o.What == "table"
	found := all || o.What == "flowtables"
	if o.What == "chain" || o.What == "set" || o.What == "map" || o.What == "flowtable" {
		// nft prints nothing at all for a missing object.
		ok, err := objectExists(d, o, f)
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("list %s: %s not found in table %s %s", o.What, o.Name, t.Family, t.Name)
		}
	}
	if all {
		l.BeginTable(t)
	} else {
		l.BeginTableBare(t)
	}
	if all {
		if err := d.Objects(f, func(ob *model.Object) error { l.Object(ob); return nil }); err != nil {
			return fmt.Errorf("list objects of %s %s: %w", t.Family, t.Name, err)
		}
	}
	wantSets := all || o.What == "chain" || o.What == "set" || o.What == "map"
	if wantSets {
		var sets []*model.Set
		if err := d.Sets(f, func(s *model.Set) error { sets = append(sets, s); return nil }); err != nil {
			return fmt.Errorf("list sets of %s %s: %w", t.Family, t.Name, err)
		}
		for _, s := range sets {
			anon := s.Flags&0x1 != 0
			show := all && !anon || (o.What == "set" || o.What == "map") && s.Name == o.Name
			// Rules print anonymous sets inline even in terse listings.
			if anon || show && !o.Terse {
				if err := d.SetElems(s); err != nil {
					return fmt.Errorf("list elements of set %s: %w", s.Name, err)
				}
			}
			if show {
				l.Set(s)
				found = true
			} else {
				l.AddSet(s)
			}
		}
	}
	if all || o.What == "flowtables" || o.What == "flowtable" {
		err := d.Flowtables(f, func(ft *model.Flowtable) error {
			if o.What == "flowtable" && ft.Name != o.Name {
				return nil
			}
			found = true
			l.Flowtable(ft)
			return nil
		})
		if err != nil {
			return fmt.Errorf("list flowtables of %s %s: %w", t.Family, t.Name, err)
		}
	}
	if all || o.What == "chain" {
		if err := listChains(d, l, o, f); err != nil {
			return err
		}
		found = found || o.What == "chain" && l.ChainsPrinted() > 0
	}
	l.EndTable()
	if !found {
		return fmt.Errorf("list %s: %s not found in table %s %s", o.What, o.Name, t.Family, t.Name)
	}
	return nil
}

// listChains prints the chains of a table (or the one chain asked for)
// and streams their rules.
func listChains(d *kernel.Dumper, l rulesetLister, o *listRulesetOptions, f kernel.Filter) error {
	var chains []*model.Chain
	bindings := map[string]bool{}
	if err := d.Chains(f, func(c *model.Chain) error {
		if c.Flags&0x4 != 0 { // NFT_CHAIN_BINDING: printed inside the rule
			bindings[c.Name] = true
			return nil
		}
		if o.What == "chain" && c.Name != o.Name {
			return nil
		}
		chains = append(chains, c)
		return nil
	}); err != nil {
		return fmt.Errorf("list chains of %s %s: %w", f.Family, f.Table, err)
	}
	for name := range bindings {
		var rules []*model.Rule
		bf := f
		bf.Chain = name
		if err := d.Rules(bf, func(r *model.Rule) error { rules = append(rules, r); return nil }); err != nil {
			return fmt.Errorf("list rules of chain %s: %w", name, err)
		}
		l.BindingChain(name, rules)
	}
	if len(chains) == 0 {
		return nil
	}
	// The rules are dumped chain by chain (see kernel.Dumper.ChainRules),
	// in the order of the chains.
	names := make([]string, len(chains))
	for i, c := range chains {
		names[i] = c.Name
	}
	if l.ChainsFirst() {
		for _, c := range chains {
			l.BeginChain(c)
			l.EndChain()
		}
		return d.ChainRules(f, names, func(r *model.Rule) error {
			l.Rule(r)
			return nil
		})
	}
	next := 0 // chains[next] is the next chain to open
	open := false
	err := d.ChainRules(f, names, func(r *model.Rule) error {
		if open && chains[next-1].Name == r.Chain {
			l.Rule(r)
			return nil
		}
		for next < len(chains) {
			if open {
				l.EndChain()
			}
			l.BeginChain(chains[next])
			open = true
			next++
			if chains[next-1].Name == r.Chain {
				l.Rule(r)
				return nil
			}
		}
		return fmt.Errorf("rule %d of chain %s arrived out of chain order", r.Handle, r.Chain)
	})
	if err != nil {
		return fmt.Errorf("list rules of %s %s: %w", f.Family, f.Table, err)
	}
	for ; next < len(chains); next++ {
		if open {
			l.EndChain()
		}
		l.BeginChain(chains[next])
		open = true
	}
	if open {
		l.EndChain()
	}
	return nil
}

// objectExists reports whether the chain, set, map or flowtable a single
// object listing asks for is in the table.
func objectExists(d *kernel.Dumper, o *listRulesetOptions, f kernel.Filter) (bool, error) {
	found := false
	var err error
	switch o.What {
	case "chain":
		err = d.Chains(f, func(c *model.Chain) error { found = found || c.Name == o.Name; return nil })
	case "set", "map":
		err = d.Sets(f, func(s *model.Set) error {
			isMap := s.Flags&(0x8|0x40) != 0 // NFT_SET_MAP, NFT_SET_OBJECT
			found = found || s.Name == o.Name && isMap == (o.What == "map")
			return nil
		})
	case "flowtable":
		err = d.Flowtables(f, func(ft *model.Flowtable) error { found = found || ft.Name == o.Name; return nil })
	}
	return found, err
}
