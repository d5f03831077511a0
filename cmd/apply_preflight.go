package cmd

import (
	"errors"
	"fmt"
	"io"

	"github.com/nftflow/nftflow/compiler"
	"github.com/nftflow/nftflow/kernel"
	"github.com/nftflow/nftflow/model"
	"github.com/nftflow/nftflow/plan"
	"github.com/nftflow/nftflow/render"
)

// systemReader reads what the flowtable checks need from the namespace
// netns (kernel.ReadSystem); tests inject their own.
type systemReader func(netns string) (model.Topology, model.Features, error)

// preflightHelp is appended to `nftflow apply --help`.
const preflightHelp = `

Flowtable preflight: before sending, apply checks every flowtable of the
files against the target namespace and kernel, as "nftflow lint --system"
does (devices down, a tunnel listed where this kernel wants its underlay or
the reverse, flags offload on a device that cannot offload), and prints
warnings at the flowtable's line with the corrected devices line. They do
not stop the apply. --no-preflight skips it; when the system cannot be
read (not root), it is skipped with a note.`

// preflightSkips reports the topology findings the preflight does not
// print because the kernel's own refusal says them, with its explanation:
// a kernel without flowtables (ENOENT), and a device that does not exist
// where the kernel refuses it (before 6.16: ENOENT, the device named; the
// declarative path has refused or dropped such devices before). A missing
// device that the kernel accepts (6.16 and later) is still warned about.
func preflightSkips(d compiler.Diagnostic) bool {
	switch d.Code {
	case compiler.CodeFlowtableUnsupported:
		return true
	case compiler.CodeFlowtableNoSuchDev:
		return d.Severity == compiler.SeverityError
	}
	return false
}

// batchFlowtables returns the flowtables a batch creates or extends.
func batchFlowtables(b model.Batch) []*model.Flowtable {
	var fts []*model.Flowtable
	for _, op := range b.Ops {
		if ft, ok := op.Obj.(*model.Flowtable); ok && (op.Verb == model.VerbAdd || op.Verb == model.VerbCreate) {
			fts = append(fts, ft)
		}
	}
	return fts
}

// desiredFlowtables returns the flowtables of a declarative file's tables.
func desiredFlowtables(d *plan.Desired) []*model.Flowtable {
	var fts []*model.Flowtable
	for _, ts := range d.Tables {
		fts = append(fts, ts.Flowtables...)
	}
	return fts
}

// sameFlowtable reports whether a and b name the same flowtable.
func sameFlowtable(a, b *model.Flowtable) bool {
	return a.Family == b.Family && a.Table == b.Table && a.Name == b.Name
}

// mergeFlowtables merges the declarations of one flowtable (a file may
// add devices to it with a second `add flowtable`): the first position,
// the union of devices and flags, in order of first appearance.
func mergeFlowtables(fts []*model.Flowtable) []model.Flowtable {
	var out []model.Flowtable
next:
	for _, ft := range fts {
		for i := range out {
			m := &out[i]
			if !sameFlowtable(m, ft) {
				continue
			}
			m.Flags |= ft.Flags
			for _, d := range ft.Devices {
				if !containsString(m.Devices, d) {
					m.Devices = append(m.Devices, d)
				}
			}
			continue next
		}
		c := *ft
		c.Devices = append([]string(nil), ft.Devices...)
		out = append(out, c)
	}
	return out
}

func containsString(xs []string, s string) bool {
	for _, x := range xs {
		if x == s {
			return true
		}
	}
	return false
}

// preflightDiagnostics runs lint --system's device checks
// (compiler.CheckFlowtableDevices) on each flowtable. They are advice
// before sending, the kernel has the last word: errors become warnings.
func preflightDiagnostics(fts []*model.Flowtable, topo model.Topology, feat model.Features) []compiler.Diagnostic {
	var all []compiler.Diagnostic
	for _, ft := range mergeFlowtables(fts) {
		for _, d := range compiler.CheckFlowtableDevices(compiler.FlowtableDeclFromModel(ft), topo, feat) {
			if preflightSkips(d) {
				continue
			}
			if d.Severity == compiler.SeverityError {
				d.Severity = compiler.SeverityWarning
			}
			all = append(all, d)
		}
	}
	compiler.SortDiagnostics(all)
	return all
}

// preflight prints the flowtable checks of fts against the namespace
// netns on w, in lint's text format. It never fails the apply: when the
// system cannot be read it says so in one line and returns.
func preflight(w io.Writer, netns string, fts []*model.Flowtable, read systemReader, sources sourceTexts) {
	if len(fts) == 0 {
		return
	}
	if read == nil {
		read = kernel.ReadSystem
	}
	topo, feat, err := read(netns)
	if err == nil && len(topo.Links) == 0 {
		err = errors.New("no network devices read")
	}
	if err != nil {
		fmt.Fprintf(w, "nftflow: note: flowtable preflight skipped: cannot read the system: %v\n", err)
		return
	}
	ds := preflightDiagnostics(fts, topo, feat)
	_ = render.WriteDiagnostics(w, render.DiagText, ds, render.DiagOptions{Source: sources.bytes})
}
