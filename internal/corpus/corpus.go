// Package corpus reads the nftables project's test data from the shared
// corpus (NFTFLOW_CORPUS, default ../shared/corpus beside the checkout) for
// the conformance tests. The corpus is never copied into this repository.
package corpus

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// ErrMissing is returned by Dir when the corpus is not present.
var ErrMissing = errors.New("conformance corpus not found (set NFTFLOW_CORPUS or place it at ../shared/corpus beside the checkout)")

// Dir returns the corpus root (the directory holding nftables/).
func Dir() (string, error) {
	if d := os.Getenv("NFTFLOW_CORPUS"); d != "" {
		if _, err := os.Stat(filepath.Join(d, "nftables")); err != nil {
			return "", fmt.Errorf("NFTFLOW_CORPUS=%s: %w", d, ErrMissing)
		}
		return d, nil
	}
	root, err := repoRoot()
	if err != nil {
		return "", err
	}
	d := filepath.Join(root, "..", "shared", "corpus")
	if _, err := os.Stat(filepath.Join(d, "nftables")); err != nil {
		return "", ErrMissing
	}
	return filepath.Clean(d), nil
}

// repoRoot finds the directory holding go.mod, walking up from the working
// directory (tests run in their package directory).
func repoRoot() (string, error) {
	d, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d, nil
		}
		p := filepath.Dir(d)
		if p == d {
			return "", errors.New("corpus: go.mod not found above the working directory")
		}
		d = p
	}
}

// Dumps returns the paths of every ruleset dump (tests/shell/**/dumps/*.nft),
// sorted. Empty dumps are included; callers that want only non-empty ones
// filter on size.
func Dumps(dir string) ([]string, error) {
	var out []string
	base := filepath.Join(dir, "nftables", "tests", "shell", "testcases")
	err := filepath.WalkDir(base, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && strings.HasSuffix(p, ".nft") && filepath.Base(filepath.Dir(p)) == "dumps" {
			out = append(out, p)
		}
		return nil
	})
	sort.Strings(out)
	return out, err
}

// Bogons returns the inputs under tests/shell/testcases/bogons/nft-f/.
func Bogons(dir string) ([]string, error) {
	m, err := filepath.Glob(filepath.Join(dir, "nftables", "tests", "shell", "testcases", "bogons", "nft-f", "*"))
	sort.Strings(m)
	return m, err
}

// StripCount removes the "# count N" metadata lines of a dump.
func StripCount(b []byte) []byte {
	if !strings.Contains(string(b), "# count") {
		return b
	}
	var sb strings.Builder
	for _, l := range strings.SplitAfter(string(b), "\n") {
		if strings.HasPrefix(l, "# count ") {
			continue
		}
		sb.WriteString(l)
	}
	return []byte(sb.String())
}

// PyTable is a "*family;table;chain[,chain]" declaration of a .t file.
type PyTable struct {
	Family, Name string
	Chains       []string
}

// PyLine is one statement line of a .t file.
type PyLine struct {
	Line int // 1-based line number in the .t file
	// Kind is 0 for a rule, '!' for a set declaration, '?' for set
	// elements, '%' for a named object declaration.
	Kind   byte
	Text   string // the rule (or declaration) text
	OK     bool   // ";ok" (true) or ";fail" (false)
	Listed string // the expected listing when it differs (third field), else ""
}

// PyFile is a parsed tests/py .t file.
type PyFile struct {
	Path   string
	Chains map[string]string // chain name -> "type filter hook input priority 0"
	Tables []PyTable
	Lines  []PyLine
}

// PyFiles returns every tests/py/*/*.t file, sorted.
func PyFiles(dir string) ([]string, error) {
	m, err := filepath.Glob(filepath.Join(dir, "nftables", "tests", "py", "*", "*.t"))
	sort.Strings(m)
	return m, err
}

// ReadPy parses a .t file. Lines starting with '-' (known broken upstream)
// and '#' are skipped.
func ReadPy(path string) (*PyFile, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	pf := &PyFile{Path: path, Chains: map[string]string{}}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	n := 0
	for sc.Scan() {
		n++
		l := strings.TrimSpace(sc.Text())
		if l == "" || l[0] == '#' || l[0] == '-' {
			continue
		}
		switch l[0] {
		case ':':
			name, spec, _ := strings.Cut(l[1:], ";")
			pf.Chains[name] = spec
			continue
		case '*':
			parts := strings.Split(l[1:], ";")
			if len(parts) < 3 {
				return nil, fmt.Errorf("%s:%d: bad table line %q", path, n, l)
			}
			pf.Tables = append(pf.Tables, PyTable{Family: parts[0], Name: parts[1], Chains: strings.Split(parts[2], ",")})
			continue
		}
		pl := PyLine{Line: n}
		if l[0] == '!' || l[0] == '?' || l[0] == '%' {
			pl.Kind = l[0]
			l = l[1:]
		}
		// The status is the first field that reads "ok" or "fail"; object
		// declarations contain ';' inside their braces.
		fields := strings.Split(l, ";")
		st := -1
		for i := 1; i < len(fields); i++ {
			if f := strings.TrimSpace(fields[i]); f == "ok" || f == "fail" {
				st = i
				break
			}
		}
		if st < 0 {
			return nil, fmt.Errorf("%s:%d: no ;ok or ;fail in %q", path, n, l)
		}
		pl.Text = strings.TrimSpace(strings.Join(fields[:st], ";"))
		pl.OK = strings.TrimSpace(fields[st]) == "ok"
		if st+1 < len(fields) {
			pl.Listed = strings.TrimSpace(strings.Join(fields[st+1:], ";"))
		}
		pf.Lines = append(pf.Lines, pl)
	}
	return pf, sc.Err()
}
