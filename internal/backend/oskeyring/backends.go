package oskeyring

import (
	"runtime"

	"github.com/99designs/keyring"
)

// kind is what this package knows about one 99designs backend.
type kind struct {
	name  string // the 99designs name, as in Names
	title string // for messages
	// prefixed: the keyring is shared with other applications and the
	// library does not scope keys, so every key carries "NAMESPACE/".
	prefixed bool
	// maxData caps the bytes of one item's data; 0 means no cap of note.
	maxData int
	// removeIgnoresMissing: the library's Remove succeeds on a missing key.
	removeIgnoresMissing bool
	// stallHint says what usually makes a call hang.
	stallHint string
}

// Per-item size limits.
const (
	// WinCredMaxBlob is Windows Credential Manager's limit on a credential
	// blob (CRED_MAX_CREDENTIAL_BLOB_SIZE, 5*512 bytes).
	WinCredMaxBlob = 2560
	// KeyctlMaxPayload is the kernel's limit on a "user" key's payload.
	KeyctlMaxPayload = 32767
)

func kindOf(name string) kind {
	switch keyring.BackendType(name) {
	case keyring.SecretServiceBackend:
		// The login collection is shared; Keys lists every item's label.
		return kind{name: name, title: "the Secret Service", prefixed: true, removeIgnoresMissing: true,
			stallHint: "the keyring may be locked and waiting at an unlock prompt"}
	case keyring.KWalletBackend:
		// Scoped by a wallet folder named after the namespace.
		return kind{name: name, title: "KWallet", removeIgnoresMissing: true,
			stallHint: "the wallet may be waiting at an unlock or access prompt"}
	case keyring.KeychainBackend:
		// Scoped by the keychain service attribute.
		return kind{name: name, title: "the macOS Keychain",
			stallHint: "the keychain may be waiting at an unlock or access prompt"}
	case keyring.WinCredBackend:
		// Scoped by target names "keyring:NAMESPACE:NAME".
		return kind{name: name, title: "Windows Credential Manager", maxData: WinCredMaxBlob}
	case keyring.PassBackend:
		// Scoped by a subdirectory of the password store.
		return kind{name: name, title: "pass",
			stallHint: "gpg may be waiting for the key's passphrase (pinentry)"}
	case keyring.KeyCtlBackend:
		// Scoped by a named keyring inside the user keyring.
		return kind{name: name, title: "the kernel keyring (keyctl)", maxData: KeyctlMaxPayload}
	case keyring.FileBackend:
		// The directory may be shared (other tools use the same layout).
		return kind{name: name, title: "the file keyring", prefixed: true}
	}
	return kind{name: name, title: name}
}

// notBuiltIn says why a backend is missing from this build or system.
func notBuiltIn(name string) string {
	switch keyring.BackendType(name) {
	case keyring.SecretServiceBackend, keyring.KWalletBackend:
		if runtime.GOOS != "linux" {
			return "only available on Linux"
		}
		if name == string(keyring.KWalletBackend) && getenv("DISABLE_KWALLET") == "1" {
			return "disabled by DISABLE_KWALLET=1"
		}
		return noBusReason()
	case keyring.KeychainBackend:
		if runtime.GOOS != "darwin" {
			return "only available on macOS"
		}
		return "this binary was built without cgo, which the Keychain needs"
	case keyring.WinCredBackend:
		return "only available on Windows"
	case keyring.KeyCtlBackend:
		return "only available on Linux"
	case keyring.PassBackend:
		return "not available on Windows"
	}
	return "not available"
}
