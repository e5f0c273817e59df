package vault_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/vault/api"

	"github.com/mcp-secrets/mcp-secrets/internal/backend"
	"github.com/mcp-secrets/mcp-secrets/internal/backend/backendtest"
	"github.com/mcp-secrets/mcp-secrets/internal/backend/vault"
)

// TestConformanceRealVault runs the backend suite against a real Vault or
// OpenBao server: the one VAULT_ADDR and VAULT_TOKEN (or VAULT_ROLE_ID and
// VAULT_SECRET_ID) point at, with a KV version 2 engine at
// MCP_SECRETS_VAULT_MOUNT (default "secret"), for example
//
//	vault server -dev -dev-root-token-id=root &
//	VAULT_ADDR=http://127.0.0.1:8200 VAULT_TOKEN=root go test -run RealVault ./internal/backend/vault/
//
// It works under mcp-secrets-test/<unique>/ in that mount and removes
// everything there when done. Without VAULT_ADDR it skips, saying so
// (MCP_SECRETS_REQUIRE_VAULT=1 makes that a failure instead).
func TestConformanceRealVault(t *testing.T) {
	if os.Getenv("VAULT_ADDR") == "" {
		if os.Getenv("MCP_SECRETS_REQUIRE_VAULT") != "" {
			t.Fatal("MCP_SECRETS_REQUIRE_VAULT is set but VAULT_ADDR is not: no real Vault to test against")
		}
		t.Skip("VAULT_ADDR is not set: no real Vault or OpenBao to test against (see the test's comment to run one)")
	}
	mount := os.Getenv("MCP_SECRETS_VAULT_MOUNT")
	if mount == "" {
		mount = "secret"
	}
	raw, err := api.NewClient(nil) // the same environment, for planting and cleaning
	if err != nil {
		t.Fatalf("api.NewClient: %v", err)
	}
	root := fmt.Sprintf("mcp-secrets-test/%d-%d", os.Getpid(), time.Now().UnixNano())
	t.Cleanup(func() { wipe(t, raw, mount, root) })

	var mu sync.Mutex
	n := 0
	prefixes := map[*testing.T]string{}
	newStore := func(t *testing.T, prefix string) backend.Store {
		s, err := vault.New(context.Background(), vault.Options{
			Mount:      mount,
			PathPrefix: prefix,
			Namespace:  testNS,
		})
		if err != nil {
			t.Fatalf("New: %v", err)
		}
		t.Cleanup(func() { _ = s.Close() })
		return s
	}
	stores := map[backend.Store]string{}
	backendtest.Run(t, func(t *testing.T) backend.Store {
		mu.Lock()
		n++
		prefix := fmt.Sprintf("%s/s%d", root, n)
		prefixes[t] = prefix
		mu.Unlock()
		s := newStore(t, prefix)
		mu.Lock()
		stores[s] = prefix
		mu.Unlock()
		return s
	}, backendtest.Options{
		MaxValueSize: vault.MaxValueSize,
		PlantForeign: func(t *testing.T) string {
			mu.Lock()
			prefix := prefixes[t]
			mu.Unlock()
			data := map[string]any{"value": "foreign"}
			for _, p := range []string{prefix + "-other/foreign-item", root + "/foreign-item", prefix + "/sub/foreign-item"} {
				if _, err := raw.KVv2(mount).Put(context.Background(), p, data); err != nil {
					t.Fatalf("planting a foreign secret: %v", err)
				}
			}
			return "foreign-item"
		},
		Reopen: func(t *testing.T, s backend.Store) backend.Store {
			mu.Lock()
			prefix := stores[s]
			mu.Unlock()
			return newStore(t, prefix)
		},
	})
}

// wipe deletes every secret under folder in mount, all versions.
func wipe(t *testing.T, c *api.Client, mount, folder string) {
	ctx := context.Background()
	list, err := c.Logical().ListWithContext(ctx, mount+"/metadata/"+folder)
	if err != nil {
		t.Logf("cleaning up %s/%s: %v", mount, folder, err)
		return
	}
	if list == nil {
		return
	}
	keys, _ := list.Data["keys"].([]any)
	for _, k := range keys {
		key, _ := k.(string)
		if strings.HasSuffix(key, "/") {
			wipe(t, c, mount, folder+"/"+strings.TrimSuffix(key, "/"))
			continue
		}
		if err := c.KVv2(mount).DeleteMetadata(ctx, folder+"/"+key); err != nil {
			t.Logf("cleaning up %s/%s/%s: %v", mount, folder, key, err)
		}
	}
}
