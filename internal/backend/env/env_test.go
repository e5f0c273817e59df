package env_test

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mcp-secrets/mcp-secrets/internal/backend"
	"github.com/mcp-secrets/mcp-secrets/internal/backend/backendtest"
	"github.com/mcp-secrets/mcp-secrets/internal/backend/env"
)

const canary = backendtest.Canary

// fakeEnv stands in for the process environment.
type fakeEnv struct {
	mu    sync.Mutex
	vars  map[string]string
	calls int
	// fail, when set, may refuse a call: op is "set" or "unset".
	fail func(op, key string) error
}

func newFakeEnv(environ ...string) *fakeEnv {
	f := &fakeEnv{vars: make(map[string]string)}
	for _, kv := range environ {
		k, v, _ := strings.Cut(kv, "=")
		f.vars[k] = v
	}
	return f
}

func (f *fakeEnv) Setenv(k, v string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	if f.fail != nil {
		if err := f.fail("set", k); err != nil {
			return err
		}
	}
	f.vars[k] = v
	return nil
}

func (f *fakeEnv) Unsetenv(k string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	if f.fail != nil {
		if err := f.fail("unset", k); err != nil {
			return err
		}
	}
	delete(f.vars, k)
	return nil
}

func (f *fakeEnv) snapshot() map[string]string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return maps.Clone(f.vars)
}

func (f *fakeEnv) environ() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := []string{}
	for k, v := range f.vars {
		out = append(out, k+"="+v)
	}
	return out
}

// open makes a Store over fe (which may be nil for an empty environment).
func open(t *testing.T, fe *fakeEnv, opts env.Options) *env.Store {
	t.Helper()
	if fe == nil {
		fe = newFakeEnv()
	}
	if opts.Prefix == "" {
		opts.Prefix = "MYAPP"
	}
	opts.Environ = fe.environ()
	opts.Setenv = fe.Setenv
	opts.Unsetenv = fe.Unsetenv
	s, err := env.New(opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// noCanary fails if err's text holds the canary, without printing it.
func noCanary(t *testing.T, err error) {
	t.Helper()
	if err != nil && strings.Contains(err.Error(), canary) {
		t.Errorf("an error's text contains the canary value (error withheld)")
	}
}

// check compares a Get result with a want kind and text, printing sizes
// only when the text holds the canary.
func check(t *testing.T, what string, got backend.Value, kind backend.Kind, text string) {
	t.Helper()
	if got.Kind() != kind {
		t.Errorf("%s: kind = %q, want %q", what, got.Kind(), kind)
		return
	}
	if got.Text() != text {
		if strings.Contains(text, canary) {
			t.Errorf("%s: value differs (%d bytes, want %d)", what, got.Len(), len(text))
		} else {
			t.Errorf("%s: value = %q, want %q", what, got.Text(), text)
		}
	}
}

// ours returns the fake environment's variables that start with prefix.
func ours(fe *fakeEnv, prefix string) map[string]string {
	out := make(map[string]string)
	for k, v := range fe.snapshot() {
		if strings.HasPrefix(k, prefix) {
			out[k] = v
		}
	}
	return out
}

func TestReadMapping(t *testing.T) {
	cases := []struct {
		name    string
		environ []string
		get     string
		kind    backend.Kind
		text    string
	}{
		{"issue example", []string{"MYAPP_API_KEY=abc", "MYAPP_API_SECRET=def"}, "api", backend.KindObject, `{"key":"abc","secret":"def"}`},
		{"plain string", []string{"MYAPP_TOKEN=t0k3n"}, "token", backend.KindString, "t0k3n"},
		{"field of several segments", []string{"MYAPP_DB_MAX_CONN=5", "MYAPP_DB_USER=ada"}, "db", backend.KindObject, `{"max_conn":"5","user":"ada"}`},
		{"digits", []string{"MYAPP_2FA_K9=1"}, "2fa", backend.KindObject, `{"k9":"1"}`},
		{"empty value", []string{"MYAPP_E="}, "e", backend.KindString, ""},
		{"value with '='", []string{"MYAPP_URL=a=b=c"}, "url", backend.KindString, "a=b=c"},
		{"marked object", []string{`MYAPP_CFG={"a": {"b": [1, 2]}}`, "MYAPP_CFG__KIND=json"}, "cfg", backend.KindObject, `{"a":{"b":[1,2]}}`},
		{"marked array", []string{`MYAPP_L=["x","y"]`, "MYAPP_L__KIND=json"}, "l", backend.KindArray, `["x","y"]`},
		{"object-looking string", []string{`MYAPP_RAW={"a":1}`}, "raw", backend.KindString, `{"a":1}`},
		{"array-looking string", []string{`MYAPP_RAW=["a"]`}, "raw", backend.KindString, `["a"]`},
		{"header-looking string", []string{"MYAPP_RAW=mcp-secrets/1 {\"kind\":\"object\"}\n{}"}, "raw", backend.KindString, "mcp-secrets/1 {\"kind\":\"object\"}\n{}"},
		{"marker text as a value", []string{"MYAPP_X=json"}, "x", backend.KindString, "json"},
		{"credential named kind", []string{"MYAPP_KIND=json"}, "kind", backend.KindString, "json"},
		{"field named kind", []string{"MYAPP_X_KIND=json"}, "x", backend.KindObject, `{"kind":"json"}`},
		{"HTML characters in a field", []string{"MYAPP_X_K=a<b&c>"}, "x", backend.KindObject, `{"k":"a\u003cb\u0026c\u003e"}`},
		{"first duplicate wins", []string{"MYAPP_D=first", "MYAPP_D=second"}, "d", backend.KindString, "first"},
		{"windows drive entry ignored", []string{"=C:=C:\\x", "MYAPP_W=1"}, "w", backend.KindString, "1"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s, err := env.New(env.Options{Prefix: "MYAPP", Environ: c.environ})
			if err != nil {
				t.Fatalf("New: %v", err)
			}
			rec, err := s.Get(context.Background(), c.get)
			if err != nil {
				t.Fatalf("Get(%q): %v", c.get, err)
			}
			check(t, c.get, rec.Value, c.kind, c.text)
			if rec.Description != "" || !rec.Created.IsZero() || !rec.Updated.IsZero() {
				t.Errorf("Get returned metadata %q/%v/%v, want none", rec.Description, rec.Created, rec.Updated)
			}
		})
	}
}

func TestListPrefixBoundary(t *testing.T) {
	environ := []string{
		"MYAPP_A=1", "MYAPP_API_KEY=1", "MYAPP_CFG={}", "MYAPP_CFG__KIND=json",
		// Not ours: other prefixes, the prefix without '_', and shapes the
		// mapping cannot read back.
		"MYAPPLE_X=1", "MYAPPX_FOO=1", "OTHER_FOO=1", "MYAPP=1", "MYAPP_=1", "MYAPP__X=1",
		"MYAPP_lower=1", "MYAPP_Mixed=1", "MYAPP_B_=1", "MYAPP_C__D=1", "MYAPP_E_F__G=1", "myapp_D=1",
		"MYAPP_F-G=1", "MYAPP_H.I=1", "MYAPP___KIND=json", "PATH=/bin",
	}
	fe := newFakeEnv(environ...)
	s := open(t, fe, env.Options{AutoSave: true})
	ctx := context.Background()
	names, err := s.List(ctx)
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	if want := []string{"a", "api", "cfg"}; !slices.Equal(names, want) {
		t.Errorf("List = %q, want %q", names, want)
	}
	for _, n := range []string{"le", "x", "foo", "d", "b", "c", "e", "f", "h"} {
		if _, err := s.Get(ctx, n); !errors.Is(err, backend.ErrNotFound) {
			t.Errorf("Get(%q) error = %v, want ErrNotFound", n, err)
		}
		if err := s.Delete(ctx, n); !errors.Is(err, backend.ErrNotFound) {
			t.Errorf("Delete(%q) error = %v, want ErrNotFound", n, err)
		}
	}
	for _, n := range []string{"a", "api", "cfg"} {
		if err := s.Delete(ctx, n); err != nil {
			t.Fatalf("Delete(%q): %v", n, err)
		}
	}
	if err := s.Set(ctx, "x", backend.Record{Value: backendtest.MustString(t, "v")}); err != nil {
		t.Fatalf("Set: %v", err)
	}
	got := fe.snapshot()
	for _, kv := range environ[4:] {
		k, v, _ := strings.Cut(kv, "=")
		if got[k] != v {
			t.Errorf("a variable that is not ours, %s, was changed", k)
		}
	}
	for _, k := range []string{"MYAPP_A", "MYAPP_API_KEY", "MYAPP_CFG", "MYAPP_CFG__KIND"} {
		if _, ok := got[k]; ok {
			t.Errorf("%s survived Delete", k)
		}
	}
	if names, _ := s.List(ctx); !slices.Equal(names, []string{"x"}) {
		t.Errorf("List = %q, want [x]", names)
	}
}

func TestConflicts(t *testing.T) {
	cases := []struct {
		name    string
		environ []string
		mention []string
	}{
		{"plain and field", []string{"MYAPP_API=" + canary, "MYAPP_API_KEY=" + canary}, []string{"MYAPP_API", "MYAPP_API_KEY"}},
		{"marker and fields", []string{"MYAPP_API={}", "MYAPP_API__KIND=json", "MYAPP_API_KEY=" + canary}, []string{"MYAPP_API__KIND", "MYAPP_API_KEY"}},
		{"marker alone", []string{"MYAPP_API__KIND=json"}, []string{"MYAPP_API__KIND", "MYAPP_API"}},
		{"marker with another value", []string{"MYAPP_API={}", "MYAPP_API__KIND=" + canary}, []string{"MYAPP_API__KIND"}},
		{"marked but not JSON", []string{"MYAPP_API={" + canary, "MYAPP_API__KIND=json"}, []string{"MYAPP_API", "JSON"}},
		{"marked JSON string", []string{`MYAPP_API="` + canary + `"`, "MYAPP_API__KIND=json"}, []string{"MYAPP_API"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			fe := newFakeEnv(c.environ...)
			s := open(t, fe, env.Options{AutoSave: true})
			ctx := context.Background()
			_, err := s.Get(ctx, "api")
			if !errors.Is(err, env.ErrConflict) || !errors.Is(err, backend.ErrInvalidValue) {
				t.Fatalf("Get error = %v, want ErrConflict and ErrInvalidValue", err)
			}
			noCanary(t, err)
			for _, m := range c.mention {
				if !strings.Contains(err.Error(), m) {
					t.Errorf("Get error does not name %s", m)
				}
			}
			if names, _ := s.List(ctx); !slices.Equal(names, []string{"api"}) {
				t.Errorf("List = %q, want [api]", names)
			}
			if err := s.Delete(ctx, "api"); err != nil {
				t.Fatalf("Delete: %v", err)
			}
			if left := ours(fe, "MYAPP"); len(left) != 0 {
				t.Errorf("Delete left %d variables", len(left))
			}
			if _, err := s.Get(ctx, "api"); !errors.Is(err, backend.ErrNotFound) {
				t.Errorf("Get after Delete error = %v, want ErrNotFound", err)
			}
		})
	}
}

func TestWriteMapping(t *testing.T) {
	tool, err := backend.FromAny(map[string]any{"secret": "a<b&c>", "key": "k"})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name  string
		value backend.Value
		vars  map[string]string // the MYAPP_API* variables afterwards
		text  string            // what Get returns
	}{
		{"string", backendtest.MustString(t, "abc"), map[string]string{"MYAPP_API": "abc"}, "abc"},
		{"object-looking string", backendtest.MustString(t, `{"key":"abc"}`), map[string]string{"MYAPP_API": `{"key":"abc"}`}, `{"key":"abc"}`},
		{"marker-looking string", backendtest.MustString(t, "json"), map[string]string{"MYAPP_API": "json"}, "json"},
		{"issue example", backendtest.MustJSON(t, `{"secret":"def","key":"abc"}`), map[string]string{"MYAPP_API_KEY": "abc", "MYAPP_API_SECRET": "def"}, `{"key":"abc","secret":"def"}`},
		{"from the tools", tool, map[string]string{"MYAPP_API_KEY": "k", "MYAPP_API_SECRET": "a<b&c>"}, tool.Text()},
		{"field of segments", backendtest.MustJSON(t, `{"max_conn":"5"}`), map[string]string{"MYAPP_API_MAX_CONN": "5"}, `{"max_conn":"5"}`},
		{"empty field value", backendtest.MustJSON(t, `{"k":""}`), map[string]string{"MYAPP_API_K": ""}, `{"k":""}`},
		{"nested", backendtest.MustJSON(t, `{"a":{"b":"c"}}`), map[string]string{"MYAPP_API": `{"a":{"b":"c"}}`, "MYAPP_API__KIND": "json"}, `{"a":{"b":"c"}}`},
		{"number field", backendtest.MustJSON(t, `{"user":"ada","port":5432}`), map[string]string{"MYAPP_API": `{"user":"ada","port":5432}`, "MYAPP_API__KIND": "json"}, `{"user":"ada","port":5432}`},
		{"null field", backendtest.MustJSON(t, `{"a":null}`), map[string]string{"MYAPP_API": `{"a":null}`, "MYAPP_API__KIND": "json"}, `{"a":null}`},
		{"upper-case field", backendtest.MustJSON(t, `{"Key":"v"}`), map[string]string{"MYAPP_API": `{"Key":"v"}`, "MYAPP_API__KIND": "json"}, `{"Key":"v"}`},
		{"dashed field", backendtest.MustJSON(t, `{"a-b":"v"}`), map[string]string{"MYAPP_API": `{"a-b":"v"}`, "MYAPP_API__KIND": "json"}, `{"a-b":"v"}`},
		{"field with empty segment", backendtest.MustJSON(t, `{"a__b":"v"}`), map[string]string{"MYAPP_API": `{"a__b":"v"}`, "MYAPP_API__KIND": "json"}, `{"a__b":"v"}`},
		{"field named like the marker", backendtest.MustJSON(t, `{"_kind":"json"}`), map[string]string{"MYAPP_API": `{"_kind":"json"}`, "MYAPP_API__KIND": "json"}, `{"_kind":"json"}`},
		{"repeated field", backendtest.MustJSON(t, `{"a":"1","a":"2"}`), map[string]string{"MYAPP_API": `{"a":"1","a":"2"}`, "MYAPP_API__KIND": "json"}, `{"a":"1","a":"2"}`},
		{"NUL in a field", backendtest.MustJSON(t, `{"k":"a\u0000b"}`), map[string]string{"MYAPP_API": `{"k":"a\u0000b"}`, "MYAPP_API__KIND": "json"}, `{"k":"a\u0000b"}`},
		{"empty object", backendtest.MustJSON(t, `{}`), map[string]string{"MYAPP_API": `{}`, "MYAPP_API__KIND": "json"}, `{}`},
		{"array", backendtest.MustJSON(t, `["a", "b"]`), map[string]string{"MYAPP_API": `["a","b"]`, "MYAPP_API__KIND": "json"}, `["a","b"]`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			fe := newFakeEnv("MYAPP_API=stale", "MYAPP_API_OLD=stale", "MYAPP_API__KIND=json", "MYAPP_APIS=other")
			s := open(t, fe, env.Options{AutoSave: true})
			ctx := context.Background()
			if err := s.Set(ctx, "api", backend.Record{Value: c.value}); err != nil {
				t.Fatalf("Set: %v", err)
			}
			got := ours(fe, "MYAPP_API")
			delete(got, "MYAPP_APIS")
			if !maps.Equal(got, c.vars) {
				t.Errorf("variables = %q, want %q", got, c.vars)
			}
			if fe.snapshot()["MYAPP_APIS"] != "other" {
				t.Errorf("Set changed another credential")
			}
			rec, err := s.Get(ctx, "api")
			if err != nil {
				t.Fatalf("Get: %v", err)
			}
			check(t, "Get", rec.Value, c.value.Kind(), c.text)
			// A new Store over the resulting environment reads the same.
			s2 := open(t, fe, env.Options{})
			rec2, err := s2.Get(ctx, "api")
			if err != nil {
				t.Fatalf("Get from a new Store: %v", err)
			}
			check(t, "Get from a new Store", rec2.Value, c.value.Kind(), c.text)
		})
	}
}

func TestShapeChanges(t *testing.T) {
	fe := newFakeEnv()
	s := open(t, fe, env.Options{AutoSave: true})
	ctx := context.Background()
	steps := []struct {
		value backend.Value
		vars  []string
	}{
		{backendtest.MustJSON(t, `{"key":"k","secret":"s"}`), []string{"MYAPP_API_KEY", "MYAPP_API_SECRET"}},
		{backendtest.MustString(t, "plain"), []string{"MYAPP_API"}},
		{backendtest.MustJSON(t, `[1]`), []string{"MYAPP_API", "MYAPP_API__KIND"}},
		{backendtest.MustJSON(t, `{"user":"u"}`), []string{"MYAPP_API_USER"}},
		{backendtest.MustString(t, `[1]`), []string{"MYAPP_API"}},
	}
	for i, st := range steps {
		if err := s.Set(ctx, "api", backend.Record{Value: st.value}); err != nil {
			t.Fatalf("step %d: Set: %v", i, err)
		}
		got := slices.Sorted(maps.Keys(ours(fe, "MYAPP")))
		if !slices.Equal(got, st.vars) {
			t.Errorf("step %d: variables = %q, want %q", i, got, st.vars)
		}
		rec, err := s.Get(ctx, "api")
		if err != nil || !rec.Value.Equal(st.value) {
			t.Errorf("step %d: Get does not return what was set (err %v)", i, err)
		}
	}
}

func TestMetadataDropped(t *testing.T) {
	s := open(t, nil, env.Options{AutoSave: true})
	ctx := context.Background()
	now := time.Now()
	if err := s.Set(ctx, "a", backend.Record{Value: backendtest.MustString(t, "v"), Description: "desc", Created: now, Updated: now}); err != nil {
		t.Fatalf("Set: %v", err)
	}
	rec, err := s.Get(ctx, "a")
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	if rec.Description != "" || !rec.Created.IsZero() || !rec.Updated.IsZero() {
		t.Errorf("Get = %q/%v/%v, want no metadata", rec.Description, rec.Created, rec.Updated)
	}
	var _ backend.Unindexed = s
}

func TestReadOnly(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, ".env")
	const content = "# keep\nMYAPP_A=1\n"
	writeFile(t, path, content)
	fe := newFakeEnv("MYAPP_B=2")
	s := open(t, fe, env.Options{File: path})
	ctx := context.Background()
	errs := map[string]error{
		"Set new":         s.Set(ctx, "c", backend.Record{Value: backendtest.MustString(t, canary)}),
		"Set existing":    s.Set(ctx, "a", backend.Record{Value: backendtest.MustString(t, canary)}),
		"Delete existing": s.Delete(ctx, "b"),
		"Delete missing":  s.Delete(ctx, "zzz"),
	}
	for what, err := range errs {
		if !errors.Is(err, backend.ErrReadOnly) {
			t.Errorf("%s error = %v, want ErrReadOnly", what, err)
			continue
		}
		if !strings.Contains(err.Error(), "--env-auto-save") {
			t.Errorf("%s error %q does not say to start with --env-auto-save", what, err)
		}
		noCanary(t, err)
	}
	if fe.calls != 0 {
		t.Errorf("a read-only Store changed the environment %d times", fe.calls)
	}
	if got := readFile(t, path); got != content {
		t.Errorf("a read-only Store changed the file")
	}
	names, err := s.List(ctx)
	if err != nil || !slices.Equal(names, []string{"a", "b"}) {
		t.Errorf("List = %q, %v; want [a b]", names, err)
	}
	for n, want := range map[string]string{"a": "1", "b": "2"} {
		rec, err := s.Get(ctx, n)
		if err != nil {
			t.Fatalf("Get(%q): %v", n, err)
		}
		check(t, n, rec.Value, backend.KindString, want)
	}
}

func TestInvalidNames(t *testing.T) {
	cases := []struct {
		name, says string
	}{
		{"", "empty"},
		{"b.c", `"."`},
		{"d-e", `"-"`},
		{"f_g", "'_'"},
		{"api_key", "field"},
		{"Case", `use "case"`},
		{"API", `use "api"`},
		{backend.IndexName, "'_'"},
		{"a/b", `"/"`},
		{"ünï", "letters"},
		{"nul\x00", "control"},
		{strings.Repeat("n", backend.MaxNameLen+1), "limit"},
	}
	for _, autoSave := range []bool{false, true} {
		fe := newFakeEnv()
		s := open(t, fe, env.Options{AutoSave: autoSave})
		ctx := context.Background()
		for _, c := range cases {
			for op, err := range map[string]error{
				"Get":    func() error { _, err := s.Get(ctx, c.name); return err }(),
				"Set":    s.Set(ctx, c.name, backend.Record{Value: backendtest.MustString(t, canary)}),
				"Delete": s.Delete(ctx, c.name),
			} {
				if !errors.Is(err, backend.ErrInvalidName) {
					t.Errorf("autoSave=%v %s(%q) error = %v, want ErrInvalidName", autoSave, op, c.name, err)
					continue
				}
				if !strings.Contains(err.Error(), c.says) {
					t.Errorf("autoSave=%v %s(%q) error %q does not say %q", autoSave, op, c.name, err, c.says)
				}
				noCanary(t, err)
			}
		}
		if fe.calls != 0 {
			t.Errorf("invalid names changed the environment")
		}
	}
	fe := newFakeEnv()
	s := open(t, fe, env.Options{AutoSave: true})
	ctx := context.Background()
	for _, n := range []string{"a", "0", "z9", "2fa", strings.Repeat("n", backend.MaxNameLen)} {
		if err := s.Set(ctx, n, backend.Record{Value: backendtest.MustString(t, "v-"+n)}); err != nil {
			t.Errorf("Set(valid name of %d bytes): %v", len(n), err)
			continue
		}
		rec, err := s.Get(ctx, n)
		if err != nil || rec.Value.Text() != "v-"+n {
			t.Errorf("Get(valid name of %d bytes) does not read back (err %v)", len(n), err)
		}
	}
}

func TestValueLimits(t *testing.T) {
	big := strings.Repeat("b", env.MaxValueSize)
	cases := []struct {
		name  string
		value backend.Value
		want  error
	}{
		{"string over the limit", backendtest.MustString(t, canary+big), backend.ErrTooLarge},
		{"multi-byte over the limit", backendtest.MustString(t, strings.Repeat("é", env.MaxValueSize/2+1)), backend.ErrTooLarge},
		{"field over the limit", backendtest.MustJSON(t, `{"k":"`+canary+big+`"}`), backend.ErrTooLarge},
		{"JSON over the limit", backendtest.MustJSON(t, `{"k":["`+canary+big+`"]}`), backend.ErrTooLarge},
		{"NUL in a string", backendtest.MustString(t, canary+"\x00"), backend.ErrInvalidValue},
		{"no value", backend.Value{}, backend.ErrInvalidValue},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, ".env")
			writeFile(t, path, "MYAPP_OLD='kept'\n")
			fe := newFakeEnv("MYAPP_OLD=kept")
			s := open(t, fe, env.Options{AutoSave: true, File: path})
			ctx := context.Background()
			for _, name := range []string{"old", "fresh"} {
				err := s.Set(ctx, name, backend.Record{Value: c.value})
				if !errors.Is(err, c.want) {
					t.Errorf("Set(%s) error = %v, want %v", name, err, c.want)
				}
				noCanary(t, err)
			}
			if fe.calls != 0 {
				t.Errorf("a refused value changed the environment")
			}
			if readFile(t, path) != "MYAPP_OLD='kept'\n" {
				t.Errorf("a refused value changed the file")
			}
			rec, err := s.Get(ctx, "old")
			if err != nil {
				t.Fatalf("Get(old): %v", err)
			}
			check(t, "old", rec.Value, backend.KindString, "kept")
			if _, err := s.Get(ctx, "fresh"); !errors.Is(err, backend.ErrNotFound) {
				t.Errorf("Get(fresh) error = %v, want ErrNotFound", err)
			}
		})
	}
	s := open(t, nil, env.Options{AutoSave: true})
	for _, v := range []backend.Value{backendtest.MustString(t, big), backendtest.MustString(t, strings.Repeat("é", env.MaxValueSize/2)), backendtest.MustJSON(t, `{"k":"`+big+`"}`)} {
		if err := s.Set(context.Background(), "max", backend.Record{Value: v}); err != nil {
			t.Errorf("Set at the limit: %v", err)
		}
	}
}

func TestInvalidPrefix(t *testing.T) {
	cases := []struct{ prefix, says string }{
		{"", "--env-prefix"},
		{"myapp", `try "MYAPP"`},
		{"MYAPP_", "without it"},
		{"_", "without it"},
		{"1APP", "digit"},
		{"MY-APP", "upper-case letters, digits and '_'"},
		{"MY APP", "upper-case letters, digits and '_'"},
		{"MYÄPP", "upper-case letters, digits and '_'"},
	}
	for _, c := range cases {
		_, err := env.New(env.Options{Prefix: c.prefix, Environ: []string{}})
		if !errors.Is(err, env.ErrInvalidPrefix) || !strings.Contains(err.Error(), c.says) {
			t.Errorf("New(prefix %q) error = %v, want ErrInvalidPrefix saying %q", c.prefix, err, c.says)
		}
	}
	for _, p := range []string{"MYAPP", "MY_APP", "_X", "A1", "A"} {
		if _, err := env.New(env.Options{Prefix: p, Environ: []string{}}); err != nil {
			t.Errorf("New(prefix %q): %v", p, err)
		}
	}
}

// TestDefaultProcessEnv checks that without injected functions the Store
// changes the real process environment (restored by t.Setenv).
func TestDefaultProcessEnv(t *testing.T) {
	const key = "MCPSECRETSENVTEST_API_KEY"
	t.Setenv(key, "before")
	t.Setenv("MCPSECRETSENVTEST_OTHER", "x")
	s, err := env.New(env.Options{Prefix: "MCPSECRETSENVTEST", AutoSave: true})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	ctx := context.Background()
	rec, err := s.Get(ctx, "api")
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	check(t, "api", rec.Value, backend.KindObject, `{"key":"before"}`)
	if err := s.Set(ctx, "api", backend.Record{Value: backendtest.MustJSON(t, `{"key":"after"}`)}); err != nil {
		t.Fatalf("Set: %v", err)
	}
	if got := os.Getenv(key); got != "after" {
		t.Errorf("process environment %s = %q, want after", key, got)
	}
	if err := s.Delete(ctx, "api"); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if _, ok := os.LookupEnv(key); ok {
		t.Errorf("process environment still has %s after Delete", key)
	}
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// noTempFiles fails if dir holds anything but want.
func noTempFiles(t *testing.T, dir string, want ...string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range entries {
		got = append(got, e.Name())
	}
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("directory holds %q, want %q", got, want)
	}
}

func mode(t *testing.T, path string) fs.FileMode {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Mode().Perm()
}

func TestFilePersists(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, ".env")
	const before = "# Database settings\r\n" +
		"export DB_HOST=localhost   # local only\r\n" +
		"\r\n" +
		"MYAPP_API_KEY='old-key'\r\n" +
		"MYAPP_API_OLD=gone # removed by the shape change\r\n" +
		"  # indented comment\r\n" +
		"MYAPPLE_X=1\r\n" +
		"MYAPP_GONE=\"bye\"\r\n" +
		"OTHER=\"multi\r\nline\"\r\n" +
		"MYAPP_lower=untouched\r\n" +
		"LAST=no-newline"
	writeFile(t, path, before)
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	fe := newFakeEnv()
	s := open(t, fe, env.Options{AutoSave: true, File: path})
	ctx := context.Background()
	values := map[string]backend.Value{
		"api":   backendtest.MustJSON(t, `{"key":"new-`+canary+`","secret":"it's\n\"quoted\" $HOME #x"}`),
		"token": backendtest.MustString(t, " spaced\ttab\\back`tick\r\n€🔑 "),
		"cfg":   backendtest.MustJSON(t, `{"a":[1,{"b":"`+canary+`"}]}`),
		"empty": backendtest.MustString(t, ""),
	}
	for _, n := range slices.Sorted(maps.Keys(values)) {
		if err := s.Set(ctx, n, backend.Record{Value: values[n]}); err != nil {
			t.Fatalf("Set(%q): %v", n, err)
		}
	}
	if err := s.Delete(ctx, "gone"); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	after := readFile(t, path)
	want := "# Database settings\r\n" +
		"export DB_HOST=localhost   # local only\r\n" +
		"\r\n" +
		"MYAPP_API_KEY='new-" + canary + "'\r\n" +
		"export MYAPP_API_SECRET=\"it's\\n\\\"quoted\\\" \\$HOME #x\"\r\n" +
		"  # indented comment\r\n" +
		"MYAPPLE_X=1\r\n" +
		"OTHER=\"multi\r\nline\"\r\n" +
		"MYAPP_lower=untouched\r\n" +
		"LAST=no-newline\r\n" +
		"export MYAPP_CFG='{\"a\":[1,{\"b\":\"" + canary + "\"}]}'\r\n" +
		"export MYAPP_CFG__KIND='json'\r\n" +
		"export MYAPP_EMPTY=''\r\n" +
		"export MYAPP_TOKEN=\" spaced\ttab\\\\back\\`tick\\r\\n€🔑 \"\r\n"
	if after != want {
		t.Errorf("file after writes differs from what was expected (%d bytes, want %d)", len(after), len(want))
		for i, l := range strings.Split(after, "\n") {
			if !strings.Contains(l, canary) {
				t.Logf("line %d: %q", i+1, l)
			}
		}
	}
	if m := mode(t, path); m != 0o600 {
		t.Errorf("file mode = %v, want 0600", m)
	}
	noTempFiles(t, dir, ".env")

	// A new Store over the file alone reads everything back.
	s2 := open(t, nil, env.Options{File: path})
	names, err := s2.List(ctx)
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	if want := []string{"api", "cfg", "empty", "token"}; !slices.Equal(names, want) {
		t.Errorf("List after reopening = %q, want %q", names, want)
	}
	for n, v := range values {
		rec, err := s2.Get(ctx, n)
		if err != nil {
			t.Fatalf("Get(%q) after reopening: %v", n, err)
		}
		if !rec.Value.Equal(v) {
			t.Errorf("Get(%q) after reopening differs (%d bytes, want %d)", n, rec.Value.Len(), v.Len())
		}
	}
	// The environment got the same values.
	env2 := open(t, fe, env.Options{})
	for n, v := range values {
		rec, err := env2.Get(ctx, n)
		if err != nil || !rec.Value.Equal(v) {
			t.Errorf("the process environment does not hold %q (err %v)", n, err)
		}
	}
}

func TestFileMissing(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "new.env")
	_, err := env.New(env.Options{Prefix: "MYAPP", File: path, Environ: []string{}})
	if !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), "--env-auto-save") {
		t.Errorf("New over a missing file, read-only: error = %v, want ErrNotExist mentioning --env-auto-save", err)
	}
	s := open(t, nil, env.Options{AutoSave: true, File: path})
	if names, err := s.List(context.Background()); err != nil || len(names) != 0 {
		t.Errorf("List = %q, %v; want none", names, err)
	}
	if err := s.Set(context.Background(), "a", backend.Record{Value: backendtest.MustString(t, "v")}); err != nil {
		t.Fatalf("Set: %v", err)
	}
	if got := readFile(t, path); got != "MYAPP_A='v'\n" {
		t.Errorf("file = %q", got)
	}
	if m := mode(t, path); m != 0o600 {
		t.Errorf("file mode = %v, want 0600", m)
	}
	noTempFiles(t, dir, "new.env")
}

func TestFileUnreadable(t *testing.T) {
	dir := t.TempDir()
	_, err := env.New(env.Options{Prefix: "MYAPP", File: dir, AutoSave: true, Environ: []string{}})
	if err == nil {
		t.Errorf("New over a directory: no error")
	}
}

func TestFilePrecedence(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, ".env")
	writeFile(t, path, "MYAPP_A=file\nMYAPP_B=file-only\nMYAPP_C_X=from-file\nMYAPP_D=file\nMYAPP_D=file-later\n")
	fe := newFakeEnv("MYAPP_A=env", "MYAPP_C_Y=from-env")
	s := open(t, fe, env.Options{File: path})
	ctx := context.Background()
	want := map[string]string{
		"a": "env",
		"b": "file-only",
		"c": `{"x":"from-file","y":"from-env"}`,
		"d": "file-later",
	}
	for n, w := range want {
		rec, err := s.Get(ctx, n)
		if err != nil {
			t.Fatalf("Get(%q): %v", n, err)
		}
		if rec.Value.Text() != w {
			t.Errorf("Get(%q) = %q, want %q", n, rec.Value.Text(), w)
		}
	}
	if fe.calls != 0 {
		t.Errorf("New copied the file into the environment")
	}
}

func TestFileEditedSinceOpen(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, ".env")
	writeFile(t, path, "A=1\n")
	s := open(t, nil, env.Options{AutoSave: true, File: path})
	writeFile(t, path, "A=1\n# added by hand\nB=2\nMYAPP_HAND=made\n")
	if err := s.Set(context.Background(), "x", backend.Record{Value: backendtest.MustString(t, "v")}); err != nil {
		t.Fatalf("Set: %v", err)
	}
	if got, want := readFile(t, path), "A=1\n# added by hand\nB=2\nMYAPP_HAND=made\nMYAPP_X='v'\n"; got != want {
		t.Errorf("file = %q, want %q", got, want)
	}
	if names, _ := s.List(context.Background()); !slices.Equal(names, []string{"hand", "x"}) {
		t.Errorf("List = %q, want [hand x]", names)
	}
}

func TestFileSymlink(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "real.env")
	link := filepath.Join(dir, "link.env")
	writeFile(t, target, "A=1\n")
	if err := os.Symlink(target, link); err != nil {
		t.Skipf("no symlinks here: %v", err)
	}
	s := open(t, nil, env.Options{AutoSave: true, File: link})
	if err := s.Set(context.Background(), "x", backend.Record{Value: backendtest.MustString(t, "v")}); err != nil {
		t.Fatalf("Set: %v", err)
	}
	if fi, err := os.Lstat(link); err != nil || fi.Mode()&fs.ModeSymlink == 0 {
		t.Errorf("the symlink was replaced (err %v)", err)
	}
	if got := readFile(t, target); got != "A=1\nMYAPP_X='v'\n" {
		t.Errorf("target = %q", got)
	}
}

func TestMalformedFile(t *testing.T) {
	cases := []struct {
		name, content string
		line          int
	}{
		{"no equals", "# fine\nA=1\n" + canary + "\n", 3},
		{"bad key", "1" + canary + "=x\n", 1},
		{"unterminated single quote", "A=1\n\nMYAPP_K='" + canary + "\nB=2\n", 3},
		{"unterminated double quote", "MYAPP_K=\"" + canary + "\n", 1},
		{"text after the quote", "A='x'\nB=\"y\" " + canary + "\n", 2},
		{"NUL", "A=1\r\nB=2\r\nMYAPP_K=" + canary + "\x00\r\n", 3},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "bad.env")
			writeFile(t, path, c.content)
			for _, autoSave := range []bool{false, true} {
				_, err := env.New(env.Options{Prefix: "MYAPP", File: path, AutoSave: autoSave, Environ: []string{}})
				if !errors.Is(err, env.ErrMalformedFile) {
					t.Fatalf("New error = %v, want ErrMalformedFile", err)
				}
				noCanary(t, err)
				if at := fmt.Sprintf("%s:%d:", path, c.line); !strings.Contains(err.Error(), at) {
					t.Errorf("New error does not name %s", at)
				}
			}
		})
	}
	// A file broken after New stops writes, which leave it alone.
	dir := t.TempDir()
	path := filepath.Join(dir, ".env")
	writeFile(t, path, "A=1\n")
	fe := newFakeEnv()
	s := open(t, fe, env.Options{AutoSave: true, File: path})
	broken := "A='" + canary + "\n"
	writeFile(t, path, broken)
	err := s.Set(context.Background(), "x", backend.Record{Value: backendtest.MustString(t, "v")})
	if !errors.Is(err, env.ErrMalformedFile) || !errors.Is(err, backend.ErrUnavailable) {
		t.Errorf("Set over a broken file: error = %v, want ErrMalformedFile and ErrUnavailable", err)
	}
	noCanary(t, err)
	if readFile(t, path) != broken || fe.calls != 0 {
		t.Errorf("a refused write changed something")
	}
}

func TestSampleFile(t *testing.T) {
	path := filepath.Join("..", "..", "..", "testdata", "env", "sample.env")
	s := open(t, nil, env.Options{File: path})
	ctx := context.Background()
	names, err := s.List(ctx)
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	if want := []string{"api", "cert", "db", "greeting", "hooks", "settings", "token"}; !slices.Equal(names, want) {
		t.Errorf("List = %q, want %q", names, want)
	}
	want := map[string]struct {
		kind backend.Kind
		text string
	}{
		"api":      {backend.KindObject, `{"key":"abc","secret":"def"}`},
		"token":    {backend.KindString, "t0k3n"},
		"db":       {backend.KindObject, `{"max_conn":"10","password":"p#ss word","user":"ada"}`},
		"greeting": {backend.KindString, "say \"hi\"\nand $LEAVE"},
		"cert":     {backend.KindString, "-----BEGIN CERT-----\nMIIB\n-----END CERT-----"},
		"settings": {backend.KindObject, `{"retries":3,"hosts":["a","b"]}`},
		"hooks":    {backend.KindString, `{"looks":"like json"}`},
	}
	for n, w := range want {
		rec, err := s.Get(ctx, n)
		if err != nil {
			t.Errorf("Get(%q): %v", n, err)
			continue
		}
		check(t, n, rec.Value, w.kind, w.text)
	}
}

func TestAtomicWriteFailure(t *testing.T) {
	for _, step := range []string{"create", "write", "sync", "close", "rename"} {
		for _, exists := range []bool{true, false} {
			t.Run(fmt.Sprintf("%s/exists=%v", step, exists), func(t *testing.T) {
				dir := t.TempDir()
				path := filepath.Join(dir, ".env")
				const before = "# c\nMYAPP_A='old'\nB=2\n"
				if exists {
					writeFile(t, path, before)
				}
				fe := newFakeEnv()
				s := open(t, fe, env.Options{AutoSave: true, File: path})
				env.SetWriteHook(s, func(st string) error {
					if st == step {
						return errors.New("injected failure at " + st)
					}
					return nil
				})
				ctx := context.Background()
				errs := []error{
					s.Set(ctx, "a", backend.Record{Value: backendtest.MustString(t, canary)}),
					s.Set(ctx, "n", backend.Record{Value: backendtest.MustJSON(t, `{"k":"`+canary+`"}`)}),
				}
				if exists {
					errs = append(errs, s.Delete(ctx, "a"))
				}
				for _, err := range errs {
					if !errors.Is(err, backend.ErrUnavailable) || !strings.Contains(err.Error(), "injected failure") {
						t.Errorf("error = %v, want ErrUnavailable with the cause", err)
					}
					noCanary(t, err)
				}
				if exists {
					if readFile(t, path) != before {
						t.Errorf("a failed write changed the file")
					}
					noTempFiles(t, dir, ".env")
					rec, err := s.Get(ctx, "a")
					if err != nil || rec.Value.Text() != "old" {
						t.Errorf("Get after a failed write does not return the old value (err %v)", err)
					}
				} else {
					noTempFiles(t, dir)
				}
				if fe.calls != 0 {
					t.Errorf("a failed file write changed the environment")
				}
				if _, err := s.Get(ctx, "n"); !errors.Is(err, backend.ErrNotFound) {
					t.Errorf("Get(n) error = %v, want ErrNotFound", err)
				}
			})
		}
	}
}

func TestSetenvFailure(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, ".env")
	const before = "MYAPP_API_KEY='k'\nMYAPP_API_SECRET='s'\n"
	writeFile(t, path, before)
	fe := newFakeEnv("MYAPP_API_KEY=k", "MYAPP_API_SECRET=s")
	s := open(t, fe, env.Options{AutoSave: true, File: path})
	want := fe.snapshot()
	n := 0
	fe.fail = func(op, key string) error {
		n++
		if n == 2 { // after the first change, before the second
			return errors.New("refused " + canary)
		}
		return nil
	}
	ctx := context.Background()
	err := s.Set(ctx, "api", backend.Record{Value: backendtest.MustString(t, canary)})
	if !errors.Is(err, backend.ErrUnavailable) || !strings.Contains(err.Error(), "nothing was changed") {
		t.Errorf("Set error = %v, want ErrUnavailable saying nothing was changed", err)
	}
	noCanary(t, err)
	fe.fail = nil
	if got := fe.snapshot(); !maps.Equal(got, want) {
		t.Errorf("the environment was not restored: %d variables", len(got))
	}
	if readFile(t, path) != before {
		t.Errorf("the file was not restored")
	}
	noTempFiles(t, dir, ".env")
	rec, err := s.Get(ctx, "api")
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	check(t, "api", rec.Value, backend.KindObject, `{"key":"k","secret":"s"}`)
}

func TestConcurrent(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, ".env")
	fe := newFakeEnv()
	s := open(t, fe, env.Options{AutoSave: true, File: path})
	ctx := context.Background()
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for i := range 5 {
				name := fmt.Sprintf("w%dn%d", w, i)
				if err := s.Set(ctx, name, backend.Record{Value: backendtest.MustString(t, name)}); err != nil {
					t.Errorf("Set(%s): %v", name, err)
				}
				if err := s.Set(ctx, "shared", backend.Record{Value: backendtest.MustJSON(t, `{"by":"`+name+`"}`)}); err != nil {
					t.Errorf("Set(shared): %v", err)
				}
				if _, err := s.List(ctx); err != nil {
					t.Errorf("List: %v", err)
				}
				if _, err := s.Get(ctx, "shared"); err != nil {
					t.Errorf("Get(shared): %v", err)
				}
			}
		})
	}
	wg.Wait()
	s2 := open(t, nil, env.Options{File: path})
	names, err := s2.List(ctx)
	if err != nil || len(names) != 41 {
		t.Fatalf("List after concurrent writes: %d names, %v; want 41", len(names), err)
	}
	for _, n := range names {
		rec, err := s2.Get(ctx, n)
		if err != nil {
			t.Errorf("Get(%s): %v", n, err)
		} else if n != "shared" && rec.Value.Text() != n {
			t.Errorf("Get(%s) returned another writer's value", n)
		}
	}
	noTempFiles(t, dir, ".env")
}

func TestCanceledContext(t *testing.T) {
	fe := newFakeEnv("MYAPP_A=1")
	s := open(t, fe, env.Options{AutoSave: true})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := s.Set(ctx, "a", backend.Record{Value: backendtest.MustString(t, "2")}); !errors.Is(err, context.Canceled) {
		t.Errorf("Set error = %v, want context.Canceled", err)
	}
	if err := s.Delete(ctx, "a"); !errors.Is(err, context.Canceled) {
		t.Errorf("Delete error = %v, want context.Canceled", err)
	}
	if fe.calls != 0 {
		t.Errorf("a canceled write changed the environment")
	}
}

// FuzzStoreRoundTrip stores any string, or any JSON object or array, through
// a Store with a dotenv file and reads it back from a new Store over the
// file alone and from one over the environment alone.
func FuzzStoreRoundTrip(f *testing.F) {
	f.Add("plain", false)
	f.Add("it's \"q\"\n$X `y` \\ # z\r\n", false)
	f.Add(`{"key":"a'b\nc","secret":"$\\"}`, true)
	f.Add(`{"a":{"b":[1,"x\n"]}}`, true)
	f.Add(`["x", "y'"]`, true)
	f.Fuzz(func(t *testing.T, text string, asJSON bool) {
		var v backend.Value
		var err error
		if asJSON {
			v, err = backend.NewJSON([]byte(text))
		} else {
			v, err = backend.NewString(text)
		}
		if err != nil {
			return
		}
		path := filepath.Join(t.TempDir(), ".env")
		writeFile(t, path, "# kept\nOTHER='x'\n")
		fe := newFakeEnv()
		s := open(t, fe, env.Options{AutoSave: true, File: path})
		ctx := context.Background()
		if err := s.Set(ctx, "cred", backend.Record{Value: v}); err != nil {
			if errors.Is(err, backend.ErrTooLarge) || (errors.Is(err, backend.ErrInvalidValue) && strings.Contains(text, "\x00")) {
				return
			}
			t.Fatalf("Set: %v", err)
		}
		for what, s2 := range map[string]*env.Store{
			"file":        open(t, nil, env.Options{File: path}),
			"environment": open(t, fe, env.Options{}),
		} {
			got, err := s2.Get(ctx, "cred")
			if err != nil {
				t.Fatalf("Get from the %s: %v", what, err)
			}
			if got.Value.Kind() != v.Kind() || (v.Kind() == backend.KindString && !got.Value.Equal(v)) ||
				!reflect.DeepEqual(got.Value.Any(), v.Any()) {
				t.Fatalf("the value from the %s differs", what)
			}
		}
		if data := readFile(t, path); !strings.HasPrefix(data, "# kept\nOTHER='x'\n") {
			t.Fatalf("other lines changed")
		}
	})
}
