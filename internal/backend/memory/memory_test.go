package memory_test

import (
	"testing"

	"github.com/mcp-secrets/mcp-secrets/internal/backend"
	"github.com/mcp-secrets/mcp-secrets/internal/backend/backendtest"
	"github.com/mcp-secrets/mcp-secrets/internal/backend/memory"
)

func TestConformance(t *testing.T) {
	backendtest.Run(t, func(t *testing.T) backend.Store { return memory.New(0) }, backendtest.Options{})
}

func TestConformanceLimited(t *testing.T) {
	backendtest.Run(t, func(t *testing.T) backend.Store { return memory.New(2560) }, backendtest.Options{MaxValueSize: 2560})
}
