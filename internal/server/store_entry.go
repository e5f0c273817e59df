package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcp-secrets/mcp-secrets/internal/backend"
	"github.com/mcp-secrets/mcp-secrets/internal/elicit"
)

// store_credential without a value: the person types the secret on a
// one-time local page (elicit.EntryServer), which saves it through the
// Catalog. Only the link, a verification code and the outcome pass through
// MCP; the value never does.

// The statuses store_credential reports.
const (
	statusStored    = "stored"
	statusWaiting   = "waiting"
	statusExpired   = "expired"
	statusDeclined  = "declined"
	statusCancelled = "cancelled"
)

// entryInput names the URL-mode question in InputRequests; entryAction
// names it in the signed RequestState.
const (
	entryInput  = "entry"
	entryAction = "enter"
)

// entryOut tells the model how the person can enter the value.
type entryOut struct {
	URL              string `json:"url" jsonschema:"the one-time link for the user to open on this computer; it holds no secret and stores nothing by itself"`
	VerificationCode string `json:"verification_code" jsonschema:"the code the page shows, so the user can tell it is the page meant"`
	Expires          string `json:"expires" jsonschema:"when the link stops working (RFC 3339)"`
	Command          string `json:"command" jsonschema:"the alternative: the user runs this in a terminal and types the value there"`
}

// entryKey identifies a call's arguments (never a value: there is none).
func entryKey(in storeIn) string {
	data, _ := json.Marshal(struct {
		N string   `json:"n"`
		D string   `json:"d"`
		O bool     `json:"o"`
		F []string `json:"f"`
	}{in.Name, in.Description, in.Overwrite, in.Fields})
	return "store_credential\x00" + string(data)
}

func (s *server) storeByEntry(ctx context.Context, req *mcp.CallToolRequest, in storeIn) (*mcp.CallToolResult, error) {
	if err := elicit.CheckFields(in.Fields); err != nil {
		return nil, err
	}
	if err := elicit.CheckDescription(in.Description); err != nil {
		return nil, err
	}
	// Never open a page for a value that cannot be stored.
	if err := s.cat.CheckWritable(); err != nil {
		return nil, err
	}
	key := entryKey(in)
	urlMode := elicit.SupportsURL(req)
	if p := req.Params; urlMode && (p.RequestState != "" || len(p.InputResponses) > 0) {
		return s.entryAnswered(ctx, req, in, key)
	}

	e := s.entry.Find(key)
	state := elicit.EntryCancelled
	if e != nil {
		state, _ = e.State()
	}
	exists, err := s.exists(ctx, in.Name)
	if err != nil {
		return nil, err
	}
	// Asked again after the person stored it: say so rather than refuse.
	if state == elicit.EntryStored && exists && !in.Overwrite {
		return s.entryResult(ctx, e, in, "")
	}
	if exists && !in.Overwrite {
		return nil, fmt.Errorf("%q: %w; pass overwrite=true to replace it", in.Name, backend.ErrExists)
	}
	if state != elicit.EntryWaiting {
		e, err = s.entry.Start(elicit.EntryRequest{
			Name:        in.Name,
			Description: in.Description,
			Fields:      in.Fields,
			Replaces:    exists,
			Key:         key,
			Save:        s.saver(in),
			OnDone:      s.entryDone,
		})
		switch {
		case errors.Is(err, backend.ErrInvalidValue) || errors.Is(err, backend.ErrInvalidName):
			return nil, err
		case err != nil:
			s.log.Warn("secure entry not opened", "name", in.Name, "err", err)
			return nil, refuse("nothing was stored: the secure entry page could not be opened (%v). The user can store it in a terminal instead: %s", err, s.setCommand(in))
		}
	}
	s.log.Info("secure entry offered", "name", in.Name, "url_mode", urlMode)
	if !urlMode {
		return s.entryResult(ctx, e, in, "")
	}
	s.watchers.add(e.ID(), req.Session)
	return &mcp.CallToolResult{
		InputRequests: mcp.InputRequestMap{
			entryInput: &mcp.ElicitParams{
				Mode:          "url",
				Message:       s.entryMessage(e),
				URL:           e.URL(),
				ElicitationID: e.ID(),
			},
		},
		RequestState: s.gate.Issue(entryAction, key+"\x00"+e.ID()),
	}, nil
}

// entryAnswered handles the call that carries the client's answer to the
// URL-mode elicitation: the person opened the link (accept) or would not.
func (s *server) entryAnswered(ctx context.Context, req *mcp.CallToolRequest, in storeIn, key string) (*mcp.CallToolResult, error) {
	p := req.Params
	const again = "Call store_credential again without inputResponses for a new link"
	if p.RequestState == "" {
		return nil, refuse("nothing was stored: the call carries an answer to a question this server did not ask. %s", again)
	}
	e := s.entry.Find(key)
	if e == nil {
		return nil, refuse("nothing was stored: the secure entry this answer belongs to is gone (it expired long ago, or the server restarted). %s", again)
	}
	if reason := s.gate.Redeem(p.RequestState, entryAction, key+"\x00"+e.ID()); reason != "" {
		return nil, refuse("nothing was stored: %s. %s", reason, again)
	}
	ans, _ := p.InputResponses[entryInput].(*mcp.ElicitResult)
	if ans == nil {
		return nil, refuse("nothing was stored: the call carries no answer to the secure entry request. %s", again)
	}
	s.log.Info("secure entry answered", "name", in.Name, "action", ans.Action)
	switch ans.Action {
	case "accept":
		// Accept means the person agreed to open the page, not that they
		// submitted it: give them a moment if the server is told to.
		e.Wait(ctx, s.opts.EntryWait)
	case "decline", "cancel":
		e.Cancel("the user declined to open it")
	default:
		return nil, refuse("nothing was stored: the answer's action is not accept, decline or cancel. %s", again)
	}
	return s.entryResult(ctx, e, in, ans.Action)
}

// entryResult tells the truth about an entry: stored, waiting (with the
// link again), expired, declined or cancelled; a store that refused the
// typed value is a tool error.
func (s *server) entryResult(ctx context.Context, e *elicit.Entry, in storeIn, action string) (*mcp.CallToolResult, error) {
	state, reason := e.State()
	kind := backend.KindString
	if in.Fields != nil {
		kind = backend.KindObject
	}
	out := storeOut{credentialInfo: credentialInfo{Name: in.Name, Kind: kind, Description: in.Description}}
	switch state {
	case elicit.EntryStored:
		out.Status = statusStored
		out.Replaced = e.Replaces()
		if meta, ok, err := s.meta(ctx, in.Name); err == nil && ok {
			out.credentialInfo = info(meta)
		}
		verb := "Stored"
		if out.Replaced {
			verb = "Replaced"
		}
		out.Message = fmt.Sprintf("%s %s credential %q (%d bytes). The user typed it on the secure entry page; the value did not pass through this chat.",
			verb, out.Kind, in.Name, out.Size)
	case elicit.EntryWaiting:
		out.Status = statusWaiting
		out.Entry = &entryOut{
			URL:              e.URL(),
			VerificationCode: e.Code(),
			Expires:          e.Expires().UTC().Format(time.RFC3339),
			Command:          s.setCommand(in),
		}
		out.Message = s.waitingMessage(e, in, action == "accept")
	case elicit.EntryExpired:
		out.Status = statusExpired
		out.Message = fmt.Sprintf("Nothing was stored: the secure entry page for %q expired at %s before the user submitted it. Call store_credential again without value for a new link, or the user can run: %s",
			in.Name, e.Expires().UTC().Format(time.RFC3339), s.setCommand(in))
	case elicit.EntryCancelled:
		if action == "decline" || action == "cancel" {
			out.Status = statusDeclined
			out.Message = fmt.Sprintf("Nothing was stored: the user declined to open the secure entry page for %q, and its link no longer works.", in.Name)
		} else {
			out.Status = statusCancelled
			out.Message = fmt.Sprintf("Nothing was stored: the secure entry for %q was withdrawn (%s).", in.Name, reason)
		}
	case elicit.EntryFailed:
		return nil, refuse("nothing was stored for %q: the credential store refused the value the user typed: %s", in.Name, reason)
	}
	res, err := jsonResult(out)
	if err != nil {
		return nil, err
	}
	res.Content = []mcp.Content{&mcp.TextContent{Text: out.Message}}
	return res, nil
}

// entryMessage is what a URL-mode client shows the person with the link.
func (s *server) entryMessage(e *elicit.Entry) string {
	what := "the credential"
	if f := e.Fields(); f != nil {
		what = "the fields " + strings.Join(f, ", ") + " of the credential"
	}
	verb := "stored in"
	if e.Replaces() {
		verb = "replaced in"
	}
	return fmt.Sprintf("Your assistant asks you to type %s %q, to be %s %s. Open the link: a one-time page on this computer, served by mcp-secrets, "+
		"takes the value straight into your credential store, never into the chat. The page must show the verification code %s. "+
		"The link works once, until %s.",
		what, e.Name(), verb, s.opts.Namespace, e.Code(), e.Expires().UTC().Format("15:04 MST"))
}

func (s *server) waitingMessage(e *elicit.Entry, in storeIn, shown bool) string {
	var b strings.Builder
	if shown {
		fmt.Fprintf(&b, "Nothing is stored yet: the user was shown the secure entry page for %q but has not submitted it. ", in.Name)
		b.WriteString("If they need the link again, give them this one and its verification code:\n\n")
	} else {
		fmt.Fprintf(&b, "Nothing is stored yet. So that the secret never passes through this chat, the user types %q on a one-time page on this computer. ", in.Name)
		b.WriteString("Give the user this link and verification code:\n\n")
	}
	fmt.Fprintf(&b, "  %s\n  Verification code: %s (the page shows the same code)\n\n", e.URL(), e.Code())
	fmt.Fprintf(&b, "The link opens only on this computer, works once and expires at %s. ", e.Expires().UTC().Format(time.RFC3339))
	fmt.Fprintf(&b, "Instead, the user can run in a terminal: %s\n", s.setCommand(in))
	fmt.Fprintf(&b, "Once the page is submitted, list_stored_credentials shows %q.", in.Name)
	return b.String()
}

// setCommand is the terminal alternative for storing in's credential:
// "set NAME", or one "set NAME --field F" per field (the command sets one
// field at a time).
func (s *server) setCommand(in storeIn) string {
	set := s.opts.Command + " set " + in.Name
	if in.Overwrite {
		set += " --overwrite"
	}
	if in.Fields == nil {
		return set
	}
	cmds := make([]string, len(in.Fields))
	for i, f := range in.Fields {
		cmds[i] = set + " --field " + shellQuote(f)
	}
	return strings.Join(cmds, " && ")
}

// shellQuote quotes s for a POSIX shell unless it is plainly safe.
func shellQuote(s string) string {
	safe := s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("._-/=:@", r))
	}) < 0
	if safe {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// saver writes what the person typed with the arguments of the call that
// opened the page.
func (s *server) saver(in storeIn) elicit.SaveFunc {
	name, desc, overwrite := in.Name, in.Description, in.Overwrite
	return func(ctx context.Context, v backend.Value) error {
		meta, replaced, err := s.cat.Put(ctx, name, v, desc, overwrite)
		if err != nil {
			return err
		}
		s.log.Info("stored credential", "name", name, "kind", meta.Kind, "size", meta.Size, "replaced", replaced, "via", "secure entry page")
		return nil
	}
}

// entryDone tells the sessions that were shown the entry's link that the
// person is done with it (notifications/elicitation/complete).
func (s *server) entryDone(e *elicit.Entry) {
	sessions := s.watchers.take(e.ID())
	state, _ := e.State()
	if state != elicit.EntryStored && state != elicit.EntryFailed {
		return // the person did not finish it
	}
	for _, ss := range sessions {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		err := ss.NotifyElicitationComplete(ctx, &mcp.ElicitationCompleteParams{ElicitationID: e.ID()})
		cancel()
		if err != nil {
			s.log.Debug("elicitation complete not delivered", "name", e.Name(), "err", err)
		}
	}
}

func (s *server) exists(ctx context.Context, name string) (bool, error) {
	_, ok, err := s.meta(ctx, name)
	return ok, err
}

// meta looks a credential up in the listing, so no value is read.
func (s *server) meta(ctx context.Context, name string) (backend.Meta, bool, error) {
	metas, err := s.cat.List(ctx)
	if err != nil {
		return backend.Meta{}, false, err
	}
	for _, m := range metas {
		if m.Name == name {
			return m, true, nil
		}
	}
	return backend.Meta{}, false, nil
}

// watchers maps elicitation IDs to the sessions shown the link.
type watchers struct {
	mu   sync.Mutex
	byID map[string][]*mcp.ServerSession
}

func newWatchers() *watchers { return &watchers{byID: make(map[string][]*mcp.ServerSession)} }

func (w *watchers) add(id string, ss *mcp.ServerSession) {
	if ss == nil {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, have := range w.byID[id] {
		if have == ss {
			return
		}
	}
	w.byID[id] = append(w.byID[id], ss)
}

func (w *watchers) take(id string) []*mcp.ServerSession {
	w.mu.Lock()
	defer w.mu.Unlock()
	ss := w.byID[id]
	delete(w.byID, id)
	return ss
}
