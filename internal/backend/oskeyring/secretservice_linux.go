//go:build linux

package oskeyring

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/godbus/dbus"
	libsecret "github.com/gsterjov/go-libsecret"

	"github.com/mcp-secrets/mcp-secrets/internal/backend"
)

// findCollection returns the Secret Service collection called name, or nil.
// It matches object paths the way 99designs/keyring does, so both agree on
// which collection is meant.
func findCollection(name string) (*libsecret.Collection, error) {
	svc, err := libsecret.NewService()
	if err != nil {
		return nil, err
	}
	cols, err := svc.Collections()
	if err != nil {
		return nil, err
	}
	want := libsecret.DBusPath + "/collection/" + name
	for i := range cols {
		if decodeObjectPath(string(cols[i].Path())) == want {
			return &cols[i], nil
		}
	}
	return nil, nil
}

// decodeObjectPath undoes the _XX escaping that Secret Service
// implementations apply to collection names in object paths.
func decodeObjectPath(p string) string {
	var b strings.Builder
	for i := 0; i < len(p); i++ {
		if p[i] == '_' && i+3 <= len(p) {
			if d, err := hex.DecodeString(p[i+1 : i+3]); err == nil {
				b.Write(d)
				i += 2
				continue
			}
		}
		b.WriteByte(p[i])
	}
	return b.String()
}

// checkCollection fails unless the Store's collection exists: the library
// would create it, which takes a desktop prompt.
func (s *Store) checkCollection(ctx context.Context) error {
	found, err := call(ctx, s.timeout, nil, func() (bool, error) {
		c, err := findCollection(s.collection)
		return c != nil, err
	})
	if err != nil {
		return s.unavailable("open", err)
	}
	if !found {
		return fmt.Errorf("%s: %w: collection %q does not exist; creating one needs a desktop prompt, so create it (for example in Seahorse) or use the default collection %q",
			s.kind.name, backend.ErrUnavailable, s.collection, DefaultCollection)
	}
	return nil
}

// collectionLocked reports whether the Store's collection is locked,
// without prompting to unlock it.
func (s *Store) collectionLocked(ctx context.Context) (bool, error) {
	locked, err := call(ctx, s.timeout, nil, func() (bool, error) {
		c, err := findCollection(s.collection)
		if err != nil || c == nil {
			return false, err
		}
		return c.Locked()
	})
	if err != nil {
		return false, s.unavailable("probe", err)
	}
	return locked, nil
}

// secretServiceKeys lists the "profile" attribute of every item in the
// Store's collection. The library's Keys lists labels instead, which anyone
// can set to anything, while its Get and Remove find items by "profile":
// listing by the same attribute keeps List, Get and Delete in agreement. A
// locked collection is unlocked first (which may prompt), as the library
// does.
func (s *Store) secretServiceKeys() ([]string, error) {
	c, err := findCollection(s.collection)
	if err != nil || c == nil {
		return nil, err
	}
	locked, err := c.Locked()
	if err != nil {
		return nil, err
	}
	if locked {
		svc, err := libsecret.NewService()
		if err != nil {
			return nil, err
		}
		if err := svc.Unlock(c); err != nil {
			return nil, err
		}
		if locked, err = c.Locked(); err != nil {
			return nil, err
		}
		if locked {
			return nil, dbus.Error{Name: "org.freedesktop.Secret.Error.IsLocked"}
		}
	}
	items, err := c.Items()
	if err != nil {
		return nil, err
	}
	conn, err := dbus.SessionBus()
	if err != nil {
		return nil, err
	}
	keys := make([]string, 0, len(items))
	for _, it := range items {
		v, err := conn.Object(libsecret.DBusServiceName, it.Path()).GetProperty("org.freedesktop.Secret.Item.Attributes")
		if err != nil {
			// The item went away since Items; skip it.
			continue
		}
		if attrs, ok := v.Value().(map[string]string); ok && attrs["profile"] != "" {
			keys = append(keys, attrs["profile"])
		}
	}
	return keys, nil
}

// diagnoseSecretService explains why the library could not open the
// Secret Service, by opening a session itself.
func diagnoseSecretService(ctx context.Context, timeout time.Duration) string {
	_, err := call(ctx, timeout, nil, func() (struct{}, error) {
		svc, err := libsecret.NewService()
		if err != nil {
			return struct{}{}, err
		}
		_, err = svc.Open()
		return struct{}{}, err
	})
	if err == nil {
		return "the Secret Service answered but the keyring library could not open it"
	}
	var st *stallError
	if errors.As(err, &st) {
		return "the Secret Service did not answer: " + st.Error()
	}
	if msg, ok := describeDBus("secret-service", err); ok {
		return msg
	}
	return "cannot open a Secret Service session"
}

// describeDBus explains a D-Bus error by its name; the message text that
// comes with it is not used.
func describeDBus(backendName string, err error) (string, bool) {
	var name string
	var val dbus.Error
	var ptr *dbus.Error
	switch {
	case errors.As(err, &val):
		name = val.Name
	case errors.As(err, &ptr) && ptr != nil:
		name = ptr.Name
	default:
		return "", false
	}
	switch name {
	case "org.freedesktop.Secret.Error.IsLocked":
		return "the keyring is locked; unlock it (log in to the desktop session, or use Seahorse) and retry", true
	case "org.freedesktop.DBus.Error.ServiceUnknown", "org.freedesktop.DBus.Error.NameHasNoOwner":
		if backendName == "kwallet" {
			return "KWallet (org.kde.kwalletd5) is not running on the session bus", true
		}
		return "no Secret Service on the session bus; start gnome-keyring-daemon (or another provider such as KeePassXC)", true
	case "org.freedesktop.DBus.Error.NoReply", "org.freedesktop.DBus.Error.Timeout", "org.freedesktop.DBus.Error.TimedOut":
		return "the keyring service did not answer", true
	case "org.freedesktop.Secret.Error.NoSuchObject", "org.freedesktop.DBus.Error.UnknownObject", "org.freedesktop.DBus.Error.UnknownMethod":
		return "the collection or item no longer exists (" + name + ")", true
	case "org.freedesktop.DBus.Error.AccessDenied":
		return "the keyring service denied access", true
	}
	return "D-Bus error " + name, true
}
