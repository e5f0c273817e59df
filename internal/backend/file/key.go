package file

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/gofrs/flock"
	"golang.org/x/crypto/argon2"

	"github.com/mcp-secrets/mcp-secrets/internal/backend"
)

const (
	keyInfoName    = "keyinfo.json"
	lockName       = ".lock"
	keyInfoFormat  = "mcp-secrets file store"
	keyInfoVersion = 1
	cipherName     = "AES-256-GCM"
	modePassphrase = "passphrase"
	modeKeyFile    = "keyfile"
	kdfArgon2id    = "argon2id"
	keyLen         = 32
	saltLen        = 16
	maxKeyInfoSize = 64 << 10

	// verifierText is sealed into keyinfo.json so that Open can check a key.
	verifierText = "mcp-secrets file store key check"
	// lockWait bounds how long Open waits for another process that is
	// creating the same store.
	lockWait = 30 * time.Second
)

// The argon2id parameters for new stores: four passes over 9 MiB with one
// lane, one of OWASP's equivalent recommended settings (m=9216, t=4, p=1).
// Of those, it keeps the server's peak RSS lowest (46 MiB with t=1 took the
// process to 60 MiB) at a similar open time. Existing stores keep the
// parameters they were created with.
const (
	kdfTime      = 4
	kdfMemoryKiB = 9 * 1024
	kdfThreads   = 1
)

// keyInfo is the content of keyinfo.json.
type keyInfo struct {
	Format  string     `json:"format"`
	Version int        `json:"version"`
	Mode    string     `json:"mode"`
	Cipher  string     `json:"cipher"`
	KDF     *kdfParams `json:"kdf,omitempty"`
	// KeyFile is where the key file was when the store was created; it is
	// only a hint for error messages.
	KeyFile  string    `json:"key_file,omitempty"`
	Created  time.Time `json:"created"`
	Verifier []byte    `json:"verifier"`
}

type kdfParams struct {
	Name      string `json:"name"`
	Time      uint32 `json:"time"`
	MemoryKiB uint32 `json:"memory_kib"`
	Threads   uint8  `json:"threads"`
	Salt      []byte `json:"salt"`
}

// check refuses parameters that argon2 would panic on or that would make
// Open take unbounded time or memory (keyinfo.json may have been edited).
func (p *kdfParams) check() error {
	switch {
	case p == nil:
		return errors.New("no key derivation parameters")
	case p.Name != kdfArgon2id:
		return fmt.Errorf("unknown key derivation %q", p.Name)
	case p.Time < 1 || p.Time > 16:
		return fmt.Errorf("argon2id time %d is outside 1..16", p.Time)
	case p.Threads < 1:
		return errors.New("argon2id threads must be at least 1")
	case p.MemoryKiB < 8*uint32(p.Threads) || p.MemoryKiB > 1<<20:
		return fmt.Errorf("argon2id memory %d KiB is outside %d..%d", p.MemoryKiB, 8*uint32(p.Threads), 1<<20)
	case len(p.Salt) < saltLen || len(p.Salt) > 64:
		return fmt.Errorf("salt of %d bytes is outside %d..64", len(p.Salt), saltLen)
	}
	return nil
}

func (p *kdfParams) derive(passphrase string) []byte {
	return argon2.IDKey([]byte(passphrase), p.Salt, p.Time, p.MemoryKiB, p.Threads, keyLen)
}

func newAEAD(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

func verifierAAD(mode string) []byte {
	return []byte(keyInfoFormat + "/1 verifier " + mode)
}

func sealVerifier(aead cipher.AEAD, mode string) []byte {
	nonce := make([]byte, aead.NonceSize())
	_, _ = rand.Read(nonce)
	return aead.Seal(nonce, nonce, []byte(verifierText), verifierAAD(mode))
}

func verify(aead cipher.AEAD, ki *keyInfo) bool {
	n := aead.NonceSize()
	if len(ki.Verifier) < n+aead.Overhead() {
		return false
	}
	plain, err := aead.Open(nil, ki.Verifier[:n], ki.Verifier[n:], verifierAAD(ki.Mode))
	return err == nil && string(plain) == verifierText
}

// unlock returns the store's cipher and a description of where its key
// came from, creating keyinfo.json (and a key file) for a new store.
func unlock(dir string, opts Options) (cipher.AEAD, string, error) {
	ki, err := readKeyInfo(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return create(dir, opts)
	}
	if err != nil {
		return nil, "", err
	}
	return openWith(dir, ki, opts)
}

func readKeyInfo(dir string) (*keyInfo, error) {
	path := filepath.Join(dir, keyInfoName)
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
		return nil, fmt.Errorf("file: read %s: %w: %w", path, backend.ErrUnavailable, err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxKeyInfoSize+1))
	if err != nil {
		return nil, fmt.Errorf("file: read %s: %w: %w", path, backend.ErrUnavailable, err)
	}
	damaged := func(why string) error {
		return fmt.Errorf("file: %s is damaged (%s); restore it from a backup: %w", path, why, backend.ErrUnavailable)
	}
	if len(data) > maxKeyInfoSize {
		return nil, damaged("too large")
	}
	var ki keyInfo
	if err := json.Unmarshal(data, &ki); err != nil {
		return nil, damaged("not valid JSON")
	}
	if ki.Format != keyInfoFormat {
		return nil, damaged("not a key info file of this program")
	}
	if ki.Version != keyInfoVersion {
		return nil, fmt.Errorf("file: %s has format version %d; this program reads version %d, so a newer one wrote it: %w",
			path, ki.Version, keyInfoVersion, backend.ErrUnavailable)
	}
	if ki.Cipher != cipherName {
		return nil, damaged(fmt.Sprintf("unknown cipher %q", ki.Cipher))
	}
	return &ki, nil
}

// openWith checks opts against an existing store's keyinfo and returns its cipher.
func openWith(dir string, ki *keyInfo, opts Options) (cipher.AEAD, string, error) {
	switch ki.Mode {
	case modePassphrase:
		if opts.Passphrase == "" {
			return nil, "", fmt.Errorf("file: the file store in %s is protected by a passphrase; set %s to open it: %w",
				dir, PassphraseEnv, backend.ErrUnavailable)
		}
		if err := ki.KDF.check(); err != nil {
			return nil, "", fmt.Errorf("file: %s is damaged (%v); restore it from a backup: %w",
				filepath.Join(dir, keyInfoName), err, backend.ErrUnavailable)
		}
		key := ki.KDF.derive(opts.Passphrase)
		aead, err := newAEAD(key)
		clear(key)
		if err != nil {
			return nil, "", fmt.Errorf("file: %w: %w", backend.ErrUnavailable, err)
		}
		if !verify(aead, ki) {
			return nil, "", fmt.Errorf("file: wrong passphrase for the file store in %s (check %s): %w",
				dir, PassphraseEnv, backend.ErrUnavailable)
		}
		return aead, "passphrase", nil
	case modeKeyFile:
		if opts.Passphrase != "" {
			return nil, "", fmt.Errorf("file: the file store in %s is encrypted with a key file (%s), not a passphrase; unset %s to open it: %w",
				dir, keyFileHint(ki, opts), PassphraseEnv, backend.ErrUnavailable)
		}
		if opts.KeyFile == "" {
			return nil, "", fmt.Errorf("file: the file store in %s is encrypted with a key file (%s), and none was given: %w",
				dir, keyFileHint(ki, opts), backend.ErrUnavailable)
		}
		key, err := readKeyFile(opts.KeyFile)
		if errors.Is(err, fs.ErrNotExist) {
			return nil, "", fmt.Errorf("file: key file %s is missing, and the file store in %s was encrypted with it%s; restore it from a backup, or move %s aside to start an empty store: %w",
				opts.KeyFile, dir, createdAt(ki, opts), dir, backend.ErrUnavailable)
		}
		if err != nil {
			return nil, "", err
		}
		aead, err := newAEAD(key)
		clear(key)
		if err != nil {
			return nil, "", fmt.Errorf("file: %w: %w", backend.ErrUnavailable, err)
		}
		if !verify(aead, ki) {
			return nil, "", fmt.Errorf("file: key file %s holds a different key from the one that encrypted the file store in %s%s; restore the original key file, or move %s aside to start an empty store: %w",
				opts.KeyFile, dir, createdAt(ki, opts), dir, backend.ErrUnavailable)
		}
		return aead, keySourceFile(opts.KeyFile), nil
	default:
		return nil, "", fmt.Errorf("file: %s is damaged (unknown key mode %q); restore it from a backup: %w",
			filepath.Join(dir, keyInfoName), ki.Mode, backend.ErrUnavailable)
	}
}

func keyFileHint(ki *keyInfo, opts Options) string {
	if opts.KeyFile != "" {
		return opts.KeyFile
	}
	if ki.KeyFile != "" {
		return ki.KeyFile
	}
	return "location unknown"
}

// createdAt mentions where the key file was when the store was created, if
// that differs from where it is looked for now.
func createdAt(ki *keyInfo, opts Options) string {
	if ki.KeyFile == "" || sameFile(ki.KeyFile, opts.KeyFile) {
		return ""
	}
	return " (it was at " + ki.KeyFile + " then)"
}

func sameFile(a, b string) bool {
	absA, errA := filepath.Abs(a)
	absB, errB := filepath.Abs(b)
	return errA == nil && errB == nil && absA == absB
}

func keySourceFile(path string) string { return "key file " + path }

// create makes keyinfo.json for a new store, under a lock so that of two
// processes opening an empty directory at once, one creates it and the
// other reads it. The lock is not held while a key for an existing store
// is derived, so processes that lost the race do not queue behind argon2.
func create(dir string, opts Options) (cipher.AEAD, string, error) {
	lockPath := filepath.Join(dir, lockName)
	lock := flock.New(lockPath)
	ctx, cancel := context.WithTimeout(context.Background(), lockWait)
	defer cancel()
	locked, err := lock.TryLockContext(ctx, 10*time.Millisecond)
	if !locked {
		if err == nil {
			err = ctx.Err()
		}
		if err == nil {
			err = errors.New("lock not taken")
		}
		return nil, "", fmt.Errorf("file: lock %s: another process may be creating the file store; try again: %w: %w",
			lockPath, backend.ErrUnavailable, err)
	}
	aead, source, existing, err := createLocked(dir, opts)
	_ = lock.Unlock()
	if existing != nil {
		return openWith(dir, existing, opts)
	}
	return aead, source, err
}

// createLocked does create's work under the lock. If keyinfo.json turns out
// to exist, it returns it for the caller to open once the lock is released.
func createLocked(dir string, opts Options) (aead cipher.AEAD, source string, existing *keyInfo, err error) {
	ki, err := readKeyInfo(dir)
	if err == nil {
		return nil, "", ki, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, "", nil, err
	}
	if n, err := countRecords(dir); err != nil {
		return nil, "", nil, fmt.Errorf("file: %w: %w", backend.ErrUnavailable, err)
	} else if n > 0 {
		return nil, "", nil, fmt.Errorf("file: %s holds %d record file(s) but no %s, without which they cannot be decrypted; restore it from a backup, or move %s aside to start an empty store: %w",
			dir, n, keyInfoName, dir, backend.ErrUnavailable)
	}

	ki = &keyInfo{
		Format:  keyInfoFormat,
		Version: keyInfoVersion,
		Cipher:  cipherName,
		Created: time.Now().UTC().Truncate(time.Second),
	}
	var key []byte
	if opts.Passphrase != "" {
		p := &kdfParams{Name: kdfArgon2id, Time: kdfTime, MemoryKiB: kdfMemoryKiB, Threads: kdfThreads, Salt: make([]byte, saltLen)}
		_, _ = rand.Read(p.Salt)
		ki.Mode, ki.KDF = modePassphrase, p
		key, source = p.derive(opts.Passphrase), "passphrase"
	} else {
		key, err = loadOrCreateKeyFile(opts.KeyFile)
		if err != nil {
			return nil, "", nil, err
		}
		ki.Mode, ki.KeyFile = modeKeyFile, opts.KeyFile
		if abs, err := filepath.Abs(opts.KeyFile); err == nil {
			ki.KeyFile = abs
		}
		source = keySourceFile(opts.KeyFile)
	}
	aead, err = newAEAD(key)
	clear(key)
	if err != nil {
		return nil, "", nil, fmt.Errorf("file: %w: %w", backend.ErrUnavailable, err)
	}
	ki.Verifier = sealVerifier(aead, ki.Mode)
	data, err := json.MarshalIndent(ki, "", "  ")
	if err != nil {
		return nil, "", nil, fmt.Errorf("file: encode %s: %w: %w", keyInfoName, backend.ErrUnavailable, err)
	}
	path := filepath.Join(dir, keyInfoName)
	created, err := createExclusive(path, append(data, '\n'))
	if err != nil {
		return nil, "", nil, fmt.Errorf("file: create %s: %w: %w", path, backend.ErrUnavailable, classify(err))
	}
	if !created {
		// A process that does not take the lock got there first: use its key info.
		other, err := readKeyInfo(dir)
		if err != nil {
			return nil, "", nil, err
		}
		return nil, "", other, nil
	}
	return aead, source, nil, nil
}

// countRecords counts the record files in dir.
func countRecords(dir string) (int, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, e := range entries {
		if _, ok := credName(e.Name()); ok && e.Type().IsRegular() {
			n++
		}
	}
	return n, nil
}

// readKeyFile reads a 32-byte key from path. It refuses a file that others
// may read. A missing file gives an error wrapping fs.ErrNotExist.
func readKeyFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
		return nil, fmt.Errorf("file: cannot read key file %s: %w: %w", path, backend.ErrUnavailable, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("file: cannot read key file %s: %w: %w", path, backend.ErrUnavailable, err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("file: key file %s is not a regular file: %w", path, backend.ErrUnavailable)
	}
	if openBits(fi.Mode()) != 0 {
		return nil, fmt.Errorf("file: key file %s is accessible by other users (mode %04o), so it is not used; run \"chmod 600 %s\" if nobody else has read it, or else move the store aside and start over: %w",
			path, fi.Mode().Perm(), path, backend.ErrUnavailable)
	}
	key, err := io.ReadAll(io.LimitReader(f, keyLen+1))
	if err != nil {
		return nil, fmt.Errorf("file: cannot read key file %s: %w: %w", path, backend.ErrUnavailable, err)
	}
	if len(key) != keyLen {
		clear(key)
		return nil, fmt.Errorf("file: key file %s does not hold a %d-byte key (it was cut short or edited); restore it from a backup: %w",
			path, keyLen, backend.ErrUnavailable)
	}
	return key, nil
}

// loadOrCreateKeyFile returns the key in path, generating one first if the
// file does not exist. Of two processes generating at once, one key wins
// and both use it.
func loadOrCreateKeyFile(path string) ([]byte, error) {
	key, err := readKeyFile(path)
	if !errors.Is(err, fs.ErrNotExist) {
		return key, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("file: create the key file's directory: %w: %w", backend.ErrUnavailable, err)
	}
	key = make([]byte, keyLen)
	_, _ = rand.Read(key)
	created, err := createExclusive(path, key)
	if err != nil {
		clear(key)
		return nil, fmt.Errorf("file: create key file %s: %w: %w", path, backend.ErrUnavailable, classify(err))
	}
	if !created {
		clear(key)
		return readKeyFile(path)
	}
	return key, nil
}
