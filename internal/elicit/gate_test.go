package elicit

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// redeem is the heart of the gate: these cases do not need a session.
func TestRedeem(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	g := NewGate(time.Minute, func() time.Time { return now })
	q := Question{Action: "delete", Binding: "clear_credentials\x00a\x00b"}
	tok := g.issue(q)

	if strings.Contains(tok, "clear_credentials") || strings.Contains(tok, "\x00a") {
		t.Error("the token carries the binding in clear")
	}
	other := NewGate(time.Minute, func() time.Time { return now })
	payload, mac, _ := strings.Cut(tok, ".")
	raw, _ := base64.RawURLEncoding.DecodeString(payload)
	var parsed token
	_ = json.Unmarshal(raw, &parsed)
	parsed.Expires += 3600
	longer, _ := json.Marshal(parsed)
	tampered := base64.RawURLEncoding.EncodeToString(longer) + "." + mac

	for _, c := range []struct {
		name  string
		gate  *Gate
		state string
		q     Question
		want  string
	}{
		{"another server's token", other, tok, q, "not one this server issued"},
		{"tampered expiry", g, tampered, q, "not one this server issued"},
		{"garbage", g, "not-a-token", q, "not one this server issued"},
		{"bad base64", g, "!!!.???", q, "not one this server issued"},
		{"other action", g, tok, Question{Action: "reveal", Binding: q.Binding}, "different request"},
		{"other names", g, tok, Question{Action: "delete", Binding: "clear_credentials\x00a"}, "different request"},
	} {
		if got := c.gate.redeem(c.state, c.q); !strings.Contains(got, c.want) {
			t.Errorf("%s: redeem = %q, want %q", c.name, got, c.want)
		}
	}
	if got := g.redeem(tok, q); got != "" {
		t.Fatalf("the genuine token was refused: %s", got)
	}
	if got := g.redeem(tok, q); !strings.Contains(got, "already used") {
		t.Errorf("second use: %q", got)
	}
	late := g.issue(q)
	now = now.Add(61 * time.Second)
	if got := g.redeem(late, q); !strings.Contains(got, "expired") {
		t.Errorf("after the TTL: %q", got)
	}
}

func TestSupportsForm(t *testing.T) {
	for _, c := range []struct {
		caps *mcp.ClientCapabilities
		want bool
	}{
		{nil, false},
		{&mcp.ClientCapabilities{}, false},
		{&mcp.ClientCapabilities{Elicitation: &mcp.ElicitationCapabilities{}}, true},
		{&mcp.ClientCapabilities{Elicitation: &mcp.ElicitationCapabilities{Form: &mcp.FormElicitationCapabilities{}}}, true},
		{&mcp.ClientCapabilities{Elicitation: &mcp.ElicitationCapabilities{URL: &mcp.URLElicitationCapabilities{}}}, false},
	} {
		if got := supportsForm(c.caps); got != c.want {
			t.Errorf("supportsForm(%+v) = %v, want %v", c.caps, got, c.want)
		}
	}
}
