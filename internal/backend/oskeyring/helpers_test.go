package oskeyring_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mcp-secrets/mcp-secrets/internal/backend"
	"github.com/mcp-secrets/mcp-secrets/internal/backend/backendtest"
	"github.com/mcp-secrets/mcp-secrets/internal/backend/oskeyring"
)

// requireVar lists the keyrings that must be tested: a test of a keyring
// listed there fails instead of skipping when the keyring is unavailable,
// so CI (.ci/services.sh sets it) cannot pass by skipping.
const requireVar = "MCP_SECRETS_REQUIRE_KEYRINGS"

// unavailable skips the test, or fails it when requireVar lists name.
func unavailable(t *testing.T, name, reason string) {
	t.Helper()
	if slices.Contains(strings.Split(os.Getenv(requireVar), ","), name) {
		t.Fatalf("%s is unavailable, but %s requires it: %s", name, requireVar, reason)
	}
	t.Skipf("%s is unavailable (%s lists the keyrings that must be tested): %s", name, requireVar, reason)
}

// token returns n random bytes in hex.
func token(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// namespace returns a namespace that no other test uses.
func namespace() string { return "com.mcp.test-" + token(6) }

func ctxTimeout(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

func mustOpen(t *testing.T, opts oskeyring.Options) *oskeyring.Store {
	t.Helper()
	s, err := oskeyring.Open(ctxTimeout(t), opts)
	if err != nil {
		t.Fatalf("Open(%s): %v", opts.Backend, err)
	}
	if got := s.Backend(); got != opts.Backend {
		t.Fatalf("Backend() = %q, want %q", got, opts.Backend)
	}
	return s
}

// wipe deletes every item of opts' namespace, for keyrings that outlive
// the test.
func wipe(t *testing.T, opts oskeyring.Options) {
	t.Helper()
	ctx := context.Background()
	s, err := oskeyring.Open(ctx, opts)
	if err != nil {
		t.Logf("cleanup: open: %v", err)
		return
	}
	defer s.Close()
	names, err := s.List(ctx)
	if err != nil {
		t.Logf("cleanup: list: %v", err)
		return
	}
	for _, n := range names {
		if err := s.Delete(ctx, n); err != nil {
			t.Logf("cleanup: delete %q: %v", n, err)
		}
	}
}

// conformance runs the suite with a fresh namespace for every store that
// the suite asks for. cleanup (may be nil) removes what a namespace left.
func conformance(t *testing.T, base oskeyring.Options, plant func(t *testing.T) string, cleanup func(t *testing.T, opts oskeyring.Options), maxValue int) {
	t.Helper()
	backendtest.Run(t, func(t *testing.T) backend.Store {
		opts := base
		opts.Namespace = namespace()
		if cleanup != nil {
			t.Cleanup(func() { cleanup(t, opts) })
		}
		return mustOpen(t, opts)
	}, backendtest.Options{
		MaxValueSize: maxValue,
		PlantForeign: plant,
		Reopen:       reopen(base),
	})
}

// reopen returns a backendtest Reopen that opens a second Store on the
// same namespace.
func reopen(base oskeyring.Options) func(t *testing.T, s backend.Store) backend.Store {
	return func(t *testing.T, s backend.Store) backend.Store {
		opts := base
		opts.Namespace = oskeyring.NamespaceOf(s.(*oskeyring.Store))
		return mustOpen(t, opts)
	}
}

// maxValueFor is the longest string value (no description, the suite's
// timestamps) whose record still encodes within limit bytes.
func maxValueFor(t *testing.T, limit int) int {
	t.Helper()
	v, err := backend.NewString("x")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC().Truncate(time.Second)
	data, err := backend.Marshal(backend.Record{Value: v, Created: now, Updated: now})
	if err != nil {
		t.Fatal(err)
	}
	return limit - (len(data) - 1)
}
