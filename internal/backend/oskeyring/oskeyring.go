package oskeyring

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/99designs/keyring"
	"github.com/mtibben/percent"

	"github.com/mcp-secrets/mcp-secrets/internal/backend"
	// busguard must be initialized before 99designs/keyring, whose package
	// init connects to the D-Bus session bus and, with no bus address, makes
	// godbus start a dbus-daemon that outlives us (upstream issue 103).
	// Import order in this file does not matter; see busguard's doc for why
	// Go's init order guarantees it.
	_ "github.com/mcp-secrets/mcp-secrets/internal/backend/oskeyring/busguard"
)

var _ backend.Store = (*Store)(nil)

// DefaultTimeout bounds each call into the keyring library when
// Options.Timeout is zero.
const DefaultTimeout = 10 * time.Second

// DefaultCollection is the Secret Service collection used when
// Options.Collection is empty: the user's login keyring.
const DefaultCollection = "login"

// Options chooses and configures the keyring.
type Options struct {
	// Backend is one name from Names, or "" to try the persistent OS
	// keyrings in the platform's order (wincred, keychain, secret-service,
	// kwallet, pass) and use the first that opens.
	Backend string
	// Namespace keeps this server's items apart from everyone else's, for
	// example "com.mcp.mcp-secrets" (see backend.Namespace). It is the
	// keyring service name, and a key prefix where the store is shared.
	Namespace string
	// Collection is the Secret Service collection; "" means "login".
	// The collection must exist: creating one needs a GUI prompt.
	Collection string
	// FileDir is the directory of the "file" backend.
	FileDir string
	// FilePassphrase encrypts the "file" backend's items; it is required.
	FilePassphrase string
	// PassDir is the password store of the "pass" backend; "" means
	// $PASSWORD_STORE_DIR, else ~/.password-store.
	PassDir string
	// PassCmd is the pass program; "" means "pass" on PATH.
	PassCmd string
	// Timeout bounds each call into the keyring, which has no context of
	// its own and may wait forever at an unlock prompt; 0 means
	// DefaultTimeout.
	Timeout time.Duration
}

// Store is a backend.Store in an OS keyring. It is safe for concurrent use;
// calls into the keyring are made one at a time.
type Store struct {
	ring      keyring.Keyring
	kind      kind
	namespace string
	// prefix starts every key this Store writes where the keyring itself
	// is shared; "" where the backend already scopes keys to the namespace.
	prefix  string
	maxData int
	timeout time.Duration
	// sem holds one token while a library call runs, so calls never
	// overlap: the library's keyrings are not safe for concurrent use.
	sem    chan struct{}
	closed atomic.Bool
	// passDir is the resolved password store, for the pass backend.
	passDir string
	// collection is the Secret Service collection.
	collection string
	// fileDir is the directory of the file backend, expanded.
	fileDir string
}

// Names returns the keyring backends that Options.Backend accepts.
func Names() []string {
	return []string{
		string(keyring.SecretServiceBackend),
		string(keyring.KeychainBackend),
		string(keyring.WinCredBackend),
		string(keyring.KWalletBackend),
		string(keyring.PassBackend),
		string(keyring.KeyCtlBackend),
		string(keyring.FileBackend),
	}
}

// defaultOrder is what Options.Backend "" tries: the library's order, less
// keyctl (the kernel forgets its keys at reboot) and file (ask for it by
// name; the command has its own encrypted file store).
func defaultOrder() []string {
	return []string{
		string(keyring.WinCredBackend),
		string(keyring.KeychainBackend),
		string(keyring.SecretServiceBackend),
		string(keyring.KWalletBackend),
		string(keyring.PassBackend),
	}
}

// Open opens the keyring that opts names, or with Backend "" the first of
// the platform's persistent keyrings that opens. Errors wrap
// backend.ErrUnavailable and say what to do.
func Open(ctx context.Context, opts Options) (*Store, error) {
	if err := opts.check(); err != nil {
		return nil, fmt.Errorf("oskeyring: open: %w", err)
	}
	if opts.Backend != "" {
		s, err := open(ctx, opts)
		if err != nil {
			return nil, fmt.Errorf("oskeyring: open: %w", err)
		}
		return s, nil
	}
	var reasons []string
	for _, name := range defaultOrder() {
		o := opts
		o.Backend = name
		s, err := open(ctx, o)
		if err == nil {
			return s, nil
		}
		if isAvailable(name) {
			reasons = append(reasons, err.Error())
		}
	}
	return nil, fmt.Errorf("oskeyring: open: %w", noKeyring(reasons))
}

func noKeyring(reasons []string) error {
	if len(reasons) == 0 {
		return fmt.Errorf("%w: no OS keyring on this system", backend.ErrUnavailable)
	}
	return fmt.Errorf("%w: no usable OS keyring (%s)", backend.ErrUnavailable, strings.Join(reasons, "; "))
}

func (o *Options) check() error {
	if o.Backend != "" && !slices.Contains(Names(), o.Backend) {
		return fmt.Errorf("%w: unknown keyring backend %q; valid: %s",
			backend.ErrUnavailable, o.Backend, strings.Join(Names(), ", "))
	}
	if err := backend.CheckStoreName(o.Namespace); err != nil {
		return fmt.Errorf("namespace: %w", err)
	}
	if c := o.Namespace[0]; !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
		return fmt.Errorf("namespace: %w: must start with a letter or digit", backend.ErrInvalidName)
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.Collection == "" {
		o.Collection = DefaultCollection
	}
	return nil
}

// open opens the one backend opts.Backend names; opts has been checked.
func open(ctx context.Context, opts Options) (*Store, error) {
	k := kindOf(opts.Backend)
	fail := func(format string, args ...any) error {
		return fmt.Errorf("%s: %w: %s", k.name, backend.ErrUnavailable, fmt.Sprintf(format, args...))
	}
	if !isAvailable(k.name) {
		return nil, fail("%s", notBuiltIn(k.name))
	}
	s := &Store{
		kind:       k,
		namespace:  opts.Namespace,
		maxData:    k.maxData,
		timeout:    opts.Timeout,
		sem:        make(chan struct{}, 1),
		collection: opts.Collection,
	}
	if k.prefixed {
		s.prefix = opts.Namespace + "/"
	}
	cfg := keyring.Config{
		AllowedBackends: []keyring.BackendType{keyring.BackendType(k.name)},
		ServiceName:     opts.Namespace,
	}
	switch k.name {
	case string(keyring.SecretServiceBackend):
		cfg.LibSecretCollectionName = opts.Collection
	case string(keyring.KeychainBackend):
		cfg.KeychainTrustApplication = true
		cfg.KeychainAccessibleWhenUnlocked = true
	case string(keyring.KWalletBackend):
		// ServiceName is the wallet here: use the user's default wallet and
		// a folder of our own in it.
		cfg.ServiceName = "kdewallet"
		cfg.KWalletAppID = opts.Namespace
		cfg.KWalletFolder = opts.Namespace
	case string(keyring.PassBackend):
		dir, err := passStoreDir(opts.PassDir)
		if err != nil {
			return nil, fail("%s", err)
		}
		if err := passInitialised(dir, opts.Namespace); err != nil {
			return nil, fail("%s", err)
		}
		s.passDir = dir
		cfg.PassDir = dir
		cfg.PassCmd = opts.PassCmd
		cfg.PassPrefix = opts.Namespace
	case string(keyring.KeyCtlBackend):
		cfg.KeyCtlScope = "user"
	case string(keyring.FileBackend):
		if opts.FileDir == "" {
			return nil, fail("no directory given for the file keyring")
		}
		if opts.FilePassphrase == "" {
			return nil, fail("the file keyring needs a passphrase")
		}
		dir, err := keyring.ExpandTilde(opts.FileDir)
		if err != nil {
			return nil, fail("%s", err)
		}
		s.fileDir = dir
		cfg.FileDir = dir
		cfg.FilePasswordFunc = keyring.FixedStringPrompt(opts.FilePassphrase)
	}
	ring, err := call(ctx, s.timeout, nil, func() (keyring.Keyring, error) { return keyring.Open(cfg) })
	if err != nil {
		return nil, fmt.Errorf("%s: %w: %s", k.name, backend.ErrUnavailable, s.openFailure(ctx, opts, err))
	}
	s.ring = ring
	if k.name == string(keyring.SecretServiceBackend) {
		if err := s.checkCollection(ctx); err != nil {
			return nil, err
		}
	}
	return s, nil
}

func isAvailable(name string) bool {
	return slices.Contains(keyring.AvailableBackends(), keyring.BackendType(name))
}

// headerRoom is what a record's header takes beside its value when it has
// no description (kind and two times): MaxValueSize leaves room for it.
const headerRoom = 128

// MaxValueSize is the largest value, in bytes, this keyring can hold under
// its own per-item limit, or 0 where it has none. The Catalog uses it to
// refuse larger values early and to split its index into chunks.
func (s *Store) MaxValueSize() int {
	if s.maxData == 0 {
		return 0
	}
	return s.maxData - headerRoom
}

// Backend returns the name of the keyring backend in use.
func (s *Store) Backend() string { return s.kind.name }

// key is the library key for a credential name.
func (s *Store) key(name string) string { return s.prefix + name }

// Get returns the record stored under name.
func (s *Store) Get(ctx context.Context, name string) (backend.Record, error) {
	if err := s.usable(name); err != nil {
		return backend.Record{}, fmt.Errorf("oskeyring: get: %w", err)
	}
	item, err := call(ctx, s.timeout, s.sem, func() (keyring.Item, error) { return s.ring.Get(s.key(name)) })
	if err != nil {
		return backend.Record{}, fmt.Errorf("oskeyring: get %q: %w", name, s.mapErr("get", name, err))
	}
	rec, err := backend.Unmarshal(item.Data)
	if err != nil {
		return backend.Record{}, fmt.Errorf("oskeyring: get %q: %w", name, err)
	}
	return rec, nil
}

// Set stores rec under name, replacing any record there. A record too large
// for the keyring is refused before anything is written.
func (s *Store) Set(ctx context.Context, name string, rec backend.Record) error {
	if err := s.usable(name); err != nil {
		return fmt.Errorf("oskeyring: set: %w", err)
	}
	if rec.Value.IsZero() {
		return fmt.Errorf("oskeyring: set %q: %w: value is required", name, backend.ErrInvalidValue)
	}
	data, err := backend.Marshal(rec)
	if err != nil {
		return fmt.Errorf("oskeyring: set %q: %w", name, err)
	}
	if s.maxData > 0 && len(data) > s.maxData {
		return fmt.Errorf("oskeyring: set %q: %w: %s holds at most %d bytes per item and this record encodes to %d",
			name, backend.ErrTooLarge, s.kind.title, s.maxData, len(data))
	}
	if s.kind.name == string(keyring.SecretServiceBackend) {
		// The library would create a missing collection, which needs a
		// GUI prompt; refuse instead.
		if err := s.checkCollection(ctx); err != nil {
			return fmt.Errorf("oskeyring: set %q: %w", name, err)
		}
	}
	item := keyring.Item{
		Key:         s.key(name),
		Data:        data,
		Label:       s.namespace + "/" + name,
		Description: "mcp-secrets credential",
	}
	if s.fileDir != "" {
		return s.setFile(ctx, name, item)
	}
	if _, err := call(ctx, s.timeout, s.sem, func() (struct{}, error) { return struct{}{}, s.ring.Set(item) }); err != nil {
		return fmt.Errorf("oskeyring: set %q: %w", name, s.mapSetErr(name, err))
	}
	return nil
}

// setFile works around the library's file backend, which rewrites an item
// in place (os.WriteFile), so a failed write (a full disk) truncates the
// old one: it writes the item under a temporary reserved key, then renames
// that file over the item's. The library names a file after its key
// escaped with percent.Encode(key, "/").
func (s *Store) setFile(ctx context.Context, name string, item keyring.Item) error {
	suffix := make([]byte, 6)
	_, _ = rand.Read(suffix)
	tmp := item
	tmp.Key = s.key(backend.ReservedPrefix + "tmp_" + hex.EncodeToString(suffix))
	tmpPath := filepath.Join(s.fileDir, percent.Encode(tmp.Key, "/"))
	if _, err := call(ctx, s.timeout, s.sem, func() (struct{}, error) { return struct{}{}, s.ring.Set(tmp) }); err != nil {
		_ = os.Remove(tmpPath)
		return fmt.Errorf("oskeyring: set %q: %w", name, s.mapSetErr(name, err))
	}
	if err := os.Rename(tmpPath, filepath.Join(s.fileDir, percent.Encode(item.Key, "/"))); err != nil {
		_ = os.Remove(tmpPath)
		return fmt.Errorf("oskeyring: set %q: %w: %s", name, backend.ErrUnavailable, errno(err))
	}
	return nil
}

// errno is the system error under err, without the paths around it.
func errno(err error) string {
	var e syscall.Errno
	if errors.As(err, &e) {
		return e.Error()
	}
	return "rename failed"
}

// Delete removes the record stored under name.
func (s *Store) Delete(ctx context.Context, name string) error {
	if err := s.usable(name); err != nil {
		return fmt.Errorf("oskeyring: delete: %w", err)
	}
	key := s.key(name)
	_, err := call(ctx, s.timeout, s.sem, func() (struct{}, error) {
		if s.kind.removeIgnoresMissing {
			// This backend's Remove succeeds on a missing key: look first.
			if _, err := s.ring.Get(key); err != nil && s.isNotFound(name, err) {
				return struct{}{}, err
			}
		}
		return struct{}{}, s.ring.Remove(key)
	})
	if err != nil {
		return fmt.Errorf("oskeyring: delete %q: %w", name, s.mapErr("delete", name, err))
	}
	return nil
}

// List returns the names stored in this Store's namespace, sorted. Items of
// other applications, and items whose key is not a valid name, are left out.
func (s *Store) List(ctx context.Context) ([]string, error) {
	if s.closed.Load() {
		return nil, fmt.Errorf("oskeyring: list: %w: the store is closed", backend.ErrUnavailable)
	}
	keys, err := call(ctx, s.timeout, s.sem, func() ([]string, error) {
		switch keyring.BackendType(s.kind.name) {
		case keyring.SecretServiceBackend:
			return s.secretServiceKeys()
		case keyring.KeyCtlBackend:
			return keyctlKeys(s.namespace)
		}
		return s.ring.Keys()
	})
	if err != nil {
		return nil, fmt.Errorf("oskeyring: list: %w", s.mapErr("list", "", err))
	}
	names := make([]string, 0, len(keys))
	for _, k := range keys {
		name, ok := strings.CutPrefix(k, s.prefix)
		if !ok || backend.CheckStoreName(name) != nil {
			continue
		}
		names = append(names, name)
	}
	slices.Sort(names)
	return slices.Compact(names), nil
}

// Close marks the Store closed. The keyring needs no closing.
func (s *Store) Close() error {
	s.closed.Store(true)
	return nil
}

func (s *Store) usable(name string) error {
	if err := backend.CheckStoreName(name); err != nil {
		return err
	}
	if s.closed.Load() {
		return fmt.Errorf("%w: the store is closed", backend.ErrUnavailable)
	}
	return nil
}
