package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/spf13/pflag"

	"github.com/mcp-secrets/mcp-secrets/internal/backend"
)

// proc is what a command gets of its process: the standard streams and
// the environment.
type proc struct {
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
	getenv func(string) string
}

// runner is one command's own flags and work.
type runner interface {
	// define adds the command's own flags to fs.
	define(fs *pflag.FlagSet)
	// run does the command; c.args are its positional arguments.
	run(ctx context.Context, c *cli) error
}

// command is one subcommand of mcp-secrets.
type command struct {
	name    string
	args    string // the synopsis after "mcp-secrets NAME"
	summary string // one line for the top-level help
	help    string // what --help says between the synopsis and the flags
	groups  flagGroups
	new     func() runner // nil for serve, which run handles itself
}

// commands lists every command, in the order the help shows them.
func commands() []command {
	return []command{
		{name: "serve", args: "[flags]", summary: "serve MCP over stdin/stdout (the default)"},
		{name: "set", args: "NAME [flags]", summary: "store a credential (hidden prompt, or the value on stdin)",
			help: setHelp, groups: storeFlags, new: func() runner { return &setCmd{} }},
		{name: "get", args: "NAME [--field F] [flags]", summary: "print a credential's value",
			help: getHelp, groups: storeFlags, new: func() runner { return &getCmd{} }},
		{name: "list", args: "[--json] [flags]", summary: "list names and metadata, never values",
			help: listHelp, groups: storeFlags, new: func() runner { return &listCmd{} }},
		{name: "rm", args: "NAME... | --all [--yes] [flags]", summary: "delete credentials, after asking",
			help: rmHelp, groups: storeFlags, new: func() runner { return &rmCmd{} }},
		{name: "doctor", args: "[flags]", summary: "say which backends work here and which one auto picks",
			help: doctorHelp, groups: storeFlags, new: func() runner { return &doctorCmd{} }},
		{name: "config", args: "CLIENT [flags]", summary: "print an MCP client config for this binary (" + strings.Join(clientNames(), ", ") + ")",
			help: configHelp, groups: storeFlags | serveFlags, new: func() runner { return &configCmd{} }},
		{name: "help", args: "[COMMAND]", summary: "show the help of mcp-secrets or of a command"},
	}
}

func commandNames() []string {
	var names []string
	for _, c := range commands() {
		names = append(names, c.name)
	}
	return names
}

// commandList is the commands part of the top-level help.
func commandList() string {
	var b strings.Builder
	for _, c := range commands() {
		fmt.Fprintf(&b, "  %-8s %s\n", c.name, c.summary)
	}
	return b.String()
}

func lookupCommand(name string) (command, bool) {
	for _, c := range commands() {
		if c.name == name {
			return c, true
		}
	}
	return command{}, false
}

// findCommand finds the command that args name: the first argument that is
// neither a flag nor a flag's value, so that flags may come before it
// (`mcp-secrets --backend file list`). It returns the command and the other
// arguments, or ok=false for serve, which parseFlags handles as it always
// has (an unknown command is its error to report). "help" is answered
// here, as the help of the command it names.
func findCommand(args []string) (cmd command, rest []string, ok bool) {
	var cfg config
	shared := newServeFlags(&cfg, io.Discard)
	i := firstArg(shared.FlagSet, args)
	if i < 0 {
		return command{}, nil, false
	}
	cmd, found := lookupCommand(args[i])
	if !found || cmd.new == nil && cmd.name != "help" {
		return command{}, nil, false
	}
	rest = append(append([]string{}, args[:i]...), args[i+1:]...)
	if cmd.name == "help" {
		return helpCommand(rest), nil, true
	}
	return cmd, rest, true
}

// helpCommand turns `help [COMMAND]` into `COMMAND --help`.
func helpCommand(args []string) command {
	var names []string
	for _, a := range args {
		if !strings.HasPrefix(a, "-") {
			names = append(names, a)
		}
	}
	if len(names) == 1 {
		if c, ok := lookupCommand(names[0]); ok && c.new != nil {
			c.new = wrapHelp(c.new)
			return c
		}
	}
	return command{name: "help", new: func() runner { return helpRunner{names: names} }}
}

// wrapHelp makes a runner that only shows its command's help.
func wrapHelp(newRunner func() runner) func() runner {
	return func() runner { return helpOf{newRunner()} }
}

type helpOf struct{ runner }

func (h helpOf) run(context.Context, *cli) error { return pflag.ErrHelp }

// helpRunner answers `help`, `help serve` and `help NOSUCH`.
type helpRunner struct{ names []string }

func (helpRunner) define(*pflag.FlagSet) {}

func (h helpRunner) run(_ context.Context, c *cli) error {
	switch {
	case len(h.names) == 0 || len(h.names) == 1 && (h.names[0] == "serve" || h.names[0] == "help"):
		topUsage(c.stdout)
		return nil
	case len(h.names) == 1:
		return usageErrorf("unknown command %q; commands: %s", h.names[0], strings.Join(commandNames(), ", "))
	}
	return usageErrorf("help takes at most one command")
}

// firstArg returns the index of the first positional argument in args,
// skipping the values of fs's flags, or -1.
func firstArg(fs *pflag.FlagSet, args []string) int {
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--":
			if i+1 < len(args) {
				return i + 1
			}
			return -1
		case strings.HasPrefix(a, "--"):
			if f := fs.Lookup(a[2:]); f != nil && f.NoOptDefVal == "" && !strings.Contains(a, "=") {
				i++ // its value
			}
		case strings.HasPrefix(a, "-") && len(a) > 1:
			if f := fs.ShorthandLookup(a[len(a)-1:]); f != nil && f.NoOptDefVal == "" {
				i++
			}
		default:
			return i
		}
	}
	return -1
}

// usageError is wrong usage: exit code 2 and a pointer to --help.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

func usageErrorf(format string, args ...any) error {
	return usageError{fmt.Errorf(format, args...)}
}

// exec parses args and runs the command, and turns the outcome into an
// exit code and a message on stderr.
func (cmd command) exec(ctx context.Context, p *proc, args []string) int {
	c := &cli{proc: p}
	f := newFlags("mcp-secrets "+cmd.name, cmd.groups, &c.cfg, p.stderr)
	own := pflag.NewFlagSet(cmd.name, pflag.ContinueOnError)
	own.SortFlags = false
	r := cmd.new()
	r.define(own)
	f.AddFlagSet(own)
	err := f.parse(args)
	if err == nil {
		c.args = f.Args()
		c.flags = f.FlagSet
		c.log = slog.New(slog.NewTextHandler(p.stderr, &slog.HandlerOptions{Level: c.cfg.logLevel}))
		err = r.run(ctx, c)
	} else if !errors.Is(err, pflag.ErrHelp) {
		err = usageError{err}
	}
	var usage usageError
	switch {
	case err == nil:
		return exitOK
	case errors.Is(err, pflag.ErrHelp):
		cmd.usage(p.stdout, own)
		return exitOK
	case errors.As(err, &usage):
		fmt.Fprintf(p.stderr, "mcp-secrets: %s: %v\nRun 'mcp-secrets %s --help' for usage.\n", cmd.name, err, cmd.name)
		return exitUsage
	case errors.Is(err, context.Canceled):
		fmt.Fprintf(p.stderr, "mcp-secrets: %s: interrupted\n", cmd.name)
		return exitError
	default:
		fmt.Fprintf(p.stderr, "mcp-secrets: %s: %v\n", cmd.name, err)
		return exitError
	}
}

// topUsage is the help of mcp-secrets itself: the commands, and the flags
// of serve.
func topUsage(w io.Writer) {
	var cfg config
	f := newServeFlags(&cfg, io.Discard)
	fmt.Fprint(w, usageHead())
	fmt.Fprint(w, f.FlagUsages())
}

// usage is a command's --help: its synopsis and description, its own
// flags, and then those it shares with the others.
func (cmd command) usage(w io.Writer, own *pflag.FlagSet) {
	if cmd.name == "help" {
		topUsage(w)
		return
	}
	fmt.Fprintf(w, "Usage:\n  mcp-secrets %s %s\n\n%s", cmd.name, cmd.args, cmd.help)
	if own.HasFlags() {
		fmt.Fprintf(w, "\nFlags:\n%s", own.FlagUsages())
	}
	var cfg config
	shared := newFlags(cmd.name, cmd.groups, &cfg, io.Discard)
	fmt.Fprintf(w, "\nFlags shared with the server:\n%s", shared.FlagUsages())
}

// cli is a command being run.
type cli struct {
	*proc
	cfg   config
	flags *pflag.FlagSet // every flag of the command, parsed
	args  []string       // positional arguments
	log   *slog.Logger
}

// namespace is where this command's credentials live: com.mcp.NAME.
func (c *cli) namespace() string { return backend.Namespace(c.cfg.serverName) }

// open opens the store the flags name, exactly as the server would, and
// the catalog over it, which keeps the index the server lists from right.
func (c *cli) open(ctx context.Context) (*backend.Catalog, opened, error) {
	ns := c.namespace()
	o, err := openStore(ctx, c.cfg, ns, c.getenv, c.log)
	if err != nil {
		return nil, opened{}, err
	}
	c.log.Info("store ready", "backend", o.name, "namespace", ns, "detail", o.detail)
	cat := backend.NewCatalog(o.store, backend.CatalogOptions{LockPath: o.lockPath, Logger: c.log})
	return cat, o, nil
}

// oneName checks that the command got exactly one argument, a valid name.
func (c *cli) oneName() (string, error) {
	switch len(c.args) {
	case 0:
		return "", usageErrorf("missing NAME")
	case 1:
	default:
		return "", usageErrorf("takes one NAME, got %d arguments", len(c.args))
	}
	if err := backend.CheckName(c.args[0]); err != nil {
		return "", err
	}
	return c.args[0], nil
}

// plural is "1 credential" or "2 credentials".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
