package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcp-secrets/mcp-secrets/internal/backend"
	"github.com/mcp-secrets/mcp-secrets/internal/backend/memory"
	"github.com/mcp-secrets/mcp-secrets/internal/elicit"
)

// fzInput is the marker the fuzz corpus puts into arguments. When it sits
// only inside a "value" it is a secret being stored, and no answer may
// quote it; names, field names, descriptions and keys may be echoed.
const fzInput = "FZCANARY-5e0c9b"

// fzStored is stored before every call. Only a reveal that the policy and
// the human allowed may return it.
const fzStored = "FZSTORED-secret-52ab9d"

// fzTools are called by index; the last one does not exist.
var fzTools = []string{"store_credential", "retrieve_credential", "list_stored_credentials", "clear_credentials", "no_such_tool"}

var fzPolicies = []Reveal{RevealNever, RevealConfirm, RevealAlways}

// fzAnswers are the human's answers; "" is a client without elicitation.
var fzAnswers = []string{"accept", "decline", "cancel", ""}

var fzVersions = []string{"2025-06-18", "2025-11-25", "2026-07-28"}

// FuzzToolArguments sends arbitrary bytes as the arguments of each tool,
// through a real client and server session (in memory), under every
// reveal policy, human answer and protocol version (chosen by mode). It
// proves that for any input:
//   - the server neither panics nor hangs, and the answer is a tool result
//     or a JSON-RPC error;
//   - the stored secret appears only in a reveal the policy and the human
//     allowed, and a marker inside a "value" argument in no answer at all;
//   - a call that fails, reads, or deletes without the human's yes leaves
//     the store exactly as it was;
//   - decodeArgs and parseValue (what every call goes through) never panic
//     and never quote a value, even for bytes no client could send.
func FuzzToolArguments(f *testing.F) {
	for _, s := range []struct {
		tool, mode uint8
		args       string
	}{
		{0, 2, `{"name":"a","value":"` + fzInput + `"}`},
		{0, 2, `{"name":"a","value":{"user":"u","password":"` + fzInput + `"},"description":"d"}`},
		{0, 2, `{"name":"tok","value":["` + fzInput + `"],"overwrite":true}`},
		{0, 2, `{"name":"tok","value":"` + fzInput + `"}`},
		{0, 1, `{"name":"../x","value":"` + fzInput + `"}`},
		{0, 1, `{"name":"__x","value":"` + fzInput + `"}`},
		{0, 1, `{"name":"a","value":1e999}`},
		{0, 1, `{"name":"a","value":"` + fzInput + `","overwrite":"` + fzInput + `"}`},
		{0, 1, `{"name":"a","value":"` + fzInput + `","extra":"` + fzInput + `"}`},
		{0, 1, `{"name":"a","value":{"a":"` + fzInput + `"`},
		{0, 1, `{"name":"a","value":"\ud800` + fzInput + `"}`},
		{0, 1, `{"name":"a","value":"` + fzInput + `","description":{"x":"` + fzInput + `"}}`},
		{0, 1, `["` + fzInput + `"]`},
		{0, 1, `"` + fzInput + `"`},
		{0, 1, `null`},
		{0, 1, `{"name":"a","Value":"` + fzInput + `","VALUE":"x"}`},
		{1, 2, `{"name":"tok","reveal":true}`},
		{1, 1, `{"name":"db","field":"password","reveal":true}`},
		{1, 4, `{"name":"db","field":"password","reveal":true}`},
		{1, 13, `{"name":"tok","reveal":true}`},
		{1, 25, `{"name":"tok","reveal":true}`},
		{1, 0, `{"name":"tok","reveal":1}`},
		{1, 0, `{"name":"tok","field":"nope"}`},
		{1, 0, `{"name":"tok","field":"x","reveal":"` + fzInput + `"}`},
		{2, 0, `{}`},
		{2, 0, `{"x":1}`},
		{3, 1, `{"names":["tok"]}`},
		{3, 4, `{"all":true}`},
		{3, 1, `{"names":["tok",{"v":"` + fzInput + `"}]}`},
		{3, 1, `{"names":[],"all":false}`},
		{4, 0, `{}`},
	} {
		f.Add(s.tool, s.mode, []byte(s.args))
	}
	// Every policy, answer and protocol version for the calls that need
	// the human.
	for mode := range uint8(36) {
		f.Add(uint8(1), mode, []byte(`{"name":"tok","reveal":true}`))
		f.Add(uint8(1), mode, []byte(`{"name":"db","field":"password","reveal":true}`))
		f.Add(uint8(3), mode, []byte(`{"all":true}`))
	}
	f.Fuzz(func(t *testing.T, tool, mode uint8, args []byte) {
		fzDirect(t, args)
		if !json.Valid(args) {
			return // no client can send it; the JSON-RPC layer refuses it
		}
		name := fzTools[int(tool)%len(fzTools)]
		policy := fzPolicies[int(mode)%3]
		answer := fzAnswers[int(mode)/3%4]
		version := fzVersions[int(mode)/12%3]
		fzCall(t, name, policy, answer, version, args)
	})
}

// fzDirect feeds args to decodeArgs for every tool's input and the value
// to parseValue.
func fzDirect(t *testing.T, args []byte) {
	echo := fzEchoable(args)
	check := func(where string, err error) {
		if err != nil && !echo && strings.Contains(err.Error(), fzInput) {
			t.Fatalf("%s quotes a value: %q", where, err)
		}
	}
	var st storeIn
	err := decodeArgs(args, &st)
	check("decodeArgs(store_credential)", err)
	if err == nil {
		_, err = parseValue(st.Value)
		check("parseValue", err)
	}
	check("decodeArgs(retrieve_credential)", decodeArgs(args, new(retrieveIn)))
	check("decodeArgs(clear_credentials)", decodeArgs(args, new(clearIn)))
	check("decodeArgs(list_stored_credentials)", decodeArgs(args, new(listIn)))
}

// fzEchoable reports whether fzInput occurs in args somewhere a message may
// quote it: anywhere but inside a "value" (matched as encoding/json
// matches field names, ignoring case).
func fzEchoable(args []byte) bool {
	var m map[string]any
	if err := json.Unmarshal(args, &m); err != nil {
		return false // not an object: nothing in it may be quoted
	}
	for k := range m {
		if strings.EqualFold(k, "value") {
			delete(m, k)
		}
	}
	return strings.Contains(fzDecoded(m), fzInput)
}

// fzDecoded is v as JSON with strings unescaped, so that a marker written
// with \u escapes is found too.
func fzDecoded(v any) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
	return b.String()
}

func fzCall(t *testing.T, tool string, policy Reveal, answer, version string, args []byte) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cat := backend.NewCatalog(memory.New(0), backend.CatalogOptions{})
	str, _ := backend.NewString(fzStored)
	obj, _ := backend.NewJSON([]byte(`{"user":"ada","password":"` + fzStored + `"}`))
	for name, v := range map[string]backend.Value{"tok": str, "db": obj} {
		if _, _, err := cat.Put(ctx, name, v, "", false); err != nil {
			t.Fatal(err)
		}
	}
	before := fzSnapshot(t, cat)

	// A store without a value opens a local entry page: close it with the call.
	entry := elicit.NewEntryServer(elicit.EntryOptions{})
	defer entry.Close()
	srv := New(cat, Options{Name: "fuzz", Version: "v0", Namespace: "com.mcp.fuzz", Reveal: policy, Gate: elicit.NewGate(0, nil), Entry: entry})
	copts := &mcp.ClientOptions{}
	if answer != "" {
		copts.ElicitationHandler = func(context.Context, *mcp.ElicitRequest) (*mcp.ElicitResult, error) {
			res := &mcp.ElicitResult{Action: answer}
			if answer == "accept" {
				res.Content = map[string]any{"confirm": true}
			}
			return res, nil
		}
	}
	st, ct := mcp.NewInMemoryTransports()
	ss, err := srv.Connect(ctx, st, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ss.Close()
	cs, err := mcp.NewClient(&mcp.Implementation{Name: "fuzz", Version: "v0"}, copts).Connect(ctx, ct, &mcp.ClientSessionOptions{ProtocolVersion: version})
	if err != nil {
		t.Fatal(err)
	}
	defer cs.Close()

	res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: tool, Arguments: json.RawMessage(args)})
	if ctx.Err() != nil {
		t.Fatalf("%s hung (policy %s, answer %q, protocol %s)", tool, policy, answer, version)
	}
	var answerText string
	failed := err != nil
	if err != nil {
		var wire *jsonrpc.Error
		if !errors.As(err, &wire) {
			t.Fatalf("%s: neither a tool result nor a JSON-RPC error: %s", tool, fzRedact(err.Error()))
		}
		answerText = err.Error()
	} else {
		data, _ := json.Marshal(res)
		answerText = string(data)
		failed = res.IsError
	}

	var decoded any
	_ = json.Unmarshal(args, &decoded)
	input := fzDecoded(decoded)
	if strings.Contains(answerText, fzInput) && !fzEchoable(args) {
		t.Fatalf("%s quotes a value from its arguments: %.300s", tool, fzRedact(answerText))
	}
	if strings.Contains(answerText, fzStored) && !strings.Contains(input, fzStored) {
		revealed := err == nil && !res.IsError && tool == "retrieve_credential" && fzRevealed(res)
		allowed := policy == RevealAlways || (policy == RevealConfirm && answer == "accept")
		if !revealed || !allowed {
			t.Fatalf("%s returned the stored value (revealed %v; policy %s, answer %q): %.300s", tool, revealed, policy, answer, fzRedact(answerText))
		}
	}
	// Only a store that succeeds, or a deletion the human accepted, changes
	// the store.
	mayChange := !failed && (tool == "store_credential" || tool == "clear_credentials" && answer == "accept")
	if after := fzSnapshot(t, cat); after != before && !mayChange {
		t.Fatalf("%s changed the store (failed %v; answer %q):\nbefore %s\nafter  %s", tool, failed, answer, fzRedact(before), fzRedact(after))
	}
}

func fzRevealed(res *mcp.CallToolResult) bool {
	var out struct {
		Revealed bool `json:"revealed"`
	}
	data, _ := json.Marshal(res.StructuredContent)
	return json.Unmarshal(data, &out) == nil && out.Revealed
}

// fzSnapshot renders every credential with its value and description.
func fzSnapshot(t *testing.T, cat *backend.Catalog) string {
	metas, err := cat.List(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, m := range metas {
		rec, err := cat.Get(context.Background(), m.Name)
		if err != nil {
			t.Fatalf("listed %q cannot be read: %v", m.Name, err)
		}
		b.WriteString(m.Name + "=" + string(rec.Value.Kind()) + ":" + rec.Value.Text() + ":" + rec.Description + ";")
	}
	return b.String()
}

func fzRedact(s string) string {
	return strings.NewReplacer(fzInput, "[input-canary]", fzStored, "[stored-canary]").Replace(s)
}
