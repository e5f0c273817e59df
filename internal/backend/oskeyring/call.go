package oskeyring

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// errLibraryPanic stands in for a panic inside the keyring library (it
// asserts D-Bus reply types, for one). The panic value is dropped: it could
// hold data.
var errLibraryPanic = errors.New("the keyring library failed unexpectedly")

// stallError reports a call that did not finish in time.
type stallError struct {
	after time.Duration
	busy  bool  // an earlier call still holds the keyring
	cause error // the context's error
}

func (e *stallError) Error() string {
	if errors.Is(e.cause, context.Canceled) {
		return "the request was cancelled before the keyring answered"
	}
	if e.busy {
		return fmt.Sprintf("an earlier call has not returned after %s", e.after)
	}
	return fmt.Sprintf("no answer within %s", e.after)
}

func (e *stallError) Unwrap() error { return e.cause }

// call runs fn, which calls into the keyring library, in a goroutine and
// waits at most timeout (and no longer than ctx) for it. The library takes
// no context, so a call that hangs (an unlock prompt nobody answers) is left
// running; its result is dropped. With sem non-nil, calls run one at a time
// and a hung call keeps later ones waiting until their own timeouts.
func call[T any](ctx context.Context, timeout time.Duration, sem chan struct{}, fn func() (T, error)) (T, error) {
	var zero T
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if ctx.Err() != nil {
		return zero, &stallError{after: timeout, cause: context.Cause(ctx)}
	}
	if sem != nil {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			return zero, &stallError{after: timeout, busy: true, cause: context.Cause(ctx)}
		}
	}
	type result struct {
		v   T
		err error
	}
	done := make(chan result, 1)
	go func() {
		if sem != nil {
			defer func() { <-sem }()
		}
		defer func() {
			if recover() != nil {
				done <- result{err: errLibraryPanic}
			}
		}()
		v, err := fn()
		done <- result{v, err}
	}()
	select {
	case r := <-done:
		return r.v, r.err
	case <-ctx.Done():
		return zero, &stallError{after: timeout, cause: context.Cause(ctx)}
	}
}
