package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/mcp-secrets/mcp-secrets/internal/backend"
	"github.com/mcp-secrets/mcp-secrets/internal/backend/env"
	"github.com/mcp-secrets/mcp-secrets/internal/backend/file"
	"github.com/mcp-secrets/mcp-secrets/internal/backend/memory"
	"github.com/mcp-secrets/mcp-secrets/internal/backend/onepassword"
	"github.com/mcp-secrets/mcp-secrets/internal/backend/oskeyring"
	"github.com/mcp-secrets/mcp-secrets/internal/backend/vault"
)

// backendNames returns the valid --backend values.
func backendNames() []string {
	return []string{"auto", "keyring", "file", "memory", "env", "1password", "vault"}
}

func keyringNames() []string { return oskeyring.Names() }

// probeTimeout bounds the keyring probe of --backend auto: a locked
// keyring that prompts must not hold up the start.
const probeTimeout = 3 * time.Second

// opened is a store and what to say about it.
type opened struct {
	store    backend.Store
	name     string // the backend actually used
	detail   string // where, or why it was chosen
	lockPath string // cross-process lock for the index; "" for in-process stores
}

func openStore(ctx context.Context, cfg config, ns string, getenv func(string) string, log *slog.Logger) (opened, error) {
	switch cfg.backend {
	case "memory":
		return opened{store: memory.New(0), name: "memory", detail: "in memory; nothing survives the process"}, nil
	case "file":
		return openFile(cfg, ns, getenv, "chosen with --backend file")
	case "keyring":
		return openKeyring(ctx, cfg, ns, getenv)
	case "env":
		return openEnv(cfg)
	case "1password":
		return openOnePassword(ctx, cfg, ns, getenv)
	case "vault":
		return openVault(ctx, cfg, ns, getenv)
	case "auto":
		used, err := autoKeyring(ctx, cfg, ns, getenv)
		if err == nil {
			cfg.keyringBackend = used
			o, err := openKeyring(ctx, cfg, ns, getenv)
			if err == nil {
				o.detail = "auto: the OS keyring (" + used + ") answered a write/read/delete probe"
			}
			return o, err
		}
		log.Info("no usable OS keyring; using the encrypted file store", "reason", err)
		return openFile(cfg, ns, getenv, "auto: no usable OS keyring")
	}
	return opened{}, fmt.Errorf("unknown --backend %q; valid: %s", cfg.backend, strings.Join(backendNames(), ", "))
}

// autoKeyring is the question auto asks: which OS keyring, if any, passes
// a write/read/delete probe within probeTimeout? With --keyring-backend
// only that one is tried.
func autoKeyring(ctx context.Context, cfg config, ns string, getenv func(string) string) (string, error) {
	pctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	return oskeyring.Probe(pctx, keyringOptions(cfg, ns, getenv))
}

func keyringOptions(cfg config, ns string, getenv func(string) string) oskeyring.Options {
	opts := oskeyring.Options{
		Backend:        cfg.keyringBackend,
		Namespace:      ns,
		FilePassphrase: getenv("MCP_SECRETS_FILE_PASSPHRASE"),
	}
	if dir, err := dataDir(cfg, getenv); err == nil {
		opts.FileDir = filepath.Join(dir, "keyring", ns)
	}
	return opts
}

func openKeyring(ctx context.Context, cfg config, ns string, getenv func(string) string) (opened, error) {
	if cfg.keyringBackend != "" && !slices.Contains(oskeyring.Names(), cfg.keyringBackend) {
		return opened{}, fmt.Errorf("unknown --keyring-backend %q; valid: %s", cfg.keyringBackend, strings.Join(oskeyring.Names(), ", "))
	}
	s, err := oskeyring.Open(ctx, keyringOptions(cfg, ns, getenv))
	if err != nil {
		return opened{}, fmt.Errorf("OS keyring: %w", err)
	}
	return withLock(opened{store: s, name: "keyring/" + s.Backend(), detail: "service " + ns}, getenv, ns)
}

// filePaths are where the encrypted file store of namespace ns keeps its
// records, and its generated key when there is no passphrase.
func filePaths(cfg config, ns string, getenv func(string) string) (dir, keyFile string, err error) {
	base, err := dataDir(cfg, getenv)
	if err != nil {
		return "", "", err
	}
	cfgDir, err := userConfigDir(getenv)
	if err != nil {
		return "", "", err
	}
	return filepath.Join(base, ns), filepath.Join(cfgDir, "mcp-secrets", ns+".key"), nil
}

func openFile(cfg config, ns string, getenv func(string) string, why string) (opened, error) {
	dir, keyFile, err := filePaths(cfg, ns, getenv)
	if err != nil {
		return opened{}, err
	}
	s, err := file.Open(file.Options{
		Dir:        dir,
		Passphrase: getenv(file.PassphraseEnv),
		KeyFile:    keyFile,
	})
	if err != nil {
		return opened{}, fmt.Errorf("file store: %w", err)
	}
	detail := fmt.Sprintf("%s; %s, key from %s", why, s.Dir(), s.KeySource())
	return opened{store: s, name: "file", detail: detail, lockPath: filepath.Join(s.Dir(), ".lock")}, nil
}

func openEnv(cfg config) (opened, error) {
	if cfg.envPrefix == "" {
		return opened{}, errors.New("--backend env needs --env-prefix PREFIX (for example --env-prefix MYAPP for MYAPP_* variables)")
	}
	s, err := env.New(env.Options{Prefix: cfg.envPrefix, AutoSave: cfg.envAutoSave, File: cfg.envFile})
	if err != nil {
		return opened{}, err
	}
	detail := "variables " + cfg.envPrefix + "_*"
	if cfg.envFile != "" {
		detail += " and " + cfg.envFile
	}
	if cfg.envAutoSave {
		detail += "; writes allowed (--env-auto-save)"
	} else {
		detail += "; read-only (start with --env-auto-save to allow writes)"
	}
	return opened{store: s, name: "env", detail: detail}, nil
}

func openOnePassword(ctx context.Context, cfg config, ns string, getenv func(string) string) (opened, error) {
	s, err := onepassword.New(ctx, onepassword.Options{
		Bin: cfg.opBin, Vault: cfg.opVault, Account: cfg.opAccount, Namespace: ns,
	})
	if err != nil {
		return opened{}, err
	}
	return withLock(opened{store: s, name: "1password", detail: "vault " + cfg.opVault + ", items tagged mcp:" + ns}, getenv, ns)
}

func openVault(ctx context.Context, cfg config, ns string, getenv func(string) string) (opened, error) {
	prefix := cfg.vaultPrefix
	if prefix == "" {
		prefix = "mcp/" + cfg.serverName
	}
	s, err := vault.New(ctx, vault.Options{Mount: cfg.vaultMount, PathPrefix: prefix, Namespace: ns, Env: getenv})
	if err != nil {
		return opened{}, err
	}
	return withLock(opened{store: s, name: "vault", detail: "KV v2 " + cfg.vaultMount + "/" + prefix}, getenv, ns)
}

// dataDir is --file-dir, or the user data dir: $XDG_DATA_HOME/mcp-secrets
// or ~/.local/share/mcp-secrets on Unix, the user config dir (AppData,
// Application Support) elsewhere.
func dataDir(cfg config, getenv func(string) string) (string, error) {
	if cfg.fileDir != "" {
		return cfg.fileDir, nil
	}
	if runtime.GOOS == "windows" || runtime.GOOS == "darwin" {
		d, err := os.UserConfigDir()
		if err != nil {
			return "", fmt.Errorf("no user data dir for the file store (%w); pass --file-dir", err)
		}
		return filepath.Join(d, "mcp-secrets"), nil
	}
	if d := getenv("XDG_DATA_HOME"); d != "" {
		return filepath.Join(d, "mcp-secrets"), nil
	}
	if h := getenv("HOME"); h != "" {
		return filepath.Join(h, ".local", "share", "mcp-secrets"), nil
	}
	return "", errors.New("no user data dir for the file store: HOME is not set; pass --file-dir")
}

func userConfigDir(getenv func(string) string) (string, error) {
	if d := getenv("XDG_CONFIG_HOME"); d != "" {
		return d, nil
	}
	if h := getenv("HOME"); h != "" {
		return filepath.Join(h, ".config"), nil
	}
	d, err := os.UserConfigDir()
	if err != nil {
		return "", errors.New("cannot find a config directory for the file store's key: set HOME or XDG_CONFIG_HOME, or MCP_SECRETS_FILE_PASSPHRASE")
	}
	return d, nil
}

// withLock gives o the namespace lock of a store that lives outside this
// process's files (a keyring, 1Password, Vault), closing the store if the
// lock file cannot be made.
func withLock(o opened, getenv func(string) string, ns string) (opened, error) {
	lock, err := lockFile(getenv, ns)
	if err != nil {
		_ = o.store.Close()
		return opened{}, err
	}
	o.lockPath = lock
	return o, nil
}

// lockFile is where processes sharing a keyring namespace serialize their
// index updates: the user's runtime or cache dir.
func lockFile(getenv func(string) string, ns string) (string, error) {
	dir := getenv("XDG_RUNTIME_DIR")
	if dir == "" {
		d, err := os.UserCacheDir()
		if err != nil {
			return "", fmt.Errorf("no directory for the namespace lock: %w", err)
		}
		dir = d
	}
	dir = filepath.Join(dir, "mcp-secrets")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("namespace lock: %w", err)
	}
	return filepath.Join(dir, ns+".lock"), nil
}
