package oskeyring

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"syscall"

	"github.com/99designs/keyring"

	"github.com/mcp-secrets/mcp-secrets/internal/backend"
)

// Library errors are never passed on as text unless their type shows what
// they hold: a D-Bus error name, an errno, a path, an exit status. Anything
// else might quote a value (JSON decoding errors quote the bad byte), so it
// becomes a fixed message naming only the error's type.

// mapErr turns an error from the library into ErrNotFound or ErrUnavailable
// with a message that is safe to show. name is the credential, or "" for
// List.
func (s *Store) mapErr(op, name string, err error) error {
	if name != "" && s.isNotFound(name, err) {
		return fmt.Errorf("%s: %w", s.kind.name, backend.ErrNotFound)
	}
	return s.unavailable(op, err)
}

// mapSetErr is mapErr for Set, where a full quota means the value is too
// large.
func (s *Store) mapSetErr(name string, err error) error {
	if s.kind.name == string(keyring.KeyCtlBackend) && isQuotaErr(err) {
		return fmt.Errorf("%s: %w: the kernel's per-user key quota is full (see /proc/sys/kernel/keys/maxbytes and maxkeys)",
			s.kind.name, backend.ErrTooLarge)
	}
	return s.unavailable("set", err)
}

func (s *Store) unavailable(op string, err error) error {
	var st *stallError
	if errors.As(err, &st) {
		msg := st.Error()
		if s.kind.stallHint != "" && !errors.Is(st.cause, context.Canceled) {
			msg += "; " + s.kind.stallHint
		}
		return fmt.Errorf("%s: %w: %s (%w)", s.kind.name, backend.ErrUnavailable, msg, st.cause)
	}
	return fmt.Errorf("%s: %w: %s", s.kind.name, backend.ErrUnavailable, s.describe(op, err))
}

// isNotFound reports whether err means the item is missing. Besides the
// library's ErrKeyNotFound: the file backend's Remove returns the raw os
// error, keyctl reports ENOKEY (or an expired or revoked key), and pass
// fails with an exit status when the item vanished between the library's
// check and its command.
func (s *Store) isNotFound(name string, err error) bool {
	if errors.Is(err, keyring.ErrKeyNotFound) {
		return true
	}
	var st *stallError
	if errors.As(err, &st) {
		return false
	}
	switch keyring.BackendType(s.kind.name) {
	case keyring.FileBackend:
		return errors.Is(err, fs.ErrNotExist)
	case keyring.KeyCtlBackend:
		return isKeyctlMissing(err)
	case keyring.PassBackend:
		var exit *exec.ExitError
		return errors.As(err, &exit) && !s.passItemExists(name)
	}
	return false
}

// describe says what went wrong without quoting anything that could hold
// a value.
func (s *Store) describe(op string, err error) string {
	if errors.Is(err, errLibraryPanic) {
		return err.Error()
	}
	if msg, ok := describeDBus(s.kind.name, err); ok {
		return msg
	}
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return fmt.Sprintf("the pass command exited with status %d (gpg's or pass's own message is on standard error); check that the GPG key is usable without a prompt", exit.ExitCode())
	}
	var execErr *exec.Error
	if errors.As(err, &execErr) {
		return fmt.Sprintf("cannot run %q: %s", execErr.Name, errnoText(execErr.Err))
	}
	var pathErr *fs.PathError
	if errors.As(err, &pathErr) {
		return fmt.Sprintf("%s %s: %s", pathErr.Op, pathErr.Path, errnoText(pathErr.Err))
	}
	var errno syscall.Errno
	if errors.As(err, &errno) {
		return errnoMessage(s.kind.name, errno)
	}
	var syntaxErr *json.SyntaxError
	var typeErr *json.UnmarshalTypeError
	if errors.As(err, &syntaxErr) || errors.As(err, &typeErr) {
		return "the stored item is not in the format this program writes (was it made by another tool?)"
	}
	switch keyring.BackendType(s.kind.name) {
	case keyring.FileBackend:
		if op == "get" {
			return "cannot decrypt the item: wrong passphrase, or a damaged file"
		}
	case keyring.KeyCtlBackend:
		// The keyctl backend builds its messages from fixed text and
		// errnos only; data never reaches them.
		return err.Error()
	}
	return fmt.Sprintf("unexpected error (%T; its text is withheld in case it quotes a value)", err)
}

// errnoText returns err's text if it is an errno (or a known sentinel),
// else a fixed phrase.
func errnoText(err error) string {
	var errno syscall.Errno
	switch {
	case errors.As(err, &errno):
		return errno.Error()
	case errors.Is(err, exec.ErrNotFound):
		return "not found on PATH"
	case errors.Is(err, fs.ErrNotExist):
		return "no such file"
	case errors.Is(err, fs.ErrPermission):
		return "permission denied"
	}
	return "failed"
}

// errnoMessage explains an errno from a system call.
func errnoMessage(backendName string, errno syscall.Errno) string {
	if backendName == string(keyring.KeyCtlBackend) {
		switch errno {
		case syscall.ENOSYS, syscall.EPERM:
			return "the kernel refused keyctl (" + errno.Error() + "); containers often forbid it"
		case syscall.EACCES:
			return "the kernel keyring refused access (" + errno.Error() + "); the keyring may belong to another session"
		}
	}
	return errno.Error()
}

// openFailure explains why keyring.Open failed. The library drops its
// openers' errors (Open returns ErrNoAvailImpl), so look again here.
func (s *Store) openFailure(ctx context.Context, opts Options, err error) string {
	var st *stallError
	if errors.As(err, &st) {
		msg := st.Error()
		if s.kind.stallHint != "" {
			msg += "; " + s.kind.stallHint
		}
		return msg
	}
	switch keyring.BackendType(s.kind.name) {
	case keyring.SecretServiceBackend:
		return diagnoseSecretService(ctx, s.timeout)
	case keyring.KWalletBackend:
		return "KWallet (org.kde.kwalletd5) did not answer or would not open the default wallet; is kwalletd running?"
	case keyring.KeyCtlBackend:
		return fmt.Sprintf("cannot open or create the keyring %q in the user keyring; the kernel may forbid keyctl here (containers often do)", opts.Namespace)
	case keyring.PassBackend:
		cmd := opts.PassCmd
		if cmd == "" {
			cmd = "pass"
		}
		return fmt.Sprintf("the pass program %q is not installed or not on PATH", cmd)
	}
	return s.describe("open", err)
}

// noBusReason says why the library found no D-Bus session bus at startup.
func noBusReason() string {
	addr := os.Getenv("DBUS_SESSION_BUS_ADDRESS")
	if addr == "" || addr == busDisabled || addr == "autolaunch:" {
		return "no D-Bus session bus (DBUS_SESSION_BUS_ADDRESS is unset or disabled: and none was found); run in a desktop session, or start a bus with dbus-run-session"
	}
	return "cannot connect to the D-Bus session bus named by DBUS_SESSION_BUS_ADDRESS; is it running?"
}

// busDisabled is the address busguard sets when there is no bus.
const busDisabled = "disabled:"

func getenv(name string) string { return os.Getenv(name) }
