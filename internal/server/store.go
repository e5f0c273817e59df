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
	Value       json.RawMessage `json:"value" jsonschema:"the secret: a string, or a JSON object (e.g. {\"user\":...,\"password\":...}) or array; it comes back as the same kind"`
	Description string          `json:"description,omitempty" jsonschema:"what the credential is for (shown in listings; never put a secret here)"`
	Overwrite   bool            `json:"overwrite,omitempty" jsonschema:"replace an existing credential of the same name (default false: refuse)"`
}

type storeOut struct {
	credentialInfo
	Replaced bool   `json:"replaced" jsonschema:"true if an existing credential was overwritten"`
	Message  string `json:"message"`
}

func storeTool() *mcp.Tool {
	return &mcp.Tool{
		Name:  "store_credential",
		Title: "Store a credential",
		Description: "Stores a credential under a name: a string, or a JSON object or array. Refuses to replace an " +
			"existing credential unless overwrite is true. Answers with metadata only, never the value.",
		InputSchema: schemaFor[storeIn](func(sc *jsonschema.Schema) {
			v := sc.Properties["value"]
			v.Type, v.Types, v.Items = "", []string{"string", "object", "array"}, nil
			sc.Required = []string{"name", "value"}
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
		return backend.Value{}, fmt.Errorf("%w: \"value\" is required", backend.ErrInvalidValue)
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
		Message:        fmt.Sprintf("%s %s credential %q (%d bytes).", verb, meta.Kind, in.Name, meta.Size),
	})
}
