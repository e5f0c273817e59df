package oskeyring_test

import (
	"context"
	"errors"
	"os"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/mcp-secrets/mcp-secrets/internal/backend"
	"github.com/mcp-secrets/mcp-secrets/internal/backend/oskeyring"
)

// keyctlOptions probes keyctl in a fresh namespace (a named keyring in the
// user keyring), skipping or failing when the kernel refuses it.
func keyctlOptions(t *testing.T) oskeyring.Options {
	t.Helper()
	opts := oskeyring.Options{Backend: "keyctl", Namespace: namespace()}
	t.Cleanup(func() { unlinkKeyring(t, opts) })
	if _, err := oskeyring.Probe(ctxTimeout(t), opts); err != nil {
		unavailable(t, "keyctl", err.Error())
	}
	return opts
}

// unlinkKeyring removes the named keyring of opts' namespace from the
// user keyring; the kernel then frees it and its keys.
func unlinkKeyring(t *testing.T, opts oskeyring.Options) {
	id, err := unix.KeyctlSearch(unix.KEY_SPEC_USER_KEYRING, "keyring", opts.Namespace, 0)
	if err != nil {
		return
	}
	if _, err := unix.KeyctlInt(unix.KEYCTL_UNLINK, id, unix.KEY_SPEC_USER_KEYRING, 0, 0); err != nil {
		t.Logf("cleanup: unlink keyring %s: %v", opts.Namespace, err)
	}
}

// TestKeyctlConformance runs the suite on keyctl. Each namespace is its own
// keyring inside the user keyring; the foreign key sits in the user
// keyring itself, one level up. The size check needs the root quota (a
// user's default quota, 20000 bytes, is smaller than one item may be).
func TestKeyctlConformance(t *testing.T) {
	base := keyctlOptions(t)
	plant := func(t *testing.T) string {
		name := "foreign-" + token(4)
		id, err := unix.AddKey("user", name, []byte("someone else's"), unix.KEY_SPEC_USER_KEYRING)
		if err != nil {
			t.Fatalf("add a foreign key: %v", err)
		}
		t.Cleanup(func() { _, _ = unix.KeyctlInt(unix.KEYCTL_UNLINK, id, unix.KEY_SPEC_USER_KEYRING, 0, 0) })
		return name
	}
	maxValue := 0
	if os.Getuid() == 0 {
		maxValue = maxValueFor(t, oskeyring.KeyctlMaxPayload)
	}
	conformance(t, base, plant, unlinkKeyring, maxValue)
}

// TestKeyctlNotFound: a key that was revoked behind our back is missing
// for Get, Delete and List.
func TestKeyctlNotFound(t *testing.T) {
	opts := keyctlOptions(t)
	ctx := context.Background()
	s := mustOpen(t, opts)
	if err := s.Set(ctx, "cred", record(t, "v")); err != nil {
		t.Fatal(err)
	}
	ring, err := unix.KeyctlSearch(unix.KEY_SPEC_USER_KEYRING, "keyring", opts.Namespace, 0)
	if err != nil {
		t.Fatal(err)
	}
	key, err := unix.KeyctlSearch(ring, "user", "cred", 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := unix.KeyctlInt(unix.KEYCTL_REVOKE, key, 0, 0, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(ctx, "cred"); !errors.Is(err, backend.ErrNotFound) {
		t.Errorf("Get of a revoked key: %v, want ErrNotFound", err)
	}
	// The revoked key stays linked until the kernel collects it; List
	// must neither fail on it nor show it.
	if names, err := s.List(ctx); err != nil || len(names) != 0 {
		t.Errorf("List after a revoke = %q, %v; want nothing", names, err)
	}
	if err := s.Delete(ctx, "cred"); !errors.Is(err, backend.ErrNotFound) {
		t.Errorf("Delete of a revoked key: %v, want ErrNotFound", err)
	}
}
