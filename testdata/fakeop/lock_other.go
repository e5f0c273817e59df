//go:build !unix

package main

import (
	"errors"
	"os"
	"time"
)

// lockFile spins until it creates path exclusively; the returned function
// removes it. A fake killed while holding it leaves it behind, so a lock
// older than a minute is taken over.
func lockFile(path string) (func(), error) {
	deadline := time.Now().Add(2 * time.Minute)
	for {
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err == nil {
			f.Close()
			return func() { os.Remove(path) }, nil
		}
		if !errors.Is(err, os.ErrExist) {
			return nil, err
		}
		if fi, err := os.Stat(path); err == nil && time.Since(fi.ModTime()) > time.Minute {
			os.Remove(path)
			continue
		}
		if time.Now().After(deadline) {
			return nil, errors.New("fakeop: timed out waiting for the state lock")
		}
		time.Sleep(5 * time.Millisecond)
	}
}
