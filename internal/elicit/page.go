package elicit

import (
	"bytes"
	"context"
	"crypto/sha256"
	_ "embed"
	"encoding/base64"
	"errors"
	"fmt"
	"html/template"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/mcp-secrets/mcp-secrets/internal/backend"
)

// entryPath is where entry pages live; the token follows it.
const entryPath = "/entry/"

// maxBody caps a submission: room for the largest value a Catalog takes,
// form-encoded (up to 3 bytes per byte), in every field.
const maxBody = 1 << 20

//go:embed page.html
var pageHTML string

//go:embed page.css
var pageCSS string

// pageRenderer renders page.html with its style sheet inline, and holds the
// Content-Security-Policy that allows exactly that style sheet.
type pageRenderer struct {
	tmpl *template.Template
	csp  string
}

func newPageRenderer() *pageRenderer {
	sum := sha256.Sum256([]byte(pageCSS))
	return &pageRenderer{
		// page.html is part of the binary and every test renders it.
		tmpl: template.Must(template.New("page").Parse(pageHTML)),
		csp: "default-src 'none'; style-src 'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'; " +
			"form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
	}
}

// pageView is what page.html shows. It never holds a value.
type pageView struct {
	View        string // "form", "done" or "notice"
	Title       string
	Name        string
	Description string
	Code        string
	Expires     string
	Replaces    bool
	Error       string
	Message     string
	Action      string
	Fields      []fieldView
	CSS         template.CSS
}

type fieldView struct {
	ID, Label string
	First     bool
}

// pageHandler serves the entries of one listener, on one port.
type pageHandler struct {
	srv  *EntryServer
	port int
}

func (h *pageHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hdr := w.Header()
	hdr.Set("Content-Security-Policy", h.srv.page.csp)
	hdr.Set("Cache-Control", "no-store")
	hdr.Set("Pragma", "no-cache")
	hdr.Set("X-Frame-Options", "DENY")
	hdr.Set("X-Content-Type-Options", "nosniff")
	// same-origin, not no-referrer: under no-referrer a browser sends
	// "Origin: null" with the page's own form POST, and the Origin check
	// below could not tell it from a sandboxed page of another site. The
	// page loads nothing and links nowhere, so no other origin ever gets a
	// Referer with the token either way.
	hdr.Set("Referrer-Policy", "same-origin")
	hdr.Set("Cross-Origin-Opener-Policy", "same-origin")
	hdr.Set("Cross-Origin-Resource-Policy", "same-origin")

	// DNS rebinding: a page of another site that resolves its name to
	// 127.0.0.1 still sends its own name as Host.
	if !h.hostOK(r.Host) {
		h.srv.log.Info("secure entry page refused a request", "status", http.StatusMisdirectedRequest, "why", "wrong Host")
		http.Error(w, "This server answers only to 127.0.0.1 and localhost.", http.StatusMisdirectedRequest)
		return
	}
	token, ok := strings.CutPrefix(r.URL.Path, entryPath)
	if !ok || token == "" || strings.Contains(token, "/") {
		h.notice(w, http.StatusNotFound, "Not found", "There is nothing here.")
		return
	}
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		h.show(w, token)
	case http.MethodPost:
		h.submit(w, r, token)
	default:
		hdr.Set("Allow", "GET, HEAD, POST")
		h.notice(w, http.StatusMethodNotAllowed, "Not allowed", "This page only opens and submits its form.")
	}
}

// origins are the two names the page can be opened under.
func (h *pageHandler) origins() (a, b string) {
	p := strconv.Itoa(h.port)
	return "127.0.0.1:" + p, "localhost:" + p
}

func (h *pageHandler) hostOK(host string) bool {
	a, b := h.origins()
	return host == a || strings.EqualFold(host, b)
}

// sameOrigin reports whether a POST comes from the page itself (CSRF
// defence): exactly one Origin header naming this server, and, where the
// browser sends Sec-Fetch-Site, "same-origin". Another page on 127.0.0.1
// (another port) is same-site, not same-origin, and is refused.
func (h *pageHandler) sameOrigin(r *http.Request) bool {
	origins := r.Header.Values("Origin")
	if len(origins) != 1 {
		return false
	}
	u, err := url.Parse(origins[0])
	if err != nil || u.Scheme != "http" || u.Path != "" || u.User != nil || !h.hostOK(u.Host) {
		return false
	}
	site := r.Header.Values("Sec-Fetch-Site")
	return len(site) == 0 || (len(site) == 1 && site[0] == "same-origin")
}

// gone describes an entry that no longer takes submissions, or "" if it is
// waiting.
func gone(state EntryState) (title, msg string) {
	switch state {
	case EntryStored:
		return "Link already used", "This link has already been used; a link works once. Nothing was changed."
	case EntryExpired:
		return "Link expired", "This link has expired and nothing was stored. Ask your assistant for a new one."
	case EntryCancelled:
		return "Link withdrawn", "This link was withdrawn and nothing was stored. Ask your assistant for a new one."
	case EntryFailed:
		return "Link used up", "This link can no longer be used. Ask your assistant for a new one."
	}
	return "", ""
}

func (h *pageHandler) show(w http.ResponseWriter, token string) {
	s := h.srv
	s.mu.Lock()
	e := s.lookupLocked(token)
	if e == nil {
		s.mu.Unlock()
		h.notice(w, http.StatusNotFound, "Link not valid", "This link is not valid. Ask your assistant for a new one.")
		return
	}
	s.expireLocked(e)
	state := e.state
	s.mu.Unlock()
	if title, msg := gone(state); title != "" {
		h.notice(w, http.StatusGone, title, msg)
		return
	}
	h.form(w, http.StatusOK, e, token, "")
}

func (h *pageHandler) submit(w http.ResponseWriter, r *http.Request, token string) {
	if !h.sameOrigin(r) {
		h.srv.log.Info("secure entry page refused a request", "status", http.StatusForbidden, "why", "not from the page's own origin")
		h.notice(w, http.StatusForbidden, "Refused", "This form only accepts submissions from its own page.")
		return
	}
	if ct, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || ct != "application/x-www-form-urlencoded" {
		h.notice(w, http.StatusUnsupportedMediaType, "Refused", "This form only accepts what its own page sends.")
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxBody)
	if err := r.ParseForm(); err != nil {
		if errors.As(err, new(*http.MaxBytesError)) {
			h.notice(w, http.StatusRequestEntityTooLarge, "Too large", "What was sent is too large. Nothing was stored.")
			return
		}
		h.notice(w, http.StatusBadRequest, "Refused", "The form could not be read. Nothing was stored.")
		return
	}

	s := h.srv
	s.mu.Lock()
	e := s.lookupLocked(token)
	if e == nil {
		s.mu.Unlock()
		h.notice(w, http.StatusNotFound, "Link not valid", "This link is not valid. Ask your assistant for a new one.")
		return
	}
	s.expireLocked(e)
	if title, msg := gone(e.state); title != "" {
		s.mu.Unlock()
		h.notice(w, http.StatusGone, title, msg)
		return
	}
	if e.busy {
		s.mu.Unlock()
		h.notice(w, http.StatusConflict, "Already submitted", "This form is being stored from another submission. Nothing else was changed.")
		return
	}
	e.busy = true
	e.attempts++
	s.mu.Unlock()

	v, problem := readValue(e.req.Fields, r.PostForm)
	var err error
	if problem == nil {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), s.saveTimeout)
		err = e.req.Save(ctx, v)
		cancel()
		if errors.Is(err, backend.ErrInvalidValue) || errors.Is(err, backend.ErrTooLarge) {
			problem, err = err, nil
		}
	}

	s.mu.Lock()
	e.busy = false
	switch {
	case problem != nil && e.attempts < maxAttempts:
		s.mu.Unlock()
		s.log.Info("secure entry submission refused; the page asks again", "name", e.req.Name, "attempt", e.attempts)
		h.form(w, http.StatusUnprocessableEntity, e, token, sentence(problem)+" Nothing was stored; please try again.")
		return
	case problem != nil:
		s.finishLocked(e, EntryFailed, "the value typed was refused "+strconv.Itoa(maxAttempts)+" times: "+problem.Error())
		s.mu.Unlock()
		h.notice(w, http.StatusUnprocessableEntity, "Not stored", sentence(problem)+" Nothing was stored, and this link is now used up.")
		return
	case err != nil:
		s.finishLocked(e, EntryFailed, err.Error())
		s.mu.Unlock()
		s.log.Warn("secure entry: the store refused the value", "name", e.req.Name, "err", err)
		status := http.StatusInternalServerError
		if errors.Is(err, backend.ErrExists) {
			status = http.StatusConflict
		}
		h.notice(w, status, "Not stored", "The credential store refused it: "+sentence(err)+" Nothing was changed.")
		return
	}
	s.finishLocked(e, EntryStored, "")
	s.mu.Unlock()
	h.render(w, http.StatusOK, pageView{View: "done", Title: "Stored", Name: e.req.Name})
}

// readValue turns the submitted form into a value: the one field's string,
// or an object of the named fields. Problems name fields, never values.
func readValue(fields []string, form url.Values) (backend.Value, error) {
	if fields == nil {
		s := form.Get(inputID(0))
		if s == "" {
			return backend.Value{}, fmt.Errorf("%w: the value must not be empty", backend.ErrInvalidValue)
		}
		return backend.NewString(s)
	}
	obj := make(map[string]any, len(fields))
	for i, f := range fields {
		s := form.Get(inputID(i))
		if s == "" {
			return backend.Value{}, fmt.Errorf("%w: %q must not be empty", backend.ErrInvalidValue, f)
		}
		obj[f] = s
	}
	return backend.FromAny(obj)
}

func inputID(i int) string { return "f" + strconv.Itoa(i) }

// sentence makes an error's text a sentence for the page.
func sentence(err error) string {
	msg := err.Error()
	if msg == "" {
		return ""
	}
	msg = strings.ToUpper(msg[:1]) + msg[1:]
	if !strings.HasSuffix(msg, ".") {
		msg += "."
	}
	return msg
}

// expireLocked marks a waiting entry expired once its time is up, unless a
// submission made in time is being stored.
func (s *EntryServer) expireLocked(e *Entry) {
	if e.state == EntryWaiting && !e.busy && s.now().After(e.expires) {
		s.finishLocked(e, EntryExpired, "")
	}
}

func (h *pageHandler) form(w http.ResponseWriter, status int, e *Entry, token, problem string) {
	v := pageView{
		View:        "form",
		Title:       "Enter " + e.req.Name,
		Name:        e.req.Name,
		Description: e.req.Description,
		Code:        e.Code(),
		Expires:     e.expires.Local().Format("15:04") + " (" + e.expires.Local().Format("MST") + ")",
		Replaces:    e.req.Replaces,
		Error:       problem,
		Action:      entryPath + token,
	}
	if e.req.Fields == nil {
		v.Fields = []fieldView{{ID: inputID(0), Label: "Value of “" + e.req.Name + "”", First: true}}
	} else {
		for i, f := range e.req.Fields {
			v.Fields = append(v.Fields, fieldView{ID: inputID(i), Label: f, First: i == 0})
		}
	}
	h.render(w, status, v)
}

func (h *pageHandler) notice(w http.ResponseWriter, status int, title, msg string) {
	h.render(w, status, pageView{View: "notice", Title: title, Message: msg})
}

func (h *pageHandler) render(w http.ResponseWriter, status int, v pageView) {
	v.CSS = template.CSS(pageCSS)
	var buf bytes.Buffer
	if err := h.srv.page.tmpl.Execute(&buf, v); err != nil {
		h.srv.log.Error("secure entry page: render failed", "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}
