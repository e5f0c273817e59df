package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcp-secrets/mcp-secrets/internal/backend"
	"github.com/mcp-secrets/mcp-secrets/internal/backend/file"
	"github.com/mcp-secrets/mcp-secrets/internal/backend/memory"
	"github.com/mcp-secrets/mcp-secrets/internal/server"
)

// TestConcurrentToolCalls fires 1,000 tool calls at once on one session
// (run it with -race): stores of new names, overwrites of a few shared
// names, listings, reveals and confirmed deletions, over the memory store
// and the encrypted file store. Every call succeeds, and afterwards the
// store holds exactly what the calls say it should, with an index that
// describes every record.
func TestConcurrentToolCalls(t *testing.T) {
	for _, c := range []struct {
		name string
		open func(t *testing.T) (backend.Store, string)
	}{
		{"memory", func(*testing.T) (backend.Store, string) { return memory.New(0), "" }},
		{"file", func(t *testing.T) (backend.Store, string) {
			dir := memDir(t)
			s, err := file.Open(file.Options{Dir: filepath.Join(dir, "store"), KeyFile: filepath.Join(dir, "key")})
			if err != nil {
				t.Fatal(err)
			}
			return s, filepath.Join(dir, "store", ".lock")
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			store, lock := c.open(t)
			concurrentCalls(t, store, lock)
		})
	}
}

func concurrentCalls(t *testing.T, store backend.Store, lock string) {
	ctx := context.Background()
	cat := backend.NewCatalog(store, backend.CatalogOptions{LockPath: lock})
	t.Cleanup(func() { _ = cat.Close() })
	// Of every 10 calls: 3 store a new name, 2 overwrite one of a few
	// shared names, 1 lists, 3 reveal, 1 deletes (confirmed).
	const (
		calls  = 1000
		shared = 10
		keeps  = 50
	)
	// Seeds to reveal and to delete, stored before the storm.
	seed := func(name string) string { return "seed-value-" + name }
	var seeds []string
	for i := range keeps {
		seeds = append(seeds, fmt.Sprintf("keep-%03d", i))
	}
	for i := range calls / 10 {
		seeds = append(seeds, fmt.Sprintf("del-%03d", i))
	}
	for _, name := range seeds {
		v, _ := backend.NewString(seed(name))
		if _, _, err := cat.Put(ctx, name, v, "", false); err != nil {
			t.Fatal(err)
		}
	}

	srv := server.New(cat, server.Options{Namespace: "com.mcp.concurrency", Reveal: server.RevealAlways})
	client := mcp.NewClient(&mcp.Implementation{Name: "concurrency", Version: "v0"}, &mcp.ClientOptions{
		ElicitationHandler: func(context.Context, *mcp.ElicitRequest) (*mcp.ElicitResult, error) {
			return &mcp.ElicitResult{Action: "accept", Content: map[string]any{"confirm": true}}, nil
		},
	})
	st, ct := mcp.NewInMemoryTransports()
	ss, err := srv.Connect(ctx, st, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ss.Close() })
	cs, err := client.Connect(ctx, ct, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cs.Close() })

	var mu sync.Mutex
	sharedValues := map[string][]string{} // every value sent to each shared name
	var latencies []time.Duration
	var wg sync.WaitGroup
	begin := make(chan struct{})
	var newNames []string
	for i := range calls {
		var p mcp.CallToolParams
		switch i % 10 {
		case 0, 1, 2:
			name := fmt.Sprintf("new-%03d", len(newNames))
			newNames = append(newNames, name)
			p = mcp.CallToolParams{Name: "store_credential", Arguments: map[string]any{"name": name, "value": "new-value-" + name}}
		case 3, 4:
			name, v := fmt.Sprintf("shared-%d", i%shared), fmt.Sprintf("shared-value-%03d", i)
			sharedValues[name] = append(sharedValues[name], v)
			p = mcp.CallToolParams{Name: "store_credential", Arguments: map[string]any{"name": name, "value": v, "overwrite": true}}
		case 5:
			p = mcp.CallToolParams{Name: "list_stored_credentials"}
		case 6, 7, 8:
			p = mcp.CallToolParams{Name: "retrieve_credential", Arguments: map[string]any{"name": fmt.Sprintf("keep-%03d", i%keeps), "reveal": true}}
		case 9:
			p = mcp.CallToolParams{Name: "clear_credentials", Arguments: map[string]any{"names": []string{fmt.Sprintf("del-%03d", i/10)}}}
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-begin
			callCtx, cancel := context.WithTimeout(ctx, 2*time.Minute)
			defer cancel()
			t0 := time.Now()
			res, err := cs.CallTool(callCtx, &p)
			d := time.Since(t0)
			mu.Lock()
			latencies = append(latencies, d)
			mu.Unlock()
			switch {
			case err != nil:
				t.Errorf("%s %v: %v", p.Name, p.Arguments, err)
				return
			case res.IsError:
				t.Errorf("%s %v: %s", p.Name, p.Arguments, concText(res))
				return
			}
			switch p.Name {
			case "retrieve_credential":
				name := p.Arguments.(map[string]any)["name"].(string)
				if got := concStructured(res)["value"]; got != seed(name) {
					t.Errorf("reveal %s during the storm: wrong value", name)
				}
			case "clear_credentials":
				name := p.Arguments.(map[string]any)["names"].([]string)[0]
				if want := "Deleted 1 credential: " + name + "."; concText(res) != want {
					t.Errorf("clear %s: %q", name, concText(res))
				}
			case "list_stored_credentials":
				// A listing in the middle of the storm: whatever it holds,
				// it holds every seed that is not being deleted.
				names := map[string]bool{}
				for _, c := range concStructured(res)["credentials"].([]any) {
					names[c.(map[string]any)["name"].(string)] = true
				}
				for k := range keeps {
					if !names[fmt.Sprintf("keep-%03d", k)] {
						t.Errorf("a listing during the storm lacks keep-%03d", k)
						return
					}
				}
			}
		}()
	}
	start := time.Now()
	close(begin)
	wg.Wait()
	wall := time.Since(start)
	slices.Sort(latencies)
	t.Logf("%d concurrent calls in %s; latency p50 %s, p99 %s, max %s", calls, wall.Round(time.Millisecond),
		latencies[len(latencies)/2].Round(time.Microsecond), latencies[len(latencies)*99/100].Round(time.Microsecond),
		latencies[len(latencies)-1].Round(time.Microsecond))
	if t.Failed() {
		return
	}

	// The final state, read straight from the catalog.
	want := map[string]func(string) bool{}
	for _, name := range newNames {
		want[name] = func(v string) bool { return v == "new-value-"+name }
	}
	for _, name := range seeds[:keeps] {
		want[name] = func(v string) bool { return v == seed(name) }
	}
	for name, sent := range sharedValues {
		want[name] = func(v string) bool { return slices.Contains(sent, v) }
	}
	list, err := cat.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var listed []string
	for _, m := range list {
		listed = append(listed, m.Name)
		rec, err := cat.Get(ctx, m.Name)
		if err != nil {
			t.Errorf("%s is listed but cannot be read: %v", m.Name, err)
			continue
		}
		if check := want[m.Name]; check == nil || !check(rec.Value.Text()) {
			t.Errorf("%s: unexpected credential or value", m.Name)
		}
		if r := backend.MetaOf(m.Name, rec); r.Size != m.Size || r.Kind != m.Kind {
			t.Errorf("%s: the index says %s/%d bytes, the record is %s/%d", m.Name, m.Kind, m.Size, r.Kind, r.Size)
		}
	}
	if names := concKeys(want); !slices.Equal(listed, names) {
		t.Errorf("after the storm %d credentials are listed, want %d", len(listed), len(names))
	}
	// The index and the store agree: nothing to repair.
	if added, dropped, err := cat.Reconcile(ctx); err != nil || added+dropped > 0 {
		t.Errorf("Reconcile after the storm: %d added, %d dropped, %v; want nothing to do", added, dropped, err)
	}
	raw, err := store.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var stored []string
	for _, n := range raw {
		if !strings.HasPrefix(n, backend.ReservedPrefix) {
			stored = append(stored, n)
		}
	}
	if !slices.Equal(stored, listed) {
		t.Errorf("the store holds %d credentials, the index %d", len(stored), len(listed))
	}
}

// memDir is a temporary directory in memory (/dev/shm) where there is one:
// this test is about concurrency, not about waiting for fsync.
func memDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("/dev/shm", "mcp-secrets-concurrency")
	if err != nil {
		return t.TempDir()
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	return dir
}

func concText(res *mcp.CallToolResult) string {
	var parts []string
	for _, c := range res.Content {
		if tc, ok := c.(*mcp.TextContent); ok {
			parts = append(parts, tc.Text)
		}
	}
	return strings.Join(parts, "\n")
}

func concStructured(res *mcp.CallToolResult) map[string]any {
	var m map[string]any
	data, _ := json.Marshal(res.StructuredContent)
	_ = json.Unmarshal(data, &m)
	return m
}

func concKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
