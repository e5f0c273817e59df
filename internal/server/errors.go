package server

import (
	"errors"
	"fmt"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcp-secrets/mcp-secrets/internal/backend"
)

// toolError is a tool result with isError set, so the model sees what went
// wrong and the session carries on.
func toolError(err error) *mcp.CallToolResult {
	return &mcp.CallToolResult{
		IsError: true,
		Content: []mcp.Content{&mcp.TextContent{Text: err.Error()}},
	}
}

// explain turns a store error into the message a tool returns. Every
// backend error names at most a credential, never a value, so its text
// can be passed on; unknown errors are logged and reported generically.
func (s *server) explain(tool string, err error) error {
	switch {
	case errors.Is(err, backend.ErrNotFound),
		errors.Is(err, backend.ErrExists),
		errors.Is(err, backend.ErrInvalidName),
		errors.Is(err, backend.ErrInvalidValue),
		errors.Is(err, backend.ErrTooLarge),
		errors.Is(err, backend.ErrReadOnly),
		errors.As(err, new(*refusal)):
		s.log.Info("tool call refused", "tool", tool, "err", err)
		return err
	case errors.Is(err, backend.ErrUnavailable):
		s.log.Warn("store unavailable", "tool", tool, "err", err)
		return fmt.Errorf("the credential store is unavailable: %w", err)
	default:
		s.log.Error("tool call failed", "tool", tool, "err", err)
		return fmt.Errorf("%s failed: %w", tool, err)
	}
}

// refusal is a call the server's policy turned down; its text says why
// and how to proceed.
type refusal struct{ msg string }

func (r *refusal) Error() string { return r.msg }

func refuse(format string, args ...any) error {
	return &refusal{msg: fmt.Sprintf(format, args...)}
}
