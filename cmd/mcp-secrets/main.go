// Command mcp-secrets is an MCP stdio server that lets an AI assistant
// manage a person's stored credentials while the values stay out of the
// model's context unless the person allows each reveal.
//
// Run `mcp-secrets --help` for the flags, and see README.md.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr, os.Getenv)
	stop()
	os.Exit(code)
}
