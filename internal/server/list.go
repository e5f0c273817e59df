package server

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/google/jsonschema-go/jsonschema"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcp-secrets/mcp-secrets/internal/backend"
)

type listIn struct{}

// credentialInfo is a credential's metadata as tools show it.
type credentialInfo struct {
	Name        string       `json:"name" jsonschema:"the credential's name"`
	Kind        backend.Kind `json:"kind" jsonschema:"string, object or array"`
	Fields      []string     `json:"fields,omitempty" jsonschema:"top-level field names of an object credential"`
	Size        int          `json:"size" jsonschema:"size of the value in bytes"`
	Description string       `json:"description,omitempty" jsonschema:"what the credential is for, as given when it was stored"`
	Created     string       `json:"created,omitempty" jsonschema:"when it was first stored (RFC 3339)"`
	Updated     string       `json:"updated,omitempty" jsonschema:"when it was last replaced (RFC 3339); omitted if never"`
}

type listOut struct {
	Credentials []credentialInfo `json:"credentials" jsonschema:"the stored credentials, sorted by name"`
	Count       int              `json:"count" jsonschema:"how many credentials are stored"`
}

func info(m backend.Meta) credentialInfo {
	return credentialInfo{
		Name: m.Name, Kind: m.Kind, Fields: m.Fields, Size: m.Size, Description: m.Description,
		Created: stamp(m.Created), Updated: updated(m),
	}
}

// updated is m's update time, or "" when it was never replaced: at
// thousands of names the repeated timestamp is a fifth of a listing.
func updated(m backend.Meta) string {
	if m.Updated.Equal(m.Created) {
		return ""
	}
	return stamp(m.Updated)
}

func stamp(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

func listTool() *mcp.Tool {
	return &mcp.Tool{
		Name:  "list_stored_credentials",
		Title: "List stored credentials",
		Description: "Lists the stored credentials by name with their metadata: kind (string, object or array), " +
			"field names, size, description and times. Never returns values.",
		InputSchema:  &jsonschema.Schema{Type: "object", Properties: map[string]*jsonschema.Schema{}},
		OutputSchema: schemaFor[listOut](nil),
		Annotations: &mcp.ToolAnnotations{
			Title:           "List stored credentials",
			ReadOnlyHint:    true,
			DestructiveHint: boolPtr(false),
			IdempotentHint:  true,
			OpenWorldHint:   boolPtr(false),
		},
	}
}

func (s *server) list(ctx context.Context, req *mcp.CallToolRequest, _ listIn) (*mcp.CallToolResult, error) {
	metas, err := s.cat.List(ctx)
	if err != nil {
		return nil, err
	}
	out := listOut{Credentials: make([]credentialInfo, 0, len(metas)), Count: len(metas)}
	for _, m := range metas {
		out.Credentials = append(out.Credentials, info(m))
	}
	s.log.Info("listed credentials", "count", len(metas))
	res, err := jsonResult(out)
	if err != nil {
		return nil, err
	}
	// The text is a plain listing, a fraction of the JSON's size at
	// thousands of names; the structure rides in structuredContent.
	res.Content = []mcp.Content{&mcp.TextContent{Text: listText(metas)}}
	return res, nil
}

// listText renders one line per credential: name, kind, size, fields,
// description. Never a value.
func listText(metas []backend.Meta) string {
	var b strings.Builder
	b.Grow(len(metas) * 48)
	switch len(metas) {
	case 0:
		return "No credentials are stored."
	case 1:
		b.WriteString("1 credential:\n")
	default:
		fmt.Fprintf(&b, "%d credentials:\n", len(metas))
	}
	for _, m := range metas {
		fmt.Fprintf(&b, "%s (%s, %d bytes", m.Name, m.Kind, m.Size)
		if len(m.Fields) > 0 {
			fmt.Fprintf(&b, "; fields: %s", strings.Join(m.Fields, ", "))
		}
		b.WriteByte(')')
		if m.Description != "" {
			fmt.Fprintf(&b, ": %s", m.Description)
		}
		b.WriteByte('\n')
	}
	return b.String()
}
