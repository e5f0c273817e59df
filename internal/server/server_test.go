package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcp-secrets/mcp-secrets/internal/backend"
	"github.com/mcp-secrets/mcp-secrets/internal/backend/memory"
	"github.com/mcp-secrets/mcp-secrets/internal/elicit"
	"github.com/mcp-secrets/mcp-secrets/internal/server"
)

// canary is stored as a secret; it must never show up where a value must not.
const canary = "CANARY-srv-91c2e7aa4f"

// The protocol versions the elicitation flows must work at.
var versions = []string{"2025-06-18", "2025-11-25", "2026-07-28"}

// syncBuffer is a log sink the server and the test can share.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

type env struct {
	cs   *mcp.ClientSession
	cat  *backend.Catalog
	logs *syncBuffer
}

// elicitAnswer is how the test's human answers: an action and, for
// accept, whether the confirm box stays ticked.
type elicitAnswer struct {
	action  string
	confirm any // nil: leave the field out
}

type setup struct {
	opts    server.Options
	answer  *elicitAnswer // nil: the client has no elicitation capability
	version string
	noMRTR  bool // drive multi-round-trip by hand
	catalog server.Catalog
	asked   *[]*mcp.ElicitParams
	askedMu *sync.Mutex
}

func start(t *testing.T, s setup) *env {
	t.Helper()
	ctx := context.Background()
	logs := &syncBuffer{}
	logger := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	cat := backend.NewCatalog(memory.New(0), backend.CatalogOptions{Logger: logger})
	var c server.Catalog = cat
	if s.catalog != nil {
		c = s.catalog
	}
	s.opts.Logger = logger
	if s.opts.Namespace == "" {
		s.opts.Namespace = "com.mcp.test"
	}
	srv := server.New(c, s.opts)
	copts := &mcp.ClientOptions{}
	if s.answer != nil {
		ans := *s.answer
		copts.ElicitationHandler = func(_ context.Context, req *mcp.ElicitRequest) (*mcp.ElicitResult, error) {
			if s.asked != nil {
				s.askedMu.Lock()
				*s.asked = append(*s.asked, req.Params)
				s.askedMu.Unlock()
			}
			res := &mcp.ElicitResult{Action: ans.action}
			if ans.action == "accept" {
				res.Content = map[string]any{}
				if ans.confirm != nil {
					res.Content["confirm"] = ans.confirm
				}
			}
			return res, nil
		}
	}
	if s.noMRTR {
		copts.MultiRoundTrip = &mcp.MultiRoundTripOptions{Disabled: true}
	}
	client := mcp.NewClient(&mcp.Implementation{Name: "test", Version: "v0"}, copts)
	st, ct := mcp.NewInMemoryTransports()
	ss, err := srv.Connect(ctx, st, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ss.Close() })
	cs, err := client.Connect(ctx, ct, &mcp.ClientSessionOptions{ProtocolVersion: s.version})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cs.Close() })
	return &env{cs: cs, cat: cat, logs: logs}
}

// call calls a tool and returns the result, failing on protocol errors.
func (e *env) call(t *testing.T, tool string, args any) *mcp.CallToolResult {
	t.Helper()
	res, err := e.cs.CallTool(context.Background(), &mcp.CallToolParams{Name: tool, Arguments: args})
	if err != nil {
		t.Fatalf("CallTool(%s): protocol error: %v", tool, err)
	}
	return res
}

func text(res *mcp.CallToolResult) string {
	var parts []string
	for _, c := range res.Content {
		if tc, ok := c.(*mcp.TextContent); ok {
			parts = append(parts, tc.Text)
		}
	}
	return strings.Join(parts, "\n")
}

// wire is everything a result carries to the client, as JSON.
func wire(t *testing.T, res *mcp.CallToolResult) string {
	t.Helper()
	data, err := json.Marshal(res)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

func structured(t *testing.T, res *mcp.CallToolResult) map[string]any {
	t.Helper()
	if res.IsError {
		t.Fatalf("tool error: %s", redact(text(res)))
	}
	var m map[string]any
	data, _ := json.Marshal(res.StructuredContent)
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatalf("structured content: %v", err)
	}
	return m
}

// redact keeps a failure message from printing the canary.
func redact(s string) string { return strings.ReplaceAll(s, canary, "[canary]") }

func mustNotLeak(t *testing.T, where, s string) {
	t.Helper()
	if strings.Contains(s, canary) {
		t.Errorf("the canary value leaked into %s", where)
	}
}

func TestToolsAndAnnotations(t *testing.T) {
	type hints struct{ readOnly, destructive, idempotent, openWorld bool }
	want := map[string]hints{
		"list_stored_credentials": {true, false, true, false},
		"retrieve_credential":     {true, false, true, false},
		"store_credential":        {false, true, true, false},
		"clear_credentials":       {false, true, false, false},
	}
	for _, readOnly := range []bool{false, true} {
		e := start(t, setup{opts: server.Options{ReadOnly: readOnly}})
		res, err := e.cs.ListTools(context.Background(), nil)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, tool := range res.Tools {
			got = append(got, tool.Name)
			w, ok := want[tool.Name]
			if !ok {
				t.Errorf("unexpected tool %q", tool.Name)
				continue
			}
			a := tool.Annotations
			if a == nil || a.DestructiveHint == nil || a.OpenWorldHint == nil {
				t.Errorf("%s: annotations missing or hints left to defaults: %+v", tool.Name, a)
				continue
			}
			if g := (hints{a.ReadOnlyHint, *a.DestructiveHint, a.IdempotentHint, *a.OpenWorldHint}); g != w {
				t.Errorf("%s: hints = %+v, want %+v", tool.Name, g, w)
			}
			if tool.Description == "" || tool.InputSchema == nil {
				t.Errorf("%s: missing description or input schema", tool.Name)
			}
		}
		slices.Sort(got)
		wantNames := []string{"clear_credentials", "list_stored_credentials", "retrieve_credential", "store_credential"}
		if readOnly {
			wantNames = []string{"list_stored_credentials", "retrieve_credential"}
		}
		if !slices.Equal(got, wantNames) {
			t.Errorf("readOnly=%v: tools = %q, want %q", readOnly, got, wantNames)
		}
	}
}

func TestStoreListRetrieve(t *testing.T) {
	e := start(t, setup{opts: server.Options{Reveal: server.RevealAlways}})
	res := e.call(t, "store_credential", map[string]any{"name": "api", "value": "sk-" + canary, "description": "API key"})
	out := structured(t, res)
	mustNotLeak(t, "the store result", wire(t, res))
	if out["kind"] != "string" || out["name"] != "api" || out["replaced"] != false {
		t.Errorf("store result = %v", out)
	}
	res = e.call(t, "store_credential", map[string]any{"name": "db", "value": map[string]any{"user": "ada", "password": canary}})
	mustNotLeak(t, "the store result", wire(t, res))
	res = e.call(t, "store_credential", map[string]any{"name": "jsonish", "value": `{"a":"b"}`})
	structured(t, res)

	res = e.call(t, "list_stored_credentials", map[string]any{})
	mustNotLeak(t, "the list result", wire(t, res))
	list := structured(t, res)
	creds := list["credentials"].([]any)
	if len(creds) != 3 || list["count"].(float64) != 3 {
		t.Fatalf("list = %v", list)
	}
	db := creds[1].(map[string]any)
	if db["name"] != "db" || db["kind"] != "object" || !slices.Equal(toStrings(db["fields"]), []string{"password", "user"}) {
		t.Errorf("list entry for db = %v", db)
	}
	if strings.Contains(wire(t, res), "ada") {
		t.Error("list shows a field's value")
	}

	// Metadata and preview only, unless reveal is asked for.
	res = e.call(t, "retrieve_credential", map[string]any{"name": "api"})
	mustNotLeak(t, "a retrieve without reveal", wire(t, res))
	got := structured(t, res)
	if got["revealed"] != false || got["preview"] != "****"+canary[len(canary)-4:] || got["value"] != nil {
		t.Errorf("retrieve without reveal = %v", redactMap(got))
	}
	res = e.call(t, "retrieve_credential", map[string]any{"name": "api", "reveal": true})
	if got := structured(t, res); got["value"] != "sk-"+canary || got["revealed"] != true {
		t.Errorf("retrieve with reveal under --reveal always did not return the value")
	}
	res = e.call(t, "retrieve_credential", map[string]any{"name": "db", "field": "password", "reveal": true})
	if got := structured(t, res); got["value"] != canary {
		t.Errorf("retrieve of a field did not return that field")
	}
	res = e.call(t, "retrieve_credential", map[string]any{"name": "db", "reveal": true})
	if got := structured(t, res); !mapsEqual(got["value"], map[string]any{"user": "ada", "password": canary}) {
		t.Errorf("an object came back as something else")
	}
	res = e.call(t, "retrieve_credential", map[string]any{"name": "jsonish", "reveal": true})
	if got := structured(t, res); got["value"] != `{"a":"b"}` || got["kind"] != "string" {
		t.Errorf("a string that looks like JSON came back as %v", got["value"])
	}
	mustNotLeak(t, "the log", e.logs.String())
}

func toStrings(v any) []string {
	var out []string
	for _, x := range v.([]any) {
		out = append(out, x.(string))
	}
	return out
}

func mapsEqual(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return bytes.Equal(x, y)
}

func redactMap(m map[string]any) string {
	data, _ := json.Marshal(m)
	return redact(string(data))
}

func TestStoreOverwriteRule(t *testing.T) {
	e := start(t, setup{opts: server.Options{Reveal: server.RevealAlways}})
	structured(t, e.call(t, "store_credential", map[string]any{"name": "k", "value": "first"}))
	res := e.call(t, "store_credential", map[string]any{"name": "k", "value": canary})
	if !res.IsError || !strings.Contains(text(res), "overwrite") {
		t.Errorf("overwrite without overwrite=true: %s", redact(text(res)))
	}
	mustNotLeak(t, "the refusal", wire(t, res))
	got := structured(t, e.call(t, "retrieve_credential", map[string]any{"name": "k", "reveal": true}))
	if got["value"] != "first" {
		t.Error("a refused store changed the value")
	}
	out := structured(t, e.call(t, "store_credential", map[string]any{"name": "k", "value": "second", "overwrite": true}))
	if out["replaced"] != true {
		t.Errorf("overwrite result = %v", out)
	}
}

// Bad input gets a tool error that names the rule, never the value, and
// the next call works.
func TestBadInput(t *testing.T) {
	e := start(t, setup{opts: server.Options{Reveal: server.RevealAlways}})
	big := strings.Repeat("x", backend.DefaultMaxValueSize) + canary
	cases := []struct {
		tool string
		args any
		want string
	}{
		{"store_credential", map[string]any{"name": "", "value": canary}, "must not be empty"},
		{"store_credential", map[string]any{"name": "__secret_index__", "value": canary}, "reserved"},
		{"store_credential", map[string]any{"name": "../etc/passwd", "value": canary}, `must not contain "/"`},
		{"store_credential", map[string]any{"name": "a..b", "value": canary}, `".."`},
		{"store_credential", map[string]any{"name": strings.Repeat("n", 129), "value": canary}, "limit is 128"},
		{"store_credential", map[string]any{"name": "bad name", "value": canary}, "letters, digits"},
		{"store_credential", map[string]any{"name": "n", "value": 12345}, "not a number"},
		{"store_credential", map[string]any{"name": "n", "value": true}, "not a boolean"},
		{"store_credential", map[string]any{"name": "n", "value": nil}, `"value" is required`},
		// {"name": "n"} alone is not bad input: it opens a secure entry (store_entry_test.go).
		{"store_credential", map[string]any{"name": "n", "value": canary, "fields": []string{"a"}}, `"fields" is only for a value the user types`},
		{"store_credential", map[string]any{"name": "n", "fields": []string{}}, "at least one field"},
		{"store_credential", map[string]any{"name": "n", "fields": []string{"a", "a"}}, "named twice"},
		{"store_credential", map[string]any{"name": "n", "fields": []string{"a\nb"}}, "printable"},
		{"store_credential", map[string]any{"name": "../n"}, `must not contain "/"`},
		{"store_credential", map[string]any{"name": "n", "description": strings.Repeat("d", 2000)}, "description"},
		{"store_credential", map[string]any{"name": "n", "value": ""}, "must not be empty"},
		{"store_credential", map[string]any{"name": "n", "value": big}, "limit is 65536"},
		{"store_credential", map[string]any{"name": 7, "value": canary}, `"name" must be a string`},
		{"store_credential", map[string]any{"name": "n", "value": canary, "valu": canary}, `unknown field "valu"`},
		{"store_credential", map[string]any{"name": "n", "value": canary, "description": strings.Repeat("d", 2000)}, "description"},
		{"retrieve_credential", map[string]any{"name": "missing"}, "not found"},
		{"retrieve_credential", map[string]any{"name": "a/b"}, `must not contain "/"`},
		{"retrieve_credential", map[string]any{"name": "ok", "field": "nope"}, `no field "nope"`},
		{"clear_credentials", map[string]any{}, "either names or all=true"},
		{"clear_credentials", map[string]any{"names": []string{"x"}, "all": true}, "either names or all=true"},
		{"clear_credentials", map[string]any{"names": []string{"../x"}}, `must not contain "/"`},
	}
	structured(t, e.call(t, "store_credential", map[string]any{"name": "ok", "value": map[string]any{"f": canary}}))
	for _, c := range cases {
		res := e.call(t, c.tool, c.args)
		msg := text(res)
		if !res.IsError || !strings.Contains(msg, c.want) {
			t.Errorf("%s(%s): isError=%v, message %q; want an error mentioning %q", c.tool, redact(argsString(c.args))[:min(80, len(redact(argsString(c.args))))], res.IsError, redact(msg)[:min(200, len(redact(msg)))], c.want)
		}
		mustNotLeak(t, c.tool+"'s error", wire(t, res))
		// The server keeps serving.
		structured(t, e.call(t, "list_stored_credentials", nil))
	}
	list := structured(t, e.call(t, "list_stored_credentials", nil))
	if list["count"].(float64) != 1 {
		t.Errorf("bad input stored something: %v", list)
	}
	mustNotLeak(t, "the log", e.logs.String())
}

func argsString(a any) string {
	data, _ := json.Marshal(a)
	return string(data)
}

func TestRevealPolicies(t *testing.T) {
	for _, tc := range []struct {
		policy   server.Reveal
		answer   *elicitAnswer
		revealed bool
		isError  bool
		note     string
	}{
		{server.RevealNever, &elicitAnswer{action: "accept"}, false, false, "never reveals"},
		{server.RevealAlways, nil, true, false, "without confirmation"},
		{server.RevealConfirm, &elicitAnswer{action: "accept"}, true, false, "confirmation"},
		{server.RevealConfirm, &elicitAnswer{action: "accept", confirm: true}, true, false, "confirmation"},
		{server.RevealConfirm, &elicitAnswer{action: "accept", confirm: false}, false, false, "did not allow"},
		{server.RevealConfirm, &elicitAnswer{action: "decline"}, false, false, "did not allow"},
		{server.RevealConfirm, &elicitAnswer{action: "cancel"}, false, false, "did not allow"},
		{server.RevealConfirm, nil, false, true, "does not support MCP elicitation"},
	} {
		for _, v := range versions {
			name := string(tc.policy) + "/" + v
			if tc.answer != nil {
				name += "/" + tc.answer.action
			}
			t.Run(name, func(t *testing.T) {
				var asked []*mcp.ElicitParams
				e := start(t, setup{opts: server.Options{Reveal: tc.policy}, answer: tc.answer, version: v, asked: &asked, askedMu: &sync.Mutex{}})
				structured(t, e.call(t, "store_credential", map[string]any{"name": "tok", "value": canary}))
				res := e.call(t, "retrieve_credential", map[string]any{"name": "tok", "reveal": true})
				if res.IsError != tc.isError {
					t.Fatalf("isError = %v (%s), want %v", res.IsError, redact(text(res)), tc.isError)
				}
				w := wire(t, res)
				if tc.revealed != strings.Contains(w, canary) {
					t.Errorf("value in the result = %v, want %v", strings.Contains(w, canary), tc.revealed)
				}
				if !strings.Contains(w, tc.note) {
					t.Errorf("result does not say %q: %s", tc.note, redact(w))
				}
				if tc.policy == server.RevealConfirm && tc.answer != nil {
					if len(asked) != 1 || !strings.Contains(asked[0].Message, `"tok"`) {
						t.Errorf("the human was asked %d times, or not about tok: %v", len(asked), asked)
					}
					mustNotLeak(t, "the question", asked[0].Message)
				}
				if tc.policy != server.RevealConfirm && len(asked) != 0 {
					t.Errorf("the human was asked under --reveal %s", tc.policy)
				}
				mustNotLeak(t, "the log", e.logs.String())
			})
		}
	}
}

func TestClear(t *testing.T) {
	for _, v := range versions {
		for _, tc := range []struct {
			answer  *elicitAnswer
			deleted bool
			text    string
		}{
			{&elicitAnswer{action: "accept"}, true, "Deleted 2 credentials: a, b."},
			{&elicitAnswer{action: "decline"}, false, "Deletion cancelled."},
			{&elicitAnswer{action: "cancel"}, false, "Deletion cancelled."},
			{&elicitAnswer{action: "accept", confirm: false}, false, "Deletion cancelled."},
			{nil, false, "does not support MCP elicitation"},
		} {
			name := v + "/none"
			if tc.answer != nil {
				name = v + "/" + tc.answer.action
			}
			t.Run(name, func(t *testing.T) {
				var asked []*mcp.ElicitParams
				e := start(t, setup{answer: tc.answer, version: v, asked: &asked, askedMu: &sync.Mutex{}})
				for _, n := range []string{"a", "b", "c"} {
					structured(t, e.call(t, "store_credential", map[string]any{"name": n, "value": canary}))
				}
				res := e.call(t, "clear_credentials", map[string]any{"names": []string{"b", "a", "a", "zz"}})
				got := text(res)
				if !strings.Contains(got, tc.text) {
					t.Errorf("answer = %q, want it to contain %q", got, tc.text)
				}
				if tc.text == "Deletion cancelled." && got != tc.text {
					t.Errorf("a cancelled deletion answers %q, want exactly %q", got, tc.text)
				}
				list, _ := e.cat.List(context.Background())
				var names []string
				for _, m := range list {
					names = append(names, m.Name)
				}
				want := []string{"a", "b", "c"}
				if tc.deleted {
					want = []string{"c"}
				}
				if !slices.Equal(names, want) {
					t.Errorf("left = %q, want %q", names, want)
				}
				if tc.answer != nil {
					if len(asked) != 1 || !strings.Contains(asked[0].Message, "a, b") || strings.Contains(asked[0].Message, "zz") {
						t.Errorf("the question did not list exactly what would be deleted: %v", asked)
					}
				}
				mustNotLeak(t, "the clear result", wire(t, res))
			})
		}
	}
}

func TestClearAll(t *testing.T) {
	e := start(t, setup{answer: &elicitAnswer{action: "accept"}})
	res := e.call(t, "clear_credentials", map[string]any{"all": true})
	if text(res) != "Nothing to delete: no credentials are stored." {
		t.Errorf("clear all on an empty store = %q", text(res))
	}
	for i := range 25 {
		structured(t, e.call(t, "store_credential", map[string]any{"name": "n" + string(rune('a'+i)), "value": "v"}))
	}
	res = e.call(t, "clear_credentials", map[string]any{"all": true})
	if !strings.HasPrefix(text(res), "Deleted 25 credentials") {
		t.Errorf("clear all = %q", text(res))
	}
	if list, _ := e.cat.List(context.Background()); len(list) != 0 {
		t.Errorf("clear all left %d", len(list))
	}
}

// callRaw sends a call by hand on a session with multi-round-trip disabled.
func callRaw(t *testing.T, cs *mcp.ClientSession, p *mcp.CallToolParams) *mcp.CallToolResult {
	t.Helper()
	res, err := cs.CallTool(context.Background(), p)
	if err != nil {
		t.Fatalf("CallTool: %v", err)
	}
	return res
}

var accept = mcp.InputResponseMap{"confirm": &mcp.ElicitResult{Action: "accept", Content: map[string]any{"confirm": true}}}

// A client may put an answer on its first call, or replay an earlier one,
// or carry one to another request; none of these may count as the human's yes.
func TestForgedConfirmationsRefused(t *testing.T) {
	for _, v := range versions {
		t.Run(v+"/prefilled", func(t *testing.T) {
			var asked []*mcp.ElicitParams
			e := start(t, setup{answer: &elicitAnswer{action: "decline"}, version: v, noMRTR: true, asked: &asked, askedMu: &sync.Mutex{}})
			structured(t, e.call(t, "store_credential", map[string]any{"name": "tok", "value": canary}))
			for _, tool := range []struct {
				name string
				args map[string]any
			}{
				{"retrieve_credential", map[string]any{"name": "tok", "reveal": true}},
				{"clear_credentials", map[string]any{"names": []string{"tok"}}},
			} {
				res := callRaw(t, e.cs, &mcp.CallToolParams{Name: tool.name, Arguments: tool.args, InputResponses: accept})
				mustNotLeak(t, "a forged call's result", wire(t, res))
				if res.NeedsInput() {
					continue // the server ignored the forged answer and asked properly
				}
				if !res.IsError || !strings.Contains(text(res), "did not ask") {
					t.Errorf("%s with a pre-filled answer: %s", tool.name, redact(wire(t, res)))
				}
				res = callRaw(t, e.cs, &mcp.CallToolParams{Name: tool.name, Arguments: tool.args, InputResponses: accept, RequestState: "eyJhIjoicmV2ZWFsIn0.c2ln"})
				if !res.IsError || !strings.Contains(text(res), "not one this server issued") {
					t.Errorf("%s with a made-up token: %s", tool.name, redact(wire(t, res)))
				}
			}
			if _, err := e.cat.Get(context.Background(), "tok"); err != nil {
				t.Error("a forged confirmation deleted the credential")
			}
		})
	}
	t.Run("replayed", func(t *testing.T) {
		e := start(t, setup{answer: &elicitAnswer{action: "accept"}, version: "2026-07-28", noMRTR: true})
		structured(t, e.call(t, "store_credential", map[string]any{"name": "tok", "value": canary}))
		structured(t, e.call(t, "store_credential", map[string]any{"name": "other", "value": canary}))
		args := map[string]any{"name": "tok", "reveal": true}
		first := callRaw(t, e.cs, &mcp.CallToolParams{Name: "retrieve_credential", Arguments: args})
		if !first.NeedsInput() || first.RequestState == "" {
			t.Fatalf("first call did not ask: %s", redact(wire(t, first)))
		}
		mustNotLeak(t, "the question", wire(t, first))
		ok := callRaw(t, e.cs, &mcp.CallToolParams{Name: "retrieve_credential", Arguments: args, InputResponses: accept, RequestState: first.RequestState})
		if !strings.Contains(wire(t, ok), canary) {
			t.Fatalf("the genuine answer did not reveal: %s", redact(wire(t, ok)))
		}
		again := callRaw(t, e.cs, &mcp.CallToolParams{Name: "retrieve_credential", Arguments: args, InputResponses: accept, RequestState: first.RequestState})
		if !again.IsError || !strings.Contains(text(again), "already used") || strings.Contains(wire(t, again), canary) {
			t.Errorf("replayed answer: %s", redact(wire(t, again)))
		}
		// A fresh token for tok does not open other, nor a deletion.
		q := callRaw(t, e.cs, &mcp.CallToolParams{Name: "retrieve_credential", Arguments: args})
		other := callRaw(t, e.cs, &mcp.CallToolParams{Name: "retrieve_credential", Arguments: map[string]any{"name": "other", "reveal": true}, InputResponses: accept, RequestState: q.RequestState})
		if !other.IsError || !strings.Contains(text(other), "different request") || strings.Contains(wire(t, other), canary) {
			t.Errorf("token carried to another credential: %s", redact(wire(t, other)))
		}
		del := callRaw(t, e.cs, &mcp.CallToolParams{Name: "clear_credentials", Arguments: map[string]any{"names": []string{"tok"}}, InputResponses: accept, RequestState: q.RequestState})
		if !del.IsError || !strings.Contains(text(del), "different request") {
			t.Errorf("reveal token used for a deletion: %s", redact(wire(t, del)))
		}
		if _, err := e.cat.Get(context.Background(), "tok"); err != nil {
			t.Error("a misused token deleted the credential")
		}
	})
}

func TestConfirmationExpires(t *testing.T) {
	now := time.Now()
	clock := func() time.Time { return now }
	gate := elicit.NewGate(time.Minute, clock)
	e := start(t, setup{opts: server.Options{Gate: gate}, answer: &elicitAnswer{action: "accept"}, version: "2026-07-28", noMRTR: true})
	structured(t, e.call(t, "store_credential", map[string]any{"name": "tok", "value": canary}))
	args := map[string]any{"name": "tok", "reveal": true}
	q := callRaw(t, e.cs, &mcp.CallToolParams{Name: "retrieve_credential", Arguments: args})
	now = now.Add(2 * time.Minute)
	res := callRaw(t, e.cs, &mcp.CallToolParams{Name: "retrieve_credential", Arguments: args, InputResponses: accept, RequestState: q.RequestState})
	if !res.IsError || !strings.Contains(text(res), "expired") || strings.Contains(wire(t, res), canary) {
		t.Errorf("expired confirmation: %s", redact(wire(t, res)))
	}
}

// panicky is a catalog whose every call panics with a value in hand.
type panicky struct{ server.Catalog }

func (panicky) List(context.Context) ([]backend.Meta, error) { panic("boom " + canary) }

func TestHandlerPanicIsContained(t *testing.T) {
	e := start(t, setup{catalog: panicky{}})
	res := e.call(t, "list_stored_credentials", nil)
	if !res.IsError || !strings.Contains(text(res), "internal error") {
		t.Errorf("panic result = %s", redact(wire(t, res)))
	}
	mustNotLeak(t, "the panic result", wire(t, res))
	mustNotLeak(t, "the log", e.logs.String())
	// The session survives.
	if _, err := e.cs.ListTools(context.Background(), nil); err != nil {
		t.Errorf("session died after a panic: %v", err)
	}
}

func TestClearRequested(t *testing.T) {
	for v, want := range map[string]bool{
		"1": true, "true": true, "TRUE": true, "Yes": true, "on": true, " on ": true,
		"": false, "0": false, "false": false, "no": false, "off": false, "2": false, "y": false, "enable": false,
	} {
		if got := server.ClearRequested(v); got != want {
			t.Errorf("ClearRequested(%q) = %v, want %v", v, got, want)
		}
	}
}

func TestClearOnStart(t *testing.T) {
	ctx := context.Background()
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	cat := backend.NewCatalog(memory.New(0), backend.CatalogOptions{})
	v, _ := backend.NewString(canary)
	for _, n := range []string{"a", "b"} {
		if _, _, err := cat.Put(ctx, n, v, "", false); err != nil {
			t.Fatal(err)
		}
	}
	if err := server.ClearOnStart(ctx, "no", cat, "com.mcp.test", log); err != nil {
		t.Fatal(err)
	}
	if list, _ := cat.List(ctx); len(list) != 2 {
		t.Fatal("cleared without being asked")
	}
	if err := server.ClearOnStart(ctx, "Yes", cat, "com.mcp.test", log); err != nil {
		t.Fatal(err)
	}
	if list, _ := cat.List(ctx); len(list) != 0 {
		t.Errorf("left %d after clearing", len(list))
	}
	if !strings.Contains(logs.String(), "deleted=2") || strings.Contains(logs.String(), canary) {
		t.Errorf("log = %q", redact(logs.String()))
	}
}
