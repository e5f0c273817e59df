package oskeyring

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/99designs/keyring"

	"github.com/mcp-secrets/mcp-secrets/internal/backend"
	"github.com/mcp-secrets/mcp-secrets/internal/backend/backendtest"
)

// TestCall covers the timeout wrapper: a hung call, a busy keyring, a
// cancelled context and a panicking library all end in time with
// ErrUnavailable once mapped, and a normal call passes its result through.
func TestCall(t *testing.T) {
	sem := make(chan struct{}, 1)
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })

	v, err := call(context.Background(), time.Second, sem, func() (int, error) { return 7, nil })
	if v != 7 || err != nil {
		t.Fatalf("call = %d, %v; want 7, nil", v, err)
	}

	start := time.Now()
	_, err = call(context.Background(), 50*time.Millisecond, sem, func() (int, error) { <-release; return 0, nil })
	var st *stallError
	if !errors.As(err, &st) || st.busy || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("hung call: %v; want a stall with DeadlineExceeded", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("hung call returned after %s", d)
	}

	// The hung call still holds the keyring.
	_, err = call(context.Background(), 50*time.Millisecond, sem, func() (int, error) { return 0, nil })
	if !errors.As(err, &st) || !st.busy {
		t.Fatalf("call while another hangs: %v; want busy", err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = call(ctx, time.Minute, nil, func() (int, error) { <-release; return 0, nil })
	if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "cancelled") {
		t.Fatalf("cancelled call: %v", err)
	}

	_, err = call(context.Background(), time.Second, nil, func() (int, error) { panic(backendtest.Canary) })
	if !errors.Is(err, errLibraryPanic) {
		t.Fatalf("panicking call: %v; want errLibraryPanic", err)
	}
	if strings.Contains(err.Error(), backendtest.Canary) {
		t.Errorf("the panic value leaked into the error")
	}

	s := &Store{kind: kindOf("secret-service")}
	mapped := s.mapErr("get", "x", &stallError{after: time.Second, cause: context.DeadlineExceeded})
	if !errors.Is(mapped, backend.ErrUnavailable) || !errors.Is(mapped, context.DeadlineExceeded) || !strings.Contains(mapped.Error(), "locked") {
		t.Errorf("mapped stall = %v; want ErrUnavailable, DeadlineExceeded and a hint about locking", mapped)
	}
}

// TestMapErr checks the classification of every kind of library error,
// and that none passes on text that could hold a value.
func TestMapErr(t *testing.T) {
	canary := backendtest.Canary
	var syntaxErr *json.SyntaxError
	if err := json.Unmarshal([]byte(canary), new(any)); !errors.As(err, &syntaxErr) {
		t.Fatalf("want a JSON syntax error, got %v", err)
	}
	jsonErr := fmt.Errorf("decode: %w", syntaxErr)
	cases := []struct {
		backend string
		op      string
		err     error
		want    error
		text    string
	}{
		{"secret-service", "get", keyring.ErrKeyNotFound, backend.ErrNotFound, ""},
		{"file", "delete", &fs.PathError{Op: "remove", Path: "/d/ns%2Fx", Err: syscall.ENOENT}, backend.ErrNotFound, ""},
		{"file", "get", errors.New("aes.KeyUnwrap(): integrity check failed " + canary), backend.ErrUnavailable, "passphrase"},
		{"file", "set", &fs.PathError{Op: "open", Path: "/d/ns%2Fx", Err: syscall.EACCES}, backend.ErrUnavailable, "permission denied"},
		{"pass", "get", jsonErr, backend.ErrUnavailable, "not in the format"},
		{"pass", "set", &exec.Error{Name: "pass", Err: exec.ErrNotFound}, backend.ErrUnavailable, "not found on PATH"},
		{"secret-service", "get", errors.New(canary), backend.ErrUnavailable, "withheld"},
		{"kwallet", "get", errLibraryPanic, backend.ErrUnavailable, "unexpectedly"},
		// A missing file is not "not found" for the other backends: an
		// absolute PassCmd that does not exist must not look like a
		// missing item.
		{"secret-service", "get", fs.ErrNotExist, backend.ErrUnavailable, ""},
	}
	for _, c := range cases {
		s := &Store{kind: kindOf(c.backend), namespace: "com.mcp.t", passDir: t.TempDir()}
		got := s.mapErr(c.op, "x", c.err)
		if !errors.Is(got, c.want) {
			t.Errorf("%s %s %T: %v; want %v", c.backend, c.op, c.err, got, c.want)
		}
		if !strings.Contains(got.Error(), c.text) {
			t.Errorf("%s %s %T: %q; want it to mention %q", c.backend, c.op, c.err, got, c.text)
		}
		if strings.Contains(got.Error(), canary) {
			t.Errorf("%s %s %T: the error passes on the canary (error withheld)", c.backend, c.op, c.err)
		}
		if !strings.HasPrefix(got.Error(), c.backend+": ") {
			t.Errorf("%s: %q does not name the backend", c.backend, got)
		}
	}
}

// TestKinds: the default order leaves out keyctl (forgotten at reboot) and
// file (by request only), and every backend has a title for messages.
func TestKinds(t *testing.T) {
	if got := defaultOrder(); strings.Contains(strings.Join(got, ","), "keyctl") || strings.Contains(strings.Join(got, ","), "file") {
		t.Errorf("default order %q includes a non-persistent or by-request-only keyring", got)
	}
	for _, name := range Names() {
		k := kindOf(name)
		if k.title == name && name != "pass" {
			t.Errorf("%s has no title", name)
		}
	}
}
