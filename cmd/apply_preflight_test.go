package cmd

import (
	"bytes"
	"errors"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nftflow/nftflow/compiler"
	"github.com/nftflow/nftflow/model"
)

func TestPreflightDiagnostics(t *testing.T) {
	topo := model.Topology{Links: []model.Link{
		{Index: 1, Name: "lo", Loopback: true, AdminUp: true, OperUp: true},
		{Index: 2, Name: "v0", Kind: "veth", AdminUp: true, OperUp: true, Lower: 3},
		{Index: 3, Name: "v1", Kind: "veth", Lower: 2},
	}}
	feat := model.FeaturesForVersion(model.KernelVersion{Major: 6, Minor: 1})
	feat.Flowtables = false // the kernel refuses the flowtable itself: not the preflight's to say
	pos := model.Pos{File: "r.nft", Line: 2, Col: 2}
	fts := []*model.Flowtable{
		{Family: model.FamilyInet, Table: "fw", Name: "ft", Devices: []string{"v0"}, Flags: model.FlowtableHWOffload, Pos: pos},
		{Family: model.FamilyInet, Table: "fw", Name: "ft", Devices: []string{"v1", "gone0"}, Pos: pos},
	}
	ds := preflightDiagnostics(fts, topo, feat)
	codes := map[string]int{}
	for _, d := range ds {
		codes[d.Code]++
		if d.Severity == compiler.SeverityError {
			t.Errorf("%s %q: severity error, want warning (the apply goes on)", d.Code, d.Message)
		}
	}
	if codes[compiler.CodeFlowtableUnsupported] != 0 {
		t.Errorf("NF220 reported; the kernel's refusal says it")
	}
	if codes[compiler.CodeFlowtableNoSuchDev] != 0 {
		t.Errorf("NF221 reported on 6.1, which refuses the missing device and names it itself:\n%s", diagText(ds))
	}
	// 6.16 and later accept a missing device: nobody else says it.
	feat = model.FeaturesForVersion(model.KernelVersion{Major: 6, Minor: 16})
	if ds := preflightDiagnostics(fts, topo, feat); !strings.Contains(diagText(ds), "NF221 device gone0 does not exist") {
		t.Errorf("6.16: the accepted missing device gone0 is not warned about:\n%s", diagText(ds))
	}
	if codes[compiler.CodeFlowtableDevDown] != 1 || !strings.Contains(diagText(ds), "device v1 is down") {
		t.Errorf("want one device-down warning for v1 (the two declarations merged):\n%s", diagText(ds))
	}
	if codes[compiler.CodeFlowtableHWTunnel]+codes[compiler.CodeFlowtableHWNoCap] == 0 {
		t.Errorf("flags offload on veth devices not reported:\n%s", diagText(ds))
	}
}

func diagText(ds []compiler.Diagnostic) string {
	var b strings.Builder
	for _, d := range ds {
		b.WriteString(d.Code + " " + d.Message + "\n")
	}
	return b.String()
}

// TestApplyPreflightUnreadableSystem: a system that cannot be read (not
// root) skips the preflight with a one-line note, and apply goes on to
// send (--check: nothing changes).
func TestApplyPreflightUnreadableSystem(t *testing.T) {
	ns := applyNetns(t, "pfread")
	f := writeFile(t, t.TempDir(), "r.nft", "table inet fw {\n\tflowtable ft {\n\t\thook ingress priority 0; devices = { lo }\n\t}\n}\n")
	var out, errOut bytes.Buffer
	o := &applyOptions{netns: ns, files: []string{f}, check: true,
		readSystem: func(string) (model.Topology, model.Features, error) {
			return model.Topology{}, model.Features{}, errors.New("operation not permitted")
		}}
	_ = runApply(t.Context(), o, &streams{in: strings.NewReader(""), out: &out, err: &errOut})
	msg := errOut.String()
	want := "nftflow: note: flowtable preflight skipped: cannot read the system: operation not permitted\n"
	if !strings.HasPrefix(msg, want) || strings.Count(msg, "preflight") != 1 {
		t.Errorf("stderr does not start with the one-line note %q:\n%s", want, msg)
	}
}

// TestApplyPreflightWarnsBeforeSending: a flowtable over two veth
// devices, one up, one down. The warning names the device at the flowtable's line
// before the kernel's answer (this host's kernel has no flowtables, so
// the apply itself fails); --no-preflight prints no warning.
func TestApplyPreflightWarnsBeforeSending(t *testing.T) {
	ns := applyNetns(t, "preflight")
	// pf0-pf1 up (both ends, so both are running), pf2-pf3 down.
	for _, args := range [][]string{
		{"link", "add", "pf0", "type", "veth", "peer", "name", "pf1"},
		{"link", "add", "pf2", "type", "veth", "peer", "name", "pf3"},
		{"link", "set", "pf0", "up"},
		{"link", "set", "pf1", "up"},
	} {
		if out, err := exec.Command("ip", append([]string{"-n", ns}, args...)...).CombinedOutput(); err != nil {
			t.Skipf("ip %s: %v: %s", strings.Join(args, " "), err, out)
		}
	}
	// The kernel reports a veth running once linkwatch has seen the
	// carrier (up to a second later).
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		out, _ := exec.Command("ip", "-n", ns, "link", "show", "pf0").Output()
		if strings.Contains(string(out), "state UP") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("pf0 not running after 5 s: %s", out)
		}
	}
	dir := t.TempDir()
	files := map[string]string{
		"declarative": writeFile(t, dir, "decl.nft", "table inet fw {\n\tflowtable ft {\n\t\thook ingress priority 0; devices = { pf0, pf2 }\n\t}\n}\n"),
		"imperative":  writeFile(t, dir, "cmds.nft", "add table inet fw\nadd flowtable inet fw ft { hook ingress priority 0; devices = { pf0, pf2 }; }\n"),
	}
	for kind, f := range files {
		t.Run(kind, func(t *testing.T) {
			_, stderr, code := declRun(t, "apply", "--netns", ns, f)
			warn := strings.Index(stderr, "warning: device pf2 is down")
			kerr := strings.Index(stderr, "error: add flowtable inet fw ft")
			if warn < 0 || !strings.Contains(stderr, filepath.Base(f)+":2:") {
				t.Fatalf("exit %d, no positioned warning about pf2:\n%s", code, stderr)
			}
			if strings.Contains(stderr, "pf0 is down") {
				t.Errorf("pf0 is up but reported down:\n%s", stderr)
			}
			if code == ExitOK {
				return // a kernel with flowtables: the warning did not stop it
			}
			if kerr < 0 || warn > kerr {
				t.Errorf("the warning is not printed before the kernel's refusal:\n%s", stderr)
			}
			_, stderr, _ = declRun(t, "apply", "--no-preflight", "--netns", ns, f)
			if strings.Contains(stderr, "pf2 is down") || strings.Contains(stderr, "preflight") {
				t.Errorf("--no-preflight still ran the preflight:\n%s", stderr)
			}
		})
	}
}
