package file

import (
	"context"
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"sync/atomic"
	"time"

	"github.com/mcp-secrets/mcp-secrets/internal/backend"
)

var _ backend.Store = (*Store)(nil)

// PassphraseEnv is the environment variable that holds the store's
// passphrase; error messages tell people to set or unset it.
const PassphraseEnv = "MCP_SECRETS_FILE_PASSPHRASE"

// ErrDamaged is wrapped by Get when a record file cannot be decrypted
// although the key is right: it was altered, cut short, or copied or
// renamed from another credential's file. It wraps backend.ErrInvalidValue.
var ErrDamaged = fmt.Errorf("%w: record is damaged or was not written under this name", backend.ErrInvalidValue)

// recordMagic starts every record file; the version is part of the
// additional data, so a file of another version never decrypts as this one.
const recordMagic = "MCPSREC1"

// Options says where a store lives and how its key is found.
type Options struct {
	// Dir is the namespace's directory, for example
	// ~/.local/share/mcp-secrets/com.mcp.NAME. It is created 0700.
	Dir string
	// Passphrase, when not empty, derives the key (see PassphraseEnv).
	// Empty means the key is in KeyFile.
	Passphrase string
	// KeyFile is where a random key is kept when there is no passphrase,
	// for example ~/.config/mcp-secrets/com.mcp.NAME.key. It is generated,
	// mode 0600, when a new store is created and the file does not exist.
	KeyFile string
}

// Store is an encrypted backend.Store with one file per record. It is safe
// for concurrent use, also by several processes over the same directory.
type Store struct {
	dir       string
	keySource string
	aead      cipher.AEAD
	closed    atomic.Bool
	fault     faultFunc // tests only
}

// Open opens the store in opts.Dir, creating the directory and its key
// information if they do not exist. Every error wraps
// backend.ErrUnavailable and says what to do; a wrong passphrase or key
// changes nothing on disk.
func Open(opts Options) (*Store, error) {
	if opts.Dir == "" {
		return nil, fmt.Errorf("file: open: no directory given: %w", backend.ErrUnavailable)
	}
	if opts.Passphrase == "" && opts.KeyFile == "" {
		return nil, fmt.Errorf("file: open %s: set %s, or give a key file: %w", opts.Dir, PassphraseEnv, backend.ErrUnavailable)
	}
	dir := filepath.Clean(opts.Dir)
	if opts.KeyFile != "" {
		opts.KeyFile = filepath.Clean(opts.KeyFile)
	}
	if err := ensureDir(dir); err != nil {
		return nil, err
	}
	aead, source, err := unlock(dir, opts)
	if err != nil {
		return nil, err
	}
	removeStaleTemps(dir, time.Now())
	return &Store{dir: dir, keySource: source, aead: aead}, nil
}

// Dir returns the store's directory.
func (s *Store) Dir() string { return s.dir }

// KeySource says where the key came from, for a log line: "passphrase" or
// "key file <path>". It never contains the key or the passphrase.
func (s *Store) KeySource() string { return s.keySource }

// Get returns the record stored under name.
func (s *Store) Get(ctx context.Context, name string) (backend.Record, error) {
	if err := s.check(ctx, "get", name); err != nil {
		return backend.Record{}, err
	}
	path := s.path(name)
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return backend.Record{}, fmt.Errorf("file: get %q: %w", name, backend.ErrNotFound)
	}
	if err != nil {
		return backend.Record{}, fmt.Errorf("file: get %q: %w", name, err)
	}
	plain, ok := s.open(name, data)
	if !ok {
		return backend.Record{}, fmt.Errorf("file: get %q: %w (%s)", name, ErrDamaged, path)
	}
	rec, err := backend.Unmarshal(plain)
	clear(plain)
	if err != nil {
		return backend.Record{}, fmt.Errorf("file: get %q: %w", name, err)
	}
	return rec, nil
}

// Set stores rec under name, replacing any record there. A failed Set
// leaves the previous record as it was.
func (s *Store) Set(ctx context.Context, name string, rec backend.Record) error {
	if err := s.check(ctx, "set", name); err != nil {
		return err
	}
	if rec.Value.IsZero() {
		return fmt.Errorf("file: set %q: %w: value is required", name, backend.ErrInvalidValue)
	}
	plain, err := backend.Marshal(rec)
	if err != nil {
		return fmt.Errorf("file: set %q: %w", name, err)
	}
	data := s.seal(name, plain)
	clear(plain)
	if err := replaceFile(s.path(name), data, s.fault); err != nil {
		return fmt.Errorf("file: set %q: %w", name, err)
	}
	return nil
}

// Delete removes the record stored under name.
func (s *Store) Delete(ctx context.Context, name string) error {
	if err := s.check(ctx, "delete", name); err != nil {
		return err
	}
	path := s.path(name)
	fi, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("file: delete %q: %w", name, backend.ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("file: delete %q: %w", name, err)
	}
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("file: delete %q: %s is not a regular file; it was not made by this program", name, path)
	}
	if err := os.Remove(path); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("file: delete %q: %w", name, backend.ErrNotFound)
		}
		return fmt.Errorf("file: delete %q: %w", name, classify(err))
	}
	if err := syncDir(s.dir); err != nil {
		return fmt.Errorf("file: delete %q: the record is gone but may come back after a crash: %w", name, err)
	}
	return nil
}

// List returns the names of the records in the directory, sorted. Files
// that are not records of this store are ignored.
func (s *Store) List(ctx context.Context) ([]string, error) {
	if err := s.check(ctx, "list", ""); err != nil {
		return nil, err
	}
	entries, err := os.ReadDir(s.dir)
	if err != nil {
		return nil, fmt.Errorf("file: list: %w", err)
	}
	names := make([]string, 0, len(entries))
	for _, e := range entries {
		if !e.Type().IsRegular() {
			continue
		}
		if name, ok := credName(e.Name()); ok {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	return names, nil
}

// Close marks the store closed; later calls fail with
// backend.ErrUnavailable. The files stay.
func (s *Store) Close() error {
	s.closed.Store(true)
	return nil
}

// check does what every operation does first: honour a cancelled context,
// refuse a closed store, and check the name (unless name is "", for List).
func (s *Store) check(ctx context.Context, op, name string) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("file: %s: %w", op, err)
	}
	if s.closed.Load() {
		return fmt.Errorf("file: %s: the store is closed: %w", op, backend.ErrUnavailable)
	}
	if op == "list" {
		return nil
	}
	if err := backend.CheckStoreName(name); err != nil {
		return fmt.Errorf("file: %s: %w", op, err)
	}
	return nil
}

func (s *Store) path(name string) string {
	return filepath.Join(s.dir, fileName(name))
}

// recordAAD binds a record file to its format version and credential name.
func recordAAD(name string) []byte {
	return []byte(recordMagic + " " + name)
}

// seal returns the content of name's record file: magic, nonce, ciphertext.
func (s *Store) seal(name string, plain []byte) []byte {
	n := s.aead.NonceSize()
	out := make([]byte, len(recordMagic)+n, len(recordMagic)+n+len(plain)+s.aead.Overhead())
	copy(out, recordMagic)
	nonce := out[len(recordMagic):]
	_, _ = rand.Read(nonce)
	return s.aead.Seal(out, nonce, plain, recordAAD(name))
}

// open decrypts name's record file, reporting false if it is not intact.
func (s *Store) open(name string, data []byte) ([]byte, bool) {
	n := s.aead.NonceSize()
	if len(data) < len(recordMagic)+n+s.aead.Overhead() || string(data[:len(recordMagic)]) != recordMagic {
		return nil, false
	}
	nonce := data[len(recordMagic) : len(recordMagic)+n]
	plain, err := s.aead.Open(nil, nonce, data[len(recordMagic)+n:], recordAAD(name))
	return plain, err == nil
}
