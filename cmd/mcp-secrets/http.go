package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// httpPath is where the Streamable HTTP endpoint is served.
const httpPath = "/mcp"

// httpIdleSession is how long an HTTP session may go without a request
// before the server forgets it.
const httpIdleSession = 30 * time.Minute

// serveHTTP serves srv over MCP Streamable HTTP at http://ADDR/mcp until ctx
// ends. addr must be a loopback address with a port (127.0.0.1:8765,
// [::1]:8765 or localhost:8765; port 0 picks a free one, and the log says
// which): anything else is refused, as this server has no authentication.
//
// Even on loopback, any process of any user on the machine can connect, and
// the connecting client answers the confirmation prompts itself, so this
// mode is for testing (the MCP conformance suite) and for a machine whose
// only user is the person whose credentials these are. stdio stays the way
// to serve an MCP client.
//
// Requests whose Host is not a loopback name (DNS rebinding) or whose
// Origin is not a loopback origin (a web page) get 403 Forbidden.
func serveHTTP(ctx context.Context, addr string, srv *mcp.Server, log *slog.Logger) error {
	ln, err := listenLoopback(addr)
	if err != nil {
		return err
	}
	return serveHTTPOn(ctx, ln, srv, log)
}

// listenLoopback listens on addr, which must name a loopback address.
func listenLoopback(addr string) (net.Listener, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("--http %q: want a loopback address and port, e.g. 127.0.0.1:8765", addr)
	}
	if host == "localhost" {
		host = "127.0.0.1"
	}
	ip, err := netip.ParseAddr(host)
	if err != nil || !ip.IsLoopback() || ip.Zone() != "" {
		return nil, fmt.Errorf("--http %q: the address must be loopback (127.0.0.1, [::1] or localhost): the HTTP mode has no authentication, so it is never served to other machines", addr)
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(ip.String(), port))
	if err != nil {
		return nil, fmt.Errorf("--http %q: %w", addr, err)
	}
	return ln, nil
}

// serveHTTPOn is serveHTTP on a listener the caller opened on loopback.
func serveHTTPOn(ctx context.Context, ln net.Listener, srv *mcp.Server, log *slog.Logger) error {
	mcpHandler := mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return srv },
		&mcp.StreamableHTTPOptions{Logger: log, SessionTimeout: httpIdleSession})
	mux := http.NewServeMux()
	mux.Handle(httpPath, localOnly(mcpHandler, log))
	hs := &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return ctx },
	}
	log.Info("serving MCP over Streamable HTTP", "url", "http://"+ln.Addr().String()+httpPath)
	log.Warn("HTTP mode: any local process can connect to this address and answer confirmations itself; use stdio for an MCP client")

	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("HTTP server: %w", err)
	case <-ctx.Done():
	}
	// Open event streams never end by themselves: give requests a moment,
	// then close what is left.
	shutCtx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := hs.Shutdown(shutCtx); err != nil {
		_ = hs.Close()
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("HTTP server: %w", err)
	}
	return ctx.Err()
}

// localOnly refuses requests that a web page could have made: a Host that
// is not a loopback name (DNS rebinding) or an Origin that is not a
// loopback origin.
func localOnly(next http.Handler, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !loopbackHost(r.Host) {
			log.Warn("HTTP request refused: Host is not a loopback name", "host", r.Host)
			http.Error(w, "Forbidden: the Host header must name this machine's loopback address", http.StatusForbidden)
			return
		}
		if origin := r.Header.Get("Origin"); origin != "" {
			u, err := url.Parse(origin)
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") || !loopbackHost(u.Host) {
				log.Warn("HTTP request refused: Origin is not a loopback origin", "origin", origin)
				http.Error(w, "Forbidden: cross-origin requests are not allowed", http.StatusForbidden)
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// loopbackHost reports whether hostport (a Host header or URL host, with or
// without a port) names a loopback address.
func loopbackHost(hostport string) bool {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.IsLoopback() && ip.Zone() == ""
}
