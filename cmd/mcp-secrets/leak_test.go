package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
	"unicode/utf16"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"golang.org/x/sys/unix"
)

// The leak suite stores the canary through every tool of the real binary,
// on every backend it offers here, at --log-level debug, through success
// and every error path a client can reach: bad names, oversized values,
// wrong types, unknown fields, declined and cancelled confirmations, a
// client without elicitation, forged answers, a reveal policy of never, the
// backend failing in the middle of a session, and a goroutine dump
// (SIGQUIT with GOTRACEBACK=all) while a store is in flight. The canary,
// also sought base64-, hex- and UTF-16-encoded, must then appear only in
// the client's own tools/call requests and in the reveals the human
// allowed: in no other message on the wire (mcp.LoggingTransport), no tool
// result or error, nothing on stderr (the dump included), no op command
// line, no answer of the local secure-entry page, and no file under the
// test's HOME (TMPDIR included) or the keyring services' directory, other
// than a store that keeps values in plain text by design (the env
// backend's dotenv file, the fake op's state). The allowed reveals are
// counted, and the plain-text stores checked to hold the canary, so the
// test shows it would see a leak. Secret Service, pass and keyctl run only
// beside real services (MCP_SECRETS_REQUIRE_KEYRINGS, as `make test` sets).
func TestLeakCanary(t *testing.T) {
	for _, b := range leakBackends() {
		t.Run(b.name, func(t *testing.T) {
			// Not parallel: noStrays counts every child of the test process.
			if b.require != "" {
				requireKeyring(t, b.require)
			}
			h := newHome(t)
			tmp := filepath.Join(h.dir, "tmp")
			if err := os.MkdirAll(tmp, 0o700); err != nil {
				t.Fatal(err)
			}
			h.env = append(h.env, "TMPDIR="+tmp)
			h.env = append(h.env, b.env(h)...)
			if b.setup != nil {
				b.setup(t, h)
			}
			args := append([]string{"--log-level", "debug"}, b.args(h)...)
			if b.cleanup {
				defer func() {
					s := h.connect(t, clientConfig{extra: []string{"SECRETS_MANAGER_CLEAR=1"}}, args...)
					s.close(t)
				}()
			}
			for _, r := range leakRuns {
				t.Run(r.name, func(t *testing.T) {
					s := h.connect(t, r.cc, append(slices.Clone(args), "--reveal", r.policy)...)
					reveals := leakScenario(t, s, r)
					s.close(t)
					leakCheckSession(t, s, reveals)
				})
			}
			t.Run("secure-entry", func(t *testing.T) {
				leakSecureEntry(t, h, args)
			})
			t.Run("goroutine-dump", func(t *testing.T) {
				leakDump(t, h, b, args)
			})
			for _, f := range b.faults {
				t.Run("fault-"+f.name, func(t *testing.T) {
					fargs := slices.Clone(args)
					if f.args != nil {
						fargs = append(fargs, f.args(h)...)
					}
					s := h.connect(t, clientConfig{answer: "accept", extra: f.env}, fargs...)
					reveals := leakFault(t, s, f)
					s.close(t)
					leakCheckSession(t, s, reveals)

					// Healthy again: what was stored before the fault is
					// intact, and nothing of what failed was stored.
					s = h.connect(t, clientConfig{answer: "accept"}, args...)
					res, revealed := leakCall(t, s, "retrieve_credential", map[string]any{"name": "tok", "reveal": true}, leakAny)
					intact := res != nil && !res.IsError && revealed && leakValue(res) == "tok-"+canary
					switch {
					case f.lossy == "" && !intact:
						t.Error("after the fault, tok does not hold its value from before")
					case f.lossy != "" && intact:
						t.Errorf("tok survived the fault, but the known loss is listed (%s): remove it from the fault", f.lossy)
					case f.lossy != "":
						t.Logf("known bug, tok was lost: %s", f.lossy)
					}
					leakCall(t, s, "retrieve_credential", map[string]any{"name": "fresh"}, leakErr)
					s.close(t)
					leakCheckSession(t, s, map[bool]int{true: 1, false: 0}[intact])
				})
			}
			leakCheckFiles(t, h, b)
		})
	}
}

// leakBackend is one way the binary can store credentials.
type leakBackend struct {
	name    string
	require string // an entry of MCP_SECRETS_REQUIRE_KEYRINGS, or "" for none
	args    func(h *home) []string
	env     func(h *home) []string
	// plain lists the files that are the store itself and hold values in
	// plain text by design; the scan skips them, and checks that they hold
	// the canary, so that it is known the scan would find it.
	plain func(h *home) []string
	// lock is the namespace lock file, held to keep a store call in flight.
	lock    func(h *home) string
	setup   func(t *testing.T, h *home)
	faults  []leakFaultKind
	cleanup bool // a keyring outlives the test: clear the namespace at the end
}

// leakFaultKind makes the backend fail in the middle of a session: env is
// added to the server's environment, and inject (if set) is called after
// the first stores and returns the function that undoes it.
type leakFaultKind struct {
	name   string
	env    []string
	args   func(h *home) []string // added to the server's flags
	inject func(t *testing.T, s *session) (restore func())
	// big makes the values stored during the fault larger than the file
	// size limit of leakNoSpace, and the Catalog's small markers smaller.
	big bool
	// lossy names a known bug by which the fault destroys a stored value;
	// the test then fails if the value survives, so the entry is removed
	// with the fix.
	lossy string
}

func leakBackends() []leakBackend {
	none := func(*home) []string { return nil }
	runtimeLock := func(ns string) func(h *home) string {
		return func(h *home) string { return filepath.Join(h.dir, "run", "mcp-secrets", "com.mcp."+ns+".lock") }
	}
	// A unique namespace for stores that outlive the test.
	ns := fmt.Sprintf("leak-%d", time.Now().UnixNano())
	passphrase := []string{"MCP_SECRETS_FILE_PASSPHRASE=leak-passphrase-0b6f"}
	fileSize := leakFaultKind{name: "no-space", inject: leakNoSpace, big: true}
	opEnv := func(h *home) []string {
		return []string{"FAKEOP_STATE=" + filepath.Join(h.dir, "op-state.json"), "FAKEOP_VAULTS=Work", "FAKEOP_ARGV_LOG=" + filepath.Join(h.dir, "op-argv.log")}
	}
	// Keyring services keep their state outside HOME; pass needs to find
	// them the way the test process does.
	passEnv := func(*home) []string {
		var env []string
		for _, k := range []string{"GNUPGHOME", "PASSWORD_STORE_DIR"} {
			if v, ok := os.LookupEnv(k); ok {
				env = append(env, k+"="+v)
			}
		}
		return env
	}
	return []leakBackend{
		{name: "memory", args: func(*home) []string { return []string{"--backend", "memory"} }, env: none, plain: none, lock: func(*home) string { return "" }},
		{
			name: "file", args: func(*home) []string { return []string{"--backend", "file"} }, env: none, plain: none,
			lock: func(h *home) string {
				return filepath.Join(h.dir, "data", "mcp-secrets", "com.mcp.mcp-secrets", ".lock")
			},
			faults: []leakFaultKind{fileSize},
		},
		{
			name: "file-passphrase", args: func(*home) []string { return []string{"--backend", "file"} },
			env: func(*home) []string { return passphrase }, plain: none,
			lock: func(h *home) string {
				return filepath.Join(h.dir, "data", "mcp-secrets", "com.mcp.mcp-secrets", ".lock")
			},
		},
		{
			name: "env",
			args: func(h *home) []string {
				return []string{"--backend", "env", "--env-prefix", "LEAKAPP", "--env-auto-save", "--env-file", filepath.Join(h.dir, "app.env")}
			},
			env: func(*home) []string { return []string{"LEAKAPP_PRESET=pre-" + canary} },
			setup: func(t *testing.T, h *home) {
				if err := os.WriteFile(filepath.Join(h.dir, "app.env"), []byte("# kept\nUNRELATED=1\n"), 0o600); err != nil {
					t.Fatal(err)
				}
			},
			plain:  func(h *home) []string { return []string{filepath.Join(h.dir, "app.env")} },
			lock:   func(*home) string { return "" },
			faults: []leakFaultKind{fileSize},
		},
		{
			name: "1password-fake-op",
			args: func(*home) []string {
				return []string{"--backend", "1password", "--op-vault", "Work", "--op-bin", fakeOp}
			},
			env:   opEnv,
			plain: func(h *home) []string { return []string{filepath.Join(h.dir, "op-state.json")} },
			lock:  runtimeLock("mcp-secrets"),
			faults: []leakFaultKind{
				// op dies mid-write and echoes its input (the value) on stderr.
				{name: "op-crash", env: []string{"FAKEOP_MODE=crash", "FAKEOP_MODE_ON=item create,item edit,item delete"}},
				// op prints its input (the value) as non-JSON on stdout.
				{name: "op-garbage", env: []string{"FAKEOP_MODE=garbage", "FAKEOP_MODE_ON=item create,item edit,item get"}},
				{name: "op-signed-out", env: []string{"FAKEOP_MODE=signedout", "FAKEOP_MODE_ON=item create,item edit,item get,item delete"}},
				// op fails and prints its whole input (the value) on stderr;
				// the fake's crash mode quotes only the first 200 bytes,
				// which end before the value.
				{name: "op-echoes-stderr", args: func(h *home) []string { return []string{"--op-bin", filepath.Join(h.dir, "op-echo")} }},
			},
			setup: func(t *testing.T, h *home) {
				script := "#!/bin/sh\ncase \"$1 $2\" in\n\"item create\"|\"item edit\") cat >&2; echo \"[ERROR] unexpected\" >&2; exit 1;;\nesac\nexec " + fakeOp + " \"$@\"\n"
				if err := os.WriteFile(filepath.Join(h.dir, "op-echo"), []byte(script), 0o700); err != nil {
					t.Fatal(err)
				}
			},
		},
		{
			name: "keyring-file", args: func(*home) []string { return []string{"--backend", "keyring", "--keyring-backend", "file"} },
			env: func(*home) []string { return passphrase }, plain: none, lock: runtimeLock("mcp-secrets"),
			// The library rewrites file items in place; oskeyring writes a
			// temporary item and renames it, so a failed write loses nothing.
			faults: []leakFaultKind{{name: "no-space", inject: leakNoSpace, big: true}},
		},
		{
			name: "secret-service", require: "secret-service", cleanup: true,
			args: func(*home) []string {
				return []string{"--backend", "keyring", "--keyring-backend", "secret-service", "--server-name", ns}
			},
			env: none, plain: none, lock: runtimeLock(ns),
		},
		{
			name: "pass", require: "pass", cleanup: true,
			args: func(*home) []string {
				return []string{"--backend", "keyring", "--keyring-backend", "pass", "--server-name", ns}
			},
			env: passEnv, plain: none, lock: runtimeLock(ns),
		},
		{
			name: "keyctl", require: "keyctl", cleanup: true,
			args: func(*home) []string {
				return []string{"--backend", "keyring", "--keyring-backend", "keyctl", "--server-name", ns}
			},
			env: none, plain: none, lock: runtimeLock(ns),
		},
	}
}

// leakRun is one session: a client, a reveal policy, and how many reveals
// the human allows in leakScenario.
type leakRun struct {
	name    string
	cc      clientConfig
	policy  string
	reveals int
}

// leakScenario makes three reveal requests; leakRuns say how many succeed.
var leakRuns = []leakRun{
	{"accept", clientConfig{version: "2026-07-28", answer: "accept"}, "confirm", 3},
	{"accept-elicitation-create", clientConfig{version: "2025-06-18", answer: "accept"}, "confirm", 3},
	{"decline", clientConfig{version: "2025-11-25", answer: "decline"}, "confirm", 0},
	{"cancel", clientConfig{version: "2026-07-28", answer: "cancel"}, "confirm", 0},
	{"no-elicitation", clientConfig{version: "2025-06-18"}, "confirm", 0},
	{"forged", clientConfig{version: "2026-07-28", answer: "decline", noMRTR: true}, "confirm", 0},
	{"reveal-never", clientConfig{version: "2025-11-25", answer: "accept"}, "never", 0},
	{"reveal-always", clientConfig{version: "2025-11-25"}, "always", 3},
}

// leakWant is what a call must answer.
type leakWant int

const (
	leakOK  leakWant = iota // a result
	leakErr                 // a tool error or a JSON-RPC error
	leakAny                 // either
)

// leakCall calls a tool with arguments given as a value, raw JSON or
// leakForged, and checks the answer: as wanted, and holding the canary only
// if it is a reveal. It returns the result (nil for a JSON-RPC error) and
// whether it revealed the canary.
func leakCall(t *testing.T, s *session, tool string, args any, want leakWant) (*mcp.CallToolResult, bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	p := &mcp.CallToolParams{Name: tool, Arguments: args}
	if f, ok := args.(leakForged); ok {
		p.Arguments = f.args
		p.InputResponses = mcp.InputResponseMap{"confirm": &mcp.ElicitResult{Action: "accept", Content: map[string]any{"confirm": true}}}
	}
	res, err := s.cs.CallTool(ctx, p)
	label := tool + " " + leakLabel(args)
	if err != nil {
		if form := leakFind([]byte(err.Error())); form != "" {
			t.Errorf("%s: the JSON-RPC error holds the canary (%s form)", label, form)
		}
		if want == leakOK {
			t.Fatalf("%s: %v", label, leakPrintable(err.Error()))
		}
		return nil, false
	}
	data, _ := json.Marshal(res)
	if want == leakErr && !res.IsError {
		t.Errorf("%s succeeded; want an error", label)
	}
	if want == leakOK && res.IsError {
		t.Errorf("%s: tool error %s", label, leakPrintable(resultText(res)))
	}
	form := leakFind(data)
	if form == "" {
		return res, false
	}
	if tool == "retrieve_credential" && !res.IsError && form == "plain" && leakRevealed(res) {
		return res, true
	}
	t.Errorf("%s: the answer holds the canary (%s form) and is not a reveal", label, form)
	return res, false
}

// leakForged marks arguments to send with a confirmation the server never asked for.
type leakForged struct{ args any }

func leakLabel(args any) string {
	if f, ok := args.(leakForged); ok {
		return "(forged answer) " + leakLabel(f.args)
	}
	var data []byte
	if raw, ok := args.(json.RawMessage); ok {
		data = raw
	} else {
		data, _ = json.Marshal(args)
	}
	s := redact(string(data))
	if len(s) > 120 {
		s = s[:120] + "..."
	}
	return s
}

// leakValue is the value a reveal returned, if it is a string.
func leakValue(res *mcp.CallToolResult) string {
	var out struct {
		Value any `json:"value"`
	}
	data, _ := json.Marshal(res.StructuredContent)
	_ = json.Unmarshal(data, &out)
	v, _ := out.Value.(string)
	return v
}

func leakRevealed(res *mcp.CallToolResult) bool {
	var out struct {
		Revealed bool `json:"revealed"`
	}
	data, _ := json.Marshal(res.StructuredContent)
	return json.Unmarshal(data, &out) == nil && out.Revealed
}

// leakStores are the successful stores every session starts with.
func leakStores(t *testing.T, s *session) {
	t.Helper()
	leakCall(t, s, "store_credential", map[string]any{"name": "tok", "value": "tok-" + canary, "description": "API token", "overwrite": true}, leakOK)
	leakCall(t, s, "store_credential", map[string]any{"name": "db", "value": map[string]any{"user": "ada", "password": canary}, "overwrite": true}, leakOK)
	leakCall(t, s, "store_credential", map[string]any{"name": "arr", "value": []any{"x", canary}, "overwrite": true}, leakOK)
}

// leakScenario runs every tool through success and each error path and
// returns how many reveals the answers held.
func leakScenario(t *testing.T, s *session, r leakRun) int {
	t.Helper()
	leakStores(t, s)
	// Refusals of the value or its name: nothing may quote the value.
	leakCall(t, s, "store_credential", map[string]any{"name": "tok", "value": "again-" + canary}, leakErr)
	for _, name := range []string{"", "../x", "a/b", `a\b`, "__x", "a..b", "a b", "ünï", "x\x00y", strings.Repeat("n", 129)} {
		leakCall(t, s, "store_credential", map[string]any{"name": name, "value": canary}, leakErr)
	}
	leakCall(t, s, "store_credential", map[string]any{"name": "big", "value": canary + strings.Repeat("x", 70<<10)}, leakErr)
	leakCall(t, s, "store_credential", map[string]any{"name": "big", "value": map[string]any{"k": canary, "pad": strings.Repeat("y", 70<<10)}}, leakErr)
	for _, raw := range []string{
		`{"name":"w","value":12345}`,
		`{"name":"w","value":true}`,
		`{"name":"w","value":null}`,
		`{"name":"w","value":"` + canary + `","overwrite":"` + canary + `"}`,
		`{"name":"w","value":"` + canary + `","description":{"d":"` + canary + `"}}`,
		`{"name":"w","value":"` + canary + `","secret":"` + canary + `"}`,
		`{"name":["w"],"value":"` + canary + `"}`,
		`{"name":{"n":"` + canary + `"},"value":"` + canary + `"}`,
		`["` + canary + `"]`,
		`"` + canary + `"`,
	} {
		leakCall(t, s, "store_credential", json.RawMessage(raw), leakErr)
	}
	for _, raw := range []string{
		`{"name":"tok","reveal":"` + canary + `"}`,
		`{"name":"tok","field":{"f":"` + canary + `"}}`,
		`{"name":"tok","extra":"` + canary + `"}`,
	} {
		leakCall(t, s, "retrieve_credential", json.RawMessage(raw), leakErr)
	}
	leakCall(t, s, "clear_credentials", json.RawMessage(`{"names":[{"v":"`+canary+`"}]}`), leakErr)
	leakCall(t, s, "clear_credentials", json.RawMessage(`{"names":["tok"],"all":"`+canary+`"}`), leakErr)
	leakCall(t, s, "list_stored_credentials", json.RawMessage(`{"x":"`+canary+`"}`), leakErr)
	leakCall(t, s, "no_such_tool", map[string]any{"value": canary}, leakErr)

	// Reads that reveal nothing.
	leakCall(t, s, "list_stored_credentials", nil, leakOK)
	leakCall(t, s, "retrieve_credential", map[string]any{"name": "tok"}, leakOK)
	leakCall(t, s, "retrieve_credential", map[string]any{"name": "db", "field": "password"}, leakOK)
	leakCall(t, s, "retrieve_credential", map[string]any{"name": "db", "field": "nope", "reveal": true}, leakErr)
	leakCall(t, s, "retrieve_credential", map[string]any{"name": "tok", "field": "x", "reveal": true}, leakErr)
	leakCall(t, s, "retrieve_credential", map[string]any{"name": "missing", "reveal": true}, leakErr)

	// Three reveal requests and a deletion, answered as the run says. A
	// client that cannot ask is refused; a forged answer is refused or
	// asked again, never obeyed.
	forged := r.name == "forged"
	want := leakOK
	switch {
	case forged:
		want = leakAny
	case r.cc.answer == "" && r.policy == "confirm":
		want = leakErr
	}
	reveals := 0
	for _, args := range []map[string]any{
		{"name": "tok", "reveal": true},
		{"name": "db", "field": "password", "reveal": true},
		{"name": "arr", "reveal": true},
	} {
		var a any = args
		if forged {
			a = leakForged{args}
		}
		if _, revealed := leakCall(t, s, "retrieve_credential", a, want); revealed {
			reveals++
		}
	}
	if reveals != r.reveals {
		t.Errorf("%d of 3 reveal requests revealed the value; want %d", reveals, r.reveals)
	}

	var a any = map[string]any{"names": []string{"arr"}}
	if forged {
		a = leakForged{a}
	}
	if r.cc.answer == "" {
		want = leakErr // deleting always needs a confirmation
	}
	before, _ := ok(t, s.call(t, "list_stored_credentials", nil))["count"].(float64)
	leakCall(t, s, "clear_credentials", a, want)
	left := before
	if r.cc.answer == "accept" && !forged {
		left--
	}
	if n := ok(t, s.call(t, "list_stored_credentials", nil))["count"]; n != left {
		t.Errorf("after the deletion %v credentials are left; want %v", n, left)
	}
	return reveals
}

// leakFault stores, breaks the backend (or starts broken, for a faulty
// op), and calls every tool while it is broken. It returns how many
// reveals the answers held.
func leakFault(t *testing.T, s *session, f leakFaultKind) int {
	t.Helper()
	if f.inject != nil {
		leakStores(t, s)
		defer f.inject(t, s)()
	}
	// With a broken op, the values were stored by the earlier sessions.
	pad := ""
	if f.big {
		pad = strings.Repeat("x", 20<<10) // under env's 32 KiB per variable
	}
	leakCall(t, s, "store_credential", map[string]any{"name": "fresh", "value": "fresh-" + canary + pad}, leakErr)
	leakCall(t, s, "store_credential", map[string]any{"name": "tok", "value": "new-" + canary + pad, "overwrite": true}, leakErr)
	leakCall(t, s, "store_credential", map[string]any{"name": "obj", "value": map[string]any{"password": canary, "pad": pad}}, leakErr)
	leakCall(t, s, "list_stored_credentials", nil, leakAny)
	reveals := 0
	for _, args := range []map[string]any{{"name": "tok", "reveal": true}, {"name": "db", "field": "password", "reveal": true}} {
		// Reads work on a full disk, and fail when op prints garbage.
		if _, revealed := leakCall(t, s, "retrieve_credential", args, leakAny); revealed {
			reveals++
		}
	}
	leakCall(t, s, "clear_credentials", map[string]any{"names": []string{"arr"}}, leakAny)
	return reveals
}

// leakNoSpace lowers the server's file size limit to 16 KiB (RLIMIT_FSIZE
// binds root too), so that writing a larger file fails with EFBIG as on a
// full disk; the Go runtime ignores the SIGXFSZ that comes with it.
func leakNoSpace(t *testing.T, s *session) func() {
	t.Helper()
	pid := s.cmd.Process.Pid
	var old unix.Rlimit
	if err := unix.Prlimit(pid, unix.RLIMIT_FSIZE, &unix.Rlimit{Cur: 16 << 10, Max: unix.RLIM_INFINITY}, &old); err != nil {
		t.Fatalf("prlimit: %v", err)
	}
	return func() {
		if err := unix.Prlimit(pid, unix.RLIMIT_FSIZE, &old, nil); err != nil {
			t.Fatalf("prlimit: %v", err)
		}
	}
}

// leakSecureEntry stores the canary the way a person does when the
// assistant calls store_credential without a value: typed on the one-time
// local page (first too large, then right). Neither page answer may echo
// it, and it reaches MCP only in the reveal the human allows.
func leakSecureEntry(t *testing.T, h *home, args []string) {
	s := h.connect(t, clientConfig{version: "2025-11-25", answer: "accept"}, args...)
	res, _ := leakCall(t, s, "store_credential", map[string]any{"name": "typed", "description": "typed on the page", "overwrite": true}, leakOK)
	var out struct {
		Entry struct {
			URL string `json:"url"`
		} `json:"entry"`
	}
	data, _ := json.Marshal(res.StructuredContent)
	if err := json.Unmarshal(data, &out); err != nil || !strings.HasPrefix(out.Entry.URL, "http://127.0.0.1:") {
		t.Fatalf("store_credential without a value gave no entry link: %s", leakPrintable(string(data)))
	}
	page := leakHTTP(t, http.MethodGet, out.Entry.URL, "", nil)
	action := regexp.MustCompile(`<form method="post" action="([^"]+)"`).FindStringSubmatch(page)
	fields := regexp.MustCompile(`<input type="password" id="[^"]*" name="([^"]+)"`).FindAllStringSubmatch(page, -1)
	if action == nil || len(fields) != 1 {
		t.Fatalf("the entry page has no form with one secret field:\n%s", leakPrintable(page))
	}
	u, err := url.Parse(out.Entry.URL)
	if err != nil {
		t.Fatal(err)
	}
	target := u.Scheme + "://" + u.Host + html.UnescapeString(action[1])
	origin := u.Scheme + "://" + u.Host
	for _, value := range []string{canary + strings.Repeat("x", 70<<10), canary} {
		form := url.Values{fields[0][1]: {value}}.Encode()
		leakHTTP(t, http.MethodPost, target, origin, strings.NewReader(form))
	}
	leakCall(t, s, "list_stored_credentials", nil, leakOK)
	if _, revealed := leakCall(t, s, "retrieve_credential", map[string]any{"name": "typed", "reveal": true}, leakOK); !revealed {
		t.Error("the value typed on the page was not stored")
	}
	s.close(t)
	leakCheckSession(t, s, 1)
}

// leakHTTP makes a request of the entry page and returns the answer, which
// must not hold the canary.
func leakHTTP(t *testing.T, method, target, origin string, body io.Reader) string {
	t.Helper()
	req, err := http.NewRequest(method, target, body)
	if err != nil {
		t.Fatal(err)
	}
	if origin != "" {
		req.Header.Set("Origin", origin)
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if form := leakFind(data); form != "" {
		t.Errorf("the entry page's answer to %s (status %d) holds the canary (%s form)", method, resp.StatusCode, form)
	}
	return string(data)
}

// leakDump sends SIGQUIT with GOTRACEBACK=all to a server that has stored
// and revealed the canary and, for stores with a namespace lock, is in the
// middle of storing it again (held at the lock, which the test takes): the
// goroutine dump on stderr must not hold it.
func leakDump(t *testing.T, h *home, b leakBackend, args []string) {
	s := h.connect(t, clientConfig{answer: "accept", extra: []string{"GOTRACEBACK=all"}}, args...)
	leakStores(t, s)
	if _, revealed := leakCall(t, s, "retrieve_credential", map[string]any{"name": "tok", "reveal": true}, leakOK); !revealed {
		t.Error("no reveal before the dump")
	}
	inFlight := make(chan struct{})
	lock := b.lock(h)
	if lock != "" {
		f, err := os.OpenFile(lock, os.O_CREATE|os.O_RDWR, 0o600)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
			t.Fatal(err)
		}
		go func() {
			defer close(inFlight)
			_, _ = s.cs.CallTool(context.Background(), &mcp.CallToolParams{Name: "store_credential",
				Arguments: map[string]any{"name": "inflight", "value": "inflight-" + canary}})
		}()
		time.Sleep(500 * time.Millisecond) // the store is waiting for the lock now
	} else {
		close(inFlight)
	}
	if err := s.cmd.Process.Signal(syscall.SIGQUIT); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(20 * time.Second); !strings.Contains(s.stderr.String(), "goroutine ") && time.Now().Before(deadline); {
		time.Sleep(50 * time.Millisecond)
	}
	s.close(t) // waits for the process, so stderr is complete
	<-inFlight
	dump := s.stderr.String()
	if !strings.Contains(dump, "SIGQUIT") || !strings.Contains(dump, "goroutine ") {
		t.Fatalf("no goroutine dump on stderr after SIGQUIT:\n%s", leakPrintable(dump))
	}
	if lock != "" && !strings.Contains(dump, "(*Catalog).Put") {
		t.Error("the dump shows no store in flight (no (*Catalog).Put)")
	}
	if form := leakFind([]byte(dump)); form != "" {
		t.Errorf("the goroutine dump holds the canary (%s form)", form)
	}
}

// leakCheckSession checks what a closed session left: stderr and the wire.
func leakCheckSession(t *testing.T, s *session, reveals int) {
	t.Helper()
	stderr := s.stderr.String()
	if form := leakFind([]byte(stderr)); form != "" {
		t.Errorf("stderr holds the canary (%s form)", form)
	}
	if !strings.Contains(stderr, "level=DEBUG") || !strings.Contains(stderr, "name=") {
		t.Errorf("stderr has no debug log naming credentials; is --log-level debug in effect?")
	}
	onWire := 0
	for _, line := range strings.Split(s.wire.String(), "\n") {
		form := leakFind([]byte(line))
		if form == "" {
			continue
		}
		dir, msg, _ := strings.Cut(line, ": ")
		var m struct {
			Method string `json:"method"`
			Result *struct {
				IsError           bool `json:"isError"`
				StructuredContent *struct {
					Revealed bool `json:"revealed"`
				} `json:"structuredContent"`
			} `json:"result"`
		}
		_ = json.Unmarshal([]byte(msg), &m)
		switch {
		case dir == "write" && m.Method == "tools/call" && form == "plain":
			// The client's own request.
		case dir == "read" && form == "plain" && m.Result != nil && !m.Result.IsError &&
			m.Result.StructuredContent != nil && m.Result.StructuredContent.Revealed:
			onWire++
		default:
			t.Errorf("the canary (%s form) is on the wire outside the client's requests and allowed reveals: %.200s", form, leakSafe(form, line))
		}
	}
	if onWire != reveals {
		t.Errorf("%d reveals on the wire, want %d", onWire, reveals)
	}
}

// leakPrintable is s fit for a test message: the canary redacted, or all
// of s withheld if it holds an encoded form of the canary.
func leakPrintable(s string) string {
	if form := leakFind([]byte(s)); form != "" && form != "plain" {
		return "[withheld: it holds an encoded form of the canary]"
	}
	return redact(s)
}

// leakSafe is line fit for a test message: redacted if the canary is
// there in plain text, else withheld.
func leakSafe(form, line string) string {
	if form == "plain" {
		return redact(line)
	}
	return "[line withheld: it holds an encoded form of the canary]"
}

// leakCheckFiles scans every file under HOME. The stores that keep values
// in plain text by design are skipped, after checking that they do hold the
// canary, which shows the scan would find it.
func leakCheckFiles(t *testing.T, h *home, b leakBackend) {
	t.Helper()
	skip := b.plain(h)
	for _, p := range skip {
		data, err := os.ReadFile(p)
		if err != nil || leakFind(data) == "" {
			t.Errorf("the store %s does not hold the canary (err %v): is the scan looking in the right place?", filepath.Base(p), err)
		}
	}
	scanned := leakScanDir(t, h.dir, skip)
	// The keyring services of .ci/services.sh keep their files (the
	// Secret Service's keyrings, the password store) in their own
	// directory; its cache holds the compiled tests, canary and all.
	if os.Getenv("MCP_SECRETS_SERVICES_DIR") != "" && b.require != "" {
		for _, k := range []string{"XDG_DATA_HOME", "PASSWORD_STORE_DIR"} {
			if dir := os.Getenv(k); dir != "" {
				scanned += leakScanDir(t, dir, nil)
			}
		}
	}
	if argv, err := os.ReadFile(filepath.Join(h.dir, "op-argv.log")); err == nil {
		if !bytes.Contains(argv, []byte(`"item"`)) {
			t.Error("the op argv log shows no item command")
		}
		if leakFind(argv) != "" {
			t.Error("a value appeared on op's command line")
		}
	}
	t.Logf("%d files under HOME scanned", scanned)
}

// leakScanDir reports every regular file under dir, other than skip, that
// holds the canary, and returns how many files it read.
func leakScanDir(t *testing.T, dir string, skip []string) int {
	t.Helper()
	scanned := 0
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if errors.Is(err, fs.ErrNotExist) {
			return nil // removed while we walk
		}
		if err != nil || !d.Type().IsRegular() || slices.Contains(skip, path) {
			return err
		}
		data, err := os.ReadFile(path)
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if err != nil {
			return err
		}
		scanned++
		if form := leakFind(data); form != "" {
			rel, _ := filepath.Rel(dir, path)
			t.Errorf("%s holds the canary (%s form)", filepath.Join(filepath.Base(dir), rel), form)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return scanned
}

// leakForms are the forms in which the canary is sought: as is, hex,
// base64 (standard and URL alphabets, at every alignment) and UTF-16.
var leakForms = func() map[string][]byte {
	forms := map[string][]byte{
		"plain": []byte(canary),
		"hex":   []byte(hex.EncodeToString([]byte(canary))),
		"HEX":   []byte(strings.ToUpper(hex.EncodeToString([]byte(canary)))),
	}
	var u16 []byte
	for _, r := range utf16.Encode([]rune(canary)) {
		u16 = append(u16, byte(r), byte(r>>8))
	}
	forms["utf-16le"] = u16
	for off := range 3 {
		for name, enc := range map[string]*base64.Encoding{"base64": base64.StdEncoding, "base64url": base64.URLEncoding} {
			s := enc.EncodeToString(append(make([]byte, off), canary...))
			// Drop the groups that mix in the padding or the offset.
			forms[fmt.Sprintf("%s@%d", name, off)] = []byte(s[4 : len(s)-4])
		}
	}
	return forms
}()

// leakFind returns the name of a form of the canary that data holds, or "".
func leakFind(data []byte) string {
	if bytes.Contains(data, leakForms["plain"]) {
		return "plain"
	}
	for name, form := range leakForms {
		if bytes.Contains(data, form) {
			return name
		}
	}
	return ""
}
