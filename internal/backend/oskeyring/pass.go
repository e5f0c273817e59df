package oskeyring

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/99designs/keyring"
)

// passStoreDir resolves the password store the way pass and the library
// do: dir, else $PASSWORD_STORE_DIR, else ~/.password-store.
func passStoreDir(dir string) (string, error) {
	if dir == "" {
		if d, ok := os.LookupEnv("PASSWORD_STORE_DIR"); ok && d != "" {
			dir = d
		} else {
			home, err := os.UserHomeDir()
			if err != nil {
				return "", fmt.Errorf("no home directory to find ~/.password-store in; set the password store directory")
			}
			dir = filepath.Join(home, ".password-store")
		}
	}
	dir, err := keyring.ExpandTilde(dir)
	if err != nil {
		return "", fmt.Errorf("no home directory to expand %q with", dir)
	}
	return dir, nil
}

// passInitialised fails unless pass knows which GPG key to encrypt our
// items to: a .gpg-id in our subdirectory or the store's root, or
// $PASSWORD_STORE_KEY.
func passInitialised(dir, namespace string) error {
	if os.Getenv("PASSWORD_STORE_KEY") != "" {
		return nil
	}
	for _, d := range []string{filepath.Join(dir, namespace), dir} {
		if _, err := os.Stat(filepath.Join(d, ".gpg-id")); err == nil {
			return nil
		}
	}
	return fmt.Errorf("the password store %s is not initialised; run `pass init GPG-KEY-ID`", dir)
}

// passItemExists reports whether the item's file is in the store.
func (s *Store) passItemExists(name string) bool {
	_, err := os.Stat(filepath.Join(s.passDir, s.namespace, name+".gpg"))
	return err == nil
}
