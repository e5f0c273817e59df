package server_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
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

// codePattern finds a verification code in an elicitation message or a page.
var codePattern = regexp.MustCompile(`\b[ACDEFGHJKMNPQRTUVWXY34679]{3}-[ACDEFGHJKMNPQRTUVWXY34679]{3}\b`)

// entryEnv is a server with its own entry server, and a client whose whole
// traffic is recorded.
type entryEnv struct {
	cs        *mcp.ClientSession
	cat       *backend.Catalog
	entry     *elicit.EntryServer
	logs      *syncBuffer
	traffic   *syncBuffer
	completed chan string // elicitation IDs from notifications/elicitation/complete
}

type entrySetup struct {
	version string
	// caps is what the client declares; nil declares nothing.
	caps *mcp.ClientCapabilities
	// elicit answers elicitations; nil: the client has no handler.
	elicit  func(context.Context, *mcp.ElicitRequest) (*mcp.ElicitResult, error)
	opts    server.Options
	entry   elicit.EntryOptions
	noMRTR  bool
	catalog *backend.Catalog
}

var urlCaps = &mcp.ClientCapabilities{Elicitation: &mcp.ElicitationCapabilities{URL: &mcp.URLElicitationCapabilities{}, Form: &mcp.FormElicitationCapabilities{}}}

func startEntryEnv(t *testing.T, s entrySetup) *entryEnv {
	t.Helper()
	ctx := context.Background()
	e := &entryEnv{logs: &syncBuffer{}, traffic: &syncBuffer{}, completed: make(chan string, 8)}
	logger := slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	e.cat = s.catalog
	if e.cat == nil {
		e.cat = backend.NewCatalog(memory.New(0), backend.CatalogOptions{Logger: logger})
	}
	s.entry.Logger = logger
	e.entry = elicit.NewEntryServer(s.entry)
	t.Cleanup(func() { _ = e.entry.Close() })
	s.opts.Logger, s.opts.Entry = logger, e.entry
	if s.opts.Namespace == "" {
		s.opts.Namespace = "com.mcp.test"
	}
	srv := server.New(e.cat, s.opts)
	copts := &mcp.ClientOptions{
		Capabilities: s.caps,
		ElicitationCompleteHandler: func(_ context.Context, req *mcp.ElicitationCompleteNotificationRequest) {
			e.completed <- req.Params.ElicitationID
		},
	}
	if s.caps == nil {
		copts.Capabilities = &mcp.ClientCapabilities{}
	}
	copts.ElicitationHandler = s.elicit
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
	cs, err := client.Connect(ctx, &mcp.LoggingTransport{Transport: ct, Writer: e.traffic}, &mcp.ClientSessionOptions{ProtocolVersion: s.version})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cs.Close() })
	e.cs = cs
	return e
}

func (e *entryEnv) call(t *testing.T, args map[string]any) *mcp.CallToolResult {
	t.Helper()
	res, err := e.cs.CallTool(context.Background(), &mcp.CallToolParams{Name: "store_credential", Arguments: args})
	if err != nil {
		t.Fatalf("store_credential: protocol error: %v", err)
	}
	return res
}

// noLeak checks that the value never went through MCP or the log.
func (e *entryEnv) noLeak(t *testing.T) {
	t.Helper()
	mustNotLeak(t, "the MCP traffic", e.traffic.String())
	mustNotLeak(t, "the log", e.logs.String())
}

// listed reports the names list_stored_credentials shows.
func (e *entryEnv) listed(t *testing.T) []string {
	t.Helper()
	res, err := e.cs.CallTool(context.Background(), &mcp.CallToolParams{Name: "list_stored_credentials"})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, c := range structured(t, res)["credentials"].([]any) {
		names = append(names, c.(map[string]any)["name"].(string))
	}
	return names
}

var browserless = &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 10 * time.Second}

// pageCode opens the link as a browser would and returns the code the page shows.
func pageCode(t *testing.T, link string) string {
	t.Helper()
	res, err := browserless.Get(link)
	if err != nil {
		t.Errorf("GET the entry page: %v", err)
		return ""
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK {
		t.Errorf("GET the entry page: %d", res.StatusCode)
	}
	return codePattern.FindString(string(body))
}

// submit posts the page's form as the browser would; values go to the
// inputs in order.
func submit(t *testing.T, link string, values ...string) int {
	t.Helper()
	form := url.Values{}
	for i, v := range values {
		form.Set("f"+string(rune('0'+i)), v)
	}
	req, err := http.NewRequest(http.MethodPost, link, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", "http://"+req.URL.Host)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	res, err := browserless.Do(req)
	if err != nil {
		t.Errorf("POST the entry page: %v", err)
		return 0
	}
	res.Body.Close()
	return res.StatusCode
}

func entryOf(t *testing.T, res *mcp.CallToolResult) (status, link, code string) {
	t.Helper()
	out := structured(t, res)
	status, _ = out["status"].(string)
	if en, ok := out["entry"].(map[string]any); ok {
		link, _ = en["url"].(string)
		code, _ = en["verification_code"].(string)
	}
	return status, link, code
}

// A client without URL-mode elicitation (none at all, or form only) gets
// the link as text, with the code and the terminal alternative; the link
// stores what the person types and nothing passes through MCP.
func TestSecureEntryLinkAsText(t *testing.T) {
	for _, v := range versions {
		for _, c := range []struct {
			name   string
			caps   *mcp.ClientCapabilities
			elicit bool
		}{
			{"no elicitation", nil, false},
			{"form only", &mcp.ClientCapabilities{Elicitation: &mcp.ElicitationCapabilities{Form: &mcp.FormElicitationCapabilities{}}}, true},
		} {
			t.Run(v+"/"+c.name, func(t *testing.T) {
				var asked int
				var mu sync.Mutex
				s := entrySetup{version: v, caps: c.caps}
				if c.elicit {
					s.elicit = func(context.Context, *mcp.ElicitRequest) (*mcp.ElicitResult, error) {
						mu.Lock()
						asked++
						mu.Unlock()
						return &mcp.ElicitResult{Action: "accept"}, nil
					}
				}
				e := startEntryEnv(t, s)
				args := map[string]any{"name": "api", "description": "payments API key"}
				res := e.call(t, args)
				if res.IsError {
					t.Fatalf("store_credential without value: %s", text(res))
				}
				status, link, code := entryOf(t, res)
				msg := text(res)
				if status != "waiting" || !strings.HasPrefix(link, "http://127.0.0.1:") || code == "" {
					t.Fatalf("result: status %q link %q code %q", status, link, code)
				}
				for _, want := range []string{link, code, "mcp-secrets set api", "list_stored_credentials"} {
					if !strings.Contains(msg, want) {
						t.Errorf("the text does not give %q:\n%s", want, msg)
					}
				}
				if asked != 0 {
					t.Error("a client without URL mode was sent an elicitation")
				}
				// Asking again gives the same link, not a second page.
				if _, link2, _ := entryOf(t, e.call(t, args)); link2 != link {
					t.Error("a second call opened another page while the first waits")
				}
				if got := pageCode(t, link); got != code {
					t.Errorf("the page shows code %q, the result %q", got, code)
				}
				if len(e.listed(t)) != 0 {
					t.Fatal("something is listed before the page was submitted")
				}
				if st := submit(t, link, "sk-"+canary); st != http.StatusOK {
					t.Fatalf("submitting the page: %d", st)
				}
				if names := e.listed(t); len(names) != 1 || names[0] != "api" {
					t.Errorf("list after the page was submitted: %q", names)
				}
				rec, err := e.cat.Get(context.Background(), "api")
				if err != nil || rec.Value.Text() != "sk-"+canary || rec.Description != "payments API key" {
					t.Errorf("the store holds something else (err %v)", err)
				}
				// The same call now tells the truth.
				again := e.call(t, args)
				if st, _, _ := entryOf(t, again); st != "stored" || !strings.Contains(text(again), "Stored string credential \"api\"") {
					t.Errorf("after the page was submitted: %s", redact(wire(t, again)))
				}
				// A fresh request for a name that exists needs overwrite.
				if res := e.call(t, map[string]any{"name": "api"}); !res.IsError || !strings.Contains(text(res), "overwrite=true") {
					t.Errorf("a new entry for an existing name without overwrite: %s", text(res))
				}
				e.noLeak(t)
			})
		}
	}
}

// A client that declared URL mode is shown the link through elicitation
// (multi-round-trip at 2026-07-28, elicitation/create before), and the tool
// reports what the person did by the time the client answered.
func TestSecureEntryURLMode(t *testing.T) {
	for _, v := range versions {
		t.Run(v, func(t *testing.T) {
			var got *mcp.ElicitParams
			e := startEntryEnv(t, entrySetup{version: v, caps: urlCaps, elicit: func(_ context.Context, req *mcp.ElicitRequest) (*mcp.ElicitResult, error) {
				got = req.Params
				code := codePattern.FindString(req.Params.Message)
				if code == "" || pageCode(t, req.Params.URL) != code {
					t.Errorf("the page's code does not match the message's %q", code)
					return &mcp.ElicitResult{Action: "decline"}, nil
				}
				if st := submit(t, req.Params.URL, "ada", canary); st != http.StatusOK {
					t.Errorf("submitting the page: %d", st)
				}
				return &mcp.ElicitResult{Action: "accept"}, nil
			}})
			res := e.call(t, map[string]any{"name": "db", "fields": []string{"user", "password"}, "description": "database"})
			if got == nil {
				t.Fatal("the client was not asked")
			}
			if got.Mode != "url" || got.ElicitationID == "" || !strings.HasPrefix(got.URL, "http://127.0.0.1:") || got.RequestedSchema != nil {
				t.Errorf("elicitation: mode %q id %q url %q", got.Mode, got.ElicitationID, got.URL)
			}
			if !strings.Contains(got.Message, `"db"`) || !strings.Contains(got.Message, "user, password") {
				t.Errorf("the message does not say what is asked: %q", got.Message)
			}
			out := structured(t, res)
			if out["status"] != "stored" || out["kind"] != "object" || out["entry"] != nil {
				t.Errorf("result: %v", out)
			}
			if !slicesEqual(toStrings(out["fields"]), []string{"password", "user"}) {
				t.Errorf("fields = %v", out["fields"])
			}
			select {
			case id := <-e.completed:
				if id != got.ElicitationID {
					t.Errorf("elicitation/complete for %q, want %q", id, got.ElicitationID)
				}
			case <-time.After(5 * time.Second):
				t.Error("no notifications/elicitation/complete")
			}
			if names := e.listed(t); len(names) != 1 || names[0] != "db" {
				t.Errorf("list = %q", names)
			}
			if !strings.Contains(e.traffic.String(), "notifications/elicitation/complete") {
				t.Error("the traffic shows no elicitation/complete")
			}
			e.noLeak(t)
		})
	}
}

func slicesEqual(a, b []string) bool { return strings.Join(a, "\x00") == strings.Join(b, "\x00") }

func TestSecureEntryURLModeOutcomes(t *testing.T) {
	const v = "2026-07-28"
	t.Run("accepted, not yet submitted", func(t *testing.T) {
		e := startEntryEnv(t, entrySetup{version: v, caps: urlCaps, elicit: func(context.Context, *mcp.ElicitRequest) (*mcp.ElicitResult, error) {
			return &mcp.ElicitResult{Action: "accept"}, nil
		}})
		res := e.call(t, map[string]any{"name": "api"})
		status, link, code := entryOf(t, res)
		if status != "waiting" || link == "" || code == "" || !strings.Contains(text(res), "was shown the secure entry page") {
			t.Fatalf("result: %s", wire(t, res))
		}
		if submit(t, link, canary) != http.StatusOK {
			t.Fatal("submit failed")
		}
		if names := e.listed(t); len(names) != 1 {
			t.Errorf("list = %q", names)
		}
		e.noLeak(t)
	})
	t.Run("waits for the page", func(t *testing.T) {
		var wg sync.WaitGroup
		defer wg.Wait()
		e := startEntryEnv(t, entrySetup{version: v, caps: urlCaps, opts: server.Options{EntryWait: 10 * time.Second},
			elicit: func(_ context.Context, req *mcp.ElicitRequest) (*mcp.ElicitResult, error) {
				// The person submits the page a moment after the client answered.
				wg.Go(func() {
					time.Sleep(200 * time.Millisecond)
					submit(t, req.Params.URL, canary)
				})
				return &mcp.ElicitResult{Action: "accept"}, nil
			}})
		start := time.Now()
		if st, _, _ := entryOf(t, e.call(t, map[string]any{"name": "api"})); st != "stored" {
			t.Errorf("status %q after waiting, want stored", st)
		}
		if time.Since(start) > 8*time.Second {
			t.Error("the call waited the whole EntryWait although the page was submitted")
		}
		e.noLeak(t)
	})
	for _, action := range []string{"decline", "cancel"} {
		t.Run(action, func(t *testing.T) {
			var link string
			e := startEntryEnv(t, entrySetup{version: v, caps: urlCaps, elicit: func(_ context.Context, req *mcp.ElicitRequest) (*mcp.ElicitResult, error) {
				link = req.Params.URL
				return &mcp.ElicitResult{Action: action}, nil
			}})
			res := e.call(t, map[string]any{"name": "api"})
			if st, _, _ := entryOf(t, res); st != "declined" || !strings.Contains(text(res), "declined") {
				t.Errorf("result: %s", wire(t, res))
			}
			// The link is dead: the server is idle, or answers 410.
			if r, err := browserless.Get(link); err == nil {
				r.Body.Close()
				if r.StatusCode != http.StatusGone {
					t.Errorf("GET of a declined link: %d", r.StatusCode)
				}
			}
			if len(e.listed(t)) != 0 {
				t.Error("a declined entry stored something")
			}
		})
	}
	t.Run("expired", func(t *testing.T) {
		now := time.Now()
		var mu sync.Mutex
		clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
		e := startEntryEnv(t, entrySetup{version: v, caps: urlCaps, entry: elicit.EntryOptions{Now: clock},
			elicit: func(context.Context, *mcp.ElicitRequest) (*mcp.ElicitResult, error) {
				mu.Lock()
				now = now.Add(elicit.EntryTTL + time.Second)
				mu.Unlock()
				return &mcp.ElicitResult{Action: "accept"}, nil
			}})
		res := e.call(t, map[string]any{"name": "api"})
		if st, _, _ := entryOf(t, res); st != "expired" || !strings.Contains(text(res), "expired") {
			t.Errorf("result: %s", wire(t, res))
		}
	})
	t.Run("store refuses", func(t *testing.T) {
		var e *entryEnv
		e = startEntryEnv(t, entrySetup{version: v, caps: urlCaps, elicit: func(_ context.Context, req *mcp.ElicitRequest) (*mcp.ElicitResult, error) {
			// The name is taken while the page is open.
			v, _ := backend.NewString("other")
			if _, _, err := e.cat.Put(context.Background(), "api", v, "", false); err != nil {
				t.Error(err)
			}
			if st := submit(t, req.Params.URL, canary); st != http.StatusConflict {
				t.Errorf("submitting over a name taken meanwhile: %d", st)
			}
			return &mcp.ElicitResult{Action: "accept"}, nil
		}})
		res := e.call(t, map[string]any{"name": "api"})
		if !res.IsError || !strings.Contains(text(res), "already exists") {
			t.Errorf("result: %s", redact(wire(t, res)))
		}
		if rec, _ := e.cat.Get(context.Background(), "api"); rec.Value.Text() != "other" {
			t.Error("the credential stored meanwhile was overwritten")
		}
		e.noLeak(t)
	})
}

// Answers to the URL-mode question count only for the question the server
// asked, once.
func TestSecureEntryForgedAnswers(t *testing.T) {
	e := startEntryEnv(t, entrySetup{version: "2026-07-28", caps: urlCaps, noMRTR: true, elicit: func(context.Context, *mcp.ElicitRequest) (*mcp.ElicitResult, error) {
		return &mcp.ElicitResult{Action: "accept"}, nil
	}})
	accepted := mcp.InputResponseMap{"entry": &mcp.ElicitResult{Action: "accept"}}
	declined := mcp.InputResponseMap{"entry": &mcp.ElicitResult{Action: "decline"}}
	args := map[string]any{"name": "api"}
	raw := func(args map[string]any, resp mcp.InputResponseMap, state string) *mcp.CallToolResult {
		return callRaw(t, e.cs, &mcp.CallToolParams{Name: "store_credential", Arguments: args, InputResponses: resp, RequestState: state})
	}

	if res := raw(args, accepted, ""); !res.IsError || !strings.Contains(text(res), "did not ask") {
		t.Errorf("a pre-filled answer: %s", wire(t, res))
	}
	first := raw(args, nil, "")
	if !first.NeedsInput() || first.RequestState == "" {
		t.Fatalf("the first call did not ask: %s", wire(t, first))
	}
	p, ok := first.InputRequests["entry"].(*mcp.ElicitParams)
	if !ok || p.Mode != "url" || p.URL == "" {
		t.Fatalf("input request: %#v", first.InputRequests["entry"])
	}
	if res := raw(args, accepted, "eyJhIjoiZW50ZXIifQ.c2ln"); !res.IsError || !strings.Contains(text(res), "not one this server issued") {
		t.Errorf("a made-up state: %s", wire(t, res))
	}
	other := raw(map[string]any{"name": "other"}, nil, "")
	if res := raw(args, declined, other.RequestState); !res.IsError || !strings.Contains(text(res), "different request") {
		t.Errorf("another entry's state: %s", wire(t, res))
	}
	if res := raw(args, mcp.InputResponseMap{}, first.RequestState); !res.IsError || !strings.Contains(text(res), "no answer") {
		t.Errorf("a state without an answer: %s", wire(t, res))
	}
	// That spent the state: ask anew.
	first = raw(args, nil, "")
	res := raw(args, accepted, first.RequestState)
	if st, link, _ := entryOf(t, res); st != "waiting" || link != p.URL {
		t.Errorf("the genuine answer: %s", wire(t, res))
	}
	if res := raw(args, declined, first.RequestState); !res.IsError || !strings.Contains(text(res), "already used") {
		t.Errorf("a replayed state: %s", wire(t, res))
	}
	if r, err := browserless.Get(p.URL); err != nil || r.StatusCode != http.StatusOK {
		t.Error("a refused answer withdrew the page")
	} else {
		r.Body.Close()
	}
	if len(e.listed(t)) != 0 {
		t.Error("something was stored")
	}
}

// The store_credential result with a value is unchanged, and says "stored".
func TestStoreWithValueSaysStored(t *testing.T) {
	e := startEntryEnv(t, entrySetup{})
	out := structured(t, e.call(t, map[string]any{"name": "k", "value": canary}))
	if out["status"] != "stored" || out["entry"] != nil || out["kind"] != "string" {
		t.Errorf("result = %v", redactMap(out))
	}
	if e.entry.Addr() != "" {
		t.Error("storing a value opened the entry page")
	}
	if _, err := e.cat.Get(context.Background(), "k"); errors.Is(err, backend.ErrNotFound) {
		t.Error("not stored")
	}
}

// The terminal alternative names the command as the server was told to,
// one `set --field` per field, quoted for a shell.
func TestSecureEntryTerminalHint(t *testing.T) {
	e := startEntryEnv(t, entrySetup{opts: server.Options{Command: "mcp-secrets --backend file"}})
	res := e.call(t, map[string]any{"name": "db", "fields": []string{"user", "pass word"}, "overwrite": true})
	want := "mcp-secrets --backend file set db --overwrite --field user && mcp-secrets --backend file set db --overwrite --field 'pass word'"
	if got, _ := structured(t, res)["entry"].(map[string]any)["command"].(string); got != want {
		t.Errorf("command = %q, want %q", got, want)
	}
	if !strings.Contains(text(res), want) {
		t.Error("the text does not give the command")
	}
}
