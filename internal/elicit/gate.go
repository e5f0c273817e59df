package elicit

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"time"

	"github.com/google/jsonschema-go/jsonschema"
	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// DefaultTTL is how long a question may wait for its answer.
const DefaultTTL = 10 * time.Minute

// inputKey names the question in InputRequests; the client echoes it back.
const inputKey = "confirm"

// Verdict is what became of a confirmation.
type Verdict int

// The verdicts Confirm returns.
const (
	// Ask: the question must go to the human; return Outcome.Result as is.
	Ask Verdict = iota
	// Accepted: the human said yes to this exact request.
	Accepted
	// Declined: the human said no.
	Declined
	// Cancelled: the human dismissed the question.
	Cancelled
	// Unsupported: the client cannot ask its human; refuse.
	Unsupported
	// Refused: an answer came that does not belong to a question this server
	// asked for this request (forged, replayed, expired or for other arguments).
	Refused
)

func (v Verdict) String() string {
	switch v {
	case Ask:
		return "ask"
	case Accepted:
		return "accepted"
	case Declined:
		return "declined"
	case Cancelled:
		return "cancelled"
	case Unsupported:
		return "unsupported"
	case Refused:
		return "refused"
	}
	return "unknown"
}

// Question is what the human is asked to confirm.
type Question struct {
	// Action is a short verb for the log and the token, e.g. "reveal", "delete".
	Action string
	// Binding identifies the exact request being confirmed: the tool and its
	// effective arguments (for example the names to delete). An answer is only
	// accepted on a call with the same binding. It must not contain values.
	Binding string
	// Message is shown to the human.
	Message string
	// Label is the title of the confirmation checkbox, e.g. "Delete 3 credentials".
	Label string
}

// Outcome is the result of Confirm.
type Outcome struct {
	Verdict Verdict
	// Result is the input-required tool result to return when Verdict is Ask.
	Result *mcp.CallToolResult
	// Reason says why an answer was Refused, for the tool error.
	Reason string
}

// Gate issues confirmation questions and checks their answers. It is safe
// for concurrent use. Each server has its own Gate; tokens from one are
// worthless to another.
type Gate struct {
	key []byte
	ttl time.Duration
	now func() time.Time

	mu   sync.Mutex
	used map[string]int64 // nonce -> expiry (Unix seconds), so replays are refused until they expire anyway
}

// NewGate returns a Gate with a fresh random key. ttl <= 0 means DefaultTTL;
// now == nil means time.Now.
func NewGate(ttl time.Duration, now func() time.Time) *Gate {
	if ttl <= 0 {
		ttl = DefaultTTL
	}
	if now == nil {
		now = time.Now
	}
	return &Gate{key: randomBytes(32), ttl: ttl, now: now, used: make(map[string]int64)}
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on supported platforms
	return b
}

// SupportsForm reports whether the client behind req declared form-mode
// elicitation. A client that declared elicitation with no modes is taken to
// support form mode, as the specification says.
func SupportsForm(req *mcp.CallToolRequest) bool {
	return supportsForm(req.ClientCapabilities())
}

func supportsForm(caps *mcp.ClientCapabilities) bool {
	if caps == nil || caps.Elicitation == nil {
		return false
	}
	e := caps.Elicitation
	return e.Form != nil || e.URL == nil
}

// Confirm decides what to do with a call that needs the human's yes: ask,
// or act on the answer the call carries.
func (g *Gate) Confirm(req *mcp.CallToolRequest, q Question) Outcome {
	if !SupportsForm(req) {
		return Outcome{Verdict: Unsupported}
	}
	p := req.Params
	if len(p.InputResponses) == 0 && p.RequestState == "" {
		return Outcome{Verdict: Ask, Result: g.ask(q)}
	}
	if p.RequestState == "" {
		return Outcome{Verdict: Refused, Reason: "the call carries an answer to a question this server did not ask"}
	}
	if reason := g.redeem(p.RequestState, q); reason != "" {
		return Outcome{Verdict: Refused, Reason: reason}
	}
	res, ok := p.InputResponses[inputKey].(*mcp.ElicitResult)
	if !ok || res == nil {
		return Outcome{Verdict: Refused, Reason: "the call carries no answer to the confirmation question"}
	}
	switch res.Action {
	case "accept":
		if confirmed, ok := res.Content[inputKey].(bool); ok && !confirmed {
			return Outcome{Verdict: Declined}
		}
		return Outcome{Verdict: Accepted}
	case "decline":
		return Outcome{Verdict: Declined}
	case "cancel":
		return Outcome{Verdict: Cancelled}
	default:
		return Outcome{Verdict: Refused, Reason: "the answer's action is not accept, decline or cancel"}
	}
}

func (g *Gate) ask(q Question) *mcp.CallToolResult {
	return &mcp.CallToolResult{
		InputRequests: mcp.InputRequestMap{
			inputKey: &mcp.ElicitParams{
				Mode:    "form",
				Message: q.Message,
				RequestedSchema: &jsonschema.Schema{
					Type: "object",
					Properties: map[string]*jsonschema.Schema{
						inputKey: {
							Type:        "boolean",
							Title:       q.Label,
							Description: "Leave ticked and accept to go ahead; untick or decline to stop.",
							Default:     json.RawMessage("true"),
						},
					},
				},
			},
		},
		RequestState: g.issue(q),
	}
}

// token is the signed payload of RequestState. It holds no value.
type token struct {
	Action  string `json:"a"`
	Binding string `json:"b"` // hex SHA-256 of Question.Binding
	Nonce   string `json:"n"`
	Expires int64  `json:"e"` // Unix seconds
}

func digest(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

func (g *Gate) sign(payload []byte) []byte {
	m := hmac.New(sha256.New, g.key)
	m.Write(payload)
	return m.Sum(nil)
}

func (g *Gate) issue(q Question) string {
	payload, _ := json.Marshal(token{
		Action:  q.Action,
		Binding: digest(q.Binding),
		Nonce:   hex.EncodeToString(randomBytes(16)),
		Expires: g.now().Add(g.ttl).Unix(),
	})
	enc := base64.RawURLEncoding
	return enc.EncodeToString(payload) + "." + enc.EncodeToString(g.sign(payload))
}

// redeem checks a token against q and spends it. It returns why the token
// is refused, or "" if it is good.
func (g *Gate) redeem(state string, q Question) string {
	const forged = "the confirmation token is not one this server issued"
	enc := base64.RawURLEncoding
	p64, m64, ok := strings.Cut(state, ".")
	if !ok {
		return forged
	}
	payload, err1 := enc.DecodeString(p64)
	mac, err2 := enc.DecodeString(m64)
	if err := errors.Join(err1, err2); err != nil || !hmac.Equal(mac, g.sign(payload)) {
		return forged
	}
	var t token
	if err := json.Unmarshal(payload, &t); err != nil {
		return forged
	}
	now := g.now()
	if now.Unix() > t.Expires {
		return "the confirmation expired"
	}
	if t.Action != q.Action || t.Binding != digest(q.Binding) {
		return "the confirmation was given for a different request"
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	for n, exp := range g.used {
		if now.Unix() > exp {
			delete(g.used, n)
		}
	}
	if _, spent := g.used[t.Nonce]; spent {
		return "the confirmation was already used"
	}
	g.used[t.Nonce] = t.Expires
	return ""
}

// Issue returns a signed, single-use, expiring RequestState for a question
// the caller asks itself (for example a URL-mode elicitation): action names
// the kind of question and binding the exact request, as in [Question].
func (g *Gate) Issue(action, binding string) string {
	return g.issue(Question{Action: action, Binding: binding})
}

// Redeem checks and spends a RequestState from Issue for the same action
// and binding. It returns why the state is refused, or "" if it is good.
func (g *Gate) Redeem(state, action, binding string) string {
	return g.redeem(state, Question{Action: action, Binding: binding})
}

// SupportsURL reports whether the client behind req declared URL-mode
// elicitation, so it can show the person a link the server chose.
func SupportsURL(req *mcp.CallToolRequest) bool {
	caps := req.ClientCapabilities()
	return caps != nil && caps.Elicitation != nil && caps.Elicitation.URL != nil
}
