//go:build !linux

package oskeyring

import (
	"context"
	"time"
)

// The Secret Service backend exists on Linux only; these are never reached
// elsewhere.

func (s *Store) checkCollection(context.Context) error { return nil }

func (s *Store) collectionLocked(context.Context) (bool, error) { return false, nil }

func diagnoseSecretService(context.Context, time.Duration) string {
	return "only available on Linux"
}

func (s *Store) secretServiceKeys() ([]string, error) { return nil, nil }

func describeDBus(string, error) (string, bool) { return "", false }
