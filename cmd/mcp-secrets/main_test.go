package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// binary is the mcp-secrets built once for the whole package; fakeOp is
// testdata/fakeop, a fake of the 1Password CLI.
var binary, fakeOp string

func TestMain(m *testing.M) {
	// Orphans re-parent to this process, so a stray child of the server
	// (a dbus-daemon, a hung helper) is seen by noStrays.
	_, _, _ = syscall.RawSyscall(syscall.SYS_PRCTL, 36 /* PR_SET_CHILD_SUBREAPER */, 1, 0)
	dir, err := os.MkdirTemp("", "mcp-secrets-bin")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "mcp-secrets")
	fakeOp = filepath.Join(dir, "op")
	for _, b := range [][]string{{binary, "."}, {fakeOp, "../../testdata/fakeop"}} {
		out, err := exec.Command("go", "build", "-o", b[0], b[1]).CombinedOutput()
		if err != nil {
			fmt.Fprintf(os.Stderr, "go build %s: %v\n%s", b[1], err, out)
			os.Exit(1)
		}
	}
	code := m.Run()
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

const canary = "CANARY-e2e-3d9f01b7c2"

// home is a throwaway user environment for one server process.
type home struct {
	dir string
	env []string
}

func newHome(t *testing.T) *home {
	t.Helper()
	dir := t.TempDir()
	h := &home{dir: dir}
	// Registered first, so it runs after every session's cleanup.
	t.Cleanup(func() { noStrays(t) })
	h.env = []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + dir,
		"XDG_DATA_HOME=" + filepath.Join(dir, "data"),
		"XDG_CONFIG_HOME=" + filepath.Join(dir, "config"),
		"XDG_RUNTIME_DIR=" + filepath.Join(dir, "run"),
	}
	// Keep the session bus of the test run, if any, so --backend auto and
	// keyring probes behave as the user's would.
	if v, ok := os.LookupEnv("DBUS_SESSION_BUS_ADDRESS"); ok {
		h.env = append(h.env, "DBUS_SESSION_BUS_ADDRESS="+v)
	}
	if err := os.MkdirAll(filepath.Join(dir, "run"), 0o700); err != nil {
		t.Fatal(err)
	}
	return h
}

func (h *home) command(args ...string) *exec.Cmd {
	cmd := exec.Command(binary, args...)
	cmd.Env = h.env
	return cmd
}

// session is a go-sdk client talking to the real binary.
type session struct {
	cs     *mcp.ClientSession
	stderr *lockedBuffer
	wire   *lockedBuffer // every JSON-RPC message, both ways
	cmd    *exec.Cmd
}

type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

type clientConfig struct {
	version string
	answer  string // "" = no elicitation capability; else accept/decline/cancel
	noMRTR  bool
	extra   []string // extra environment
}

func (h *home) connect(t *testing.T, cc clientConfig, args ...string) *session {
	t.Helper()
	cmd := h.command(args...)
	cmd.Env = append(cmd.Env, cc.extra...)
	s := &session{stderr: &lockedBuffer{}, wire: &lockedBuffer{}, cmd: cmd}
	cmd.Stderr = s.stderr
	opts := &mcp.ClientOptions{}
	if cc.answer != "" {
		answer := cc.answer
		opts.ElicitationHandler = func(context.Context, *mcp.ElicitRequest) (*mcp.ElicitResult, error) {
			return &mcp.ElicitResult{Action: answer}, nil
		}
	}
	if cc.noMRTR {
		opts.MultiRoundTrip = &mcp.MultiRoundTripOptions{Disabled: true}
	}
	client := mcp.NewClient(&mcp.Implementation{Name: "e2e", Version: "v0"}, opts)
	transport := &mcp.LoggingTransport{Transport: &mcp.CommandTransport{Command: cmd}, Writer: s.wire}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cs, err := client.Connect(ctx, transport, &mcp.ClientSessionOptions{ProtocolVersion: cc.version})
	if err != nil {
		t.Fatalf("connect: %v\nstderr:\n%s", err, redact(s.stderr.String()))
	}
	s.cs = cs
	t.Cleanup(func() { s.close(t) })
	return s
}

func (s *session) close(t *testing.T) {
	t.Helper()
	if s.cs == nil {
		return
	}
	_ = s.cs.Close()
	s.cs = nil
}

func (s *session) call(t *testing.T, tool string, args map[string]any) *mcp.CallToolResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	res, err := s.cs.CallTool(ctx, &mcp.CallToolParams{Name: tool, Arguments: args})
	if err != nil {
		t.Fatalf("%s: %v\nstderr:\n%s", tool, redact(err.Error()), redact(s.stderr.String()))
	}
	return res
}

func redact(s string) string { return strings.ReplaceAll(s, canary, "[canary]") }

func resultText(res *mcp.CallToolResult) string {
	var b strings.Builder
	for _, c := range res.Content {
		if tc, ok := c.(*mcp.TextContent); ok {
			b.WriteString(tc.Text)
		}
	}
	return b.String()
}

func ok(t *testing.T, res *mcp.CallToolResult) map[string]any {
	t.Helper()
	if res.IsError {
		t.Fatalf("tool error: %s", redact(resultText(res)))
	}
	var m map[string]any
	data, _ := json.Marshal(res.StructuredContent)
	_ = json.Unmarshal(data, &m)
	return m
}

// noStrays fails if any process that this test started is still running.
func noStrays(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		kids := children()
		if len(kids) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Errorf("processes left behind: %s", strings.Join(kids, "; "))
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// children lists this process's live children (zombies are reaped first).
func children() []string {
	for {
		var ws syscall.WaitStatus
		pid, err := syscall.Wait4(-1, &ws, syscall.WNOHANG, nil)
		if pid <= 0 || err != nil {
			break
		}
	}
	self := strconv.Itoa(os.Getpid())
	entries, _ := os.ReadDir("/proc")
	var out []string
	for _, e := range entries {
		if _, err := strconv.Atoi(e.Name()); err != nil {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...
		i := bytes.LastIndexByte(stat, ')')
		if i < 0 {
			continue
		}
		fields := strings.Fields(string(stat[i+1:]))
		if len(fields) > 1 && fields[1] == self && fields[0] != "Z" {
			out = append(out, e.Name()+" "+string(stat[:i+1]))
		}
	}
	return out
}

var versions = []string{"2025-06-18", "2025-11-25", "2026-07-28"}

// The whole scenario against the real binary, at every protocol version,
// with every answer a human can give.
func TestEndToEnd(t *testing.T) {
	for _, v := range versions {
		for _, answer := range []string{"accept", "decline", "cancel", ""} {
			name := v + "/" + answer
			if answer == "" {
				name = v + "/no-elicitation"
			}
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				h := newHome(t)
				s := h.connect(t, clientConfig{version: v, answer: answer}, "--backend", "file", "--log-level", "debug")
				ok(t, s.call(t, "store_credential", map[string]any{"name": "github", "value": "ghp_" + canary, "description": "GitHub token"}))
				ok(t, s.call(t, "store_credential", map[string]any{"name": "db", "value": map[string]any{"user": "ada", "password": canary}}))
				list := ok(t, s.call(t, "list_stored_credentials", nil))
				if list["count"] != float64(2) {
					t.Errorf("list = %v", list)
				}

				res := s.call(t, "retrieve_credential", map[string]any{"name": "github", "reveal": true})
				revealed := strings.Contains(resultText(res), canary)
				if revealed != (answer == "accept") {
					t.Errorf("answer %q: revealed = %v", answer, revealed)
				}
				if answer == "" && (!res.IsError || !strings.Contains(resultText(res), "elicitation")) {
					t.Errorf("no-elicitation client got %q, want a refusal that says why", redact(resultText(res)))
				}

				res = s.call(t, "clear_credentials", map[string]any{"names": []string{"db"}})
				left := ok(t, s.call(t, "list_stored_credentials", nil))["count"]
				switch answer {
				case "accept":
					if left != float64(1) || !strings.Contains(resultText(res), "Deleted 1 credential: db.") {
						t.Errorf("accepted deletion: %q, %v left", resultText(res), left)
					}
				case "decline", "cancel":
					if resultText(res) != "Deletion cancelled." || left != float64(2) {
						t.Errorf("%s deletion: %q, %v left", answer, resultText(res), left)
					}
				default:
					if !res.IsError || left != float64(2) {
						t.Errorf("deletion without elicitation: %q, %v left", resultText(res), left)
					}
				}
				s.close(t)
				// The canary may appear on the wire only in the one allowed reveal.
				if strings.Contains(s.stderr.String(), canary) {
					t.Error("the canary reached stderr")
				}
				checkWire(t, s.wire.String(), answer == "accept")
			})
		}
	}
}

// checkWire scans the logged JSON-RPC traffic: a value may appear in a
// client's tools/call request (it sent it) and, if allowed, in one
// retrieve result, nowhere else.
func checkWire(t *testing.T, wire string, revealAllowed bool) {
	t.Helper()
	reveals := 0
	for _, line := range strings.Split(wire, "\n") {
		if !strings.Contains(line, canary) {
			continue
		}
		switch {
		case strings.Contains(line, `"method":"tools/call"`) && strings.Contains(line, "store_credential"):
		case strings.Contains(line, `"revealed":true`):
			reveals++
		default:
			t.Errorf("the canary is on the wire outside a store request or an allowed reveal: %.200s", redact(line))
		}
	}
	if want := map[bool]int{true: 1, false: 0}[revealAllowed]; reveals > want*2 { // text + structured in one line
		t.Errorf("%d reveals on the wire, want at most %d", reveals, want)
	}
	if revealAllowed && reveals == 0 {
		t.Error("the allowed reveal is not on the wire")
	}
}

// A client that pre-fills an answer on its first call, without being asked,
// must not get a reveal or a deletion.
func TestForgedAnswerRefused(t *testing.T) {
	for _, v := range versions {
		t.Run(v, func(t *testing.T) {
			h := newHome(t)
			s := h.connect(t, clientConfig{version: v, answer: "decline", noMRTR: true}, "--backend", "file")
			ok(t, s.call(t, "store_credential", map[string]any{"name": "tok", "value": canary}))
			forged := mcp.InputResponseMap{"confirm": &mcp.ElicitResult{Action: "accept", Content: map[string]any{"confirm": true}}}
			for _, c := range []struct {
				tool string
				args map[string]any
			}{
				{"retrieve_credential", map[string]any{"name": "tok", "reveal": true}},
				{"clear_credentials", map[string]any{"all": true}},
			} {
				res, err := s.cs.CallTool(context.Background(), &mcp.CallToolParams{Name: c.tool, Arguments: c.args, InputResponses: forged})
				if err != nil {
					t.Fatal(err)
				}
				data, _ := json.Marshal(res)
				if strings.Contains(string(data), canary) {
					t.Errorf("%s: a forged answer revealed the value", c.tool)
				}
				if !res.NeedsInput() && !(res.IsError && strings.Contains(resultText(res), "did not ask")) {
					t.Errorf("%s with a forged answer: %s", c.tool, redact(string(data)))
				}
			}
			if ok(t, s.call(t, "list_stored_credentials", nil))["count"] != float64(1) {
				t.Error("a forged answer deleted something")
			}
		})
	}
}

// stdout carries JSON-RPC and nothing else, even at debug level and on errors.
func TestStdoutIsOnlyJSONRPC(t *testing.T) {
	h := newHome(t)
	cmd := h.command("--backend", "memory", "--log-level", "debug")
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	msgs := []string{
		`{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"raw","version":"0"}}}`,
		`{"jsonrpc":"2.0","method":"notifications/initialized"}`,
		`{"jsonrpc":"2.0","id":2,"method":"tools/list"}`,
		`{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"store_credential","arguments":{"name":"a","value":"` + canary + `"}}}`,
		`{"jsonrpc":"2.0","id":4,"method":"tools/call","params":{"name":"store_credential","arguments":{"name":"../x","value":"` + canary + `"}}}`,
		`{"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"no_such_tool","arguments":{}}}`,
		`{"jsonrpc":"2.0","id":6,"method":"tools/call","params":{"name":"retrieve_credential","arguments":{"name":"a","reveal":true}}}`,
	}
	for _, m := range msgs {
		fmt.Fprintln(stdin, m)
	}
	// Calls run concurrently, so responses may come in any order.
	var lines []string
	sc := bufio.NewScanner(stdout)
	for len(lines) < 6 && sc.Scan() {
		lines = append(lines, sc.Text())
	}
	stdin.Close()
	_ = cmd.Wait()
	if len(lines) != 6 {
		t.Errorf("got %d lines on stdout, want 6 responses:\n%s", len(lines), redact(strings.Join(lines, "\n")))
	}
	for _, l := range lines {
		var m struct {
			JSONRPC string          `json:"jsonrpc"`
			ID      json.RawMessage `json:"id"`
		}
		if err := json.Unmarshal([]byte(l), &m); err != nil || m.JSONRPC != "2.0" {
			t.Errorf("stdout line is not JSON-RPC: %.200s", redact(l))
		}
		if strings.Contains(l, canary) {
			t.Errorf("stdout carries the value: %.200s", redact(l))
		}
	}
	if strings.Contains(stderr.String(), canary) {
		t.Error("the value reached stderr")
	}
	noStrays(t)
}

// A raw client asking for 2026-07-28 through initialize is answered with
// 2025-11-25 and must then be asked through elicitation/create, as that
// protocol does; it would never retry with input responses.
func TestRawInitializeAtNewVersionGetsElicitation(t *testing.T) {
	h := newHome(t)
	cmd := h.command("--backend", "memory", "--reveal", "confirm")
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { stdin.Close(); _ = cmd.Wait(); noStrays(t) }()
	send := func(s string) { fmt.Fprintln(stdin, s) }
	sc := bufio.NewScanner(stdout)
	next := func() map[string]any {
		if !sc.Scan() {
			t.Fatal("stdout closed")
		}
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("not JSON: %v", err)
		}
		return m
	}
	send(`{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2026-07-28","capabilities":{"elicitation":{"form":{}}},"clientInfo":{"name":"raw","version":"0"}}}`)
	if v := next()["result"].(map[string]any)["protocolVersion"]; v != "2025-11-25" {
		t.Fatalf("negotiated %v", v)
	}
	send(`{"jsonrpc":"2.0","method":"notifications/initialized"}`)
	send(`{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"store_credential","arguments":{"name":"a","value":"` + canary + `"}}}`)
	next()
	send(`{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"clear_credentials","arguments":{"names":["a"]}}}`)
	m := next()
	if m["method"] != "elicitation/create" {
		t.Fatalf("want an elicitation/create request, got %v", m)
	}
	send(fmt.Sprintf(`{"jsonrpc":"2.0","id":%s,"result":{"action":"decline"}}`, string(mustJSON(m["id"]))))
	res := next()["result"].(map[string]any)
	if txt := res["content"].([]any)[0].(map[string]any)["text"]; txt != "Deletion cancelled." {
		t.Errorf("answer = %v", txt)
	}
}

func mustJSON(v any) []byte {
	data, _ := json.Marshal(v)
	return data
}

// Two processes storing 200 names each into one file-store namespace at
// once: all 400 are listed, and the index agrees.
func TestTwoProcessesShareFileStore(t *testing.T) {
	h := newHome(t)
	const each = 200
	sessions := []*session{
		h.connect(t, clientConfig{}, "--backend", "file"),
		h.connect(t, clientConfig{}, "--backend", "file"),
	}
	var wg sync.WaitGroup
	for i, s := range sessions {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range each {
				res, err := s.cs.CallTool(context.Background(), &mcp.CallToolParams{Name: "store_credential",
					Arguments: map[string]any{"name": fmt.Sprintf("p%d-%03d", i, j), "value": "v"}})
				if err != nil || res.IsError {
					t.Errorf("store p%d-%03d: %v %s", i, j, err, resultText(res))
					return
				}
			}
		}()
	}
	wg.Wait()
	for _, s := range sessions {
		if n := ok(t, s.call(t, "list_stored_credentials", nil))["count"]; n != float64(2*each) {
			t.Errorf("a process lists %v credentials, want %d", n, 2*each)
		}
	}
}

func TestClearAtStartup(t *testing.T) {
	h := newHome(t)
	s := h.connect(t, clientConfig{}, "--backend", "file")
	for _, n := range []string{"a", "b", "c"} {
		ok(t, s.call(t, "store_credential", map[string]any{"name": n, "value": canary}))
	}
	s.close(t)
	// Another namespace in the same store directory is not touched.
	other := h.connect(t, clientConfig{}, "--backend", "file", "--server-name", "other")
	ok(t, other.call(t, "store_credential", map[string]any{"name": "keep", "value": "v"}))
	other.close(t)

	for _, v := range []string{"0", "no", "maybe"} {
		s = h.connect(t, clientConfig{extra: []string{"SECRETS_MANAGER_CLEAR=" + v}}, "--backend", "file")
		if n := ok(t, s.call(t, "list_stored_credentials", nil))["count"]; n != float64(3) {
			t.Errorf("SECRETS_MANAGER_CLEAR=%s cleared: %v left", v, n)
		}
		s.close(t)
	}
	s = h.connect(t, clientConfig{extra: []string{"SECRETS_MANAGER_CLEAR=TRUE"}}, "--backend", "file")
	if n := ok(t, s.call(t, "list_stored_credentials", nil))["count"]; n != float64(0) {
		t.Errorf("SECRETS_MANAGER_CLEAR=TRUE left %v", n)
	}
	s.close(t)
	if !strings.Contains(s.stderr.String(), "deleted=3") || strings.Contains(s.stderr.String(), canary) {
		t.Errorf("stderr = %s", redact(s.stderr.String()))
	}
	other = h.connect(t, clientConfig{}, "--backend", "file", "--server-name", "other")
	if n := ok(t, other.call(t, "list_stored_credentials", nil))["count"]; n != float64(1) {
		t.Errorf("clearing one namespace touched another: %v left", n)
	}
}

func TestReadOnlyFlag(t *testing.T) {
	h := newHome(t)
	s := h.connect(t, clientConfig{}, "--backend", "memory", "--read-only")
	tools, err := s.cs.ListTools(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, tool := range tools.Tools {
		if tool.Name == "store_credential" || tool.Name == "clear_credentials" {
			t.Errorf("--read-only exposes %s", tool.Name)
		}
	}
	res, err := s.cs.CallTool(context.Background(), &mcp.CallToolParams{Name: "store_credential", Arguments: map[string]any{"name": "a", "value": "b"}})
	if err == nil && !res.IsError {
		t.Error("store_credential works under --read-only")
	}
}

func TestCommandLine(t *testing.T) {
	h := newHome(t)
	for _, c := range []struct {
		args   []string
		code   int
		stdout string
		stderr string
	}{
		{[]string{"--help"}, 0, "--backend", ""},
		{[]string{"--version"}, 0, "mcp-secrets ", ""},
		{[]string{"--no-such-flag"}, 2, "", "unknown flag: --no-such-flag"},
		{[]string{"--reveal", "sometimes"}, 2, "", "--reveal must be never, confirm or always"},
		{[]string{"--backend", "nope"}, 1, "", `unknown --backend \"nope\"; valid: auto, keyring, file, memory, env, 1password`},
		{[]string{"--backend", "env"}, 1, "", "--backend env needs --env-prefix"},
		{[]string{"--backend", "1password"}, 1, "", "a vault is required (--op-vault NAME)"},
		{[]string{"--backend", "1password", "--op-vault", "V", "--op-bin", "/nonexistent/op"}, 1, "", "--op-bin"},
		{[]string{"--server-name", "../x"}, 2, "", "--server-name"},
		{[]string{"--log-level", "loud"}, 2, "", "--log-level"},
		{[]string{"frobnicate"}, 2, "", `unknown command "frobnicate"`},
	} {
		cmd := h.command(c.args...)
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		cmd.Stdin = strings.NewReader("")
		err := cmd.Run()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		}
		if code != c.code || !strings.Contains(stdout.String(), c.stdout) || !strings.Contains(stderr.String(), c.stderr) {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want exit %d, %q, %q", c.args, code, stdout.String(), stderr.String(), c.code, c.stdout, c.stderr)
		}
	}
	// --help lists every flag with its default.
	out, _ := h.command("--help").Output()
	for _, flag := range []string{"--backend", "--server-name", "--keyring-backend", "--file-dir", "--env-prefix", "--env-auto-save",
		"--env-file", "--op-vault", "--op-account", "--op-bin", "--read-only", "--reveal", "--log-level", "--version",
		`(default "auto")`, `(default "confirm")`, `(default "mcp-secrets")`} {
		if !bytes.Contains(out, []byte(flag)) {
			t.Errorf("--help does not mention %s", flag)
		}
	}
}

// Closing stdin ends the server cleanly, leaving nothing behind.
func TestStdinCloseExits(t *testing.T) {
	h := newHome(t)
	cmd := h.command("--backend", "file")
	cmd.Stdin = strings.NewReader("")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	done := make(chan error, 1)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("exit: %v\n%s", err, stderr.String())
		}
	case <-time.After(10 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatal("the server did not exit when stdin closed")
	}
	noStrays(t)
}

// The env backend through the real binary: reads PREFIX_* variables,
// refuses writes without --env-auto-save, and with it persists to the
// dotenv file.
func TestEnvBackendEndToEnd(t *testing.T) {
	h := newHome(t)
	extra := []string{"MYAPP_API_KEY=" + canary, "MYAPP_API_SECRET=def", "MYAPP_TOKEN=tok-" + canary, "OTHER_X=no", "MYAPPLE_Y=no"}
	s := h.connect(t, clientConfig{answer: "accept", extra: extra}, "--backend", "env", "--env-prefix", "MYAPP", "--reveal", "confirm")
	list := ok(t, s.call(t, "list_stored_credentials", nil))
	data, _ := json.Marshal(list)
	if list["count"] != float64(2) || !strings.Contains(string(data), `"fields":["key","secret"]`) || strings.Contains(string(data), canary) {
		t.Errorf("list = %s", redact(string(data)))
	}
	got := ok(t, s.call(t, "retrieve_credential", map[string]any{"name": "api", "field": "key", "reveal": true}))
	if got["value"] != canary {
		t.Error("reveal of an env field did not return it")
	}
	res := s.call(t, "store_credential", map[string]any{"name": "new", "value": "v"})
	if !res.IsError || !strings.Contains(resultText(res), "--env-auto-save") {
		t.Errorf("write without --env-auto-save: %q", resultText(res))
	}
	res = s.call(t, "clear_credentials", map[string]any{"names": []string{"api"}})
	if !res.IsError || !strings.Contains(resultText(res), "--env-auto-save") {
		t.Errorf("clear without --env-auto-save: %q", resultText(res))
	}
	s.close(t)

	dotenv := filepath.Join(h.dir, "app.env")
	if err := os.WriteFile(dotenv, []byte("# keep me\nUNRELATED=1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	s = h.connect(t, clientConfig{answer: "accept"}, "--backend", "env", "--env-prefix", "MYAPP", "--env-auto-save", "--env-file", dotenv)
	ok(t, s.call(t, "store_credential", map[string]any{"name": "db", "value": map[string]any{"user": "ada", "password": canary}}))
	ok(t, s.call(t, "store_credential", map[string]any{"name": "blob", "value": map[string]any{"nested": map[string]any{"a": 1}}}))
	s.close(t)
	file, _ := os.ReadFile(dotenv)
	if !strings.HasPrefix(string(file), "# keep me\nUNRELATED=1\n") || !strings.Contains(string(file), "MYAPP_DB_PASSWORD=") || !strings.Contains(string(file), "MYAPP_BLOB__KIND='json'") {
		t.Errorf("dotenv file after writes:\n%s", redact(string(file)))
	}
	s = h.connect(t, clientConfig{answer: "accept"}, "--backend", "env", "--env-prefix", "MYAPP", "--env-file", dotenv, "--reveal", "always")
	got = ok(t, s.call(t, "retrieve_credential", map[string]any{"name": "blob", "reveal": true}))
	if data, _ := json.Marshal(got["value"]); string(data) != `{"nested":{"a":1}}` {
		t.Errorf("nested object came back as %s", data)
	}
}

// The 1Password backend through the real binary, against the fake op CLI:
// store, list, reveal and delete, and no value ever on op's command line.
func TestOnePasswordBackendEndToEndFakeOp(t *testing.T) {
	h := newHome(t)
	argv := filepath.Join(h.dir, "argv.log")
	extra := []string{"FAKEOP_STATE=" + filepath.Join(h.dir, "op-state.json"), "FAKEOP_VAULTS=Work", "FAKEOP_ARGV_LOG=" + argv}
	args := []string{"--backend", "1password", "--op-vault", "Work", "--op-bin", fakeOp}
	s := h.connect(t, clientConfig{answer: "accept", extra: extra}, args...)
	ok(t, s.call(t, "store_credential", map[string]any{"name": "stripe", "value": "sk_live_" + canary, "description": "payments"}))
	ok(t, s.call(t, "store_credential", map[string]any{"name": "db", "value": map[string]any{"user": "ada", "password": canary}}))
	res := s.call(t, "store_credential", map[string]any{"name": "db", "value": "x"})
	if !res.IsError {
		t.Error("overwrite without overwrite=true succeeded")
	}
	list := ok(t, s.call(t, "list_stored_credentials", nil))
	if list["count"] != float64(2) {
		t.Errorf("list = %v", list)
	}
	got := ok(t, s.call(t, "retrieve_credential", map[string]any{"name": "db", "reveal": true}))
	if data, _ := json.Marshal(got["value"]); !strings.Contains(string(data), canary) || got["kind"] != "object" {
		t.Error("the object did not come back from 1Password")
	}
	res = s.call(t, "clear_credentials", map[string]any{"names": []string{"stripe"}})
	if resultText(res) != "Deleted 1 credential: stripe." {
		t.Errorf("clear = %q", resultText(res))
	}
	s.close(t)
	// A second server process sees the same items.
	s = h.connect(t, clientConfig{extra: extra}, args...)
	if n := ok(t, s.call(t, "list_stored_credentials", nil))["count"]; n != float64(1) {
		t.Errorf("second process lists %v", n)
	}
	s.close(t)
	log, err := os.ReadFile(argv)
	if err != nil || len(log) == 0 {
		t.Fatalf("the fake op was not run: %v", err)
	}
	if strings.Contains(string(log), canary) {
		t.Error("a value appeared on op's command line")
	}
	if strings.Contains(s.stderr.String(), canary) {
		t.Error("a value reached stderr")
	}
}

// With no usable keyring, auto falls back to the encrypted file store with
// a generated key, works out of the box, and says so on stderr.
func TestAutoFallsBackToFileStore(t *testing.T) {
	h := newHome(t)
	h.env = slices.DeleteFunc(h.env, func(e string) bool { return strings.HasPrefix(e, "DBUS_SESSION_BUS_ADDRESS=") })
	h.env = append(h.env, "DBUS_SESSION_BUS_ADDRESS=disabled:")
	s := h.connect(t, clientConfig{answer: "accept"})
	ok(t, s.call(t, "store_credential", map[string]any{"name": "k", "value": canary}))
	s.close(t)
	log := s.stderr.String()
	if !strings.Contains(log, "backend=file") || !strings.Contains(log, "no usable OS keyring") {
		t.Errorf("stderr does not say auto chose the file store and why:\n%s", redact(log))
	}
	key := filepath.Join(h.dir, "config", "mcp-secrets", "com.mcp.mcp-secrets.key")
	if fi, err := os.Stat(key); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("generated key file %s: %v", key, err)
	}
	// The next start reads what the first stored.
	s = h.connect(t, clientConfig{}, "--reveal", "always")
	if got := ok(t, s.call(t, "retrieve_credential", map[string]any{"name": "k", "reveal": true})); got["value"] != canary {
		t.Error("the file store did not keep the value across restarts")
	}
}

// requireKeyring skips unless the Secret Service is available, and fails
// instead where CI says it must be (MCP_SECRETS_REQUIRE_KEYRINGS).
func requireKeyring(t *testing.T, name string) {
	t.Helper()
	if strings.Contains(os.Getenv("MCP_SECRETS_REQUIRE_KEYRINGS"), name) {
		return
	}
	t.Skipf("%s is not required here (MCP_SECRETS_REQUIRE_KEYRINGS); run `make test` to start it", name)
}

// Against a real Secret Service (gnome-keyring): auto picks it, and the
// whole scenario runs through the binary.
func TestKeyringEndToEnd(t *testing.T) {
	requireKeyring(t, "secret-service")
	h := newHome(t)
	name := fmt.Sprintf("e2e-%d", time.Now().UnixNano())
	s := h.connect(t, clientConfig{answer: "accept"}, "--server-name", name)
	defer func() {
		s := h.connect(t, clientConfig{extra: []string{"SECRETS_MANAGER_CLEAR=1"}}, "--server-name", name)
		s.close(t)
	}()
	ok(t, s.call(t, "store_credential", map[string]any{"name": "gh", "value": canary}))
	ok(t, s.call(t, "store_credential", map[string]any{"name": "db", "value": map[string]any{"password": canary}}))
	if got := ok(t, s.call(t, "retrieve_credential", map[string]any{"name": "gh", "reveal": true})); got["value"] != canary {
		t.Error("no reveal from the Secret Service")
	}
	if resultText(s.call(t, "clear_credentials", map[string]any{"names": []string{"gh"}})) != "Deleted 1 credential: gh." {
		t.Error("delete failed")
	}
	if n := ok(t, s.call(t, "list_stored_credentials", nil))["count"]; n != float64(1) {
		t.Errorf("list = %v", n)
	}
	s.close(t)
	if log := s.stderr.String(); !strings.Contains(log, "backend=keyring/secret-service") {
		t.Errorf("auto did not pick the Secret Service:\n%s", redact(log))
	}
}
