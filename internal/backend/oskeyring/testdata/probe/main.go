// Command probe imports oskeyring the way mcp-secrets does and reports what
// the keyring library saw at startup. The oskeyring tests build and run it
// with a doctored environment: see TestBusGuard.
//
//	probe BACKEND
//
// It probes BACKEND and prints the session bus address after package
// initialization, whether the probe's error wraps backend.ErrUnavailable,
// and the error.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/mcp-secrets/mcp-secrets/internal/backend"
	"github.com/mcp-secrets/mcp-secrets/internal/backend/oskeyring"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: probe BACKEND")
		os.Exit(2)
	}
	got, err := oskeyring.Probe(context.Background(), oskeyring.Options{
		Backend:   os.Args[1],
		Namespace: "com.mcp.busguard-probe",
		Timeout:   5 * time.Second,
	})
	fmt.Printf("address=%s\n", os.Getenv("DBUS_SESSION_BUS_ADDRESS"))
	fmt.Printf("backend=%s\n", got)
	fmt.Printf("unavailable=%t\n", errors.Is(err, backend.ErrUnavailable))
	fmt.Printf("error=%v\n", err)
}
