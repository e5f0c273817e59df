package vault

import (
	"fmt"
	"strings"
)

// cleanPath checks a mount or path prefix given as an option and returns
// it without leading or trailing slashes. what names the option in errors.
// Each segment must be non-empty, not "." or "..", and made of ASCII
// letters, digits, '.', '_' and '-', so that the paths built from it need
// no escaping and cannot climb out of the prefix.
func cleanPath(what, p string) (string, error) {
	p = strings.Trim(p, "/")
	if p == "" {
		return "", fmt.Errorf("vault: %s must not be empty", what)
	}
	if len(p) > 256 {
		return "", fmt.Errorf("vault: %s is %d bytes; the limit is 256", what, len(p))
	}
	for seg := range strings.SplitSeq(p, "/") {
		switch seg {
		case "":
			return "", fmt.Errorf("vault: %s %q must not contain an empty segment (\"//\")", what, p)
		case ".", "..":
			return "", fmt.Errorf("vault: %s %q must not contain a %q segment", what, p, seg)
		}
		for i := 0; i < len(seg); i++ {
			c := seg[i]
			if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-' {
				continue
			}
			return "", fmt.Errorf("vault: %s %q may use only letters, digits, '.', '_', '-' and '/' between segments", what, p)
		}
	}
	return p, nil
}

// dataPath is the KV v2 API path of name's data: <mount>/data/<prefix>/<name>.
func (s *Store) dataPath(name string) string {
	return s.mount + "/data/" + s.prefix + "/" + name
}

// metaPath is the KV v2 API path of name's metadata: <mount>/metadata/<prefix>/<name>.
func (s *Store) metaPath(name string) string {
	return s.mount + "/metadata/" + s.prefix + "/" + name
}

// listPath is the KV v2 API path listed for our names: <mount>/metadata/<prefix>/.
// The client's path joining drops the trailing slash; Vault appends it to
// every list request (http/logical.go), which keeps a sibling prefix
// (mcp/x-other) out.
func (s *Store) listPath() string {
	return s.mount + "/metadata/" + s.prefix + "/"
}
