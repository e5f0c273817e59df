// Package file is a [backend.Store] that keeps each credential in its own
// encrypted file in one directory per namespace, for machines without a
// usable OS keyring.
//
//	s, err := file.Open(file.Options{
//		Dir:        dataDir + "/com.mcp.NAME",
//		Passphrase: os.Getenv(file.PassphraseEnv),
//		KeyFile:    configDir + "/com.mcp.NAME.key",
//	})
//
// # Format
//
// The directory holds:
//
//   - keyinfo.json: written once, when the store is created. It records the
//     format version, the key mode ("passphrase" or "keyfile"), for a
//     passphrase the argon2id parameters and random salt, and a verifier: a
//     known text sealed with the key, so that Open can tell a wrong key from
//     a damaged record before touching anything.
//   - one file per credential, named by the credential's name in lowercase
//     base32 without padding plus ".cred". The names are all lowercase, so
//     "Case" and "case" stay apart on case-insensitive file systems, and a
//     128-byte name gives a 210-byte file name. A name is encoded, not
//     encrypted: anyone who can list the directory can read the names.
//     Each file is "MCPSREC1", a random 12-byte nonce, then the AES-256-GCM
//     sealing of [backend.Marshal] of the record (value, description and
//     times). The additional data binds the file to its credential name, so
//     a file copied or renamed onto another name fails to decrypt and Get
//     reports [ErrDamaged] instead of returning the other credential.
//   - .lock, a lock file taken only while keyinfo.json is being created.
//
// Anything else in the directory (temporary files, a person's notes, a file
// whose name is not the canonical encoding of a valid name) is ignored by
// List and never touched, with one exception: a temporary file of this
// store's own naming (".tmp-" and digits) that is over an hour old was left
// by a process that died mid-write, and Open removes it.
//
// # Keys
//
// With a passphrase (MCP_SECRETS_FILE_PASSPHRASE, see [PassphraseEnv]) the
// key is derived with argon2id (four passes over 9 MiB, one lane: one of
// OWASP's recommended settings, about 20 ms per Open on a small VM) and a
// 16-byte random salt. The parameters are read back from keyinfo.json, so
// they can be raised for new stores without breaking old ones. Without a
// passphrase, a random 32-byte key is generated on first use into
// Options.KeyFile (mode 0600, its directory created 0700 if missing), and
// keyinfo.json records that the store uses a key file. A key file that
// others may read (any group or other permission bit) is refused, as ssh
// refuses a private key.
//
// Open fails, wrapping [backend.ErrUnavailable] and changing no record, key
// or keyinfo.json, when the passphrase is wrong, when a passphrase store is
// opened without one or a key-file store with one, when the key file is
// missing, unreadable, too open or not 32 bytes, and when the directory
// holds records but no keyinfo.json (a new salt would strand them). Each
// message says what to do.
//
// # Threat model
//
// The store protects values and descriptions against someone who obtains a
// copy of the data directory alone: a backup, a synced folder, a stolen
// disk image without the rest of the home directory. With a key file, that
// is all it protects against: anyone who can read the user's config
// directory (the user's own processes, root, a full-home backup) has the key.
// A passphrase is stronger, as the key then exists only in the memory of the
// process that was given it, but it is only as good as the passphrase and
// wherever the environment variable is kept. Nothing here protects against
// code running as the user while the store is open. Names are not secret.
// Someone who can write the directory can delete records or put back an
// older file for the same name (there is no rollback protection); they
// cannot forge or alter a record without the key.
//
// # Writes and concurrency
//
// A write goes to a temporary file (mode 0600) in the same directory, is
// synced, renamed over the record and the directory synced, so a reader in
// this or another process sees the old record or the new one, never a mix,
// and a failed write (disk full, read-only file system) leaves the old
// record in place and no temporary file behind. Concurrent writers of one
// name in any number of processes end with one of their records intact.
//
// # Permissions
//
// Records, keyinfo.json and the key file are created 0600. The directory is
// created 0700; an existing one that grants group or other access is
// tightened to owner-only access by Open, since it is this store's own
// namespace directory. Windows has no Unix permission bits, so these checks
// are skipped there.
package file
