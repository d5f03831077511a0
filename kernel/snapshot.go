package kernel

import (
	"context"
	"errors"
	"fmt"

	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"

	"github.com/nftflow/nftflow/model"
)

// snapshotTries bounds how often ReadSnapshot re-reads when the ruleset
// changes while it is being read.
const snapshotTries = 5

// ReadSnapshot reads every table for which want returns true (nil: every
// table) with its chains, rules, sets and their elements, flowtables and
// objects, together with the generation id they were read at. The
// generation is read before and after the dumps; when it moved (or a dump
// was interrupted) the tables are read again.
func ReadSnapshot(ctx context.Context, netns string, want func(model.Family, string) bool) (*model.Snapshot, error) {
	var tables []*model.TableState
	gen, err := readAtGeneration(ctx, netns, true, func(d *Dumper) (err error) {
		tables, err = readTables(d, want)
		return err
	})
	if err != nil {
		return nil, err
	}
	return &model.Snapshot{GenID: gen, Tables: tables}, nil
}

// ReadTables reads the tables for which want returns true (nil: every
// table), without their contents, together with the generation id they
// were read at: what a caller needs to know that tables do not exist yet,
// without reading what the others hold.
func ReadTables(ctx context.Context, netns string, want func(model.Family, string) bool) (genid uint32, tables []*model.Table, err error) {
	genid, err = readAtGeneration(ctx, netns, false, func(d *Dumper) error {
		tables = tables[:0]
		err := d.Tables(Filter{}, func(t *model.Table) error {
			if want == nil || want(t.Family, t.Name) {
				tables = append(tables, t)
			}
			return nil
		})
		if err != nil && !errors.Is(err, ErrDumpInterrupted) {
			err = fmt.Errorf("read tables: %w", err)
		}
		return err
	})
	return genid, tables, err
}

// readAtGeneration runs read (dumps on one socket of netns, with widened
// dump buffers if widen) between two readings of the ruleset generation,
// and again, at most snapshotTries times, while the generation moves under
// it or a dump is interrupted. It returns the generation that what read
// saw belongs to.
func readAtGeneration(ctx context.Context, netns string, widen bool, read func(*Dumper) error) (uint32, error) {
	d, err := NewDumper(netns)
	if err != nil {
		return 0, err
	}
	defer d.Close()
	s := &socket{c: d.conn, netns: netns}
	if widen {
		if err := widenDumps(d); err != nil {
			return 0, err
		}
	}
	for try := 0; try < snapshotTries; try++ {
		if err := ctx.Err(); err != nil {
			return 0, err
		}
		gen, err := s.genID()
		if err != nil {
			return 0, err
		}
		err = read(d)
		if errors.Is(err, ErrDumpInterrupted) {
			continue
		}
		if err != nil {
			return 0, err
		}
		after, err := s.genID()
		if err != nil {
			return 0, err
		}
		if after == gen {
			return gen, nil
		}
	}
	return 0, fmt.Errorf("read ruleset: %w", ErrGenerationChanged)
}

func readTables(d *Dumper, want func(model.Family, string) bool) ([]*model.TableState, error) {
	var out []*model.TableState
	err := d.Tables(Filter{}, func(t *model.Table) error {
		if want == nil || want(t.Family, t.Name) {
			out = append(out, &model.TableState{Table: t, Rules: map[string][]*model.Rule{}})
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read tables: %w", err)
	}
	for _, ts := range out {
		t := ts.Table
		f := Filter{Family: t.Family, Table: t.Name}
		if err := d.Chains(f, func(c *model.Chain) error { ts.Chains = append(ts.Chains, c); return nil }); err != nil {
			return nil, fmt.Errorf("read chains of %s %s: %w", t.Family, t.Name, err)
		}
		names := make([]string, len(ts.Chains))
		for i, c := range ts.Chains {
			names[i] = c.Name
		}
		if err := d.ChainRules(f, names, func(r *model.Rule) error { ts.Rules[r.Chain] = append(ts.Rules[r.Chain], r); return nil }); err != nil {
			return nil, fmt.Errorf("read rules of %s %s: %w", t.Family, t.Name, err)
		}
		if err := d.Sets(f, func(s *model.Set) error { ts.Sets = append(ts.Sets, s); return nil }); err != nil {
			return nil, fmt.Errorf("read sets of %s %s: %w", t.Family, t.Name, err)
		}
		for _, s := range ts.Sets {
			if err := d.SetElems(s); err != nil {
				return nil, fmt.Errorf("read elements of set %s: %w", s.Name, err)
			}
		}
		if err := d.Flowtables(f, func(ft *model.Flowtable) error { ts.Flowtables = append(ts.Flowtables, ft); return nil }); err != nil {
			return nil, fmt.Errorf("read flowtables of %s %s: %w", t.Family, t.Name, err)
		}
		if err := d.Objects(f, func(o *model.Object) error { ts.Objects = append(ts.Objects, o); return nil }); err != nil {
			return nil, fmt.Errorf("read objects of %s %s: %w", t.Family, t.Name, err)
		}
	}
	return out, nil
}

// GenerationID reads the current ruleset generation id.
func GenerationID(netns string) (uint32, error) {
	s, err := openSocket(netns)
	if err != nil {
		return 0, err
	}
	defer s.close()
	return s.genID()
}

// ApplyAtGeneration sends b as one transaction like Apply, but guarded by
// genid, the generation a plan was made from: if the ruleset changed since
// then, nothing is sent (or the kernel refuses the whole batch) and
// ApplyAtGeneration returns ErrGenerationChanged at once, so that the
// caller re-reads and re-plans instead of sending a stale plan.
//
// Apply reads the generation g1 and then runs beforeSend, which reads it
// again (g2): g1 <= g2, and both are at least genid, so g2 == genid means
// the batch goes out carrying genid and the kernel refuses it if anything
// commits in between.
func ApplyAtGeneration(ctx context.Context, b model.Batch, opts Options, genid uint32) error {
	if len(b.Ops) == 0 {
		return nil
	}
	if err := guardGeneration(&opts, genid); err != nil {
		return err
	}
	return Apply(ctx, b, opts)
}

// widenDumps makes the kernel fill dump messages of up to 32 KiB on d's
// socket. The kernel sizes each dump skb by the largest buffer a recvmsg
// on the socket has used so far, and it resumes a rule or element dump by
// walking the chain or set from the start, so small skbs make reading a
// chain of 100,000 rules quadratic in practice. One recvmsg with a 32 KiB
// buffer (of the answer to a GETGEN request) sets that size.
func widenDumps(d *Dumper) error {
	req := netlink.Message{
		Header: netlink.Header{Type: netlink.HeaderType(nftType(msgGetGen)), Flags: netlink.Request},
		Data:   []byte{unix.AF_UNSPEC, 0, 0, 0},
	}
	if _, err := d.conn.Send(req); err != nil {
		return fmt.Errorf("read ruleset generation: %w", err)
	}
	rc, err := d.conn.SyscallConn()
	if err != nil {
		return fmt.Errorf("read ruleset generation: %w", err)
	}
	buf := make([]byte, 32<<10)
	var rerr error
	if err := rc.Read(func(fd uintptr) bool {
		_, _, rerr = unix.Recvfrom(int(fd), buf, unix.MSG_DONTWAIT)
		return rerr != unix.EAGAIN
	}); err != nil {
		return fmt.Errorf("read ruleset generation: %w", err)
	}
	if rerr != nil {
		return fmt.Errorf("read ruleset generation: %w", rerr)
	}
	return nil
}

// guardGeneration makes the send of opts go out only while the ruleset is
// still at genid, the generation a plan was made from (see
// ApplyAtGeneration); a refusal by the kernel is not retried.
func guardGeneration(opts *Options, genid uint32) error {
	if genid == 0 {
		return errors.New("apply: no generation id to guard the batch with")
	}
	netns := opts.NetNS
	opts.beforeSend = func(attempt int) error {
		if attempt > 0 {
			return ErrGenerationChanged // the kernel refused: the plan is stale
		}
		now, err := GenerationID(netns)
		if err != nil {
			return err
		}
		if now != genid {
			return ErrGenerationChanged
		}
		return nil
	}
	return nil
}
