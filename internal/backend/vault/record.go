package vault

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"maps"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/mcp-secrets/mcp-secrets/internal/backend"
)

// Field names in a secret's data map.
const (
	// valueField holds a string value, or an array value (or an object
	// value whose keys clash with recordField) as JSON.
	valueField = "value"
	// recordField holds base64(backend.Marshal(record)): the whole record,
	// and what Get returns.
	recordField = "mcp-secrets-record"
)

// Keys this store sets in a secret's custom_metadata. Other keys are left
// as they are.
const (
	metaKind        = "mcp-secrets.kind"
	metaDescription = "mcp-secrets.description"
	metaNamespace   = "mcp-secrets.namespace"
)

// Vault's limits on a custom_metadata value (vault-plugin-secrets-kv,
// path_metadata.go: 1 to 512 bytes of printable characters).
const maxCustomValue = 512

// MaxValueSize is the largest value, in bytes, that a Store accepts.
//
// Vault keeps each version of a secret in one storage entry. The smallest
// documented default entry limit is Consul's 512 KiB (integrated storage's
// is 1 MiB; developer.hashicorp.com/vault/docs/internals/limits). A value
// is kept twice in the data map: once for people to read, where JSON
// escaping can make each byte six ("\u0001"), and once in the base64
// record (4/3 of it and its header). 64 KiB therefore stays under 512 KiB
// in the worst case, and it is also backend.DefaultMaxValueSize, so the
// limit costs nothing; declaring it makes the Catalog split a large index
// into chunks that fit.
const MaxValueSize = 64 << 10

// encodeData returns the data map stored for rec: the value in a form a
// person browsing Vault can read (a string as "value", an object as its own
// fields, an array as "value") plus recordField, the exact record.
func encodeData(rec backend.Record) (map[string]json.RawMessage, error) {
	raw, err := backend.Marshal(rec)
	if err != nil {
		return nil, err
	}
	data := map[string]json.RawMessage{}
	switch rec.Value.Kind() {
	case backend.KindString:
		data[valueField] = jsonString(rec.Value.Text())
	case backend.KindObject:
		var fields map[string]json.RawMessage
		if json.Unmarshal(rec.Value.Bytes(), &fields) == nil {
			if _, clash := fields[recordField]; !clash {
				data = fields
				break
			}
		}
		data[valueField] = json.RawMessage(rec.Value.Bytes())
	default:
		data[valueField] = json.RawMessage(rec.Value.Bytes())
	}
	data[recordField] = jsonString(base64.StdEncoding.EncodeToString(raw))
	return data, nil
}

// jsonString encodes s as a JSON string. Marshalling a string cannot fail.
func jsonString(s string) json.RawMessage {
	b, _ := json.Marshal(s)
	return b
}

// decodeData returns the record kept in a data map. A secret written by
// this store carries recordField, which is authoritative. One written by a
// person (under our prefix) is read as a string when its only field is a
// string "value", and otherwise as an object of its fields; its times are
// the version's creation time. Errors never quote the data.
func decodeData(data map[string]json.RawMessage, created time.Time) (backend.Record, error) {
	if raw, ok := data[recordField]; ok {
		var b64 string
		if err := json.Unmarshal(raw, &b64); err != nil {
			return backend.Record{}, fmt.Errorf("%w: the secret's %q field is not a string", backend.ErrInvalidValue, recordField)
		}
		rec, err := base64.StdEncoding.DecodeString(b64)
		if err != nil {
			return backend.Record{}, fmt.Errorf("%w: the secret's %q field is not base64", backend.ErrInvalidValue, recordField)
		}
		return backend.Unmarshal(rec)
	}
	var v backend.Value
	var err error
	var s string
	if raw, ok := data[valueField]; ok && len(data) == 1 && json.Unmarshal(raw, &s) == nil {
		v, err = backend.NewString(s)
	} else {
		var obj []byte
		obj, err = json.Marshal(data)
		if err == nil {
			v, err = backend.NewJSON(obj)
		}
	}
	if err != nil {
		return backend.Record{}, fmt.Errorf("%w: the secret's data cannot be read as a credential", backend.ErrInvalidValue)
	}
	return backend.Record{Value: v, Created: created, Updated: created}, nil
}

// customMetadata returns old (the secret's custom_metadata, possibly nil)
// with this store's keys set for rec. Keys of others are kept.
func customMetadata(old map[string]string, rec backend.Record, namespace string) map[string]string {
	m := maps.Clone(old)
	if m == nil {
		m = map[string]string{}
	}
	m[metaKind] = string(rec.Value.Kind())
	setOrDelete(m, metaDescription, printable(rec.Description))
	setOrDelete(m, metaNamespace, printable(namespace))
	return m
}

func setOrDelete(m map[string]string, k, v string) {
	if v == "" {
		delete(m, k)
	} else {
		m[k] = v
	}
}

// printable makes s fit a custom_metadata value: characters Vault calls
// unprintable (unicode.IsPrint) become spaces, and s is cut to 512 bytes on
// a character boundary. The full description stays in the record.
func printable(s string) string {
	s = strings.Map(func(r rune) rune {
		if r == utf8.RuneError || !unicode.IsPrint(r) {
			return ' '
		}
		return r
	}, s)
	s = strings.TrimSpace(s)
	if len(s) > maxCustomValue {
		i := maxCustomValue
		for i > 0 && !utf8.RuneStart(s[i]) {
			i--
		}
		s = strings.TrimSpace(s[:i])
	}
	return s
}
