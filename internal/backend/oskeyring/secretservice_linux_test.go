package oskeyring_test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/godbus/dbus"
	libsecret "github.com/gsterjov/go-libsecret"

	"github.com/mcp-secrets/mcp-secrets/internal/backend"
	"github.com/mcp-secrets/mcp-secrets/internal/backend/oskeyring"
)

// secretService returns options for a fresh namespace in the login
// collection, after a real Probe; it skips (or fails, when required) if
// the Secret Service is not usable.
func secretService(t *testing.T) oskeyring.Options {
	t.Helper()
	opts := oskeyring.Options{Backend: "secret-service", Namespace: namespace(), Timeout: 10 * time.Second}
	if _, err := oskeyring.Probe(ctxTimeout(t), opts); err != nil {
		unavailable(t, "secret-service", err.Error())
	}
	return opts
}

// secretTool runs secret-tool with stdin, failing the test on error.
func secretTool(t *testing.T, stdin string, args ...string) {
	t.Helper()
	if _, err := exec.LookPath("secret-tool"); err != nil {
		unavailable(t, "secret-service", "secret-tool (libsecret-tools) is not installed")
	}
	cmd := exec.Command("secret-tool", args...)
	cmd.Stdin = strings.NewReader(stdin)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("secret-tool %s: %v: %s", args[0], err, out)
	}
}

// TestSecretServiceConformance runs the suite in the login collection,
// which every application shares. The foreign item is stored by
// secret-tool the way other programs store theirs.
func TestSecretServiceConformance(t *testing.T) {
	base := secretService(t)
	plant := func(t *testing.T) string {
		name := "foreign-" + token(4)
		secretTool(t, "someone else's", "store", "--label="+name, "profile", name, "mcp-secrets-test", "foreign")
		t.Cleanup(func() { secretTool(t, "", "clear", "profile", name) })
		return name
	}
	conformance(t, base, plant, wipe, 0)
}

// TestSecretServiceNamespaces: items of a namespace that merely starts like
// ours, and items whose label (but not attribute) claims our namespace,
// stay out of List, Get and Delete.
func TestSecretServiceNamespaces(t *testing.T) {
	opts := secretService(t)
	other := opts
	other.Namespace = opts.Namespace + ".other"
	t.Cleanup(func() { wipe(t, opts); wipe(t, other) })
	ctx := context.Background()
	ours, theirs := mustOpen(t, opts), mustOpen(t, other)
	if err := ours.Set(ctx, "a", record(t, "ours")); err != nil {
		t.Fatal(err)
	}
	if err := theirs.Set(ctx, "b", record(t, "theirs")); err != nil {
		t.Fatal(err)
	}
	impostor := "impostor-" + token(4)
	secretTool(t, "impostor", "store", "--label="+opts.Namespace+"/by-label", "profile", impostor)
	t.Cleanup(func() { secretTool(t, "", "clear", "profile", impostor) })

	names, err := ours.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(names, []string{"a"}) {
		t.Errorf("List = %q, want [a]", names)
	}
	if _, err := ours.Get(ctx, "b"); !errors.Is(err, backend.ErrNotFound) {
		t.Errorf("Get of another namespace's item: %v, want ErrNotFound", err)
	}
	if _, err := ours.Get(ctx, "by-label"); !errors.Is(err, backend.ErrNotFound) {
		t.Errorf("Get of an item labelled into our namespace: %v, want ErrNotFound", err)
	}
	if err := ours.Delete(ctx, "b"); !errors.Is(err, backend.ErrNotFound) {
		t.Errorf("Delete of another namespace's item: %v, want ErrNotFound", err)
	}
	if _, err := theirs.Get(ctx, "b"); err != nil {
		t.Errorf("the other namespace lost its item: %v", err)
	}
}

// TestSecretServiceProbe: Probe succeeds, names the backend, leaves no item.
func TestSecretServiceProbe(t *testing.T) {
	opts := secretService(t)
	ctx := ctxTimeout(t)
	got, err := oskeyring.Probe(ctx, opts)
	if err != nil || got != "secret-service" {
		t.Fatalf("Probe = %q, %v; want secret-service", got, err)
	}
	names, err := mustOpen(t, opts).List(ctx)
	if err != nil || len(names) != 0 {
		t.Errorf("after Probe, List = %q, %v; want nothing", names, err)
	}
	// With no Backend, the first usable keyring on Linux is this one.
	auto := opts
	auto.Backend = ""
	if got, err := oskeyring.Probe(ctx, auto); err != nil || got != "secret-service" {
		t.Errorf("Probe with no backend = %q, %v; want secret-service", got, err)
	}
	s, err := oskeyring.Open(ctx, auto)
	if err != nil || s.Backend() != "secret-service" {
		t.Errorf("Open with no backend: %v", err)
	}
}

// TestSecretServiceMissingCollection: a collection that does not exist is
// refused with a clear error, and not created (that needs a GUI prompt).
func TestSecretServiceMissingCollection(t *testing.T) {
	opts := secretService(t)
	opts.Collection = "mcptestmissing" + token(4)
	_, err := oskeyring.Open(ctxTimeout(t), opts)
	if !errors.Is(err, backend.ErrUnavailable) || !strings.Contains(err.Error(), "does not exist") {
		t.Fatalf("Open with a missing collection: %v; want ErrUnavailable saying it does not exist", err)
	}
	if _, err := oskeyring.Probe(ctxTimeout(t), opts); !errors.Is(err, backend.ErrUnavailable) {
		t.Errorf("Probe with a missing collection: %v; want ErrUnavailable", err)
	}
	if collectionExists(t, opts.Collection) {
		t.Errorf("collection %q was created", opts.Collection)
	}
}

// TestSecretServiceLocked locks a collection of its own and checks that
// Probe says so at once and Get fails in time with ErrUnavailable. It uses
// gnome-keyring's private interface to make a collection without a prompt,
// and runs only in the throwaway session of .ci/services.sh: on a desktop,
// Get would pop up an unlock dialog.
func TestSecretServiceLocked(t *testing.T) {
	if os.Getenv("MCP_SECRETS_SERVICES_DIR") == "" {
		t.Skip("runs only inside .ci/services.sh; on a desktop it would pop up an unlock prompt")
	}
	opts := secretService(t)
	opts.Collection = "mcptestlocked" + token(4)
	opts.Timeout = 5 * time.Second
	col := createCollection(t, opts.Collection, "pw-"+token(4))

	ctx := ctxTimeout(t)
	s := mustOpen(t, opts)
	if err := s.Set(ctx, "cred", record(t, "v")); err != nil {
		t.Fatalf("Set in the new collection: %v", err)
	}
	svc, err := libsecret.NewService()
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.Lock(col); err != nil {
		t.Fatalf("lock: %v", err)
	}
	if locked, err := col.Locked(); err != nil || !locked {
		t.Fatalf("collection not locked: %v", err)
	}

	start := time.Now()
	_, err = oskeyring.Probe(ctx, opts)
	if !errors.Is(err, backend.ErrUnavailable) || !strings.Contains(err.Error(), "locked") {
		t.Errorf("Probe of a locked collection: %v; want ErrUnavailable saying it is locked", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("Probe of a locked collection took %s; it should not wait for a prompt", d)
	}
	_, err = s.Get(ctx, "cred")
	if !errors.Is(err, backend.ErrUnavailable) || errors.Is(err, backend.ErrNotFound) {
		t.Errorf("Get from a locked collection: %v; want ErrUnavailable", err)
	}
	t.Logf("Get from a locked collection: %v", err)
	if _, err := s.List(ctx); !errors.Is(err, backend.ErrUnavailable) {
		t.Errorf("List of a locked collection: %v; want ErrUnavailable", err)
	}
}

func collectionExists(t *testing.T, name string) bool {
	t.Helper()
	svc, err := libsecret.NewService()
	if err != nil {
		t.Fatal(err)
	}
	cols, err := svc.Collections()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cols {
		if strings.HasSuffix(string(c.Path()), "/"+name) {
			return true
		}
	}
	return false
}

// createCollection makes a collection without a prompt through
// gnome-keyring's private CreateWithMasterPassword, and deletes it when the
// test ends.
func createCollection(t *testing.T, label, password string) *libsecret.Collection {
	t.Helper()
	conn, err := dbus.SessionBus()
	if err != nil {
		t.Fatal(err)
	}
	svc, err := libsecret.NewService()
	if err != nil {
		t.Fatal(err)
	}
	session, err := svc.Open()
	if err != nil {
		t.Fatal(err)
	}
	secret := libsecret.NewSecret(session, []byte{}, []byte(password), "text/plain")
	props := map[string]dbus.Variant{"org.freedesktop.Secret.Collection.Label": dbus.MakeVariant(label)}
	var path dbus.ObjectPath
	err = conn.Object(libsecret.DBusServiceName, libsecret.DBusPath).
		Call("org.gnome.keyring.InternalUnsupportedGuiltRiddenInterface.CreateWithMasterPassword", 0, props, *secret).
		Store(&path)
	if err != nil {
		t.Fatalf("create a collection through gnome-keyring's private interface: %v", err)
	}
	col := libsecret.NewCollection(conn, path)
	t.Cleanup(func() {
		// Unlock first, so that deleting needs no prompt.
		_ = conn.Object(libsecret.DBusServiceName, libsecret.DBusPath).
			Call("org.gnome.keyring.InternalUnsupportedGuiltRiddenInterface.UnlockWithMasterPassword", 0, path, *secret).Err
		if err := col.Delete(); err != nil {
			t.Logf("delete collection %s: %v", path, err)
		}
	})
	if !strings.HasSuffix(string(path), "/"+label) {
		t.Fatalf("collection path %s does not end in its label %q", path, label)
	}
	return col
}
