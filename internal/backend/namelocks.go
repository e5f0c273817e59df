package backend

import "sync"

// NameLocks serializes work on one name within a process, for stores whose
// service cannot make a check-then-write atomic by itself (two Sets of a
// new name must not both create an item). The zero value is ready to use.
type NameLocks struct {
	mu sync.Mutex
	m  map[string]*nameLock
}

type nameLock struct {
	mu   sync.Mutex
	refs int
}

// Lock locks name and returns its unlock. Locks of unused names are freed.
func (l *NameLocks) Lock(name string) (unlock func()) {
	l.mu.Lock()
	if l.m == nil {
		l.m = make(map[string]*nameLock)
	}
	nl := l.m[name]
	if nl == nil {
		nl = &nameLock{}
		l.m[name] = nl
	}
	nl.refs++
	l.mu.Unlock()
	nl.mu.Lock()
	return func() {
		nl.mu.Unlock()
		l.mu.Lock()
		nl.refs--
		if nl.refs == 0 {
			delete(l.m, name)
		}
		l.mu.Unlock()
	}
}
