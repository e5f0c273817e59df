package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcp-secrets/mcp-secrets/internal/backend"
	"github.com/mcp-secrets/mcp-secrets/internal/backend/oskeyring"
)

// Load: several server processes writing one namespace at once. Every
// process must end up listing every name, no store may be lost, and the
// index (what list reads) must agree with the records themselves.

const loadProcs = 4

// TestLoadFourProcessesFileStore: 4 processes x 250 stores into one
// encrypted-file namespace.
func TestLoadFourProcessesFileStore(t *testing.T) {
	h := newHome(t)
	loadFourProcesses(t, h, []string{"--backend", "file"}, 250)
}

// TestLoadFourProcessesSecretService: the same against the real Secret
// Service (gnome-keyring, started by .ci/services.sh), in a namespace of
// its own that is cleared afterwards.
//
// Every store lists the whole collection over D-Bus (one call per item) to
// keep the index in line with the store, so n stores cost O(n²) calls:
// 4 x 250 takes minutes (8 on a loaded 2-core machine). CI runs 4 x 50;
// MCP_SECRETS_LOAD_FULL=1 runs the full 4 x 250.
func TestLoadFourProcessesSecretService(t *testing.T) {
	requireKeyring(t, "secret-service")
	each := 50
	if os.Getenv("MCP_SECRETS_LOAD_FULL") != "" {
		each = 250
	}
	h := newHome(t)
	name := fmt.Sprintf("load-%d", time.Now().UnixNano())
	t.Cleanup(func() { clearKeyringNamespace(t, backend.Namespace(name)) })
	loadFourProcesses(t, h, []string{"--backend", "keyring", "--keyring-backend", "secret-service", "--server-name", name}, each)
}

// clearKeyringNamespace deletes a namespace from the Secret Service in
// process: a server started with SECRETS_MANAGER_CLEAR would take longer
// than a client waits for it to start.
func clearKeyringNamespace(t *testing.T, ns string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	s, err := oskeyring.Open(ctx, oskeyring.Options{Backend: "secret-service", Namespace: ns})
	if err != nil {
		t.Errorf("clean up %s: %v", ns, err)
		return
	}
	if _, err := backend.NewCatalog(s, backend.CatalogOptions{}).Clear(ctx); err != nil {
		t.Errorf("clean up %s: %v", ns, err)
	}
}

func loadFourProcesses(t *testing.T, h *home, args []string, loadEach int) {
	sessions := make([]*session, loadProcs)
	for i := range sessions {
		sessions[i] = h.connect(t, clientConfig{}, args...)
	}
	latencies := make([][]time.Duration, loadProcs)
	start := time.Now()
	var wg sync.WaitGroup
	for i, s := range sessions {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range loadEach {
				name := fmt.Sprintf("p%d-%03d", i, j)
				t0 := time.Now()
				res, err := s.cs.CallTool(context.Background(), &mcp.CallToolParams{Name: "store_credential",
					Arguments: map[string]any{"name": name, "value": loadValue(name)}})
				latencies[i] = append(latencies[i], time.Since(t0))
				if err != nil || res.IsError {
					t.Errorf("process %d: store %s: %v %s", i, name, err, resultOrEmpty(res))
					return
				}
			}
		}()
	}
	wg.Wait()
	wall := time.Since(start)
	all := slices.Concat(latencies...)
	t.Logf("%d processes x %d stores: wall %s, %.0f stores/s; per store %s",
		loadProcs, loadEach, wall.Round(time.Millisecond), float64(len(all))/wall.Seconds(), latencyFigures(all))
	if t.Failed() {
		return
	}

	want := make([]string, 0, loadProcs*loadEach)
	for i := range loadProcs {
		for j := range loadEach {
			want = append(want, fmt.Sprintf("p%d-%03d", i, j))
		}
	}
	// Every process lists every name, from the index.
	var index map[string]map[string]any
	for i, s := range sessions {
		got := listAll(t, s)
		if names := sortedKeys(got); !slices.Equal(names, want) {
			t.Errorf("process %d lists %d credentials, want %d; missing %v, unexpected %v",
				i, len(names), len(want), firstN(minus(want, names), 5), firstN(minus(names, want), 5))
		}
		index = got
	}
	for _, s := range sessions {
		s.close(t)
	}

	// A new process finds nothing to repair: the index holds exactly the
	// names the store holds.
	s := h.connect(t, clientConfig{}, append(slices.Clone(args), "--reveal", "always")...)
	// Every credential is readable, holds what was stored, and its index
	// entry describes the record.
	t0 := time.Now()
	for _, name := range want {
		got := ok(t, s.call(t, "retrieve_credential", map[string]any{"name": name, "reveal": true}))
		if got["value"] != loadValue(name) {
			t.Errorf("%s holds the wrong value", name)
		}
		if m := index[name]; m != nil && (m["size"] != got["size"] || m["kind"] != got["kind"]) {
			t.Errorf("%s: index says %v/%v bytes, record is %v/%v", name, m["kind"], m["size"], got["kind"], got["size"])
		}
	}
	t.Logf("read back %d credentials in %s", len(want), time.Since(t0).Round(time.Millisecond))
	s.close(t)
	if log := s.stderr.String(); strings.Contains(log, "index repaired") || strings.Contains(log, "index unreadable") {
		t.Errorf("the index did not match the store after the load; a new process had to repair it:\n%s", log)
	}
}

// loadValue is what the load stores under name: distinct per name, so a
// credential written under the wrong name or lost shows.
func loadValue(name string) string { return "load-value-" + name }

func resultOrEmpty(res *mcp.CallToolResult) string {
	if res == nil {
		return ""
	}
	return redact(resultText(res))
}

// listAll returns list_stored_credentials' entries by name.
func listAll(t *testing.T, s *session) map[string]map[string]any {
	t.Helper()
	res := ok(t, s.call(t, "list_stored_credentials", nil))
	var out struct {
		Credentials []map[string]any `json:"credentials"`
		Count       int              `json:"count"`
	}
	data, _ := json.Marshal(res)
	if err := json.Unmarshal(data, &out); err != nil {
		t.Fatalf("list result: %v", err)
	}
	if out.Count != len(out.Credentials) {
		t.Errorf("list count %d, but %d entries", out.Count, len(out.Credentials))
	}
	m := make(map[string]map[string]any, len(out.Credentials))
	for _, c := range out.Credentials {
		m[c["name"].(string)] = c
	}
	return m
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// minus returns the elements of a not in b.
func minus(a, b []string) []string {
	in := make(map[string]bool, len(b))
	for _, x := range b {
		in[x] = true
	}
	var out []string
	for _, x := range a {
		if !in[x] {
			out = append(out, x)
		}
	}
	return out
}

func firstN(s []string, n int) []string {
	if len(s) > n {
		return append(s[:n:n], "...")
	}
	return s
}

// latencyFigures summarises durations: p50, p90, p99, max.
func latencyFigures(d []time.Duration) string {
	if len(d) == 0 {
		return "no samples"
	}
	s := slices.Clone(d)
	slices.Sort(s)
	p := func(q float64) time.Duration { return s[min(len(s)-1, int(q*float64(len(s))))] }
	r := func(d time.Duration) time.Duration { return d.Round(10 * time.Microsecond) }
	return fmt.Sprintf("p50 %s, p90 %s, p99 %s, max %s", r(p(0.50)), r(p(0.90)), r(p(0.99)), r(s[len(s)-1]))
}
