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
	readOnly       bool
	reveal         server.Reveal
	logLevel       slog.Level
}

const usageHead = `mcp-secrets: an MCP server that keeps credentials out of the model's context.

Usage:
  mcp-secrets [serve] [flags]    serve MCP over stdin/stdout (what an MCP client starts)

Tools: list_stored_credentials, store_credential, retrieve_credential, clear_credentials.
Reveals and deletions are confirmed by the user through MCP elicitation.

Environment:
  SECRETS_MANAGER_CLEAR=1|true|yes|on   delete every credential of this namespace at startup
  MCP_SECRETS_FILE_PASSPHRASE           passphrase of the encrypted file store (without it a
                                        generated key file in the user config dir is used)

Flags:
`

func version() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "dev"
}

// parseFlags parses args. It returns done=true when the command has nothing
// more to do (--help, --version).
func parseFlags(args []string, stdout, stderr io.Writer) (cfg config, done bool, err error) {
	fs := pflag.NewFlagSet("mcp-secrets", pflag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.SortFlags = false
	fs.StringVar(&cfg.backend, "backend", "auto", "storage: "+strings.Join(backendNames, "|")+
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
	fs.BoolVar(&cfg.readOnly, "read-only", false, "expose no tool that stores or deletes")
	reveal := fs.String("reveal", "confirm", "may retrieve_credential return a value? never|confirm|always\n(confirm: the user accepts each reveal)")
	logLevel := fs.String("log-level", "info", "stderr log level: debug|info|warn|error (values are never logged)")
	showVersion := fs.Bool("version", false, "print the version and exit")
	help := fs.BoolP("help", "h", false, "show this help")
	fs.Usage = func() {
		fmt.Fprint(stderr, usageHead)
		fmt.Fprint(stderr, fs.FlagUsages())
	}

	if err := fs.Parse(args); err != nil {
		return cfg, false, err
	}
	if *help {
		fmt.Fprint(stdout, usageHead)
		fmt.Fprint(stdout, fs.FlagUsages())
		return cfg, true, nil
	}
	if *showVersion {
		fmt.Fprintln(stdout, "mcp-secrets", version())
		return cfg, true, nil
	}
	switch rest := fs.Args(); {
	case len(rest) == 0, len(rest) == 1 && rest[0] == "serve":
	default:
		return cfg, false, fmt.Errorf("unknown command %q; the only command is serve", strings.Join(rest, " "))
	}
	if cfg.reveal, err = server.ParseReveal(*reveal); err != nil {
		return cfg, false, err
	}
	if err := cfg.logLevel.UnmarshalText([]byte(*logLevel)); err != nil {
		return cfg, false, fmt.Errorf("--log-level must be debug, info, warn or error, not %q", *logLevel)
	}
	if err := backend.CheckName(cfg.serverName); err != nil {
		return cfg, false, fmt.Errorf("--server-name: %w", err)
	}
	return cfg, false, nil
}

// run is the whole program; main only adds the process around it.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string) int {
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
	srv := server.New(cat, server.Options{
		Name: "mcp-secrets", Version: version(), Namespace: ns,
		ReadOnly: cfg.readOnly, Reveal: cfg.reveal, Logger: log,
	})
	return srv.Run(ctx, &mcp.IOTransport{Reader: readCloser(stdin), Writer: writeCloser(stdout)})
}

func readCloser(r io.Reader) io.ReadCloser {
	if rc, ok := r.(io.ReadCloser); ok {
		return rc
	}
	return io.NopCloser(r)
}

type nopWriteCloser struct{ io.Writer }

func (nopWriteCloser) Close() error { return nil }

func writeCloser(w io.Writer) io.WriteCloser {
	if wc, ok := w.(io.WriteCloser); ok {
		return wc
	}
	return nopWriteCloser{w}
}
