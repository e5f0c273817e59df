package file

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// TestWriteExcl covers the fallback createExclusive uses on file systems
// without hard links: it creates a file once, refuses an existing one
// without touching it, and makes it 0600.
func TestWriteExcl(t *testing.T) {
	path := filepath.Join(t.TempDir(), "k")
	if err := writeExcl(path, []byte("first")); err != nil {
		t.Fatalf("writeExcl: %v", err)
	}
	if err := writeExcl(path, []byte("second")); !os.IsExist(err) {
		t.Errorf("second writeExcl: %v, want an exists error", err)
	}
	got, err := os.ReadFile(path)
	if err != nil || string(got) != "first" {
		t.Errorf("content after a refused writeExcl = %q, %v", got, err)
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("mode = %v, %v; want 0600", fi.Mode().Perm(), err)
	}
}

// TestCreateExclusiveRace: of many racing creators, exactly one creates the
// file, the content is one creator's whole, and no temporary file remains.
func TestCreateExclusiveRace(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "once")
	const n = 16
	var wg sync.WaitGroup
	created := make([]bool, n)
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			created[i], errs[i] = createExclusive(path, []byte(strings.Repeat(string(rune('a'+i)), 4096)))
		}()
	}
	wg.Wait()
	winners := 0
	for i := range n {
		if errs[i] != nil {
			t.Errorf("creator %d: %v", i, errs[i])
		}
		if created[i] {
			winners++
		}
	}
	if winners != 1 {
		t.Errorf("%d creators created the file, want 1", winners)
	}
	got, err := os.ReadFile(path)
	if err != nil || len(got) != 4096 || strings.Count(string(got), string(got[:1])) != 4096 {
		t.Errorf("the file is not one creator's whole content (%d bytes, err %v)", len(got), err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("%d entries in the directory, want only the file", len(entries))
	}
}
