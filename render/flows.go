package render

import (
	"bufio"
	"encoding/hex"
	"encoding/json"
	"io"
	"strconv"
	"time"

	"github.com/nftflow/nftflow/compiler"
	"github.com/nftflow/nftflow/model"
)

// FlowFormat is an output format of `nftflow list flows`.
type FlowFormat string

// The flow output formats.
const (
	FlowTable     FlowFormat = "table"     // aligned columns for people, then a summary line
	FlowJSON      FlowFormat = "json"      // one JSON object per line (see docs/list-flows.md)
	FlowConntrack FlowFormat = "conntrack" // lines exactly as `conntrack -L` / `conntrack -E` print them
)

// ParseFlowFormat checks a --output value.
func ParseFlowFormat(s string) (FlowFormat, bool) {
	switch f := FlowFormat(s); f {
	case FlowTable, FlowJSON, FlowConntrack:
		return f, true
	}
	return "", false
}

// FlowTableBlock is how many rows the table writer buffers to compute
// column widths. Widths only grow from one block to the next, so memory is
// bounded by one block however many flows are listed.
const FlowTableBlock = 1000

// FlowCounts is the summary of a listing.
type FlowCounts struct {
	Flows, Offloaded, HWOffloaded int
}

// Add counts f.
func (c *FlowCounts) Add(f *model.Flow) {
	c.Flows++
	if f.Status.Offloaded() {
		c.Offloaded++
	}
	if f.Status.HWOffloaded() {
		c.HWOffloaded++
	}
}

// AppendSummary appends "N flows, M offloaded (K hardware)".
func (c FlowCounts) AppendSummary(b []byte) []byte {
	b = strconv.AppendInt(b, int64(c.Flows), 10)
	if c.Flows == 1 {
		b = append(b, " flow, "...)
	} else {
		b = append(b, " flows, "...)
	}
	b = strconv.AppendInt(b, int64(c.Offloaded), 10)
	b = append(b, " offloaded ("...)
	b = strconv.AppendInt(b, int64(c.HWOffloaded), 10)
	return append(b, " hardware)"...)
}

// FlowWriter writes flows in one format to a buffered writer. Call Write
// per flow (or WriteEvent for watched events) and Close at the end; Close
// flushes and, for the table, prints the summary line.
type FlowWriter struct {
	w      *bufio.Writer
	format FlowFormat
	now    func() time.Time
	line   []byte
	counts FlowCounts
	table  *tableBlock
	// slow groups the flows written with slow-path findings by reason,
	// in order of first appearance, for the table's summary.
	slow []slowGroup
}

// slowGroup counts the flows that have one slow-path reason.
type slowGroup struct {
	reason string
	flows  int
}

// NewFlowWriter returns a FlowWriter for format writing to w. now supplies
// the current time for conntrack's delta-time= (nil means time.Now).
func NewFlowWriter(w io.Writer, format FlowFormat, now func() time.Time) *FlowWriter {
	if now == nil {
		now = time.Now
	}
	fw := &FlowWriter{w: bufio.NewWriterSize(w, 64<<10), format: format, now: now}
	if format == FlowTable {
		fw.table = newTableBlock()
	}
	return fw
}

// Counts returns the summary of the flows written so far.
func (fw *FlowWriter) Counts() FlowCounts { return fw.counts }

// Write writes one flow of a listing.
func (fw *FlowWriter) Write(f *model.Flow) error { return fw.write("", 0, f, nil) }

// WriteSlowPath writes one flow of a listing together with the directions
// of it that no flowtable catches (compiler.FlowPathChecker): the table
// gets a note at the end of the flow's row and a summary line per reason,
// JSON a "slow_path" member. The conntrack format ignores them, so it stays
// identical to conntrack -L.
func (fw *FlowWriter) WriteSlowPath(f *model.Flow, slow []compiler.FlowSlowPath) error {
	if len(slow) > 0 && fw.format != FlowConntrack {
		fw.countSlow(slow)
	}
	return fw.write("", 0, f, slow)
}

// countSlow adds a flow's findings to the summary groups, once per reason.
func (fw *FlowWriter) countSlow(slow []compiler.FlowSlowPath) {
	for i, s := range slow {
		dup := false
		for _, p := range slow[:i] {
			if p.Reason == s.Reason {
				dup = true
			}
		}
		if dup {
			continue
		}
		found := false
		for j := range fw.slow {
			if fw.slow[j].reason == s.Reason {
				fw.slow[j].flows++
				found = true
				break
			}
		}
		if !found {
			fw.slow = append(fw.slow, slowGroup{reason: s.Reason, flows: 1})
		}
	}
}

// WriteEvent writes one flow; event is "" in a listing or NEW, UPDATE or
// DESTROY when watching, and portid the netlink port of the process that
// caused the event (0 for the kernel). Events are flushed at once so a
// watcher sees them as they happen.
func (fw *FlowWriter) WriteEvent(event string, portid uint32, f *model.Flow) error {
	return fw.write(event, portid, f, nil)
}

func (fw *FlowWriter) write(event string, portid uint32, f *model.Flow, slow []compiler.FlowSlowPath) error {
	fw.counts.Add(f)
	switch fw.format {
	case FlowConntrack:
		fw.line = AppendConntrack(fw.line[:0], event, f, fw.now())
		if portid != 0 {
			// conntrack -E's mark for changes made by a process (it also
			// names the program, which nftflow does not look up).
			fw.line = append(fw.line, " [USERSPACE] portid="...)
			fw.line = strconv.AppendUint(fw.line, uint64(portid), 10)
		}
	case FlowJSON:
		fw.line = AppendFlowJSON(fw.line[:0], event, f)
		if portid != 0 {
			fw.line = fw.line[:len(fw.line)-1]
			fw.line = append(fw.line, `,"portid":`...)
			fw.line = strconv.AppendUint(fw.line, uint64(portid), 10)
			fw.line = append(fw.line, '}')
		}
		if len(slow) > 0 {
			fw.line = appendJSONSlowPath(fw.line[:len(fw.line)-1], slow)
			fw.line = append(fw.line, '}')
		}
	default:
		fw.table.add(event, f, slow)
		if event != "" || fw.table.rows == FlowTableBlock {
			if err := fw.table.flush(fw.w); err != nil {
				return err
			}
		}
		if event != "" {
			return fw.w.Flush()
		}
		return nil
	}
	fw.line = append(fw.line, '\n')
	if _, err := fw.w.Write(fw.line); err != nil {
		return err
	}
	if event != "" {
		return fw.w.Flush()
	}
	return nil
}

// Flush writes what is buffered without the summary line: for output cut
// short by an error.
func (fw *FlowWriter) Flush() error {
	if fw.format == FlowTable {
		if err := fw.table.flush(fw.w); err != nil {
			return err
		}
	}
	return fw.w.Flush()
}

// Close writes what is buffered and, for a table listing, the summary line
// (a listing with no flows prints only the summary; watching prints none).
func (fw *FlowWriter) Close() error {
	if fw.format == FlowTable {
		if err := fw.table.flush(fw.w); err != nil {
			return err
		}
		if fw.table.events {
			return fw.w.Flush()
		}
		fw.line = append(fw.counts.AppendSummary(fw.line[:0]), '\n')
		for _, g := range fw.slow {
			fw.line = appendSlowSummary(fw.line, g)
		}
		if _, err := fw.w.Write(fw.line); err != nil {
			return err
		}
	}
	return fw.w.Flush()
}

// The table columns, in order. EVENT is shown only when watching.
// NOTE has no header: it holds the slow-path note, printed after the row.
var flowColumns = [...]string{"EVENT", "PROTO", "SRC", "DST", "SPORT", "DPORT", "STATE",
	"STATUS", "TIMEOUT", "PACKETS", "BYTES", "MARK", "ZONE", ""}

const (
	colEvent = iota
	colProto
	colSrc
	colDst
	colSport
	colDport
	colState
	colStatus
	colTimeout
	colPackets
	colBytes
	colMark
	colZone
	colNote
	numCols
)

// watchMinWidths are the starting column widths when watching: the
// longest event, protocol, IPv4 address, port, state and status names.
var watchMinWidths = [numCols]int{colEvent: 7, colProto: 7, colSrc: 15, colDst: 15, colSport: 5,
	colDport: 5, colState: 11, colStatus: 18, colTimeout: 7, colPackets: 7, colBytes: 7, colMark: 4, colZone: 4}

// rightAligned marks the numeric columns.
var rightAligned = [numCols]bool{colTimeout: true, colPackets: true, colBytes: true, colMark: true, colZone: true}

// tableBlock holds up to FlowTableBlock rows as cells in one byte arena.
type tableBlock struct {
	arena   []byte
	ends    []int32 // end offset of each cell in arena, numCols per row
	rows    int
	widths  [numCols]int
	header  bool // header printed
	events  bool // EVENT column shown
	scratch []byte
	hdr     []byte
}

func newTableBlock() *tableBlock {
	t := &tableBlock{}
	for i, h := range flowColumns {
		t.widths[i] = len(h)
	}
	return t
}

func (t *tableBlock) cell(i int) {
	t.ends = append(t.ends, int32(len(t.arena)))
	if w := len(t.arena) - t.cellStart(len(t.ends)-1); w > t.widths[i] {
		t.widths[i] = w
	}
}

func (t *tableBlock) cellStart(k int) int {
	if k == 0 {
		return 0
	}
	return int(t.ends[k-1])
}

func (t *tableBlock) dash(i int) {
	t.arena = append(t.arena, '-')
	t.cell(i)
}

func (t *tableBlock) uint(i int, v uint64) {
	t.arena = strconv.AppendUint(t.arena, v, 10)
	t.cell(i)
}

func (t *tableBlock) add(event string, f *model.Flow, slow []compiler.FlowSlowPath) {
	if event != "" && !t.events {
		// Events are printed one by one, so no block can align them:
		// start from widths that fit common values instead.
		t.events = true
		for i, w := range watchMinWidths {
			t.widths[i] = max(t.widths[i], w)
		}
	}
	t.arena = append(t.arena, event...)
	t.cell(colEvent)
	t.arena = append(t.arena, model.ProtoName(f.Orig.Proto)...)
	if f.Orig.Proto != 0 && model.ProtoName(f.Orig.Proto) == "unknown" {
		t.arena = t.arena[:t.cellStart(len(t.ends))]
		t.arena = strconv.AppendUint(t.arena, uint64(f.Orig.Proto), 10)
	}
	t.cell(colProto)
	t.arena = appendCtAddr(t.arena, f.Orig.Src)
	t.cell(colSrc)
	t.arena = appendCtAddr(t.arena, f.Orig.Dst)
	t.cell(colDst)
	switch {
	case f.Orig.HasPorts():
		t.uint(colSport, uint64(f.Orig.SrcPort))
		t.uint(colDport, uint64(f.Orig.DstPort))
	case f.Orig.IsICMP():
		// ICMP: SPORT holds the identifier, DPORT type/code.
		t.uint(colSport, uint64(f.Orig.ICMPID))
		t.arena = strconv.AppendUint(t.arena, uint64(f.Orig.ICMPType), 10)
		t.arena = append(t.arena, '/')
		t.arena = strconv.AppendUint(t.arena, uint64(f.Orig.ICMPCode), 10)
		t.cell(colDport)
	default:
		t.dash(colSport)
		t.dash(colDport)
	}
	if s := f.StateName(); s != "" {
		t.arena = append(t.arena, s...)
		t.cell(colState)
	} else {
		t.dash(colState)
	}
	t.arena = AppendFlowStatusTags(t.arena, f.Status)
	t.cell(colStatus)
	if f.Timeout != nil {
		t.uint(colTimeout, uint64(*f.Timeout))
	} else {
		t.dash(colTimeout)
	}
	if c := f.Counters; c != nil {
		t.uint(colPackets, c.OrigPackets+c.ReplyPackets)
		t.uint(colBytes, c.OrigBytes+c.ReplyBytes)
	} else {
		t.dash(colPackets)
		t.dash(colBytes)
	}
	if f.Mark != nil {
		t.uint(colMark, uint64(*f.Mark))
	} else {
		t.dash(colMark)
	}
	var zone uint64
	if f.Zone != nil {
		zone = uint64(*f.Zone)
	}
	t.uint(colZone, zone)
	for i, s := range slow {
		if i == 0 {
			t.arena = append(t.arena, "slow path: "...)
		} else {
			t.arena = append(t.arena, "; "...)
		}
		t.arena = append(t.arena, s.Short...)
	}
	t.ends = append(t.ends, int32(len(t.arena))) // the note takes no width
	t.rows++
}

// AppendFlowStatusTags appends the table's STATUS cell: HW_OFFLOAD or
// OFFLOAD, ASSURED, UNREPLIED joined by commas, or "-".
func AppendFlowStatusTags(b []byte, s model.FlowStatus) []byte {
	n := len(b)
	sep := func() {
		if len(b) > n {
			b = append(b, ',')
		}
	}
	switch {
	case s.HWOffloaded():
		b = append(b, "HW_OFFLOAD"...)
	case s.Offloaded():
		b = append(b, "OFFLOAD"...)
	}
	if s.Assured() {
		sep()
		b = append(b, "ASSURED"...)
	}
	if !s.SeenReply() {
		sep()
		b = append(b, "UNREPLIED"...)
	}
	if len(b) == n {
		b = append(b, '-')
	}
	return b
}

// writeRow writes one row; cell(i) returns column i's text.
func (t *tableBlock) writeRow(w *bufio.Writer, row int, header bool) error {
	b := t.scratch[:0]
	first := true
	last := colZone
	base := row * numCols
	for i := 0; i < numCols; i++ {
		if i == colEvent && !t.events {
			continue
		}
		if i == colNote {
			// The slow-path note trails the row, unaligned.
			if !header && t.ends[base+i] > int32(t.cellStart(base+i)) {
				b = append(b, "  "...)
				b = append(b, t.arena[t.cellStart(base+i):t.ends[base+i]]...)
			}
			continue
		}
		var c []byte
		if header {
			c = append(t.hdr[:0], flowColumns[i]...)
			t.hdr = c
		} else {
			c = t.arena[t.cellStart(base+i):t.ends[base+i]]
		}
		if !first {
			b = append(b, "  "...)
		}
		first = false
		pad := t.widths[i] - len(c)
		if rightAligned[i] {
			for ; pad > 0; pad-- {
				b = append(b, ' ')
			}
			b = append(b, c...)
		} else {
			b = append(b, c...)
			if i != last {
				for ; pad > 0; pad-- {
					b = append(b, ' ')
				}
			}
		}
	}
	b = append(b, '\n')
	t.scratch = b
	_, err := w.Write(b)
	return err
}

// flush writes the buffered rows (and the header before the first rows).
func (t *tableBlock) flush(w *bufio.Writer) error {
	if t.rows == 0 {
		return nil
	}
	if !t.header {
		t.header = true
		if err := t.writeRow(w, 0, true); err != nil {
			return err
		}
	}
	for r := 0; r < t.rows; r++ {
		if err := t.writeRow(w, r, false); err != nil {
			return err
		}
	}
	t.arena, t.ends, t.rows = t.arena[:0], t.ends[:0], 0
	return nil
}

// AppendFlowJSON appends f as one JSON object (no newline) in the schema
// documented in docs/list-flows.md. event, when not "", becomes "event".
// Optional members the kernel did not send are left out.
func AppendFlowJSON(b []byte, event string, f *model.Flow) []byte {
	b = append(b, '{')
	if event != "" {
		b = append(b, `"event":"`...)
		b = append(b, event...)
		b = append(b, `",`...)
	}
	b = append(b, `"family":`...)
	switch f.Family {
	case model.FamilyIP:
		b = append(b, `"ipv4"`...)
	case model.FamilyIP6:
		b = append(b, `"ipv6"`...)
	default:
		b = strconv.AppendUint(b, uint64(f.Family), 10)
	}
	b = append(b, `,"proto":"`...)
	b = append(b, model.ProtoName(f.Orig.Proto)...)
	b = append(b, `","proto_num":`...)
	b = strconv.AppendUint(b, uint64(f.Orig.Proto), 10)
	if s := f.StateName(); s != "" {
		b = append(b, `,"state":"`...)
		b = append(b, s...)
		b = append(b, '"')
	}
	b = append(b, `,"status":[`...)
	b = appendJSONStatus(b, f.Status)
	b = append(b, `],"status_bits":`...)
	b = strconv.AppendUint(b, uint64(f.Status), 10)
	b = append(b, `,"offloaded":`...)
	b = strconv.AppendBool(b, f.Status.Offloaded())
	b = append(b, `,"hw_offloaded":`...)
	b = strconv.AppendBool(b, f.Status.HWOffloaded())
	b = append(b, `,"orig":`...)
	b = appendJSONTuple(b, &f.Orig)
	b = append(b, `,"reply":`...)
	b = appendJSONTuple(b, &f.Reply)
	b = appendJSONUint(b, "timeout", f.Timeout)
	b = appendJSONUint(b, "mark", f.Mark)
	if f.Zone != nil {
		b = append(b, `,"zone":`...)
		b = strconv.AppendUint(b, uint64(*f.Zone), 10)
	}
	b = appendJSONUint(b, "use", f.Use)
	b = appendJSONUint(b, "id", f.ID)
	if c := f.Counters; c != nil {
		b = append(b, `,"counters":{"orig":{"packets":`...)
		b = strconv.AppendUint(b, c.OrigPackets, 10)
		b = append(b, `,"bytes":`...)
		b = strconv.AppendUint(b, c.OrigBytes, 10)
		b = append(b, `},"reply":{"packets":`...)
		b = strconv.AppendUint(b, c.ReplyPackets, 10)
		b = append(b, `,"bytes":`...)
		b = strconv.AppendUint(b, c.ReplyBytes, 10)
		b = append(b, `}}`...)
	}
	if f.Start != nil {
		b = append(b, `,"start_ns":`...)
		b = strconv.AppendUint(b, *f.Start, 10)
	}
	if f.Stop != nil {
		b = append(b, `,"stop_ns":`...)
		b = strconv.AppendUint(b, *f.Stop, 10)
	}
	if f.Helper != "" {
		b = append(b, `,"helper":`...)
		b = appendJSONString(b, f.Helper)
	}
	if f.SecCtx != "" {
		b = append(b, `,"secctx":`...)
		b = appendJSONString(b, f.SecCtx)
	}
	if f.Labels != nil {
		b = append(b, `,"labels":"`...)
		b = hex.AppendEncode(b, f.Labels)
		b = append(b, '"')
	}
	return append(b, '}')
}

// appendSlowSummary appends the table's summary line for one slow-path
// reason: "1 offloaded flow has a direction on the slow path: REASON".
func appendSlowSummary(b []byte, g slowGroup) []byte {
	b = strconv.AppendInt(b, int64(g.flows), 10)
	if g.flows == 1 {
		b = append(b, " offloaded flow has a direction on the slow path: "...)
	} else {
		b = append(b, " offloaded flows have a direction on the slow path: "...)
	}
	b = append(b, g.reason...)
	return append(b, '\n')
}

// appendJSONSlowPath appends the "slow_path" member (with its leading
// comma): one object per direction no flowtable catches.
func appendJSONSlowPath(b []byte, slow []compiler.FlowSlowPath) []byte {
	b = append(b, `,"slow_path":[`...)
	for i, s := range slow {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"direction":`...)
		b = appendJSONString(b, s.Direction)
		b = append(b, `,"device":`...)
		b = appendJSONString(b, s.Device)
		b = append(b, `,"devices":[`...)
		for j, d := range s.Devices {
			if j > 0 {
				b = append(b, ',')
			}
			b = appendJSONString(b, d)
		}
		b = append(b, `],"via":`...)
		b = appendJSONString(b, s.Via)
		b = append(b, `,"reason":`...)
		b = appendJSONString(b, s.Reason)
		b = append(b, '}')
	}
	return append(b, ']')
}

func appendJSONUint(b []byte, name string, v *uint32) []byte {
	if v == nil {
		return b
	}
	b = append(b, ',', '"')
	b = append(b, name...)
	b = append(b, '"', ':')
	return strconv.AppendUint(b, uint64(*v), 10)
}

func appendJSONString(b []byte, s string) []byte {
	q, _ := json.Marshal(s)
	return append(b, q...)
}

func appendJSONTuple(b []byte, t *model.FlowTuple) []byte {
	b = append(b, `{"src":"`...)
	if t.Src.IsValid() {
		b = t.Src.AppendTo(b)
	}
	b = append(b, `","dst":"`...)
	if t.Dst.IsValid() {
		b = t.Dst.AppendTo(b)
	}
	b = append(b, '"')
	switch {
	case t.HasPorts() || t.Proto == model.ProtoGRE:
		b = append(b, `,"sport":`...)
		b = strconv.AppendUint(b, uint64(t.SrcPort), 10)
		b = append(b, `,"dport":`...)
		b = strconv.AppendUint(b, uint64(t.DstPort), 10)
	case t.IsICMP():
		b = append(b, `,"icmp_type":`...)
		b = strconv.AppendUint(b, uint64(t.ICMPType), 10)
		b = append(b, `,"icmp_code":`...)
		b = strconv.AppendUint(b, uint64(t.ICMPCode), 10)
		b = append(b, `,"icmp_id":`...)
		b = strconv.AppendUint(b, uint64(t.ICMPID), 10)
	}
	if t.Zone != nil {
		b = append(b, `,"zone":`...)
		b = strconv.AppendUint(b, uint64(*t.Zone), 10)
	}
	return append(b, '}')
}

// appendJSONStatus appends the quoted names of the status bits set, comma
// separated, in the order of model.FlowStatus.Names.
func appendJSONStatus(b []byte, s model.FlowStatus) []byte {
	first := true
	for i := 0; i < 32; i++ {
		bit := model.FlowStatus(1) << i
		if s&bit == 0 {
			continue
		}
		n := model.StatusBitName(i)
		if n == "" {
			continue
		}
		if !first {
			b = append(b, ',')
		}
		first = false
		b = append(b, '"')
		b = append(b, n...)
		b = append(b, '"')
	}
	return b
}
