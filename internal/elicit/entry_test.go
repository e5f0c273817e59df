package elicit_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mcp-secrets/mcp-secrets/internal/backend"
	"github.com/mcp-secrets/mcp-secrets/internal/backend/memory"
	"github.com/mcp-secrets/mcp-secrets/internal/elicit"
)

// canary is typed into the page; it must show up in the store and nowhere else.
const canary = "CANARY-entry-5d0c1f93ab"

func redact(s string) string { return strings.ReplaceAll(s, canary, "[canary]") }

// clock is a settable time source.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

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

// fixture is an EntryServer over a memory catalog, with a settable clock.
type fixture struct {
	srv   *elicit.EntryServer
	cat   *backend.Catalog
	clock *clock
	logs  *syncBuffer
	saves atomic.Int32
	http  *http.Client
}

func newFixture(t *testing.T, opts elicit.EntryOptions) *fixture {
	t.Helper()
	f := &fixture{
		cat:   backend.NewCatalog(memory.New(0), backend.CatalogOptions{}),
		clock: &clock{now: time.Now()},
		logs:  &syncBuffer{},
		http:  &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 10 * time.Second},
	}
	opts.Now = f.clock.Now
	opts.Logger = slog.New(slog.NewTextHandler(f.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	f.srv = elicit.NewEntryServer(opts)
	t.Cleanup(func() {
		_ = f.srv.Close()
		if strings.Contains(f.logs.String(), canary) {
			t.Error("the canary value leaked into the log")
		}
	})
	return f
}

// save is a SaveFunc that puts the value under name, counting calls.
func (f *fixture) save(name string, overwrite bool, delay time.Duration) elicit.SaveFunc {
	return func(ctx context.Context, v backend.Value) error {
		f.saves.Add(1)
		time.Sleep(delay)
		_, _, err := f.cat.Put(ctx, name, v, "", overwrite)
		return err
	}
}

func (f *fixture) start(t *testing.T, req elicit.EntryRequest) *elicit.Entry {
	t.Helper()
	if req.Name == "" {
		req.Name = "api"
	}
	if req.Save == nil {
		req.Save = f.save(req.Name, false, 0)
	}
	e, err := f.srv.Start(req)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	return e
}

// stored returns the value stored under name, or "" if there is none.
func (f *fixture) stored(t *testing.T, name string) string {
	t.Helper()
	rec, err := f.cat.Get(context.Background(), name)
	if errors.Is(err, backend.ErrNotFound) {
		return ""
	}
	if err != nil {
		t.Fatal(err)
	}
	return rec.Value.Text()
}

// do sends a request to the entry server and returns the status and body.
func (f *fixture) do(t *testing.T, req *http.Request) (int, string) {
	t.Helper()
	res, err := f.http.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(body)
}

func get(t *testing.T, u string, mod func(*http.Request)) *http.Request {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	if mod != nil {
		mod(req)
	}
	return req
}

// post builds the request a browser sends when the page's own form is
// submitted; mod spoils it.
func post(t *testing.T, u string, form url.Values, mod func(*http.Request)) *http.Request {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, u, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", "http://"+req.URL.Host)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	if mod != nil {
		mod(req)
	}
	return req
}

func value(v string) url.Values { return url.Values{"f0": {v}} }

func port(t *testing.T, e *elicit.Entry) string {
	t.Helper()
	u, err := url.Parse(e.URL())
	if err != nil {
		t.Fatal(err)
	}
	return u.Port()
}

func waitIdle(t *testing.T, f *fixture, addr string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for f.srv.Addr() != "" || dialable(addr) {
		if time.Now().After(deadline) {
			t.Fatalf("the entry server still listens on %s with nothing waiting", addr)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func dialable(addr string) bool {
	c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
	if err != nil {
		return false
	}
	_ = c.Close()
	return true
}

func TestEntryLinkCodeAndPage(t *testing.T) {
	f := newFixture(t, elicit.EntryOptions{})
	if f.srv.Addr() != "" {
		t.Fatal("the entry server listens before any entry was opened")
	}
	e := f.start(t, elicit.EntryRequest{Description: "payments <b>API</b>"})
	u, err := url.Parse(e.URL())
	if err != nil {
		t.Fatal(err)
	}
	if u.Scheme != "http" || u.Hostname() != "127.0.0.1" || u.RawQuery != "" || u.Fragment != "" {
		t.Errorf("link %q is not a plain http://127.0.0.1 link", e.URL())
	}
	if f.srv.Addr() != u.Host {
		t.Errorf("Addr() = %q, link host %q", f.srv.Addr(), u.Host)
	}
	token := strings.TrimPrefix(u.Path, "/entry/")
	if !regexp.MustCompile(`^[A-Za-z0-9_-]{43}$`).MatchString(token) {
		t.Errorf("token %q is not 43 base64url characters (256 bits)", token)
	}
	if strings.Contains(e.ID(), token) || strings.Contains(token, e.ID()) {
		t.Error("the elicitation ID and the token are related")
	}
	if !regexp.MustCompile(`^[ACDEFGHJKMNPQRTUVWXY34679]{3}-[ACDEFGHJKMNPQRTUVWXY34679]{3}$`).MatchString(e.Code()) {
		t.Errorf("verification code %q is not 6 unambiguous characters", e.Code())
	}
	if got := e.Expires().Sub(f.clock.Now()); got != elicit.EntryTTL {
		t.Errorf("link expires in %v, want %v", got, elicit.EntryTTL)
	}

	for _, host := range []string{u.Host, "localhost:" + u.Port()} {
		status, body := f.do(t, get(t, e.URL(), func(r *http.Request) { r.Host = host }))
		if status != http.StatusOK {
			t.Fatalf("GET with Host %s: %d", host, status)
		}
		for _, want := range []string{e.Code(), `type="password"`, "api", `<html lang="en">`, "<label", "payments &lt;b&gt;API&lt;/b&gt;"} {
			if !strings.Contains(body, want) {
				t.Errorf("the page lacks %q", want)
			}
		}
		if strings.Contains(body, "<b>API</b>") {
			t.Error("the page renders the assistant's description as HTML")
		}
		if strings.Contains(body, "http://") || strings.Contains(body, "https://") || strings.Contains(body, "<script") {
			t.Error("the page loads or links something outside itself")
		}
	}
	res, err := f.http.Do(get(t, e.URL(), nil))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	h := res.Header
	csp := h.Get("Content-Security-Policy")
	for _, want := range []string{"default-src 'none'", "style-src 'sha256-", "form-action 'self'", "frame-ancestors 'none'", "base-uri 'none'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("CSP %q lacks %q", csp, want)
		}
	}
	if strings.Contains(csp, "unsafe") || strings.Contains(csp, "script-src") {
		t.Errorf("CSP %q allows more than it needs", csp)
	}
	for k, want := range map[string]string{
		"Cache-Control":          "no-store",
		"X-Frame-Options":        "DENY",
		"X-Content-Type-Options": "nosniff",
		"Referrer-Policy":        "same-origin",
		"Content-Type":           "text/html; charset=utf-8",
	} {
		if got := h.Get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
}

func TestEntrySubmitStoresOnceAndStops(t *testing.T) {
	f := newFixture(t, elicit.EntryOptions{})
	var done atomic.Int32
	onDone := make(chan elicit.EntryState, 1)
	e := f.start(t, elicit.EntryRequest{OnDone: func(e *elicit.Entry) {
		done.Add(1)
		st, _ := e.State()
		onDone <- st
	}})
	addr := f.srv.Addr()
	status, body := f.do(t, post(t, e.URL(), value(canary), nil))
	if status != http.StatusOK || !strings.Contains(body, `id="done"`) {
		t.Fatalf("submission: %d %s", status, redact(body))
	}
	if strings.Contains(body, canary) {
		t.Error("the page echoed the value")
	}
	if got := f.stored(t, "api"); got != canary {
		t.Errorf("stored %q, want the typed value", redact(got))
	}
	if st, _ := e.State(); st != elicit.EntryStored {
		t.Errorf("state = %v, want stored", st)
	}
	select {
	case <-e.Done():
	default:
		t.Error("Done is not closed after the value was stored")
	}
	select {
	case st := <-onDone:
		if st != elicit.EntryStored {
			t.Errorf("OnDone saw %v", st)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("OnDone was not called")
	}
	// Nothing waits: the listener goes away.
	waitIdle(t, f, addr)
	if n := done.Load(); n != 1 {
		t.Errorf("OnDone called %d times", n)
	}

	// A new entry starts it again, on a new port.
	e2 := f.start(t, elicit.EntryRequest{Name: "second"})
	if status, _ := f.do(t, get(t, e2.URL(), nil)); status != http.StatusOK {
		t.Errorf("GET after restart: %d", status)
	}
	e2.Cancel("test")
	waitIdle(t, f, f.srv.Addr())
}

// Each request that is not the page's own, from the page's own host, with
// the right token, is refused with its status, and changes nothing: the
// entry still takes one good submission afterwards.
func TestEntryRefusals(t *testing.T) {
	f := newFixture(t, elicit.EntryOptions{})
	e := f.start(t, elicit.EntryRequest{})
	p := port(t, e)
	otherPort := "1"
	if p == "1" {
		otherPort = "2"
	}
	bogus := "http://" + f.srv.Addr() + "/entry/" + strings.Repeat("A", 43) // well-formed, never issued
	cases := []struct {
		name   string
		req    *http.Request
		status int
	}{
		{"GET wrong Host (DNS rebinding)", get(t, e.URL(), func(r *http.Request) { r.Host = "attacker.example:" + p }), http.StatusMisdirectedRequest},
		{"GET Host with another port", get(t, e.URL(), func(r *http.Request) { r.Host = "127.0.0.1:" + otherPort }), http.StatusMisdirectedRequest},
		{"GET Host without port", get(t, e.URL(), func(r *http.Request) { r.Host = "127.0.0.1" }), http.StatusMisdirectedRequest},
		{"POST wrong Host", post(t, e.URL(), value(canary), func(r *http.Request) {
			r.Host = "attacker.example:" + p
			r.Header.Set("Origin", "http://attacker.example:"+p)
		}), http.StatusMisdirectedRequest},
		{"POST without Origin", post(t, e.URL(), value(canary), func(r *http.Request) { r.Header.Del("Origin") }), http.StatusForbidden},
		{"POST Origin null", post(t, e.URL(), value(canary), func(r *http.Request) { r.Header.Set("Origin", "null") }), http.StatusForbidden},
		{"POST Origin of another site", post(t, e.URL(), value(canary), func(r *http.Request) { r.Header.Set("Origin", "http://attacker.example") }), http.StatusForbidden},
		{"POST Origin of another port on 127.0.0.1", post(t, e.URL(), value(canary), func(r *http.Request) { r.Header.Set("Origin", "http://127.0.0.1:"+otherPort) }), http.StatusForbidden},
		{"POST Origin https", post(t, e.URL(), value(canary), func(r *http.Request) { r.Header.Set("Origin", "https://127.0.0.1:"+p) }), http.StatusForbidden},
		{"POST two Origins", post(t, e.URL(), value(canary), func(r *http.Request) { r.Header.Add("Origin", "http://attacker.example") }), http.StatusForbidden},
		{"POST Sec-Fetch-Site cross-site", post(t, e.URL(), value(canary), func(r *http.Request) { r.Header.Set("Sec-Fetch-Site", "cross-site") }), http.StatusForbidden},
		{"POST Sec-Fetch-Site same-site", post(t, e.URL(), value(canary), func(r *http.Request) { r.Header.Set("Sec-Fetch-Site", "same-site") }), http.StatusForbidden},
		{"POST multipart", post(t, e.URL(), value(canary), func(r *http.Request) { r.Header.Set("Content-Type", "multipart/form-data; boundary=x") }), http.StatusUnsupportedMediaType},
		{"POST JSON", post(t, e.URL(), value(canary), func(r *http.Request) { r.Header.Set("Content-Type", "application/json") }), http.StatusUnsupportedMediaType},
		{"POST too large", post(t, e.URL(), value(strings.Repeat("x", 2<<20)+canary), nil), http.StatusRequestEntityTooLarge},
		{"POST empty value", post(t, e.URL(), value(""), nil), http.StatusUnprocessableEntity},
		{"POST no field", post(t, e.URL(), url.Values{"other": {canary}}, nil), http.StatusUnprocessableEntity},
		{"POST value in the query only", post(t, e.URL()+"?f0="+canary, nil, nil), http.StatusUnprocessableEntity},
		{"GET bad token", get(t, bogus, nil), http.StatusNotFound},
		{"GET malformed token", get(t, e.URL()+"x", nil), http.StatusNotFound},
		{"GET token in another path", get(t, strings.Replace(e.URL(), "/entry/", "/entry/x/", 1), nil), http.StatusNotFound},
		{"GET root", get(t, "http://"+f.srv.Addr()+"/", nil), http.StatusNotFound},
		{"POST bad token", post(t, bogus, value(canary), nil), http.StatusNotFound},
		{"PUT", post(t, e.URL(), value(canary), func(r *http.Request) { r.Method = http.MethodPut }), http.StatusMethodNotAllowed},
	}
	for _, c := range cases {
		status, body := f.do(t, c.req)
		if status != c.status {
			t.Errorf("%s: status %d, want %d", c.name, status, c.status)
		}
		if strings.Contains(body, canary) {
			t.Errorf("%s: the answer echoes the value", c.name)
		}
		if got := f.stored(t, "api"); got != "" {
			t.Fatalf("%s: something was stored", c.name)
		}
		if st, _ := e.State(); st != elicit.EntryWaiting {
			t.Fatalf("%s: the entry is %v, want still waiting", c.name, st)
		}
	}
	if n := f.saves.Load(); n != 0 {
		t.Errorf("Save was called %d times by refused requests", n)
	}
	if status, _ := f.do(t, post(t, e.URL(), value(canary), func(r *http.Request) {
		r.Host = "localhost:" + p
		r.Header.Set("Origin", "http://localhost:"+p)
	})); status != http.StatusOK {
		t.Fatalf("the genuine submission after the refusals: %d", status)
	}
	if f.stored(t, "api") != canary {
		t.Error("the genuine submission was not stored")
	}
}

func TestEntrySecondSubmissionRefused(t *testing.T) {
	f := newFixture(t, elicit.EntryOptions{})
	// Overwrite is allowed, so only the single-use rule stands in the way.
	e := f.start(t, elicit.EntryRequest{Save: f.save("api", true, 0)})
	if status, _ := f.do(t, post(t, e.URL(), value(canary), nil)); status != http.StatusOK {
		t.Fatalf("first submission: %d", status)
	}
	// The server may already be stopping; send the second one quickly,
	// or, if it is gone, that is a refusal too.
	res, err := f.http.Do(post(t, e.URL(), value("second-"+canary), nil))
	if err == nil {
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusGone || !strings.Contains(string(body), "already been used") {
			t.Errorf("second submission: %d", res.StatusCode)
		}
	}
	if got := f.stored(t, "api"); got != canary {
		t.Errorf("the second submission overwrote the value (now %q)", redact(got))
	}
	if n := f.saves.Load(); n != 1 {
		t.Errorf("Save called %d times, want 1", n)
	}
}

// While another entry keeps the server up, a used link answers 410.
func TestEntryUsedLinkIsGone(t *testing.T) {
	f := newFixture(t, elicit.EntryOptions{})
	keep := f.start(t, elicit.EntryRequest{Name: "keep"})
	e := f.start(t, elicit.EntryRequest{Save: f.save("api", true, 0)})
	if status, _ := f.do(t, post(t, e.URL(), value(canary), nil)); status != http.StatusOK {
		t.Fatalf("first submission: %d", status)
	}
	for _, req := range []*http.Request{get(t, e.URL(), nil), post(t, e.URL(), value("x"), nil)} {
		if status, _ := f.do(t, req); status != http.StatusGone {
			t.Errorf("%s of a used link: %d, want 410", req.Method, status)
		}
	}
	if got := f.stored(t, "api"); got != canary {
		t.Error("the value changed")
	}
	keep.Cancel("test")
}

func TestEntryExpires(t *testing.T) {
	f := newFixture(t, elicit.EntryOptions{TTL: time.Minute})
	keep := f.start(t, elicit.EntryRequest{Name: "keep"})
	e := f.start(t, elicit.EntryRequest{})
	f.clock.Add(30 * time.Second)
	if status, _ := f.do(t, get(t, e.URL(), nil)); status != http.StatusOK {
		t.Fatalf("GET before expiry: %d", status)
	}
	f.clock.Add(31 * time.Second)
	for _, req := range []*http.Request{get(t, e.URL(), nil), post(t, e.URL(), value(canary), nil)} {
		status, body := f.do(t, req)
		if status != http.StatusGone || !strings.Contains(body, "expired") {
			t.Errorf("%s after expiry: %d", req.Method, status)
		}
	}
	if st, _ := e.State(); st != elicit.EntryExpired {
		t.Errorf("state = %v, want expired", st)
	}
	if st, _ := keep.State(); st != elicit.EntryExpired {
		t.Errorf("the other entry: state = %v, want expired", st)
	}
	if f.stored(t, "api") != "" || f.saves.Load() != 0 {
		t.Error("an expired link stored something")
	}
	waitIdle(t, f, "127.0.0.1:"+port(t, e))
	// Its outcome can still be told.
	if got := f.srv.Find(""); got == nil {
		t.Error("Find forgot the expired entry at once")
	}
}

func TestEntrySingleUseUnderConcurrency(t *testing.T) {
	f := newFixture(t, elicit.EntryOptions{})
	keep := f.start(t, elicit.EntryRequest{Name: "keep"})
	defer keep.Cancel("test")
	// A slow store widens the window in which submissions overlap.
	e := f.start(t, elicit.EntryRequest{Save: f.save("api", true, 50*time.Millisecond)})
	const n = 24
	var wg sync.WaitGroup
	statuses := make([]int, n)
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req := post(t, e.URL(), value(fmt.Sprintf("%s-%02d", canary, i)), nil)
			<-start
			res, err := f.http.Do(req)
			if err != nil {
				t.Errorf("submission %d: %v", i, err)
				return
			}
			res.Body.Close()
			statuses[i] = res.StatusCode
		}()
	}
	close(start)
	wg.Wait()
	winner := -1
	for i, s := range statuses {
		switch s {
		case http.StatusOK:
			if winner >= 0 {
				t.Errorf("submissions %d and %d were both accepted", winner, i)
			}
			winner = i
		case http.StatusConflict, http.StatusGone:
		default:
			t.Errorf("submission %d: status %d, want 200, 409 or 410", i, s)
		}
	}
	if winner < 0 {
		t.Fatal("no submission was accepted")
	}
	if got, want := f.stored(t, "api"), fmt.Sprintf("%s-%02d", canary, winner); got != want {
		t.Errorf("stored %q, want the accepted submission's value", redact(got))
	}
	if s := f.saves.Load(); s != 1 {
		t.Errorf("Save called %d times, want 1", s)
	}
}

func TestEntryObjectFields(t *testing.T) {
	f := newFixture(t, elicit.EntryOptions{})
	e := f.start(t, elicit.EntryRequest{Name: "db", Fields: []string{"user", "password"}})
	_, body := f.do(t, get(t, e.URL(), nil))
	if strings.Count(body, `type="password"`) != 2 || !strings.Contains(body, ">user</label>") || !strings.Contains(body, ">password</label>") {
		t.Errorf("the page does not ask for both fields")
	}
	// One field left empty: asked again, nothing stored.
	if status, body := f.do(t, post(t, e.URL(), url.Values{"f0": {"ada"}}, nil)); status != http.StatusUnprocessableEntity || !strings.Contains(body, "password&#34; must not be empty") {
		t.Errorf("a missing field: %d", status)
	}
	if status, _ := f.do(t, post(t, e.URL(), url.Values{"f0": {"ada"}, "f1": {canary}}, nil)); status != http.StatusOK {
		t.Fatalf("submission: %d", status)
	}
	rec, err := f.cat.Get(context.Background(), "db")
	if err != nil {
		t.Fatal(err)
	}
	if rec.Value.Kind() != backend.KindObject || rec.Value.Text() != `{"password":"`+canary+`","user":"ada"}` {
		t.Errorf("stored %s %q", rec.Value.Kind(), redact(rec.Value.Text()))
	}
}

func TestEntryStoreRefusals(t *testing.T) {
	f := newFixture(t, elicit.EntryOptions{})
	// A credential of that name appeared meanwhile: the entry fails, nothing is overwritten.
	v, _ := backend.NewString("original")
	if _, _, err := f.cat.Put(context.Background(), "api", v, "", false); err != nil {
		t.Fatal(err)
	}
	keep := f.start(t, elicit.EntryRequest{Name: "keep"})
	defer keep.Cancel("test")
	e := f.start(t, elicit.EntryRequest{})
	status, body := f.do(t, post(t, e.URL(), value(canary), nil))
	if status != http.StatusConflict || !strings.Contains(body, "already exists") {
		t.Errorf("store refused with ErrExists: %d", status)
	}
	if st, reason := e.State(); st != elicit.EntryFailed || !strings.Contains(reason, "already exists") {
		t.Errorf("state = %v (%s), want failed", st, reason)
	}
	if f.stored(t, "api") != "original" {
		t.Error("the existing credential was overwritten")
	}

	// A value the store finds too large: the person may try again.
	small := backend.NewCatalog(memory.New(0), backend.CatalogOptions{MaxValueSize: 8})
	e2 := f.start(t, elicit.EntryRequest{Name: "small", Save: func(ctx context.Context, v backend.Value) error {
		_, _, err := small.Put(ctx, "small", v, "", false)
		return err
	}})
	if status, body := f.do(t, post(t, e2.URL(), value(canary), nil)); status != http.StatusUnprocessableEntity || !strings.Contains(body, "limit is 8") || strings.Contains(body, canary) {
		t.Errorf("too large for the store: %d", status)
	}
	if st, _ := e2.State(); st != elicit.EntryWaiting {
		t.Errorf("after a too-large value the entry is %v, want waiting", st)
	}
	if status, _ := f.do(t, post(t, e2.URL(), value("short"), nil)); status != http.StatusOK {
		t.Errorf("retry with a value that fits: %d", status)
	}
}

func TestEntryReplacedAndCancelled(t *testing.T) {
	f := newFixture(t, elicit.EntryOptions{})
	a := f.start(t, elicit.EntryRequest{Key: "one"})
	b := f.start(t, elicit.EntryRequest{Key: "two"})
	if st, reason := a.State(); st != elicit.EntryCancelled || !strings.Contains(reason, "replaced") {
		t.Errorf("the older entry for the same name is %v (%s), want cancelled", st, reason)
	}
	if f.srv.Find("two") != b || f.srv.Find("one") != a {
		t.Error("Find does not return the entries by key")
	}
	if status, body := f.do(t, post(t, a.URL(), value(canary), nil)); status != http.StatusGone || !strings.Contains(body, "withdrawn") {
		t.Errorf("submission to a replaced link: %d", status)
	}
	b.Cancel("declined")
	if st, _ := b.State(); st != elicit.EntryCancelled {
		t.Errorf("cancelled entry is %v", st)
	}
	if f.stored(t, "api") != "" {
		t.Error("a withdrawn link stored something")
	}
}

func TestEntryLimitsAndClose(t *testing.T) {
	f := newFixture(t, elicit.EntryOptions{MaxPending: 2})
	e1 := f.start(t, elicit.EntryRequest{Name: "a"})
	f.start(t, elicit.EntryRequest{Name: "b"})
	if _, err := f.srv.Start(elicit.EntryRequest{Name: "c", Save: f.save("c", false, 0)}); !errors.Is(err, elicit.ErrTooManyEntries) {
		t.Errorf("a third entry: %v, want ErrTooManyEntries", err)
	}
	for _, req := range []elicit.EntryRequest{
		{Name: "../x"},
		{Name: "x", Fields: []string{}},
		{Name: "x", Fields: []string{"a", "a"}},
		{Name: "x", Fields: []string{" a"}},
		{Name: "x", Fields: []string{strings.Repeat("f", 65)}},
		{Name: "x", Description: strings.Repeat("d", 1025)},
	} {
		req.Save = f.save("x", false, 0)
		if _, err := f.srv.Start(req); err == nil {
			t.Errorf("Start(%+v) accepted a bad request", req.Name)
		}
	}
	if _, err := f.srv.Start(elicit.EntryRequest{Name: "x"}); err == nil {
		t.Error("Start without Save accepted")
	}
	addr := f.srv.Addr()
	if err := f.srv.Close(); err != nil {
		t.Fatal(err)
	}
	if st, _ := e1.State(); st != elicit.EntryCancelled {
		t.Errorf("after Close an entry is %v", st)
	}
	if dialable(addr) {
		t.Error("the listener is still open after Close")
	}
	if _, err := f.srv.Start(elicit.EntryRequest{Name: "d", Save: f.save("d", false, 0)}); !errors.Is(err, elicit.ErrEntryClosed) {
		t.Errorf("Start after Close: %v", err)
	}
}

func TestEntryCodesAndTokensAreFresh(t *testing.T) {
	f := newFixture(t, elicit.EntryOptions{MaxPending: 200})
	seen := map[string]bool{}
	codes := map[string]bool{}
	for i := range 150 {
		e := f.start(t, elicit.EntryRequest{Name: fmt.Sprintf("n%d", i)})
		if seen[e.URL()] || seen[e.ID()] {
			t.Fatal("a link or ID repeated")
		}
		seen[e.URL()], seen[e.ID()] = true, true
		codes[e.Code()] = true
	}
	if len(codes) < 145 {
		t.Errorf("only %d distinct codes in 150", len(codes))
	}
}
