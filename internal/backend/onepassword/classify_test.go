package onepassword

import (
	"errors"
	"strings"
	"testing"

	"github.com/mcp-secrets/mcp-secrets/internal/backend"
)

// leak is planted in every stderr below; no classified error may quote it.
const leak = "stderr-leak-4c1d"

func TestClassify(t *testing.T) {
	s := &Store{vault: "Team Vault"}
	cases := []struct {
		stderr string
		want   error
		says   string
	}{
		{`[ERROR] 2025/01/14 08:22:56 "` + leak + `" isn't an item in the "Team Vault" vault. Specify the item with its UUID, name, or domain.`, backend.ErrNotFound, "not found"},
		{`[ERROR] 2025/01/14 08:22:56 "` + leak + `" isn't an item. Specify the item with its UUID, name, or domain.`, backend.ErrNotFound, "not found"},
		{`[ERROR] 2026/10/07 12:00:00 "` + leak + `" isn't a vault in this account. Specify the vault with its ID or name.`, backend.ErrUnavailable, `"Team Vault"`},
		{"[ERROR] 2024/09/11 11:57:08 You are not currently signed in. Please run `op signin --help` for instructions " + leak, backend.ErrUnavailable, "op signin"},
		{"[ERROR] 2024/09/11 11:57:08 account is not signed in " + leak, backend.ErrUnavailable, "OP_SERVICE_ACCOUNT_TOKEN"},
		{"[ERROR] 2026/09/26 authorization prompt dismissed, please try again " + leak, backend.ErrUnavailable, "approve op"},
		{"[ERROR] 2025/01/04 14:41:14 (401) Unauthorized: You aren't authorized to perform this action. " + leak, backend.ErrUnavailable, "refused"},
		{"[ERROR] 2025/01/04 14:41:14 (403) Forbidden " + leak, backend.ErrUnavailable, "edit items"},
		{"[ERROR] 2026/10/07 12:00:00 (429) Too Many Requests " + leak, backend.ErrUnavailable, "rate-limiting"},
		{"[ERROR] 2026/10/07 12:00:00 unknown flag: --" + leak, backend.ErrUnavailable, "upgrade"},
		{"panic: something " + leak, backend.ErrUnavailable, "op item edit failed (exit 2)"},
		{"", backend.ErrUnavailable, "op item edit failed (exit 2)"},
	}
	for _, c := range cases {
		err := s.classify("item edit", 2, []byte(c.stderr))
		if !errors.Is(err, c.want) {
			t.Errorf("classify(%.60q) = %v, want %v", c.stderr, err, c.want)
		}
		if !strings.Contains(err.Error(), c.says) {
			t.Errorf("classify(%.60q) = %q, want it to say %q", c.stderr, err, c.says)
		}
		if strings.Contains(err.Error(), leak) {
			t.Errorf("classify(%.60q) quotes op's standard error", c.stderr)
		}
	}
}

func TestParseVersion(t *testing.T) {
	cases := []struct {
		in   string
		want [3]int
		ok   bool
	}{
		{"2.30.0\n", [3]int{2, 30, 0}, true},
		{"v2.23.1", [3]int{2, 23, 1}, true},
		{"2.31.0-beta.01\n", [3]int{2, 31, 0}, true},
		{"1.12", [3]int{1, 12, 0}, true},
		{"", [3]int{}, false},
		{"op version two", [3]int{}, false},
		{"2.x.0", [3]int{}, false},
	}
	for _, c := range cases {
		got, ok := parseVersion(c.in)
		if ok != c.ok || (ok && got != c.want) {
			t.Errorf("parseVersion(%q) = %v, %v; want %v, %v", c.in, got, ok, c.want, c.ok)
		}
	}
}

func TestNamespaceRules(t *testing.T) {
	for _, ns := range []string{"", "a,b", "a/b", " x", "x ", "tab\tx", strings.Repeat("n", maxNamespaceLen+1)} {
		if err := checkNamespace(ns); err == nil {
			t.Errorf("checkNamespace(%q) = nil, want an error", ns)
		}
	}
	for _, ns := range []string{"com.mcp.mcp-secrets", "com.mcp.a_b", "x"} {
		if err := checkNamespace(ns); err != nil {
			t.Errorf("checkNamespace(%q) = %v", ns, err)
		}
	}
}
