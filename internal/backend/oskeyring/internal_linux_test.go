package oskeyring

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/mcp-secrets/mcp-secrets/internal/backend"
)

func TestDecodeObjectPath(t *testing.T) {
	cases := map[string]string{
		"/org/freedesktop/secrets/collection/login":            "/org/freedesktop/secrets/collection/login",
		"/org/freedesktop/secrets/collection/my_2dkeys":        "/org/freedesktop/secrets/collection/my-keys",
		"/org/freedesktop/secrets/collection/com_2emcp_2ex_5f": "/org/freedesktop/secrets/collection/com.mcp.x_",
		"/org/freedesktop/secrets/collection/odd_zz":           "/org/freedesktop/secrets/collection/odd_zz",
		"/org/freedesktop/secrets/collection/end_2":            "/org/freedesktop/secrets/collection/end_2",
	}
	for in, want := range cases {
		if got := decodeObjectPath(in); got != want {
			t.Errorf("decodeObjectPath(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestMapErrKeyctl: keyctl's errnos. ENOKEY, and a revoked or expired key,
// are missing items; a full quota is ErrTooLarge; text built by the keyctl
// backend (fixed words and an errno) is passed on.
func TestMapErrKeyctl(t *testing.T) {
	s := &Store{kind: kindOf("keyctl")}
	for _, errno := range []syscall.Errno{syscall.ENOKEY, syscall.EKEYREVOKED, syscall.EKEYEXPIRED} {
		if err := s.mapErr("get", "x", errno); !errors.Is(err, backend.ErrNotFound) {
			t.Errorf("%v: %v; want ErrNotFound", errno, err)
		}
	}
	cases := []struct {
		err  error
		text string
	}{
		{fmt.Errorf("reading keyring failed: %v", syscall.EACCES), "reading keyring failed: permission denied"},
		{syscall.ENOSYS, "containers"},
		{syscall.EPERM, "containers"},
	}
	for _, c := range cases {
		err := s.mapErr("list", "", c.err)
		if !errors.Is(err, backend.ErrUnavailable) || !strings.Contains(err.Error(), c.text) {
			t.Errorf("%v: %v; want ErrUnavailable mentioning %q", c.err, err, c.text)
		}
	}
	if err := s.mapSetErr("x", syscall.EDQUOT); !errors.Is(err, backend.ErrTooLarge) || !strings.Contains(err.Error(), "quota") {
		t.Errorf("EDQUOT: %v; want ErrTooLarge about the quota", err)
	}
}

// TestPassExitStatus: pass failing because the item vanished is
// ErrNotFound; failing on an item that is there is ErrUnavailable.
func TestPassExitStatus(t *testing.T) {
	exit := exec.Command("sh", "-c", "exit 1").Run()
	var exitErr *exec.ExitError
	if !errors.As(exit, &exitErr) {
		t.Fatalf("want an exit error, got %v", exit)
	}
	dir := t.TempDir()
	s := &Store{kind: kindOf("pass"), namespace: "com.mcp.t", passDir: dir}
	if err := s.mapErr("get", "gone", exit); !errors.Is(err, backend.ErrNotFound) {
		t.Errorf("exit status with no item file: %v; want ErrNotFound", err)
	}
	writeFile(t, dir+"/com.mcp.t/there.gpg")
	if err := s.mapErr("get", "there", exit); !errors.Is(err, backend.ErrUnavailable) || !strings.Contains(err.Error(), "status 1") {
		t.Errorf("exit status with the item file present: %v; want ErrUnavailable naming the status", err)
	}
}

func writeFile(t *testing.T, path string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
}
