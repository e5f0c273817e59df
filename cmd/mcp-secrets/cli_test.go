package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/creack/pty"
	"golang.org/x/sys/unix"
)

// The command line for people (issue 4, part 2), driven through the built
// binary: against the encrypted file store, and against a real Secret
// Service where MCP_SECRETS_REQUIRE_KEYRINGS says one runs.

// cliPassphrase is the file store's passphrase in these tests. It is a
// secret too: no output may contain it.
const cliPassphrase = "pass-9f4c1e-phrase"

// cliResult is what one run of the binary gave.
type cliResult struct {
	stdout, stderr string
	code           int
}

// cli runs the binary with args and stdin (not a terminal), in h's
// environment plus extra. Whatever it runs, the canary and the passphrase
// never reach stderr.
func (h *home) cli(t *testing.T, stdin string, extra []string, args ...string) cliResult {
	t.Helper()
	cmd := h.command(args...)
	cmd.Env = append(cmd.Env, extra...)
	cmd.Dir = h.dir
	cmd.Stdin = strings.NewReader(stdin)
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	r := cliResult{stdout: stdout.String(), stderr: stderr.String()}
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		r.code = ee.ExitCode()
	case err != nil:
		t.Fatalf("run %v: %v", args, err)
	}
	if strings.Contains(r.stderr, canary) || strings.Contains(r.stderr, cliPassphrase) {
		t.Errorf("%v: a secret reached stderr: %s", args, redact(r.stderr))
	}
	return r
}

// want fails the test unless r exited with code and its stdout and stderr
// contain the given texts.
func (r cliResult) want(t *testing.T, what string, code int, stdout, stderr string) {
	t.Helper()
	if r.code != code || !strings.Contains(r.stdout, stdout) || !strings.Contains(r.stderr, stderr) {
		t.Errorf("%s: exit %d, stdout %q, stderr %q; want exit %d, stdout with %q, stderr with %q",
			what, r.code, redact(r.stdout), redact(r.stderr), code, stdout, stderr)
	}
}

// store is one backend under test: the flags that select it and the
// environment it needs.
type store struct {
	args  []string
	extra []string
	// doctor is what doctor must say about this store.
	doctor []string
}

func (s store) with(args ...string) []string { return append(slices.Clone(args), s.args...) }

func fileStore(t *testing.T) store {
	t.Helper()
	return store{args: []string{"--backend", "file"}, extra: []string{"MCP_SECRETS_FILE_PASSPHRASE=" + cliPassphrase},
		doctor: []string{"which is set", "usable: opens with this key"}}
}

// secretServiceStore is a fresh namespace in the real Secret Service,
// emptied when the test ends.
func secretServiceStore(t *testing.T, h *home) store {
	t.Helper()
	requireKeyring(t, "secret-service")
	s := store{args: []string{"--backend", "keyring", "--keyring-backend", "secret-service",
		"--server-name", fmt.Sprintf("cli-%d", time.Now().UnixNano())},
		doctor: []string{"picks the OS keyring secret-service", "secret-service  usable: a test item was written"}}
	t.Cleanup(func() { h.cli(t, "", nil, s.with("rm", "--all", "--yes")...) })
	return s
}

func TestCLIFileStore(t *testing.T) {
	h := newHome(t)
	testCLIScenario(t, h, fileStore(t))
}

func TestCLISecretService(t *testing.T) {
	h := newHome(t)
	testCLIScenario(t, h, secretServiceStore(t, h))
}

// testCLIScenario is everything a person does from a terminal, against one
// store, checked against what the MCP server sees of the same store.
func testCLIScenario(t *testing.T, h *home, s store) {
	run := func(stdin string, args ...string) cliResult {
		t.Helper()
		return h.cli(t, stdin, s.extra, s.with(args...)...)
	}

	t.Run("set from stdin, get", func(t *testing.T) {
		run("ghp_"+canary+"\n", "set", "gh", "--description", "GitHub token").want(t, "set gh", 0, "", `Stored "gh"`)
		if r := run("", "get", "gh"); r.code != 0 || r.stdout != "ghp_"+canary+"\n" {
			t.Errorf("get gh: exit %d, stdout %q", r.code, redact(r.stdout))
		}
		// Only one trailing newline goes; a carriage return before it too.
		run("two\n\n", "set", "nl").want(t, "set nl", 0, "", "Stored")
		run("crlf\r\n", "set", "crlf").want(t, "set crlf", 0, "", "Stored")
		if r := run("", "get", "nl"); r.stdout != "two\n\n" {
			t.Errorf("a value of two lines came back as %q", r.stdout)
		}
		if r := run("", "get", "crlf"); r.stdout != "crlf\n" {
			t.Errorf("a value ending in CRLF came back as %q", r.stdout)
		}
	})

	t.Run("overwrite", func(t *testing.T) {
		run("new-"+canary, "set", "gh").want(t, "set over an existing name", 1, "", "--overwrite")
		run("new-"+canary, "set", "gh", "--overwrite").want(t, "set --overwrite", 0, "", `Replaced "gh"`)
		if r := run("", "get", "gh"); r.stdout != "new-"+canary+"\n" {
			t.Errorf("after --overwrite, get gh = %q", redact(r.stdout))
		}
	})

	t.Run("fields", func(t *testing.T) {
		run(canary, "set", "db", "--field", "password").want(t, "set --field on a new name", 0, "", `field "password" of "db"`)
		run("ada\n", "set", "db", "--field", "user").want(t, "set a second field", 0, "", "2 fields")
		run("x", "set", "db", "--field", "user").want(t, "set an existing field", 1, "", "--overwrite")
		run("bob", "set", "db", "--field", "user", "--overwrite").want(t, "set an existing field --overwrite", 0, "", "Stored field")
		run("5432", "set", "db", "--field", "port", "--json").want(t, "set a JSON field", 0, "", "3 fields")
		run("x", "set", "gh", "--field", "user").want(t, "set --field on a string", 1, "", "string credential")
		run("x", "set", "db", "--field", "").want(t, "set --field ''", 2, "", "--field must not be empty")

		if r := run("", "get", "db", "--field", "password"); r.code != 0 || r.stdout != canary+"\n" {
			t.Errorf("get --field password: exit %d, %q", r.code, redact(r.stdout))
		}
		r := run("", "get", "db")
		var obj map[string]any
		if err := json.Unmarshal([]byte(r.stdout), &obj); err != nil || obj["password"] != canary || obj["user"] != "bob" || obj["port"] != float64(5432) {
			t.Errorf("get db: %v, %s", err, redact(r.stdout))
		}
		if !strings.Contains(r.stdout, "\n  \"password\": ") {
			t.Errorf("get db does not print indented JSON: %s", redact(r.stdout))
		}
		run("", "get", "db", "--field", "nope").want(t, "get a missing field", 1, "", `no field "nope" (its fields: password, port, user)`)
		run("", "get", "gh", "--field", "x").want(t, "get --field of a string", 1, "", "only an object has fields")
	})

	t.Run("json", func(t *testing.T) {
		run(`[1, {"k": "`+canary+`"}]`, "set", "arr", "--json").want(t, "set --json array", 0, "", "array")
		if r := run("", "get", "arr"); r.stdout != "[\n  1,\n  {\n    \"k\": \""+canary+"\"\n  }\n]\n" {
			t.Errorf("get arr = %q", redact(r.stdout))
		}
		run(`{"k": "`+canary+`"`, "set", "bad", "--json").want(t, "set malformed JSON", 1, "", "malformed JSON")
		run(`"`+canary+`"`, "set", "bad", "--json").want(t, "set a JSON string with --json", 1, "", "object or an array")
		run(`{"k": `+canary, "set", "db", "--field", "f", "--json").want(t, "set a malformed JSON field", 1, "", "malformed JSON")
	})

	t.Run("refusals", func(t *testing.T) {
		run("", "set", "empty").want(t, "set from empty stdin", 1, "", "no value on stdin")
		run("\n", "set", "empty").want(t, "set a lone newline", 1, "", "no value on stdin")
		run(strings.Repeat("x", 70<<10), "set", "big").want(t, "set 70 KiB", 1, "", "limit")
		run(canary, "set", "../x").want(t, "set a path-like name", 1, "", `must not contain "/"`)
		run(canary, "set", "__index").want(t, "set a reserved name", 1, "", "reserved")
		run("", "get", "nosuch").want(t, "get a missing name", 1, "", `no credential named "nosuch"`)
		for _, name := range []string{"empty", "big", "bad", "nosuch"} {
			if r := run("", "get", name); r.code != 1 {
				t.Errorf("a refused set stored %q", name)
			}
		}
	})

	t.Run("list", func(t *testing.T) {
		r := run("", "list")
		r.want(t, "list", 0, "NAME", "5 credentials in com.mcp.")
		for _, want := range []string{"gh ", "GitHub token", "db ", "object (password, port, user)", "arr ", "array", "nl ", "crlf "} {
			if !strings.Contains(r.stdout, want) {
				t.Errorf("list does not show %q:\n%s", want, redact(r.stdout))
			}
		}
		r = run("", "list", "--json")
		var out struct {
			Credentials []struct {
				Name, Kind, Description string
				Fields                  []string
				Size                    int
			}
			Count int
		}
		if err := json.Unmarshal([]byte(r.stdout), &out); err != nil || out.Count != 5 || len(out.Credentials) != 5 {
			t.Fatalf("list --json: %v\n%s", err, redact(r.stdout))
		}
		if c := out.Credentials[2]; c.Name != "db" || c.Kind != "object" || !slices.Equal(c.Fields, []string{"password", "port", "user"}) {
			t.Errorf("list --json shows db as %+v", c)
		}
		for _, r := range []cliResult{run("", "list"), r} {
			if strings.Contains(r.stdout, canary) {
				t.Error("list printed a value")
			}
		}
		run("", "list", "extra").want(t, "list with an argument", 2, "", "takes no arguments")
	})

	t.Run("the server sees what the command line stored, and back", func(t *testing.T) {
		sess := h.connect(t, clientConfig{extra: s.extra}, s.with("--reveal", "always")...)
		list := ok(t, sess.call(t, "list_stored_credentials", nil))
		data, _ := json.Marshal(list)
		if list["count"] != float64(5) || !strings.Contains(string(data), `"description":"GitHub token"`) || strings.Contains(string(data), canary) {
			t.Errorf("the server lists %s", redact(string(data)))
		}
		if got := ok(t, sess.call(t, "retrieve_credential", map[string]any{"name": "db", "field": "password", "reveal": true})); got["value"] != canary {
			t.Error("the server does not read the field the command line stored")
		}
		ok(t, sess.call(t, "store_credential", map[string]any{"name": "from-server", "value": "srv-" + canary}))
		sess.close(t)
		if r := run("", "get", "from-server"); r.stdout != "srv-"+canary+"\n" {
			t.Errorf("get of what the server stored: exit %d, %q", r.code, redact(r.stdout))
		}
	})

	t.Run("rm", func(t *testing.T) {
		run("", "rm", "nl").want(t, "rm without a terminal", 1, "", "not a terminal")
		if run("", "get", "nl").code != 0 {
			t.Error("rm without a terminal or --yes deleted")
		}
		run("", "rm", "nl", "crlf", "nosuch", "--yes").want(t, "rm --yes with a missing name", 1, "", "Deleted 2 credentials: crlf, nl.")
		run("", "rm", "nosuch", "-y").want(t, "rm of a missing name", 1, "", `no credential named nosuch`)
		run("", "rm", "--yes").want(t, "rm without names", 2, "", "missing NAME")
		run("", "rm", "gh", "--all", "--yes").want(t, "rm NAME --all", 2, "", "not both")
		run("", "rm", "../x", "--yes").want(t, "rm a path-like name", 1, "", `must not contain "/"`)

		sess := h.connect(t, clientConfig{extra: s.extra}, s.args...)
		if n := ok(t, sess.call(t, "list_stored_credentials", nil))["count"]; n != float64(4) {
			t.Errorf("after rm the server lists %v credentials, want 4", n)
		}
		sess.close(t)
	})

	t.Run("terminal", func(t *testing.T) { testCLITerminal(t, h, s) })

	t.Run("rm --all", func(t *testing.T) {
		run("", "rm", "--all", "--yes").want(t, "rm --all --yes", 0, "", "Deleted")
		run("", "list").want(t, "list after rm --all", 0, "", "0 credentials")
		run("", "rm", "--all", "--yes").want(t, "rm --all of nothing", 0, "", "Nothing to delete")
	})

	t.Run("doctor", func(t *testing.T) {
		r := run("", "doctor")
		r.want(t, "doctor", 0, "--backend auto (the default) picks", "")
		for _, want := range append([]string{"OS keyrings", "secret-service", "Encrypted file store", "needs --env-prefix", "needs --op-vault"}, s.doctor...) {
			if !strings.Contains(r.stdout, want) {
				t.Errorf("doctor does not mention %q:\n%s", want, r.stdout)
			}
		}
		if strings.Contains(r.stdout, canary) || strings.Contains(r.stdout, cliPassphrase) {
			t.Error("doctor printed a secret")
		}
	})
}

// testCLITerminal is set and rm as a person at a terminal does them.
func testCLITerminal(t *testing.T, h *home, s store) {
	get := func(name string) cliResult {
		t.Helper()
		return h.cli(t, "", s.extra, s.with("get", name)...)
	}

	t.Run("set asks twice without echo", func(t *testing.T) {
		p := h.startPTY(t, s.extra, s.with("set", "typed", "--description", "typed in")...)
		p.expect(t, `Value for "typed" (typing is hidden): `)
		p.typeHidden(t, "typed-"+canary+"\r")
		p.expect(t, "Again, to confirm: ")
		p.typeHidden(t, "typed-"+canary+"\r")
		if code := p.wait(t); code != 0 {
			t.Fatalf("set on a terminal: exit %d\n%s", code, redact(p.out.String()))
		}
		p.expect(t, `Stored "typed"`)
		if strings.Contains(p.out.String(), canary) {
			t.Errorf("the typed value was echoed:\n%s", redact(p.out.String()))
		}
		if r := get("typed"); r.stdout != "typed-"+canary+"\n" {
			t.Errorf("get typed = %q", redact(r.stdout))
		}
	})

	t.Run("set a field on a terminal", func(t *testing.T) {
		p := h.startPTY(t, s.extra, s.with("set", "typed-db", "--field", "password")...)
		p.expect(t, `Value for field "password" of "typed-db"`)
		p.typeHidden(t, canary+"\n")
		p.expect(t, "Again")
		p.typeHidden(t, canary+"\n")
		if code := p.wait(t); code != 0 {
			t.Fatalf("set --field on a terminal: exit %d\n%s", code, redact(p.out.String()))
		}
		if r := h.cli(t, "", s.extra, s.with("get", "typed-db", "--field", "password")...); r.stdout != canary+"\n" {
			t.Errorf("get --field = %q", redact(r.stdout))
		}
	})

	t.Run("two different entries store nothing", func(t *testing.T) {
		p := h.startPTY(t, s.extra, s.with("set", "mismatch")...)
		p.expect(t, "Value for")
		p.typeHidden(t, "one-"+canary+"\n")
		p.expect(t, "Again")
		p.typeHidden(t, "two-"+canary+"\n")
		if code := p.wait(t); code != 1 {
			t.Errorf("mismatched entries: exit %d", code)
		}
		p.expect(t, "the two entries differ; nothing stored")
		if get("mismatch").code != 1 {
			t.Error("mismatched entries stored something")
		}
	})

	t.Run("Ctrl-C at the prompt restores echo", func(t *testing.T) {
		p := h.startPTY(t, s.extra, s.with("set", "interrupted")...)
		p.expect(t, "Value for")
		p.typeHidden(t, "\x03")
		if code := p.wait(t); code != 1 {
			t.Errorf("Ctrl-C: exit %d\n%s", code, p.out.String())
		}
		p.expect(t, "interrupted")
		if !p.echo(t) {
			t.Error("the terminal was left without echo")
		}
		if get("interrupted").code != 1 {
			t.Error("an interrupted set stored something")
		}
	})

	t.Run("rm answered n keeps, y deletes", func(t *testing.T) {
		p := h.startPTY(t, s.extra, s.with("rm", "typed", "typed-db")...)
		p.expect(t, "Delete 2 credentials: typed, typed-db? [y/N] ")
		p.send(t, "n\r")
		if code := p.wait(t); code != 0 {
			t.Errorf("rm answered n: exit %d", code)
		}
		p.expect(t, "Nothing deleted.")
		if get("typed").code != 0 || get("typed-db").code != 0 {
			t.Error("rm answered n deleted")
		}

		p = h.startPTY(t, s.extra, s.with("rm", "typed")...)
		p.expect(t, "Delete 1 credential: typed? [y/N] ")
		p.send(t, "\r")
		p.wait(t)
		if get("typed").code != 0 {
			t.Error("rm answered with Enter alone deleted")
		}

		p = h.startPTY(t, s.extra, s.with("rm", "typed", "typed-db")...)
		p.expect(t, "? [y/N] ")
		p.send(t, "y\r")
		if code := p.wait(t); code != 0 {
			t.Errorf("rm answered y: exit %d\n%s", code, p.out.String())
		}
		p.expect(t, "Deleted 2 credentials: typed, typed-db.")
		if get("typed").code != 1 || get("typed-db").code != 1 {
			t.Error("rm answered y did not delete")
		}
	})

	t.Run("rm --all asks", func(t *testing.T) {
		h.cli(t, "a", s.extra, s.with("set", "extra-a")...).want(t, "set extra-a", 0, "", "Stored")
		p := h.startPTY(t, s.extra, s.with("rm", "--all")...)
		p.expect(t, "Delete all ")
		p.expect(t, "extra-a")
		p.send(t, "no\r")
		p.wait(t)
		if get("extra-a").code != 0 {
			t.Error("rm --all answered no deleted")
		}
	})
}

// ptyRun is the binary with a pseudo-terminal as its stdin and stderr, as
// when a person runs it; stdout is collected apart.
type ptyRun struct {
	cmd    *exec.Cmd
	master *os.File
	out    *lockedBuffer // all the terminal showed
	stdout *lockedBuffer
	done   chan error
	code   int
	exited bool
}

func (h *home) startPTY(t *testing.T, extra []string, args ...string) *ptyRun {
	t.Helper()
	master, tty, err := pty.Open()
	if err != nil {
		t.Fatalf("open a pseudo-terminal: %v", err)
	}
	p := &ptyRun{master: master, out: &lockedBuffer{}, stdout: &lockedBuffer{}, done: make(chan error, 1)}
	p.cmd = h.command(args...)
	p.cmd.Env = append(p.cmd.Env, extra...)
	p.cmd.Stdin, p.cmd.Stderr, p.cmd.Stdout = tty, tty, p.stdout
	// Its own session with the terminal as the controlling one, so Ctrl-C
	// reaches it as SIGINT, as at a real terminal.
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	tty.Close()
	go func() { _, _ = io.Copy(p.out, master) }()
	go func() { p.done <- p.cmd.Wait() }()
	t.Cleanup(func() {
		if !p.exited {
			_ = p.cmd.Process.Kill()
			<-p.done
		}
		master.Close()
	})
	return p
}

// expect waits until the terminal has shown s.
func (p *ptyRun) expect(t *testing.T, s string) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !strings.Contains(p.out.String(), s) {
		if time.Now().After(deadline) {
			t.Fatalf("the terminal never showed %q; it showed:\n%s", s, redact(p.out.String()))
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func (p *ptyRun) send(t *testing.T, s string) {
	t.Helper()
	if _, err := p.master.Write([]byte(s)); err != nil {
		t.Fatalf("type: %v", err)
	}
}

// echo reports whether the terminal echoes what is typed. On Linux the
// master side reads the terminal's settings.
func (p *ptyRun) echo(t *testing.T) bool {
	t.Helper()
	tio, err := unix.IoctlGetTermios(int(p.master.Fd()), unix.TCGETS)
	if err != nil {
		t.Fatalf("terminal settings: %v", err)
	}
	return tio.Lflag&unix.ECHO != 0
}

// typeHidden waits until the terminal has echo off, then types s: so it
// proves the prompt hides what is typed, rather than racing it.
func (p *ptyRun) typeHidden(t *testing.T, s string) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for p.echo(t) {
		if time.Now().After(deadline) {
			t.Fatalf("the terminal still echoes at the prompt; it showed:\n%s", redact(p.out.String()))
		}
		time.Sleep(5 * time.Millisecond)
	}
	p.send(t, s)
}

// wait waits for the process to exit and returns its exit code.
func (p *ptyRun) wait(t *testing.T) int {
	t.Helper()
	if p.exited {
		return p.code
	}
	select {
	case err := <-p.done:
		p.exited = true
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			p.code = ee.ExitCode()
		} else if err != nil {
			t.Fatalf("wait: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("the command did not exit; the terminal showed:\n%s", redact(p.out.String()))
	}
	return p.code
}

// Every command's --help, exit codes for wrong usage, and flags before the
// command word.
func TestCLIUsage(t *testing.T) {
	h := newHome(t)
	s := fileStore(t)
	top := h.cli(t, "", nil, "--help")
	for _, c := range []string{"set", "get", "list", "rm", "doctor", "config", "serve"} {
		if !strings.Contains(top.stdout, "\n  "+c+" ") {
			t.Errorf("--help does not list the command %s", c)
		}
		for _, args := range [][]string{{c, "--help"}, {"help", c}, {c, "-h"}} {
			r := h.cli(t, "", nil, args...)
			want := "Usage:\n  mcp-secrets " + c
			if c == "serve" {
				want = "Usage:\n  mcp-secrets [serve] [flags]"
			}
			r.want(t, strings.Join(args, " "), 0, want, "")
			if !strings.Contains(r.stdout, "--backend") || !strings.Contains(r.stdout, "--server-name") {
				t.Errorf("%v does not list the store flags", args)
			}
		}
	}
	h.cli(t, "", nil, "help").want(t, "help", 0, "Commands:", "")

	for _, c := range []struct {
		args   []string
		code   int
		stderr string
	}{
		{[]string{"set"}, 2, "mcp-secrets: set: missing NAME\nRun 'mcp-secrets set --help' for usage."},
		{[]string{"set", "a", "b"}, 2, "takes one NAME"},
		{[]string{"get"}, 2, "missing NAME"},
		{[]string{"get", "--no-such-flag", "a"}, 2, "unknown flag: --no-such-flag"},
		{[]string{"list", "--field", "x"}, 2, "unknown flag: --field"},
		{[]string{"rm"}, 2, "missing NAME"},
		{[]string{"doctor", "x"}, 2, "takes no arguments"},
		{[]string{"doctor", "--backend", "nope"}, 1, `mcp-secrets: doctor: unknown --backend "nope"`},
		{[]string{"config"}, 2, "needs one CLIENT: claude-desktop, claude-code, vscode, cursor"},
		{[]string{"config", "emacs"}, 2, `unknown client "emacs"`},
		{[]string{"list", "--log-level", "loud"}, 2, "--log-level"},
		{[]string{"list", "--server-name", "../x"}, 2, "--server-name"},
		{[]string{"list", "--backend", "nope"}, 1, `mcp-secrets: list: unknown --backend "nope"`},
		{[]string{"list", "--backend", "env"}, 1, "--backend env needs --env-prefix"},
		{[]string{"help", "frobnicate"}, 2, `unknown command "frobnicate"`},
		{[]string{"frobnicate", "--backend", "file"}, 2, `unknown command "frobnicate"`},
	} {
		h.cli(t, "", s.extra, c.args...).want(t, strings.Join(c.args, " "), c.code, "", c.stderr)
	}

	// The store flags may come before the command word, as for serve.
	h.cli(t, "v", s.extra, "--backend", "file", "--server-name", "early", "set", "k").want(t, "flags before set", 0, "", "com.mcp.early")
	h.cli(t, "", s.extra, "--server-name=early", "--backend", "file", "get", "k").want(t, "flags before get", 0, "v\n", "")
	// serve is still the default, with or without its name.
	sess := h.connect(t, clientConfig{extra: s.extra}, "serve", "--backend", "file", "--server-name", "early")
	if n := ok(t, sess.call(t, "list_stored_credentials", nil))["count"]; n != float64(1) {
		t.Errorf("serve lists %v", n)
	}
}

// doctor says where the file store is and where its key comes from, never
// a value, and exits 0 even where no keyring works.
func TestCLIDoctorFileStore(t *testing.T) {
	h := newHome(t)
	// No session bus: the Secret Service and KWallet are unusable.
	h.env = slices.DeleteFunc(h.env, func(e string) bool { return strings.HasPrefix(e, "DBUS_SESSION_BUS_ADDRESS=") })
	h.env = append(h.env, "DBUS_SESSION_BUS_ADDRESS=disabled:")
	dir := filepath.Join(h.dir, "data", "mcp-secrets", "com.mcp.mcp-secrets")
	keyFile := filepath.Join(h.dir, "config", "mcp-secrets", "com.mcp.mcp-secrets.key")

	r := h.cli(t, "", nil, "doctor")
	r.want(t, "doctor before anything is stored", 0, dir+" (not created yet", "")
	for _, want := range []string{
		"MCP_SECRETS_FILE_PASSPHRASE is not set", keyFile + " (does not exist yet",
		"--backend auto (the default) picks the encrypted file store.",
		"secret-service  not usable: no D-Bus session bus",
		"needs --env-prefix", "needs --op-vault", "needs VAULT_ADDR", "op not found on PATH",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("doctor does not say %q:\n%s", want, r.stdout)
		}
	}
	if _, err := os.Stat(dir); err == nil {
		t.Error("doctor created the file store")
	}

	// With a key file store holding a value.
	h.cli(t, canary, nil, "set", "k", "--backend", "file").want(t, "set", 0, "", "Stored")
	r = h.cli(t, "", nil, "doctor")
	for _, want := range []string{keyFile + " (exists, mode 0600)", "usable: opens with this key; 1 credential stored"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("doctor does not say %q:\n%s", want, r.stdout)
		}
	}
	if err := os.Chmod(keyFile, 0o644); err != nil {
		t.Fatal(err)
	}
	if r := h.cli(t, "", nil, "doctor"); !strings.Contains(r.stdout, "mode 0644: others may read it") || r.code != 0 {
		t.Errorf("doctor on a key file others may read: exit %d\n%s", r.code, r.stdout)
	}

	// With a passphrase: said to be set, never shown; a wrong one is found.
	pass := []string{"MCP_SECRETS_FILE_PASSPHRASE=" + cliPassphrase}
	h.cli(t, canary, pass, "set", "k", "--backend", "file", "--server-name", "withpass").want(t, "set with a passphrase", 0, "", "Stored")
	r = h.cli(t, "", pass, "doctor", "--server-name", "withpass", "--env-prefix", "MYAPP", "--op-vault", "Work", "--op-bin", fakeOp)
	r.want(t, "doctor with a passphrase", 0, "derived from the passphrase in MCP_SECRETS_FILE_PASSPHRASE, which is set", "")
	for _, want := range []string{"1 credential stored", "usable: 0 credentials, variables MYAPP_*", "op          " + fakeOp} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("doctor does not say %q:\n%s", want, r.stdout)
		}
	}
	r = h.cli(t, "", []string{"MCP_SECRETS_FILE_PASSPHRASE=wrong-" + cliPassphrase}, "doctor", "--server-name", "withpass")
	r.want(t, "doctor with a wrong passphrase", 0, "cannot open: wrong passphrase", "")
	for _, r := range []cliResult{r, h.cli(t, "", pass, "doctor", "--server-name", "withpass")} {
		if strings.Contains(r.stdout, canary) || strings.Contains(r.stdout, cliPassphrase) {
			t.Error("doctor printed a secret")
		}
	}
}

// config prints each client's snippet with this binary's absolute path and
// the flags given, in the README's format.
func TestCLIConfig(t *testing.T) {
	h := newHome(t)
	exe, err := filepath.EvalSymlinks(binary)
	if err != nil {
		t.Fatal(err)
	}
	flags := []string{"--backend", "file", "--server-name", "work", "--file-dir", "rel dir", "--read-only", "--reveal", "never"}
	wantArgs := []string{"--backend", "file", "--server-name", "work", "--file-dir", filepath.Join(h.dir, "rel dir"), "--read-only", "--reveal", "never"}
	pass := []string{"MCP_SECRETS_FILE_PASSPHRASE=" + cliPassphrase}

	for _, c := range []struct{ client, top, typ, where string }{
		{"claude-desktop", "mcpServers", "", "claude_desktop_config.json"},
		{"cursor", "mcpServers", "", ".cursor/mcp.json"},
		{"vscode", "servers", "stdio", ".vscode/mcp.json"},
	} {
		for _, withFlags := range []bool{false, true} {
			args, entry, want := []string{"config", c.client}, "secrets", []string{"--backend", "auto"}
			if withFlags {
				args, entry, want = append(args, flags...), "work", wantArgs
			}
			r := h.cli(t, "", pass, args...)
			r.want(t, strings.Join(args, " "), 0, "", c.where)
			var cfg map[string]map[string]struct {
				Type    string   `json:"type"`
				Command string   `json:"command"`
				Args    []string `json:"args"`
			}
			if err := json.Unmarshal([]byte(r.stdout), &cfg); err != nil {
				t.Errorf("%v: not JSON: %v\n%s", args, err, r.stdout)
				continue
			}
			got, found := cfg[c.top][entry]
			if !found || got.Command != exe || got.Type != c.typ || !slices.Equal(got.Args, want) {
				t.Errorf("%v: got %s", args, r.stdout)
			}
			// The README's layout: the entry on one line.
			if !strings.Contains(r.stdout, fmt.Sprintf("{\n  %q: {\n    %q: { ", c.top, entry)) {
				t.Errorf("%v: not in the README's layout:\n%s", args, r.stdout)
			}
			if strings.Contains(r.stdout, cliPassphrase) || !strings.Contains(r.stderr, "MCP_SECRETS_FILE_PASSPHRASE is set here") {
				t.Errorf("%v: the passphrase note is wrong: %q", args, r.stderr)
			}
		}
	}
	r := h.cli(t, "", nil, append([]string{"config", "claude-code"}, flags...)...)
	want := "claude mcp add work -- " + exe + " --backend file --server-name work --file-dir '" + filepath.Join(h.dir, "rel dir") + "' --read-only --reveal never\n"
	r.want(t, "config claude-code", 0, "claude mcp add", "--scope user")
	if r.stdout != want {
		t.Errorf("config claude-code:\n got %q\nwant %q", r.stdout, want)
	}
	if r := h.cli(t, "", nil, "config", "claude-code"); r.stdout != "claude mcp add secrets -- "+exe+" --backend auto\n" {
		t.Errorf("config claude-code without flags: %q", r.stdout)
	}
}
