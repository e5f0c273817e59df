// Package server is the MCP side of mcp-secrets: the four credential tools,
// their annotations and schemas, and the policy that decides what may be
// revealed and what needs the human's confirmation.
//
// The tools are list_stored_credentials, store_credential,
// retrieve_credential and clear_credentials (one file each). Storage is
// behind a small interface that *backend.Catalog satisfies; confirmation is
// asked through an *elicit.Gate. store_credential without a value lets the
// person type the secret on a one-time local page (an *elicit.EntryServer,
// store_entry.go): the link goes out by URL-mode elicitation, or as text to
// a client without it, and the value never passes through MCP. Nothing here
// writes to stdout: the SDK's transport owns it.
//
// Tool handlers decode their own arguments, so that no error text can quote
// a value the model sent (the SDK's schema validation errors may).
package server
