package env

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"github.com/mcp-secrets/mcp-secrets/internal/backend"
)

var (
	_ backend.Store     = (*Store)(nil)
	_ backend.Unindexed = (*Store)(nil)
)

// Errors of this package, beside the backend sentinels it also returns.
var (
	// ErrInvalidPrefix: Options.Prefix is missing or cannot start a
	// variable name.
	ErrInvalidPrefix = errors.New("invalid environment variable prefix")
	// ErrMalformedFile: the dotenv file has a line that cannot be parsed.
	// The text names the file and line, never the line's content.
	ErrMalformedFile = errors.New("malformed dotenv file")
	// ErrConflict: the variables of one credential contradict each other,
	// for example PREFIX_NAME and PREFIX_NAME_FIELD are both set. It wraps
	// backend.ErrInvalidValue.
	ErrConflict = fmt.Errorf("%w: conflicting environment variables", backend.ErrInvalidValue)
)

// Options configures a Store.
type Options struct {
	// Prefix starts every variable of this store: "MYAPP" for MYAPP_*.
	// Required: upper-case letters, digits and '_', not starting with a
	// digit and not ending with '_'.
	Prefix string
	// AutoSave lets Set and Delete write. Without it they return an error
	// wrapping backend.ErrReadOnly.
	AutoSave bool
	// File is an optional dotenv file, read by New. With AutoSave every
	// write is saved to it too, and a missing file is created by the first
	// write; without AutoSave a missing file is an error.
	File string
	// Environ is the process environment at start, as os.Environ returns
	// it. Nil means os.Environ().
	Environ []string
	// Setenv sets a process environment variable when AutoSave writes;
	// nil means os.Setenv.
	Setenv func(key, value string) error
	// Unsetenv removes a process environment variable when AutoSave
	// writes; nil means os.Unsetenv.
	Unsetenv func(key string) error
}

// Store is a backend.Store over environment variables and, optionally, a
// dotenv file. See the package documentation for the mapping.
type Store struct {
	prefix   string
	autoSave bool
	fileName string // as given, for messages; "" without a file
	filePath string // where to read and write: fileName with symlinks resolved
	setenv   func(key, value string) error
	unsetenv func(key string) error
	// failWrite, when set (by tests), may refuse a step of a file write.
	failWrite func(step string) error

	mu       sync.RWMutex
	env      map[string]string // our variables in the process environment
	fileVars map[string]string // our variables in the dotenv file
}

// New returns a Store over opts.Environ and opts.File. It fails if the
// prefix is missing or invalid, or if the file cannot be read or has a
// malformed line (the error names the file and line, never a value).
func New(opts Options) (*Store, error) {
	if err := checkPrefix(opts.Prefix); err != nil {
		return nil, fmt.Errorf("env: %w", err)
	}
	s := &Store{
		prefix:   opts.Prefix,
		autoSave: opts.AutoSave,
		fileName: opts.File,
		filePath: opts.File,
		setenv:   opts.Setenv,
		unsetenv: opts.Unsetenv,
		env:      make(map[string]string),
		fileVars: make(map[string]string),
	}
	if s.setenv == nil {
		s.setenv = os.Setenv
	}
	if s.unsetenv == nil {
		s.unsetenv = os.Unsetenv
	}
	environ := opts.Environ
	if environ == nil {
		environ = os.Environ()
	}
	for _, kv := range environ {
		// A name may itself start with '=' (Windows keeps entries such as
		// "=C:=C:\"), so the separator is the first '=' after the first byte.
		i := strings.IndexByte(kv, '=')
		if i == 0 {
			if j := strings.IndexByte(kv[1:], '='); j >= 0 {
				i = j + 1
			}
		}
		if i <= 0 {
			continue
		}
		k := kv[:i]
		if _, seen := s.env[k]; !seen && s.ours(k) {
			s.env[k] = kv[i+1:] // the first of duplicates wins, as in os.Getenv
		}
	}
	if s.fileName != "" {
		if p, err := filepath.EvalSymlinks(s.fileName); err == nil {
			s.filePath = p // write through a symlink, not over it
		}
		doc, _, err := s.readFile()
		switch {
		case err == nil:
			s.fileVars = doc.vars(s.ours)
		case errors.Is(err, fs.ErrNotExist) && s.autoSave:
			// The first write creates it.
		case errors.Is(err, fs.ErrNotExist):
			return nil, fmt.Errorf("env: the dotenv file %s does not exist; without --env-auto-save it is only read, never created: %w", s.fileName, err)
		default:
			return nil, fmt.Errorf("env: %w", err)
		}
	}
	return s, nil
}

// ours reports whether the variable key belongs to this store.
func (s *Store) ours(key string) bool {
	_, ok := classify(s.prefix, key)
	return ok
}

// owner returns a function reporting whether a variable belongs to the
// credential name.
func (s *Store) owner(name string) func(key string) bool {
	return func(key string) bool {
		info, ok := classify(s.prefix, key)
		return ok && info.name == name
	}
}

// readFile reads and parses the dotenv file, and returns its text too. A
// missing file gives an error wrapping fs.ErrNotExist; a malformed one an
// error wrapping ErrMalformedFile that names the file and line.
func (s *Store) readFile() (*dotenv, string, error) {
	data, err := os.ReadFile(s.filePath)
	if err != nil {
		return nil, "", err // an *fs.PathError: it names the file, not its content
	}
	doc, err := parseDotenv(string(data))
	if err != nil {
		var pe *parseError
		if errors.As(err, &pe) {
			return nil, "", fmt.Errorf("%s:%d: %w: %s", s.fileName, pe.line, ErrMalformedFile, pe.reason)
		}
		return nil, "", fmt.Errorf("%s: %w", s.fileName, ErrMalformedFile)
	}
	return doc, string(data), nil
}

// varsOf returns the variables of credential name as a reader of this
// process would see them: the dotenv file's, overridden one by one by the
// process environment's. The caller holds s.mu.
func (s *Store) varsOf(name string) map[string]string {
	owned := s.owner(name)
	out := make(map[string]string)
	for _, m := range []map[string]string{s.fileVars, s.env} {
		for k, v := range m {
			if owned(k) {
				out[k] = v
			}
		}
	}
	return out
}

// Get returns the credential name. Its Description and times are always
// empty: environment variables keep no metadata.
func (s *Store) Get(ctx context.Context, name string) (backend.Record, error) {
	if err := checkName(name); err != nil {
		return backend.Record{}, fmt.Errorf("env: get: %w", err)
	}
	s.mu.RLock()
	vars := s.varsOf(name)
	s.mu.RUnlock()
	if len(vars) == 0 {
		return backend.Record{}, fmt.Errorf("env: get %q: %w", name, backend.ErrNotFound)
	}
	v, err := decode(s.prefix, name, vars)
	if err != nil {
		return backend.Record{}, fmt.Errorf("env: get %q: %w", name, err)
	}
	return backend.Record{Value: v}, nil
}

// Set stores rec's value under name, replacing every variable the name had;
// its Description and times are not kept. Without AutoSave it returns an
// error wrapping backend.ErrReadOnly.
func (s *Store) Set(ctx context.Context, name string, rec backend.Record) error {
	if err := checkName(name); err != nil {
		return fmt.Errorf("env: set: %w", err)
	}
	if !s.autoSave {
		return readOnly("set", name)
	}
	set, err := encode(s.prefix, name, rec.Value)
	if err != nil {
		return fmt.Errorf("env: set %q: %w", name, err)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("env: set %q: %w", name, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.write("set", name, set)
}

// Delete removes every variable of the credential name. Without AutoSave it
// returns an error wrapping backend.ErrReadOnly.
func (s *Store) Delete(ctx context.Context, name string) error {
	if err := checkName(name); err != nil {
		return fmt.Errorf("env: delete: %w", err)
	}
	if !s.autoSave {
		return readOnly("delete", name)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("env: delete %q: %w", name, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.varsOf(name)) == 0 {
		return fmt.Errorf("env: delete %q: %w", name, backend.ErrNotFound)
	}
	return s.write("delete", name, nil)
}

func readOnly(op, name string) error {
	return fmt.Errorf("env: %s %q: %w: the env backend writes only when the server is started with --env-auto-save (add --env-file PATH to keep the values in a dotenv file)", op, name, backend.ErrReadOnly)
}

// write makes set the only variables of credential name: first in the
// dotenv file (so that a failed file write changes nothing), then in the
// process environment. If the environment refuses a change, the changes
// already made, the file's included, are undone as far as possible. The
// caller holds s.mu.
func (s *Store) write(op, name string, set []assignment) error {
	owned := s.owner(name)
	var oldText string
	var oldVars map[string]string
	fileExisted, wroteFile := false, false
	if s.fileName != "" {
		doc, text, err := s.readFile() // again: keep what others changed since New
		switch {
		case err == nil:
			fileExisted, oldText = true, text
		case errors.Is(err, fs.ErrNotExist):
			doc = &dotenv{eol: "\n"}
		default:
			return fmt.Errorf("env: %s %q: %w: %w", op, name, backend.ErrUnavailable, err)
		}
		newText := doc.update(set, owned)
		newDoc, err := parseDotenv(newText)
		if err != nil || !sameVars(newDoc.vars(owned), set) {
			return fmt.Errorf("env: %s %q: %w: the dotenv text would not read back as written", op, name, backend.ErrUnavailable)
		}
		if err := writeFileAtomic(s.filePath, []byte(newText), s.failWrite); err != nil {
			return fmt.Errorf("env: %s %q: save %s: %w: %w", op, name, s.fileName, backend.ErrUnavailable, err)
		}
		wroteFile = true
		oldVars = doc.vars(s.ours)
		s.fileVars = newDoc.vars(s.ours)
	}
	type change struct {
		key, old, value string
		existed, remove bool
	}
	var changes []change
	want := make(map[string]bool, len(set))
	for _, a := range set {
		old, existed := s.env[a.key]
		want[a.key] = true
		changes = append(changes, change{key: a.key, old: old, value: a.value, existed: existed})
	}
	var stale []string
	for k := range s.env {
		if owned(k) && !want[k] {
			stale = append(stale, k)
		}
	}
	slices.Sort(stale)
	for _, k := range stale {
		changes = append(changes, change{key: k, old: s.env[k], existed: true, remove: true})
	}
	for i, c := range changes {
		var err error
		if c.remove {
			err = s.unsetenv(c.key)
		} else {
			err = s.setenv(c.key, c.value)
		}
		if err == nil {
			if c.remove {
				delete(s.env, c.key)
			} else {
				s.env[c.key] = c.value
			}
			continue
		}
		// Undo, newest first. The error names variables, never values, and
		// does not pass on the refusal's own text, which might hold one.
		undone := true
		for j := i - 1; j >= 0; j-- {
			u := changes[j]
			var uerr error
			if u.existed {
				uerr = s.setenv(u.key, u.old)
			} else {
				uerr = s.unsetenv(u.key)
			}
			switch {
			case uerr != nil:
				undone = false
			case u.existed:
				s.env[u.key] = u.old
			default:
				delete(s.env, u.key)
			}
		}
		if wroteFile {
			var rerr error
			if fileExisted {
				rerr = writeFileAtomic(s.filePath, []byte(oldText), nil)
			} else {
				rerr = os.Remove(s.filePath)
			}
			if rerr == nil {
				s.fileVars = oldVars
			} else {
				undone = false
			}
		}
		msg := "nothing was changed"
		if !undone {
			msg = "some changes could not be undone"
		}
		return fmt.Errorf("env: %s %q: %w: the process environment refused a change to %s; %s", op, name, backend.ErrUnavailable, c.key, msg)
	}
	return nil
}

// sameVars reports whether got holds exactly the assignments in want.
func sameVars(got map[string]string, want []assignment) bool {
	if len(got) != len(want) {
		return false
	}
	for _, a := range want {
		if v, ok := got[a.key]; !ok || v != a.value {
			return false
		}
	}
	return true
}

// List returns the names of every credential under the prefix, sorted.
func (s *Store) List(ctx context.Context) ([]string, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	seen := make(map[string]bool)
	for _, m := range []map[string]string{s.fileVars, s.env} {
		for k := range m {
			if info, ok := classify(s.prefix, k); ok {
				seen[info.name] = true
			}
		}
	}
	names := make([]string, 0, len(seen))
	for n := range seen {
		names = append(names, n)
	}
	slices.Sort(names)
	return names, nil
}

// Close does nothing: the variables stay in the process environment and
// the file.
func (s *Store) Close() error { return nil }

// Unindexed marks the Store as keeping no index: its List and Get are
// local and cheap, and it has nowhere to keep metadata.
func (s *Store) Unindexed() {}

// CheckWritable returns an error wrapping backend.ErrReadOnly unless the
// store was opened with AutoSave, so callers can refuse before asking a
// person to confirm a change that cannot happen.
func (s *Store) CheckWritable() error {
	if s.autoSave {
		return nil
	}
	return fmt.Errorf("env: %w: the env backend writes only when the server is started with --env-auto-save (add --env-file PATH to keep the values in a dotenv file)", backend.ErrReadOnly)
}
