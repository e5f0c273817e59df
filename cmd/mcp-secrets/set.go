package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/spf13/pflag"

	"github.com/mcp-secrets/mcp-secrets/internal/backend"
)

const setHelp = `Stores a credential in the store the server uses. On a terminal the value is
asked for twice at a hidden prompt; otherwise it is all of standard input, less
one trailing newline. The value never appears on the command line.

  mcp-secrets set github                         # asks, without echo
  printf %s "$TOKEN" | mcp-secrets set github    # from a pipe
  mcp-secrets set db --json < db.json            # a JSON object or array
  mcp-secrets set db --field password            # one field of an object credential

An existing credential is replaced only with --overwrite. --field adds a field
to an object credential (creating the object if there is none) and replaces an
existing field only with --overwrite; it refuses a string or array credential.
`

type setCmd struct {
	field       string
	description string
	overwrite   bool
	json        bool
}

func (s *setCmd) define(fs *pflag.FlagSet) {
	fs.StringVar(&s.field, "field", "", "set one field of an object credential, creating the object if missing")
	fs.StringVar(&s.description, "description", "", "what the credential is for (on --overwrite, the old one is kept if not given)")
	fs.BoolVar(&s.overwrite, "overwrite", false, "replace an existing credential, or with --field an existing field")
	fs.BoolVar(&s.json, "json", false, "the input is JSON: an object or array (with --field, any JSON value)")
}

func (s *setCmd) run(ctx context.Context, c *cli) error {
	name, err := c.oneName()
	if err != nil {
		return err
	}
	if c.flags.Changed("field") && s.field == "" {
		return usageErrorf("--field must not be empty")
	}
	cat, o, err := c.open(ctx)
	if err != nil {
		return err
	}
	defer cat.Close()
	if err := cat.CheckWritable(); err != nil {
		return err
	}

	// Refuse what cannot be done before the person types the value.
	old, err := cat.Get(ctx, name)
	exists := err == nil
	if err != nil && !errors.Is(err, backend.ErrNotFound) {
		return err
	}
	var fields map[string]json.RawMessage
	switch {
	case s.field != "" && !exists:
		fields = map[string]json.RawMessage{}
	case s.field != "":
		if k := old.Value.Kind(); k != backend.KindObject {
			return fmt.Errorf("%q is a %s credential, and only an object has fields; store a whole new value with --overwrite instead of --field", name, k)
		}
		if err := json.Unmarshal(old.Value.Bytes(), &fields); err != nil {
			return fmt.Errorf("%q: %w: the stored object is malformed", name, backend.ErrInvalidValue)
		}
		if _, ok := fields[s.field]; ok && !s.overwrite {
			return fmt.Errorf("%q already has a field %q; pass --overwrite to replace it", name, s.field)
		}
	case exists && !s.overwrite:
		return fmt.Errorf("%q already exists in %s; pass --overwrite to replace it", name, c.namespace())
	}

	raw, err := s.read(ctx, c, name, cat.MaxValueSize())
	if err != nil {
		return err
	}
	v, err := s.value(raw, fields)
	clear(raw)
	if err != nil {
		return err
	}
	meta, replaced, err := cat.Put(ctx, name, v, s.description, exists)
	if errors.Is(err, backend.ErrExists) {
		return fmt.Errorf("%q was stored by another process meanwhile; nothing changed (pass --overwrite to replace it)", name)
	}
	if err != nil {
		return err
	}
	verb := "Stored"
	if replaced {
		verb = "Replaced"
	}
	what := fmt.Sprintf("%s %q (%s, %d bytes)", verb, name, meta.Kind, meta.Size)
	if s.field != "" {
		what = fmt.Sprintf("Stored field %q of %q (an object with %s)", s.field, name, plural(len(meta.Fields), "field"))
	}
	fmt.Fprintf(c.stderr, "%s in %s (%s).\n", what, c.namespace(), o.name)
	return nil
}

// read gets the value: from a hidden prompt, asked twice, when stdin is a
// terminal, else all of stdin less one trailing newline.
func (s *setCmd) read(ctx context.Context, c *cli, name string, limit int) ([]byte, error) {
	what := fmt.Sprintf("%q", name)
	if s.field != "" {
		what = fmt.Sprintf("field %q of %q", s.field, name)
	}
	if fd, ok := terminal(c.stdin); ok {
		first, err := readHidden(ctx, fd, c.stderr, "Value for "+what+" (typing is hidden): ")
		if err != nil {
			return nil, err
		}
		if len(first) == 0 {
			return nil, errors.New("no value entered; nothing stored")
		}
		second, err := readHidden(ctx, fd, c.stderr, "Again, to confirm: ")
		same := err == nil && bytes.Equal(first, second)
		clear(second)
		if err != nil {
			clear(first)
			return nil, err
		}
		if !same {
			clear(first)
			return nil, errors.New("the two entries differ; nothing stored")
		}
		return first, nil
	}
	// A newline and a carriage return may follow a value of the limit.
	data, err := io.ReadAll(io.LimitReader(c.stdin, int64(limit)+3))
	if err != nil {
		clear(data)
		return nil, fmt.Errorf("read the value from stdin: %w", err)
	}
	data = trimNewline(data)
	if len(data) > limit {
		clear(data)
		return nil, fmt.Errorf("%w: the value on stdin is more than %d bytes, the limit; nothing stored", backend.ErrTooLarge, limit)
	}
	if len(data) == 0 {
		return nil, errors.New("no value on stdin; nothing stored (pipe the value in, or run this on a terminal to be asked for it)")
	}
	return data, nil
}

// trimNewline removes one trailing "\n" or "\r\n".
func trimNewline(b []byte) []byte {
	if n := len(b); n > 0 && b[n-1] == '\n' {
		b = b[:n-1]
		if n := len(b); n > 0 && b[n-1] == '\r' {
			b = b[:n-1]
		}
	}
	return b
}

// value makes the credential from the input: the whole value, or, when
// fields is not nil, the object with the one field set.
func (s *setCmd) value(raw []byte, fields map[string]json.RawMessage) (backend.Value, error) {
	if fields == nil {
		if s.json {
			return backend.NewJSON(raw)
		}
		return backend.NewString(string(raw))
	}
	var field json.RawMessage
	if s.json {
		var buf bytes.Buffer
		if err := json.Compact(&buf, raw); err != nil {
			// The syntax error's text can quote the value: do not wrap it.
			return backend.Value{}, fmt.Errorf("%w: malformed JSON", backend.ErrInvalidValue)
		}
		field = buf.Bytes()
	} else {
		str, err := backend.NewString(string(raw))
		if err != nil {
			return backend.Value{}, err
		}
		if field, err = encodeJSON(str.Text()); err != nil {
			return backend.Value{}, err
		}
	}
	fields[s.field] = field
	data, err := encodeJSON(fields)
	if err != nil {
		return backend.Value{}, err
	}
	v, err := backend.NewJSON(data)
	clear(data)
	clear(field)
	return v, err
}

// encodeJSON is json.Marshal without HTML escaping, so that a value comes
// back byte for byte.
func encodeJSON(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, fmt.Errorf("%w: cannot encode as JSON", backend.ErrInvalidValue)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}
