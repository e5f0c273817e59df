package backend

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"
)

// encodingMagic starts every record this program writes to a byte-oriented
// store. Each record carries its kind in a header, so a string is never
// mistaken for JSON however it looks.
const encodingMagic = "mcp-secrets/1 "

type header struct {
	Kind        Kind      `json:"kind"`
	Description string    `json:"description,omitempty"`
	Created     time.Time `json:"created,omitzero"`
	Updated     time.Time `json:"updated,omitzero"`
}

// Marshal encodes a record for a store that keeps bytes: one header line of
// JSON metadata, then the value.
func Marshal(rec Record) ([]byte, error) {
	if rec.Value.IsZero() {
		return nil, fmt.Errorf("%w: value is required", ErrInvalidValue)
	}
	h, err := json.Marshal(header{
		Kind:        rec.Value.kind,
		Description: rec.Description,
		Created:     rec.Created.UTC(),
		Updated:     rec.Updated.UTC(),
	})
	if err != nil {
		return nil, fmt.Errorf("encode record header: %w", err)
	}
	out := make([]byte, 0, len(encodingMagic)+len(h)+1+len(rec.Value.data))
	out = append(out, encodingMagic...)
	out = append(out, h...)
	out = append(out, '\n')
	out = append(out, rec.Value.data...)
	return out, nil
}

// Unmarshal decodes what Marshal wrote. Bytes without the header (an item a
// person added by hand under our namespace) are read as a string value.
// Errors never quote the data.
func Unmarshal(data []byte) (Record, error) {
	rest, ok := bytes.CutPrefix(data, []byte(encodingMagic))
	if !ok {
		v, err := NewString(string(data))
		if err != nil {
			return Record{}, err
		}
		return Record{Value: v}, nil
	}
	line, body, ok := bytes.Cut(rest, []byte{'\n'})
	if !ok {
		return Record{}, fmt.Errorf("%w: stored record has no header end", ErrInvalidValue)
	}
	var h header
	if err := json.Unmarshal(line, &h); err != nil {
		return Record{}, fmt.Errorf("%w: stored record header is malformed", ErrInvalidValue)
	}
	var v Value
	var err error
	switch h.Kind {
	case KindString:
		v, err = NewString(string(body))
	case KindObject, KindArray:
		v, err = NewJSON(body)
		if err == nil && v.kind != h.Kind {
			err = fmt.Errorf("%w: stored record kind does not match its value", ErrInvalidValue)
		}
	default:
		err = fmt.Errorf("%w: stored record has unknown kind %q", ErrInvalidValue, h.Kind)
	}
	if err != nil {
		return Record{}, err
	}
	return Record{Value: v, Description: h.Description, Created: h.Created, Updated: h.Updated}, nil
}
