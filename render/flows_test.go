package render

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/nftflow/nftflow/compiler"
	"github.com/nftflow/nftflow/model"
)

func p32(v uint32) *uint32 { return &v }
func p16(v uint16) *uint16 { return &v }
func p8(v uint8) *uint8    { return &v }

func tcpFlow(src, dst string, sport, dport uint16, status model.FlowStatus) *model.Flow {
	s, d := netip.MustParseAddr(src), netip.MustParseAddr(dst)
	fam := model.FamilyIP
	if s.Is6() {
		fam = model.FamilyIP6
	}
	return &model.Flow{
		Family: fam,
		Orig:   model.FlowTuple{Src: s, Dst: d, Proto: model.ProtoTCP, SrcPort: sport, DstPort: dport},
		Reply:  model.FlowTuple{Src: d, Dst: s, Proto: model.ProtoTCP, SrcPort: dport, DstPort: sport},
		Status: status, State: p8(3), Timeout: p32(120), Mark: p32(0), Use: p32(1),
	}
}

func TestAppendConntrackTags(t *testing.T) {
	base := model.StatusConfirmed | model.StatusSeenReply
	cases := []struct {
		status model.FlowStatus
		tag    string
	}{
		{base, ""},
		{base | model.StatusAssured, " [ASSURED]"},
		{base | model.StatusAssured | model.StatusOffload, " [OFFLOAD]"},
		{base | model.StatusAssured | model.StatusOffload | model.StatusHWOffload, " [HW_OFFLOAD]"},
		{base | model.StatusHWOffload, " [HW_OFFLOAD]"},
	}
	for _, c := range cases {
		f := tcpFlow("10.0.0.1", "10.0.0.2", 1000, 80, c.status)
		got := string(AppendConntrack(nil, "", f, time.Time{}))
		want := "tcp      6 120 ESTABLISHED src=10.0.0.1 dst=10.0.0.2 sport=1000 dport=80 src=10.0.0.2 dst=10.0.0.1 sport=80 dport=1000" + c.tag + " mark=0 use=1"
		if got != want {
			t.Errorf("status %#x:\n got %q\nwant %q", uint32(c.status), got, want)
		}
	}
}

func TestAppendConntrackOptionalFields(t *testing.T) {
	f := tcpFlow("10.0.0.1", "10.0.0.2", 1000, 80, model.StatusOffload)
	f.Timeout, f.State, f.Mark, f.Use = nil, nil, nil, nil
	got := string(AppendConntrack(nil, "DESTROY", f, time.Time{}))
	want := "[DESTROY] tcp      6 src=10.0.0.1 dst=10.0.0.2 sport=1000 dport=80 [UNREPLIED] src=10.0.0.2 dst=10.0.0.1 sport=80 dport=1000 [OFFLOAD]"
	if got != want {
		t.Errorf("\n got %q\nwant %q", got, want)
	}
	if got := string(AppendConntrack(nil, "NEW", f, time.Time{})); !strings.HasPrefix(got, "    [NEW] tcp ") {
		t.Errorf("event prefix not right-aligned to 9: %q", got)
	}
	f.Counters = &model.FlowCounters{OrigPackets: 1, OrigBytes: 60, ReplyPackets: 2, ReplyBytes: 120}
	f.Start = new(uint64)
	*f.Start = uint64(1000 * time.Second)
	f.Zone = p16(5)
	f.Helper = "ftp"
	got = string(AppendConntrack(nil, "", f, time.Unix(1030, 0)))
	want = "tcp      6 src=10.0.0.1 dst=10.0.0.2 sport=1000 dport=80 packets=1 bytes=60 [UNREPLIED] src=10.0.0.2 dst=10.0.0.1 sport=80 dport=1000 packets=2 bytes=120 [OFFLOAD] zone=5 delta-time=30 helper=ftp"
	if got != want {
		t.Errorf("\n got %q\nwant %q", got, want)
	}
}

func TestAppendCtAddrLikeGlibc(t *testing.T) {
	// Expected strings are what inet_ntop(3) prints.
	for in, want := range map[string]string{
		"10.1.2.3":        "10.1.2.3",
		"::":              "::",
		"::1":             "::1",
		"::102:304":       "::1.2.3.4",
		"::ffff:1.2.3.4":  "::ffff:1.2.3.4",
		"2001:db8::1":     "2001:db8::1",
		"2001:db8:0:1::":  "2001:db8:0:1::",
		"1:0:0:1:0:0:0:1": "1:0:0:1::1",
		"fe80:0:0:0:1::":  "fe80::1:0:0:0", // equal runs: the first is compressed
	} {
		if got := string(appendCtAddr(nil, netip.MustParseAddr(in))); got != want {
			t.Errorf("%s: %q, want %q", in, got, want)
		}
	}
}

func TestFlowTable(t *testing.T) {
	var buf bytes.Buffer
	w := NewFlowWriter(&buf, FlowTable, nil)
	a := tcpFlow("10.0.0.1", "192.0.2.1", 40000, 443, model.StatusAssured|model.StatusSeenReply|model.StatusOffload)
	a.Timeout, a.State = nil, nil
	b := tcpFlow("2001:db8::1", "2001:db8::2", 1, 22, model.StatusOffload|model.StatusHWOffload|model.StatusSeenReply)
	b.Counters = &model.FlowCounters{OrigPackets: 3, OrigBytes: 300, ReplyPackets: 4, ReplyBytes: 4000}
	b.Zone = p16(9)
	c := &model.Flow{Family: model.FamilyIP, Orig: model.FlowTuple{Src: netip.MustParseAddr("10.9.9.9"),
		Dst: netip.MustParseAddr("10.9.9.8"), Proto: model.ProtoICMP, ICMPType: 8, ICMPID: 77}, Timeout: p32(30)}
	for _, f := range []*model.Flow{a, b, c} {
		if err := w.Write(f); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	want := `PROTO  SRC          DST          SPORT  DPORT  STATE        STATUS           TIMEOUT  PACKETS  BYTES  MARK  ZONE
tcp    10.0.0.1     192.0.2.1    40000  443    -            OFFLOAD,ASSURED        -        -      -     0     0
tcp    2001:db8::1  2001:db8::2  1      22     ESTABLISHED  HW_OFFLOAD           120        7   4300     0     9
icmp   10.9.9.9     10.9.9.8     77     8/0    -            UNREPLIED             30        -      -     -     0
3 flows, 2 offloaded (1 hardware)
`
	if got := buf.String(); got != want {
		t.Errorf("table:\n%s\nwant:\n%s", got, want)
	}
}

// TestFlowTableBlocks writes more rows than one alignment block: every row
// is printed once, the header once, and a later, wider block widens the
// columns without reordering anything.
func TestFlowTableBlocks(t *testing.T) {
	var buf bytes.Buffer
	w := NewFlowWriter(&buf, FlowTable, nil)
	n := FlowTableBlock*2 + 17
	for i := 0; i < n; i++ {
		src := fmt.Sprintf("10.0.%d.%d", i/256, i%256)
		if i == FlowTableBlock+5 {
			src = "2001:db8:aaaa:bbbb:cccc:dddd:eeee:ffff"
		}
		if err := w.Write(tcpFlow(src, "192.0.2.1", uint16(i), 80, model.StatusSeenReply)); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	if len(lines) != n+2 {
		t.Fatalf("%d lines, want %d rows + header + summary", len(lines), n)
	}
	if !strings.HasPrefix(lines[0], "PROTO ") || strings.Count(buf.String(), "PROTO") != 1 {
		t.Error("header missing or repeated")
	}
	if want := fmt.Sprintf("%d flows, 0 offloaded (0 hardware)", n); lines[n+1] != want {
		t.Errorf("summary %q, want %q", lines[n+1], want)
	}
	// Within a block all rows have the same length (fixed-width values).
	if len(lines[1]) != len(lines[FlowTableBlock]) {
		t.Errorf("rows of one block not aligned:\n%s\n%s", lines[1], lines[FlowTableBlock])
	}
	if len(lines[2*FlowTableBlock+1]) <= len(lines[1]) {
		t.Error("the block after a wide address did not keep the wider column")
	}
}

func TestFlowJSON(t *testing.T) {
	var buf bytes.Buffer
	w := NewFlowWriter(&buf, FlowJSON, nil)
	a := tcpFlow("10.0.0.1", "192.0.2.1", 40000, 443, model.StatusAssured|model.StatusSeenReply|model.StatusOffload)
	a.Timeout, a.State = nil, nil
	a.Helper = "weird\"name"
	b := &model.Flow{Family: model.FamilyIP6, Orig: model.FlowTuple{Src: netip.MustParseAddr("2001:db8::1"),
		Dst: netip.MustParseAddr("2001:db8::2"), Proto: model.ProtoICMPv6, ICMPType: 128, ICMPID: 9}, Timeout: p32(30),
		Counters: &model.FlowCounters{OrigPackets: 1, OrigBytes: 2, ReplyPackets: 3, ReplyBytes: 4}, Zone: p16(4)}
	if err := w.Write(a); err != nil {
		t.Fatal(err)
	}
	if err := w.WriteEvent("DESTROY", 1234, b); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	if len(lines) != 2 {
		t.Fatalf("%d lines, want 2 (no summary in JSON)", len(lines))
	}
	var objs [2]map[string]any
	for i, l := range lines {
		if err := json.Unmarshal([]byte(l), &objs[i]); err != nil {
			t.Fatalf("line %d is not JSON: %v\n%s", i, err, l)
		}
	}
	o := objs[0]
	if o["family"] != "ipv4" || o["proto"] != "tcp" || o["offloaded"] != true || o["hw_offloaded"] != false ||
		o["helper"] != "weird\"name" || o["mark"] != 0.0 {
		t.Errorf("first object wrong: %v", o)
	}
	for _, k := range []string{"timeout", "state", "counters", "event", "zone"} {
		if _, ok := o[k]; ok {
			t.Errorf("absent %s printed: %v", k, o)
		}
	}
	if st := o["status"].([]any); len(st) != 3 || st[0] != "SEEN_REPLY" || st[1] != "ASSURED" || st[2] != "OFFLOAD" {
		t.Errorf("status %v", st)
	}
	if orig := o["orig"].(map[string]any); orig["sport"] != 40000.0 || orig["dst"] != "192.0.2.1" {
		t.Errorf("orig %v", orig)
	}
	e := objs[1]
	if e["event"] != "DESTROY" || e["portid"] != 1234.0 || e["zone"] != 4.0 || e["timeout"] != 30.0 {
		t.Errorf("event object wrong: %v", e)
	}
	if orig := e["orig"].(map[string]any); orig["icmp_type"] != 128.0 || orig["icmp_id"] != 9.0 {
		t.Errorf("icmp tuple %v", orig)
	}
	if c := e["counters"].(map[string]any); c["reply"].(map[string]any)["bytes"] != 4.0 {
		t.Errorf("counters %v", c)
	}
}

func TestParseFlowFormat(t *testing.T) {
	for _, s := range []string{"table", "json", "conntrack"} {
		if _, ok := ParseFlowFormat(s); !ok {
			t.Errorf("%s refused", s)
		}
	}
	if _, ok := ParseFlowFormat("yaml"); ok {
		t.Error("yaml accepted")
	}
}

// TestFlowTableWatch checks that watched events are printed at once, with
// an EVENT column wide enough for every event name, and no summary.
func TestFlowTableWatch(t *testing.T) {
	var buf bytes.Buffer
	w := NewFlowWriter(&buf, FlowTable, nil)
	f := tcpFlow("10.0.0.1", "10.0.0.2", 1, 2, 0)
	if err := w.WriteEvent("NEW", 0, f); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(buf.String(), "\n"); n != 2 {
		t.Fatalf("after one event: %d lines written, want header and row", n)
	}
	f.Timeout = nil
	if err := w.WriteEvent("DESTROY", 77, f); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	if len(lines) != 3 {
		t.Fatalf("%d lines, want header and 2 events:\n%s", len(lines), buf.String())
	}
	for _, l := range lines[1:] {
		if len(l) != len(lines[0]) {
			t.Errorf("event rows not aligned with the header:\n%s", buf.String())
			break
		}
	}
	if !strings.HasPrefix(lines[0], "EVENT    PROTO") || !strings.HasPrefix(lines[2], "DESTROY  tcp") {
		t.Errorf("watch table:\n%s", buf.String())
	}
}

// slowReply is what compiler.FlowPathChecker says about the seed's IPIP
// gateway on 7.2 with the flowtable on { eth0, tun0 }.
func slowReply() []compiler.FlowSlowPath {
	return []compiler.FlowSlowPath{{
		Direction: compiler.DirReply, Via: "tun0", Device: "eth1", Devices: []string{"eth1"},
		Short:  "reply enters via tun0, needs eth1",
		Reason: "reply enters via tun0 (ipip over eth1); Linux 7.2 needs eth1 in the flowtable devices, flowtable inet filter ft lists eth0, tun0",
	}}
}

func TestFlowTableSlowPath(t *testing.T) {
	var buf bytes.Buffer
	w := NewFlowWriter(&buf, FlowTable, nil)
	st := model.StatusAssured | model.StatusSeenReply | model.StatusOffload
	a := tcpFlow("192.168.0.2", "198.51.100.1", 40000, 5101, st)
	b := tcpFlow("192.168.0.3", "198.51.100.1", 40001, 5101, st)
	c := tcpFlow("192.168.0.4", "192.168.0.9", 40002, 22, st)
	a.Timeout, a.State, b.Timeout, b.State, c.Timeout, c.State = nil, nil, nil, nil, nil, nil
	both := append(slowReply(), compiler.FlowSlowPath{Direction: compiler.DirOriginal, Via: "eth0", Device: "eth0",
		Devices: []string{"eth0"}, Short: "original enters via eth0, needs eth0", Reason: "original enters via eth0; ..."})
	for _, step := range []struct {
		f    *model.Flow
		slow []compiler.FlowSlowPath
	}{{a, slowReply()}, {b, both}, {c, nil}} {
		if err := w.WriteSlowPath(step.f, step.slow); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	want := `PROTO  SRC          DST           SPORT  DPORT  STATE  STATUS           TIMEOUT  PACKETS  BYTES  MARK  ZONE
tcp    192.168.0.2  198.51.100.1  40000  5101   -      OFFLOAD,ASSURED        -        -      -     0     0  slow path: reply enters via tun0, needs eth1
tcp    192.168.0.3  198.51.100.1  40001  5101   -      OFFLOAD,ASSURED        -        -      -     0     0  slow path: reply enters via tun0, needs eth1; original enters via eth0, needs eth0
tcp    192.168.0.4  192.168.0.9   40002  22     -      OFFLOAD,ASSURED        -        -      -     0     0
3 flows, 3 offloaded (0 hardware)
2 offloaded flows have a direction on the slow path: reply enters via tun0 (ipip over eth1); Linux 7.2 needs eth1 in the flowtable devices, flowtable inet filter ft lists eth0, tun0
1 offloaded flow has a direction on the slow path: original enters via eth0; ...
`
	if got := buf.String(); got != want {
		t.Errorf("table:\n%s\nwant:\n%s", got, want)
	}
}

func TestFlowJSONSlowPath(t *testing.T) {
	var buf bytes.Buffer
	w := NewFlowWriter(&buf, FlowJSON, nil)
	f := tcpFlow("192.168.0.2", "198.51.100.1", 40000, 5101, model.StatusSeenReply|model.StatusOffload)
	if err := w.WriteSlowPath(f, slowReply()); err != nil {
		t.Fatal(err)
	}
	if err := w.WriteSlowPath(f, nil); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	if len(lines) != 2 {
		t.Fatalf("want 2 lines, got %q", buf.String())
	}
	var v struct {
		Offloaded bool `json:"offloaded"`
		SlowPath  []struct {
			Direction, Device, Via, Reason string
			Devices                        []string
		} `json:"slow_path"`
	}
	if err := json.Unmarshal([]byte(lines[0]), &v); err != nil {
		t.Fatalf("%v: %s", err, lines[0])
	}
	if !v.Offloaded || len(v.SlowPath) != 1 {
		t.Fatalf("decoded %+v from %s", v, lines[0])
	}
	s := v.SlowPath[0]
	if s.Direction != "reply" || s.Device != "eth1" || s.Via != "tun0" || len(s.Devices) != 1 || s.Devices[0] != "eth1" || s.Reason != slowReply()[0].Reason {
		t.Errorf("slow_path: %+v", s)
	}
	if strings.Contains(lines[1], "slow_path") {
		t.Errorf("flow without findings has slow_path: %s", lines[1])
	}
	// Without findings the line is what Write prints.
	if want := string(AppendFlowJSON(nil, "", f)); lines[1] != want {
		t.Errorf("got %s\nwant %s", lines[1], want)
	}
}

// The conntrack format stays exactly conntrack -L's line.
func TestFlowConntrackIgnoresSlowPath(t *testing.T) {
	var a, b bytes.Buffer
	f := tcpFlow("192.168.0.2", "198.51.100.1", 40000, 5101, model.StatusSeenReply|model.StatusOffload)
	now := func() time.Time { return time.Unix(0, 0) }
	wa, wb := NewFlowWriter(&a, FlowConntrack, now), NewFlowWriter(&b, FlowConntrack, now)
	if err := wa.WriteSlowPath(f, slowReply()); err != nil {
		t.Fatal(err)
	}
	if err := wb.Write(f); err != nil {
		t.Fatal(err)
	}
	_, _ = wa.Close(), wb.Close()
	if a.String() != b.String() || a.Len() == 0 {
		t.Errorf("with findings %q, without %q", a.String(), b.String())
	}
}
