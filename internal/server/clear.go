package server

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcp-secrets/mcp-secrets/internal/backend"
	"github.com/mcp-secrets/mcp-secrets/internal/elicit"
)

// Cancelled is the whole answer when the user does not confirm a deletion.
const Cancelled = "Deletion cancelled."

type clearIn struct {
	Names []string `json:"names,omitempty" jsonschema:"the credentials to delete"`
	All   bool     `json:"all,omitempty" jsonschema:"delete every stored credential instead of naming them"`
}

type clearOut struct {
	Deleted   []string `json:"deleted" jsonschema:"names deleted"`
	Missing   []string `json:"missing,omitempty" jsonschema:"names asked for that did not exist"`
	Cancelled bool     `json:"cancelled" jsonschema:"true if the user did not confirm; nothing was deleted"`
	Message   string   `json:"message"`
}

func clearTool() *mcp.Tool {
	return &mcp.Tool{
		Name:  "clear_credentials",
		Title: "Delete credentials",
		Description: "Deletes the named credentials, or all of them with all=true, after the user confirms in a " +
			"prompt that lists what will be deleted. If the user declines, nothing is deleted and the answer is \"" + Cancelled + "\"",
		InputSchema:  schemaFor[clearIn](nil),
		OutputSchema: schemaFor[clearOut](nil),
		Annotations: &mcp.ToolAnnotations{
			Title:           "Delete credentials",
			ReadOnlyHint:    false,
			DestructiveHint: boolPtr(true),
			IdempotentHint:  false,
			OpenWorldHint:   boolPtr(false),
		},
	}
}

// maxShown is how many names a confirmation message lists before "and N more".
const maxShown = 20

func (s *server) clear(ctx context.Context, req *mcp.CallToolRequest, in clearIn) (*mcp.CallToolResult, error) {
	if in.All == (len(in.Names) > 0) {
		return nil, fmt.Errorf("%w: give either names or all=true", backend.ErrInvalidValue)
	}
	// Never ask the person to confirm what cannot happen.
	if err := s.cat.CheckWritable(); err != nil {
		return nil, err
	}
	metas, err := s.cat.List(ctx)
	if err != nil {
		return nil, err
	}
	stored := make(map[string]bool, len(metas))
	for _, m := range metas {
		stored[m.Name] = true
	}
	var targets, missing []string
	if in.All {
		for _, m := range metas {
			targets = append(targets, m.Name)
		}
	} else {
		for _, n := range in.Names {
			if err := backend.CheckName(n); err != nil {
				return nil, err
			}
		}
		for _, n := range dedupe(in.Names) {
			if stored[n] {
				targets = append(targets, n)
			} else {
				missing = append(missing, n)
			}
		}
	}
	if len(targets) == 0 {
		msg := "Nothing to delete: no credentials are stored."
		if !in.All {
			msg = "Nothing to delete: no credential has these names: " + strings.Join(missing, ", ") + "."
		}
		return s.clearResult(clearOut{Deleted: []string{}, Missing: missing, Message: msg})
	}

	o := s.gate.Confirm(req, elicit.Question{
		Action:  "delete",
		Binding: "clear_credentials\x00" + strings.Join(targets, "\x00"),
		Message: deleteMessage(targets, s.opts.Namespace),
		Label:   fmt.Sprintf("Delete %s", plural(len(targets), "credential")),
	})
	s.log.Info("delete confirmation", "count", len(targets), "verdict", o.Verdict.String())
	switch o.Verdict {
	case elicit.Ask:
		return o.Result, nil
	case elicit.Declined, elicit.Cancelled:
		return s.clearResult(clearOut{Deleted: []string{}, Cancelled: true, Message: Cancelled})
	case elicit.Unsupported:
		return nil, refuse("nothing was deleted: deleting needs the user's confirmation, and this client cannot ask for it (it does not support MCP elicitation). Use a client that supports elicitation")
	case elicit.Refused:
		return nil, refuse("nothing was deleted: %s. Call clear_credentials again without inputResponses so the user is asked", o.Reason)
	}

	deleted, gone, err := s.cat.Delete(ctx, targets)
	missing = append(missing, gone...)
	if deleted == nil {
		deleted = []string{}
	}
	if err != nil {
		s.log.Warn("delete stopped by an error", "deleted", len(deleted), "err", err)
		if len(deleted) == 0 {
			return nil, fmt.Errorf("nothing was deleted: %w", err)
		}
		return nil, fmt.Errorf("deleted %d of %d (%s) before an error: %w", len(deleted), len(targets), strings.Join(deleted, ", "), err)
	}
	s.log.Info("deleted credentials", "count", len(deleted))
	msg := fmt.Sprintf("Deleted %s: %s.", plural(len(deleted), "credential"), strings.Join(deleted, ", "))
	if len(deleted) == 0 {
		msg = "Nothing was deleted."
	}
	if len(missing) > 0 {
		msg += " Not found: " + strings.Join(missing, ", ") + "."
	}
	return s.clearResult(clearOut{Deleted: deleted, Missing: missing, Message: msg})
}

// clearResult answers with the message as text, so that a declined
// deletion reads exactly "Deletion cancelled.", and the rest as structure.
func (s *server) clearResult(out clearOut) (*mcp.CallToolResult, error) {
	res, err := jsonResult(out)
	if err != nil {
		return nil, err
	}
	res.Content = []mcp.Content{&mcp.TextContent{Text: out.Message}}
	return res, nil
}

func deleteMessage(names []string, namespace string) string {
	shown := names
	more := ""
	if len(names) > maxShown {
		shown = names[:maxShown]
		more = fmt.Sprintf(" and %d more", len(names)-maxShown)
	}
	return fmt.Sprintf("Your assistant asks to permanently delete %s from %s: %s%s. This cannot be undone. Delete?",
		plural(len(names), "credential"), namespace, strings.Join(shown, ", "), more)
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

func dedupe(names []string) []string {
	out := slices.Clone(names)
	slices.Sort(out)
	return slices.Compact(out)
}
