package file_test

import (
	"context"
	"errors"
	"os"
	"strings"
	"syscall"
	"testing"

	"github.com/mcp-secrets/mcp-secrets/internal/backend"
	"github.com/mcp-secrets/mcp-secrets/internal/backend/backendtest"
)

// TestFailedWriteFileSizeLimit makes a real write fail (EFBIG, as a full
// disk gives ENOSPC) by lowering RLIMIT_FSIZE, which binds root too, unlike
// a read-only directory. The old record survives and no temporary file is
// left. The Go runtime ignores the SIGXFSZ that comes with it.
func TestFailedWriteFileSizeLimit(t *testing.T) {
	ctx := context.Background()
	s := mustOpen(t, optsFor(t.TempDir(), keyMode))
	old := str(t, "old value")
	mustSet(t, s, "cred", old)

	var saved syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_FSIZE, &saved); err != nil {
		t.Fatalf("getrlimit: %v", err)
	}
	limited := saved
	limited.Cur = 512
	if err := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &limited); err != nil {
		t.Fatalf("setrlimit: %v", err)
	}
	big := str(t, backendtest.Canary+strings.Repeat("x", 4096))
	errOverwrite := s.Set(ctx, "cred", big)
	errFresh := s.Set(ctx, "fresh", big)
	if err := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &saved); err != nil {
		t.Fatalf("restore rlimit: %v", err)
	}

	wantErr(t, "Set over the file size limit", errOverwrite, syscall.EFBIG, `"cred"`)
	wantErr(t, "Set of a new name over the file size limit", errFresh, syscall.EFBIG)
	sameValue(t, s, "cred", old)
	if _, err := s.Get(ctx, "fresh"); !errors.Is(err, backend.ErrNotFound) {
		t.Errorf("Get(fresh) after a failed Set: %v, want ErrNotFound", err)
	}
	noTemp(t, s.Dir())
	if _, err := os.Stat(s.Dir()); err != nil {
		t.Fatal(err)
	}
	mustSet(t, s, "cred", big)
	sameValue(t, s, "cred", big)
}
