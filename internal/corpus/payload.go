package corpus

import (
	"bufio"
	"os"
	"path/filepath"
	"strings"
)

// PayloadSet is an anonymous (or named) set block printed before a rule's
// expressions in a .t.payload file: the set's header line, the header of
// its element message and its elements.
type PayloadSet struct {
	Header     string   // "__set%d test-ip4 3 size 2"
	ElemHeader string   // "__set%d test-ip4 0"
	Elements   []string // one per "\telement ..." item, without the tab
}

// PayloadEntry is one rule's expected netlink listing.
type PayloadEntry struct {
	Line                 int // 1-based line of the "# rule" line
	Rule                 string
	Family, Table, Chain string
	Sets                 []PayloadSet
	Exprs                []string // "[ meta load l4proto => reg 1 ]", trimmed
}

// ReadPayload parses a .t.payload or .t.payload.FAMILY file.
func ReadPayload(path string) ([]PayloadEntry, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []PayloadEntry
	var cur *PayloadEntry
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<22)
	n := 0
	flush := func() {
		if cur != nil {
			out = append(out, *cur)
			cur = nil
		}
	}
	for sc.Scan() {
		n++
		raw := sc.Text()
		l := strings.TrimRight(raw, " \t\r")
		switch {
		case strings.HasPrefix(l, "# "):
			flush()
			cur = &PayloadEntry{Line: n, Rule: strings.TrimSpace(l[2:])}
		case cur == nil:
			continue
		case strings.TrimSpace(l) == "":
			flush()
		case strings.HasPrefix(strings.TrimSpace(l), "["):
			cur.Exprs = append(cur.Exprs, strings.TrimSpace(l))
		case strings.HasPrefix(raw, "\t") || strings.HasPrefix(strings.TrimSpace(l), "element "):
			if len(cur.Sets) == 0 {
				cur.Sets = append(cur.Sets, PayloadSet{})
			}
			s := &cur.Sets[len(cur.Sets)-1]
			for _, e := range strings.Split(l, "\t") {
				if e = strings.TrimSpace(e); e != "" {
					s.Elements = append(s.Elements, e)
				}
			}
		case strings.HasPrefix(l, "__") || isSetHeader(l, cur):
			if len(cur.Sets) > 0 && cur.Sets[len(cur.Sets)-1].ElemHeader == "" &&
				len(cur.Sets[len(cur.Sets)-1].Elements) == 0 &&
				firstWord(cur.Sets[len(cur.Sets)-1].Header) == firstWord(l) {
				cur.Sets[len(cur.Sets)-1].ElemHeader = l
			} else {
				cur.Sets = append(cur.Sets, PayloadSet{Header: l})
			}
		default:
			fs := strings.Fields(l)
			if len(fs) >= 1 {
				cur.Family = fs[0]
			}
			if len(fs) >= 2 {
				cur.Table = fs[1]
			}
			if len(fs) >= 3 {
				cur.Chain = fs[2]
			}
		}
	}
	flush()
	return out, sc.Err()
}

// isSetHeader reports whether l, seen before the rule's family line,
// names a set of the rule's table ("myset test-ip4 0").
func isSetHeader(l string, cur *PayloadEntry) bool {
	if cur.Family != "" {
		return false
	}
	fs := strings.Fields(l)
	if len(fs) < 3 {
		return false
	}
	switch fs[0] {
	case "ip", "ip6", "inet", "arp", "bridge", "netdev":
		return false
	}
	return true
}

func firstWord(s string) string {
	w, _, _ := strings.Cut(s, " ")
	return w
}

// PayloadFiles returns the payload files of a .t file: the generic
// ".payload" one (may not exist) and the per-family ones by family.
func PayloadFiles(tfile string) (generic string, byFamily map[string]string) {
	byFamily = map[string]string{}
	if _, err := os.Stat(tfile + ".payload"); err == nil {
		generic = tfile + ".payload"
	}
	m, _ := filepath.Glob(tfile + ".payload.*")
	for _, p := range m {
		fam := strings.TrimPrefix(p, tfile+".payload.")
		if strings.Contains(fam, ".") {
			continue
		}
		byFamily[fam] = p
	}
	return generic, byFamily
}
