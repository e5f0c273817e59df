package main

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcp-secrets/mcp-secrets/internal/backend"
	"github.com/mcp-secrets/mcp-secrets/internal/backend/memory"
	"github.com/mcp-secrets/mcp-secrets/internal/server"
)

// The HTTP mode listens on loopback only: anything that another machine
// could reach is refused before a socket is opened.
func TestHTTPListensOnLoopbackOnly(t *testing.T) {
	for _, addr := range []string{"0.0.0.0:0", ":0", "[::]:0", "192.0.2.1:0", "example.com:0", "127.0.0.1", "[fe80::1%lo]:0", "localhost.:0"} {
		ln, err := listenLoopback(addr)
		if err == nil {
			ln.Close()
			t.Errorf("listenLoopback(%q) listened on %s", addr, ln.Addr())
		} else if !strings.Contains(err.Error(), "--http") {
			t.Errorf("listenLoopback(%q): %v; want an error naming --http", addr, err)
		}
	}
	for _, addr := range []string{"127.0.0.1:0", "localhost:0", "127.0.0.2:0"} {
		ln, err := listenLoopback(addr)
		if err != nil {
			t.Errorf("listenLoopback(%q): %v", addr, err)
			continue
		}
		if ip := ln.Addr().(*net.TCPAddr).IP; !ip.IsLoopback() {
			t.Errorf("listenLoopback(%q) listened on %s", addr, ip)
		}
		ln.Close()
	}
}

// startHTTP serves a memory-backed server on 127.0.0.1 and returns its URL.
func startHTTP(t *testing.T, opts server.Options) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.DiscardHandler)
	opts.Logger, opts.Namespace = log, "com.mcp.http-test"
	srv := server.New(backend.NewCatalog(memory.New(0), backend.CatalogOptions{}), opts)
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- serveHTTPOn(ctx, ln, srv, log) }()
	t.Cleanup(func() {
		stop()
		select {
		case err := <-done:
			if !errors.Is(err, context.Canceled) {
				t.Errorf("serveHTTP returned %v, want context.Canceled", err)
			}
		case <-time.After(10 * time.Second):
			t.Error("serveHTTP did not stop when its context ended")
		}
	})
	return "http://" + ln.Addr().String() + httpPath
}

// A web page cannot reach the server: a request whose Host is not a
// loopback name (DNS rebinding) or whose Origin is another site is
// refused with 403; a local client without an Origin, or with a loopback
// one, is served.
func TestHTTPRefusesWebPages(t *testing.T) {
	url := startHTTP(t, server.Options{})
	initialize := `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"t","version":"0"}}}`
	for _, c := range []struct {
		host, origin string
		want         int
	}{
		{"", "", http.StatusOK},
		{"localhost:1234", "", http.StatusOK},
		{"", "http://127.0.0.1:1234", http.StatusOK},
		{"", "http://localhost", http.StatusOK},
		{"[::1]:80", "https://[::1]:8443", http.StatusOK},
		{"evil.example", "", http.StatusForbidden},
		{"evil.example:80", "http://evil.example", http.StatusForbidden},
		{"127.0.0.1.nip.io", "", http.StatusForbidden},
		{"", "http://evil.example", http.StatusForbidden},
		{"", "null", http.StatusForbidden},
		{"", "file://", http.StatusForbidden},
		{"", "http://127.0.0.1.evil.example", http.StatusForbidden},
	} {
		req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(initialize))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/json, text/event-stream")
		if c.host != "" {
			req.Host = c.host
		}
		if c.origin != "" {
			req.Header.Set("Origin", c.origin)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("Host %q Origin %q: %v", c.host, c.origin, err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != c.want {
			t.Errorf("Host %q Origin %q: status %d, want %d", c.host, c.origin, resp.StatusCode, c.want)
		}
	}
}

// The tools work over HTTP as over stdio, elicitation included: a reveal
// the client accepts returns the value, one it declines does not.
func TestHTTPToolsAndElicitation(t *testing.T) {
	url := startHTTP(t, server.Options{Reveal: server.RevealConfirm})
	for _, answer := range []string{"accept", "decline"} {
		client := mcp.NewClient(&mcp.Implementation{Name: "http-test", Version: "v0"}, &mcp.ClientOptions{
			ElicitationHandler: func(context.Context, *mcp.ElicitRequest) (*mcp.ElicitResult, error) {
				return &mcp.ElicitResult{Action: answer, Content: map[string]any{"confirm": true}}, nil
			},
		})
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		cs, err := client.Connect(ctx, &mcp.StreamableClientTransport{Endpoint: url}, nil)
		if err != nil {
			cancel()
			t.Fatal(err)
		}
		res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "store_credential", Arguments: map[string]any{"name": "k-" + answer, "value": canary}})
		if err != nil || res.IsError {
			t.Fatalf("store over HTTP: %v %s", err, redact(resultText(res)))
		}
		res, err = cs.CallTool(ctx, &mcp.CallToolParams{Name: "retrieve_credential", Arguments: map[string]any{"name": "k-" + answer, "reveal": true}})
		if err != nil {
			t.Fatal(err)
		}
		if revealed := strings.Contains(resultText(res), canary); revealed != (answer == "accept") {
			t.Errorf("answer %s over HTTP: revealed = %v", answer, revealed)
		}
		_ = cs.Close()
		cancel()
	}
}
