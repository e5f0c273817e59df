package file

import (
	"encoding/base32"
	"strings"

	"github.com/mcp-secrets/mcp-secrets/internal/backend"
)

// recordExt ends the name of every record file.
const recordExt = ".cred"

// nameEncoding turns a credential name into a file name that is all
// lowercase, so names differing only in case never collide on a
// case-insensitive file system.
var nameEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// fileName returns the record file name for a valid credential name.
func fileName(name string) string {
	return nameEncoding.EncodeToString([]byte(name)) + recordExt
}

// credName returns the credential name a record file stands for, and false
// for a file that is not one of ours: wrong extension, not base32, not the
// canonical encoding (so two files can never stand for one name), or a
// decoded name that breaks the name rules.
func credName(file string) (string, bool) {
	enc, ok := strings.CutSuffix(file, recordExt)
	if !ok || enc == "" {
		return "", false
	}
	raw, err := nameEncoding.DecodeString(enc)
	if err != nil || nameEncoding.EncodeToString(raw) != enc {
		return "", false
	}
	name := string(raw)
	if backend.CheckStoreName(name) != nil {
		return "", false
	}
	return name, true
}
