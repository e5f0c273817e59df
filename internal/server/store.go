package server

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"

	"github.com/google/jsonschema-go/jsonschema"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcp-secrets/mcp-secrets/internal/backend"
)

type storeIn struct {
	Name        string          `json:"name" jsonschema:"1 to 128 characters: letters, digits, '.', '_' and '-'; must not start with '__'"`
	Value       json.RawMessage `json:"value,omitempty" jsonschema:"the secret: a string, or a JSON object (e.g. {\"user\":...,\"password\":...}) or array; it comes back as the same kind. Leave it out to have the user type the secret on a one-time local page instead, so it never passes through the chat"`
	Fields      []string        `json:"fields,omitempty" jsonschema:"only with value left out: the field names of an object credential (e.g. [\"user\",\"password\"]); the page asks for each. Leave out for a single string"`
	Description string          `json:"description,omitempty" jsonschema:"what the credential is for (shown in listings; never put a secret here)"`
	Overwrite   bool            `json:"overwrite,omitempty" jsonschema:"replace an existing credential of the same name (default false: refuse)"`
}

type storeOut struct {
	credentialInfo
	Replaced bool   `json:"replaced" jsonschema:"true if an existing credential was overwritten"`
	Status   string `json:"status" jsonschema:"stored; or, for a value the user types on the secure entry page: waiting (not submitted yet), expired, declined or cancelled (nothing stored)"`
	Message  string `json:"message"`
	// Entry is set while the user has yet to type the value.
	Entry *entryOut `json:"entry,omitempty" jsonschema:"the secure entry page, while the user has yet to submit it"`
}

func storeTool() *mcp.Tool {
	return &mcp.Tool{
		Name:  "store_credential",
		Title: "Store a credential",
		Description: "Stores a credential under a name: a string, or a JSON object or array. Refuses to replace an " +
			"existing credential unless overwrite is true. Answers with metadata only, never the value. " +
			"Leave value out (and name fields for an object) when the user has not already given the secret: " +
			"the user then types it on a one-time page on their computer and it goes straight into the store, " +
			"never through the chat. A client that supports URL elicitation shows the user the link; otherwise " +
			"the result holds a link and a verification code to give the user, and status says whether it was stored.",
		InputSchema: schemaFor[storeIn](func(sc *jsonschema.Schema) {
			v := sc.Properties["value"]
			v.Type, v.Types, v.Items = "", []string{"string", "object", "array"}, nil
			sc.Required = []string{"name"}
		}),
		OutputSchema: schemaFor[storeOut](nil),
		Annotations: &mcp.ToolAnnotations{
			Title:           "Store a credential",
			ReadOnlyHint:    false,
			DestructiveHint: boolPtr(true),
			IdempotentHint:  true,
			OpenWorldHint:   boolPtr(false),
		},
	}
}

// parseValue turns the raw "value" argument into a Value. Its errors name
// the JSON type, never the content.
func parseValue(raw json.RawMessage) (backend.Value, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return backend.Value{}, fmt.Errorf("%w: \"value\" is required to be a string, object or array when given; leave it out to have the user type the secret on a secure page", backend.ErrInvalidValue)
	}
	switch raw[0] {
	case '"':
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return backend.Value{}, fmt.Errorf("%w: \"value\" is a malformed string", backend.ErrInvalidValue)
		}
		return backend.NewString(s)
	case '{', '[':
		return backend.NewJSON(raw)
	case 't', 'f':
		return backend.Value{}, fmt.Errorf("%w: \"value\" must be a string, a JSON object or a JSON array, not a boolean", backend.ErrInvalidValue)
	default:
		return backend.Value{}, fmt.Errorf("%w: \"value\" must be a string, a JSON object or a JSON array, not a number", backend.ErrInvalidValue)
	}
}

func (s *server) store(ctx context.Context, req *mcp.CallToolRequest, in storeIn) (*mcp.CallToolResult, error) {
	if err := backend.CheckName(in.Name); err != nil {
		return nil, err
	}
	if in.Value == nil {
		return s.storeByEntry(ctx, req, in)
	}
	if in.Fields != nil {
		return nil, fmt.Errorf("%w: \"fields\" is only for a value the user types on the secure page; leave it out when giving value", backend.ErrInvalidValue)
	}
	v, err := parseValue(in.Value)
	if err != nil {
		return nil, err
	}
	if err := s.cat.CheckWritable(); err != nil {
		return nil, err
	}
	meta, existed, err := s.cat.Put(ctx, in.Name, v, in.Description, in.Overwrite)
	if err != nil {
		return nil, err
	}
	verb := "Stored"
	if existed {
		verb = "Replaced"
	}
	s.log.Info("stored credential", "name", in.Name, "kind", meta.Kind, "size", meta.Size, "replaced", existed)
	return jsonResult(storeOut{
		credentialInfo: info(meta),
		Replaced:       existed,
		Status:         statusStored,
		Message:        fmt.Sprintf("%s %s credential %q (%d bytes).", verb, meta.Kind, in.Name, meta.Size),
	})
}
