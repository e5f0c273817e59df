package elicit

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/mcp-secrets/mcp-secrets/internal/backend"
)

// EntryTTL is how long a secure-entry link works unless told otherwise.
const EntryTTL = 10 * time.Minute

// Limits on what a secure entry may ask for.
const (
	// MaxFields is the most fields an object credential's page asks for.
	MaxFields = 20
	// MaxFieldLen is the longest field name, in bytes.
	MaxFieldLen = 64
	// DefaultMaxPending is how many entries may wait at once by default.
	DefaultMaxPending = 16
	// maxAttempts is how many refused submissions (an empty field, a value
	// too large) an entry survives before it fails.
	maxAttempts = 5
)

// Errors Start returns, besides invalid requests (which wrap
// backend.ErrInvalidValue).
var (
	// ErrTooManyEntries: MaxPending entries are already waiting.
	ErrTooManyEntries = errors.New("too many secure entries are waiting")
	// ErrEntryClosed: the EntryServer was closed.
	ErrEntryClosed = errors.New("the secure entry server is closed")
)

// EntryState is where an entry stands.
type EntryState int

// The states of an entry. Only EntryWaiting is not final.
const (
	// EntryWaiting: the page is open and nothing was submitted yet.
	EntryWaiting EntryState = iota
	// EntryStored: the person submitted the page and the value was saved.
	EntryStored
	// EntryExpired: the link expired before anything was submitted.
	EntryExpired
	// EntryCancelled: the entry was withdrawn (declined, replaced or closed).
	EntryCancelled
	// EntryFailed: the store refused the submitted value; see the reason.
	EntryFailed
)

func (s EntryState) String() string {
	switch s {
	case EntryWaiting:
		return "waiting"
	case EntryStored:
		return "stored"
	case EntryExpired:
		return "expired"
	case EntryCancelled:
		return "cancelled"
	case EntryFailed:
		return "failed"
	}
	return "unknown"
}

// SaveFunc writes the value a person typed on the page into the store. Its
// error must not contain the value; an error wrapping
// backend.ErrInvalidValue or backend.ErrTooLarge lets the person try again,
// any other error fails the entry.
type SaveFunc func(ctx context.Context, v backend.Value) error

// EntryRequest describes the credential a person is asked to type.
type EntryRequest struct {
	// Name is the credential's name, shown on the page.
	Name string
	// Description is shown on the page as the assistant gave it.
	Description string
	// Fields, if set, makes the value an object with these string fields,
	// one input each. Nil: the value is one string.
	Fields []string
	// Replaces says the value will replace a stored credential.
	Replaces bool
	// Key identifies the request, for Find: the caller's digest of the
	// arguments. Waiting entries for the same Name with another Key are
	// cancelled by Start, so one name has one live link.
	Key string
	// Save writes the value. Required.
	Save SaveFunc
	// OnDone, if set, is called once when the entry reaches a final state
	// (see Entry.State), on its own goroutine.
	OnDone func(*Entry)
}

// EntryOptions configures an EntryServer.
type EntryOptions struct {
	// TTL is how long a link works; <= 0 means EntryTTL.
	TTL time.Duration
	// Now returns the current time; nil means time.Now. Expiry is judged by
	// it, so tests can move time on.
	Now func() time.Time
	// Logger receives names, states and ports, never values or tokens. Nil discards.
	Logger *slog.Logger
	// MaxPending caps the entries waiting at once; <= 0 means DefaultMaxPending.
	MaxPending int
	// SaveTimeout bounds one Save call; <= 0 means 30 seconds.
	SaveTimeout time.Duration
}

// EntryServer serves one-time pages on which a person types a credential,
// so that the value goes from the browser straight into the store and
// never through MCP. It listens on 127.0.0.1, on a random port, only while
// an entry is waiting: Start opens the listener and it closes when the last
// waiting entry is stored, expires or is cancelled. It is safe for
// concurrent use. The zero value is not usable; call NewEntryServer.
type EntryServer struct {
	ttl         time.Duration
	now         func() time.Time
	log         *slog.Logger
	maxPending  int
	saveTimeout time.Duration
	page        *pageRenderer

	mu      sync.Mutex
	entries map[[sha256.Size]byte]*Entry // by SHA-256 of the token
	lis     *listener                    // nil while idle
	closed  bool
	wg      sync.WaitGroup // serving goroutines and OnDone calls
}

// listener is one run of the HTTP server, from first entry to idle.
type listener struct {
	hs   *http.Server
	port int
}

// Entry is one secure entry: a link, a verification code and a state. Its
// accessors are safe for concurrent use.
type Entry struct {
	srv      *EntryServer
	req      EntryRequest
	tokenSum [sha256.Size]byte
	url      string
	id       string
	code     string
	expires  time.Time
	timer    *time.Timer
	done     chan struct{}

	// Guarded by srv.mu.
	state    EntryState
	reason   string
	busy     bool // a submission is being saved
	attempts int
}

// NewEntryServer returns an idle EntryServer.
func NewEntryServer(opts EntryOptions) *EntryServer {
	s := &EntryServer{
		ttl:         opts.TTL,
		now:         opts.Now,
		log:         opts.Logger,
		maxPending:  opts.MaxPending,
		saveTimeout: opts.SaveTimeout,
		page:        newPageRenderer(),
		entries:     make(map[[sha256.Size]byte]*Entry),
	}
	if s.ttl <= 0 {
		s.ttl = EntryTTL
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.maxPending <= 0 {
		s.maxPending = DefaultMaxPending
	}
	if s.saveTimeout <= 0 {
		s.saveTimeout = 30 * time.Second
	}
	return s
}

// CheckFields reports whether fields may name the inputs of an object
// credential's page: at most MaxFields unique names of 1 to MaxFieldLen
// bytes of printable UTF-8 without leading or trailing space. Errors wrap
// backend.ErrInvalidValue.
func CheckFields(fields []string) error {
	if fields == nil {
		return nil
	}
	if len(fields) == 0 {
		return fmt.Errorf("%w: \"fields\" must name at least one field, or be left out for a string credential", backend.ErrInvalidValue)
	}
	if len(fields) > MaxFields {
		return fmt.Errorf("%w: \"fields\" names %d fields; the limit is %d", backend.ErrInvalidValue, len(fields), MaxFields)
	}
	seen := make(map[string]bool, len(fields))
	for i, f := range fields {
		switch {
		case f == "":
			return fmt.Errorf("%w: field %d has an empty name", backend.ErrInvalidValue, i+1)
		case len(f) > MaxFieldLen:
			return fmt.Errorf("%w: field %d's name is %d bytes; the limit is %d", backend.ErrInvalidValue, i+1, len(f), MaxFieldLen)
		case !utf8.ValidString(f) || strings.IndexFunc(f, func(r rune) bool { return !unicode.IsPrint(r) }) >= 0:
			return fmt.Errorf("%w: field %d's name must be printable UTF-8", backend.ErrInvalidValue, i+1)
		case strings.TrimSpace(f) != f:
			return fmt.Errorf("%w: field %q must not start or end with a space", backend.ErrInvalidValue, f)
		case seen[f]:
			return fmt.Errorf("%w: field %q is named twice", backend.ErrInvalidValue, f)
		}
		seen[f] = true
	}
	return nil
}

// CheckDescription reports whether desc may go with a credential: valid
// UTF-8 of at most 1024 bytes, as the Catalog requires.
func CheckDescription(desc string) error {
	if len(desc) > 1024 || !utf8.ValidString(desc) {
		return fmt.Errorf("%w: description must be valid UTF-8 of at most 1024 bytes", backend.ErrInvalidValue)
	}
	return nil
}

// Start opens a new entry for req, starting the listener if it is idle.
// Waiting entries for the same name under another key are cancelled.
func (s *EntryServer) Start(req EntryRequest) (*Entry, error) {
	if err := backend.CheckName(req.Name); err != nil {
		return nil, err
	}
	if err := CheckFields(req.Fields); err != nil {
		return nil, err
	}
	if err := CheckDescription(req.Description); err != nil {
		return nil, err
	}
	if req.Save == nil {
		return nil, errors.New("secure entry: no Save function")
	}
	req.Fields = append([]string(nil), req.Fields...)

	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, ErrEntryClosed
	}
	now := s.now()
	s.sweepLocked(now)
	waiting := 0
	var replaced []*Entry
	for _, e := range s.entries {
		if e.state != EntryWaiting {
			continue
		}
		if e.req.Name == req.Name && e.req.Key != req.Key {
			replaced = append(replaced, e)
			continue
		}
		waiting++
	}
	if waiting >= s.maxPending {
		return nil, fmt.Errorf("%w (%d); finish or let them expire first", ErrTooManyEntries, waiting)
	}
	if s.lis == nil {
		lis, err := s.listenLocked()
		if err != nil {
			return nil, err
		}
		s.lis = lis
	}
	token := base64.RawURLEncoding.EncodeToString(randomBytes(32))
	e := &Entry{
		srv:      s,
		req:      req,
		tokenSum: sha256.Sum256([]byte(token)),
		url:      fmt.Sprintf("http://127.0.0.1:%d%s%s", s.lis.port, entryPath, token),
		id:       "entry-" + hex.EncodeToString(randomBytes(12)),
		code:     newCode(),
		expires:  now.Add(s.ttl),
		done:     make(chan struct{}),
	}
	// The timer only wakes the sweep; expiry itself is judged by s.now.
	e.timer = time.AfterFunc(s.ttl+time.Second, s.sweep)
	s.entries[e.tokenSum] = e
	// Only now, so that the listener does not stop for want of a waiting entry.
	for _, old := range replaced {
		s.finishLocked(old, EntryCancelled, "a newer request for the same credential replaced it")
	}
	s.log.Info("secure entry opened", "name", req.Name, "fields", len(req.Fields), "port", s.lis.port, "expires", e.expires.UTC().Format(time.RFC3339))
	return e, nil
}

// Find returns the newest entry opened with key that is still known (a
// finished entry is kept for one TTL after its link's expiry), or nil.
func (s *EntryServer) Find(key string) *Entry {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sweepLocked(s.now())
	var found *Entry
	for _, e := range s.entries {
		if e.req.Key == key && (found == nil || e.expires.After(found.expires)) {
			found = e
		}
	}
	return found
}

// Addr returns the listener's host:port, or "" while idle.
func (s *EntryServer) Addr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.lis == nil {
		return ""
	}
	return "127.0.0.1:" + strconv.Itoa(s.lis.port)
}

// Close cancels every waiting entry, stops the listener and waits for it
// and for pending OnDone calls. Start fails afterwards.
func (s *EntryServer) Close() error {
	s.mu.Lock()
	s.closed = true
	for _, e := range s.entries {
		if e.state == EntryWaiting {
			s.finishLocked(e, EntryCancelled, "the server stopped")
		}
	}
	s.stopIfIdleLocked()
	s.mu.Unlock()
	s.wg.Wait()
	return nil
}

// sweep expires entries by the clock and stops the listener when idle.
func (s *EntryServer) sweep() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sweepLocked(s.now())
}

func (s *EntryServer) sweepLocked(now time.Time) {
	for sum, e := range s.entries {
		s.expireLocked(e)
		// A finished entry is kept a while, so that its outcome can be told.
		if e.state != EntryWaiting && now.After(e.expires.Add(s.ttl)) {
			delete(s.entries, sum)
		}
	}
	s.stopIfIdleLocked()
}

// finishLocked moves e to a final state and stops the listener if no
// entry is left waiting. An entry whose submission is being saved is not
// expired or cancelled: the submission came in time and decides.
func (s *EntryServer) finishLocked(e *Entry, state EntryState, reason string) {
	if e.state != EntryWaiting || (e.busy && (state == EntryExpired || state == EntryCancelled)) {
		return
	}
	e.state, e.reason, e.busy = state, reason, false
	e.timer.Stop()
	close(e.done)
	s.log.Info("secure entry finished", "name", e.req.Name, "state", state.String())
	if e.req.OnDone != nil {
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			e.req.OnDone(e)
		}()
	}
	s.stopIfIdleLocked()
}

func (s *EntryServer) stopIfIdleLocked() {
	if s.lis == nil {
		return
	}
	for _, e := range s.entries {
		if e.state == EntryWaiting {
			return
		}
	}
	lis := s.lis
	s.lis = nil
	s.log.Info("secure entry page stopped: nothing is waiting", "port", lis.port)
	// Shutdown waits for a response in flight (the submission that made
	// the server idle), so it runs on its own goroutine. It would wait 5
	// seconds for connections a browser opened ahead and never used; one
	// second is ample for the last page to be written.
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		if err := lis.hs.Shutdown(ctx); err != nil {
			_ = lis.hs.Close()
		}
	}()
}

func (s *EntryServer) listenLocked() (*listener, error) {
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("secure entry page: listen on 127.0.0.1: %w", err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	lis := &listener{port: port}
	lis.hs = &http.Server{
		Handler:           &pageHandler{srv: s, port: port},
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       30 * time.Second,
		MaxHeaderBytes:    16 << 10,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelDebug),
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		if err := lis.hs.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Warn("secure entry page stopped", "port", port, "err", err)
		}
	}()
	s.log.Info("secure entry page listening", "addr", ln.Addr().String())
	return lis, nil
}

// lookup returns the entry for a token from a URL, or nil.
func (s *EntryServer) lookupLocked(token string) *Entry {
	if !validToken(token) {
		return nil
	}
	return s.entries[sha256.Sum256([]byte(token))]
}

// validToken reports whether token has the shape Start gives tokens: 43
// characters of unpadded base64url (32 bytes).
func validToken(token string) bool {
	if len(token) != 43 {
		return false
	}
	for i := 0; i < len(token); i++ {
		c := token[i]
		if !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// codeAlphabet has no characters that are easily mistaken for each other
// (no 0/O, 1/I/L, 5/S, 8/B, 2/Z).
const codeAlphabet = "ACDEFGHJKMNPQRTUVWXY34679"

// newCode returns a verification code of 6 characters from codeAlphabet,
// drawn uniformly.
func newCode() string {
	const n = len(codeAlphabet)
	limit := 256 - 256%n // reject bytes above the largest multiple of n
	var b strings.Builder
	for b.Len() < 6 {
		for _, c := range randomBytes(16) {
			if int(c) < limit && b.Len() < 6 {
				b.WriteByte(codeAlphabet[int(c)%n])
			}
		}
	}
	return b.String()
}

// ID is the elicitation ID of the entry: random, and unrelated to the token.
func (e *Entry) ID() string { return e.id }

// URL is the one-time link. It carries the token, never a value; whoever
// holds it can open the page, not read anything.
func (e *Entry) URL() string { return e.url }

// Code is the verification code, formatted for people ("K7Q-M4P"). The
// page shows it and the elicitation message names it.
func (e *Entry) Code() string { return e.code[:3] + "-" + e.code[3:] }

// Name is the credential's name.
func (e *Entry) Name() string { return e.req.Name }

// Fields are the object fields the page asks for; nil for a string.
func (e *Entry) Fields() []string { return append([]string(nil), e.req.Fields...) }

// Replaces reports whether the value will replace a stored credential.
func (e *Entry) Replaces() bool { return e.req.Replaces }

// Expires is when the link stops working.
func (e *Entry) Expires() time.Time { return e.expires }

// Done is closed when the entry reaches a final state.
func (e *Entry) Done() <-chan struct{} { return e.done }

// State returns the entry's state, judging expiry by the server's clock,
// and for EntryFailed and EntryCancelled the reason (no value in it).
func (e *Entry) State() (EntryState, string) {
	s := e.srv
	s.mu.Lock()
	defer s.mu.Unlock()
	s.expireLocked(e)
	return e.state, e.reason
}

// Cancel withdraws a waiting entry: its link stops working. It does
// nothing to an entry that has finished.
func (e *Entry) Cancel(reason string) {
	s := e.srv
	s.mu.Lock()
	defer s.mu.Unlock()
	s.finishLocked(e, EntryCancelled, reason)
}

// Wait waits until the entry finishes, d passes or ctx is done, and
// returns its state then.
func (e *Entry) Wait(ctx context.Context, d time.Duration) (EntryState, string) {
	if d > 0 {
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-e.done:
		case <-t.C:
		case <-ctx.Done():
		}
	}
	return e.State()
}
