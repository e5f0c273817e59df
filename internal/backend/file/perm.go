package file

import (
	"fmt"
	"io/fs"
	"os"
	"runtime"

	"github.com/mcp-secrets/mcp-secrets/internal/backend"
)

// openBits returns the group and other permission bits of m: what makes a
// file or directory readable by someone other than its owner. Windows has
// no such bits, so there it is always 0.
func openBits(m fs.FileMode) fs.FileMode {
	if runtime.GOOS == "windows" {
		return 0
	}
	return m.Perm() & 0o077
}

// ensureDir creates dir 0700 if it is missing, and removes group and other
// access from it if it has any: it is this store's own namespace directory.
func ensureDir(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("file: create the store directory: %w: %w", backend.ErrUnavailable, err)
	}
	fi, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("file: %w: %w", backend.ErrUnavailable, err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("file: %s is not a directory: %w", dir, backend.ErrUnavailable)
	}
	if openBits(fi.Mode()) != 0 {
		if err := os.Chmod(dir, fi.Mode().Perm()&^0o077); err != nil {
			return fmt.Errorf("file: %s is open to other users (mode %04o) and cannot be made private; run \"chmod 700 %s\": %w: %w",
				dir, fi.Mode().Perm(), dir, backend.ErrUnavailable, err)
		}
	}
	return nil
}
