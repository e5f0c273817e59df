package file

import (
	"testing"

	"github.com/mcp-secrets/mcp-secrets/internal/backend"
)

// FuzzFileName checks the mapping between credential names and record
// file names: every valid name has a file that maps back to it, and any
// file the store claims is the one file of the name it stands for, so a
// stray or hand-made file can never shadow or duplicate a credential.
func FuzzFileName(f *testing.F) {
	for _, s := range []string{"a", "__secret_index__", "x.y-z_1", "MFRGG.cred", "mfrgg.cred", "mfrgg===.cred", ".cred", "a/b", "mfrggzdf.cred"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if backend.CheckStoreName(s) == nil {
			if got, ok := credName(fileName(s)); !ok || got != s {
				t.Fatalf("credName(fileName(%q)) = %q, %v", s, got, ok)
			}
		}
		if name, ok := credName(s); ok {
			if backend.CheckStoreName(name) != nil || fileName(name) != s {
				t.Fatalf("credName(%q) = %q, whose file is %q", s, name, fileName(name))
			}
		}
	})
}
