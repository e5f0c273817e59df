package server

import (
	"context"
	"log/slog"
	"strings"
)

// ClearEnv is the environment variable that wipes the namespace at startup.
const ClearEnv = "SECRETS_MANAGER_CLEAR"

// ClearRequested reports whether v, the value of SECRETS_MANAGER_CLEAR,
// asks for a wipe: 1, true, yes or on, in any case. Anything else, and
// unset, does not.
func ClearRequested(v string) bool {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "1", "true", "yes", "on":
		return true
	}
	return false
}

// Clearer deletes every credential of a namespace: *backend.Catalog.
type Clearer interface {
	Clear(ctx context.Context) (int, error)
}

// ClearOnStart wipes the namespace if env asks for it, before the server
// serves, and logs how many credentials it deleted (never which values).
func ClearOnStart(ctx context.Context, env string, c Clearer, namespace string, log *slog.Logger) error {
	if !ClearRequested(env) {
		return nil
	}
	n, err := c.Clear(ctx)
	if err != nil {
		return err
	}
	log.Warn(ClearEnv+" is set: cleared the namespace", "namespace", namespace, "deleted", n)
	return nil
}
