// Package elicit holds the human-in-the-loop flows: confirming an action the
// model requested (revealing a value, deleting credentials), and letting the
// person type a credential without it passing through MCP.
//
// # Confirmations
//
// A [Gate] uses the multi-round-trip form of elicitation (SEP-2322): the
// tool handler returns a result carrying the question in InputRequests and a
// token in RequestState, and is called again with the answer. For clients on
// protocol versions before 2026-07-28 the go-sdk turns this into an
// elicitation/create request, so one handler serves every client.
//
// The token is the only thing that makes an answer count. It is signed
// (HMAC-SHA256 with a per-process random key), bound to the exact request
// (a digest of the action and its arguments), expires, and is accepted once.
// So an answer pre-filled by a client on its first call, replayed from an
// earlier call, or carried over to a different request is refused. The token
// carries no credential value: the client and the model can read it.
//
// A client that has not declared elicitation support is refused outright
// (fail closed); nothing is deleted or revealed.
//
// # Secure entry
//
// An [EntryServer] serves one-time pages on http://127.0.0.1:PORT (a random
// port, listening only while an entry waits) on which the person types a
// credential; the page's submission goes through a [SaveFunc] straight into
// the store. The link carries a random 256-bit token, never a value, and
// works once, for [EntryTTL]. The page shows a short verification code that
// the server also puts in its message, so the person can tell it is the page
// their assistant asked for. The page answers only to the Host names
// 127.0.0.1:PORT and localhost:PORT (DNS rebinding), takes a POST only from
// its own origin (Origin, Sec-Fetch-Site: CSRF), loads nothing and cannot be
// framed (Content-Security-Policy), and is never cached.
//
// The server shows the link with URL-mode elicitation when the client
// declared it ([SupportsURL]), and otherwise returns it as text.
package elicit
