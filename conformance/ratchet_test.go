package conformance

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/nftflow/nftflow/internal/corpus"
)

// corpusDir returns the corpus root or skips the test with the reason.
func corpusDir(t *testing.T) string {
	t.Helper()
	d, err := corpus.Dir()
	if errors.Is(err, corpus.ErrMissing) {
		t.Skipf("skipping conformance suite: %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	return d
}

var (
	ratchetOnce sync.Once
	ratchet     map[string]int
	ratchetErr  error
)

// loadRatchet reads ratchet.txt: lines "SUITE MIN_PASSED", '#' comments.
func loadRatchet() (map[string]int, error) {
	ratchetOnce.Do(func() {
		ratchet = map[string]int{}
		f, err := os.Open("ratchet.txt")
		if err != nil {
			ratchetErr = err
			return
		}
		defer f.Close()
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			l := strings.TrimSpace(sc.Text())
			if l == "" || l[0] == '#' {
				continue
			}
			name, n, ok := strings.Cut(l, " ")
			v, err := strconv.Atoi(strings.TrimSpace(n))
			if !ok || err != nil {
				ratchetErr = fmt.Errorf("ratchet.txt: bad line %q", l)
				return
			}
			ratchet[name] = v
		}
		ratchetErr = sc.Err()
	})
	return ratchet, ratchetErr
}

// report prints "SUITE passed/total" and fails the test when passed falls
// below the figure recorded for SUITE in ratchet.txt. Raise the ratchet in
// the same commit as the improvement.
func report(t *testing.T, suite string, passed, total int) {
	t.Helper()
	r, err := loadRatchet()
	if err != nil {
		t.Fatal(err)
	}
	min, ok := r[suite]
	fmt.Printf("SUITE %s %d/%d (ratchet %d)\n", suite, passed, total, min)
	if !ok {
		t.Errorf("suite %s has no entry in ratchet.txt: add \"%s %d\"", suite, suite, passed)
		return
	}
	if passed < min {
		t.Errorf("suite %s regressed: %d/%d passed, ratchet.txt requires %d", suite, passed, total, min)
	}
}
