package plan

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"reflect"
	"slices"
	"strconv"

	"github.com/nftflow/nftflow/model"
)

// maxElemHashes bounds the elements per set whose hashes Applied keeps;
// changes to the elements of bigger sets are never called drift.
const maxElemHashes = 10000

// Applied records what nftflow made the managed tables look like at its
// last apply: a hash of every table, chain, rule, set, element (of sets up
// to 10,000 elements), flowtable and object. `nftflow diff` uses it to
// tell a change another program made since (drift) from a change of the
// file.
type Applied struct {
	// Tables are the tables the apply managed ("inet filter").
	Tables []string
	hashes map[uint64]struct{}
}

// known reports whether a is a record (nil is not).
func (a *Applied) known() bool { return a != nil }

func (a *Applied) has(h uint64) bool {
	_, ok := a.hashes[h]
	return ok
}

func (a *Applied) hasTable(id TableID) bool {
	return slices.Contains(a.Tables, id.String())
}

// Record returns the record of the desired tables, to be saved once they
// are applied.
func Record(d *Desired) *Applied {
	a := &Applied{hashes: map[uint64]struct{}{}}
	add := func(h uint64) { a.hashes[h] = struct{}{} }
	for _, ts := range d.Tables {
		id := TableID{ts.Table.Family, ts.Table.Name}
		a.Tables = append(a.Tables, id.String())
		tp := &tablePlan{id: id, want: ts, wantAnon: map[uint32]*model.Set{}}
		for _, s := range ts.Sets {
			if isAnon(s.Name) && s.ID != 0 {
				tp.wantAnon[s.ID] = s
			}
		}
		bind := newBindingIndex(ts, tp.wantAnonKey)
		add(hashTable(id))
		add(hashTableFlags(id, ts.Table.Flags))
		for _, c := range ts.Chains {
			if isBinding(c) {
				continue // part of the rule that jumps to it
			}
			add(hashChain(id, c))
			for _, r := range ts.Rules[c.Name] {
				add(hashRule(id, c.Name, bind.ruleKey(r)))
			}
		}
		for _, s := range ts.Sets {
			if isAnon(s.Name) {
				continue
			}
			add(hashSet(id, s))
			if len(s.Elements) <= maxElemHashes {
				for i := range s.Elements {
					add(hashElem(id, s.Name, elemKey(s, &s.Elements[i])))
				}
			}
		}
		for _, f := range ts.Flowtables {
			add(hashFlowtable(id, f))
		}
		for _, o := range ts.Objects {
			add(hashObject(id, o))
		}
	}
	return a
}

// appliedJSON is the stored form of Applied: the hashes as little-endian
// uint64s in base64.
type appliedJSON struct {
	Version int      `json:"version"`
	Tables  []string `json:"tables"`
	Hashes  string   `json:"hashes"`
}

// MarshalJSON stores the record.
func (a *Applied) MarshalJSON() ([]byte, error) {
	hs := make([]uint64, 0, len(a.hashes))
	for h := range a.hashes {
		hs = append(hs, h)
	}
	slices.Sort(hs)
	b := make([]byte, 0, 8*len(hs))
	for _, h := range hs {
		b = binary.LittleEndian.AppendUint64(b, h)
	}
	return json.Marshal(appliedJSON{Version: 1, Tables: a.Tables, Hashes: base64.StdEncoding.EncodeToString(b)})
}

// UnmarshalJSON reads a stored record.
func (a *Applied) UnmarshalJSON(data []byte) error {
	var j appliedJSON
	if err := json.Unmarshal(data, &j); err != nil {
		return err
	}
	if j.Version != 1 {
		return fmt.Errorf("applied state version %d: want 1", j.Version)
	}
	b, err := base64.StdEncoding.DecodeString(j.Hashes)
	if err != nil || len(b)%8 != 0 {
		return fmt.Errorf("applied state: bad hashes")
	}
	a.Tables = j.Tables
	a.hashes = make(map[uint64]struct{}, len(b)/8)
	for i := 0; i+8 <= len(b); i += 8 {
		a.hashes[binary.LittleEndian.Uint64(b[i:])] = struct{}{}
	}
	return nil
}

func hashOf(parts ...string) uint64 {
	h := fnv.New64a()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return h.Sum64()
}

func hashTable(id TableID) uint64 { return hashOf("table", id.String()) }
func hashTableFlags(id TableID, flags uint32) uint64 {
	return hashOf("tableflags", id.String(), strconv.FormatUint(uint64(flags), 16))
}
func hashChain(id TableID, c *model.Chain) uint64 {
	return hashOf("chain", id.String(), c.Name, chainKey(c), strconv.FormatUint(uint64(chainPolicy(c)), 10))
}
func hashRule(id TableID, chain, key string) uint64 { return hashOf("rule", id.String(), chain, key) }
func hashSet(id TableID, s *model.Set) uint64 {
	return hashOf("set", id.String(), s.Name, setDefKey(s, 0))
}
func hashElem(id TableID, set, key string) uint64 { return hashOf("elem", id.String(), set, key) }
func hashFlowtable(id TableID, f *model.Flowtable) uint64 {
	devs := slices.Clone(f.Devices)
	slices.Sort(devs)
	return hashOf("flowtable", id.String(), f.Name, flowtableKey(f), fmt.Sprint(devs))
}
func hashObject(id TableID, o *model.Object) uint64 {
	return hashOf("object", id.String(), o.Name, objectKey(o))
}

// Merge returns the union of two records (either may be nil).
func (a *Applied) Merge(b *Applied) *Applied {
	if a == nil {
		return b
	}
	if b == nil {
		return a
	}
	out := &Applied{Tables: append(slices.Clone(a.Tables), b.Tables...), hashes: make(map[uint64]struct{}, len(a.hashes)+len(b.hashes))}
	for h := range a.hashes {
		out.hashes[h] = struct{}{}
	}
	for h := range b.hashes {
		out.hashes[h] = struct{}{}
	}
	return out
}

// Recorder builds the desired tables of a declarative file from its
// operations one at a time, as FromBatch does, but keeps of the ordinary
// rules (in a declared chain, jumping to no chain binding) only their
// hashes for the record: a big file's rules can then be encoded for the
// kernel and let go as they are compiled. Its Desired tables lack those
// rules, so they serve for naming the tables and recording the apply, not
// for planning.
type Recorder struct {
	bd     *builder
	cc     canonCache
	big    map[*model.Set]bool         // sets kept without their elements
	chains map[TableID]map[string]bool // the declared (non-binding) chains
	rules  map[TableID][]uint64        // hashes of the rules let go
}

// NewRecorder returns an empty Recorder.
func NewRecorder() *Recorder {
	r := &Recorder{bd: newBuilder(), cc: canonCache{}, big: map[*model.Set]bool{}, chains: map[TableID]map[string]bool{}, rules: map[TableID][]uint64{}}
	r.bd.shed = r.shed
	return r
}

// Add takes the next operation of the file; like FromBatch it refuses
// anything but a declaration.
func (r *Recorder) Add(op model.Op) error {
	// Record hashes no element of a set of more than maxElemHashes: such
	// a set is kept without them, and elements added to it are dropped.
	switch o := op.Obj.(type) {
	case *model.Set:
		if !isAnon(o.Name) && len(o.Elements) > maxElemHashes {
			c := *o
			c.Elements = nil
			op.Obj = &c
			if err := r.bd.add(op); err != nil {
				return err
			}
			r.big[r.bd.setsByName[o.Family.String()+" "+o.Table+" "+o.Name]] = true
			return nil
		}
	case *model.SetElems:
		s := r.bd.setsByID[o.SetID]
		if s == nil || o.SetID == 0 {
			s = r.bd.setsByName[o.Family.String()+" "+o.Table+" "+o.Set]
		}
		if s != nil && !isAnon(s.Name) && (op.Verb == model.VerbAdd || op.Verb == model.VerbCreate) {
			if r.big[s] {
				return nil
			}
			if len(s.Elements)+len(o.Elements) > maxElemHashes {
				s.Elements = nil
				r.big[s] = true
				return nil
			}
		}
	}
	if c, ok := op.Obj.(*model.Chain); ok && !isBinding(c) {
		id := TableID{c.Family, c.Table}
		if r.chains[id] == nil {
			r.chains[id] = map[string]bool{}
		}
		r.chains[id][c.Name] = true
	}
	return r.bd.add(op)
}

// Desired returns the tables added so far, without the ordinary rules.
func (r *Recorder) Desired() *Desired { return r.bd.d }

// Record returns the record of one of the tables of Desired: the same as
// Record of the table with all its rules.
func (r *Recorder) Record(ts *model.TableState) *Applied {
	a := Record(&Desired{Tables: []*model.TableState{ts}})
	for _, h := range r.rules[TableID{ts.Table.Family, ts.Table.Name}] {
		a.hashes[h] = struct{}{}
	}
	return a
}

// shed hashes an ordinary rule as Record would and reports true; it
// reports false for a rule Record must see with its table.
func (r *Recorder) shed(ts *model.TableState, rule *model.Rule) bool {
	id := TableID{ts.Table.Family, ts.Table.Name}
	if !r.chains[id][rule.Chain] {
		return false
	}
	for _, e := range rule.Exprs {
		if im, ok := e.(*model.Immediate); ok && im.Verdict != nil && im.Verdict.ChainID != 0 {
			return false // jumps to a chain binding
		}
	}
	anon := func(_ string, setID uint32) (string, bool) {
		s := r.bd.setsByID[setID]
		if s == nil || !isAnon(s.Name) || s.Family != id.Family || s.Table != id.Name {
			return "", false
		}
		return anonSetKey(s), true
	}
	// hashRule(id, chain, ruleKey(rule)), the key hashed as it is
	// written rather than built.
	w := newHashWriter()
	for _, part := range []string{"rule", id.String(), rule.Chain} {
		w.WriteString(part)
		w.WriteByte(0)
	}
	canonWith(canonOut{h: w}, reflect.ValueOf(normExprs(rule.Exprs, anon)), r.cc)
	w.WriteByte('#')
	var q [64]byte
	w.Write(strconv.AppendQuote(q[:0], rule.Comment))
	w.WriteByte(0)
	r.rules[id] = append(r.rules[id], w.h)
	return true
}
