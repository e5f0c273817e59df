package vault_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/vault/api"

	"github.com/mcp-secrets/mcp-secrets/internal/backend"
	"github.com/mcp-secrets/mcp-secrets/internal/backend/backendtest"
	"github.com/mcp-secrets/mcp-secrets/internal/backend/vault"
)

const canary = backendtest.Canary

// faultMarker starts every error text the fake makes up to echo a request:
// no error of ours may pass it on.
const faultMarker = "FAKEVAULT-ECHO"

func (f *fakeVault) options(kv ...string) vault.Options {
	return vault.Options{
		Mount:      testMount,
		PathPrefix: testPrefix,
		Namespace:  testNS,
		Timeout:    5 * time.Second,
		Env:        f.env(kv...),
	}
}

func (f *fakeVault) store(t *testing.T, kv ...string) *vault.Store {
	t.Helper()
	s, err := vault.New(context.Background(), f.options(kv...))
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// noLeak fails if err's text holds a value, a token or Vault's own
// message, without printing it.
func noLeak(t *testing.T, err error) {
	t.Helper()
	if err == nil {
		return
	}
	for _, s := range []string{canary, faultMarker, "hvs.fake", "secret-1", "errors occurred", "Code: "} {
		if strings.Contains(err.Error(), s) {
			t.Errorf("an error's text passes on a value, a token or Vault's message (error withheld; it contains %q)", s[:min(len(s), 6)])
		}
	}
}

// wantErr checks that err wraps target, contains every phrase and leaks nothing.
func wantErr(t *testing.T, what string, err, target error, phrases ...string) {
	t.Helper()
	noLeak(t, err)
	if !errors.Is(err, target) {
		t.Errorf("%s: error = %v, want %v", what, err, target)
		return
	}
	for _, p := range phrases {
		if !strings.Contains(err.Error(), p) {
			t.Errorf("%s: error %q does not say %q", what, err, p)
		}
	}
}

// minimalPolicy is the policy the README gives.
func minimalPolicy(mount, prefix string) *fakePolicy {
	return &fakePolicy{
		mount + "/data/" + prefix + "/*":     {"create", "read", "update"},
		mount + "/metadata/" + prefix + "/*": {"read", "update", "delete", "list"},
	}
}

// conformance runs the suite against fakes, each store using a token made
// by token (root when nil).
func conformance(t *testing.T, token func(f *fakeVault) string) {
	var mu sync.Mutex
	fakes := map[*testing.T]*fakeVault{}
	stores := map[backend.Store]*fakeVault{}
	newStore := func(t *testing.T, f *fakeVault) backend.Store {
		tok := rootToken
		if token != nil {
			tok = token(f)
		}
		return f.store(t, "VAULT_TOKEN", tok)
	}
	backendtest.Run(t, func(t *testing.T) backend.Store {
		f := newFake(t)
		s := newStore(t, f)
		mu.Lock()
		defer mu.Unlock()
		fakes[t] = f
		stores[s] = f
		return s
	}, backendtest.Options{
		MaxValueSize: vault.MaxValueSize,
		PlantForeign: func(t *testing.T) string {
			mu.Lock()
			f := fakes[t]
			mu.Unlock()
			data := map[string]any{"value": "foreign-" + canary}
			f.plant(testMount, testPrefix+"-other/foreign-item", data, nil) // a sibling prefix
			f.plant(testMount, "mcp/foreign-item", data, nil)               // the parent folder
			f.plant(testMount, "foreign-item", data, nil)                   // the mount's root
			f.plant(testMount, testPrefix+"/sub/foreign-item", data, nil)   // a folder inside ours
			f.plant("other-kv", testPrefix+"/foreign-item", data, nil)      // our prefix in another mount
			return "foreign-item"
		},
		Reopen: func(t *testing.T, s backend.Store) backend.Store {
			mu.Lock()
			f := stores[s]
			mu.Unlock()
			return newStore(t, f)
		},
	})
}

// TestConformanceFakeVault runs the backend suite against the fake Vault
// with a root token.
func TestConformanceFakeVault(t *testing.T) {
	conformance(t, nil)
}

// TestMinimalPolicyFakeVault runs the whole suite with a token that holds
// only the README's minimal policy (plus Vault's default policy), proving
// the policy is enough.
func TestMinimalPolicyFakeVault(t *testing.T) {
	conformance(t, func(f *fakeVault) string { return f.addToken(minimalPolicy(testMount, testPrefix), 0) })
}

// TestLayoutFakeVault checks what a person browsing Vault finds: the value
// readable in the data map (a string as "value", an object's own fields,
// an array as "value"), the exact record beside it, and kind, description
// and namespace in custom_metadata, which keeps keys of others.
func TestLayoutFakeVault(t *testing.T) {
	ctx := context.Background()
	f := newFake(t)
	s := f.store(t)

	obj := backendtest.NewRecord(backendtest.MustJSON(t, `{"user":"ada","password":"`+canary+`","port":5432,"nested":{"a":[1,2]}}`), "db login")
	if err := s.Set(ctx, "db", obj); err != nil {
		t.Fatalf("Set: %v", err)
	}
	data, custom, _, _ := f.secret(testMount, testPrefix+"/db")
	if data["user"] != "ada" || data["password"] != canary || data["port"] != float64(5432) {
		t.Errorf("an object's fields are not readable in the data map (fields %q)", keysOf(data))
	}
	if _, ok := data["nested"].(map[string]any); !ok {
		t.Errorf("a nested object is not kept as JSON in the data map")
	}
	b64, _ := data["mcp-secrets-record"].(string)
	raw, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		t.Fatalf("the record field is not base64")
	}
	if rec, err := backend.Unmarshal(raw); err != nil || !rec.Value.Equal(obj.Value) || rec.Description != "db login" {
		t.Errorf("the record field does not hold the exact record (err %v)", err)
	}
	want := map[string]string{"mcp-secrets.kind": "object", "mcp-secrets.description": "db login", "mcp-secrets.namespace": testNS}
	if !mapsEqual(custom, want) {
		t.Errorf("custom_metadata = %q, want %q", custom, want)
	}

	if err := s.Set(ctx, "api", backendtest.NewRecord(backendtest.MustString(t, "token-"+canary), "")); err != nil {
		t.Fatalf("Set: %v", err)
	}
	data, custom, _, _ = f.secret(testMount, testPrefix+"/api")
	if data["value"] != "token-"+canary || len(data) != 2 {
		t.Errorf("a string is not kept as \"value\" beside the record (fields %q)", keysOf(data))
	}
	if _, ok := custom["mcp-secrets.description"]; ok || custom["mcp-secrets.kind"] != "string" {
		t.Errorf("custom_metadata for a string without description = %q", custom)
	}

	if err := s.Set(ctx, "list", backendtest.NewRecord(backendtest.MustJSON(t, `["a","b"]`), "")); err != nil {
		t.Fatalf("Set: %v", err)
	}
	data, _, _, _ = f.secret(testMount, testPrefix+"/list")
	if v, ok := data["value"].([]any); !ok || len(v) != 2 {
		t.Errorf("an array is not kept as \"value\"")
	}

	// An object whose keys clash with the record's is kept whole in "value".
	clash := backendtest.NewRecord(backendtest.MustJSON(t, `{"mcp-secrets-record":"mine","value":"also mine"}`), "")
	if err := s.Set(ctx, "clash", clash); err != nil {
		t.Fatalf("Set: %v", err)
	}
	if got, err := s.Get(ctx, "clash"); err != nil || !got.Value.Equal(clash.Value) {
		t.Errorf("an object with a clashing key does not round-trip (err %v)", err)
	}

	// Keys a person added to custom_metadata survive our writes.
	f.plant(testMount, testPrefix+"/shared", map[string]any{"value": "x"}, map[string]string{"owner": "ops"})
	if err := s.Set(ctx, "shared", backendtest.NewRecord(backendtest.MustString(t, "y"), "shared one")); err != nil {
		t.Fatalf("Set: %v", err)
	}
	if _, custom, _, _ := f.secret(testMount, testPrefix+"/shared"); custom["owner"] != "ops" || custom["mcp-secrets.description"] != "shared one" {
		t.Errorf("custom_metadata after overwriting a person's secret = %q", custom)
	}
}

// TestHandMadeFakeVault reads secrets a person wrote under our prefix with
// `vault kv put`: a lone "value" is a string, anything else an object.
func TestHandMadeFakeVault(t *testing.T) {
	ctx := context.Background()
	f := newFake(t)
	s := f.store(t)
	f.plant(testMount, testPrefix+"/typed", map[string]any{"value": "typed by hand"}, nil)
	f.plant(testMount, testPrefix+"/login", map[string]any{"user": "bob", "password": "pw"}, nil)
	got, err := s.Get(ctx, "typed")
	if err != nil || got.Value.Kind() != backend.KindString || got.Value.Text() != "typed by hand" || got.Updated.IsZero() {
		t.Errorf("a hand-made string reads as kind %q (err %v)", got.Value.Kind(), err)
	}
	got, err = s.Get(ctx, "login")
	if err != nil || got.Value.Kind() != backend.KindObject || got.Value.Text() != `{"password":"pw","user":"bob"}` {
		t.Errorf("a hand-made object reads as kind %q (err %v)", got.Value.Kind(), err)
	}
	f.plant(testMount, testPrefix+"/broken", map[string]any{"mcp-secrets-record": "not base64 " + canary}, nil)
	_, err = s.Get(ctx, "broken")
	wantErr(t, "Get of a broken record", err, backend.ErrInvalidValue, "not base64")
}

func keysOf(m map[string]any) []string {
	var k []string
	for n := range m {
		k = append(k, n)
	}
	slices.Sort(k)
	return k
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

func paths(reqs []fakeRequest) []string {
	out := make([]string, len(reqs))
	for i, r := range reqs {
		out[i] = r.String()
	}
	return out
}

// TestRequestsFakeVault pins the HTTP requests each method sends.
func TestRequestsFakeVault(t *testing.T) {
	ctx := context.Background()
	f := newFake(t)
	s := f.store(t)
	if got, want := paths(f.reqs()), []string{"GET auth/token/lookup-self", "GET sys/internal/ui/mounts/secret"}; !slices.Equal(got, want) {
		t.Errorf("New sent %q, want %q", got, want)
	}
	data := "PUT secret/data/mcp/test/api"
	meta := "secret/metadata/mcp/test/api"
	steps := []struct {
		what string
		do   func() error
		want []string
		cas  int // of the data write, -1 for none
	}{
		{"Set new", func() error { return s.Set(ctx, "api", backendtest.NewRecord(backendtest.MustString(t, "v1"), "d")) },
			[]string{"GET " + meta, data, "PUT " + meta}, 0},
		{"Set existing, same metadata", func() error { return s.Set(ctx, "api", backendtest.NewRecord(backendtest.MustString(t, "v2"), "d")) },
			[]string{"GET " + meta, data}, 1},
		{"Set existing, new description", func() error { return s.Set(ctx, "api", backendtest.NewRecord(backendtest.MustString(t, "v3"), "e")) },
			[]string{"GET " + meta, data, "PUT " + meta}, 2},
		{"Get", func() error { _, err := s.Get(ctx, "api"); return err },
			[]string{"GET secret/data/mcp/test/api"}, -1},
		{"List", func() error { _, err := s.List(ctx); return err },
			// The client joins paths, dropping the trailing slash; Vault
			// adds it back to every list request.
			[]string{"LIST secret/metadata/mcp/test"}, -1},
		{"Delete", func() error { return s.Delete(ctx, "api") },
			[]string{"GET " + meta, "DELETE " + meta}, -1},
		{"Delete missing", func() error {
			if err := s.Delete(ctx, "api"); !errors.Is(err, backend.ErrNotFound) {
				return fmt.Errorf("want ErrNotFound, got %w", err)
			}
			return nil
		}, []string{"GET " + meta}, -1},
	}
	for _, st := range steps {
		if err := st.do(); err != nil {
			t.Fatalf("%s: %v", st.what, err)
		}
		reqs := f.reqs()
		if got := paths(reqs); !slices.Equal(got, st.want) {
			t.Errorf("%s sent %q, want %q", st.what, got, st.want)
			continue
		}
		if st.cas < 0 {
			continue
		}
		var body struct {
			Options map[string]int `json:"options"`
		}
		err := json.Unmarshal(reqs[1].Body, &body)
		if cas, ok := body.Options["cas"]; err != nil || !ok || cas != st.cas {
			t.Errorf("%s: the data write's options = %v, want cas %d", st.what, body.Options, st.cas)
		}
	}
}

// TestCASRaceFakeVault has two Stores (two processes, say) create the same
// name at the same moment: both see no secret, both write with cas=0, and
// Vault lets exactly one through; the other gets ErrExists.
func TestCASRaceFakeVault(t *testing.T) {
	ctx := context.Background()
	f := newFake(t)
	a, b := f.store(t), f.store(t)
	var (
		mu      sync.Mutex
		arrived int
		both    = make(chan struct{})
	)
	f.setHold(func(method, path string) {
		if method != http.MethodPut || path != "secret/data/mcp/test/race" {
			return
		}
		mu.Lock()
		arrived++
		if arrived == 2 {
			close(both)
		}
		mu.Unlock()
		select {
		case <-both:
		case <-time.After(5 * time.Second):
		}
	})
	errs := make([]error, 2)
	var wg sync.WaitGroup
	for i, s := range []*vault.Store{a, b} {
		wg.Go(func() {
			errs[i] = s.Set(ctx, "race", backendtest.NewRecord(backendtest.MustString(t, fmt.Sprintf("writer-%d-%s", i, canary)), ""))
		})
	}
	wg.Wait()
	f.setHold(nil)
	if arrived != 2 {
		t.Fatalf("%d writers reached the data write together, want 2", arrived)
	}
	winner := -1
	for i, err := range errs {
		switch {
		case err == nil:
			if winner >= 0 {
				t.Fatalf("both writers created the name")
			}
			winner = i
		default:
			wantErr(t, "the losing create", err, backend.ErrExists, `"race"`)
		}
	}
	if winner < 0 {
		t.Fatalf("neither writer created the name")
	}
	got, err := a.Get(ctx, "race")
	if err != nil || got.Value.Text() != fmt.Sprintf("writer-%d-%s", winner, canary) {
		t.Errorf("the stored value is not the winner's (err %v)", err)
	}
}

// TestUpdateRaceFakeVault lets another writer slip a version in between
// Set's metadata read and its data write: the cas of the update no longer
// matches, and Set reads again and writes over it, as asked.
func TestUpdateRaceFakeVault(t *testing.T) {
	ctx := context.Background()
	f := newFake(t)
	s := f.store(t)
	if err := s.Set(ctx, "x", backendtest.NewRecord(backendtest.MustString(t, "first"), "")); err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	f.setHold(func(method, path string) {
		if method == http.MethodPut && path == "secret/data/mcp/test/x" {
			once.Do(func() { f.plant(testMount, testPrefix+"/x", map[string]any{"value": "sneaked in"}, nil) })
		}
	})
	f.reqs()
	if err := s.Set(ctx, "x", backendtest.NewRecord(backendtest.MustString(t, "mine"), "")); err != nil {
		t.Fatalf("Set after a concurrent update: %v", err)
	}
	f.setHold(nil)
	want := []string{"GET secret/metadata/mcp/test/x", "PUT secret/data/mcp/test/x", "GET secret/metadata/mcp/test/x", "PUT secret/data/mcp/test/x"}
	if got := paths(f.reqs()); !slices.Equal(got, want) {
		t.Errorf("requests = %q, want %q", got, want)
	}
	if got, err := s.Get(ctx, "x"); err != nil || got.Value.Text() != "mine" {
		t.Errorf("the overwrite was lost (err %v)", err)
	}
}

// TestPermissionDeniedFakeVault takes one capability at a time out of the
// minimal policy: each 403 names the capability and path that are missing.
func TestPermissionDeniedFakeVault(t *testing.T) {
	ctx := context.Background()
	data := testMount + "/data/" + testPrefix + "/*"
	meta := testMount + "/metadata/" + testPrefix + "/*"
	cases := []struct {
		name   string
		rule   string
		caps   []string
		do     func(s *vault.Store) error
		phrase string
	}{
		{"create", data, []string{"read", "update"},
			func(s *vault.Store) error {
				return s.Set(ctx, "fresh", backendtest.NewRecord(backendtest.MustString(t, canary), ""))
			},
			"needs create on secret/data/mcp/test/fresh"},
		{"update", data, []string{"create", "read"},
			func(s *vault.Store) error {
				return s.Set(ctx, "old", backendtest.NewRecord(backendtest.MustString(t, canary), ""))
			},
			"needs update on secret/data/mcp/test/old"},
		{"read data", data, []string{"create", "update"},
			func(s *vault.Store) error { _, err := s.Get(ctx, "old"); return err },
			"needs read on secret/data/mcp/test/old"},
		{"read metadata", meta, []string{"update", "delete", "list"},
			func(s *vault.Store) error {
				return s.Set(ctx, "old", backendtest.NewRecord(backendtest.MustString(t, canary), ""))
			},
			"needs read on secret/metadata/mcp/test/old"},
		{"list", meta, []string{"read", "update", "delete"},
			func(s *vault.Store) error { _, err := s.List(ctx); return err },
			"needs list on secret/metadata/mcp/test/"},
		{"delete", meta, []string{"read", "update", "list"},
			func(s *vault.Store) error { return s.Delete(ctx, "old") },
			"needs delete on secret/metadata/mcp/test/old"},
		{"update metadata", meta, []string{"read", "delete", "list"},
			func(s *vault.Store) error {
				return s.Set(ctx, "fresh", backendtest.NewRecord(backendtest.MustString(t, canary), "desc"))
			},
			"needs update on secret/metadata/mcp/test/fresh"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newFake(t)
			f.plant(testMount, testPrefix+"/old", map[string]any{"value": "old"}, nil)
			p := minimalPolicy(testMount, testPrefix)
			(*p)[c.rule] = c.caps
			s := f.store(t, "VAULT_TOKEN", f.addToken(p, 0))
			err := c.do(s)
			wantErr(t, c.name, err, backend.ErrUnavailable, "permission denied", c.phrase)
		})
	}
}

// TestSealedFakeVault: a sealed Vault is reported as sealed, at New and
// on every method.
func TestSealedFakeVault(t *testing.T) {
	ctx := context.Background()
	f := newFake(t)
	f.setSealed(true)
	_, err := vault.New(ctx, f.options())
	wantErr(t, "New", err, backend.ErrUnavailable, "is sealed", f.srv.URL)

	f.setSealed(false)
	s := f.store(t)
	f.setSealed(true)
	_, err = s.Get(ctx, "x")
	wantErr(t, "Get", err, backend.ErrUnavailable, "is sealed")
	err = s.Set(ctx, "x", backendtest.NewRecord(backendtest.MustString(t, canary), ""))
	wantErr(t, "Set", err, backend.ErrUnavailable, "is sealed")
	err = s.Delete(ctx, "x")
	wantErr(t, "Delete", err, backend.ErrUnavailable, "is sealed")
	_, err = s.List(ctx)
	wantErr(t, "List", err, backend.ErrUnavailable, "is sealed")
}

// TestUnreachable points the store at a closed port: it fails at once with
// ErrUnavailable, without retrying for seconds.
func TestUnreachable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := "http://" + ln.Addr().String()
	ln.Close()
	start := time.Now()
	_, err = vault.New(context.Background(), vault.Options{
		Mount: testMount, PathPrefix: testPrefix,
		Env: func(k string) string { return map[string]string{"VAULT_ADDR": addr, "VAULT_TOKEN": rootToken}[k] },
	})
	wantErr(t, "New", err, backend.ErrUnavailable, "cannot reach Vault at "+addr, "connection refused")
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("New took %s to report a closed port", d)
	}
}

// TestHangFakeVault: a Vault that accepts but never answers is given up on
// after the timeout, at New and on a method.
func TestHangFakeVault(t *testing.T) {
	release := make(chan struct{})
	hung := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	t.Cleanup(hung.Close)
	t.Cleanup(func() { close(release) })
	start := time.Now()
	_, err := vault.New(context.Background(), vault.Options{
		Mount: testMount, PathPrefix: testPrefix, Timeout: 300 * time.Millisecond,
		Env: func(k string) string { return map[string]string{"VAULT_ADDR": hung.URL, "VAULT_TOKEN": rootToken}[k] },
	})
	wantErr(t, "New", err, backend.ErrUnavailable, "did not answer within 300ms")
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("New took %s with a 300ms timeout", d)
	}

	f := newFake(t)
	opts := f.options()
	opts.Timeout = time.Second
	s, err := vault.New(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	stuck := make(chan struct{})
	f.setHold(func(method, path string) {
		if strings.HasPrefix(path, "secret/data/") {
			select {
			case <-stuck:
			case <-time.After(5 * time.Second):
			}
		}
	})
	start = time.Now()
	_, err = s.Get(context.Background(), "slow")
	close(stuck)
	wantErr(t, "Get", err, backend.ErrUnavailable, "did not answer within 1s")
	if d := time.Since(start); d > 4*time.Second {
		t.Errorf("Get took %s with a 1s timeout", d)
	}
}

// TestWrongMountFakeVault: a mount that does not exist, a path inside a
// mount, and a mount of another engine are each refused with a clear error
// before anything is written.
func TestWrongMountFakeVault(t *testing.T) {
	f := newFake(t)
	cases := []struct {
		mount   string
		target  error
		phrases []string
	}{
		{"nosuch", backend.ErrUnavailable, []string{`no mount "nosuch"`, "--vault-mount"}},
		{"secret/mcp", nil, []string{`"secret/mcp" is inside the mount "secret"`, "--vault-path-prefix"}},
		{"transit", backend.ErrUnavailable, []string{`"transit" secrets engine, not KV`}},
	}
	for _, c := range cases {
		opts := f.options()
		opts.Mount = c.mount
		_, err := vault.New(context.Background(), opts)
		if err == nil {
			t.Errorf("New with mount %q succeeded", c.mount)
			continue
		}
		noLeak(t, err)
		if c.target != nil && !errors.Is(err, c.target) {
			t.Errorf("mount %q: error = %v, want %v", c.mount, err, c.target)
		}
		for _, p := range c.phrases {
			if !strings.Contains(err.Error(), p) {
				t.Errorf("mount %q: error %q does not say %q", c.mount, err, p)
			}
		}
	}
	for _, r := range f.reqs() {
		if r.Method != http.MethodGet {
			t.Errorf("a refused mount still got %s", r)
		}
	}
}

// TestKVv1FakeVault: KV version 1 mounts (with version "1" or none, as
// older Vaults mount them) are refused, saying how to upgrade.
func TestKVv1FakeVault(t *testing.T) {
	f := newFake(t)
	f.mount("legacy", "kv", "")
	for _, m := range []string{"kv1", "legacy"} {
		opts := f.options()
		opts.Mount = m
		_, err := vault.New(context.Background(), opts)
		wantErr(t, m, err, backend.ErrUnavailable, "KV version 1", "vault kv enable-versioning "+m)
	}
	for _, r := range f.reqs() {
		if strings.HasPrefix(r.Path, "kv1/") || strings.HasPrefix(r.Path, "legacy/") {
			t.Errorf("a KV v1 mount was used: %s", r)
		}
	}
}

// TestTokenFakeVault: a token Vault refuses is reported as such, at New
// and when it expires later, also by a Vault that answers with a bare
// "permission denied" (then lookup-self tells expiry from policy).
func TestTokenFakeVault(t *testing.T) {
	ctx := context.Background()
	for _, legacy := range []bool{false, true} {
		t.Run(fmt.Sprintf("legacy=%v", legacy), func(t *testing.T) {
			f := newFake(t)
			f.mu.Lock()
			f.legacy = legacy
			f.mu.Unlock()
			dead := f.addToken(nil, time.Hour)
			f.expire(dead)
			_, err := vault.New(ctx, f.options("VAULT_TOKEN", dead))
			wantErr(t, "New with an expired token", err, backend.ErrUnavailable, "refused the token", "VAULT_TOKEN")

			_, err = vault.New(ctx, f.options("VAULT_TOKEN", "hvs.fake-never-issued"))
			wantErr(t, "New with an unknown token", err, backend.ErrUnavailable, "refused the token")

			tok := f.addToken(minimalPolicy(testMount, testPrefix), time.Hour)
			s := f.store(t, "VAULT_TOKEN", tok)
			if err := s.Set(ctx, "x", backendtest.NewRecord(backendtest.MustString(t, canary), "")); err != nil {
				t.Fatal(err)
			}
			f.expire(tok)
			_, err = s.Get(ctx, "x")
			wantErr(t, "Get after the token expired", err, backend.ErrUnavailable, "refused the token", "expired")
			if strings.Contains(err.Error(), "permission denied") {
				t.Errorf("an expired token is reported as a policy problem: %v", err)
			}
		})
	}
	f := newFake(t)
	_, err := vault.New(ctx, f.options("VAULT_TOKEN", ""))
	wantErr(t, "New without a token", err, backend.ErrUnavailable, "no Vault token", "VAULT_ROLE_ID")
	_, err = vault.New(ctx, f.options("VAULT_TOKEN", "", "VAULT_SECRET_ID", "secret-1"))
	if err == nil || !strings.Contains(err.Error(), "VAULT_ROLE_ID is not") {
		t.Errorf("New with a secret ID but no role ID: %v", err)
	}
	noLeak(t, err)
}

// goroutines returns how many goroutines run the AppRole renewal or a
// LifetimeWatcher.
func goroutines() int {
	buf := make([]byte, 1<<20)
	n := runtime.Stack(buf, true)
	count := 0
	for g := range strings.SplitSeq(string(buf[:n]), "\n\n") {
		if strings.Contains(g, "backend/vault.(*Store).renew") || strings.Contains(g, "api.(*LifetimeWatcher)") {
			count++
		}
	}
	return count
}

func waitFor(t *testing.T, what string, d time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestAppRoleFakeVault logs in with AppRole, watches the token being
// renewed and, at its max TTL, replaced by a new login; Close stops the
// renewal (no goroutine is left) and revokes the token.
func TestAppRoleFakeVault(t *testing.T) {
	ctx := context.Background()
	f := newFake(t)
	f.addRole("role-1", "secret-1", minimalPolicy(testMount, testPrefix), 2*time.Second, 3*time.Second)
	before := goroutines()
	s, err := vault.New(ctx, f.options("VAULT_TOKEN", "", "VAULT_ROLE_ID", "role-1", "VAULT_SECRET_ID", "secret-1"))
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	// The watcher renews at once, so a renew-self may already follow.
	got := slices.DeleteFunc(paths(f.reqs()), func(p string) bool { return p == "PUT auth/token/renew-self" })
	if !slices.Equal(got, []string{"PUT auth/approle/login", "GET sys/internal/ui/mounts/secret"}) {
		t.Errorf("New with AppRole sent %q", got)
	}
	if err := s.Set(ctx, "x", backendtest.NewRecord(backendtest.MustString(t, "v"), "")); err != nil {
		t.Fatalf("Set: %v", err)
	}
	if goroutines() <= before {
		t.Errorf("no renewal goroutine runs after an AppRole login")
	}
	waitFor(t, "a renewal and a second login", 20*time.Second, func() bool {
		logins, renewals, _ := f.counts()
		return logins >= 2 && renewals >= 1
	})
	if _, err := s.Get(ctx, "x"); err != nil {
		t.Errorf("Get with the token of the second login: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	waitFor(t, "the renewal goroutines to end", 5*time.Second, func() bool { return goroutines() == before })
	_, _, revoked := f.counts()
	if len(revoked) == 0 {
		t.Errorf("Close did not revoke the AppRole token")
	}
	if err := s.Close(); err != nil {
		t.Errorf("a second Close: %v", err)
	}
}

// TestAppRoleRefusedFakeVault: wrong AppRole credentials are refused
// clearly, and a login that New cannot use (wrong mount) is revoked; no
// goroutine is left either way.
func TestAppRoleRefusedFakeVault(t *testing.T) {
	ctx := context.Background()
	f := newFake(t)
	f.addRole("role-1", "secret-1", nil, time.Minute, time.Hour)
	before := goroutines()
	_, err := vault.New(ctx, f.options("VAULT_TOKEN", "", "VAULT_ROLE_ID", "role-1", "VAULT_SECRET_ID", "wrong-"+canary))
	wantErr(t, "New with a wrong secret ID", err, backend.ErrUnavailable, "refused VAULT_ROLE_ID/VAULT_SECRET_ID")

	opts := f.options("VAULT_TOKEN", "", "VAULT_ROLE_ID", "role-1", "VAULT_SECRET_ID", "secret-1")
	opts.Mount = "kv1"
	_, err = vault.New(ctx, opts)
	wantErr(t, "New with AppRole and a KV v1 mount", err, backend.ErrUnavailable, "KV version 1")
	if _, _, revoked := f.counts(); len(revoked) != 1 {
		t.Errorf("the login of a failed New was not revoked (%d revoked)", len(revoked))
	}
	if n := goroutines(); n != before {
		t.Errorf("%d renewal goroutines left after failed News", n-before)
	}
}

// TestNoLeakFakeVault makes Vault fail in ways that quote the request (and
// so the value) or answer garbage: no error passes any of it on.
func TestNoLeakFakeVault(t *testing.T) {
	ctx := context.Background()
	faults := []struct {
		name   string
		status int
		body   func(req []byte) string
	}{
		{"400 quoting the body", 400, func(req []byte) string {
			return errorsBody(faultMarker + " failed to parse JSON input: " + string(req))
		}},
		{"403 quoting the body", 403, func(req []byte) string { return errorsBody(faultMarker + " permission denied " + string(req)) }},
		{"500 raw text", 500, func(req []byte) string { return faultMarker + " panic: " + string(req) }},
		{"503 quoting", 503, func(req []byte) string { return errorsBody(faultMarker + " " + string(req)) }},
		{"404 with a strange body", 404, func(req []byte) string { return errorsBody(faultMarker + " no handler for route " + string(req)) }},
		{"200 garbage", 200, func(req []byte) string { return faultMarker + " not json " + canary }},
		{"200 wrong JSON", 200, func(req []byte) string { return `{"data":{"data":"` + faultMarker + canary + `"}}` }},
	}
	for _, fl := range faults {
		t.Run(fl.name, func(t *testing.T) {
			f := newFake(t)
			s := f.store(t)
			if err := s.Set(ctx, "x", backendtest.NewRecord(backendtest.MustString(t, "old-"+canary), "")); err != nil {
				t.Fatal(err)
			}
			f.setFault(func(method, path string, body []byte) (int, string, bool) {
				if strings.HasPrefix(path, "secret/") {
					return fl.status, fl.body(append(body, canary...)), true
				}
				return 0, "", false
			})
			err := s.Set(ctx, "x", backendtest.NewRecord(backendtest.MustString(t, "new-"+canary), "desc-"+canary))
			noLeak(t, err)
			_, err = s.Get(ctx, "x")
			noLeak(t, err)
			_, err = s.List(ctx)
			noLeak(t, err)
			noLeak(t, s.Delete(ctx, "x"))
		})
	}
}

// TestOptionsFakeVault: bad mounts and prefixes are refused before any
// request, with a message naming the rule.
func TestOptionsFakeVault(t *testing.T) {
	f := newFake(t)
	bad := []struct{ mount, prefix, phrase string }{
		{"secret", "", "path prefix must not be empty"},
		{"secret", "/", "path prefix must not be empty"},
		{"secret", "mcp/../other", `".." segment`},
		{"secret", "mcp//x", "empty segment"},
		{"secret", "mcp/a b", "only letters"},
		{"secret", "mcp/x?list=true", "only letters"},
		{"sec ret", "mcp/x", "mount"},
		{"..", "mcp/x", `".." segment`},
	}
	for _, b := range bad {
		opts := f.options()
		opts.Mount, opts.PathPrefix = b.mount, b.prefix
		_, err := vault.New(context.Background(), opts)
		if err == nil || !strings.Contains(err.Error(), b.phrase) {
			t.Errorf("mount %q prefix %q: error %v, want it to say %q", b.mount, b.prefix, err, b.phrase)
		}
	}
	opts := f.options()
	opts.Timeout = -time.Second
	if _, err := vault.New(context.Background(), opts); err == nil {
		t.Errorf("a negative timeout was accepted")
	}
	if r := f.reqs(); len(r) != 0 {
		t.Errorf("bad options still sent %q", paths(r))
	}
	// Slashes around the prefix and a default mount are fine.
	opts = f.options()
	opts.Mount, opts.PathPrefix = "", "/mcp/test/"
	s, err := vault.New(context.Background(), opts)
	if err != nil {
		t.Fatalf("New with a slashed prefix and the default mount: %v", err)
	}
	defer s.Close()
	if err := s.Set(context.Background(), "n", backendtest.NewRecord(backendtest.MustString(t, "v"), "")); err != nil {
		t.Fatal(err)
	}
	if _, _, _, ok := f.secret(testMount, testPrefix+"/n"); !ok {
		t.Errorf("the secret is not at secret/mcp/test/n")
	}
}

// TestSizesFakeVault: a value at the limit fits the smallest documented
// storage entry (Consul's 512 KiB, which the fake enforces) even when
// every byte needs a six-byte JSON escape; one byte more is refused before
// any request; and a storage refusal is reported without Vault's text.
func TestSizesFakeVault(t *testing.T) {
	ctx := context.Background()
	f := newFake(t)
	s := f.store(t)
	for _, c := range []string{"\x01", "<", "\""} {
		v := backendtest.NewRecord(backendtest.MustString(t, strings.Repeat(c, vault.MaxValueSize)), strings.Repeat("d", 1024))
		if err := s.Set(ctx, "big", v); err != nil {
			t.Errorf("Set of %d bytes of %q: %v", vault.MaxValueSize, c, err)
		}
	}
	f.reqs()
	err := s.Set(ctx, "big", backendtest.NewRecord(backendtest.MustString(t, canary+strings.Repeat("a", vault.MaxValueSize)), ""))
	wantErr(t, "Set over the limit", err, backend.ErrTooLarge)
	if r := f.reqs(); len(r) != 0 {
		t.Errorf("an oversized Set still sent %q", paths(r))
	}
	if s.MaxValueSize() != vault.MaxValueSize {
		t.Errorf("MaxValueSize() = %d", s.MaxValueSize())
	}
	f.mu.Lock()
	f.entryLimit = 1024
	f.mu.Unlock()
	err = s.Set(ctx, "big", backendtest.NewRecord(backendtest.MustString(t, strings.Repeat(canary, 100)), ""))
	wantErr(t, "Set refused by storage", err, backend.ErrUnavailable, "HTTP 500")
}

// TestDescriptionFakeVault: a description Vault would refuse in
// custom_metadata (too long, unprintable) is cleaned there and kept whole
// in the record.
func TestDescriptionFakeVault(t *testing.T) {
	ctx := context.Background()
	f := newFake(t)
	s := f.store(t)
	desc := "line one\nline two\t" + strings.Repeat("é", 500)
	if err := s.Set(ctx, "d", backendtest.NewRecord(backendtest.MustString(t, "v"), desc)); err != nil {
		t.Fatalf("Set: %v", err)
	}
	got, err := s.Get(ctx, "d")
	if err != nil || got.Description != desc {
		t.Errorf("the description did not round-trip (err %v)", err)
	}
	_, custom, _, _ := f.secret(testMount, testPrefix+"/d")
	cd := custom["mcp-secrets.description"]
	if len(cd) == 0 || len(cd) > 512 || strings.ContainsAny(cd, "\n\t") || !strings.HasPrefix(cd, "line one line two") {
		t.Errorf("custom_metadata description is %d bytes and not cleaned", len(cd))
	}
}

// TestDeleteFakeVault: Delete removes every version and the metadata, and
// only the name asked for; a soft-deleted latest version (vault kv delete)
// reads as missing and can be written again.
func TestDeleteFakeVault(t *testing.T) {
	ctx := context.Background()
	f := newFake(t)
	s := f.store(t)
	for i := range 3 {
		if err := s.Set(ctx, "x", backendtest.NewRecord(backendtest.MustString(t, fmt.Sprint(i)), "")); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Set(ctx, "y", backendtest.NewRecord(backendtest.MustString(t, "keep"), "")); err != nil {
		t.Fatal(err)
	}
	if _, _, n, _ := f.secret(testMount, testPrefix+"/x"); n != 3 {
		t.Fatalf("%d versions before Delete, want 3", n)
	}
	if err := s.Delete(ctx, "x"); err != nil {
		t.Fatal(err)
	}
	if _, _, _, ok := f.secret(testMount, testPrefix+"/x"); ok {
		t.Errorf("versions or metadata of x remain after Delete")
	}
	if _, _, _, ok := f.secret(testMount, testPrefix+"/y"); !ok {
		t.Errorf("Delete of x removed y")
	}

	// A person soft-deletes y's latest version.
	f.mu.Lock()
	sec := f.mounts["secret/"].kv2[testPrefix+"/y"]
	sec.versions[sec.current].deleted = time.Now().Add(-time.Second)
	f.mu.Unlock()
	if _, err := s.Get(ctx, "y"); !errors.Is(err, backend.ErrNotFound) {
		t.Errorf("Get of a soft-deleted secret: %v, want ErrNotFound", err)
	}
	if err := s.Set(ctx, "y", backendtest.NewRecord(backendtest.MustString(t, "again"), "")); err != nil {
		t.Fatalf("Set over a soft-deleted version: %v", err)
	}
	if got, err := s.Get(ctx, "y"); err != nil || got.Value.Text() != "again" {
		t.Errorf("Get after writing over a soft-deleted version (err %v)", err)
	}
}

// TestCASRequiredFakeVault: a mount that requires check-and-set on every
// write works, as every write carries cas.
func TestCASRequiredFakeVault(t *testing.T) {
	ctx := context.Background()
	f := newFake(t)
	f.mu.Lock()
	f.mounts["secret/"].casRequired = true
	f.mu.Unlock()
	s := f.store(t)
	for _, v := range []string{"one", "two"} {
		if err := s.Set(ctx, "c", backendtest.NewRecord(backendtest.MustString(t, v), "")); err != nil {
			t.Fatalf("Set on a cas_required mount: %v", err)
		}
	}
}

// TestCatalogFakeVault drives the Catalog over the store: puts, an index
// chunked to the store's limit, and a Clear that removes every secret
// under our prefix (metadata and all versions) and nothing else.
func TestCatalogFakeVault(t *testing.T) {
	ctx := context.Background()
	f := newFake(t)
	s := f.store(t)
	c := backend.NewCatalog(s, backend.CatalogOptions{})
	if c.MaxValueSize() != vault.MaxValueSize {
		t.Errorf("the Catalog's limit is %d, want the store's %d", c.MaxValueSize(), vault.MaxValueSize)
	}
	for i := range 5 {
		if _, _, err := c.Put(ctx, fmt.Sprintf("cred%d", i), backendtest.MustString(t, canary), "d", false); err != nil {
			t.Fatalf("Put: %v", err)
		}
	}
	_, _, err := c.Put(ctx, "cred0", backendtest.MustString(t, canary), "", false)
	wantErr(t, "Put without overwrite", err, backend.ErrExists)
	metas, err := c.List(ctx)
	if err != nil || len(metas) != 5 {
		t.Fatalf("List = %d items (err %v), want 5", len(metas), err)
	}
	f.plant(testMount, testPrefix+"-other/cred0", map[string]any{"value": "theirs"}, nil)
	f.plant(testMount, "cred1", map[string]any{"value": "theirs"}, nil)
	n, err := c.Clear(ctx)
	if err != nil || n != 5 {
		t.Fatalf("Clear = %d (err %v), want 5", n, err)
	}
	if got, want := f.keys(testMount), []string{"cred1", testPrefix + "-other/cred0"}; !slices.Equal(got, want) {
		t.Errorf("after Clear the mount holds %q, want %q", got, want)
	}
}

// TestPlainHTTPFakeVault: an https:// address for a Vault that speaks
// plain HTTP (as `vault server -dev` does) gets a message saying so.
func TestPlainHTTPFakeVault(t *testing.T) {
	f := newFake(t)
	addr := "https://" + f.srv.Listener.Addr().String()
	_, err := vault.New(context.Background(), f.options("VAULT_ADDR", addr))
	wantErr(t, "New", err, backend.ErrUnavailable, "speaks plain HTTP", "http://")
}

// TestTLSFakeVault serves the fake over TLS: its certificate is refused
// until VAULT_CACERT (read by the client library from the environment)
// names it.
func TestTLSFakeVault(t *testing.T) {
	f := newFake(t)
	tlsSrv := httptest.NewUnstartedServer(f)
	tlsSrv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshake
	tlsSrv.StartTLS()
	t.Cleanup(tlsSrv.Close)
	t.Setenv("VAULT_CACERT", "")
	_, err := vault.New(context.Background(), f.options("VAULT_ADDR", tlsSrv.URL))
	wantErr(t, "New with an untrusted certificate", err, backend.ErrUnavailable, "VAULT_CACERT")

	ca := filepath.Join(t.TempDir(), "ca.pem")
	pem := "-----BEGIN CERTIFICATE-----\n" + base64.StdEncoding.EncodeToString(tlsSrv.Certificate().Raw) + "\n-----END CERTIFICATE-----\n"
	if err := os.WriteFile(ca, []byte(pem), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("VAULT_CACERT", ca)
	s, err := vault.New(context.Background(), f.options("VAULT_ADDR", tlsSrv.URL))
	if err != nil {
		t.Fatalf("New with VAULT_CACERT: %v", err)
	}
	defer s.Close()
	if _, err := s.List(context.Background()); err != nil {
		t.Errorf("List over TLS: %v", err)
	}
}

// TestCancelFakeVault: a cancelled context ends a request at once.
func TestCancelFakeVault(t *testing.T) {
	f := newFake(t)
	s := f.store(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := s.Get(ctx, "x")
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Get with a cancelled context: %v", err)
	}
}

// TestFakeMatchesOfficialClientFakeVault reads and writes the fake through
// the official client's own KV version 2 helpers (api.KVv2), which decode
// Vault's documented answers into typed fields: the fake's shapes parse as
// a real Vault's do, and it agrees with what the store wrote.
func TestFakeMatchesOfficialClientFakeVault(t *testing.T) {
	ctx := context.Background()
	f := newFake(t)
	s := f.store(t)
	if err := s.Set(ctx, "api", backendtest.NewRecord(backendtest.MustString(t, "v1"), "the api key")); err != nil {
		t.Fatal(err)
	}
	if err := s.Set(ctx, "api", backendtest.NewRecord(backendtest.MustString(t, "v2"), "the api key")); err != nil {
		t.Fatal(err)
	}
	c, err := api.NewClient(&api.Config{Address: f.srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	c.SetToken(rootToken)
	kv := c.KVv2(testMount)
	sec, err := kv.Get(ctx, testPrefix+"/api")
	if err != nil {
		t.Fatalf("KVv2.Get: %v", err)
	}
	if sec.Data["value"] != "v2" || sec.VersionMetadata == nil || sec.VersionMetadata.Version != 2 || sec.VersionMetadata.CreatedTime.IsZero() {
		t.Errorf("KVv2.Get = version %v, value matches %v", sec.VersionMetadata, sec.Data["value"] == "v2")
	}
	if sec.CustomMetadata["mcp-secrets.description"] != "the api key" {
		t.Errorf("KVv2.Get custom metadata = %v", sec.CustomMetadata)
	}
	md, err := kv.GetMetadata(ctx, testPrefix+"/api")
	if err != nil {
		t.Fatalf("KVv2.GetMetadata: %v", err)
	}
	if md.CurrentVersion != 2 || len(md.Versions) != 2 || md.CustomMetadata["mcp-secrets.kind"] != "string" {
		t.Errorf("KVv2.GetMetadata = current %d, %d versions, custom %v", md.CurrentVersion, len(md.Versions), md.CustomMetadata)
	}
	_, err = kv.Put(ctx, testPrefix+"/api", map[string]any{"value": "x"}, api.WithCheckAndSet(1))
	if err == nil || !strings.Contains(err.Error(), "check-and-set parameter did not match the current version") {
		t.Errorf("KVv2.Put with a stale cas: %v", err)
	}
	if err := kv.Delete(ctx, testPrefix+"/api"); err != nil {
		t.Fatalf("KVv2.Delete: %v", err)
	}
	// The client's documented reading of a deleted version: no data, but
	// the version's metadata with its deletion time.
	if sec, err := kv.Get(ctx, testPrefix+"/api"); err != nil || sec.Data != nil || sec.VersionMetadata == nil || sec.VersionMetadata.DeletionTime.IsZero() {
		t.Errorf("KVv2.Get of a soft-deleted secret: %v (err %v)", sec, err)
	}
	if err := kv.DeleteMetadata(ctx, testPrefix+"/api"); err != nil {
		t.Fatalf("KVv2.DeleteMetadata: %v", err)
	}
	if err := kv.DeleteMetadata(ctx, testPrefix+"/api"); err != nil {
		t.Errorf("KVv2.DeleteMetadata of a missing secret: %v (Vault answers 204)", err)
	}
	if _, err := kv.GetMetadata(ctx, testPrefix+"/api"); !errors.Is(err, api.ErrSecretNotFound) {
		t.Errorf("KVv2.GetMetadata after DeleteMetadata: %v", err)
	}
	if list, err := c.Logical().List(testMount + "/metadata/" + testPrefix); err != nil || list != nil {
		t.Errorf("listing an empty folder = %v (err %v), want nothing", list, err)
	}
}

// TestEnvironmentFakeVault: VAULT_NAMESPACE reaches every request, the
// AppRole login included; VAULT_CLIENT_TIMEOUT bounds requests when
// Options.Timeout is 0; malformed settings are refused by name.
func TestEnvironmentFakeVault(t *testing.T) {
	ctx := context.Background()
	f := newFake(t)
	f.addRole("role-1", "secret-1", nil, time.Minute, time.Hour)
	for _, kv := range [][]string{
		{"VAULT_NAMESPACE", "team-a"},
		{"VAULT_NAMESPACE", "team-a", "VAULT_TOKEN", "", "VAULT_ROLE_ID", "role-1", "VAULT_SECRET_ID", "secret-1"},
	} {
		s := f.store(t, kv...)
		if _, err := s.List(ctx); err != nil {
			t.Fatal(err)
		}
		s.Close()
		for _, r := range f.reqs() {
			if r.Namespace != "team-a" {
				t.Errorf("%s carried namespace %q, want team-a", r, r.Namespace)
			}
		}
	}

	hung := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() }))
	t.Cleanup(hung.Close)
	opts := f.options("VAULT_ADDR", hung.URL, "VAULT_CLIENT_TIMEOUT", "300ms")
	opts.Timeout = 0
	_, err := vault.New(ctx, opts)
	wantErr(t, "New with VAULT_CLIENT_TIMEOUT", err, backend.ErrUnavailable, "did not answer within 300ms")

	for _, kv := range [][]string{{"VAULT_CLIENT_TIMEOUT", "soon"}, {"VAULT_MAX_RETRIES", "-1"}} {
		opts := f.options(kv...)
		opts.Timeout = 0
		if _, err := vault.New(ctx, opts); err == nil || !strings.Contains(err.Error(), kv[0]) {
			t.Errorf("%s=%s: error %v, want it named", kv[0], kv[1], err)
		}
	}
}
