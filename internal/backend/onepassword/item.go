package onepassword

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/mcp-secrets/mcp-secrets/internal/backend"
)

// The item layout; see the package documentation.
const (
	category = "API_CREDENTIAL"

	credentialID = "credential" // built-in CONCEALED field of API_CREDENTIAL
	passwordID   = "password"   // built-in field of Login and Password items
	notesID      = "notesPlain" // built-in notes field of every category

	metaSectionID    = "mcp_secrets"
	metaSectionLabel = "mcp-secrets"
	kindFieldID      = "mcp_kind"
	kindFieldLabel   = "kind"
	recordFieldID    = "mcp_record"
	recordFieldLabel = "record"

	fieldsSectionID    = "mcp_fields"
	fieldsSectionLabel = "Fields"
	fieldIDPrefix      = "mcp_field_"

	typeString    = "STRING"
	typeConcealed = "CONCEALED"
)

// opRef is a vault or section reference in op's JSON.
type opRef struct {
	ID    string `json:"id"`
	Label string `json:"label,omitempty"`
}

// opField is one field of an item as op prints it. Value is kept raw: op
// prints some field types' values as numbers.
type opField struct {
	ID      string          `json:"id"`
	Section *opRef          `json:"section,omitempty"`
	Type    string          `json:"type"`
	Label   string          `json:"label"`
	Value   json.RawMessage `json:"value,omitempty"`
}

// opItem is what op item list, get, create and edit print (list leaves out
// the fields).
type opItem struct {
	ID        string    `json:"id"`
	Title     string    `json:"title"`
	Version   int       `json:"version"`
	Vault     opRef     `json:"vault"`
	Tags      []string  `json:"tags"`
	CreatedAt string    `json:"created_at"`
	UpdatedAt string    `json:"updated_at"`
	Fields    []opField `json:"fields"`
}

// text returns a field's value as a string, and false if it has none or
// it is not a JSON string.
func (f opField) text() (string, bool) {
	if len(f.Value) == 0 {
		return "", false
	}
	var s string
	if err := json.Unmarshal(f.Value, &s); err != nil {
		return "", false
	}
	return s, true
}

// inSection reports whether f is in the section with id or label.
func (f opField) inSection(id, label string) bool {
	return f.Section != nil && (f.Section.ID == id || f.Section.Label == label)
}

// templateField is one field of an item JSON template.
type templateField struct {
	ID      string `json:"id"`
	Section *opRef `json:"section,omitempty"`
	Type    string `json:"type"`
	Purpose string `json:"purpose,omitempty"`
	Label   string `json:"label"`
	Value   string `json:"value"`
}

// template is an item JSON template, as op item create and edit read it.
type template struct {
	Title    string          `json:"title"`
	Category string          `json:"category"`
	Tags     []string        `json:"tags"`
	Sections []opRef         `json:"sections"`
	Fields   []templateField `json:"fields"`
}

// encodeItem builds the template for rec stored under name.
func encodeItem(name, tag string, rec backend.Record) ([]byte, error) {
	raw, err := backend.Marshal(rec)
	if err != nil {
		return nil, err
	}
	meta := &opRef{ID: metaSectionID, Label: metaSectionLabel}
	t := template{
		Title:    name,
		Category: category,
		Tags:     []string{tag},
		Sections: []opRef{{ID: metaSectionID, Label: metaSectionLabel}},
		Fields: []templateField{
			{ID: credentialID, Type: typeConcealed, Label: credentialID, Value: rec.Value.Text()},
			{ID: notesID, Type: typeString, Purpose: "NOTES", Label: notesID, Value: rec.Description},
			{ID: kindFieldID, Section: meta, Type: typeString, Label: kindFieldLabel, Value: string(rec.Value.Kind())},
			{ID: recordFieldID, Section: meta, Type: typeConcealed, Label: recordFieldLabel, Value: base64.StdEncoding.EncodeToString(raw)},
		},
	}
	if rec.Value.Kind() == backend.KindObject {
		fields := &opRef{ID: fieldsSectionID, Label: fieldsSectionLabel}
		n := 0
		for _, key := range rec.Value.Fields() {
			if key == "" {
				continue
			}
			v, err := rec.Value.Field(key)
			if err != nil {
				continue
			}
			t.Fields = append(t.Fields, templateField{
				ID: fieldIDPrefix + strconv.Itoa(n), Section: fields, Type: typeConcealed, Label: key, Value: v.Text(),
			})
			n++
		}
		if n > 0 {
			t.Sections = append(t.Sections, opRef{ID: fieldsSectionID, Label: fieldsSectionLabel})
		}
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(t); err != nil {
		return nil, fmt.Errorf("encode item template: %w", err)
	}
	return buf.Bytes(), nil
}

// decodeItem reads the record of an item: the mcp-secrets record when there
// is one, else (an item a person tagged by hand) its credential or password
// field as a string. Errors never quote a value.
func decodeItem(it opItem) (backend.Record, error) {
	for _, f := range it.Fields {
		if f.ID != recordFieldID && !(f.Label == recordFieldLabel && f.inSection(metaSectionID, metaSectionLabel)) {
			continue
		}
		s, ok := f.text()
		if !ok {
			return backend.Record{}, fmt.Errorf("%w: the item's mcp-secrets record is empty", backend.ErrInvalidValue)
		}
		raw, err := base64.StdEncoding.DecodeString(s)
		if err != nil {
			return backend.Record{}, fmt.Errorf("%w: the item's mcp-secrets record is damaged", backend.ErrInvalidValue)
		}
		return backend.Unmarshal(raw)
	}
	for _, id := range []string{credentialID, passwordID} {
		i := slices.IndexFunc(it.Fields, func(f opField) bool { return f.ID == id && f.Section == nil })
		if i < 0 {
			continue
		}
		s, ok := it.Fields[i].text()
		if !ok || s == "" {
			continue
		}
		v, err := backend.NewString(s)
		if err != nil {
			return backend.Record{}, err
		}
		return backend.Record{Value: v, Created: parseTime(it.CreatedAt), Updated: parseTime(it.UpdatedAt)}, nil
	}
	return backend.Record{}, fmt.Errorf("%w: the item has neither an mcp-secrets record nor a credential or password field", backend.ErrInvalidValue)
}

// parseTime reads op's RFC 3339 timestamps; anything else is the zero time.
func parseTime(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}
	}
	return t
}

// newer reports whether a should be preferred over b among duplicates: the
// most recently updated, then the highest version, then the greater ID.
func newer(a, b opItem) bool {
	ta, tb := parseTime(a.UpdatedAt), parseTime(b.UpdatedAt)
	if !ta.Equal(tb) {
		return ta.After(tb)
	}
	if a.Version != b.Version {
		return a.Version > b.Version
	}
	return a.ID > b.ID
}
