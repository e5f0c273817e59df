package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/pflag"

	"github.com/mcp-secrets/mcp-secrets/internal/backend/file"
)

const configHelp = `Prints what to add to an MCP client's configuration so that it starts this
binary (its absolute path) as a stdio server with the flags given here:

  mcp-secrets config claude-desktop --backend file
  mcp-secrets config claude-code --reveal never
  mcp-secrets config vscode --server-name work

CLIENT is one of claude-desktop, claude-code, vscode, cursor. The snippet goes
to standard output (JSON, or for claude-code a command line) and where to put
it to standard error. --backend is always included; other flags only when given.
The entry is named "secrets", or after --server-name when one is given.
No secret is ever put in the snippet: a passphrase stays in your environment.
`

// clientNames are the clients config knows.
func clientNames() []string {
	return []string{"claude-desktop", "claude-code", "vscode", "cursor"}
}

type configCmd struct{}

func (*configCmd) define(*pflag.FlagSet) {}

func (*configCmd) run(_ context.Context, c *cli) error {
	if len(c.args) != 1 {
		return usageErrorf("needs one CLIENT: %s", strings.Join(clientNames(), ", "))
	}
	client := c.args[0]
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("cannot find the path of this binary: %w", err)
	}
	if resolved, err := filepath.EvalSymlinks(exe); err == nil {
		exe = resolved
	}
	args, err := serverArgs(c)
	if err != nil {
		return err
	}
	entry := "secrets"
	if c.flags.Changed("server-name") {
		entry = c.cfg.serverName
	}

	var snippet, where string
	switch client {
	case "claude-desktop":
		snippet = jsonSnippet("mcpServers", entry, "", exe, args)
		where = "Add this to claude_desktop_config.json (Settings > Developer > Edit Config; on macOS in\n" +
			"~/Library/Application Support/Claude/, on Windows in %APPDATA%\\Claude\\), merging it into\n" +
			"any \"mcpServers\" already there, then restart Claude Desktop."
	case "claude-code":
		snippet = "claude mcp add " + shellQuote(entry) + " -- " + shellQuote(exe)
		for _, a := range args {
			snippet += " " + shellQuote(a)
		}
		snippet += "\n"
		where = "Run this command; add --scope user after \"add\" to have the server in every project."
	case "vscode":
		snippet = jsonSnippet("servers", entry, "stdio", exe, args)
		where = "Add this to .vscode/mcp.json in your workspace (or, for every workspace, to the file that\n" +
			"\"MCP: Open User Configuration\" opens), merging it into any \"servers\" already there."
	case "cursor":
		snippet = jsonSnippet("mcpServers", entry, "", exe, args)
		where = "Add this to ~/.cursor/mcp.json (every project) or .cursor/mcp.json (one project), merging\n" +
			"it into any \"mcpServers\" already there."
	default:
		return usageErrorf("unknown client %q; valid: %s", client, strings.Join(clientNames(), ", "))
	}
	fmt.Fprintln(c.stderr, where)
	if strings.Contains(exe, string(filepath.Separator)+"go-build") {
		fmt.Fprintln(c.stderr, "Warning: this binary is a temporary build of `go run`; install it (go install, or make build) and run config with the installed one.")
	}
	if (c.cfg.backend == "file" || c.cfg.backend == "auto") && c.getenv(file.PassphraseEnv) != "" {
		fmt.Fprintf(c.stderr, "Note: %s is set here, but the snippet does not carry it: the client must start the\n"+
			"server with it in its environment, or the file store will not open.\n", file.PassphraseEnv)
	}
	_, err = fmt.Fprint(c.stdout, snippet)
	return err
}

// serverArgs are the arguments of the server: --backend always, then each
// flag given on this command line, in the order --help lists them. Paths
// become absolute, as the client starts the server in a directory of its own.
func serverArgs(c *cli) ([]string, error) {
	args := []string{"--backend", c.cfg.backend}
	var err error
	c.flags.VisitAll(func(f *pflag.Flag) {
		if !f.Changed || f.Name == "backend" || f.Name == "help" || err != nil {
			return
		}
		v := f.Value.String()
		switch f.Name {
		case "file-dir", "env-file":
			v, err = filepath.Abs(v)
		case "op-bin":
			if strings.ContainsRune(v, os.PathSeparator) {
				v, err = filepath.Abs(v)
			}
		}
		if f.Value.Type() == "bool" {
			args = append(args, "--"+f.Name+"="+v)
			if v == "true" {
				args[len(args)-1] = "--" + f.Name
			}
			return
		}
		args = append(args, "--"+f.Name, v)
	})
	return args, err
}

// jsonSnippet is the configuration of one server in the layout the README
// shows: the entry on one line inside its top-level key.
func jsonSnippet(top, entry, typ, command string, args []string) string {
	q := func(s string) string {
		data, _ := json.Marshal(s) // a string always marshals
		return string(data)
	}
	quoted := make([]string, len(args))
	for i, a := range args {
		quoted[i] = q(a)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "{\n  %s: {\n    %s: { ", q(top), q(entry))
	if typ != "" {
		fmt.Fprintf(&b, "\"type\": %s, ", q(typ))
	}
	fmt.Fprintf(&b, "\"command\": %s, \"args\": [%s] }\n  }\n}\n", q(command), strings.Join(quoted, ", "))
	return b.String()
}

// shellQuote quotes s for a POSIX shell when it needs it.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./=:@%+,") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
