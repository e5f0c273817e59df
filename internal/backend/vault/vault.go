package vault

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/vault/api"

	"github.com/mcp-secrets/mcp-secrets/internal/backend"
)

var (
	_ backend.Store   = (*Store)(nil)
	_ backend.Limited = (*Store)(nil)
)

// DefaultTimeout bounds each request to Vault when Options.Timeout is 0.
const DefaultTimeout = 15 * time.Second

// Environment variables read through Options.Env. The client library reads
// the others (VAULT_CACERT, VAULT_SKIP_VERIFY, VAULT_CLIENT_TIMEOUT, ...)
// from the process environment itself.
const (
	envAddr       = "VAULT_ADDR"
	envAgentAddr  = "VAULT_AGENT_ADDR"
	envToken      = "VAULT_TOKEN"
	envNamespace  = "VAULT_NAMESPACE"
	envRoleID     = "VAULT_ROLE_ID"
	envSecretID   = "VAULT_SECRET_ID"
	envMaxRetries = "VAULT_MAX_RETRIES"
	envTimeout    = "VAULT_CLIENT_TIMEOUT"
)

// approleLogin is the login path of the AppRole auth method at its default mount.
const approleLogin = "auth/approle/login"

// Options configures a Store.
type Options struct {
	// Mount is the path of the KV version 2 secrets engine; "" means "secret".
	Mount string
	// PathPrefix is the folder, inside the mount, that holds this
	// namespace's credentials, such as "mcp/mcp-secrets". It is required:
	// nothing outside it is ever read, listed or deleted.
	PathPrefix string
	// Namespace is the credentials' namespace, such as
	// backend.Namespace("mcp-secrets"); it is recorded in each secret's
	// custom_metadata. (Vault Enterprise namespaces come from VAULT_NAMESPACE.)
	Namespace string
	// Timeout bounds each request to Vault; 0 means VAULT_CLIENT_TIMEOUT
	// when set, else DefaultTimeout.
	Timeout time.Duration
	// Env looks up VAULT_ADDR (or VAULT_AGENT_ADDR), VAULT_TOKEN,
	// VAULT_NAMESPACE, VAULT_ROLE_ID, VAULT_SECRET_ID, VAULT_MAX_RETRIES and
	// VAULT_CLIENT_TIMEOUT; nil means os.Getenv. The client library reads
	// the TLS settings (VAULT_CACERT, VAULT_CAPATH, VAULT_CLIENT_CERT,
	// VAULT_CLIENT_KEY, VAULT_SKIP_VERIFY, VAULT_TLS_SERVER_NAME) from the
	// process environment.
	Env func(string) string
}

// Store is a backend.Store kept in a HashiCorp Vault (or OpenBao) KV
// version 2 secrets engine. It is safe for concurrent use: writes of one
// name are serialized within the Store, everything else runs concurrently.
type Store struct {
	client    *api.Client
	cfg       *api.Config
	mount     string
	prefix    string
	namespace string
	addr      string // for messages: scheme://host
	timeout   time.Duration
	locks     backend.NameLocks

	// AppRole only: a goroutine renews the token and logs in again when it
	// can no longer be renewed; Close stops it.
	approle   bool
	login     func(context.Context) (*api.Secret, error)
	stop      context.CancelFunc
	done      chan struct{}
	closeOnce sync.Once
}

// New connects to Vault as the environment says, checks the token (or logs
// in with AppRole), checks that Mount is a KV version 2 engine, and returns
// a Store over Mount/PathPrefix. Failures to reach or use Vault wrap
// backend.ErrUnavailable and say what to do; bad Options do not.
func New(ctx context.Context, opts Options) (*Store, error) {
	mount := opts.Mount
	if mount == "" {
		mount = "secret"
	}
	mount, err := cleanPath("mount", mount)
	if err != nil {
		return nil, err
	}
	prefix, err := cleanPath("path prefix", opts.PathPrefix)
	if err != nil {
		return nil, err
	}
	if opts.Timeout < 0 {
		return nil, fmt.Errorf("vault: timeout must not be negative, got %s", opts.Timeout)
	}
	env := opts.Env
	if env == nil {
		env = os.Getenv
	}

	cfg := api.DefaultConfig()
	if cfg.Error != nil {
		// The library's messages name the variable, never a secret.
		return nil, fmt.Errorf("vault: reading the VAULT_* environment: %v", cfg.Error)
	}
	if addr := firstSet(env(envAgentAddr), env(envAddr)); addr != "" {
		cfg.Address, cfg.AgentAddress = addr, ""
	}
	// Fail fast unless told otherwise: a sealed or unreachable Vault should
	// be reported, not retried for seconds; and a retried create could
	// report ErrExists for its own first attempt.
	cfg.MaxRetries = 0
	if v := env(envMaxRetries); v != "" {
		n, err := strconv.ParseUint(v, 10, 8)
		if err != nil {
			return nil, fmt.Errorf("vault: %s must be a small whole number", envMaxRetries)
		}
		cfg.MaxRetries = int(n)
	}
	timeout := opts.Timeout
	if timeout == 0 {
		timeout = DefaultTimeout
		if v := env(envTimeout); v != "" {
			if timeout, err = parseSeconds(v); err != nil || timeout <= 0 {
				return nil, fmt.Errorf("vault: %s must be a duration such as 30s (or a number of seconds)", envTimeout)
			}
		}
	}
	cfg.Timeout = timeout

	client, err := api.NewClient(cfg)
	if err != nil {
		return nil, fmt.Errorf("vault: %s is not a usable Vault address (check VAULT_ADDR)", displayAddr(cfg.Address))
	}
	client.SetToken(env(envToken)) // NewClient read the process's; Env decides
	if ns := env(envNamespace); ns != "" {
		client.SetNamespace(ns)
	} else {
		client.ClearNamespace()
	}

	s := &Store{
		client:    client,
		cfg:       cfg,
		mount:     mount,
		prefix:    prefix,
		namespace: opts.Namespace,
		addr:      displayAddr(client.Address()),
		timeout:   timeout,
		done:      make(chan struct{}),
	}
	var loginSecret *api.Secret
	switch roleID, secretID := env(envRoleID), env(envSecretID); {
	case env(envToken) != "":
		if err := s.checkToken(ctx); err != nil {
			s.closeIdle()
			return nil, err
		}
	case roleID != "":
		s.approle = true
		if s.login, err = s.approleLogin(roleID, secretID); err != nil {
			return nil, err
		}
		loginSecret, err = s.login(ctx)
		if err != nil {
			s.closeIdle()
			return nil, err
		}
	case secretID != "":
		return nil, errors.New("vault: VAULT_SECRET_ID is set but VAULT_ROLE_ID is not; AppRole needs both (or set VAULT_TOKEN)")
	default:
		return nil, fmt.Errorf("vault: %w: no Vault token: set VAULT_TOKEN, or VAULT_ROLE_ID and VAULT_SECRET_ID to log in with AppRole", backend.ErrUnavailable)
	}
	if err := s.checkMount(ctx); err != nil {
		s.revoke()
		s.closeIdle()
		return nil, err
	}
	if s.approle {
		bg, cancel := context.WithCancel(context.Background())
		s.stop = cancel
		go s.renew(bg, loginSecret)
	} else {
		close(s.done)
	}
	return s, nil
}

func firstSet(vals ...string) string {
	for _, v := range vals {
		if v != "" {
			return v
		}
	}
	return ""
}

// checkToken looks the token up (auth/token/lookup-self, which Vault's
// default policy allows every token).
func (s *Store) checkToken(ctx context.Context) error {
	rctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	_, err := s.client.Auth().Token().LookupSelfWithContext(rctx)
	switch {
	case err == nil:
		return nil
	case statusOf(err) == http.StatusForbidden:
		return fmt.Errorf("vault: checking the token: %w: Vault at %s refused the token (auth/token/lookup-self): it is invalid, expired or revoked, or lacks Vault's default policy; log in again and set VAULT_TOKEN", backend.ErrUnavailable, s.addr)
	default:
		return s.fail(ctx, op{what: "checking the token", capability: "read", path: "auth/token/lookup-self"}, err)
	}
}

// approleLogin returns a function that logs in with AppRole and sets the
// client's token. It uses a client of its own without a token, so that an
// expired token is never sent along.
func (s *Store) approleLogin(roleID, secretID string) (func(context.Context) (*api.Secret, error), error) {
	lc, err := api.NewClient(s.cfg)
	if err != nil {
		return nil, fmt.Errorf("vault: %s is not a usable Vault address (check VAULT_ADDR)", s.addr)
	}
	lc.ClearToken()
	if ns := s.client.Namespace(); ns != "" {
		lc.SetNamespace(ns)
	} else {
		lc.ClearNamespace()
	}
	return func(ctx context.Context) (*api.Secret, error) {
		body := map[string]any{"role_id": roleID}
		if secretID != "" {
			body["secret_id"] = secretID
		}
		rctx, cancel := context.WithTimeout(ctx, s.timeout)
		defer cancel()
		secret, err := lc.Logical().WriteWithContext(rctx, approleLogin, body)
		switch {
		case err == nil && (secret == nil || secret.Auth == nil || secret.Auth.ClientToken == ""):
			return nil, fmt.Errorf("vault: AppRole login: %w: Vault's answer carried no token", backend.ErrUnavailable)
		case err == nil:
			s.client.SetToken(secret.Auth.ClientToken)
			return secret, nil
		case statusOf(err) == http.StatusBadRequest || statusOf(err) == http.StatusForbidden:
			return nil, fmt.Errorf("vault: AppRole login: %w: Vault at %s refused VAULT_ROLE_ID/VAULT_SECRET_ID (wrong, expired or used up, or AppRole is not enabled at auth/approle)", backend.ErrUnavailable, s.addr)
		default:
			return nil, s.fail(ctx, op{what: "AppRole login", capability: "update", path: approleLogin}, err)
		}
	}, nil
}

// parseSeconds reads a duration as VAULT_CLIENT_TIMEOUT allows: "30s",
// "1m", or a bare number of seconds.
func parseSeconds(v string) (time.Duration, error) {
	if n, err := strconv.ParseUint(v, 10, 32); err == nil {
		return time.Duration(n) * time.Second, nil
	}
	return time.ParseDuration(v)
}

// renew keeps the AppRole token alive with a LifetimeWatcher, and logs in
// again when the watcher ends (the token reached its max TTL, or renewal
// kept failing). It returns when ctx is cancelled, after the watcher's own
// goroutine has ended.
func (s *Store) renew(ctx context.Context, secret *api.Secret) {
	defer close(s.done)
	for {
		w, err := s.client.NewLifetimeWatcher(&api.LifetimeWatcherInput{Secret: secret})
		if err != nil {
			return
		}
		go w.Start()
		if stopped := watch(ctx, w); stopped {
			return
		}
		if secret = s.relogin(ctx); secret == nil {
			return
		}
	}
}

// watch waits for w to end, or for ctx; then it stops w and waits for its
// goroutine. It reports whether ctx ended it.
func watch(ctx context.Context, w *api.LifetimeWatcher) bool {
	for {
		select {
		case <-ctx.Done():
			w.Stop()
			<-w.DoneCh()
			return true
		case <-w.DoneCh():
			return false
		case <-w.RenewCh():
		}
	}
}

// relogin logs in again, retrying with a growing pause (1s to 1 minute),
// until it succeeds or ctx ends (then it returns nil).
func (s *Store) relogin(ctx context.Context) *api.Secret {
	pause := time.Second
	for {
		if secret, err := s.login(ctx); err == nil {
			return secret
		}
		t := time.NewTimer(pause)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		}
		pause = min(2*pause, time.Minute)
	}
}

// revoke revokes a token this Store obtained by logging in (never one it
// was given), so that it does not outlive the Store. Failures are ignored:
// the token expires anyway.
func (s *Store) revoke() {
	if !s.approle {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), min(s.timeout, 5*time.Second))
	defer cancel()
	_ = s.client.Auth().Token().RevokeSelfWithContext(ctx, "")
	s.client.ClearToken()
}

func (s *Store) closeIdle() {
	if s.cfg.HttpClient != nil {
		s.cfg.HttpClient.CloseIdleConnections()
	}
}

// Close stops the AppRole token's renewal and waits for it, revokes a
// token obtained by AppRole, and closes idle connections. It is safe to
// call more than once.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		if s.stop != nil {
			s.stop()
		}
		<-s.done
		s.revoke()
		s.closeIdle()
	})
	return nil
}

// MaxValueSize reports the largest value a Store accepts; see the
// MaxValueSize constant.
func (s *Store) MaxValueSize() int { return MaxValueSize }

// mountInfo is the part of sys/internal/ui/mounts/<path>'s answer we use.
type mountInfo struct {
	Data struct {
		Path    string            `json:"path"`
		Type    string            `json:"type"`
		Options map[string]string `json:"options"`
	} `json:"data"`
}

// checkMount asks Vault which engine serves the mount (GET
// sys/internal/ui/mounts/<mount>, what the vault CLI's kv commands ask)
// and refuses anything but KV version 2 mounted exactly there.
func (s *Store) checkMount(ctx context.Context) error {
	path := "sys/internal/ui/mounts/" + s.mount
	o := op{what: fmt.Sprintf("checking mount %q", s.mount), capability: "read", path: s.mount + "/"}
	body, err := s.get(ctx, path, nil)
	switch {
	case statusOf(err) == http.StatusForbidden && says(err, phrasePreflight):
		return fmt.Errorf("vault: %w: Vault has no mount %q, or the token's policy grants nothing under it (check --vault-mount and the policy)", backend.ErrUnavailable, s.mount)
	case err != nil:
		return s.fail(ctx, o, err)
	}
	var mi mountInfo
	if err := json.Unmarshal(body, &mi); err != nil || mi.Data.Path == "" {
		return fmt.Errorf("vault: %s: %w: Vault's answer was not the mount description expected", o.what, backend.ErrUnavailable)
	}
	mounted := strings.TrimSuffix(mi.Data.Path, "/")
	if mounted != s.mount && !strings.HasSuffix(mounted, "/"+s.mount) {
		// With Vault Enterprise namespaces the path may carry the
		// namespace in front; anything else means s.mount lies inside
		// another mount.
		return fmt.Errorf("vault: %q is inside the mount %q, not a mount itself: set --vault-mount %s and put the rest in --vault-path-prefix", s.mount, mounted, mounted)
	}
	if mi.Data.Type != "kv" && mi.Data.Type != "generic" {
		return fmt.Errorf("vault: %w: the mount %q is a %q secrets engine, not KV; choose a KV version 2 mount with --vault-mount (vault secrets enable -path=NAME kv-v2 makes one)", backend.ErrUnavailable, s.mount, mi.Data.Type)
	}
	if v := mi.Data.Options["version"]; v != "2" {
		return fmt.Errorf("vault: %w: the mount %q is KV version 1, which keeps no versions, metadata or check-and-set; upgrade it (vault kv enable-versioning %s) or choose a KV version 2 mount", backend.ErrUnavailable, s.mount, s.mount)
	}
	return nil
}
