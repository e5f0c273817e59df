//go:build !linux

package oskeyring

// keyctl exists on Linux only.

func isKeyctlMissing(error) bool { return false }

func isQuotaErr(error) bool { return false }

func keyctlKeys(string) ([]string, error) { return nil, nil }
