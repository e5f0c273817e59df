package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"runtime/debug"
	"strings"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/spf13/pflag"

	"github.com/mcp-secrets/mcp-secrets/internal/backend"
	"github.com/mcp-secrets/mcp-secrets/internal/elicit"
	"github.com/mcp-secrets/mcp-secrets/internal/server"
)

// Exit codes.
const (
	exitOK    = 0
	exitError = 1
	exitUsage = 2
)

// config is everything the flags say.
type config struct {
	backend        string
	serverName     string
	keyringBackend string
	fileDir        string
	envPrefix      string
	envAutoSave    bool
	envFile        string
	opVault        string
	opAccount      string
	opBin          string
	vaultMount     string
	vaultPrefix    string
	httpAddr       string // --http: serve Streamable HTTP on this loopback address instead of stdio
	readOnly       bool
	reveal         server.Reveal
	logLevel       slog.Level
}

// usageHead opens the top-level --help, before the flags.
func usageHead() string {
	return `mcp-secrets: an MCP server that keeps credentials out of the model's context.

Usage:
  mcp-secrets [serve] [flags]    serve MCP over stdin/stdout (what an MCP client starts)
  mcp-secrets COMMAND [flags]    manage the same store from a terminal

Commands:
` + commandList() + `
Run 'mcp-secrets COMMAND --help' for a command's usage and flags; every command
takes the store flags below (--backend, --server-name, --file-dir, ...).

Tools: list_stored_credentials, store_credential, retrieve_credential, clear_credentials.
Reveals and deletions are confirmed by the user through MCP elicitation.

Environment:
  SECRETS_MANAGER_CLEAR=1|true|yes|on   delete every credential of this namespace at startup
  MCP_SECRETS_FILE_PASSPHRASE           passphrase of the encrypted file store (without it a
                                        generated key file in the user config dir is used)

Flags:
`
}

func version() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "dev"
}

// flagGroups says which shared flags a command takes besides its own.
type flagGroups int

const (
	// storeFlags say where the credentials are: --backend and its options.
	// Every command takes them, so that each opens the store the server does.
	storeFlags flagGroups = 1 << iota
	// serveFlags say how the server behaves: --read-only, --reveal.
	serveFlags
	// mainFlags are those of the default command alone: --version, and
	// logging at info rather than warn.
	mainFlags
)

// flags is a command's flag set, filling in a config.
type flags struct {
	*pflag.FlagSet
	cfg      *config
	reveal   *string
	logLevel *string
	version  *bool
	help     *bool
}

// newFlags builds the flag set of one command: the groups of shared flags
// it takes, --log-level and --help. Every command, serving included, gets
// its flags from here, so the store flags read the same everywhere. The
// command adds its own flags to the returned set before parsing.
func newFlags(name string, groups flagGroups, cfg *config, stderr io.Writer) *flags {
	fs := pflag.NewFlagSet(name, pflag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.SortFlags = false
	// pflag would print its own usage on a parse error; run says where to
	// find it instead.
	fs.Usage = func() {}
	f := &flags{FlagSet: fs, cfg: cfg}
	if groups&storeFlags != 0 {
		fs.StringVar(&cfg.backend, "backend", "auto", "storage: "+strings.Join(backendNames(), "|")+
			"\n(auto: the OS keyring when one is usable, else the encrypted file store)")
		fs.StringVar(&cfg.serverName, "server-name", "mcp-secrets", "namespace; credentials live under com.mcp.NAME")
		fs.StringVar(&cfg.keyringBackend, "keyring-backend", "", "force one OS keyring: "+strings.Join(keyringNames(), ", ")+" (default: the platform's order)")
		fs.StringVar(&cfg.fileDir, "file-dir", "", "directory of the encrypted file store (default: the user data dir, e.g. ~/.local/share/mcp-secrets)")
		fs.StringVar(&cfg.envPrefix, "env-prefix", "", "env backend: variable prefix, e.g. MYAPP for MYAPP_* (required with --backend env)")
		fs.BoolVar(&cfg.envAutoSave, "env-auto-save", false, "env backend: allow writes (to the process environment, and to --env-file if given)")
		fs.StringVar(&cfg.envFile, "env-file", "", "env backend: dotenv file read at start and, with --env-auto-save, written")
		fs.StringVar(&cfg.opVault, "op-vault", "", "1password backend: vault to keep credentials in")
		fs.StringVar(&cfg.opAccount, "op-account", "", "1password backend: account (op --account)")
		fs.StringVar(&cfg.opBin, "op-bin", "op", "1password backend: path of the op CLI")
		fs.StringVar(&cfg.vaultMount, "vault-mount", "secret", "vault backend: KV version 2 mount (plus the standard VAULT_* environment)")
		fs.StringVar(&cfg.vaultPrefix, "vault-path-prefix", "", "vault backend: path prefix under the mount (default mcp/<server-name>)")
	}
	cfg.reveal = server.RevealConfirm
	if groups&serveFlags != 0 {
		fs.BoolVar(&cfg.readOnly, "read-only", false, "expose no tool that stores or deletes")
		f.reveal = fs.String("reveal", "confirm", "may retrieve_credential return a value? never|confirm|always\n(confirm: the user accepts each reveal)")
	}
	// The server reports what it chose at info; a command at a terminal
	// speaks for itself and logs only warnings.
	level := "warn"
	if groups&mainFlags != 0 {
		level = "info"
	}
	f.logLevel = fs.String("log-level", level, "stderr log level: debug|info|warn|error (values are never logged)")
	if groups&mainFlags != 0 {
		f.version = fs.Bool("version", false, "print the version and exit")
		fs.StringVar(&cfg.httpAddr, "http", "", "testing only: serve MCP over Streamable HTTP at http://ADDR/mcp on a loopback ADDR")
		// Hidden: any local process could connect and answer confirmations.
		_ = fs.MarkHidden("http")
	}
	f.help = fs.BoolP("help", "h", false, "show this help")
	return f
}

// parse parses args and checks the shared flags' values. It returns
// pflag.ErrHelp when --help was given; the caller prints the usage.
func (f *flags) parse(args []string) error {
	if err := f.Parse(args); err != nil {
		return err
	}
	if *f.help {
		return pflag.ErrHelp
	}
	if f.version != nil && *f.version {
		return nil
	}
	if f.reveal != nil {
		r, err := server.ParseReveal(*f.reveal)
		if err != nil {
			return err
		}
		f.cfg.reveal = r
	}
	if err := f.cfg.logLevel.UnmarshalText([]byte(*f.logLevel)); err != nil {
		return fmt.Errorf("--log-level must be debug, info, warn or error, not %q", *f.logLevel)
	}
	if f.Lookup("server-name") != nil {
		if err := backend.CheckName(f.cfg.serverName); err != nil {
			return fmt.Errorf("--server-name: %w", err)
		}
	}
	return nil
}

// newServeFlags is the flag set of serve, the default command.
func newServeFlags(cfg *config, stderr io.Writer) *flags {
	return newFlags("mcp-secrets", storeFlags|serveFlags|mainFlags, cfg, stderr)
}

// parseFlags parses the arguments of serve. It returns done=true when the
// command has nothing more to do (--help, --version).
func parseFlags(args []string, stdout, stderr io.Writer) (cfg config, done bool, err error) {
	f := newServeFlags(&cfg, stderr)
	switch err := f.parse(args); {
	case errors.Is(err, pflag.ErrHelp):
		topUsage(stdout)
		return cfg, true, nil
	case err != nil:
		return cfg, false, err
	}
	if *f.version {
		fmt.Fprintln(stdout, "mcp-secrets", version())
		return cfg, true, nil
	}
	switch rest := f.Args(); {
	case len(rest) == 0, len(rest) == 1 && rest[0] == "serve":
	default:
		return cfg, false, fmt.Errorf("unknown command %q; commands: %s", strings.Join(rest, " "), strings.Join(commandNames(), ", "))
	}
	return cfg, false, nil
}

// run is the whole program; main only adds the process around it. The
// first argument that is not a flag names the command; without one, or
// with "serve", it serves MCP.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string) int {
	if cmd, rest, ok := findCommand(args); ok {
		return cmd.exec(ctx, &proc{stdin: stdin, stdout: stdout, stderr: stderr, getenv: getenv}, rest)
	}
	cfg, done, err := parseFlags(args, stdout, stderr)
	if err != nil {
		if !errors.Is(err, pflag.ErrHelp) {
			fmt.Fprintf(stderr, "mcp-secrets: %v\nRun 'mcp-secrets --help' for usage.\n", err)
		}
		return exitUsage
	}
	if done {
		return exitOK
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: cfg.logLevel}))
	if err := serve(ctx, cfg, stdin, stdout, getenv, log); err != nil {
		if errors.Is(err, context.Canceled) {
			return exitOK
		}
		log.Error("mcp-secrets stopped", "err", err)
		return exitError
	}
	return exitOK
}

func serve(ctx context.Context, cfg config, stdin io.Reader, stdout io.Writer, getenv func(string) string, log *slog.Logger) error {
	ns := backend.Namespace(cfg.serverName)
	opened, err := openStore(ctx, cfg, ns, getenv, log)
	if err != nil {
		return err
	}
	cat := backend.NewCatalog(opened.store, backend.CatalogOptions{LockPath: opened.lockPath, Logger: log})
	defer cat.Close()
	log.Info("store ready", "backend", opened.name, "namespace", ns, "detail", opened.detail)

	if err := server.ClearOnStart(ctx, getenv(server.ClearEnv), cat, ns, log); err != nil {
		return fmt.Errorf("%s: %w", server.ClearEnv, err)
	}
	if added, dropped, err := cat.Reconcile(ctx); err != nil {
		log.Warn("could not check the index against the store", "err", err)
	} else if added+dropped > 0 {
		log.Info("index repaired", "added", added, "dropped", dropped)
	}
	entry := elicit.NewEntryServer(elicit.EntryOptions{Logger: log})
	defer entry.Close()
	srv := server.New(cat, server.Options{
		Name: "mcp-secrets", Version: version(), Namespace: ns,
		ReadOnly: cfg.readOnly, Reveal: cfg.reveal, Logger: log,
		Entry: entry, Command: terminalCommand(cfg),
	})
	if cfg.httpAddr != "" {
		return serveHTTP(ctx, cfg.httpAddr, srv, log)
	}
	return srv.Run(ctx, &mcp.IOTransport{Reader: filterFrames(stdin, log), Writer: writeCloser(stdout)})
}

type nopWriteCloser struct{ io.Writer }

func (nopWriteCloser) Close() error { return nil }

func writeCloser(w io.Writer) io.WriteCloser {
	if wc, ok := w.(io.WriteCloser); ok {
		return wc
	}
	return nopWriteCloser{w}
}

// terminalCommand is how the person runs this server's store at a
// terminal, for store_credential's "set NAME" hint: the binary and the
// flags that choose the same store.
func terminalCommand(cfg config) string {
	parts := []string{"mcp-secrets"}
	if cfg.backend != "auto" {
		parts = append(parts, "--backend", cfg.backend)
	}
	if cfg.serverName != "mcp-secrets" {
		parts = append(parts, "--server-name", cfg.serverName)
	}
	for _, f := range []struct{ flag, val string }{
		{"--file-dir", cfg.fileDir}, {"--keyring-backend", cfg.keyringBackend}, {"--env-prefix", cfg.envPrefix},
		{"--env-file", cfg.envFile}, {"--op-vault", cfg.opVault}, {"--op-account", cfg.opAccount},
		{"--vault-path-prefix", cfg.vaultPrefix},
	} {
		if f.val != "" {
			parts = append(parts, f.flag, shellQuote(f.val))
		}
	}
	if cfg.vaultMount != "secret" {
		parts = append(parts, "--vault-mount", shellQuote(cfg.vaultMount))
	}
	if cfg.envAutoSave {
		parts = append(parts, "--env-auto-save")
	}
	return strings.Join(parts, " ")
}
