package backendtest

import (
	"testing"
	"time"

	"github.com/mcp-secrets/mcp-secrets/internal/backend"
)

// MustString returns a string value, failing t if s is not valid UTF-8.
func MustString(t testing.TB, s string) backend.Value {
	t.Helper()
	v, err := backend.NewString(s)
	if err != nil {
		t.Fatalf("NewString: %v", err)
	}
	return v
}

// MustJSON returns an object or array value, failing t if s is neither.
func MustJSON(t testing.TB, s string) backend.Value {
	t.Helper()
	v, err := backend.NewJSON([]byte(s))
	if err != nil {
		t.Fatalf("NewJSON: %v", err)
	}
	return v
}

// NewRecord returns a record of v and desc created and updated now, to the
// second, as stores keep times.
func NewRecord(v backend.Value, desc string) backend.Record {
	now := time.Now().UTC().Truncate(time.Second)
	return backend.Record{Value: v, Description: desc, Created: now, Updated: now}
}
