// Package elicit asks the human, through MCP elicitation, to confirm an
// action the model requested (revealing a value, deleting credentials), and
// makes sure the answer it acts on is the answer to the question it asked.
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
package elicit
