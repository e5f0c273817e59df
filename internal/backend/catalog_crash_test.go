package backend_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/mcp-secrets/mcp-secrets/internal/backend"
	"github.com/mcp-secrets/mcp-secrets/internal/backend/backendtest"
	"github.com/mcp-secrets/mcp-secrets/internal/backend/memory"
)

// crashAfter is a store that "crashes" at one write: from the moment
// crashed says so, every write fails, as if the process had died there.
type crashAfter struct {
	backend.Store
	crashed func(name string) bool
	down    bool
}

var errCrashed = errors.New("crashed")

func (s *crashAfter) Set(ctx context.Context, name string, rec backend.Record) error {
	if s.down || s.crashed(name) {
		s.down = true
		return errCrashed
	}
	return s.Store.Set(ctx, name, rec)
}

func (s *crashAfter) Delete(ctx context.Context, name string) error {
	if s.down {
		return errCrashed
	}
	return s.Store.Delete(ctx, name)
}

// A crash while replacing a credential, after the new value is written and
// before the index is, must not leave the index describing the old record:
// the next start (Reconcile) describes it afresh, and so does the next
// write of any process. A crash before the value is written keeps the old
// record and an index that describes it. No marker outlives the healing.
func TestCatalogHealsStaleEntryAfterCrash(t *testing.T) {
	ctx := context.Background()
	old := backendtest.MustString(t, "short")
	object, err := backend.NewJSON([]byte(`{"user":"ada","password":"` + canary + `"}`))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name      string
		crashAt   func(name string) bool // the write that does not happen
		wantKind  backend.Kind
		wantSize  int
		healAtPut bool // heal through another write instead of Reconcile
	}{
		{"value written, index not", func(n string) bool { return n == backend.IndexName }, backend.KindObject, object.Len(), false},
		{"value written, index not, healed by the next write", func(n string) bool { return n == backend.IndexName }, backend.KindObject, object.Len(), true},
		{"marker written, value not", func(n string) bool { return n == "cred" }, backend.KindString, old.Len(), false},
	} {
		t.Run(c.name, func(t *testing.T) {
			mem := memory.New(0)
			first := backend.NewCatalog(mem, backend.CatalogOptions{})
			if _, _, err := first.Put(ctx, "cred", old, "", false); err != nil {
				t.Fatal(err)
			}
			// The process that crashes while replacing cred.
			crashing := &crashAfter{Store: mem}
			crashing.crashed = func(n string) bool { return c.crashAt(n) }
			_, _, _ = backend.NewCatalog(crashing, backend.CatalogOptions{}).Put(ctx, "cred", object, "", true)

			// The next process.
			next := backend.NewCatalog(mem, backend.CatalogOptions{})
			if c.healAtPut {
				if _, _, err := next.Put(ctx, "other", old, "", false); err != nil {
					t.Fatal(err)
				}
			} else if _, _, err := next.Reconcile(ctx); err != nil {
				t.Fatal(err)
			}
			list, err := next.List(ctx)
			if err != nil {
				t.Fatal(err)
			}
			i := slices.IndexFunc(list, func(m backend.Meta) bool { return m.Name == "cred" })
			if i < 0 {
				t.Fatalf("cred is not listed: %v", names(list))
			}
			rec, err := next.Get(ctx, "cred")
			if err != nil {
				t.Fatal(err)
			}
			if got, want := list[i], backend.MetaOf("cred", rec); got.Kind != want.Kind || got.Size != want.Size || !slices.Equal(got.Fields, want.Fields) {
				t.Errorf("the index says %s/%d bytes, the record is %s/%d", got.Kind, got.Size, want.Kind, want.Size)
			}
			if rec.Value.Kind() != c.wantKind || rec.Value.Len() != c.wantSize {
				t.Errorf("the record is %s/%d bytes, want %s/%d", rec.Value.Kind(), rec.Value.Len(), c.wantKind, c.wantSize)
			}
			all, _ := mem.List(ctx)
			for _, n := range all {
				if strings.HasPrefix(n, backend.ReservedPrefix) && n != backend.IndexName {
					t.Errorf("a marker outlived the healing: %s", n)
				}
			}
		})
	}
}

// Clear removes pending markers with the index; the namespace is empty
// afterwards.
func TestCatalogClearRemovesMarkers(t *testing.T) {
	ctx := context.Background()
	mem := memory.New(0)
	c := backend.NewCatalog(mem, backend.CatalogOptions{})
	if _, _, err := c.Put(ctx, "cred", backendtest.MustString(t, "a"), "", false); err != nil {
		t.Fatal(err)
	}
	crashing := &crashAfter{Store: mem, crashed: func(n string) bool { return n == "cred" }}
	_, _, _ = backend.NewCatalog(crashing, backend.CatalogOptions{}).Put(ctx, "cred", backendtest.MustString(t, "b"), "", true)
	if n, err := c.Clear(ctx); err != nil || n != 1 {
		t.Fatalf("Clear = %d, %v; want 1 deleted", n, err)
	}
	if left, _ := mem.List(ctx); len(left) != 0 {
		t.Errorf("left after Clear: %v", left)
	}
}
