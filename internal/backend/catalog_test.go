package backend_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mcp-secrets/mcp-secrets/internal/backend"
	"github.com/mcp-secrets/mcp-secrets/internal/backend/backendtest"
	"github.com/mcp-secrets/mcp-secrets/internal/backend/memory"
)

const canary = "CANARY-catalog-5b1e"

func names(metas []backend.Meta) []string {
	var out []string
	for _, m := range metas {
		out = append(out, m.Name)
	}
	return out
}

func TestCatalogPutGetList(t *testing.T) {
	ctx := context.Background()
	clock := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	c := backend.NewCatalog(memory.New(0), backend.CatalogOptions{Now: func() time.Time { return clock }})
	obj, err := backend.NewJSON([]byte(`{"user":"ada","password":"` + canary + `"}`))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.Put(ctx, "db", obj, "database", false); err != nil {
		t.Fatalf("Put(db): %v", err)
	}
	if _, _, err := c.Put(ctx, "api", backendtest.MustString(t, canary), "", false); err != nil {
		t.Fatalf("Put(api): %v", err)
	}
	list, err := c.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got := names(list); !slices.Equal(got, []string{"api", "db"}) {
		t.Fatalf("List names = %q, want [api db] (sorted)", got)
	}
	db := list[1]
	if db.Kind != backend.KindObject || !slices.Equal(db.Fields, []string{"password", "user"}) || db.Description != "database" || !db.Created.Equal(clock) || db.Size != obj.Len() {
		t.Errorf("List meta for db = %+v", db)
	}
	rec, err := c.Get(ctx, "db")
	if err != nil || !rec.Value.Equal(obj) {
		t.Errorf("Get(db) did not return what was stored (err %v)", err)
	}
	// The index itself must never hold a value.
	idx, err := c.Store().Get(ctx, backend.IndexName)
	if err != nil {
		t.Fatalf("index not written: %v", err)
	}
	if strings.Contains(idx.Value.Text(), canary) || strings.Contains(idx.Value.Text(), "ada") {
		t.Error("the index holds a credential value")
	}
}

func TestCatalogOverwriteRules(t *testing.T) {
	ctx := context.Background()
	clock := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	c := backend.NewCatalog(memory.New(0), backend.CatalogOptions{Now: func() time.Time { return clock }})
	if _, _, err := c.Put(ctx, "k", backendtest.MustString(t, "one"), "first", false); err != nil {
		t.Fatal(err)
	}
	_, _, err := c.Put(ctx, "k", backendtest.MustString(t, canary), "", false)
	if !errors.Is(err, backend.ErrExists) {
		t.Fatalf("Put without overwrite on an existing name: err = %v, want ErrExists", err)
	}
	if strings.Contains(err.Error(), canary) {
		t.Error("error text contains the value")
	}
	if rec, _ := c.Get(ctx, "k"); rec.Value.Text() != "one" {
		t.Error("a refused Put changed the stored value")
	}
	clock = clock.Add(time.Hour)
	m, _, err := c.Put(ctx, "k", backendtest.MustString(t, "two"), "", true)
	if err != nil {
		t.Fatal(err)
	}
	if m.Description != "first" || !m.Created.Equal(clock.Add(-time.Hour)) || !m.Updated.Equal(clock) {
		t.Errorf("overwrite meta = %+v; want description and created kept, updated now", m)
	}
}

func TestCatalogRefusesBadInput(t *testing.T) {
	ctx := context.Background()
	c := backend.NewCatalog(memory.New(0), backend.CatalogOptions{MaxValueSize: 16})
	cases := []struct {
		name string
		val  backend.Value
		want error
	}{
		{"", backendtest.MustString(t, "v"), backend.ErrInvalidName},
		{"__secret_index__", backendtest.MustString(t, "v"), backend.ErrInvalidName},
		{"__mine", backendtest.MustString(t, "v"), backend.ErrInvalidName},
		{"a/b", backendtest.MustString(t, "v"), backend.ErrInvalidName},
		{"../etc", backendtest.MustString(t, "v"), backend.ErrInvalidName},
		{strings.Repeat("x", 129), backendtest.MustString(t, "v"), backend.ErrInvalidName},
		{"ok", backendtest.MustString(t, ""), backend.ErrInvalidValue},
		{"ok", backend.Value{}, backend.ErrInvalidValue},
		{"ok", backendtest.MustString(t, canary+canary), backend.ErrTooLarge},
	}
	for _, tc := range cases {
		_, _, err := c.Put(ctx, tc.name, tc.val, "", false)
		if !errors.Is(err, tc.want) {
			t.Errorf("Put(%.20q) err = %v, want %v", tc.name, err, tc.want)
		}
		if err != nil && strings.Contains(err.Error(), canary) {
			t.Errorf("Put(%.20q): error text contains the value", tc.name)
		}
	}
	if list, _ := c.List(ctx); len(list) != 0 {
		t.Errorf("refused Puts left %q behind", names(list))
	}
}

func TestCatalogDeleteAndClear(t *testing.T) {
	ctx := context.Background()
	store := memory.New(0)
	c := backend.NewCatalog(store, backend.CatalogOptions{})
	for _, n := range []string{"a", "b", "c"} {
		if _, _, err := c.Put(ctx, n, backendtest.MustString(t, "v-"+n), "", false); err != nil {
			t.Fatal(err)
		}
	}
	deleted, missing, err := c.Delete(ctx, []string{"a", "nope"})
	if err != nil || !slices.Equal(deleted, []string{"a"}) || !slices.Equal(missing, []string{"nope"}) {
		t.Fatalf("Delete = %q, %q, %v", deleted, missing, err)
	}
	if list, _ := c.List(ctx); !slices.Equal(names(list), []string{"b", "c"}) {
		t.Errorf("List after Delete = %q", names(list))
	}
	if _, _, err := c.Delete(ctx, []string{"b", "../x"}); !errors.Is(err, backend.ErrInvalidName) {
		t.Errorf("Delete with an invalid name: err = %v, want ErrInvalidName", err)
	}
	if _, err := c.Get(ctx, "b"); err != nil {
		t.Error("a Delete refused for an invalid name deleted a valid one")
	}
	n, err := c.Clear(ctx)
	if err != nil || n != 2 {
		t.Fatalf("Clear = %d, %v; want 2", n, err)
	}
	left, _ := store.List(ctx)
	if len(left) != 0 {
		t.Errorf("Clear left %q in the store", left)
	}
}

func TestCatalogClearKeepsForeignNamespaces(t *testing.T) {
	ctx := context.Background()
	ours, theirs := memory.New(0), memory.New(0)
	a := backend.NewCatalog(ours, backend.CatalogOptions{})
	b := backend.NewCatalog(theirs, backend.CatalogOptions{})
	if _, _, err := a.Put(ctx, "x", backendtest.MustString(t, "1"), "", false); err != nil {
		t.Fatal(err)
	}
	if _, _, err := b.Put(ctx, "y", backendtest.MustString(t, "2"), "", false); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Clear(ctx); err != nil {
		t.Fatal(err)
	}
	if list, _ := b.List(ctx); !slices.Equal(names(list), []string{"y"}) {
		t.Errorf("clearing one namespace touched another: %q", names(list))
	}
}

// A crash between writing a value and writing the index leaves a value the
// index does not know; Reconcile and the next write both heal that.
func TestCatalogHealsAfterCrash(t *testing.T) {
	ctx := context.Background()
	store := memory.New(0)
	c := backend.NewCatalog(store, backend.CatalogOptions{})
	if _, _, err := c.Put(ctx, "before", backendtest.MustString(t, "v"), "", false); err != nil {
		t.Fatal(err)
	}
	// The crash: a value written straight to the store, and one deleted behind the index's back.
	if err := store.Set(ctx, "orphan", backend.Record{Value: backendtest.MustString(t, "o"), Description: "lost"}); err != nil {
		t.Fatal(err)
	}
	if list, _ := c.List(ctx); slices.Contains(names(list), "orphan") {
		t.Fatal("test setup: the index already knows the orphan")
	}
	added, dropped, err := c.Reconcile(ctx)
	if err != nil || added != 1 || dropped != 0 {
		t.Fatalf("Reconcile = %d, %d, %v; want 1 added", added, dropped, err)
	}
	list, _ := c.List(ctx)
	if !slices.Equal(names(list), []string{"before", "orphan"}) || list[1].Description != "lost" {
		t.Errorf("List after Reconcile = %+v", list)
	}
	if err := store.Delete(ctx, "before"); err != nil {
		t.Fatal(err)
	}
	if err := store.Set(ctx, "orphan2", backend.Record{Value: backendtest.MustString(t, "o")}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.Put(ctx, "after", backendtest.MustString(t, "v"), "", false); err != nil {
		t.Fatal(err)
	}
	if list, _ := c.List(ctx); !slices.Equal(names(list), []string{"after", "orphan", "orphan2"}) {
		t.Errorf("List after the next write = %q; want the index healed", names(list))
	}
}

// Two catalogs over one store, as two processes sharing a namespace, each
// with its own lock handle on one lock file: no index update is lost.
func TestCatalogSharedNamespace(t *testing.T) {
	ctx := context.Background()
	store := memory.New(0)
	lock := filepath.Join(t.TempDir(), "ns.lock")
	cats := []*backend.Catalog{
		backend.NewCatalog(store, backend.CatalogOptions{LockPath: lock}),
		backend.NewCatalog(store, backend.CatalogOptions{LockPath: lock}),
	}
	const each = 100
	var wg sync.WaitGroup
	for i, c := range cats {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range each {
				if _, _, err := c.Put(ctx, fmt.Sprintf("p%d-%d", i, j), backendtest.MustString(t, "v"), "", false); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	// Read the index only: a scan would hide a lost index update.
	idx, err := store.Get(ctx, backend.IndexName)
	if err != nil {
		t.Fatal(err)
	}
	for i := range cats {
		for j := range each {
			if !strings.Contains(idx.Value.Text(), fmt.Sprintf("\np%d-%d\t", i, j)) {
				t.Fatalf("index lost p%d-%d", i, j)
			}
		}
	}
}

// A store with a small size limit (Windows Credential Manager: 2560 bytes)
// gets its index in chunks, and listing still works.
func TestCatalogChunkedIndex(t *testing.T) {
	ctx := context.Background()
	store := memory.New(2560)
	c := backend.NewCatalog(store, backend.CatalogOptions{})
	var want []string
	for i := range 60 {
		n := fmt.Sprintf("credential-with-a-long-name-%03d", i)
		want = append(want, n)
		if _, _, err := c.Put(ctx, n, backendtest.MustString(t, "v"), "déscription ünïcode "+strings.Repeat("é", 20), false); err != nil {
			t.Fatalf("Put %d: %v", i, err)
		}
	}
	list, err := c.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(names(list), want) {
		t.Fatalf("List over a chunked index = %d names, want %d", len(list), len(want))
	}
	all, _ := store.List(ctx)
	chunks := 0
	for _, n := range all {
		if strings.HasPrefix(n, backend.IndexName+".") {
			chunks++
		}
	}
	if chunks < 2 {
		t.Fatalf("index was not chunked (%d chunks)", chunks)
	}
	// Shrinking the index drops the chunks it no longer needs.
	if _, _, err := c.Delete(ctx, want[1:]); err != nil {
		t.Fatal(err)
	}
	all, _ = store.List(ctx)
	if !slices.Equal(all, []string{backend.IndexName, want[0]}) {
		t.Errorf("after shrinking, store holds %q", all)
	}
	if list, _ := c.List(ctx); !slices.Equal(names(list), want[:1]) {
		t.Errorf("List after shrinking = %q", names(list))
	}
}

type unindexed struct{ *memory.Store }

func (unindexed) Unindexed() {}

func TestCatalogUnindexedStore(t *testing.T) {
	ctx := context.Background()
	store := unindexed{memory.New(0)}
	c := backend.NewCatalog(store, backend.CatalogOptions{})
	if _, _, err := c.Put(ctx, "a", backendtest.MustString(t, "v"), "d", false); err != nil {
		t.Fatal(err)
	}
	if _, err := store.Get(ctx, backend.IndexName); !errors.Is(err, backend.ErrNotFound) {
		t.Errorf("an index was written to an unindexed store: %v", err)
	}
	if list, _ := c.List(ctx); !slices.Equal(names(list), []string{"a"}) || list[0].Description != "d" {
		t.Errorf("List = %+v", list)
	}
}

// Field names and descriptions may hold anything a JSON key or a person
// types: tabs, newlines, quotes, commas. The index keeps them exactly.
func TestCatalogIndexKeepsOddMetadata(t *testing.T) {
	ctx := context.Background()
	store := memory.New(0)
	c := backend.NewCatalog(store, backend.CatalogOptions{})
	odd := "tab\there, newline\nthere, \"quotes\", comma, back\\slash, ünï 🔑"
	obj, err := backend.NewJSON([]byte(`{"a,b":1,"c\td":2,"e\"f":3,"":4,"g\nh":5}`))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.Put(ctx, "odd", obj, odd, false); err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.Put(ctx, "plain", backendtest.MustString(t, "v"), "", false); err != nil {
		t.Fatal(err)
	}
	// A second catalog reads the index alone.
	list, err := backend.NewCatalog(store, backend.CatalogOptions{}).List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 || list[0].Description != odd || !slices.Equal(list[0].Fields, obj.Fields()) {
		t.Errorf("odd metadata came back as %+v", list)
	}
	if list[1].Description != "" || list[1].Fields != nil {
		t.Errorf("plain metadata came back as %+v", list[1])
	}
}

func TestCatalogRebuildsMalformedIndex(t *testing.T) {
	ctx := context.Background()
	store := memory.New(0)
	c := backend.NewCatalog(store, backend.CatalogOptions{})
	if _, _, err := c.Put(ctx, "a", backendtest.MustString(t, "v"), "", false); err != nil {
		t.Fatal(err)
	}
	for _, junk := range []string{"garbage", "mcp-secrets index 1\nshort\tline\n", "mcp-secrets index 1 chunks=x\n", "mcp-secrets index 1 chunks=2\n"} {
		if err := store.Set(ctx, backend.IndexName, backend.Record{Value: backendtest.MustString(t, junk)}); err != nil {
			t.Fatal(err)
		}
		// List either fails clearly or falls back to the store; it never
		// shows something else.
		if list, err := c.List(ctx); err == nil && (len(list) != 1 || list[0].Name != "a") {
			t.Errorf("List over a malformed index (%.30q) = %v", junk, list)
		}
		if _, _, err := c.Reconcile(ctx); err != nil {
			t.Fatalf("Reconcile: %v", err)
		}
		if list, err := c.List(ctx); err != nil || len(list) != 1 {
			t.Errorf("after Reconcile over %.30q: %v, %v", junk, list, err)
		}
	}
}
