package server

import (
	"context"
	"fmt"
	"unicode/utf8"

	"github.com/google/jsonschema-go/jsonschema"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcp-secrets/mcp-secrets/internal/backend"
	"github.com/mcp-secrets/mcp-secrets/internal/elicit"
)

type retrieveIn struct {
	Name   string `json:"name" jsonschema:"the credential's name"`
	Field  string `json:"field,omitempty" jsonschema:"one top-level field of an object credential (e.g. password); omit for the whole credential"`
	Reveal bool   `json:"reveal,omitempty" jsonschema:"ask for the value itself; under the default policy the user must confirm each reveal. Without it you get metadata and a masked preview only"`
}

type retrieveOut struct {
	credentialInfo
	Field    string `json:"field,omitempty" jsonschema:"the field asked for"`
	Preview  string `json:"preview,omitempty" jsonschema:"masked preview: at most the last 4 characters of a string of 12 or more"`
	Revealed bool   `json:"revealed" jsonschema:"true if value holds the secret"`
	Value    any    `json:"value,omitempty" jsonschema:"the secret, only when revealed: a string, object or array"`
	Note     string `json:"note,omitempty" jsonschema:"why the value was or was not revealed"`
}

func retrieveTool() *mcp.Tool {
	return &mcp.Tool{
		Name:  "retrieve_credential",
		Title: "Retrieve a credential",
		Description: "Returns a credential's metadata and a masked preview. With reveal=true it returns the value " +
			"itself, if the server's reveal policy allows it; under the default policy the user is asked to confirm " +
			"every reveal. Use field to get one field of an object credential.",
		InputSchema:  schemaFor[retrieveIn](func(sc *jsonschema.Schema) { sc.Required = []string{"name"} }),
		OutputSchema: schemaFor[retrieveOut](nil),
		Annotations: &mcp.ToolAnnotations{
			Title:           "Retrieve a credential",
			ReadOnlyHint:    true,
			DestructiveHint: boolPtr(false),
			IdempotentHint:  true,
			OpenWorldHint:   boolPtr(false),
		},
	}
}

// preview masks v: the last 4 characters of a string of at least 12, and
// nothing for shorter strings, objects or arrays.
func preview(v backend.Value) string {
	if v.Kind() != backend.KindString {
		return ""
	}
	s := v.Text()
	n := utf8.RuneCountInString(s)
	if n < 12 {
		return ""
	}
	tail := []rune(s)[n-4:]
	return "****" + string(tail)
}

func (s *server) retrieve(ctx context.Context, req *mcp.CallToolRequest, in retrieveIn) (*mcp.CallToolResult, error) {
	if err := backend.CheckName(in.Name); err != nil {
		return nil, err
	}
	rec, err := s.cat.Get(ctx, in.Name)
	if err != nil {
		return nil, err
	}
	v := rec.Value
	if in.Field != "" {
		if v, err = v.Field(in.Field); err != nil {
			return nil, fmt.Errorf("credential %q: %w", in.Name, err)
		}
	}
	out := retrieveOut{credentialInfo: info(backend.MetaOf(in.Name, rec)), Field: in.Field, Preview: preview(v)}
	what := fmt.Sprintf("credential %q", in.Name)
	if in.Field != "" {
		what = fmt.Sprintf("field %q of credential %q", in.Field, in.Name)
	}

	if !in.Reveal {
		out.Note = "Value not requested; call again with reveal=true to ask for it."
		s.log.Info("retrieved metadata", "name", in.Name, "field", in.Field)
		return jsonResult(out)
	}
	switch s.opts.Reveal {
	case RevealNever:
		out.Note = "This server never reveals values (--reveal never)."
		s.log.Info("reveal refused by policy", "name", in.Name, "field", in.Field)
		return jsonResult(out)
	case RevealAlways:
		s.log.Info("revealed value", "name", in.Name, "field", in.Field, "policy", "always")
		return s.reveal(out, v, "Revealed: the server allows reveals without confirmation (--reveal always).")
	}

	o := s.gate.Confirm(req, elicit.Question{
		Action:  "reveal",
		Binding: "retrieve_credential\x00" + in.Name + "\x00" + in.Field,
		Message: fmt.Sprintf("Your assistant asks to see the value of %s from %s. Allow it to read the value this once?", what, s.opts.Namespace),
		Label:   "Reveal " + what,
	})
	s.log.Info("reveal confirmation", "name", in.Name, "field", in.Field, "verdict", o.Verdict.String())
	switch o.Verdict {
	case elicit.Ask:
		return o.Result, nil
	case elicit.Accepted:
		return s.reveal(out, v, "Revealed with the user's confirmation.")
	case elicit.Declined, elicit.Cancelled:
		out.Note = "The user did not allow revealing the value."
		return jsonResult(out)
	case elicit.Unsupported:
		return nil, refuse("the value of %s was not revealed: revealing needs the user's confirmation, and this client cannot ask for it (it does not support MCP elicitation). Use a client that supports elicitation, or have the user start the server with --reveal always", what)
	default:
		return nil, refuse("the value of %s was not revealed: %s. Call retrieve_credential again without inputResponses so the user is asked", what, o.Reason)
	}
}

func (s *server) reveal(out retrieveOut, v backend.Value, note string) (*mcp.CallToolResult, error) {
	out.Revealed, out.Value, out.Note = true, v.Any(), note
	return jsonResult(out)
}
