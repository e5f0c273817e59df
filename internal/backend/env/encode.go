package env

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/mcp-secrets/mcp-secrets/internal/backend"
)

// MaxValueSize is the most bytes one variable's value may hold: the Windows
// limit for an environment variable (32,767 characters), applied to the
// UTF-8 bytes so that it holds on every system.
const MaxValueSize = 32767

// assignment is one variable and the value it is to hold.
type assignment struct {
	key, value string
}

// encode returns the variables, sorted by name, that hold v for the
// credential name:
//
//   - a string goes into PREFIX_NAME;
//   - an object whose fields are all strings under names isField accepts
//     (at least one, none repeated, no NUL in a value) becomes one
//     PREFIX_NAME_FIELD per field;
//   - any other object or array is compact JSON in PREFIX_NAME, marked by
//     PREFIX_NAME__KIND=json.
//
// Every value is checked against MaxValueSize and for NUL before anything
// is written. Errors name no value.
func encode(prefix, name string, v backend.Value) ([]assignment, error) {
	switch v.Kind() {
	case backend.KindString:
		s := v.Text()
		if err := checkVarValue(s); err != nil {
			return nil, err
		}
		return []assignment{{plainVar(prefix, name), s}}, nil
	case backend.KindObject:
		if fields, ok := stringFields(v.Bytes()); ok {
			out := make([]assignment, 0, len(fields))
			for _, f := range fields {
				if len(f.value) > MaxValueSize {
					return nil, fmt.Errorf("%w: field %q is %d bytes; one environment variable holds at most %d", backend.ErrTooLarge, f.key, len(f.value), MaxValueSize)
				}
				out = append(out, assignment{fieldVar(prefix, name, f.key), f.value})
			}
			slices.SortFunc(out, func(a, b assignment) int { return strings.Compare(a.key, b.key) })
			return out, nil
		}
		fallthrough
	case backend.KindArray:
		s := v.Text()
		if err := checkVarValue(s); err != nil {
			return nil, err
		}
		return []assignment{{plainVar(prefix, name), s}, {markerVar(prefix, name), markerJSON}}, nil
	default:
		return nil, fmt.Errorf("%w: value is required", backend.ErrInvalidValue)
	}
}

// checkVarValue checks that s can be one variable's value.
func checkVarValue(s string) error {
	if len(s) > MaxValueSize {
		return fmt.Errorf("%w: the value is %d bytes; one environment variable holds at most %d", backend.ErrTooLarge, len(s), MaxValueSize)
	}
	if strings.IndexByte(s, 0) >= 0 {
		return fmt.Errorf("%w: an environment variable cannot hold a NUL character", backend.ErrInvalidValue)
	}
	return nil
}

// stringFields returns an object's fields, in order, if every one can be a
// variable of its own: a string value without NUL under a field name that
// isField accepts, no name twice, and at least one field.
func stringFields(obj []byte) ([]assignment, bool) {
	dec := json.NewDecoder(bytes.NewReader(obj))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, false
	}
	var out []assignment
	seen := make(map[string]bool)
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, false
		}
		key, ok := tok.(string)
		if !ok || !isField(key) || seen[key] {
			return nil, false
		}
		seen[key] = true
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil || len(raw) == 0 || raw[0] != '"' {
			return nil, false
		}
		var s string
		if err := json.Unmarshal(raw, &s); err != nil || strings.IndexByte(s, 0) >= 0 {
			return nil, false
		}
		out = append(out, assignment{key, s})
	}
	return out, len(out) > 0
}

// decode builds the value of credential name from its variables (keyed by
// variable name; every key must classify as name's). Errors name
// variables, never their values.
func decode(prefix, name string, vars map[string]string) (backend.Value, error) {
	plainKey, markKey := plainVar(prefix, name), markerVar(prefix, name)
	plain, hasPlain := vars[plainKey]
	mark, hasMark := vars[markKey]
	fields := make(map[string]string)
	var fieldKeys []string
	for k, val := range vars {
		if info, ok := classify(prefix, k); ok && info.kind == varField {
			fields[info.field] = val
			fieldKeys = append(fieldKeys, k)
		}
	}
	slices.Sort(fieldKeys)
	switch {
	case hasMark && mark != markerJSON:
		return backend.Value{}, fmt.Errorf("%w: %s has a value other than %q", ErrConflict, markKey, markerJSON)
	case hasMark && len(fieldKeys) > 0:
		return backend.Value{}, fmt.Errorf("%w: %s marks %s as JSON, but %s is set as well; remove one", ErrConflict, markKey, plainKey, fieldKeys[0])
	case hasMark && !hasPlain:
		return backend.Value{}, fmt.Errorf("%w: %s is set but %s is not", ErrConflict, markKey, plainKey)
	case hasMark:
		v, err := backend.NewJSON([]byte(plain))
		if err != nil {
			return backend.Value{}, fmt.Errorf("%w: %s is marked as JSON by %s but does not hold a JSON object or array", ErrConflict, plainKey, markKey)
		}
		return v, nil
	case hasPlain && len(fieldKeys) > 0:
		return backend.Value{}, fmt.Errorf("%w: both %s (a string) and %s (a field of an object) are set; remove one", ErrConflict, plainKey, fieldKeys[0])
	case hasPlain:
		return backend.NewString(plain)
	case len(fieldKeys) > 0:
		for _, k := range fieldKeys {
			if _, err := backend.NewString(vars[k]); err != nil {
				return backend.Value{}, fmt.Errorf("%s: %w", k, err)
			}
		}
		// json.Marshal sorts the keys and escapes as backend.FromAny does,
		// so an object stored through the tools comes back byte for byte.
		raw, err := json.Marshal(fields)
		if err != nil {
			return backend.Value{}, fmt.Errorf("%w: cannot encode the fields as JSON", backend.ErrInvalidValue)
		}
		return backend.NewJSON(raw)
	default:
		return backend.Value{}, backend.ErrNotFound
	}
}
