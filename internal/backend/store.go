package backend

import (
	"context"
	"time"
)

// Store keeps records by name within one namespace. Implementations are safe
// for concurrent use.
//
// Get and Delete of a missing name return an error wrapping ErrNotFound.
// List returns every name of this namespace, reserved ones included, and
// never a name that belongs to another application.
type Store interface {
	Get(ctx context.Context, name string) (Record, error)
	Set(ctx context.Context, name string, rec Record) error
	Delete(ctx context.Context, name string) error
	List(ctx context.Context) ([]string, error)
	Close() error
}

// Record is a stored credential: its value and the metadata that travels
// with it, so that an index can always be rebuilt from the records.
type Record struct {
	Value       Value
	Description string
	Created     time.Time
	Updated     time.Time
}

// Namespace returns the service name under which a server's credentials
// are kept: com.mcp.<serverName>.
func Namespace(serverName string) string {
	return "com.mcp." + serverName
}

// Unindexed is implemented by stores that keep no index of their own: those
// whose List and Get are cheap and local (process environment variables) or
// that cannot write one (a read-only store). For them the Catalog builds a
// listing from List and Get instead of reading the index.
type Unindexed interface {
	Unindexed()
}

// Writable is implemented by stores that can be read-only. CheckWritable
// returns an error wrapping ErrReadOnly, saying how to allow writes, when
// the store refuses them.
type Writable interface {
	CheckWritable() error
}
