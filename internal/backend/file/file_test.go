package file_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mcp-secrets/mcp-secrets/internal/backend"
	"github.com/mcp-secrets/mcp-secrets/internal/backend/backendtest"
	"github.com/mcp-secrets/mcp-secrets/internal/backend/file"
)

// testPassphrase is a secret too: no error or file may contain it.
const testPassphrase = "correct-horse-battery-staple-PASS"

type mode string

const (
	passMode mode = "passphrase"
	keyMode  mode = "keyfile"
)

var modes = []mode{passMode, keyMode}

// optsFor lays a store out under base as the command would: the data
// directory under base/data, the key file under base/config.
func optsFor(base string, m mode) file.Options {
	o := file.Options{Dir: filepath.Join(base, "data", "com.mcp.test")}
	if m == passMode {
		o.Passphrase = testPassphrase
	} else {
		o.KeyFile = filepath.Join(base, "config", "com.mcp.test.key")
	}
	return o
}

func mustOpen(t testing.TB, opts file.Options) *file.Store {
	t.Helper()
	s, err := file.Open(opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func str(t testing.TB, s string) backend.Record {
	t.Helper()
	v, err := backend.NewString(s)
	if err != nil {
		t.Fatalf("NewString: %v", err)
	}
	now := time.Now().UTC().Truncate(time.Second)
	return backend.Record{Value: v, Created: now, Updated: now}
}

func obj(t testing.TB, s string) backend.Record {
	t.Helper()
	v, err := backend.NewJSON([]byte(s))
	if err != nil {
		t.Fatalf("NewJSON: %v", err)
	}
	now := time.Now().UTC().Truncate(time.Second)
	return backend.Record{Value: v, Created: now, Updated: now}
}

func mustSet(t testing.TB, s backend.Store, name string, rec backend.Record) {
	t.Helper()
	if err := s.Set(context.Background(), name, rec); err != nil {
		t.Fatalf("Set(%q): %v", name, err)
	}
}

// sameValue checks that name holds want, without printing either value.
func sameValue(t *testing.T, s backend.Store, name string, want backend.Record) {
	t.Helper()
	got, err := s.Get(context.Background(), name)
	if err != nil {
		t.Fatalf("Get(%q): %v", name, err)
	}
	if !got.Value.Equal(want.Value) || got.Description != want.Description {
		t.Errorf("Get(%q) returned another value (%d bytes, want %d)", name, got.Value.Len(), want.Value.Len())
	}
}

// noSecret fails if err's text holds the canary or the passphrase, without
// printing it.
func noSecret(t *testing.T, err error) {
	t.Helper()
	if err == nil {
		return
	}
	if strings.Contains(err.Error(), backendtest.Canary) || strings.Contains(err.Error(), testPassphrase) {
		t.Errorf("an error's text contains a secret (error withheld)")
	}
}

// wantErr checks that err wraps target and mentions every hint.
func wantErr(t *testing.T, what string, err, target error, hints ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("%s: no error", what)
	}
	noSecret(t, err)
	if !errors.Is(err, target) {
		t.Errorf("%s: error = %v, want it to wrap %v", what, err, target)
	}
	for _, h := range hints {
		if !strings.Contains(err.Error(), h) {
			t.Errorf("%s: error = %v, want it to mention %q", what, err, h)
		}
	}
}

// snapshot maps every file and directory under root to its mode and content.
func snapshot(t *testing.T, root string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		entry := fi.Mode().String()
		if d.Type().IsRegular() {
			data, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			entry += " " + string(data)
		}
		out[path] = entry
		return nil
	})
	if err != nil {
		t.Fatalf("snapshot: %v", err)
	}
	return out
}

func sameSnapshot(t *testing.T, what string, before, after map[string]string) {
	t.Helper()
	for p, b := range before {
		a, ok := after[p]
		switch {
		case !ok:
			t.Errorf("%s removed %s", what, p)
		case a != b:
			t.Errorf("%s changed %s", what, p)
		}
	}
	for p := range after {
		if _, ok := before[p]; !ok {
			t.Errorf("%s created %s", what, p)
		}
	}
}

// noTemp fails if a temporary file is left in dir.
func noTemp(t *testing.T, dir string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatalf("ReadDir: %v", err)
	}
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".tmp-") {
			t.Errorf("temporary file %s left in %s", e.Name(), dir)
		}
	}
}

func writeFile(t *testing.T, path string, data string, perm fs.FileMode) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(data), perm); err != nil {
		t.Fatal(err)
	}
}

// plantForeign puts things beside the store that are not its records: a
// record-shaped file in a sibling namespace, and in the store's own
// directory a plain file, a temporary file, files with the extension but
// not the encoding, and a directory that looks like a record.
func plantForeign(t *testing.T, dir string) string {
	t.Helper()
	const foreign = "foreign-secret"
	writeFile(t, filepath.Join(filepath.Dir(dir), "com.mcp.other", file.FileName(foreign)), "not ours", 0o600)
	for _, name := range []string{foreign, foreign + ".cred", ".tmp-123456", "notes.txt", "foreign.cred", "MZXW6.cred", ".cred", file.FileName("a/b")} {
		writeFile(t, filepath.Join(dir, name), "not ours", 0o600)
	}
	if err := os.Mkdir(filepath.Join(dir, file.FileName("a-directory")), 0o700); err != nil {
		t.Fatal(err)
	}
	return foreign
}

// TestConformance runs the backend suite over stores with a passphrase and
// with a key file, planting foreign files and reopening from disk.
func TestConformance(t *testing.T) {
	for _, m := range modes {
		t.Run(string(m), func(t *testing.T) {
			var mu sync.Mutex
			dirs := map[*testing.T]string{}
			newStore := func(t *testing.T) backend.Store {
				s := mustOpen(t, optsFor(t.TempDir(), m))
				mu.Lock()
				dirs[t] = s.Dir()
				mu.Unlock()
				return s
			}
			plant := func(t *testing.T) string {
				mu.Lock()
				dir := dirs[t]
				mu.Unlock()
				return plantForeign(t, dir)
			}
			reopen := func(t *testing.T, s backend.Store) backend.Store {
				base := filepath.Dir(filepath.Dir(s.(*file.Store).Dir()))
				return mustOpen(t, optsFor(base, m))
			}
			backendtest.Run(t, newStore, backendtest.Options{PlantForeign: plant, Reopen: reopen})
		})
	}
}

// TestListIgnoresForeign: List shows exactly the store's records, whatever
// else is in or beside the directory.
func TestListIgnoresForeign(t *testing.T) {
	s := mustOpen(t, optsFor(t.TempDir(), keyMode))
	want := []string{"a", "B", backend.IndexName, "z.z"}
	for _, n := range want {
		mustSet(t, s, n, str(t, "v"))
	}
	plantForeign(t, s.Dir())
	got, err := s.List(context.Background())
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("List = %q, want %q", got, want)
	}
}

// TestFileNames: file names are lowercase (so case-insensitive file systems
// keep "Case" and "case" apart), fit in 255 bytes, and decode only from
// their canonical form.
func TestFileNames(t *testing.T) {
	names := []string{"a", "Case", "case", "CASE", backend.IndexName, strings.Repeat("Z", backend.MaxNameLen), "a.b-c_d"}
	seen := map[string]string{}
	for _, n := range names {
		f := file.FileName(n)
		if f != strings.ToLower(f) {
			t.Errorf("file name for %q has uppercase letters: %s", n, f)
		}
		if len(f) > 255 {
			t.Errorf("file name for a %d-byte name is %d bytes", len(n), len(f))
		}
		if other, ok := seen[strings.ToLower(f)]; ok {
			t.Errorf("%q and %q map to the same file on a case-insensitive file system", n, other)
		}
		seen[strings.ToLower(f)] = n
		if back, ok := file.CredName(f); !ok || back != n {
			t.Errorf("CredName(FileName(%q)) = %q, %v", n, back, ok)
		}
	}
	for _, f := range []string{"", ".cred", "foreign.cred", "MFRGG.cred", "mfrgg.txt", "mfrgg", "mfrgg.cred.tmp", file.FileName("a/b"), file.FileName(".."), "keyinfo.json", ".lock", ".tmp-123"} {
		if n, ok := file.CredName(f); ok {
			t.Errorf("CredName(%q) = %q, want it refused", f, n)
		}
	}
}

// TestWrongPassphrase: a wrong passphrase fails Open with ErrUnavailable,
// changes no byte on disk, and the right one still reads everything.
func TestWrongPassphrase(t *testing.T) {
	base := t.TempDir()
	opts := optsFor(base, passMode)
	s := mustOpen(t, opts)
	a := str(t, "a-"+backendtest.Canary)
	b := obj(t, `{"password":"`+backendtest.Canary+`"}`)
	mustSet(t, s, "a", a)
	mustSet(t, s, "b", b)
	before := snapshot(t, base)

	for _, wrong := range []string{"not-the-PASSPHRASE", testPassphrase + " ", strings.ToUpper(testPassphrase)} {
		bad := opts
		bad.Passphrase = wrong
		_, err := file.Open(bad)
		wantErr(t, "Open with a wrong passphrase", err, backend.ErrUnavailable, "wrong passphrase", opts.Dir, file.PassphraseEnv)
		if err != nil && strings.Contains(err.Error(), wrong) {
			t.Errorf("the error quotes the wrong passphrase (error withheld)")
		}
	}
	sameSnapshot(t, "Open with a wrong passphrase", before, snapshot(t, base))

	s2 := mustOpen(t, opts)
	sameValue(t, s2, "a", a)
	sameValue(t, s2, "b", b)
}

// TestPassphraseStoreWithoutPassphrase: opening a passphrase store with a
// key file instead says to set the passphrase, and creates no key file.
func TestPassphraseStoreWithoutPassphrase(t *testing.T) {
	base := t.TempDir()
	opts := optsFor(base, passMode)
	s := mustOpen(t, opts)
	mustSet(t, s, "a", str(t, "v"))
	before := snapshot(t, base)

	noPass := optsFor(base, keyMode)
	_, err := file.Open(noPass)
	wantErr(t, "Open without the passphrase", err, backend.ErrUnavailable, "protected by a passphrase", "set "+file.PassphraseEnv, opts.Dir)
	if _, err := os.Stat(noPass.KeyFile); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Open without the passphrase created a key file (stat error %v)", err)
	}
	sameSnapshot(t, "Open without the passphrase", before, snapshot(t, base))
}

// TestKeyFileStoreWithPassphrase: opening a key-file store with a
// passphrase says to unset it and names the key file; with neither, the
// error names the key file too.
func TestKeyFileStoreWithPassphrase(t *testing.T) {
	base := t.TempDir()
	opts := optsFor(base, keyMode)
	s := mustOpen(t, opts)
	mustSet(t, s, "a", str(t, "v"))
	before := snapshot(t, base)

	withPass := opts
	withPass.Passphrase = testPassphrase
	_, err := file.Open(withPass)
	wantErr(t, "Open of a key-file store with a passphrase", err, backend.ErrUnavailable, "unset "+file.PassphraseEnv, opts.KeyFile)

	_, err = file.Open(file.Options{Dir: opts.Dir})
	wantErr(t, "Open with neither passphrase nor key file", err, backend.ErrUnavailable, file.PassphraseEnv)

	_, err = file.Open(file.Options{Dir: opts.Dir, KeyFile: filepath.Join(base, "elsewhere.key")})
	wantErr(t, "Open with a key file at another path", err, backend.ErrUnavailable, "missing", "elsewhere.key", "it was at "+opts.KeyFile)

	sameSnapshot(t, "Open with the wrong kind of key", before, snapshot(t, base))
}

// TestKeyFileCreated: a new key-file store generates a 32-byte key, mode
// 0600, in a 0700 directory; a key file others can read is refused, and
// accepted again once it is private.
func TestKeyFileCreated(t *testing.T) {
	base := t.TempDir()
	opts := optsFor(base, keyMode)
	s := mustOpen(t, opts)
	if got, want := s.KeySource(), "key file "+opts.KeyFile; got != want {
		t.Errorf("KeySource = %q, want %q", got, want)
	}
	fi, err := os.Stat(opts.KeyFile)
	if err != nil {
		t.Fatalf("key file: %v", err)
	}
	if fi.Mode().Perm() != 0o600 || fi.Size() != 32 {
		t.Errorf("key file mode %04o size %d, want 0600 and 32", fi.Mode().Perm(), fi.Size())
	}
	di, err := os.Stat(filepath.Dir(opts.KeyFile))
	if err != nil {
		t.Fatal(err)
	}
	if di.Mode().Perm() != 0o700 {
		t.Errorf("key file directory mode %04o, want 0700", di.Mode().Perm())
	}
	noTemp(t, filepath.Dir(opts.KeyFile))
	mustSet(t, s, "a", str(t, "v"))

	for _, perm := range []fs.FileMode{0o644, 0o640, 0o604} {
		if err := os.Chmod(opts.KeyFile, perm); err != nil {
			t.Fatal(err)
		}
		_, err = file.Open(opts)
		wantErr(t, fmt.Sprintf("Open with key file mode %04o", perm), err, backend.ErrUnavailable, "chmod 600 "+opts.KeyFile)
	}
	if err := os.Chmod(opts.KeyFile, 0o600); err != nil {
		t.Fatal(err)
	}
	s2 := mustOpen(t, opts)
	if _, err := s2.Get(context.Background(), "a"); err != nil {
		t.Errorf("Get after restoring the key file's mode: %v", err)
	}
}

// TestKeyFileProblems: a missing, short, long, different, or non-regular
// key file fails Open with a message naming the key file and what to do,
// and changes nothing; restoring the key makes the store readable again.
func TestKeyFileProblems(t *testing.T) {
	base := t.TempDir()
	opts := optsFor(base, keyMode)
	s := mustOpen(t, opts)
	want := str(t, backendtest.Canary)
	mustSet(t, s, "a", want)
	key, err := os.ReadFile(opts.KeyFile)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name   string
		break_ func()
		hints  []string
	}{
		{"missing", func() { os.Remove(opts.KeyFile) }, []string{"missing", "restore it", opts.KeyFile}},
		{"short", func() { writeFile(t, opts.KeyFile, string(key[:31]), 0o600) }, []string{"32-byte key", opts.KeyFile}},
		{"long", func() { writeFile(t, opts.KeyFile, string(key)+"\n", 0o600) }, []string{"32-byte key", opts.KeyFile}},
		{"different", func() { writeFile(t, opts.KeyFile, strings.Repeat("k", 32), 0o600) }, []string{"different key", opts.KeyFile}},
		{"directory", func() { os.Remove(opts.KeyFile); os.Mkdir(opts.KeyFile, 0o700) }, []string{"not a regular file", opts.KeyFile}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.break_()
			before := snapshot(t, opts.Dir)
			_, err := file.Open(opts)
			wantErr(t, "Open", err, backend.ErrUnavailable, c.hints...)
			sameSnapshot(t, "Open with a bad key file", before, snapshot(t, opts.Dir))
			os.RemoveAll(opts.KeyFile)
			writeFile(t, opts.KeyFile, string(key), 0o600)
			sameValue(t, mustOpen(t, opts), "a", want)
		})
	}
}

// TestPermissions: the directory is 0700 (an existing looser one is
// tightened) and every file the store makes is 0600.
func TestPermissions(t *testing.T) {
	for _, m := range modes {
		t.Run(string(m), func(t *testing.T) {
			opts := optsFor(t.TempDir(), m)
			if err := os.MkdirAll(opts.Dir, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(opts.Dir, 0o755); err != nil {
				t.Fatal(err)
			}
			s := mustOpen(t, opts)
			mustSet(t, s, "a", str(t, "v"))
			mustSet(t, s, "a", str(t, "overwritten"))
			mustSet(t, s, backend.IndexName, obj(t, `{}`))
			di, err := os.Stat(opts.Dir)
			if err != nil {
				t.Fatal(err)
			}
			if di.Mode().Perm() != 0o700 {
				t.Errorf("directory mode %04o, want 0700", di.Mode().Perm())
			}
			entries, err := os.ReadDir(opts.Dir)
			if err != nil {
				t.Fatal(err)
			}
			if len(entries) == 0 {
				t.Fatal("the store wrote no files")
			}
			for _, e := range entries {
				fi, err := e.Info()
				if err != nil {
					t.Fatal(err)
				}
				if fi.Mode().Perm() != 0o600 {
					t.Errorf("%s has mode %04o, want 0600", e.Name(), fi.Mode().Perm())
				}
			}
		})
	}
}

// TestNoPlaintextOnDisk: neither values, descriptions nor the passphrase
// appear in any file under the data or config directory.
func TestNoPlaintextOnDisk(t *testing.T) {
	for _, m := range modes {
		t.Run(string(m), func(t *testing.T) {
			base := t.TempDir()
			s := mustOpen(t, optsFor(base, m))
			r := str(t, "token-"+backendtest.Canary)
			r.Description = "described " + backendtest.Canary
			mustSet(t, s, "string", r)
			mustSet(t, s, "object", obj(t, `{"user":"ada","password":"`+backendtest.Canary+`"}`))
			mustSet(t, s, "array", obj(t, `["`+backendtest.Canary+`"]`))
			files := 0
			err := filepath.WalkDir(base, func(path string, d fs.DirEntry, err error) error {
				if err != nil || !d.Type().IsRegular() {
					return err
				}
				files++
				data, err := os.ReadFile(path)
				if err != nil {
					return err
				}
				for _, secret := range []string{backendtest.Canary, "do-not-leak", testPassphrase} {
					if bytes.Contains(data, []byte(secret)) {
						t.Errorf("%s holds a secret in plain text", path)
					}
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if files < 4 {
				t.Errorf("found %d files, want keyinfo and three records at least", files)
			}
		})
	}
}

// TestTamper: a record with any byte flipped, cut short, or moved onto
// another name's file fails Get with ErrDamaged, never a panic, the wrong
// value or ErrNotFound.
func TestTamper(t *testing.T) {
	s := mustOpen(t, optsFor(t.TempDir(), keyMode))
	ctx := context.Background()
	victim := obj(t, `{"password":"`+backendtest.Canary+`"}`)
	mustSet(t, s, "victim", victim)
	path := filepath.Join(s.Dir(), file.FileName("victim"))
	orig, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	damaged := func(what string) {
		t.Helper()
		_, err := s.Get(ctx, "victim")
		wantErr(t, what, err, file.ErrDamaged, "victim", path)
		if !errors.Is(err, backend.ErrInvalidValue) || errors.Is(err, backend.ErrNotFound) {
			t.Errorf("%s: error = %v, want ErrInvalidValue and not ErrNotFound", what, err)
		}
	}
	for _, i := range []int{0, 7, 8, 19, 20, len(orig) / 2, len(orig) - 17, len(orig) - 1} {
		bad := bytes.Clone(orig)
		bad[i] ^= 0x01
		writeFile(t, path, string(bad), 0o600)
		damaged(fmt.Sprintf("byte %d flipped", i))
	}
	for _, n := range []int{0, 1, 8, 20, 35, 36, len(orig) - 1} {
		writeFile(t, path, string(orig[:n]), 0o600)
		damaged(fmt.Sprintf("cut to %d bytes", n))
	}
	writeFile(t, path, string(orig)+"x", 0o600)
	damaged("one byte appended")
	writeFile(t, path, string(orig), 0o600)
	sameValue(t, s, "victim", victim)

	// Another credential's file moved or copied onto this name.
	mustSet(t, s, "other", str(t, "other value"))
	otherPath := filepath.Join(s.Dir(), file.FileName("other"))
	if err := os.Rename(otherPath, path); err != nil {
		t.Fatal(err)
	}
	damaged("another record renamed onto it")
	if _, err := s.Get(ctx, "other"); !errors.Is(err, backend.ErrNotFound) {
		t.Errorf("Get(other) after its file was moved: %v, want ErrNotFound", err)
	}

	// A record from another store with another key.
	s2 := mustOpen(t, optsFor(t.TempDir(), keyMode))
	mustSet(t, s2, "victim", str(t, "from elsewhere"))
	data, err := os.ReadFile(filepath.Join(s2.Dir(), file.FileName("victim")))
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, path, string(data), 0o600)
	damaged("a record from another store")
}

// TestDamagedKeyInfo: a garbled, newer or altered keyinfo.json fails Open
// with ErrUnavailable and a message naming it.
func TestDamagedKeyInfo(t *testing.T) {
	opts := optsFor(t.TempDir(), passMode)
	s := mustOpen(t, opts)
	mustSet(t, s, "a", str(t, "v"))
	path := filepath.Join(opts.Dir, file.KeyInfoName)
	orig, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, content string
		hints         []string
	}{
		{"garbled", "{not json", []string{"damaged", path}},
		{"empty", "", []string{"damaged", path}},
		{"newer", strings.Replace(string(orig), `"version": 1`, `"version": 2`, 1), []string{"version 2", path}},
		{"unknown mode", strings.Replace(string(orig), `"mode": "passphrase"`, `"mode": "hsm"`, 1), []string{"unknown key mode", path}},
		{"absurd memory", strings.Replace(string(orig), `"memory_kib": 9216`, `"memory_kib": 4000000000`, 1), []string{"memory", path}},
		{"zero threads", strings.Replace(string(orig), `"threads": 1`, `"threads": 0`, 1), []string{"threads", path}},
		{"mode changed", strings.Replace(string(orig), `"mode": "passphrase"`, `"mode": "keyfile"`, 1), []string{"key file"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if c.content == string(orig) {
				t.Fatal("the replacement did not apply; keyinfo.json's layout changed")
			}
			writeFile(t, path, c.content, 0o600)
			_, err := file.Open(opts)
			wantErr(t, "Open", err, backend.ErrUnavailable, c.hints...)
		})
	}
	writeFile(t, path, string(orig), 0o600)
	mustOpen(t, opts)
}

// TestOrphanRecords: a directory with records but no keyinfo.json is not
// silently given a new key; Open refuses and creates nothing.
func TestOrphanRecords(t *testing.T) {
	base := t.TempDir()
	opts := optsFor(base, passMode)
	s := mustOpen(t, opts)
	mustSet(t, s, "a", str(t, "v"))
	if err := os.Remove(filepath.Join(opts.Dir, file.KeyInfoName)); err != nil {
		t.Fatal(err)
	}
	before := snapshot(t, base)
	_, err := file.Open(opts)
	wantErr(t, "Open of records without keyinfo.json", err, backend.ErrUnavailable, "no "+file.KeyInfoName, "restore it")
	sameSnapshot(t, "Open of records without keyinfo.json", before, snapshot(t, base))
}

var errInjected = errors.New("injected fault")

// TestFailedWriteKeepsOld: a write that fails at any step (as on a full
// disk) leaves the old record, creates no new one, and leaves no
// temporary file.
func TestFailedWriteKeepsOld(t *testing.T) {
	ctx := context.Background()
	for _, step := range []string{"create", "write", "sync", "close", "rename"} {
		t.Run(step, func(t *testing.T) {
			s := mustOpen(t, optsFor(t.TempDir(), keyMode))
			old := str(t, "old value")
			mustSet(t, s, "cred", old)
			before, err := os.ReadDir(s.Dir())
			if err != nil {
				t.Fatal(err)
			}
			calls := 0
			file.SetFault(s, func(at string) error {
				calls++
				if at == step {
					return errInjected
				}
				return nil
			})
			err = s.Set(ctx, "cred", str(t, "new "+backendtest.Canary))
			wantErr(t, "Set with a failing "+step, err, errInjected, `"cred"`)
			err = s.Set(ctx, "fresh", str(t, "new "+backendtest.Canary))
			wantErr(t, "Set of a new name with a failing "+step, err, errInjected)
			if calls == 0 {
				t.Fatal("the fault hook was never called")
			}
			sameValue(t, s, "cred", old)
			if _, err := s.Get(ctx, "fresh"); !errors.Is(err, backend.ErrNotFound) {
				t.Errorf("Get(fresh) after a failed Set: %v, want ErrNotFound", err)
			}
			noTemp(t, s.Dir())
			after, err := os.ReadDir(s.Dir())
			if err != nil {
				t.Fatal(err)
			}
			if len(after) != len(before) {
				t.Errorf("directory has %d entries after failed writes, want %d", len(after), len(before))
			}

			file.SetFault(s, nil)
			mustSet(t, s, "cred", str(t, "newer"))
			sameValue(t, s, "cred", str(t, "newer"))
		})
	}
}

// TestConcurrentOpen: stores opening one empty directory at once (as
// separate processes would: flock excludes separate descriptors) all
// succeed with the same key; there is one keyinfo.json and one key file.
func TestConcurrentOpen(t *testing.T) {
	for _, m := range modes {
		t.Run(string(m), func(t *testing.T) {
			base := t.TempDir()
			opts := optsFor(base, m)
			const n = 6
			var wg sync.WaitGroup
			start := make(chan struct{})
			errs := make([]error, n)
			for i := range n {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-start
					s, err := file.Open(opts)
					if err != nil {
						errs[i] = err
						return
					}
					defer s.Close()
					name := fmt.Sprintf("g%d", i)
					errs[i] = s.Set(context.Background(), name, str(t, name))
				}()
			}
			close(start)
			wg.Wait()
			for i, err := range errs {
				if err != nil {
					t.Errorf("store %d: %v", i, err)
				}
			}
			checkAgree(t, opts, n, "g")
		})
	}
}

// TestConcurrentKeyFileCreation: stores in different directories that
// share one key file path, all new and opened at once, end with one key
// that every one of them was created with.
func TestConcurrentKeyFileCreation(t *testing.T) {
	base := t.TempDir()
	keyFile := filepath.Join(base, "config", "shared.key")
	const n = 6
	var wg sync.WaitGroup
	start := make(chan struct{})
	errs := make([]error, n)
	optsOf := func(i int) file.Options {
		return file.Options{Dir: filepath.Join(base, "data", fmt.Sprintf("ns%d", i)), KeyFile: keyFile}
	}
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			s, err := file.Open(optsOf(i))
			if err != nil {
				errs[i] = err
				return
			}
			defer s.Close()
			errs[i] = s.Set(context.Background(), "k0", str(t, "k0"))
		}()
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("store %d: %v", i, err)
		}
	}
	for i := range n {
		checkAgree(t, optsOf(i), 1, "k")
	}
}

// checkAgree opens the store once more and checks that it reads the n
// records prefix0..prefixN-1, and that no temporary file was left.
func checkAgree(t *testing.T, opts file.Options, n int, prefix string) {
	t.Helper()
	s := mustOpen(t, opts)
	for i := range n {
		name := fmt.Sprintf("%s%d", prefix, i)
		sameValue(t, s, name, str(t, name))
	}
	noTemp(t, opts.Dir)
	if opts.KeyFile != "" {
		noTemp(t, filepath.Dir(opts.KeyFile))
	}
}

const (
	childDirEnv   = "FILE_STORE_TEST_CHILD_DIR"
	childNameEnv  = "FILE_STORE_TEST_CHILD_NAME"
	childStartEnv = "FILE_STORE_TEST_CHILD_START"
)

func TestMain(m *testing.M) {
	if dir := os.Getenv(childDirEnv); dir != "" {
		os.Exit(child(dir))
	}
	os.Exit(m.Run())
}

// child is a separate process opening the store in dir: it waits for the
// start file, opens the store with the passphrase from the environment and
// writes one record named after itself.
func child(dir string) int {
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, err := os.Stat(os.Getenv(childStartEnv)); err == nil {
			break
		}
		if time.Now().After(deadline) {
			fmt.Fprintln(os.Stderr, "child: no start signal")
			return 2
		}
		time.Sleep(time.Millisecond)
	}
	s, err := file.Open(file.Options{Dir: dir, Passphrase: os.Getenv(file.PassphraseEnv)})
	if err != nil {
		fmt.Fprintln(os.Stderr, "child: open:", err)
		return 1
	}
	defer s.Close()
	name := os.Getenv(childNameEnv)
	v, err := backend.NewString(name)
	if err == nil {
		err = s.Set(context.Background(), name, backend.Record{Value: v})
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "child: set:", err)
		return 1
	}
	return 0
}

// TestConcurrentOpenProcesses: real processes opening one empty directory
// with a passphrase at the same moment all succeed and agree on one key.
func TestConcurrentOpenProcesses(t *testing.T) {
	base := t.TempDir()
	opts := optsFor(base, passMode)
	startFile := filepath.Join(base, "start")
	const n = 3
	cmds := make([]*exec.Cmd, n)
	outs := make([]*bytes.Buffer, n)
	for i := range n {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(),
			childDirEnv+"="+opts.Dir,
			childNameEnv+"="+fmt.Sprintf("p%d", i),
			childStartEnv+"="+startFile,
			file.PassphraseEnv+"="+testPassphrase,
		)
		outs[i] = new(bytes.Buffer)
		cmd.Stdout, cmd.Stderr = outs[i], outs[i]
		if err := cmd.Start(); err != nil {
			t.Fatalf("start child: %v", err)
		}
		cmds[i] = cmd
	}
	writeFile(t, startFile, "", 0o600)
	for i, cmd := range cmds {
		if err := cmd.Wait(); err != nil {
			out := outs[i].String()
			noSecret(t, errors.New(out))
			t.Errorf("child %d: %v: %s", i, err, out)
		}
	}
	checkAgree(t, opts, n, "p")
}

// TestContextCanceled: a cancelled context stops every operation before
// it touches the disk.
func TestContextCanceled(t *testing.T) {
	s := mustOpen(t, optsFor(t.TempDir(), keyMode))
	mustSet(t, s, "a", str(t, "v"))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.Get(ctx, "a"); !errors.Is(err, context.Canceled) {
		t.Errorf("Get: %v, want context.Canceled", err)
	}
	if err := s.Set(ctx, "b", str(t, "v")); !errors.Is(err, context.Canceled) {
		t.Errorf("Set: %v, want context.Canceled", err)
	}
	if err := s.Delete(ctx, "a"); !errors.Is(err, context.Canceled) {
		t.Errorf("Delete: %v, want context.Canceled", err)
	}
	if _, err := s.List(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("List: %v, want context.Canceled", err)
	}
	names, err := s.List(context.Background())
	if err != nil || !slices.Equal(names, []string{"a"}) {
		t.Errorf("List after cancelled calls = %q, %v; want [a]", names, err)
	}
}

// TestClosed: a closed store refuses every operation with ErrUnavailable
// and keeps its files.
func TestClosed(t *testing.T) {
	opts := optsFor(t.TempDir(), keyMode)
	s := mustOpen(t, opts)
	mustSet(t, s, "a", str(t, "v"))
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	ctx := context.Background()
	if _, err := s.Get(ctx, "a"); !errors.Is(err, backend.ErrUnavailable) {
		t.Errorf("Get after Close: %v, want ErrUnavailable", err)
	}
	if err := s.Set(ctx, "a", str(t, "w")); !errors.Is(err, backend.ErrUnavailable) {
		t.Errorf("Set after Close: %v, want ErrUnavailable", err)
	}
	if err := s.Delete(ctx, "a"); !errors.Is(err, backend.ErrUnavailable) {
		t.Errorf("Delete after Close: %v, want ErrUnavailable", err)
	}
	if _, err := s.List(ctx); !errors.Is(err, backend.ErrUnavailable) {
		t.Errorf("List after Close: %v, want ErrUnavailable", err)
	}
	sameValue(t, mustOpen(t, opts), "a", str(t, "v"))
}

// TestOpenErrors: bad options fail Open with ErrUnavailable and a message
// that says what is wrong.
func TestOpenErrors(t *testing.T) {
	base := t.TempDir()
	notDir := filepath.Join(base, "plain-file")
	writeFile(t, notDir, "x", 0o600)
	cases := []struct {
		name  string
		opts  file.Options
		hints []string
	}{
		{"no dir", file.Options{Passphrase: testPassphrase}, []string{"no directory"}},
		{"no key", file.Options{Dir: filepath.Join(base, "d")}, []string{file.PassphraseEnv, "key file"}},
		{"dir is a file", file.Options{Dir: notDir, Passphrase: testPassphrase}, []string{notDir}},
		{"dir under a file", file.Options{Dir: filepath.Join(notDir, "sub"), Passphrase: testPassphrase}, []string{"directory"}},
		{"key file under a file", file.Options{Dir: filepath.Join(base, "e"), KeyFile: filepath.Join(notDir, "k.key")}, []string{"key file"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := file.Open(c.opts)
			wantErr(t, "Open", err, backend.ErrUnavailable, c.hints...)
		})
	}
}

// TestKeySource: KeySource names where the key came from and never holds
// the passphrase.
func TestKeySource(t *testing.T) {
	s := mustOpen(t, optsFor(t.TempDir(), passMode))
	if s.KeySource() != "passphrase" {
		t.Errorf("KeySource = %q, want passphrase", s.KeySource())
	}
	base := t.TempDir()
	opts := optsFor(base, keyMode)
	mustOpen(t, opts)
	s2 := mustOpen(t, opts) // an existing store, read back
	if want := "key file " + opts.KeyFile; s2.KeySource() != want {
		t.Errorf("KeySource = %q, want %q", s2.KeySource(), want)
	}
	if s2.Dir() != opts.Dir {
		t.Errorf("Dir = %q, want %q", s2.Dir(), opts.Dir)
	}
}

// TestExistingKeyFileIsUsed: a new store whose key file already exists
// (say, its data directory was removed) uses that key rather than
// replacing it.
func TestExistingKeyFileIsUsed(t *testing.T) {
	base := t.TempDir()
	opts := optsFor(base, keyMode)
	key := strings.Repeat("K", 32)
	writeFile(t, opts.KeyFile, key, 0o600)
	mustSet(t, mustOpen(t, opts), "a", str(t, "v"))
	got, err := os.ReadFile(opts.KeyFile)
	if err != nil || string(got) != key {
		t.Errorf("the existing key file was replaced (err %v)", err)
	}
}

// TestDeleteLeavesOthers: Delete removes only the named record's file, and
// refuses to remove a directory that only looks like a record.
func TestDeleteLeavesOthers(t *testing.T) {
	s := mustOpen(t, optsFor(t.TempDir(), keyMode))
	mustSet(t, s, "Case", str(t, "upper"))
	mustSet(t, s, "case", str(t, "lower"))
	if err := s.Delete(context.Background(), "case"); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	sameValue(t, s, "Case", str(t, "upper"))
	if _, err := os.Stat(filepath.Join(s.Dir(), file.FileName("case"))); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the deleted record's file is still there (stat %v)", err)
	}
	if err := os.Mkdir(filepath.Join(s.Dir(), file.FileName("dir")), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(context.Background(), "dir"); err == nil {
		t.Errorf("Delete removed a directory that was not a record")
	}
}
