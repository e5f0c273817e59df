package oskeyring_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mcp-secrets/mcp-secrets/internal/backend"
	"github.com/mcp-secrets/mcp-secrets/internal/backend/backendtest"
	"github.com/mcp-secrets/mcp-secrets/internal/backend/oskeyring"
)

const testPassphrase = "correct horse battery staple"

func fileOptions(t *testing.T) oskeyring.Options {
	return oskeyring.Options{Backend: "file", FileDir: t.TempDir(), FilePassphrase: testPassphrase}
}

// TestFileConformance runs the suite on the library's file backend, whose
// directory may be shared: a file planted in it must stay invisible.
func TestFileConformance(t *testing.T) {
	base := fileOptions(t)
	plant := func(t *testing.T) string {
		name := "foreign-" + token(4)
		if err := os.WriteFile(filepath.Join(base.FileDir, name), []byte("someone else's"), 0o600); err != nil {
			t.Fatal(err)
		}
		return name
	}
	conformance(t, base, plant, nil, 0)
}

// TestFileLayout checks that items are files named NAMESPACE%2FNAME, so
// that other users of the directory and we cannot collide.
func TestFileLayout(t *testing.T) {
	opts := fileOptions(t)
	opts.Namespace = "com.mcp.layout"
	s := mustOpen(t, opts)
	ctx := context.Background()
	if err := s.Set(ctx, "cred", record(t, "v")); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(opts.FileDir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if want := []string{"com.mcp.layout%2Fcred"}; !slices.Equal(names, want) {
		t.Errorf("files = %q, want %q", names, want)
	}
	// Another namespace in the same directory sees nothing of ours.
	other := opts
	other.Namespace = "com.mcp.layout2"
	if got, err := mustOpen(t, other).List(ctx); err != nil || len(got) != 0 {
		t.Errorf("List in another namespace = %q, %v; want nothing", got, err)
	}
}

// TestFileWrongPassphrase: a wrong passphrase is ErrUnavailable, says so,
// and does not look like a missing item.
func TestFileWrongPassphrase(t *testing.T) {
	opts := fileOptions(t)
	opts.Namespace = namespace()
	ctx := context.Background()
	if err := mustOpen(t, opts).Set(ctx, "cred", record(t, backendtest.Canary)); err != nil {
		t.Fatal(err)
	}
	opts.FilePassphrase = "wrong"
	_, err := mustOpen(t, opts).Get(ctx, "cred")
	if !errors.Is(err, backend.ErrUnavailable) || errors.Is(err, backend.ErrNotFound) {
		t.Fatalf("Get with a wrong passphrase: error = %v, want ErrUnavailable only", err)
	}
	if !strings.Contains(err.Error(), "passphrase") {
		t.Errorf("error %q does not mention the passphrase", err)
	}
	noCanary(t, err)
}

// TestFileRemoveMissing: the library's Remove returns a raw os error for a
// missing file; it must come out as ErrNotFound.
func TestFileRemoveMissing(t *testing.T) {
	opts := fileOptions(t)
	opts.Namespace = namespace()
	err := mustOpen(t, opts).Delete(context.Background(), "never-stored")
	if !errors.Is(err, backend.ErrNotFound) {
		t.Fatalf("Delete(missing) = %v, want ErrNotFound", err)
	}
}

// TestWinCredLimit runs the suite's size checks with the limit this package
// applies to Windows Credential Manager (which cannot run here), on the
// file backend, and checks the message names the limit.
func TestWinCredLimit(t *testing.T) {
	if got := oskeyring.MaxData("wincred"); got != 2560 || oskeyring.WinCredMaxBlob != 2560 {
		t.Fatalf("wincred limit = %d, want 2560", got)
	}
	for _, name := range []string{"secret-service", "pass", "file", "kwallet", "keychain"} {
		if got := oskeyring.MaxData(name); got != 0 {
			t.Errorf("%s limit = %d, want none", name, got)
		}
	}
	base := fileOptions(t)
	limit := oskeyring.WinCredMaxBlob
	backendtest.Run(t, func(t *testing.T) backend.Store {
		opts := base
		opts.Namespace = namespace()
		s := mustOpen(t, opts)
		oskeyring.LimitAs(s, "wincred")
		return s
	}, backendtest.Options{MaxValueSize: maxValueFor(t, limit)})

	opts := base
	opts.Namespace = namespace()
	s := mustOpen(t, opts)
	oskeyring.LimitAs(s, "wincred")
	v, err := backend.NewString(strings.Repeat("x", limit))
	if err != nil {
		t.Fatal(err)
	}
	err = s.Set(context.Background(), "big", backend.Record{Value: v})
	if !errors.Is(err, backend.ErrTooLarge) {
		t.Fatalf("Set of %d bytes: %v, want ErrTooLarge", limit, err)
	}
	for _, want := range []string{"Windows Credential Manager", "2560"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}

	// Over such a keyring the Catalog refuses large values early and keeps
	// its index in chunks that fit.
	ctx := context.Background()
	if s.MaxValueSize() <= 0 || s.MaxValueSize() >= limit {
		t.Fatalf("MaxValueSize = %d, want a little under %d", s.MaxValueSize(), limit)
	}
	cat := backend.NewCatalog(s, backend.CatalogOptions{})
	if _, _, err := cat.Put(ctx, "big", v, "", false); !errors.Is(err, backend.ErrTooLarge) {
		t.Errorf("Catalog.Put of %d bytes: %v, want ErrTooLarge", limit, err)
	}
	small, _ := backend.NewString("v")
	for i := range 60 {
		if _, _, err := cat.Put(ctx, fmt.Sprintf("a-rather-long-credential-name-%03d", i), small, "some description", false); err != nil {
			t.Fatalf("Catalog.Put %d over a wincred-sized keyring: %v", i, err)
		}
	}
	if list, err := cat.List(ctx); err != nil || len(list) != 60 {
		t.Errorf("List over a chunked index: %d, %v", len(list), err)
	}
	names, _ := s.List(ctx)
	if !slices.Contains(names, backend.IndexName+".2") {
		t.Errorf("the index was not split into chunks: %q", names)
	}
}

// TestOptions: bad options get clear errors, never a panic (a nil
// FilePasswordFunc would panic inside the library).
func TestOptions(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	cases := []struct {
		name string
		opts oskeyring.Options
		want error
		text string
	}{
		{"unknown backend", oskeyring.Options{Backend: "vault", Namespace: "com.mcp.x"}, backend.ErrUnavailable, "secret-service, keychain"},
		{"no namespace", oskeyring.Options{Backend: "file", FileDir: dir, FilePassphrase: "p"}, backend.ErrInvalidName, "namespace"},
		{"namespace with slash", oskeyring.Options{Backend: "file", Namespace: "a/b", FileDir: dir, FilePassphrase: "p"}, backend.ErrInvalidName, "namespace"},
		{"namespace with dash first", oskeyring.Options{Backend: "pass", Namespace: "-rf", PassDir: dir}, backend.ErrInvalidName, "namespace"},
		{"file without passphrase", oskeyring.Options{Backend: "file", Namespace: "com.mcp.x", FileDir: dir}, backend.ErrUnavailable, "passphrase"},
		{"file without dir", oskeyring.Options{Backend: "file", Namespace: "com.mcp.x", FilePassphrase: "p"}, backend.ErrUnavailable, "directory"},
		{"pass not initialised", oskeyring.Options{Backend: "pass", Namespace: "com.mcp.x", PassDir: dir}, backend.ErrUnavailable, "pass init"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := oskeyring.Open(ctx, c.opts)
			if !errors.Is(err, c.want) || !strings.Contains(err.Error(), c.text) {
				t.Errorf("Open: %v; want %v mentioning %q", err, c.want, c.text)
			}
			_, err = oskeyring.Probe(ctx, c.opts)
			if !errors.Is(err, c.want) {
				t.Errorf("Probe: %v; want %v", err, c.want)
			}
		})
	}
	if got := oskeyring.Names(); !slices.Equal(got, []string{"secret-service", "keychain", "wincred", "kwallet", "pass", "keyctl", "file"}) {
		t.Errorf("Names() = %q", got)
	}
}

// TestFileProbe: Probe writes, reads and deletes an item and leaves
// nothing behind.
func TestFileProbe(t *testing.T) {
	opts := fileOptions(t)
	opts.Namespace = namespace()
	got, err := oskeyring.Probe(context.Background(), opts)
	if err != nil || got != "file" {
		t.Fatalf("Probe = %q, %v; want file", got, err)
	}
	if entries, _ := os.ReadDir(opts.FileDir); len(entries) != 0 {
		t.Errorf("Probe left %d files behind", len(entries))
	}
}

// TestClosed: a closed Store refuses work.
func TestClosed(t *testing.T) {
	opts := fileOptions(t)
	opts.Namespace = namespace()
	s := mustOpen(t, opts)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.List(context.Background()); !errors.Is(err, backend.ErrUnavailable) {
		t.Errorf("List after Close: %v, want ErrUnavailable", err)
	}
	if _, err := s.Get(context.Background(), "x"); !errors.Is(err, backend.ErrUnavailable) {
		t.Errorf("Get after Close: %v, want ErrUnavailable", err)
	}
}

func record(t *testing.T, s string) backend.Record {
	t.Helper()
	v, err := backend.NewString(s)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC().Truncate(time.Second)
	return backend.Record{Value: v, Created: now, Updated: now}
}

// noCanary fails if err's text holds the canary, without printing it.
func noCanary(t *testing.T, err error) {
	t.Helper()
	if err != nil && strings.Contains(err.Error(), backendtest.Canary) {
		t.Errorf("an error's text contains the canary value (error withheld)")
	}
}
