package file_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/mcp-secrets/mcp-secrets/internal/backend/file"
)

func BenchmarkGet(b *testing.B) {
	s := mustOpen(b, optsFor(b.TempDir(), keyMode))
	mustSet(b, s, "cred", str(b, "a small secret value"))
	ctx := context.Background()
	for b.Loop() {
		if _, err := s.Get(ctx, "cred"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSet includes the two fsyncs (file and directory) of each write.
func BenchmarkSet(b *testing.B) {
	s := mustOpen(b, optsFor(b.TempDir(), keyMode))
	rec := str(b, "a small secret value")
	ctx := context.Background()
	for b.Loop() {
		if err := s.Set(ctx, "cred", rec); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkList100(b *testing.B) {
	s := mustOpen(b, optsFor(b.TempDir(), keyMode))
	for i := range 100 {
		mustSet(b, s, fmt.Sprintf("cred-%d", i), str(b, "v"))
	}
	ctx := context.Background()
	for b.Loop() {
		if _, err := s.List(ctx); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkOpenPassphrase is the cost of opening an existing store with a
// passphrase: one argon2id derivation.
func BenchmarkOpenPassphrase(b *testing.B) {
	opts := optsFor(b.TempDir(), passMode)
	mustOpen(b, opts)
	for b.Loop() {
		s, err := file.Open(opts)
		if err != nil {
			b.Fatal(err)
		}
		s.Close()
	}
}

func BenchmarkOpenKeyFile(b *testing.B) {
	opts := optsFor(b.TempDir(), keyMode)
	mustOpen(b, opts)
	for b.Loop() {
		s, err := file.Open(opts)
		if err != nil {
			b.Fatal(err)
		}
		s.Close()
	}
}
