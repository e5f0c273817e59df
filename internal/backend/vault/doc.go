// Package vault is a backend.Store kept in a HashiCorp Vault (or OpenBao)
// KV version 2 secrets engine, through Vault's official Go client
// (github.com/hashicorp/vault/api).
//
//	s, err := vault.New(ctx, vault.Options{
//		Mount:      "secret",
//		PathPrefix: "mcp/mcp-secrets",
//		Namespace:  backend.Namespace("mcp-secrets"),
//	})
//
// # Connecting
//
// The address, token and Vault Enterprise namespace come from VAULT_ADDR
// (or VAULT_AGENT_ADDR), VAULT_TOKEN and VAULT_NAMESPACE, read through
// Options.Env (os.Getenv unless a test injects another). TLS settings
// (VAULT_CACERT, VAULT_CAPATH, VAULT_CLIENT_CERT, VAULT_CLIENT_KEY,
// VAULT_SKIP_VERIFY, VAULT_TLS_SERVER_NAME) are read by the client library
// from the process environment, as api.DefaultConfig does. Without
// VAULT_TOKEN, the store logs in with AppRole (VAULT_ROLE_ID and, unless
// the role needs none, VAULT_SECRET_ID) at auth/approle, keeps that token
// alive with an api.LifetimeWatcher, logs in again when it reaches its
// maximum TTL, and revokes it on Close; Close stops the watcher and waits
// for its goroutines. A VAULT_TOKEN is used as given: never renewed, never
// revoked. The vault CLI's token file (~/.vault-token, written by `vault
// login`) is not read: export VAULT_TOKEN="$(vault print token)" instead.
//
// New checks the token (GET auth/token/lookup-self, allowed by Vault's
// default policy; an AppRole login needs no check) and the mount (GET
// sys/internal/ui/mounts/<mount>, the vault CLI's own KV preflight): a
// mount that does not exist, lies inside another mount, is not KV, or is
// KV version 1 is refused with a message saying what to do. KV version 1
// is not supported: it has no check-and-set, versions or metadata, on
// which creating safely and clearing depend (`vault kv enable-versioning`
// upgrades a mount in place).
//
// # Layout
//
// Each credential is one secret at <mount>/data/<prefix>/<name>. Its data
// map holds the value in a form a person browsing Vault can read, and the
// exact record:
//
//   - a string: {"value": "the string", ...}
//   - an object: its own top-level fields ({"user": "ada", "port": 5432,
//     ...}), or {"value": {...}} if one of its keys is "mcp-secrets-record"
//   - an array: {"value": [...]}
//   - always "mcp-secrets-record": base64 of backend.Marshal(record) (kind,
//     description, created and updated times, value). It is authoritative:
//     Get returns exactly the kind and bytes Set was given, whatever JSON
//     does to numbers or key order elsewhere. Editing the readable fields
//     in Vault does not change what Get returns.
//
// The secret's custom_metadata gets "mcp-secrets.kind",
// "mcp-secrets.description" (unprintable characters made spaces, cut to
// Vault's 512-byte limit; the record keeps it whole) and
// "mcp-secrets.namespace" (Options.Namespace); other keys a person set are
// kept. A secret that a person wrote under the prefix without a record is
// read as a string if its only field is a string "value", else as an
// object of its fields, dated by its version's creation time.
//
// Names are backend store names (letters, digits, '.', '_', '-'), so paths
// need no escaping; Options.Mount and Options.PathPrefix are held to the
// same characters, segment by segment, with no "." or ".." segment.
//
// # Requests
//
// Every request goes to the mount under the prefix and nowhere else:
//
//	Get     GET    <mount>/data/<prefix>/<name>                404: ErrNotFound
//	Set     GET    <mount>/metadata/<prefix>/<name>            current version, custom_metadata
//	        PUT    <mount>/data/<prefix>/<name>                {"options":{"cas":N},"data":{...}}
//	        PUT    <mount>/metadata/<prefix>/<name>            {"custom_metadata":{...}}, when it changes
//	Delete  GET    <mount>/metadata/<prefix>/<name>            404: ErrNotFound
//	        DELETE <mount>/metadata/<prefix>/<name>            all versions and the metadata
//	List    LIST   <mount>/metadata/<prefix>/                  sent as GET ?list=true; 404: empty
//
// (Vault treats PUT and POST alike; the official client sends PUT. The
// client drops the listing's trailing slash and Vault puts it back on every
// list request, so a sibling prefix such as mcp/x-other is never listed.) List
// reads one listing, never a secret: folders ("sub/") and keys that are
// not valid store names are left out. A secret whose latest version was
// soft-deleted (vault kv delete) still lists, and Get of it gives
// ErrNotFound, until Set writes a new version or Delete removes it.
//
// Set writes a name that has no metadata with cas=0, so that of two writers
// creating the same name (two processes, two machines) exactly one
// succeeds; the other gets an error wrapping backend.ErrExists. An update
// carries cas set to the version just read (which also satisfies mounts
// with cas_required); when another writer got in between, Set reads again
// and retries, up to three attempts, as an update was asked for. Within
// one Store, writes of a name are serialized. Older versions stay in Vault
// as the mount's max_versions allows until Delete removes them all.
//
// # Failures
//
// Every failure wraps a backend sentinel and names the operation; Vault's
// error messages and response bodies are only matched, never passed on, as
// a 400 can quote the request and so a value. A 403 names the capability
// and path the token's policy lacks ("permission denied: the token's
// policy needs create on secret/data/mcp/x/NAME"), unless Vault says
// "invalid token" or the token fails auth/token/lookup-self, which is
// reported as an invalid or expired token. A sealed Vault (503), an
// unreachable one, a TLS certificate that is not trusted, an https://
// address for a plain-HTTP server and a missing mount each get their own
// sentence; all wrap backend.ErrUnavailable. Each request is bounded by
// Options.Timeout (default 15s), and failed requests are not retried
// unless VAULT_MAX_RETRIES asks for it, so a dead Vault is reported at
// once rather than after seconds of back-off.
//
// A value may be at most MaxValueSize (64 KiB) bytes: the largest that fits,
// kept twice, in the smallest storage entry Vault's documentation gives
// (Consul's 512 KiB). The Catalog splits its index to fit.
//
// # Where the behaviour comes from
//
// The endpoints, payloads and answers follow HashiCorp's KV version 2 API
// documentation (developer.hashicorp.com/vault/api-docs/secret/kv/kv-v2),
// the KV plugin's source for the exact error texts ("check-and-set parameter
// did not match the current version", "check-and-set parameter required for
// this call", custom_metadata limits; vault-plugin-secrets-kv path_data.go
// and path_metadata.go), the internal UI mounts page
// (api-docs/system/internal-ui-mounts) and the vault CLI's KV preflight
// (command/kv_helpers.go), the token concepts page for 403 "permission
// denied" with "invalid token", and the limits page
// (docs/internals/limits). The tests run against an in-process fake of
// that API (fake_test.go); TestConformanceRealVault runs the same suite
// against a real server when VAULT_ADDR is set.
package vault
