package env_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/mcp-secrets/mcp-secrets/internal/backend"
	"github.com/mcp-secrets/mcp-secrets/internal/backend/backendtest"
	"github.com/mcp-secrets/mcp-secrets/internal/backend/env"
)

// foreignEnviron is planted beside every store's own variables: other
// prefixes, and names a careless prefix match would take for ours.
var foreignEnviron = []string{"MYAPPLE_KEY=foreign", "MYAPPX_FOO=foreign", "OTHER_KEY=foreign", "MYAPP_lower=foreign"}

// nameRule is the env backend's naming rule as documented, written out
// independently of the code under test: CheckStoreName, then lower-case
// ASCII letters and digits only.
func nameRule(name string) error {
	if err := backend.CheckStoreName(name); err != nil {
		return err
	}
	for _, c := range name {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9') {
			return fmt.Errorf("%w: not lower-case letters and digits", backend.ErrInvalidName)
		}
	}
	return nil
}

func plantForeign(t *testing.T) string { return "le" } // MYAPPLE_KEY read carelessly

func TestConformanceAutoSave(t *testing.T) {
	backendtest.Run(t, func(t *testing.T) backend.Store {
		return open(t, newFakeEnv(foreignEnviron...), env.Options{AutoSave: true})
	}, backendtest.Options{
		MaxValueSize: env.MaxValueSize,
		NameRule:     nameRule,
		NoMetadata:   true,
		PlantForeign: plantForeign,
	})
}

func TestConformanceAutoSaveFile(t *testing.T) {
	paths := map[backend.Store]string{}
	backendtest.Run(t, func(t *testing.T) backend.Store {
		path := filepath.Join(t.TempDir(), ".env")
		writeFile(t, path, "# foreign lines\nMYAPPLE_KEY=foreign\nOTHER_KEY=foreign\n")
		s := open(t, newFakeEnv(foreignEnviron...), env.Options{AutoSave: true, File: path})
		paths[s] = path
		return s
	}, backendtest.Options{
		MaxValueSize: env.MaxValueSize,
		NameRule:     nameRule,
		NoMetadata:   true,
		PlantForeign: plantForeign,
		Reopen: func(t *testing.T, s backend.Store) backend.Store {
			return open(t, nil, env.Options{File: paths[s]}) // the file alone
		},
	})
}

func TestConformanceReadOnly(t *testing.T) {
	seed := func(t *testing.T, recs map[string]backend.Record) backend.Store {
		// Plant through a writing Store: its encoding is what a read-only
		// one must read.
		fe := newFakeEnv(foreignEnviron...)
		w := open(t, fe, env.Options{AutoSave: true})
		for n, rec := range recs {
			if err := w.Set(context.Background(), n, rec); err != nil {
				t.Fatalf("seeding %q: %v", n, err)
			}
		}
		return open(t, fe, env.Options{})
	}
	backendtest.Run(t, func(t *testing.T) backend.Store {
		return open(t, newFakeEnv(foreignEnviron...), env.Options{})
	}, backendtest.Options{
		NameRule:     nameRule,
		NoMetadata:   true,
		ReadOnly:     true,
		Seed:         seed,
		PlantForeign: plantForeign,
	})
}
