package env

import (
	"fmt"
	"os"
	"path/filepath"
)

// fileMode is the mode of the dotenv file after every write.
const fileMode = 0o600

// writeFileAtomic replaces path with data: it writes a temporary file in
// the same directory with mode 0600, syncs it and renames it over path. If
// anything fails the old file is left as it was and the temporary file is
// removed. fail, when not nil, is asked before each step ("create",
// "write", "sync", "close", "rename") and may refuse it, so tests can
// break a write half-way.
func writeFileAtomic(path string, data []byte, fail func(step string) error) (err error) {
	step := func(name string) error {
		if fail == nil {
			return nil
		}
		return fail(name)
	}
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	if err := step("create"); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, "."+base+".tmp-*")
	if err != nil {
		return fmt.Errorf("create a temporary file: %w", err)
	}
	tmp := f.Name()
	closed := false
	defer func() {
		if err != nil {
			if !closed {
				_ = f.Close()
			}
			_ = os.Remove(tmp)
		}
	}()
	if err := f.Chmod(fileMode); err != nil {
		return fmt.Errorf("set the mode of the temporary file: %w", err)
	}
	if err := step("write"); err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		return fmt.Errorf("write the temporary file: %w", err)
	}
	if err := step("sync"); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("sync the temporary file: %w", err)
	}
	if err := step("close"); err != nil {
		return err
	}
	closed = true
	if err := f.Close(); err != nil {
		return fmt.Errorf("close the temporary file: %w", err)
	}
	if err := step("rename"); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("replace the file: %w", err)
	}
	// Make the rename itself durable where the system allows it.
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		_ = d.Close()
	}
	return nil
}
