// Package memory is a Store that keeps records in process memory. It is for
// tests and for trying the server out; everything is gone when the process ends.
package memory

import (
	"context"
	"fmt"
	"sort"
	"sync"

	"github.com/mcp-secrets/mcp-secrets/internal/backend"
)

var _ backend.Store = (*Store)(nil)

// Store is an in-memory backend.Store.
type Store struct {
	mu      sync.RWMutex
	records map[string]backend.Record
	maxSize int
}

// New returns an empty store. maxSize limits a value's length in bytes;
// 0 means no limit of its own.
func New(maxSize int) *Store {
	return &Store{records: make(map[string]backend.Record), maxSize: maxSize}
}

// Get returns the record stored under name.
func (s *Store) Get(ctx context.Context, name string) (backend.Record, error) {
	if err := backend.CheckStoreName(name); err != nil {
		return backend.Record{}, fmt.Errorf("memory: get: %w", err)
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	rec, ok := s.records[name]
	if !ok {
		return backend.Record{}, fmt.Errorf("memory: get %q: %w", name, backend.ErrNotFound)
	}
	return rec, nil
}

// Set stores rec under name, replacing any record there.
func (s *Store) Set(ctx context.Context, name string, rec backend.Record) error {
	if err := backend.CheckStoreName(name); err != nil {
		return fmt.Errorf("memory: set: %w", err)
	}
	if rec.Value.IsZero() {
		return fmt.Errorf("memory: set %q: %w: value is required", name, backend.ErrInvalidValue)
	}
	if s.maxSize > 0 && rec.Value.Len() > s.maxSize {
		return fmt.Errorf("memory: set %q: %w: %d bytes, limit %d", name, backend.ErrTooLarge, rec.Value.Len(), s.maxSize)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.records[name] = rec
	return nil
}

// Delete removes the record stored under name.
func (s *Store) Delete(ctx context.Context, name string) error {
	if err := backend.CheckStoreName(name); err != nil {
		return fmt.Errorf("memory: delete: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.records[name]; !ok {
		return fmt.Errorf("memory: delete %q: %w", name, backend.ErrNotFound)
	}
	delete(s.records, name)
	return nil
}

// List returns every stored name, sorted.
func (s *Store) List(ctx context.Context) ([]string, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	names := make([]string, 0, len(s.records))
	for n := range s.records {
		names = append(names, n)
	}
	sort.Strings(names)
	return names, nil
}

// MaxValueSize is the limit given to New; 0 means none.
func (s *Store) MaxValueSize() int { return s.maxSize }

// Close does nothing; the records stay until the Store is garbage.
func (s *Store) Close() error { return nil }
