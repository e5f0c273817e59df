package vault_test

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcp-secrets/mcp-secrets/internal/backend"
	"github.com/mcp-secrets/mcp-secrets/internal/server"
)

// The end-to-end scenario of the tools over a Vault KV v2 store (the fake):
// store, list, reveal with the person's yes, delete with a no and a yes.
func TestServerScenarioFakeVault(t *testing.T) {
	ctx := context.Background()
	f := newFake(t)
	cat := backend.NewCatalog(f.store(t), backend.CatalogOptions{})
	srv := server.New(cat, server.Options{Namespace: testNS})
	answer := "accept"
	client := mcp.NewClient(&mcp.Implementation{Name: "scenario", Version: "v0"}, &mcp.ClientOptions{
		ElicitationHandler: func(context.Context, *mcp.ElicitRequest) (*mcp.ElicitResult, error) {
			return &mcp.ElicitResult{Action: answer}, nil
		},
	})
	st, ct := mcp.NewInMemoryTransports()
	ss, err := srv.Connect(ctx, st, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ss.Close()
	cs, err := client.Connect(ctx, ct, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer cs.Close()
	call := func(tool string, args map[string]any) (*mcp.CallToolResult, string) {
		t.Helper()
		res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: tool, Arguments: args})
		if err != nil {
			t.Fatalf("%s: %v", tool, err)
		}
		data, _ := json.Marshal(res)
		return res, string(data)
	}
	redact := func(s string) string { return strings.ReplaceAll(s, canary, "[canary]") }

	if res, w := call("store_credential", map[string]any{"name": "api", "value": "sk-" + canary, "description": "API key"}); res.IsError || strings.Contains(w, canary) {
		t.Fatalf("store: %s", redact(w))
	}
	if res, w := call("store_credential", map[string]any{"name": "db", "value": map[string]any{"user": "ada", "password": canary}}); res.IsError {
		t.Fatalf("store object: %s", redact(w))
	}
	if _, w := call("list_stored_credentials", nil); !strings.Contains(w, `"count":2`) || strings.Contains(w, canary) {
		t.Errorf("list: %s", redact(w))
	}
	if _, w := call("retrieve_credential", map[string]any{"name": "db", "field": "password", "reveal": true}); !strings.Contains(w, `"revealed":true`) || !strings.Contains(w, canary) {
		t.Errorf("accepted reveal: %s", redact(w))
	}
	answer = "decline"
	if _, w := call("retrieve_credential", map[string]any{"name": "api", "reveal": true}); strings.Contains(w, canary) {
		t.Errorf("declined reveal showed the value")
	}
	if res, _ := call("clear_credentials", map[string]any{"names": []string{"api"}}); res.Content[0].(*mcp.TextContent).Text != "Deletion cancelled." {
		t.Errorf("declined deletion deleted")
	}
	if !slices.Contains(f.keys(testMount), testPrefix+"/db") {
		t.Fatalf("db is not where the layout says: %q", f.keys(testMount))
	}
	answer = "accept"
	if res, _ := call("clear_credentials", map[string]any{"all": true}); !strings.HasPrefix(res.Content[0].(*mcp.TextContent).Text, "Deleted 2 credentials") {
		t.Errorf("clear all: %v", res.Content)
	}
	// Nothing of ours is left under the prefix but the (empty) index.
	for _, k := range f.keys(testMount) {
		if strings.HasPrefix(k, testPrefix+"/") && !strings.HasPrefix(k, testPrefix+"/__") {
			t.Errorf("left behind in Vault: %s", k)
		}
	}
}
