package oskeyring

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/99designs/keyring"

	"github.com/mcp-secrets/mcp-secrets/internal/backend"
)

// ProbePrefix starts the name of the item Probe writes and removes.
const ProbePrefix = backend.ReservedPrefix + "probe__"

// Probe checks that a keyring really works: it opens it, writes an item
// named ProbePrefix plus random hex, reads it back and deletes it, each step
// within opts.Timeout. It returns the backend that passed; with Backend ""
// that is the first of the platform's persistent keyrings that does, and
// passing the returned name as Options.Backend opens the same one. A
// locked Secret Service collection fails at once rather than prompting.
// Errors wrap backend.ErrUnavailable.
func Probe(ctx context.Context, opts Options) (string, error) {
	if err := opts.check(); err != nil {
		return "", fmt.Errorf("oskeyring: probe: %w", err)
	}
	if opts.Backend != "" {
		if err := probeOne(ctx, opts); err != nil {
			return "", fmt.Errorf("oskeyring: probe: %w", err)
		}
		return opts.Backend, nil
	}
	var reasons []string
	for _, name := range defaultOrder() {
		if !isAvailable(name) {
			continue
		}
		o := opts
		o.Backend = name
		err := probeOne(ctx, o)
		if err == nil {
			return name, nil
		}
		reasons = append(reasons, err.Error())
	}
	return "", fmt.Errorf("oskeyring: probe: %w", noKeyring(reasons))
}

func probeOne(ctx context.Context, opts Options) error {
	s, err := open(ctx, opts)
	if err != nil {
		return err
	}
	defer s.Close()
	if err := s.probe(ctx); err != nil {
		if !errors.Is(err, backend.ErrUnavailable) {
			// Say so in the terms Probe promises; err's text is safe.
			return fmt.Errorf("%s: %w: %v", opts.Backend, backend.ErrUnavailable, err)
		}
		return err
	}
	return nil
}

func (s *Store) probe(ctx context.Context) error {
	if s.kind.name == string(keyring.SecretServiceBackend) {
		locked, err := s.collectionLocked(ctx)
		if err != nil {
			return err
		}
		if locked {
			return fmt.Errorf("%s: %w: collection %q is locked; unlock it (log in to the desktop session, or use Seahorse) and retry",
				s.kind.name, backend.ErrUnavailable, s.collection)
		}
	}
	var b [8]byte
	_, _ = rand.Read(b[:]) // never fails
	token := hex.EncodeToString(b[:])
	name := ProbePrefix + token
	val, err := backend.NewString("probe-" + token)
	if err != nil {
		return err
	}
	now := time.Now().UTC().Truncate(time.Second)
	if err := s.Set(ctx, name, backend.Record{Value: val, Created: now, Updated: now}); err != nil {
		return err
	}
	got, err := s.Get(ctx, name)
	if err == nil && !got.Value.Equal(val) {
		err = fmt.Errorf("%s: %w: the probe item read back differently", s.kind.name, backend.ErrUnavailable)
	}
	if derr := s.Delete(ctx, name); err == nil {
		err = derr
	}
	return err
}
