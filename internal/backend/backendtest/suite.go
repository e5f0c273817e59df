package backendtest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mcp-secrets/mcp-secrets/internal/backend"
)

// Canary is planted in values throughout the suite; no error may contain it.
const Canary = "CANARY-7f3a9c-do-not-leak"

// Options declares what a backend cannot do, or how to reach behind it.
type Options struct {
	// MaxValueSize is the backend's own limit on a value's length in bytes
	// (with no description); 0 means it declares none.
	MaxValueSize int
	// PlantForeign stores an item that belongs to another application (or
	// another namespace) beside the store's own, by the backend's native
	// means, and returns the bare name a careless List would show for it.
	// It is called after the store is made; a store that reads its data
	// once, when it is made, should have its newStore (and Seed) plant the
	// foreign items and PlantForeign only return the name.
	PlantForeign func(t *testing.T) string
	// Reopen returns a new Store over the same data as s, to check that
	// records persist. Nil for stores that keep nothing.
	Reopen func(t *testing.T, s backend.Store) backend.Store
	// Concurrency is how many goroutines write at once (default 8).
	Concurrency int
	// NameRule is the backend's own naming rule, stricter than
	// backend.CheckStoreName, for a store that cannot express every valid
	// name (environment variables). The suite checks that the store
	// refuses exactly the names NameRule refuses, with ErrInvalidName, and
	// uses only names both accept elsewhere. Nil means CheckStoreName.
	NameRule func(name string) error
	// NoMetadata declares that the backend keeps no description or times:
	// Get must return them empty, and only values are compared.
	NoMetadata bool
	// ReadOnly declares that the store refuses every Set and Delete with
	// ErrReadOnly. The suite then reads records planted by Seed instead of
	// writing its own, and skips the parts that need writes.
	ReadOnly bool
	// Seed returns a new store that holds recs, planted by the backend's
	// native means. Required with ReadOnly.
	Seed func(t *testing.T, recs map[string]backend.Record) backend.Store
}

// Run runs the suite against stores made by newStore.
func Run(t *testing.T, newStore func(t *testing.T) backend.Store, opts Options) {
	if opts.Concurrency == 0 {
		opts.Concurrency = 8
	}
	r := &runner{newStore: newStore, opts: opts}
	if opts.ReadOnly {
		t.Run("ReadOnly", r.readOnly)
		t.Run("NotFound", r.notFound)
		t.Run("Names", r.names)
		t.Run("Foreign", r.foreign)
		return
	}
	t.Run("RoundTrip", r.roundTrip)
	t.Run("Overwrite", r.overwrite)
	t.Run("NotFound", r.notFound)
	t.Run("Delete", r.delete)
	t.Run("List", r.list)
	t.Run("Names", r.names)
	t.Run("TooLarge", r.tooLarge)
	t.Run("Foreign", r.foreign)
	t.Run("Concurrent", r.concurrent)
	t.Run("Persist", r.persist)
}

type runner struct {
	newStore func(t *testing.T) backend.Store
	opts     Options
}

func (r *runner) store(t *testing.T) backend.Store {
	t.Helper()
	s := r.newStore(t)
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// noCanary fails the test if err's text contains the canary. It never
// prints the error itself, in case it does.
func noCanary(t *testing.T, err error) {
	t.Helper()
	if err != nil && strings.Contains(err.Error(), Canary) {
		t.Errorf("an error's text contains the canary value (error withheld)")
	}
}

func record(v backend.Value) backend.Record { return NewRecord(v, "") }

// same compares two records without printing their values. With
// NoMetadata it compares values only, and wants no metadata back.
func (r *runner) same(t *testing.T, what string, got, want backend.Record) {
	t.Helper()
	if r.opts.NoMetadata {
		if got.Description != "" || !got.Created.IsZero() || !got.Updated.IsZero() {
			t.Errorf("%s: a backend without metadata returned some", what)
		}
		want.Description, want.Created, want.Updated = "", time.Time{}, time.Time{}
	}
	if got.Value.Kind() != want.Value.Kind() {
		t.Errorf("%s: kind = %q, want %q", what, got.Value.Kind(), want.Value.Kind())
		return
	}
	if !got.Value.Equal(want.Value) {
		t.Errorf("%s: value differs after the round trip (%d bytes, want %d)", what, got.Value.Len(), want.Value.Len())
	}
	if got.Description != want.Description {
		t.Errorf("%s: description = %q, want %q", what, got.Description, want.Description)
	}
	if !got.Created.Equal(want.Created) || !got.Updated.Equal(want.Updated) {
		t.Errorf("%s: times = %v/%v, want %v/%v", what, got.Created, got.Updated, want.Created, want.Updated)
	}
}

func (r *runner) roundTrip(t *testing.T) {
	ctx := context.Background()
	s := r.store(t)
	cases := []struct {
		name string
		val  backend.Value
		desc string
	}{
		{"plain", MustString(t, "hunter2-"+Canary), "a plain string"},
		{"unicode", MustString(t, "pässwörd-密码-🔑-"+Canary), "ünïcödé description ✓"},
		{"lookslikejson", MustString(t, `{"not":"an object"}`), ""},
		{"lookslikearray", MustString(t, `["still","a","string"]`), ""},
		{"lookslikeheader", MustString(t, "mcp-secrets/1 {\"kind\":\"object\"}\n{}"), ""},
		{"binaryish", MustString(t, "line1\nline2\r\n\ttab \x01\x7f end "), ""},
		{"singlechar", MustString(t, "x"), ""},
		{"object", MustJSON(t, `{"user":"ada","password":"`+Canary+`","port":5432,"tls":true}`), "db login"},
		{"nested", MustJSON(t, `{"a":{"b":[1,2,{"c":"d"}]},"e":null}`), ""},
		{"array", MustJSON(t, `["one","two","`+Canary+`"]`), ""},
		{"emptyobject", MustJSON(t, `{}`), ""},
		{"long", MustString(t, strings.Repeat("abcdefgh", 128)), ""},
	}
	for _, c := range cases {
		rec := record(c.val)
		rec.Description = c.desc
		if err := s.Set(ctx, c.name, rec); err != nil {
			noCanary(t, err)
			t.Errorf("Set(%q): %v", c.name, err)
			continue
		}
		got, err := s.Get(ctx, c.name)
		if err != nil {
			noCanary(t, err)
			t.Errorf("Get(%q): %v", c.name, err)
			continue
		}
		r.same(t, c.name, got, rec)
	}
}

func (r *runner) overwrite(t *testing.T) {
	ctx := context.Background()
	s := r.store(t)
	first := record(MustString(t, "first-"+Canary))
	second := record(MustJSON(t, `{"now":"an object"}`))
	second.Description = "second"
	if err := s.Set(ctx, "cred", first); err != nil {
		t.Fatalf("Set first: %v", err)
	}
	if err := s.Set(ctx, "cred", second); err != nil {
		t.Fatalf("Set second: %v", err)
	}
	got, err := s.Get(ctx, "cred")
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	r.same(t, "after overwrite", got, second)
	names, err := s.List(ctx)
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	if n := count(names, "cred"); n != 1 {
		t.Errorf("List shows %q %d times after an overwrite, want once", "cred", n)
	}
}

func count(names []string, name string) int {
	n := 0
	for _, x := range names {
		if x == name {
			n++
		}
	}
	return n
}

func (r *runner) notFound(t *testing.T) {
	ctx := context.Background()
	s := r.store(t)
	if _, err := s.Get(ctx, "missing"); !errors.Is(err, backend.ErrNotFound) {
		t.Errorf("Get(missing) error = %v, want ErrNotFound", err)
	}
	want := backend.ErrNotFound
	if r.opts.ReadOnly {
		want = backend.ErrReadOnly
	}
	if err := s.Delete(ctx, "missing"); !errors.Is(err, want) {
		t.Errorf("Delete(missing) error = %v, want %v", err, want)
	}
}

// allowed reports whether the backend's own rule accepts name.
func (r *runner) allowed(name string) bool {
	return r.opts.NameRule == nil || r.opts.NameRule(name) == nil
}

// refused checks that a name the backend's rule refuses is refused by the
// store too, on Get, Set and Delete.
func (r *runner) refused(t *testing.T, s backend.Store, name string) {
	t.Helper()
	ctx := context.Background()
	short := name[:min(len(name), 20)]
	err := s.Set(ctx, name, record(MustString(t, Canary)))
	noCanary(t, err)
	if !errors.Is(err, backend.ErrInvalidName) {
		t.Errorf("Set(%q), refused by NameRule: error = %v, want ErrInvalidName", short, err)
	}
	if _, err := s.Get(ctx, name); !errors.Is(err, backend.ErrInvalidName) {
		t.Errorf("Get(%q), refused by NameRule: error = %v, want ErrInvalidName", short, err)
	}
	if err := s.Delete(ctx, name); !errors.Is(err, backend.ErrInvalidName) {
		t.Errorf("Delete(%q), refused by NameRule: error = %v, want ErrInvalidName", short, err)
	}
}

func (r *runner) delete(t *testing.T) {
	ctx := context.Background()
	s := r.store(t)
	for _, n := range []string{"keep", "drop"} {
		if err := s.Set(ctx, n, record(MustString(t, n+"-"+Canary))); err != nil {
			t.Fatalf("Set(%q): %v", n, err)
		}
	}
	if err := s.Delete(ctx, "drop"); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if _, err := s.Get(ctx, "drop"); !errors.Is(err, backend.ErrNotFound) {
		t.Errorf("Get after Delete error = %v, want ErrNotFound", err)
	}
	if err := s.Delete(ctx, "drop"); !errors.Is(err, backend.ErrNotFound) {
		t.Errorf("second Delete error = %v, want ErrNotFound", err)
	}
	if _, err := s.Get(ctx, "keep"); err != nil {
		t.Errorf("Get(keep) after deleting another: %v", err)
	}
	names, err := s.List(ctx)
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	if slices.Contains(names, "drop") || !slices.Contains(names, "keep") {
		t.Errorf("List after Delete = %q, want keep and not drop", names)
	}
}

func (r *runner) list(t *testing.T) {
	ctx := context.Background()
	s := r.store(t)
	names, err := s.List(ctx)
	if err != nil {
		t.Fatalf("List on an empty store: %v", err)
	}
	if len(names) != 0 {
		t.Errorf("List on an empty store = %q, want none", names)
	}
	var want []string
	for _, n := range []string{"a", "b.c", "d-e", "f_g", backend.IndexName} {
		if !r.allowed(n) {
			r.refused(t, s, n)
			continue
		}
		if err := s.Set(ctx, n, record(MustString(t, "v"))); err != nil {
			t.Fatalf("Set(%q): %v", n, err)
		}
		want = append(want, n)
	}
	names, err = s.List(ctx)
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	slices.Sort(names)
	slices.Sort(want)
	if !slices.Equal(names, want) {
		t.Errorf("List = %q, want %q", names, want)
	}
}

func (r *runner) names(t *testing.T) {
	ctx := context.Background()
	s := r.store(t)
	valid := []string{"a", "Z", "0", strings.Repeat("n", backend.MaxNameLen), "with.dot", "with-dash", "with_underscore", "MiXeD.Case-1_2"}
	for _, n := range valid {
		if !r.allowed(n) {
			r.refused(t, s, n)
			continue
		}
		if r.opts.ReadOnly {
			if _, err := s.Get(ctx, n); !errors.Is(err, backend.ErrNotFound) {
				t.Errorf("Get(valid name of %d bytes) error = %v, want ErrNotFound", len(n), err)
			}
			continue
		}
		v := record(MustString(t, "value-of-"+n[:1]))
		if err := s.Set(ctx, n, v); err != nil {
			t.Errorf("Set(valid name of %d bytes): %v", len(n), err)
			continue
		}
		got, err := s.Get(ctx, n)
		if err != nil {
			t.Errorf("Get(valid name of %d bytes): %v", len(n), err)
			continue
		}
		r.same(t, "name "+n[:min(len(n), 20)], got, v)
	}
	switch {
	case r.opts.ReadOnly:
	case !r.allowed("Case") || !r.allowed("case"):
		// A backend that cannot keep both must refuse at least one.
		for _, n := range []string{"Case", "case"} {
			if !r.allowed(n) {
				r.refused(t, s, n)
			}
		}
	default:
		if err := s.Set(ctx, "Case", record(MustString(t, "upper"))); err != nil {
			t.Fatalf("Set(Case): %v", err)
		}
		if err := s.Set(ctx, "case", record(MustString(t, "lower"))); err != nil {
			t.Fatalf("Set(case): %v", err)
		}
		if got, err := s.Get(ctx, "Case"); err != nil || got.Value.Text() != "upper" {
			t.Errorf("names differing only in case collide (err %v)", err)
		}
	}
	invalid := []string{"", "a/b", "/abs", "..", "a..b", strings.Repeat("n", backend.MaxNameLen+1), "tab\tname", "nul\x00", "back\\slash", "spa ce", "ünï"}
	for _, n := range invalid {
		err := s.Set(ctx, n, record(MustString(t, Canary)))
		if !errors.Is(err, backend.ErrInvalidName) {
			t.Errorf("Set(%q) error = %v, want ErrInvalidName", n, err)
		}
		noCanary(t, err)
		if _, err := s.Get(ctx, n); !errors.Is(err, backend.ErrInvalidName) {
			t.Errorf("Get(%q) error = %v, want ErrInvalidName", n, err)
		}
		if err := s.Delete(ctx, n); !errors.Is(err, backend.ErrInvalidName) {
			t.Errorf("Delete(%q) error = %v, want ErrInvalidName", n, err)
		}
	}
}

// readOnly reads records planted by Seed and checks that every write is
// refused and changes nothing.
func (r *runner) readOnly(t *testing.T) {
	if r.opts.Seed == nil {
		t.Fatal("Options.ReadOnly needs Options.Seed")
	}
	ctx := context.Background()
	recs := map[string]backend.Record{
		"plain":  record(MustString(t, "hunter2-"+Canary)),
		"object": record(MustJSON(t, `{"user":"ada","password":"`+Canary+`","port":5432}`)),
		"array":  record(MustJSON(t, `["one","`+Canary+`"]`)),
	}
	s := r.opts.Seed(t, recs)
	t.Cleanup(func() { _ = s.Close() })
	names, err := s.List(ctx)
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	slices.Sort(names)
	if want := []string{"array", "object", "plain"}; !slices.Equal(names, want) {
		t.Errorf("List = %q, want %q", names, want)
	}
	for n, want := range recs {
		got, err := s.Get(ctx, n)
		if err != nil {
			noCanary(t, err)
			t.Errorf("Get(%q): %v", n, err)
			continue
		}
		r.same(t, n, got, want)
		err = s.Set(ctx, n, record(MustString(t, "changed-"+Canary)))
		if !errors.Is(err, backend.ErrReadOnly) {
			t.Errorf("Set(%q) error = %v, want ErrReadOnly", n, err)
		}
		noCanary(t, err)
		if err := s.Delete(ctx, n); !errors.Is(err, backend.ErrReadOnly) {
			t.Errorf("Delete(%q) error = %v, want ErrReadOnly", n, err)
		}
		if got, err := s.Get(ctx, n); err != nil || !got.Value.Equal(want.Value) {
			t.Errorf("Get(%q) after refused writes: the value changed (err %v)", n, err)
		}
	}
	if err := s.Set(ctx, "fresh", record(MustString(t, Canary))); !errors.Is(err, backend.ErrReadOnly) {
		t.Errorf("Set(fresh) error = %v, want ErrReadOnly", err)
	}
	if _, err := s.Get(ctx, "fresh"); !errors.Is(err, backend.ErrNotFound) {
		t.Errorf("Get(fresh) after a refused Set error = %v, want ErrNotFound", err)
	}
}

func (r *runner) tooLarge(t *testing.T) {
	if r.opts.MaxValueSize == 0 {
		t.Skip("backend declares no size limit of its own")
	}
	ctx := context.Background()
	s := r.store(t)
	max := r.opts.MaxValueSize
	atLimit := record(MustString(t, strings.Repeat("a", max)))
	if err := s.Set(ctx, "atlimit", atLimit); err != nil {
		t.Errorf("Set of %d bytes (the limit): %v", max, err)
	}
	old := record(MustString(t, "old value"))
	if err := s.Set(ctx, "big", old); err != nil {
		t.Fatalf("Set: %v", err)
	}
	over := record(MustString(t, Canary+strings.Repeat("b", max)))
	err := s.Set(ctx, "big", over)
	if !errors.Is(err, backend.ErrTooLarge) {
		t.Errorf("Set of %d bytes error = %v, want ErrTooLarge", over.Value.Len(), err)
	}
	noCanary(t, err)
	got, err := s.Get(ctx, "big")
	if err != nil {
		t.Fatalf("Get after a refused Set: %v", err)
	}
	r.same(t, "after a refused oversized Set", got, old)
	if err := s.Set(ctx, "fresh", over); !errors.Is(err, backend.ErrTooLarge) {
		t.Errorf("Set of a new oversized value error = %v, want ErrTooLarge", err)
	}
	if _, err := s.Get(ctx, "fresh"); !errors.Is(err, backend.ErrNotFound) {
		t.Errorf("an oversized value was partly written: Get error = %v, want ErrNotFound", err)
	}
}

func (r *runner) foreign(t *testing.T) {
	if r.opts.PlantForeign == nil {
		t.Skip("backend keeps nothing outside this process, so there is no foreign item to plant")
	}
	ctx := context.Background()
	var s backend.Store
	if r.opts.ReadOnly {
		s = r.opts.Seed(t, map[string]backend.Record{"ours": record(MustString(t, "ours"))})
		t.Cleanup(func() { _ = s.Close() })
	} else {
		s = r.store(t)
		if err := s.Set(ctx, "ours", record(MustString(t, "ours"))); err != nil {
			t.Fatalf("Set: %v", err)
		}
	}
	foreign := r.opts.PlantForeign(t)
	names, err := s.List(ctx)
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	for _, n := range names {
		if n == foreign || strings.Contains(n, foreign) {
			t.Errorf("List shows the foreign item %q: %q", foreign, names)
		}
	}
	if !slices.Contains(names, "ours") {
		t.Errorf("List = %q, want it to include ours", names)
	}
	if err := backend.CheckStoreName(foreign); err == nil {
		if _, err := s.Get(ctx, foreign); !errors.Is(err, backend.ErrNotFound) {
			t.Errorf("Get(foreign %q) error = %v, want ErrNotFound", foreign, err)
		}
		want := backend.ErrNotFound
		if r.opts.ReadOnly {
			want = backend.ErrReadOnly
		}
		if err := s.Delete(ctx, foreign); !errors.Is(err, want) {
			t.Errorf("Delete(foreign %q) error = %v, want %v", foreign, err, want)
		}
	}
}

func (r *runner) concurrent(t *testing.T) {
	ctx := context.Background()
	s := r.store(t)
	const perWorker = 5
	var wg sync.WaitGroup
	errs := make(chan error, r.opts.Concurrency*perWorker*3)
	for w := range r.opts.Concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range perWorker {
				name := fmt.Sprintf("w%dn%d", w, i)
				if err := s.Set(ctx, name, record(MustString(t, name))); err != nil {
					errs <- fmt.Errorf("Set(%s): %w", name, err)
				}
				if err := s.Set(ctx, "shared", record(MustString(t, name))); err != nil {
					errs <- fmt.Errorf("Set(shared): %w", err)
				}
				if _, err := s.List(ctx); err != nil {
					errs <- fmt.Errorf("List: %w", err)
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	names, err := s.List(ctx)
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	for w := range r.opts.Concurrency {
		for i := range perWorker {
			name := fmt.Sprintf("w%dn%d", w, i)
			got, err := s.Get(ctx, name)
			if err != nil {
				t.Errorf("Get(%s) after concurrent writes: %v", name, err)
				continue
			}
			if got.Value.Text() != name {
				t.Errorf("Get(%s) returned another writer's value", name)
			}
			if !slices.Contains(names, name) {
				t.Errorf("List misses %s after concurrent writes", name)
			}
		}
	}
	if got, err := s.Get(ctx, "shared"); err != nil || !strings.HasPrefix(got.Value.Text(), "w") {
		t.Errorf("Get(shared) after concurrent overwrites: err %v", err)
	}
}

func (r *runner) persist(t *testing.T) {
	if r.opts.Reopen == nil {
		t.Skip("backend keeps nothing beyond the Store's life")
	}
	ctx := context.Background()
	s := r.newStore(t)
	want := record(MustJSON(t, `{"k":"`+Canary+`"}`))
	want.Description = "persisted"
	if err := s.Set(ctx, "kept", want); err != nil {
		t.Fatalf("Set: %v", err)
	}
	s2 := r.opts.Reopen(t, s)
	t.Cleanup(func() { _ = s2.Close() })
	got, err := s2.Get(ctx, "kept")
	if err != nil {
		t.Fatalf("Get after reopening: %v", err)
	}
	r.same(t, "after reopening", got, want)
}
