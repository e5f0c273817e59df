package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/mcp-secrets/mcp-secrets/internal/backend"
	"github.com/mcp-secrets/mcp-secrets/internal/backend/file"
	"github.com/mcp-secrets/mcp-secrets/internal/backend/oskeyring"
)

const doctorHelp = `Says which storage backends work on this machine and which one --backend auto
(the default) picks, and why: each OS keyring is probed by writing, reading
back and deleting a test item (at most 3 s each); the encrypted file store's
directory and key are checked; the backends that need flags say which.

It never prints a value, and it exits 0 even when some backends are unusable:
that is what it is there to find out. Give the same flags as the server
(--server-name, --file-dir, --env-prefix, ...) to check what it would use.
`

type doctorCmd struct{}

func (*doctorCmd) define(*pflag.FlagSet) {}

// doctorOpTimeout bounds each run of op: it may wait at an unlock prompt.
const doctorOpTimeout = 10 * time.Second

func (*doctorCmd) run(ctx context.Context, c *cli) error {
	if len(c.args) > 0 {
		return usageErrorf("takes no arguments, got %q", c.args[0])
	}
	if !slices.Contains(backendNames(), c.cfg.backend) {
		return fmt.Errorf("unknown --backend %q; valid: %s", c.cfg.backend, strings.Join(backendNames(), ", "))
	}
	d := &doctor{cli: c, ns: c.namespace(), w: c.stdout}
	d.printf("mcp-secrets %s on %s/%s\n", version(), runtime.GOOS, runtime.GOARCH)
	d.printf("Namespace: %s (--server-name %s)\n\n", d.ns, c.cfg.serverName)

	d.auto(ctx)
	for _, name := range backendNames() {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		switch name {
		case "auto":
		case "keyring":
			d.keyrings(ctx)
		case "file":
			d.fileStore(ctx)
		case "env":
			d.env(ctx)
		case "1password":
			d.onePassword(ctx)
		case "vault":
			d.vault(ctx)
		case "memory":
			d.printf("Memory (--backend memory): always usable; nothing survives the process.\n\n")
		default:
			d.printf("--backend %s: not checked by doctor.\n\n", name)
		}
	}
	if d.err != nil {
		return fmt.Errorf("write the report: %w", d.err)
	}
	return ctx.Err()
}

// doctor writes one report.
type doctor struct {
	*cli
	ns  string
	w   io.Writer
	err error // the first write error
}

func (d *doctor) printf(format string, args ...any) {
	if d.err == nil {
		_, d.err = fmt.Fprintf(d.w, format, args...)
	}
}

// auto says what --backend auto picks with these flags, and why.
func (d *doctor) auto(ctx context.Context) {
	used, err := autoKeyring(ctx, d.cfg, d.ns, d.getenv)
	if err == nil {
		d.printf("--backend auto (the default) picks the OS keyring %s.\n", used)
		d.printf("  Why: it passed a write/read/delete probe")
		if d.cfg.keyringBackend == "" {
			d.printf(", the first of the platform's persistent keyrings to do so")
		}
		d.printf(".\n")
	} else {
		d.printf("--backend auto (the default) picks the encrypted file store.\n")
		d.printf("  Why: %s.\n", reason(err, ""))
	}
	if d.cfg.backend != "auto" {
		d.printf("These flags choose --backend %s instead.\n", d.cfg.backend)
	}
	d.printf("\n")
}

// keyrings probes every OS keyring, as --keyring-backend NAME would open it.
func (d *doctor) keyrings(ctx context.Context) {
	d.printf("OS keyrings (--backend keyring --keyring-backend NAME), each probed for at most %s:\n", probeTimeout)
	for _, name := range oskeyring.Names() {
		if ctx.Err() != nil {
			return
		}
		if name == "file" {
			d.printf("  %-15s not probed: the keyring library's own file store, used only when asked for\n"+
				"  %-15s with --keyring-backend file (and %s); --backend file is this program's own\n",
				name, "", file.PassphraseEnv)
			continue
		}
		opts := keyringOptions(d.cfg, d.ns, d.getenv)
		opts.Backend = name
		opts.Timeout = probeTimeout
		pctx, cancel := context.WithTimeout(ctx, probeTimeout)
		start := time.Now()
		_, err := oskeyring.Probe(pctx, opts)
		took := time.Since(start)
		if took >= time.Millisecond {
			took = took.Round(time.Millisecond)
		} else {
			took = took.Round(time.Microsecond)
		}
		cancel()
		if err != nil {
			d.printf("  %-15s not usable: %s\n", name, reason(err, name))
			continue
		}
		note := ""
		if name == "keyctl" {
			note = "; auto never picks it, as the kernel forgets its keys at reboot"
		}
		d.printf("  %-15s usable: a test item was written, read back and deleted in %s%s\n", name, took, note)
	}
	d.printf("\n")
}

// reason is a probe error without the prefixes that repeat what the report
// already says.
func reason(err error, name string) string {
	s := err.Error()
	s = strings.TrimPrefix(s, "oskeyring: probe: ")
	if name != "" {
		s = strings.TrimPrefix(s, name+": ")
	}
	s = strings.TrimPrefix(s, backend.ErrUnavailable.Error()+": ")
	return strings.ReplaceAll(s, ": "+backend.ErrUnavailable.Error()+": ", ": ")
}

// fileStore reports the encrypted file store: where it is, where its key
// comes from, and whether it opens. It opens only a store that exists, so
// the report creates nothing.
func (d *doctor) fileStore(ctx context.Context) {
	d.printf("Encrypted file store (--backend file):\n")
	dir, keyFile, err := filePaths(d.cfg, d.ns, d.getenv)
	if err != nil {
		d.printf("  not usable: %v\n\n", err)
		return
	}
	_, statErr := os.Stat(dir)
	exists := statErr == nil
	switch {
	case exists:
		d.printf("  directory   %s\n", dir)
	case errors.Is(statErr, fs.ErrNotExist):
		d.printf("  directory   %s (not created yet: the first write creates it)\n", dir)
	default:
		d.printf("  directory   %s (%v)\n", dir, statErr)
	}
	keyState := keyFileState(keyFile)
	if d.getenv(file.PassphraseEnv) != "" {
		d.printf("  key         derived from the passphrase in %s, which is set\n", file.PassphraseEnv)
		if !strings.HasPrefix(keyState, "does not exist") {
			d.printf("              (key file %s %s; it is not used while the passphrase is set)\n", keyFile, keyState)
		}
	} else {
		d.printf("  key         %s is not set, so the key is in a key file:\n", file.PassphraseEnv)
		d.printf("              %s (%s)\n", keyFile, keyState)
	}
	if !exists {
		d.printf("  status      usable: nothing stored yet\n\n")
		return
	}
	o, err := openFile(d.cfg, d.ns, d.getenv, "doctor")
	if err != nil {
		d.printf("  status      cannot open: %s\n\n", strings.TrimPrefix(err.Error(), "file store: file: "))
		return
	}
	cat := backend.NewCatalog(o.store, backend.CatalogOptions{Logger: d.log})
	defer cat.Close()
	metas, err := cat.List(ctx)
	if err != nil {
		d.printf("  status      opens, but cannot list: %v\n\n", err)
		return
	}
	d.printf("  status      usable: opens with this key; %s stored\n\n", plural(len(metas), "credential"))
}

// keyFileState describes the key file: whether it exists, and its mode.
func keyFileState(path string) string {
	fi, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return "does not exist yet: the first write generates it"
	case err != nil:
		return err.Error()
	case !fi.Mode().IsRegular():
		return "not a regular file: the store refuses it"
	case runtime.GOOS != "windows" && fi.Mode().Perm()&0o077 != 0:
		return fmt.Sprintf("exists, mode %04o: others may read it, so the store refuses it; chmod 600 it", fi.Mode().Perm())
	}
	return fmt.Sprintf("exists, mode %04o", fi.Mode().Perm())
}

// env reports the environment-variable backend, which needs --env-prefix.
func (d *doctor) env(ctx context.Context) {
	d.printf("Environment variables (--backend env):\n")
	if d.cfg.envPrefix == "" {
		d.printf("  needs --env-prefix PREFIX (for PREFIX_* variables)\n\n")
		return
	}
	o, err := openEnv(d.cfg)
	if err != nil {
		d.printf("  not usable: %v\n\n", err)
		return
	}
	cat := backend.NewCatalog(o.store, backend.CatalogOptions{Logger: d.log})
	defer cat.Close()
	metas, err := cat.List(ctx)
	if err != nil {
		d.printf("  not usable: %v\n\n", err)
		return
	}
	d.printf("  usable: %s, %s\n\n", plural(len(metas), "credential"), o.detail)
}

// onePassword reports the 1Password backend: whether op is there, and,
// given --op-vault, whether the vault opens.
func (d *doctor) onePassword(ctx context.Context) {
	d.printf("1Password (--backend 1password):\n")
	path, err := exec.LookPath(d.cfg.opBin)
	if err != nil {
		where := "on PATH"
		if strings.ContainsRune(d.cfg.opBin, os.PathSeparator) {
			where = "at " + d.cfg.opBin
		}
		d.printf("  op          %s not found %s: install the 1Password CLI, or give --op-bin PATH\n", d.cfg.opBin, where)
	} else {
		d.printf("  op          %s\n", path)
	}
	if d.cfg.opVault == "" {
		d.printf("  needs --op-vault VAULT\n\n")
		return
	}
	if err != nil {
		d.printf("\n")
		return
	}
	octx, cancel := context.WithTimeout(ctx, doctorOpTimeout)
	defer cancel()
	o, err := openOnePassword(octx, d.cfg, d.ns, d.getenv)
	if err != nil {
		d.printf("  not usable: %v\n\n", err)
		return
	}
	cat := backend.NewCatalog(o.store, backend.CatalogOptions{Logger: d.log})
	defer cat.Close()
	d.printf("  usable: %s\n\n", o.detail)
}

func (d *doctor) vault(ctx context.Context) {
	d.printf("Vault or OpenBao (--backend vault):\n")
	if d.getenv("VAULT_ADDR") == "" && d.getenv("VAULT_AGENT_ADDR") == "" {
		d.printf("  needs VAULT_ADDR (and VAULT_TOKEN, or VAULT_ROLE_ID and VAULT_SECRET_ID)\n\n")
		return
	}
	vctx, cancel := context.WithTimeout(ctx, doctorOpTimeout)
	defer cancel()
	o, err := openVault(vctx, d.cfg, d.ns, d.getenv)
	if err != nil {
		d.printf("  not usable: %v\n\n", err)
		return
	}
	_ = o.store.Close()
	d.printf("  usable: %s\n\n", o.detail)
}
