package file

// SetFault makes every later write of s call f before each of its steps
// ("create", "write", "sync", "close", "rename"); an error f returns fails
// that step as the operating system would.
func SetFault(s *Store, f func(step string) error) { s.fault = f }

// FileName is the record file name for a credential name.
func FileName(name string) string { return fileName(name) }

// CredName is the credential name a file name stands for.
func CredName(file string) (string, bool) { return credName(file) }

// KeyInfoName and LockName are the store's own bookkeeping files.
const (
	KeyInfoName = keyInfoName
	LockName    = lockName
)
