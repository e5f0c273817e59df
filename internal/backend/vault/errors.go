package vault

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"

	"github.com/hashicorp/vault/api"

	"github.com/mcp-secrets/mcp-secrets/internal/backend"
)

// Phrases in Vault's error responses that this package recognizes. Vault's
// own text is only matched, never passed on: a 400 can quote the request,
// and so a value.
const (
	phraseCASMismatch  = "check-and-set parameter did not match"
	phraseCASRequired  = "check-and-set parameter required"
	phraseInvalidToken = "invalid token"
	phraseSealed       = "Vault is sealed"
	phrasePreflight    = "preflight capability check returned 403"
	phraseNoHandler    = "no handler for route"
	phrasePlainHTTP    = "server gave HTTP response to HTTPS client"
)

// op describes one request for error messages: what the store was doing,
// and the capability and policy path it needed.
type op struct {
	what       string // "get \"NAME\"", "list", ...
	capability string // read, create, update, delete, list
	path       string // the API path, as a policy names it
}

// responseError returns Vault's error response, or nil for a transport
// failure.
func responseError(err error) *api.ResponseError {
	var re *api.ResponseError
	if errors.As(err, &re) {
		return re
	}
	return nil
}

// statusOf returns the HTTP status of a failed request, or 0 when Vault
// did not answer.
func statusOf(err error) int {
	if re := responseError(err); re != nil {
		return re.StatusCode
	}
	return 0
}

// says reports whether Vault's error response contains phrase.
func says(err error, phrase string) bool {
	re := responseError(err)
	if re == nil {
		return false
	}
	for _, e := range re.Errors {
		if strings.Contains(e, phrase) {
			return true
		}
	}
	return false
}

// fail turns a failed request into an error wrapping a backend sentinel.
// It never includes Vault's response body or the request's, and never the
// token. A 403 that does not say "invalid token" is checked against
// auth/token/lookup-self to tell an expired token from a policy that
// lacks the capability.
func (s *Store) fail(ctx context.Context, o op, err error) error {
	re := responseError(err)
	if re == nil {
		return fmt.Errorf("vault: %s: %w", o.what, s.transportError(ctx, err))
	}
	switch code := re.StatusCode; {
	case code == http.StatusForbidden:
		if says(err, phraseInvalidToken) || s.tokenRefused(ctx) {
			return fmt.Errorf("vault: %s: %w", o.what, s.tokenError())
		}
		return fmt.Errorf("vault: %s: %w: permission denied: the token's policy needs %s on %s", o.what, backend.ErrUnavailable, o.capability, o.path)
	case code == http.StatusServiceUnavailable && says(err, phraseSealed):
		return fmt.Errorf("vault: %s: %w: Vault at %s is sealed; unseal it (vault operator unseal) and try again", o.what, backend.ErrUnavailable, s.addr)
	case code == http.StatusServiceUnavailable:
		return fmt.Errorf("vault: %s: %w: Vault at %s is unavailable (HTTP 503: sealed, standby or in maintenance)", o.what, backend.ErrUnavailable, s.addr)
	case code == http.StatusNotFound && says(err, phraseNoHandler):
		return fmt.Errorf("vault: %s: %w: Vault has nothing mounted at %q (check --vault-mount)", o.what, backend.ErrUnavailable, s.mount)
	case code == http.StatusBadRequest && says(err, phraseCASRequired):
		return fmt.Errorf("vault: %s: %w: Vault requires check-and-set on %s, and the write did not carry it", o.what, backend.ErrUnavailable, o.path)
	case code == http.StatusTooManyRequests:
		return fmt.Errorf("vault: %s: %w: Vault rate-limited the request (HTTP 429); try again shortly", o.what, backend.ErrUnavailable)
	case code == http.StatusPreconditionFailed:
		return fmt.Errorf("vault: %s: %w: a Vault standby was not yet in sync (HTTP 412); try again", o.what, backend.ErrUnavailable)
	case code == http.StatusRequestEntityTooLarge:
		return fmt.Errorf("vault: %s: %w: Vault refused the request as too large (HTTP 413)", o.what, backend.ErrTooLarge)
	default:
		// Vault's messages are withheld: they can quote the request.
		return fmt.Errorf("vault: %s: %w: Vault answered HTTP %d %s on %s (its message is withheld, as it may quote the request)",
			o.what, backend.ErrUnavailable, code, http.StatusText(code), o.path)
	}
}

// tokenError is the error for a token Vault no longer accepts.
func (s *Store) tokenError() error {
	if s.approle {
		return fmt.Errorf("%w: Vault at %s refused the AppRole token (expired or revoked) and logging in again has not succeeded yet; check VAULT_ROLE_ID and VAULT_SECRET_ID", backend.ErrUnavailable, s.addr)
	}
	return fmt.Errorf("%w: Vault at %s refused the token: it is invalid, expired or revoked; log in again and set VAULT_TOKEN", backend.ErrUnavailable, s.addr)
}

// tokenRefused reports whether Vault refuses the token itself: older Vaults
// answer an expired token with a bare "permission denied", like a policy.
func (s *Store) tokenRefused(ctx context.Context) bool {
	if ctx.Err() != nil {
		return false
	}
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	_, err := s.client.Auth().Token().LookupSelfWithContext(ctx)
	return statusOf(err) == http.StatusForbidden
}

// transportError describes a request that got no answer from Vault. It
// names the address (without any user:password part) and the kind of
// failure; it passes on only network errors, which hold addresses and
// system-call names, never data.
func (s *Store) transportError(ctx context.Context, err error) error {
	var (
		opErr   *net.OpError
		dnsErr  *net.DNSError
		unknown x509.UnknownAuthorityError
		invalid x509.CertificateInvalidError
		host    x509.HostnameError
	)
	switch {
	case errors.Is(err, context.Canceled) && ctx.Err() != nil:
		return fmt.Errorf("%w: the request to Vault was cancelled: %w", backend.ErrUnavailable, context.Canceled)
	case errors.Is(err, context.DeadlineExceeded) || isTimeout(err):
		return fmt.Errorf("%w: Vault at %s did not answer within %s", backend.ErrUnavailable, s.addr, s.timeout)
	case errors.As(err, &unknown), errors.As(err, &invalid), errors.As(err, &host):
		return fmt.Errorf("%w: Vault at %s presented a TLS certificate this machine does not trust (set VAULT_CACERT to its CA file)", backend.ErrUnavailable, s.addr)
	case strings.Contains(err.Error(), phrasePlainHTTP):
		return fmt.Errorf("%w: Vault at %s speaks plain HTTP; set VAULT_ADDR to an http:// address (a dev server listens on http://127.0.0.1:8200)", backend.ErrUnavailable, s.addr)
	case errors.As(err, &dnsErr):
		return fmt.Errorf("%w: cannot resolve Vault's host in %s: %s (check VAULT_ADDR)", backend.ErrUnavailable, s.addr, dnsErr.Err)
	case errors.As(err, &opErr):
		return fmt.Errorf("%w: cannot reach Vault at %s: %s (check VAULT_ADDR and that Vault is running)", backend.ErrUnavailable, s.addr, opErr.Err)
	default:
		return fmt.Errorf("%w: cannot reach Vault at %s (the connection failed; check VAULT_ADDR)", backend.ErrUnavailable, s.addr)
	}
}

func isTimeout(err error) bool {
	var t interface{ Timeout() bool }
	return errors.As(err, &t) && t.Timeout()
}

// displayAddr returns addr without user information, query or fragment,
// for messages.
func displayAddr(addr string) string {
	u, err := url.Parse(addr)
	if err != nil || u.Host == "" {
		return "the configured address"
	}
	return u.Scheme + "://" + u.Host
}
