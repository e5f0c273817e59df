package backend

import (
	"fmt"
	"strings"
)

// MaxNameLen is the longest credential name, in bytes.
const MaxNameLen = 128

// ReservedPrefix starts the names the server keeps for itself.
const ReservedPrefix = "__"

// IndexName is the name under which a Catalog keeps its index.
const IndexName = "__secret_index__"

// CheckName reports whether name may be used for a credential: 1 to 128
// characters of ASCII letters, digits, '.', '_' and '-', not "." or "..",
// no "..", and not starting with the reserved prefix "__".
func CheckName(name string) error {
	if err := checkChars(name); err != nil {
		return err
	}
	if strings.HasPrefix(name, ReservedPrefix) {
		return fmt.Errorf("%w: %q starts with %q, which is reserved", ErrInvalidName, name, ReservedPrefix)
	}
	return nil
}

// CheckStoreName is the rule a Store enforces: CheckName's character rules,
// but reserved names are allowed, as the Catalog keeps its index under one.
func CheckStoreName(name string) error {
	return checkChars(name)
}

func checkChars(name string) error {
	if name == "" {
		return fmt.Errorf("%w: name must not be empty", ErrInvalidName)
	}
	if len(name) > MaxNameLen {
		return fmt.Errorf("%w: name is %d bytes; the limit is %d", ErrInvalidName, len(name), MaxNameLen)
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '_', c == '-', c == '.':
		case c == '/' || c == '\\':
			return fmt.Errorf("%w: name must not contain %q", ErrInvalidName, string(c))
		case c < 0x20 || c == 0x7f:
			return fmt.Errorf("%w: name must not contain control characters", ErrInvalidName)
		default:
			return fmt.Errorf("%w: name may use only letters, digits, '.', '_' and '-'", ErrInvalidName)
		}
	}
	if strings.Contains(name, "..") {
		return fmt.Errorf("%w: name must not contain \"..\"", ErrInvalidName)
	}
	if name == "." {
		return fmt.Errorf("%w: name must not be \".\"", ErrInvalidName)
	}
	return nil
}
