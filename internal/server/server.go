package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/google/jsonschema-go/jsonschema"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcp-secrets/mcp-secrets/internal/backend"
	"github.com/mcp-secrets/mcp-secrets/internal/elicit"
)

// Reveal is the policy for returning credential values.
type Reveal string

// The reveal policies.
const (
	RevealNever   Reveal = "never"   // values are never returned
	RevealConfirm Reveal = "confirm" // each reveal needs the human's yes
	RevealAlways  Reveal = "always"  // values are returned when asked for
)

// ParseReveal parses a --reveal flag value.
func ParseReveal(s string) (Reveal, error) {
	switch r := Reveal(strings.ToLower(s)); r {
	case RevealNever, RevealConfirm, RevealAlways:
		return r, nil
	}
	return "", fmt.Errorf("--reveal must be never, confirm or always, not %q", s)
}

// Catalog is what the server needs of the store: *backend.Catalog.
type Catalog interface {
	List(ctx context.Context) ([]backend.Meta, error)
	Get(ctx context.Context, name string) (backend.Record, error)
	Put(ctx context.Context, name string, v backend.Value, desc string, overwrite bool) (meta backend.Meta, replaced bool, err error)
	Delete(ctx context.Context, names []string) (deleted, missing []string, err error)
	CheckWritable() error
}

// Options configures New.
type Options struct {
	// Name and Version identify the server to clients.
	Name, Version string
	// Namespace is where credentials live (com.mcp.<name>), for messages.
	Namespace string
	// ReadOnly leaves out the tools that write or delete.
	ReadOnly bool
	// Reveal is the value policy; "" means RevealConfirm.
	Reveal Reveal
	// Logger receives tool calls by name and outcome, never values. Nil discards.
	Logger *slog.Logger
	// Gate asks for confirmations; nil means a new one with elicit.DefaultTTL.
	Gate *elicit.Gate
	// Entry serves the one-time local pages on which the person types a
	// credential that store_credential was called without. Nil means a new
	// one with elicit.EntryTTL; it listens only while an entry is waiting.
	// Whoever passes one closes it.
	Entry *elicit.EntryServer
	// EntryWait is how long store_credential, after the client has shown
	// the entry link (URL-mode elicitation), waits for the person to submit
	// the page before answering that the entry is still waiting. 0 (the
	// default): answer at once.
	EntryWait time.Duration
	// Command is how a person runs this server's store at a terminal, for
	// the hint "<Command> set NAME" (e.g. "mcp-secrets --backend file").
	// Empty means "mcp-secrets".
	Command string
}

type server struct {
	cat   Catalog
	opts  Options
	log   *slog.Logger
	gate  *elicit.Gate
	entry *elicit.EntryServer
	// watchers are the sessions shown an entry's link by URL-mode
	// elicitation, by elicitation ID, to be told when it completes.
	watchers *watchers
}

// New returns an MCP server that serves cat through the credential tools.
func New(cat Catalog, opts Options) *mcp.Server {
	if opts.Reveal == "" {
		opts.Reveal = RevealConfirm
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Gate == nil {
		opts.Gate = elicit.NewGate(0, nil)
	}
	if opts.Entry == nil {
		opts.Entry = elicit.NewEntryServer(elicit.EntryOptions{Logger: opts.Logger})
	}
	if opts.Command == "" {
		opts.Command = "mcp-secrets"
	}
	s := &server{cat: cat, opts: opts, log: opts.Logger, gate: opts.Gate, entry: opts.Entry, watchers: newWatchers()}
	ms := mcp.NewServer(&mcp.Implementation{Name: opts.Name, Title: "Credential manager", Version: opts.Version},
		&mcp.ServerOptions{Logger: slog.New(withholdErrors{opts.Logger.Handler()}), Instructions: s.instructions()})
	ms.AddReceivingMiddleware(pinLegacyVersion)
	addTool(s, ms, listTool(), s.list)
	addTool(s, ms, retrieveTool(), s.retrieve)
	if !opts.ReadOnly {
		addTool(s, ms, storeTool(), s.store)
		addTool(s, ms, clearTool(), s.clear)
	}
	return ms
}

func (s *server) instructions() string {
	var b strings.Builder
	fmt.Fprintf(&b, "Stores credentials for the user in %s. ", s.opts.Namespace)
	b.WriteString("list_stored_credentials shows names and metadata, never values. ")
	switch s.opts.Reveal {
	case RevealNever:
		b.WriteString("Values are never revealed: retrieve_credential returns metadata and a masked preview. ")
	case RevealConfirm:
		b.WriteString("retrieve_credential returns metadata and a masked preview; with reveal=true the user is asked to confirm before the value is returned. ")
	case RevealAlways:
		b.WriteString("retrieve_credential returns the value when called with reveal=true. ")
	}
	if s.opts.ReadOnly {
		b.WriteString("The server is read-only: nothing can be stored or deleted.")
	} else {
		b.WriteString("To store a credential the user has not pasted into the chat, call store_credential without value: the user types it on a one-time local page and it never passes through the chat. ")
		b.WriteString("clear_credentials asks the user to confirm before deleting anything.")
	}
	return b.String()
}

// pinLegacyVersion makes a client that sends initialize (the pre-2026
// handshake) with protocol 2026-07-28 or later get the legacy protocol it
// is answered with. The SDK answers 2025-11-25 but keeps the requested
// version in the session, and then expects the client to retry calls with
// input responses, which such a client never does.
func pinLegacyVersion(next mcp.MethodHandler) mcp.MethodHandler {
	return func(ctx context.Context, method string, req mcp.Request) (mcp.Result, error) {
		if method == "initialize" {
			if p, ok := req.GetParams().(*mcp.InitializeParams); ok && p != nil && p.ProtocolVersion >= "2026-07-28" {
				p.ProtocolVersion = "2025-11-25"
			}
		}
		return next(ctx, method, req)
	}
}

// handler is a tool's logic over decoded arguments. It returns a result
// (output, an input request, or a refusal) or an error for errors.go.
type handler[In any] func(ctx context.Context, req *mcp.CallToolRequest, in In) (*mcp.CallToolResult, error)

// addTool registers t with a wrapper that decodes the arguments strictly
// with errors that name fields, never values, turns errors into tool
// errors, and survives a panic in the handler.
func addTool[In any](s *server, ms *mcp.Server, t *mcp.Tool, h handler[In]) {
	ms.AddTool(t, func(ctx context.Context, req *mcp.CallToolRequest) (res *mcp.CallToolResult, err error) {
		start := time.Now()
		defer func() {
			if r := recover(); r != nil {
				// The panic value could hold anything; do not log it.
				s.log.Error("tool handler panicked", "tool", t.Name)
				res, err = toolError(errors.New("internal error; the server is still running")), nil
			}
			s.log.Debug("tool call done", "tool", t.Name, "error", res != nil && res.IsError, "input_required", res != nil && res.InputRequests != nil, "took", time.Since(start))
		}()
		var in In
		if err := decodeArgs(req.Params.Arguments, &in); err != nil {
			return toolError(err), nil
		}
		res, err = h(ctx, req, in)
		if err != nil {
			return toolError(s.explain(t.Name, err)), nil
		}
		return res, nil
	})
}

// decodeArgs decodes tool arguments into in, refusing unknown fields.
func decodeArgs(raw json.RawMessage, in any) error {
	if len(raw) == 0 || string(raw) == "null" {
		raw = json.RawMessage("{}")
	}
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(in); err != nil {
		var typeErr *json.UnmarshalTypeError
		switch {
		case errors.As(err, &typeErr) && typeErr.Field != "":
			return fmt.Errorf("invalid arguments: %q must be %s, not %s", typeErr.Field, jsonType(typeErr.Type.Kind().String()), typeErr.Value)
		case errors.As(err, &typeErr):
			return fmt.Errorf("invalid arguments: must be a JSON object, not %s", typeErr.Value)
		case strings.HasPrefix(err.Error(), "json: unknown field "):
			return fmt.Errorf("invalid arguments: %s", strings.TrimPrefix(err.Error(), "json: "))
		default:
			return errors.New("invalid arguments: malformed JSON")
		}
	}
	return nil
}

func jsonType(goKind string) string {
	switch goKind {
	case "string":
		return "a string"
	case "bool":
		return "a boolean"
	case "slice", "array":
		return "an array"
	case "struct", "map":
		return "an object"
	default:
		return "a " + goKind
	}
}

// schemaFor derives a tool's input or output schema from T's json and
// jsonschema tags, then applies patch (e.g. to widen a field's types).
func schemaFor[T any](patch func(*jsonschema.Schema)) *jsonschema.Schema {
	sc, err := jsonschema.For[T](nil)
	if err != nil {
		panic(fmt.Sprintf("schema for %T: %v", *new(T), err)) // a programming error, caught by every test
	}
	if patch != nil {
		patch(sc)
	}
	return sc
}

// jsonResult returns out as both structured content and JSON text.
func jsonResult(out any) (*mcp.CallToolResult, error) {
	data, err := json.Marshal(out)
	if err != nil {
		return nil, fmt.Errorf("encode result: %w", err)
	}
	return &mcp.CallToolResult{
		Content:           []mcp.Content{&mcp.TextContent{Text: string(data)}},
		StructuredContent: json.RawMessage(data),
	}, nil
}

func boolPtr(b bool) *bool { return &b }
