//go:build !windows

package oskeyring_test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mcp-secrets/mcp-secrets/internal/backend"
	"github.com/mcp-secrets/mcp-secrets/internal/backend/oskeyring"
)

// passStore makes a password store of its own, with a throwaway GPG key
// without a passphrase in a GNUPGHOME of its own, so the test never touches
// a real store; it stops the gpg-agent it started when the test ends.
func passStore(t *testing.T) oskeyring.Options {
	t.Helper()
	for _, cmd := range []string{"pass", "gpg", "gpgconf"} {
		if _, err := exec.LookPath(cmd); err != nil {
			unavailable(t, "pass", cmd+" is not installed")
		}
	}
	dir := t.TempDir()
	gnupg, store := filepath.Join(dir, "gnupg"), filepath.Join(dir, "store")
	if err := os.Mkdir(gnupg, 0o700); err != nil {
		t.Fatal(err)
	}
	t.Setenv("GNUPGHOME", gnupg)
	t.Setenv("PASSWORD_STORE_DIR", store)
	t.Setenv("PASSWORD_STORE_KEY", "")
	t.Cleanup(func() {
		_ = exec.Command("gpgconf", "--kill", "all").Run()
		_ = exec.Command("gpgconf", "--remove-socketdir").Run()
	})
	run(t, "", "gpg", "--batch", "--quiet", "--passphrase", "", "--quick-gen-key",
		"mcp-secrets test <test@mcp-secrets.invalid>", "future-default", "default", "never")
	var fpr string
	for _, line := range strings.Split(run(t, "", "gpg", "--batch", "--with-colons", "--list-secret-keys"), "\n") {
		if f := strings.Split(line, ":"); f[0] == "fpr" && len(f) > 9 {
			fpr = f[9]
			break
		}
	}
	if fpr == "" {
		t.Fatal("gpg made no key")
	}
	run(t, "", "pass", "init", fpr)
	opts := oskeyring.Options{Backend: "pass", PassDir: store, Namespace: namespace()}
	if _, err := oskeyring.Probe(ctxTimeout(t), opts); err != nil {
		unavailable(t, "pass", err.Error())
	}
	return opts
}

// run runs a command with stdin and returns its output, failing the test
// on error.
func run(t *testing.T, stdin, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Stdin = strings.NewReader(stdin)
	out, err := cmd.Output()
	if err != nil {
		var stderr []byte
		if exit := (*exec.ExitError)(nil); errors.As(err, &exit) {
			stderr = exit.Stderr
		}
		t.Fatalf("%s %s: %v: %s", name, args[0], err, stderr)
	}
	return string(out)
}

// TestPassConformance runs the suite on pass, where each namespace is a
// subdirectory of the store; the foreign item is a pass entry at the top.
func TestPassConformance(t *testing.T) {
	base := passStore(t)
	plant := func(t *testing.T) string {
		name := "foreign-" + token(4)
		run(t, "someone else's", "pass", "insert", "-m", name)
		return name
	}
	conformance(t, base, plant, nil, 0)

	// Items are pass entries NAMESPACE/NAME, so `pass` shows them as such.
	opts := base
	opts.Namespace = namespace()
	if err := mustOpen(t, opts).Set(context.Background(), "cred", record(t, "v")); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(base.PassDir, opts.Namespace, "cred.gpg")); err != nil {
		t.Errorf("item file: %v", err)
	}
}

// fakePass writes a script to stand in for pass and a store that looks
// initialised, with one item "cred" in namespace com.mcp.fake.
func fakePass(t *testing.T, script string) (oskeyring.Options, string) {
	t.Helper()
	dir := t.TempDir()
	store := filepath.Join(dir, "store")
	writeFile(t, filepath.Join(store, ".gpg-id"), "0000")
	writeFile(t, filepath.Join(store, "com.mcp.fake", "cred.gpg"), "not really encrypted")
	cmd := filepath.Join(dir, "fake-pass")
	script = strings.ReplaceAll(script, "$DIR", dir)
	if err := os.WriteFile(cmd, []byte("#!/bin/sh\n"+script), 0o700); err != nil {
		t.Fatal(err)
	}
	return oskeyring.Options{Backend: "pass", Namespace: "com.mcp.fake", PassDir: store, PassCmd: cmd}, dir
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestPassFakeVanished: pass fails with "not in the password store" when
// the item went away after the library checked for its file; that is
// ErrNotFound, for Get and Delete.
func TestPassFakeVanished(t *testing.T) {
	opts, _ := fakePass(t, `rm -f "$PASSWORD_STORE_DIR/com.mcp.fake/cred.gpg"
echo "Error: com.mcp.fake/cred is not in the password store." >&2
exit 1
`)
	ctx := context.Background()
	s := mustOpen(t, opts)
	if _, err := s.Get(ctx, "cred"); !errors.Is(err, backend.ErrNotFound) {
		t.Errorf("Get of an item that vanished: %v, want ErrNotFound", err)
	}
	writeFile(t, filepath.Join(opts.PassDir, "com.mcp.fake", "cred.gpg"), "again")
	if err := s.Delete(ctx, "cred"); !errors.Is(err, backend.ErrNotFound) {
		t.Errorf("Delete of an item that vanished: %v, want ErrNotFound", err)
	}
}

// TestPassFakeHang: a pass that never answers (gpg waiting for a
// passphrase nobody types) gives ErrUnavailable after the Timeout, not a
// hang, and a call behind it does not wait longer than its own Timeout.
func TestPassFakeHang(t *testing.T) {
	opts, dir := fakePass(t, `touch "$DIR/started"
while [ ! -e "$DIR/release" ]; do sleep 0.05; done
touch "$DIR/finished"
exit 1
`)
	t.Cleanup(func() {
		// Let the script end, so that no process outlives the test.
		writeFile(t, filepath.Join(dir, "release"), "")
		for i := 0; i < 200; i++ {
			if _, err := os.Stat(filepath.Join(dir, "finished")); err == nil {
				return
			}
			time.Sleep(25 * time.Millisecond)
		}
		t.Errorf("the fake pass did not finish")
	})
	opts.Timeout = 300 * time.Millisecond
	ctx := context.Background()
	s := mustOpen(t, opts)

	start := time.Now()
	err := s.Set(ctx, "cred", record(t, "v"))
	if !errors.Is(err, backend.ErrUnavailable) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Set with a hung pass: %v, want ErrUnavailable after the timeout", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("Set returned after %s with a 300ms timeout", d)
	}
	if !strings.Contains(err.Error(), "passphrase") {
		t.Errorf("error %q does not hint at a passphrase prompt", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "started")); err != nil {
		t.Errorf("the fake pass never ran: %v", err)
	}

	start = time.Now()
	if _, err := s.Get(ctx, "cred"); !errors.Is(err, backend.ErrUnavailable) || !strings.Contains(err.Error(), "earlier call") {
		t.Errorf("Get behind a hung call: %v, want ErrUnavailable about the earlier call", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("Get behind a hung call returned after %s", d)
	}

	ctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := s.List(ctx); !errors.Is(err, backend.ErrUnavailable) || !errors.Is(err, context.Canceled) {
		t.Errorf("List with a cancelled context: %v, want ErrUnavailable and Canceled", err)
	}
}
