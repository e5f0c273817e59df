// Package oskeyring is a backend.Store in the operating system's keyring,
// through github.com/99designs/keyring:
//
//	s, err := oskeyring.Open(ctx, oskeyring.Options{
//		Backend:   "secret-service",
//		Namespace: backend.Namespace("mcp-secrets"),
//	})
//
// [Probe] checks that a keyring really works (it writes, reads back and
// deletes an item named [ProbePrefix] plus random hex) and names the
// backend that did; --backend auto uses it to choose between the keyring
// and the encrypted file store. [Names] lists the backends Options.Backend
// accepts.
//
// # Backends and namespacing
//
// A Store never reads, lists or deletes another application's items: every
// key it builds lies inside the namespace, so a foreign item cannot be
// named, and List drops anything outside it (and any key that is not a
// valid name).
//
//   - secret-service (Linux: GNOME Keyring, KeePassXC, KWallet's Secret
//     Service): items in the "login" collection (Options.Collection),
//     which every application shares. Keys are "NAMESPACE/NAME", stored
//     by the library as the item label and its "profile" attribute. Get
//     and Delete find items by that attribute; List reads it too (the
//     library's Keys would list labels, which anyone can set).
//   - kwallet (Linux): the default wallet "kdewallet", in a folder named
//     after the namespace; keys are bare names.
//   - keychain (macOS, cgo builds only): generic passwords whose service is
//     the namespace and whose account is the name.
//   - wincred (Windows): credentials named "keyring:NAMESPACE:NAME".
//   - pass (not Windows): entries NAMESPACE/NAME in the password store,
//     one subdirectory per namespace.
//   - keyctl (Linux): "user" keys in a keyring named after the namespace,
//     inside the user keyring (@u). The kernel forgets them at reboot.
//   - file: the library's encrypted files (JWE, PBES2) in Options.FileDir,
//     named NAMESPACE%2FNAME, since the directory may be shared.
//
// With Options.Backend "" a Store tries wincred, keychain, secret-service,
// kwallet and pass in that order and takes the first that opens. keyctl
// (not persistent) and file (the command has its own encrypted file store)
// are used only when asked for by name.
//
// # Values and limits
//
// Records are encoded with backend.Marshal. Windows Credential Manager
// holds at most [WinCredMaxBlob] bytes per credential and the kernel at
// most [KeyctlMaxPayload] bytes per key; a larger record is refused with
// backend.ErrTooLarge before anything is written. keyctl also has a
// per-user quota (/proc/sys/kernel/keys/maxbytes, 20000 bytes by default
// for users other than root); a full quota is ErrTooLarge too. The library
// wraps items in JSON for secret-service, kwallet, pass and file, so an
// item someone stored there by hand under our namespace cannot be read;
// on keyctl, wincred and keychain it reads as a string.
//
// # Errors and timeouts
//
// A missing item is backend.ErrNotFound on every backend (the library
// reports it as ErrKeyNotFound, a raw "no such file" error, ENOKEY, or a
// failed pass command). Everything else wraps backend.ErrUnavailable with
// a message naming the backend and what to do. Library error text is never
// passed on unless its type shows it cannot hold a value (D-Bus error
// names, errnos, paths, exit statuses).
//
// The library takes no context and can wait forever at an unlock prompt, so
// every call runs in a goroutine bounded by the context and
// Options.Timeout (default [DefaultTimeout]); when either ends the call
// gives up with ErrUnavailable, leaving the library call running. Calls
// into one Store run one at a time, so a hung call makes the ones behind it
// time out too until it returns.
//
// # What the user must have
//
//   - secret-service: a D-Bus session bus with a Secret Service on it and
//     an unlocked collection (a desktop login unlocks "login"). The
//     collection must exist: creating one needs a desktop prompt. Probe
//     reports a locked collection at once; Get, Set and List ask the
//     service to unlock it, which on a desktop shows a prompt and headless
//     fails.
//   - kwallet: kwalletd running with an open (or openable) default wallet.
//   - pass: pass and gpg installed, the store initialised (pass init), and
//     the key usable without a prompt (gpg-agent has the passphrase, or the
//     key has none): the server cannot answer pinentry. pass's and gpg's
//     own messages go to standard error.
//   - keyctl: a kernel that allows keyctl (many containers forbid it).
//   - file: Options.FileDir and Options.FilePassphrase.
//
// # D-Bus at startup
//
// The library connects to the session bus in its package init. Package
// busguard, imported here for its side effect, runs first and makes sure
// that, with no bus to be found, this fails fast instead of starting a
// dbus-daemon that outlives the program. With no bus, secret-service and
// kwallet are unavailable for the life of the process.
package oskeyring
