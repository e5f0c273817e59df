package backend

import "errors"

// Sentinel errors. Backends wrap them with %w and callers test them with
// errors.Is. Their text, and any text wrapped around them, may name a
// credential but never contains a value.
var (
	// ErrNotFound: no credential of that name.
	ErrNotFound = errors.New("credential not found")
	// ErrExists: a credential of that name exists and overwrite was not asked for.
	ErrExists = errors.New("credential already exists")
	// ErrInvalidName: the name breaks a naming rule; the wrapping text says which.
	ErrInvalidName = errors.New("invalid credential name")
	// ErrInvalidValue: the value is not a string or a JSON object or array.
	ErrInvalidValue = errors.New("invalid credential value")
	// ErrTooLarge: the value exceeds the backend's size limit.
	ErrTooLarge = errors.New("credential value too large")
	// ErrReadOnly: the store does not accept writes.
	ErrReadOnly = errors.New("store is read-only")
	// ErrUnavailable: the storage service cannot be reached, is locked, or
	// refused the credentials (for example a wrong passphrase).
	ErrUnavailable = errors.New("store unavailable")
)
