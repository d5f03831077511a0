package plan

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/nftflow/nftflow/compiler"
	"github.com/nftflow/nftflow/parser"
)

// The Recorder, which lets ordinary rules go, records the same hashes as
// Record of the whole desired tables.
func TestRecorderRecordsAsRecord(t *testing.T) {
	inputs := map[string]string{
		"plain": `table ip t {
	chain c { type filter hook input priority 0; ip saddr 10.0.0.1 tcp dport 22 counter accept
		ip saddr 10.0.0.2 drop comment "x" }
}`,
		"anonymous sets and maps": `table inet t {
	set s { type ipv4_addr; flags interval; elements = { 10.0.0.0/8, 192.168.1.1 } }
	chain c { tcp dport { 22, 80, 443 } accept
		ip saddr @s drop
		ip daddr vmap { 10.0.0.1 : accept, 10.0.0.2 : drop } }
}`,
		"bindings": `table inet t {
	chain c { tcp dport 22 jump { ip saddr 10.0.0.1 accept; counter }
		jump d }
	chain d { udp dport { 53, 123 } accept }
}`,
		"two blocks": `table ip t { chain c { ip saddr 1.1.1.1 accept } }
table ip u { chain c { ip saddr 2.2.2.2 accept } }
table ip t { chain e { ip daddr 3.3.3.3 drop } }
`,
	}
	var big strings.Builder
	big.WriteString("table ip big {\n\tset s {\n\t\ttype ipv4_addr\n\t\telements = { ")
	for i := 0; i < maxElemHashes+1; i++ {
		fmt.Fprintf(&big, "10.0.%d.%d, ", i/256, i%256)
	}
	big.WriteString("}\n\t}\n\tchain c { ip saddr @s accept }\n}\n")
	inputs["big set"] = big.String()
	big.Reset()
	big.WriteString("table ip bigiv {\n\tset s {\n\t\ttype ipv4_addr\n\t\tflags interval\n\t\telements = { ")
	for i := 0; i < 6000; i++ {
		fmt.Fprintf(&big, "10.%d.%d.0/31, ", i/256, i%256)
	}
	big.WriteString("}\n\t}\n\tchain c { ip saddr @s accept }\n}\n")
	inputs["big interval set"] = big.String()
	for name, src := range inputs {
		f, err := parser.ParseString(name+".nft", src)
		if err != nil {
			t.Fatalf("%s: parse: %v", name, err)
		}
		b, err := compiler.Compile(f)
		if err != nil {
			t.Fatalf("%s: compile: %v", name, err)
		}
		d, err := FromBatch(*b)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		// The recorder takes the operations as the compiler emits them
		// (big interval sets: the set, then its elements in pieces).
		r := NewRecorder()
		f, _ = parser.ParseString(name+".nft", src)
		if _, err := compiler.CompileWith(f, compiler.Options{Release: true, Emit: r.Add}); err != nil {
			t.Fatalf("%s: compile emitting: %v", name, err)
		}
		rd := r.Desired()
		if len(rd.Tables) != len(d.Tables) {
			t.Fatalf("%s: recorder has %d tables, FromBatch %d", name, len(rd.Tables), len(d.Tables))
		}
		shed := 0
		for i, ts := range d.Tables {
			want := hashList(Record(&Desired{Tables: d.Tables[i : i+1]}))
			got := hashList(r.Record(rd.Tables[i]))
			if !slices.Equal(got, want) {
				t.Errorf("%s: table %s: recorder hashes %x, Record %x", name, ts.Table.Name, got, want)
			}
			for c, rules := range ts.Rules {
				shed += len(rules) - len(rd.Tables[i].Rules[c])
			}
		}
		if shed == 0 {
			t.Errorf("%s: the recorder kept every rule", name)
		}
	}
}

func hashList(a *Applied) []uint64 {
	var hs []uint64
	for h := range a.hashes {
		hs = append(hs, h)
	}
	slices.Sort(hs)
	return hs
}
