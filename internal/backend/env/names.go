package env

import (
	"fmt"
	"strings"

	"github.com/mcp-secrets/mcp-secrets/internal/backend"
)

// markerSuffix ends the companion variable that marks a credential's plain
// variable as holding JSON: PREFIX_NAME__KIND=json. A field variable cannot
// end this way, because field segments are never empty.
const markerSuffix = "__KIND"

// markerJSON is the only value the marker variable may hold.
const markerJSON = "json"

// varKind says what role a variable plays for its credential.
type varKind int

const (
	varPlain  varKind = iota // PREFIX_NAME: a string, or JSON when marked
	varField                 // PREFIX_NAME_FIELD: one string field of an object
	varMarker                // PREFIX_NAME__KIND: marks PREFIX_NAME as JSON
)

// varInfo is what a variable name says about the credential it belongs to.
type varInfo struct {
	name  string // credential name, lower-case
	kind  varKind
	field string // lower-case field name, for varField
}

// checkPrefix reports whether prefix can start this store's variable names.
func checkPrefix(prefix string) error {
	if prefix == "" {
		return fmt.Errorf("%w: a prefix is required (--env-prefix), for example MYAPP for variables named MYAPP_*", ErrInvalidPrefix)
	}
	if strings.HasSuffix(prefix, "_") {
		return fmt.Errorf("%w: %q ends with '_'; give the prefix without it (the '_' after the prefix is added)", ErrInvalidPrefix, prefix)
	}
	if c := prefix[0]; c >= '0' && c <= '9' {
		return fmt.Errorf("%w: %q starts with a digit; a variable name cannot", ErrInvalidPrefix, prefix)
	}
	for i := 0; i < len(prefix); i++ {
		c := prefix[i]
		switch {
		case c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '_':
		case c >= 'a' && c <= 'z':
			return fmt.Errorf("%w: %q has lower-case letters; use upper-case letters, digits and '_' (try %q)", ErrInvalidPrefix, prefix, strings.ToUpper(prefix))
		default:
			return fmt.Errorf("%w: %q may use only upper-case letters, digits and '_'", ErrInvalidPrefix, prefix)
		}
	}
	return nil
}

// checkName reports whether name can be expressed as the NAME segment of
// PREFIX_NAME: backend.CheckStoreName's rules, and then only lower-case
// ASCII letters and digits.
func checkName(name string) error {
	if err := backend.CheckStoreName(name); err != nil {
		return err
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
		case c == '_':
			return fmt.Errorf("%w: %q contains '_', which separates a credential's name from its field in a variable name (PREFIX_NAME_FIELD), so the env backend cannot store it", backend.ErrInvalidName, name)
		case c == '.' || c == '-':
			return fmt.Errorf("%w: %q contains %q, which cannot appear in an environment variable name; the env backend allows lower-case letters and digits only", backend.ErrInvalidName, name, string(c))
		case c >= 'A' && c <= 'Z':
			return fmt.Errorf("%w: %q has upper-case letters, but variable names are read back lower-cased; use %q", backend.ErrInvalidName, name, strings.ToLower(name))
		default:
			return fmt.Errorf("%w: %q: the env backend allows lower-case letters and digits only", backend.ErrInvalidName, name)
		}
	}
	return nil
}

// isField reports whether f can be an object field stored as its own
// variable: lower-case letters and digits in segments joined by single '_'.
func isField(f string) bool {
	if f == "" || f[0] == '_' || f[len(f)-1] == '_' || strings.Contains(f, "__") {
		return false
	}
	for i := 0; i < len(f); i++ {
		c := f[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

// isUpperSegment reports whether s is one non-empty segment of upper-case
// letters and digits.
func isUpperSegment(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// classify says which credential, if any, the variable key belongs to.
// Only PREFIX_ followed by NAME, NAME_FIELD (FIELD being segments joined by
// single '_') or NAME__KIND, all upper-case letters and digits, is ours; any
// other variable, even one that starts with the prefix, is left alone.
func classify(prefix, key string) (varInfo, bool) {
	rest, ok := strings.CutPrefix(key, prefix+"_")
	if !ok {
		return varInfo{}, false
	}
	if n, ok := strings.CutSuffix(rest, markerSuffix); ok && isUpperSegment(n) {
		return varInfo{name: strings.ToLower(n), kind: varMarker}, true
	}
	n, f, hasField := strings.Cut(rest, "_")
	if !isUpperSegment(n) {
		return varInfo{}, false
	}
	if !hasField {
		return varInfo{name: strings.ToLower(n), kind: varPlain}, true
	}
	for seg := range strings.SplitSeq(f, "_") {
		if !isUpperSegment(seg) {
			return varInfo{}, false
		}
	}
	return varInfo{name: strings.ToLower(n), kind: varField, field: strings.ToLower(f)}, true
}

// plainVar, fieldVar and markerVar build the variable names of a credential.
func plainVar(prefix, name string) string { return prefix + "_" + strings.ToUpper(name) }

func fieldVar(prefix, name, field string) string {
	return plainVar(prefix, name) + "_" + strings.ToUpper(field)
}

func markerVar(prefix, name string) string { return plainVar(prefix, name) + markerSuffix }
