package file_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestOpenRemovesStaleTemps: a process killed in the middle of a write
// leaves its temporary file behind. Open removes such files once they are
// an hour old, and leaves fresh ones (another process may be writing) and
// files that only look similar.
func TestOpenRemovesStaleTemps(t *testing.T) {
	base := t.TempDir()
	s := mustOpen(t, optsFor(base, keyMode))
	mustSet(t, s, "cred", str(t, "v"))
	old := time.Now().Add(-2 * time.Hour)
	files := map[string]bool{ // name: removed by the next Open
		".tmp-123456":    true,
		".tmp-7":         true,
		".tmp-999-fresh": false, // not of our naming
		".tmp-notes":     false,
		".tmp-":          false,
		".tmp-424242":    false, // fresh, set below
		"notes.txt":      false,
	}
	for name := range files {
		writeFile(t, filepath.Join(s.Dir(), name), "x", 0o600)
		if name != ".tmp-424242" {
			if err := os.Chtimes(filepath.Join(s.Dir(), name), old, old); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := os.Mkdir(filepath.Join(s.Dir(), ".tmp-55"), 0o700); err != nil { // a directory: not ours
		t.Fatal(err)
	}
	files[".tmp-55"] = false
	if err := os.Chtimes(filepath.Join(s.Dir(), ".tmp-55"), old, old); err != nil {
		t.Fatal(err)
	}

	s = mustOpen(t, optsFor(base, keyMode))
	for name, removed := range files {
		_, err := os.Lstat(filepath.Join(s.Dir(), name))
		if gone := os.IsNotExist(err); gone != removed {
			t.Errorf("%s: removed = %v, want %v", name, gone, removed)
		}
	}
	sameValue(t, s, "cred", str(t, "v"))
}
