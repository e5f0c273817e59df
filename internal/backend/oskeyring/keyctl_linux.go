//go:build linux

package oskeyring

import (
	"encoding/binary"
	"errors"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// isKeyctlMissing reports a key that is not there: ENOKEY, or one that
// expired or was revoked (it is gone for all purposes).
func isKeyctlMissing(err error) bool {
	return errors.Is(err, syscall.ENOKEY) || errors.Is(err, syscall.EKEYEXPIRED) || errors.Is(err, syscall.EKEYREVOKED)
}

// isQuotaErr reports the kernel's per-user key quota being full.
func isQuotaErr(err error) bool {
	return errors.Is(err, syscall.EDQUOT)
}

// keyctlKeys lists the "user" keys in the namespace's keyring, which the
// library found (or made) in the user keyring when it opened. The library's
// Keys fails outright on a revoked or expired key, which stays linked until
// the kernel collects it; this skips such keys instead.
func keyctlKeys(namespace string) ([]string, error) {
	ring, err := unix.KeyctlSearch(unix.KEY_SPEC_USER_KEYRING, "keyring", namespace, 0)
	if err != nil {
		if isKeyctlMissing(err) {
			return nil, nil
		}
		return nil, err
	}
	var buf []byte
	for {
		n, err := unix.KeyctlBuffer(unix.KEYCTL_READ, ring, buf, 0)
		if err != nil {
			return nil, err
		}
		if n <= len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, n)
	}
	var names []string
	for i := 0; i+4 <= len(buf); i += 4 {
		id := int(int32(binary.NativeEndian.Uint32(buf[i:])))
		desc, err := unix.KeyctlString(unix.KEYCTL_DESCRIBE, id)
		if err != nil {
			continue // revoked, expired, or gone since the read
		}
		// type;uid;gid;perm;description, and the description may hold ';'.
		f := strings.SplitN(desc, ";", 5)
		if len(f) == 5 && f[0] == "user" {
			names = append(names, f[4])
		}
	}
	return names, nil
}
