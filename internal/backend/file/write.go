package file

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"time"

	"github.com/mcp-secrets/mcp-secrets/internal/backend"
)

// tempPattern names temporary files; they never end in recordExt, so List
// ignores them.
const tempPattern = ".tmp-*"

// staleTempAge is how old a temporary file must be before Open removes it.
// A write renames or removes its temporary file within moments; one this
// old was left by a process that died in the middle of a write. It holds
// an encrypted record, so nothing leaks while it waits.
const staleTempAge = time.Hour

// removeStaleTemps deletes the temporary files that interrupted writes
// left in dir: regular files named as writeTemp names them (".tmp-" and
// digits) and older than staleTempAge. It does its best and reports
// nothing; List ignores the files anyway.
func removeStaleTemps(dir string, now time.Time) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		rest, ok := strings.CutPrefix(e.Name(), ".tmp-")
		if !ok || rest == "" || strings.Trim(rest, "0123456789") != "" || !e.Type().IsRegular() {
			continue
		}
		if fi, err := e.Info(); err == nil && now.Sub(fi.ModTime()) >= staleTempAge {
			_ = os.Remove(filepath.Join(dir, e.Name()))
		}
	}
}

// faultFunc, when not nil, is called before each step of a write ("create",
// "write", "sync", "close", "rename"); an error it returns fails that step
// as the operating system would. Only tests set one.
type faultFunc func(step string) error

func (f faultFunc) at(step string) error {
	if f == nil {
		return nil
	}
	return f(step)
}

// writeTemp writes data to a new temporary file (mode 0600) in dir, synced
// and closed, and returns its path. On failure nothing is left behind.
func writeTemp(dir string, data []byte, fault faultFunc) (_ string, err error) {
	if err := fault.at("create"); err != nil {
		return "", err
	}
	f, err := os.CreateTemp(dir, tempPattern)
	if err != nil {
		return "", err
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
	if err = fault.at("write"); err != nil {
		return "", err
	}
	if _, err = f.Write(data); err != nil {
		return "", err
	}
	if err = fault.at("sync"); err != nil {
		return "", err
	}
	if err = f.Sync(); err != nil {
		return "", err
	}
	if err = fault.at("close"); err != nil {
		return "", err
	}
	closed = true
	if err = f.Close(); err != nil {
		return "", err
	}
	return tmp, nil
}

// replaceFile atomically replaces (or creates) path with data: a reader
// sees the old content or the new, and a failure leaves the old content and
// no temporary file.
func replaceFile(path string, data []byte, fault faultFunc) error {
	dir := filepath.Dir(path)
	tmp, err := writeTemp(dir, data, fault)
	if err != nil {
		return classify(err)
	}
	if err := fault.at("rename"); err != nil {
		_ = os.Remove(tmp)
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		_ = os.Remove(tmp)
		return classify(err)
	}
	if err := syncDir(dir); err != nil {
		return fmt.Errorf("the new record is in place but may not survive a crash: %w", err)
	}
	return nil
}

// createExclusive creates path holding data if no file exists there, and
// reports whether it did. The file appears whole or not at all: it is
// written to a temporary file and hard-linked into place, which fails if
// path exists, so of two processes racing exactly one creates it. On a file
// system without hard links it falls back to O_EXCL, which is still
// exclusive though a racing reader may then see the file before it is full.
func createExclusive(path string, data []byte) (created bool, err error) {
	dir := filepath.Dir(path)
	tmp, err := writeTemp(dir, data, nil)
	if err != nil {
		return false, err
	}
	linkErr := os.Link(tmp, path)
	_ = os.Remove(tmp)
	switch {
	case linkErr == nil:
	case errors.Is(linkErr, fs.ErrExist):
		return false, nil
	default:
		if err := writeExcl(path, data); err != nil {
			if errors.Is(err, fs.ErrExist) {
				return false, nil
			}
			return false, err
		}
	}
	return true, syncDir(dir)
}

func writeExcl(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = os.Remove(path)
	}
	return err
}

// syncDir makes a rename or unlink in dir durable. Windows cannot open a
// directory for syncing, and some file systems cannot sync one; there it is
// skipped.
func syncDir(dir string) error {
	if runtime.GOOS == "windows" {
		return nil
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, syscall.EINVAL) && !errors.Is(err, errors.ErrUnsupported) {
		return err
	}
	return nil
}

// classify adds backend.ErrReadOnly to an error from a read-only file system.
func classify(err error) error {
	if errors.Is(err, syscall.EROFS) {
		return fmt.Errorf("%w: %w", backend.ErrReadOnly, err)
	}
	return err
}
