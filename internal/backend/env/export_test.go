package env

// SetWriteHook makes every later file write of s ask fail before each step
// ("create", "write", "sync", "close", "rename"); a non-nil answer breaks
// the write there.
func SetWriteHook(s *Store, fail func(step string) error) { s.failWrite = fail }
