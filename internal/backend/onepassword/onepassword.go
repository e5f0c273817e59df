package onepassword

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/mcp-secrets/mcp-secrets/internal/backend"
)

var _ backend.Store = (*Store)(nil)

// tagPrefix starts the tag that marks an item as belonging to a namespace.
const tagPrefix = "mcp:"

// maxNamespaceLen bounds Options.Namespace, which becomes a tag.
const maxNamespaceLen = 200

// Options configures a Store.
type Options struct {
	// Bin is the path or name of op; "" means "op", looked up on PATH.
	Bin string
	// Vault names the 1Password vault (by name or ID) that keeps the
	// credentials. It is required: op has no default vault that holds for
	// every command (see the package documentation).
	Vault string
	// Account is passed to op as --account (an account shorthand, sign-in
	// address, account ID or user ID); "" lets op choose.
	Account string
	// Namespace is the namespace whose credentials this store holds, such as
	// backend.Namespace("mcp-secrets"); items are tagged "mcp:"+Namespace.
	Namespace string
	// Timeout bounds each op invocation; 0 means 30 seconds. An op still
	// running then is killed and the call fails.
	Timeout time.Duration
	// Env is op's environment, nil meaning this process's. It carries op's
	// sign-in: OP_SERVICE_ACCOUNT_TOKEN, OP_SESSION_*, or nothing for the
	// 1Password app's CLI integration.
	Env []string
}

// Store is a backend.Store kept in a 1Password vault through op. It is safe
// for concurrent use: calls for different names run op concurrently, calls
// for one name one after another.
type Store struct {
	bin     string
	vault   string // as the user named it, for messages
	vaultID string // as op reported it, for commands
	account string
	tag     string
	timeout time.Duration
	env     []string
	locks   backend.NameLocks
}

// New checks that op is installed, recent enough and signed in, and that
// the vault exists, and returns a Store over it. Each failure wraps
// backend.ErrUnavailable and says what to do, except bad Options.
func New(ctx context.Context, opts Options) (*Store, error) {
	if strings.TrimSpace(opts.Vault) == "" {
		return nil, errors.New("onepassword: a vault is required (--op-vault NAME): op would create items in your Private vault but search every vault, and service accounts have no default vault")
	}
	if strings.HasPrefix(opts.Vault, "-") {
		return nil, errors.New(`onepassword: vault name must not start with "-" (op would read it as a flag); give the vault's ID instead`)
	}
	if err := checkNamespace(opts.Namespace); err != nil {
		return nil, err
	}
	if opts.Timeout < 0 {
		return nil, fmt.Errorf("onepassword: timeout must not be negative, got %s", opts.Timeout)
	}
	timeout := opts.Timeout
	if timeout == 0 {
		timeout = defaultTimeout
	}
	bin := opts.Bin
	if bin == "" {
		bin = "op"
	}
	path, err := exec.LookPath(bin)
	if err != nil {
		return nil, fmt.Errorf("onepassword: %w", notInstalled(bin))
	}
	if abs, err := filepath.Abs(path); err == nil {
		path = abs // immune to later changes of directory
	}
	s := &Store{
		bin:     path,
		vault:   opts.Vault,
		account: opts.Account,
		tag:     tagPrefix + opts.Namespace,
		timeout: timeout,
		env:     slices.Clone(opts.Env),
	}
	if err := s.checkVersion(ctx); err != nil {
		return nil, fmt.Errorf("onepassword: %w", err)
	}
	out, err := s.run(ctx, "vault get", nil, "vault", "get", opts.Vault, "--format=json")
	if err != nil {
		return nil, fmt.Errorf("onepassword: vault %q: %w", opts.Vault, err)
	}
	var v opRef
	if err := json.Unmarshal(out, &v); err != nil || v.ID == "" {
		return nil, fmt.Errorf("onepassword: vault %q: %w", opts.Vault, garbage("vault get"))
	}
	s.vaultID = v.ID
	return s, nil
}

// checkNamespace requires a namespace that works as one op tag.
func checkNamespace(ns string) error {
	switch {
	case ns == "":
		return errors.New("onepassword: a namespace is required")
	case len(ns) > maxNamespaceLen:
		return fmt.Errorf("onepassword: namespace is %d bytes; the limit is %d", len(ns), maxNamespaceLen)
	case strings.TrimSpace(ns) != ns:
		return errors.New("onepassword: namespace must not start or end with a space")
	case strings.Contains(ns, ","):
		return errors.New(`onepassword: namespace must not contain ",", which separates op's tags`)
	case strings.Contains(ns, "/"):
		return errors.New(`onepassword: namespace must not contain "/", which nests 1Password tags`)
	case strings.IndexFunc(ns, unicode.IsControl) >= 0:
		return errors.New("onepassword: namespace must not contain control characters")
	}
	return nil
}

// garbage is the error for op output that is not the JSON expected. The
// output itself is never shown: it could hold a value.
func garbage(what string) error {
	return fmt.Errorf("%w: op %s printed something other than the JSON expected (not shown, as it may hold a value)", backend.ErrUnavailable, what)
}

// list returns our items: those op lists in the vault with our tag whose
// tags include exactly ours (op also matches sub-tags) and whose title is a
// valid store name.
func (s *Store) list(ctx context.Context) ([]opItem, error) {
	out, err := s.run(ctx, "item list", nil, "item", "list", "--vault="+s.vaultID, "--tags="+s.tag, "--format=json")
	if err != nil {
		return nil, err
	}
	var items []opItem
	if len(strings.TrimSpace(string(out))) > 0 {
		if err := json.Unmarshal(out, &items); err != nil {
			return nil, garbage("item list")
		}
	}
	ours := items[:0]
	for _, it := range items {
		if s.ours(it) && backend.CheckStoreName(it.Title) == nil {
			ours = append(ours, it)
		}
	}
	return ours, nil
}

// ours reports whether an item op returned carries exactly our tag and sits
// in our vault (when op says which).
func (s *Store) ours(it opItem) bool {
	if it.ID == "" || (it.Vault.ID != "" && it.Vault.ID != s.vaultID) {
		return false
	}
	return slices.Contains(it.Tags, s.tag)
}

// find returns our items titled name, the one to use first.
func (s *Store) find(ctx context.Context, name string) ([]opItem, error) {
	items, err := s.list(ctx)
	if err != nil {
		return nil, err
	}
	var found []opItem
	for _, it := range items {
		if it.Title == name {
			found = append(found, it)
		}
	}
	slices.SortFunc(found, func(a, b opItem) int {
		if newer(a, b) {
			return -1
		}
		if newer(b, a) {
			return 1
		}
		return 0
	})
	return found, nil
}

// Get returns the record stored under name.
func (s *Store) Get(ctx context.Context, name string) (backend.Record, error) {
	if err := backend.CheckStoreName(name); err != nil {
		return backend.Record{}, fmt.Errorf("onepassword: get: %w", err)
	}
	found, err := s.find(ctx, name)
	if err != nil {
		return backend.Record{}, fmt.Errorf("onepassword: get %q: %w", name, err)
	}
	if len(found) == 0 {
		return backend.Record{}, fmt.Errorf("onepassword: get %q: %w", name, backend.ErrNotFound)
	}
	out, err := s.run(ctx, "item get", nil, "item", "get", found[0].ID, "--vault="+s.vaultID, "--reveal", "--format=json")
	if err != nil {
		return backend.Record{}, fmt.Errorf("onepassword: get %q: %w", name, err)
	}
	var it opItem
	if err := json.Unmarshal(out, &it); err != nil {
		return backend.Record{}, fmt.Errorf("onepassword: get %q: %w", name, garbage("item get"))
	}
	if it.Title != name || !s.ours(it) {
		// Retitled or retagged since it was listed: no longer ours.
		return backend.Record{}, fmt.Errorf("onepassword: get %q: %w", name, backend.ErrNotFound)
	}
	rec, err := decodeItem(it)
	if err != nil {
		return backend.Record{}, fmt.Errorf("onepassword: get %q: %w", name, err)
	}
	return rec, nil
}

// Set stores rec under name: it edits our item of that name in place, or
// creates one. The value reaches op on standard input only.
func (s *Store) Set(ctx context.Context, name string, rec backend.Record) error {
	if err := backend.CheckStoreName(name); err != nil {
		return fmt.Errorf("onepassword: set: %w", err)
	}
	if rec.Value.IsZero() {
		return fmt.Errorf("onepassword: set %q: %w: value is required", name, backend.ErrInvalidValue)
	}
	tmpl, err := encodeItem(name, s.tag, rec)
	if err != nil {
		return fmt.Errorf("onepassword: set %q: %w", name, err)
	}
	defer s.locks.Lock(name)()
	found, err := s.find(ctx, name)
	if err != nil {
		return fmt.Errorf("onepassword: set %q: %w", name, err)
	}
	if len(found) == 0 {
		return s.create(ctx, name, tmpl)
	}
	out, err := s.run(ctx, "item edit", tmpl, "item", "edit", found[0].ID, "--vault="+s.vaultID, "--tags="+s.tag, "--format=json")
	if errors.Is(err, backend.ErrNotFound) && len(found) == 1 {
		// Deleted by someone else since it was listed: store it anew.
		return s.create(ctx, name, tmpl)
	}
	if err != nil {
		return fmt.Errorf("onepassword: set %q: %w", name, err)
	}
	if err := s.checkWritten(out, name, "item edit"); err != nil {
		return fmt.Errorf("onepassword: set %q: %w", name, err)
	}
	// Duplicates (left by another program or a lost race between two
	// processes) would hide nothing, as Get reads the newest, but would
	// keep stale values: remove them. A failure here leaves the new value
	// stored, so it is not reported; the next Set tries again.
	for _, dup := range found[1:] {
		_, _ = s.run(ctx, "item delete", nil, "item", "delete", dup.ID, "--vault="+s.vaultID)
	}
	return nil
}

// create creates our item titled name from tmpl.
func (s *Store) create(ctx context.Context, name string, tmpl []byte) error {
	out, err := s.run(ctx, "item create", tmpl, "item", "create", "--vault="+s.vaultID, "--tags="+s.tag, "--format=json", "-")
	if err != nil {
		return fmt.Errorf("onepassword: set %q: %w", name, err)
	}
	if err := s.checkWritten(out, name, "item create"); err != nil {
		return fmt.Errorf("onepassword: set %q: %w", name, err)
	}
	return nil
}

// checkWritten checks that op's answer to a create or edit is the item we
// wrote.
func (s *Store) checkWritten(out []byte, name, what string) error {
	var it opItem
	if err := json.Unmarshal(out, &it); err != nil || it.ID == "" {
		return garbage(what)
	}
	if it.Title != name || !s.ours(it) {
		return fmt.Errorf("%w: op %s answered with an item other than the one written", backend.ErrUnavailable, what)
	}
	return nil
}

// Delete removes every item of ours titled name.
func (s *Store) Delete(ctx context.Context, name string) error {
	if err := backend.CheckStoreName(name); err != nil {
		return fmt.Errorf("onepassword: delete: %w", err)
	}
	defer s.locks.Lock(name)()
	found, err := s.find(ctx, name)
	if err != nil {
		return fmt.Errorf("onepassword: delete %q: %w", name, err)
	}
	deleted := 0
	for _, it := range found {
		_, err := s.run(ctx, "item delete", nil, "item", "delete", it.ID, "--vault="+s.vaultID)
		if errors.Is(err, backend.ErrNotFound) {
			continue // deleted meanwhile by someone else
		}
		if err != nil {
			return fmt.Errorf("onepassword: delete %q: %w", name, err)
		}
		deleted++
	}
	if deleted == 0 {
		return fmt.Errorf("onepassword: delete %q: %w", name, backend.ErrNotFound)
	}
	return nil
}

// List returns the names of our items, sorted, each once.
func (s *Store) List(ctx context.Context) ([]string, error) {
	items, err := s.list(ctx)
	if err != nil {
		return nil, fmt.Errorf("onepassword: list: %w", err)
	}
	names := make([]string, 0, len(items))
	for _, it := range items {
		names = append(names, it.Title)
	}
	slices.Sort(names)
	return slices.Compact(names), nil
}

// Close does nothing: op keeps no connection open for the store.
func (s *Store) Close() error { return nil }
