package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"

	"github.com/mcp-secrets/mcp-secrets/internal/backend"
	"github.com/mcp-secrets/mcp-secrets/internal/backend/memory"
	"github.com/mcp-secrets/mcp-secrets/internal/server"
	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// listServer serves n credentials, indexed, on an in-memory transport and
// returns the client end.
func listServer(b *testing.B, n int) (mcp.Transport, func()) {
	ctx := context.Background()
	store := memory.New(0)
	v, _ := backend.NewString("v")
	for i := range n {
		_ = store.Set(ctx, fmt.Sprintf("cred-%05d", i), backend.Record{Value: v, Description: "seeded"})
	}
	cat := backend.NewCatalog(store, backend.CatalogOptions{})
	if _, _, err := cat.Reconcile(ctx); err != nil {
		b.Fatal(err)
	}
	st, ct := mcp.NewInMemoryTransports()
	ss, err := server.New(cat, server.Options{}).Connect(ctx, st, nil)
	if err != nil {
		b.Fatal(err)
	}
	return ct, func() { _ = ss.Close() }
}

// BenchmarkList10000 profiles list_stored_credentials over 10,000 names
// in process (go test -bench List10000 -cpuprofile ...).
func BenchmarkList10000(b *testing.B) {
	ctx := context.Background()
	ct, closeServer := listServer(b, 10000)
	defer closeServer()
	cs, err := mcp.NewClient(&mcp.Implementation{Name: "b"}, nil).Connect(ctx, ct, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer cs.Close()
	for b.Loop() {
		if _, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "list_stored_credentials"}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkList10000Raw measures the server's side alone: the client end
// of the pipe reads raw JSON-RPC messages without decoding results.
func BenchmarkList10000Raw(b *testing.B) {
	ctx := context.Background()
	ct, closeServer := listServer(b, 10000)
	defer closeServer()
	conn, err := ct.Connect(ctx)
	if err != nil {
		b.Fatal(err)
	}
	send := func(id int64, method string, params string) {
		msg := &jsonrpc.Request{Method: method, Params: json.RawMessage(params)}
		if id > 0 {
			msg.ID, _ = jsonrpc.MakeID(float64(id))
		}
		if err := conn.Write(ctx, msg); err != nil {
			b.Fatal(err)
		}
	}
	send(1, "initialize", `{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"raw","version":"0"}}`)
	if _, err := conn.Read(ctx); err != nil {
		b.Fatal(err)
	}
	send(0, "notifications/initialized", `{}`)
	id := int64(2)
	for b.Loop() {
		send(id, "tools/call", `{"name":"list_stored_credentials","arguments":{}}`)
		if _, err := conn.Read(ctx); err != nil {
			b.Fatal(err)
		}
		id++
	}
}
