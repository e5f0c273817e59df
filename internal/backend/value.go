package backend

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"unicode/utf8"
)

// Kind is the shape of a credential value.
type Kind string

// The kinds a credential can have.
const (
	KindString Kind = "string"
	KindObject Kind = "object"
	KindArray  Kind = "array"
)

const redacted = "[redacted]"

// Value is a credential value. It prints, logs and marshals as "[redacted]",
// so it can be passed around without leaking; use Bytes or Text to read it.
type Value struct {
	kind Kind
	data []byte // UTF-8 text for strings, compact JSON for objects and arrays
}

// NewString returns a string value. It fails if s is not valid UTF-8.
func NewString(s string) (Value, error) {
	if !utf8.ValidString(s) {
		return Value{}, fmt.Errorf("%w: a string value must be valid UTF-8", ErrInvalidValue)
	}
	return Value{kind: KindString, data: []byte(s)}, nil
}

// NewJSON returns an object or array value from JSON text. Any other JSON
// (a string, number, boolean or null) is refused: store a string instead.
// Errors never quote the input.
func NewJSON(raw []byte) (Value, error) {
	raw = bytes.TrimSpace(raw)
	var kind Kind
	switch {
	case len(raw) > 0 && raw[0] == '{':
		kind = KindObject
	case len(raw) > 0 && raw[0] == '[':
		kind = KindArray
	default:
		return Value{}, fmt.Errorf("%w: JSON must be an object or an array", ErrInvalidValue)
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, raw); err != nil {
		// The syntax error's text can quote the value: do not wrap it.
		return Value{}, fmt.Errorf("%w: malformed JSON", ErrInvalidValue)
	}
	if !utf8.Valid(buf.Bytes()) {
		return Value{}, fmt.Errorf("%w: JSON must be valid UTF-8", ErrInvalidValue)
	}
	return Value{kind: kind, data: buf.Bytes()}, nil
}

// FromAny builds a value from a decoded JSON value: a string, a
// map[string]any or a []any. Anything else is refused.
func FromAny(v any) (Value, error) {
	switch v := v.(type) {
	case string:
		return NewString(v)
	case map[string]any, []any:
		raw, err := json.Marshal(v)
		if err != nil {
			return Value{}, fmt.Errorf("%w: cannot encode as JSON", ErrInvalidValue)
		}
		return NewJSON(raw)
	case nil:
		return Value{}, fmt.Errorf("%w: value is required", ErrInvalidValue)
	default:
		return Value{}, fmt.Errorf("%w: value must be a string, a JSON object or a JSON array, not %s", ErrInvalidValue, jsonTypeName(v))
	}
}

func jsonTypeName(v any) string {
	switch v.(type) {
	case bool:
		return "a boolean"
	case float64, json.Number, int, int64:
		return "a number"
	default:
		return fmt.Sprintf("%T", v)
	}
}

// Kind reports the value's kind; the zero Value has kind "".
func (v Value) Kind() Kind { return v.kind }

// IsZero reports whether v is the zero Value (no value at all).
func (v Value) IsZero() bool { return v.kind == "" }

// Len is the size of the value in bytes: the UTF-8 text, or compact JSON.
func (v Value) Len() int { return len(v.data) }

// Bytes returns a copy of the value: UTF-8 text for a string, compact JSON
// for an object or array.
func (v Value) Bytes() []byte { return slices.Clone(v.data) }

// Text returns the value as text: the string itself, or compact JSON.
func (v Value) Text() string { return string(v.data) }

// Any returns the value decoded: a string, map[string]any or []any.
func (v Value) Any() any {
	if v.kind == KindString {
		return string(v.data)
	}
	var out any
	if err := json.Unmarshal(v.data, &out); err != nil {
		return nil
	}
	return out
}

// Fields returns the sorted top-level field names of an object value, and
// nil for other kinds.
func (v Value) Fields() []string {
	if v.kind != KindObject {
		return nil
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(v.data, &m); err != nil {
		return nil
	}
	names := make([]string, 0, len(m))
	for k := range m {
		names = append(names, k)
	}
	slices.Sort(names)
	return names
}

// Field returns one top-level field of an object value: a string field as a
// string value, an object or array field as such. Other field types (numbers,
// booleans, null) come back as their JSON text in a string value.
func (v Value) Field(name string) (Value, error) {
	if v.kind != KindObject {
		return Value{}, fmt.Errorf("%w: field %q asked of a %s value; only objects have fields", ErrNotFound, name, v.kind)
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(v.data, &m); err != nil {
		return Value{}, fmt.Errorf("%w: stored object is malformed", ErrInvalidValue)
	}
	raw, ok := m[name]
	if !ok {
		return Value{}, fmt.Errorf("%w: no field %q", ErrNotFound, name)
	}
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		return NewString(s)
	}
	if f, err := NewJSON(raw); err == nil {
		return f, nil
	}
	return Value{kind: KindString, data: slices.Clone(raw)}, nil
}

// Equal reports whether two values have the same kind and bytes.
func (v Value) Equal(w Value) bool {
	return v.kind == w.kind && bytes.Equal(v.data, w.data)
}

// String returns "[redacted]" so that a value printed by mistake leaks nothing.
func (v Value) String() string { return redacted }

// GoString returns "[redacted]" for %#v.
func (v Value) GoString() string { return redacted }

// LogValue returns "[redacted]" for log/slog.
func (v Value) LogValue() slog.Value { return slog.StringValue(redacted) }

// MarshalJSON returns "[redacted]": encode values explicitly with Bytes.
func (v Value) MarshalJSON() ([]byte, error) { return []byte(`"` + redacted + `"`), nil }

// Format prints "[redacted]" for every verb, so %x or %q cannot leak either.
func (v Value) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(redacted)) }
