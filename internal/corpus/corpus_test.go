package corpus

import (
	"errors"
	"testing"
)

func TestReadPyAll(t *testing.T) {
	dir, err := Dir()
	if errors.Is(err, ErrMissing) {
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	files, err := PyFiles(dir)
	if err != nil || len(files) == 0 {
		t.Fatalf("PyFiles: %d files, %v", len(files), err)
	}
	ok := 0
	for _, f := range files {
		pf, err := ReadPy(f)
		if err != nil {
			t.Fatal(err)
		}
		if len(pf.Tables) == 0 {
			t.Errorf("%s: no table declared", f)
		}
		for _, l := range pf.Lines {
			if l.Kind == 0 && l.OK {
				ok++
			}
		}
	}
	if ok < 1000 {
		t.Errorf("only %d ok rule lines across %d files", ok, len(files))
	}
	dumps, err := Dumps(dir)
	if err != nil || len(dumps) == 0 {
		t.Fatalf("Dumps: %d, %v", len(dumps), err)
	}
}
