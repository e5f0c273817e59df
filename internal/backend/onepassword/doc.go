// Package onepassword is a backend.Store that keeps each credential as an
// item in a 1Password vault, through the 1Password CLI (`op`, version 2.23.0
// or newer). It never talks to 1Password itself: every operation runs op
// with --format json and reads its JSON output, so op's own sign-in
// (the 1Password app's CLI integration, `op signin` sessions in
// OP_SESSION_*, or a service account's OP_SERVICE_ACCOUNT_TOKEN) decides
// what the store may see.
//
//	s, err := onepassword.New(ctx, onepassword.Options{
//		Vault:     "Private",
//		Namespace: backend.Namespace("mcp-secrets"),
//	})
//
// # Which items are ours
//
// Each credential is one item of category API_CREDENTIAL, titled with the
// credential's name and tagged "mcp:" + Namespace (for example
// "mcp:com.mcp.mcp-secrets"), in the one vault named by Options.Vault. An
// item is ours only if it is in that vault, carries exactly that tag and its
// title is a valid store name. op's --tags filter also returns sub-tags
// ("mcp:com.mcp.x/y"), so the tag is checked again on every item op lists;
// an item with our title but without our exact tag is never read, changed or
// deleted.
//
// A vault is required: op would create items in the account's built-in
// Private/Personal/Employee vault but list and look them up across every
// vault, and a service account has no default vault at all, so there is no
// default that means the same thing for every operation.
//
// # Item layout
//
// API_CREDENTIAL is the category 1Password offers for tokens and keys, and
// unlike Login and Password items its secret is not scored as a password by
// Watchtower. An item holds:
//
//   - credential (built-in, CONCEALED): the value as text: the string itself,
//     or the compact JSON of an object or array. `op read
//     op://VAULT/NAME/credential` therefore returns any credential whole.
//   - notesPlain (built-in notes): the credential's description.
//   - section "mcp-secrets": "kind" (STRING: string, object or array) and
//     "record" (CONCEALED): backend.Marshal of the whole record (kind,
//     description, created and updated times, value), base64-encoded so that
//     no whitespace, line ending or Unicode normalisation by a 1Password app
//     can alter it. The record is authoritative: Get returns exactly the kind
//     and bytes that Set was given. Editing the other fields in a 1Password
//     app does not change what Get returns; store a new value instead.
//   - section "Fields", for objects only: one CONCEALED field per top-level
//     key (string values as they are, other values as compact JSON), so a
//     person can copy one field. Keys that are empty are left out there.
//
// An item that a person tagged by hand, without a record, is read as a
// string: its credential (or password) field, with the item's own created
// and updated times.
//
// # The op commands run
//
// No value is ever an argument: values travel on op's standard input as an
// item JSON template. Arguments hold only the vault ID, item IDs, the tag
// and --account.
//
//	New     op --version                     (2.23.0 or newer is required)
//	        op vault get VAULT --format=json (signed in? does the vault exist?)
//	List    op item list --vault=ID --tags=TAG --format=json
//	Get     op item list ... as above, then
//	        op item get ITEM-ID --vault=ID --reveal --format=json
//	Set     op item list ... as above, then, for a new name,
//	        op item create --vault=ID --tags=TAG --format=json -   (template on stdin)
//	        or, for an existing one, an edit in place:
//	        op item edit ITEM-ID --vault=ID --tags=TAG --format=json (template piped on stdin)
//	Delete  op item list ... as above, then op item delete ITEM-ID --vault=ID
//
// Every command also gets --account=ACCOUNT when Options.Account is set.
//
// An existing item is edited in place rather than replaced: op applies a
// piped template as one new version of the item, so a failed edit leaves the
// old value whole and no second item ever exists. (Piped templates for
// `op item edit` need op 2.23.0, hence the version check; `op item get`
// conceals values in its JSON unless given --reveal since op 2.30.0.) If
// duplicates of one name exist (left by another program or a lost race
// between two processes), Get reads the most recently updated one and Set
// edits that one and then deletes the others. An item deleted by someone
// else between the listing and the edit is created anew. Within one process,
// writes of one name are serialized.
//
// # Failures
//
// op's standard error is read to classify a failure but never passed on, as
// it can quote data; neither is unparseable output. Every failure wraps a
// backend sentinel: an item op does not know is backend.ErrNotFound; op not
// installed, not signed in, a missing vault, a timeout, garbage output and
// any other failed command wrap backend.ErrUnavailable with a sentence that
// says what to do. Each op invocation is killed after Options.Timeout
// (default 30s): an op waiting on an unlock or authorization prompt in the
// 1Password app would otherwise hang the tool call.
//
// 1Password documents no size limit for an item or field, so this store
// declares none.
//
// # Where the behaviour comes from
//
// The commands, flags, piped templates, the API_CREDENTIAL category, the
// CONCEALED and STRING field types, notesPlain and the "--tags also matches
// sub-tags" rule follow op's help text and developer.1password.com/docs/cli
// (item-template-json, item-fields, reference/management-commands/item). The
// 2.23.0 minimum for piped edits is the one 1Password's own Terraform
// provider enforces (internal/onepassword/cli/op.go); the --reveal change is
// in op's 2.30.0 release notes. The error texts matched ("isn't an item",
// "isn't a vault in this account", "You are not currently signed in") are
// op's as quoted in public scripts and issue reports.
//
// The tests run against testdata/fakeop, a fake op that follows the same
// documentation; no real op can run in CI.
package onepassword
