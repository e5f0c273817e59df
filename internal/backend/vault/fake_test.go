package vault_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode"
)

// fakeVault is an in-process fake of the parts of Vault's HTTP API that the
// store uses, following HashiCorp's documentation and the KV plugin's
// source (vault-plugin-secrets-kv: path_data.go, path_metadata.go):
//
//   - KV version 2 mounts: GET/PUT/POST/DELETE <mount>/data/<path> with
//     versions, max_versions, soft deletion and options.cas (cas=0 creates
//     only; a mismatch is 400 "check-and-set parameter did not match the
//     current version"; cas_required); GET/PUT/POST/DELETE and LIST (or GET
//     with list=true) on <mount>/metadata/<path>, with custom_metadata
//     validated as Vault does (at most 64 keys of 1-128 bytes, values of
//     1-512 printable bytes). A missing secret is 404 {"errors":[]}; a
//     deleted or destroyed latest version is 404 with its metadata; an
//     empty listing is 404; deleting missing metadata is 204.
//   - KV version 1 mounts and mounts of other engines.
//   - sys/internal/ui/mounts/<path>: the mount serving path, or 403
//     "preflight capability check returned 403, ..." when there is none or
//     the token's policy grants nothing under it.
//   - auth/approle/login, auth/token/lookup-self, renew-self (TTL and max
//     TTL) and revoke-self.
//   - Tokens in X-Vault-Token: an unknown, expired or revoked token gets
//     403 {"errors":["2 errors occurred:\n\t* permission denied\n\t* invalid token\n\n"]}
//     (or a bare "permission denied", as Vaults before 1.17 answer, in
//     legacy mode); a policy that lacks the capability gets 403
//     {"errors":["1 error occurred:\n\t* permission denied\n\n"]}.
//     Capabilities are checked before the handler runs, and create or
//     update is chosen by whether the secret exists, as Vault does.
//   - sealed mode: 503 {"errors":["Vault is sealed"]} for everything.
//   - a storage entry limit (Consul's default 512 KiB): a larger version is
//     refused with 500, as Vault does when storage refuses the entry.
//
// PUT and POST are the same to Vault, and so to the fake.
type fakeVault struct {
	t   *testing.T
	srv *httptest.Server

	mu         sync.Mutex
	sealed     bool
	legacy     bool // answer invalid tokens with a bare "permission denied"
	tokens     map[string]*fakeToken
	roles      map[string]*fakeRole // by role_id
	mounts     map[string]*fakeMount
	requests   []fakeRequest
	entryLimit int
	seq        int
	logins     int
	renewals   int
	revoked    []string
	// hold, if set, runs before each request is handled, without the lock:
	// tests use it to line up races.
	hold func(method, path string)
	// fault, if set, may answer a request instead of the fake.
	fault func(method, path string, body []byte) (status int, resp string, ok bool)
}

const (
	rootToken  = "hvs.fake-root-token"
	testMount  = "secret"
	testPrefix = "mcp/test"
	testNS     = "com.mcp.test"
)

type fakeToken struct {
	id         string
	policy     *fakePolicy // nil: root
	expires    time.Time   // zero: never
	ttl        time.Duration
	maxExpires time.Time // zero: none
	renewable  bool
}

// fakePolicy maps a path, or a prefix ending in "*", to capabilities.
type fakePolicy map[string][]string

type fakeRole struct {
	secretID string
	policy   *fakePolicy
	ttl      time.Duration
	maxTTL   time.Duration
}

type fakeMount struct {
	typ         string
	version     string // options.version: "2", "1" or ""
	casRequired bool
	kv2         map[string]*fakeSecret
	kv1         map[string]json.RawMessage
}

type fakeSecret struct {
	current     int
	oldest      int
	created     time.Time
	updated     time.Time
	versions    map[int]*fakeVersion
	custom      map[string]string
	maxVersions int
	casRequired bool
}

type fakeVersion struct {
	data      json.RawMessage
	created   time.Time
	deleted   time.Time
	destroyed bool
}

type fakeRequest struct {
	Method    string // LIST for GET ?list=true, PUT for POST
	Path      string // without /v1/
	Body      []byte
	Namespace string // X-Vault-Namespace
}

func (r fakeRequest) String() string { return r.Method + " " + r.Path }

// newFake starts a fake with a KV v2 mount at secret/, a KV v1 mount at
// kv1/, a transit mount at transit/, and the root token.
func newFake(t *testing.T) *fakeVault {
	t.Helper()
	f := &fakeVault{
		t:          t,
		tokens:     map[string]*fakeToken{rootToken: {id: rootToken}},
		roles:      map[string]*fakeRole{},
		mounts:     map[string]*fakeMount{},
		entryLimit: 512 << 10,
	}
	f.mount("secret", "kv", "2")
	f.mount("other-kv", "kv", "2")
	f.mount("kv1", "kv", "1")
	f.mount("transit", "transit", "")
	f.srv = httptest.NewServer(f)
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeVault) mount(path, typ, version string) *fakeMount {
	f.mu.Lock()
	defer f.mu.Unlock()
	m := &fakeMount{typ: typ, version: version, kv2: map[string]*fakeSecret{}, kv1: map[string]json.RawMessage{}}
	f.mounts[path+"/"] = m
	return m
}

// env returns an Options.Env for the fake with the root token, changed by
// kv ("KEY", "value", ...; an empty value unsets).
func (f *fakeVault) env(kv ...string) func(string) string {
	m := map[string]string{"VAULT_ADDR": f.srv.URL, "VAULT_TOKEN": rootToken}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return func(k string) string { return m[k] }
}

// addToken adds a token with the given policy (nil: root) and TTL (0: none).
func (f *fakeVault) addToken(p *fakePolicy, ttl time.Duration) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.seq++
	tok := &fakeToken{id: fmt.Sprintf("hvs.fake-token-%d", f.seq), policy: p, ttl: ttl, renewable: ttl > 0}
	if ttl > 0 {
		tok.expires = time.Now().Add(ttl)
	}
	f.tokens[tok.id] = tok
	return tok.id
}

// expire makes a token expired.
func (f *fakeVault) expire(id string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if tok := f.tokens[id]; tok != nil {
		tok.expires = time.Now().Add(-time.Second)
	}
}

func (f *fakeVault) addRole(roleID, secretID string, p *fakePolicy, ttl, maxTTL time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.roles[roleID] = &fakeRole{secretID: secretID, policy: p, ttl: ttl, maxTTL: maxTTL}
}

func (f *fakeVault) setSealed(v bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.sealed = v
}

func (f *fakeVault) setHold(h func(method, path string)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.hold = h
}

func (f *fakeVault) setFault(fn func(method, path string, body []byte) (int, string, bool)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.fault = fn
}

// reqs returns the requests so far and forgets them.
func (f *fakeVault) reqs() []fakeRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	r := f.requests
	f.requests = nil
	return r
}

func (f *fakeVault) counts() (logins, renewals int, revoked []string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.logins, f.renewals, slices.Clone(f.revoked)
}

// plant writes a KV v2 secret directly, as another program would.
func (f *fakeVault) plant(mount, key string, data map[string]any, custom map[string]string) {
	f.t.Helper()
	raw, err := json.Marshal(data)
	if err != nil {
		f.t.Fatal(err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	m := f.mounts[mount+"/"]
	s := m.kv2[key]
	if s == nil {
		s = &fakeSecret{created: time.Now().UTC(), versions: map[int]*fakeVersion{}}
		m.kv2[key] = s
	}
	s.current++
	s.versions[s.current] = &fakeVersion{data: raw, created: time.Now().UTC()}
	s.updated = time.Now().UTC()
	if custom != nil {
		s.custom = custom
	}
}

// secret returns a copy of the latest data of a KV v2 secret (nil if none)
// and its custom_metadata and version count.
func (f *fakeVault) secret(mount, key string) (data map[string]any, custom map[string]string, versions int, ok bool) {
	f.t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	s := f.mounts[mount+"/"].kv2[key]
	if s == nil {
		return nil, nil, 0, false
	}
	if v := s.versions[s.current]; v != nil && v.data != nil {
		if err := json.Unmarshal(v.data, &data); err != nil {
			f.t.Fatal(err)
		}
	}
	return data, s.custom, len(s.versions), true
}

// keys returns the keys of a KV v2 mount, sorted.
func (f *fakeVault) keys(mount string) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for k := range f.mounts[mount+"/"].kv2 {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func (f *fakeVault) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	path, ok := strings.CutPrefix(r.URL.Path, "/v1/")
	method := r.Method
	switch {
	case method == http.MethodGet && r.URL.Query().Get("list") == "true":
		method = "LIST"
	case method == http.MethodPost:
		method = http.MethodPut
	}
	f.mu.Lock()
	f.requests = append(f.requests, fakeRequest{Method: method, Path: path, Body: body, Namespace: r.Header.Get("X-Vault-Namespace")})
	hold, fault := f.hold, f.fault
	f.mu.Unlock()
	if hold != nil {
		hold(method, path)
	}
	status, resp := 404, `{"errors":[]}`
	if fault != nil {
		if s, rb, hit := fault(method, path, body); hit {
			status, resp, ok = s, rb, false
		}
	}
	if ok {
		f.mu.Lock()
		status, resp = f.route(method, path, r.Header.Get("X-Vault-Token"), body)
		f.mu.Unlock()
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	if status != http.StatusNoContent {
		_, _ = io.WriteString(w, resp)
	}
}

func errorsBody(msgs ...string) string {
	b, _ := json.Marshal(map[string][]string{"errors": append([]string{}, msgs...)})
	return string(b)
}

func dataBody(v any) string {
	b, _ := json.Marshal(map[string]any{"data": v})
	return string(b)
}

var (
	deniedBody  = errorsBody("1 error occurred:\n\t* permission denied\n\n")
	invalidBody = errorsBody("2 errors occurred:\n\t* permission denied\n\t* invalid token\n\n")
	absentBody  = errorsBody()
)

func stamp(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}

// route answers one request; f.mu is held.
func (f *fakeVault) route(method, path, token string, body []byte) (int, string) {
	if f.sealed {
		return 503, errorsBody("Vault is sealed")
	}
	if path == "auth/approle/login" && method == http.MethodPut {
		return f.approleLogin(body)
	}
	tok := f.tokens[token]
	if tok != nil && !tok.expires.IsZero() && time.Now().After(tok.expires) {
		delete(f.tokens, token)
		tok = nil
	}
	if tok == nil {
		if f.legacy || token == "" {
			return 403, errorsBody("permission denied")
		}
		return 403, invalidBody
	}
	switch {
	case path == "auth/token/lookup-self" && method == http.MethodGet:
		return 200, dataBody(f.tokenData(tok))
	case path == "auth/token/renew-self" && method == http.MethodPut:
		return f.renewSelf(tok)
	case path == "auth/token/revoke-self" && method == http.MethodPut:
		delete(f.tokens, tok.id)
		f.revoked = append(f.revoked, tok.id)
		return 204, ""
	case strings.HasPrefix(path, "sys/internal/ui/mounts/") && method == http.MethodGet:
		return f.uiMount(tok, strings.TrimPrefix(path, "sys/internal/ui/mounts/"))
	}
	mpath, m := f.mountFor(path)
	if m == nil {
		route := path
		return 404, errorsBody(fmt.Sprintf("no handler for route %q. route entry not found.", route))
	}
	rest := strings.TrimPrefix(path, mpath)
	if m.typ != "kv" {
		return 405, errorsBody("1 error occurred:\n\t* unsupported operation\n\n")
	}
	if m.version != "2" {
		return f.kv1(tok, m, mpath, method, rest, body)
	}
	return f.kv2(tok, m, mpath, method, rest, body)
}

func (f *fakeVault) mountFor(path string) (string, *fakeMount) {
	best := ""
	for p := range f.mounts {
		if (strings.HasPrefix(path, p) || path+"/" == p) && len(p) > len(best) {
			best = p
		}
	}
	if best == "" {
		return "", nil
	}
	return best, f.mounts[best]
}

func (f *fakeVault) tokenData(tok *fakeToken) map[string]any {
	ttl := 0
	expire := any(nil)
	if !tok.expires.IsZero() {
		ttl = int(time.Until(tok.expires).Seconds())
		expire = stamp(tok.expires)
	}
	policies := []string{"root"}
	if tok.policy != nil {
		policies = []string{"default", "mcp"}
	}
	return map[string]any{
		"accessor": "accessor-" + tok.id, "display_name": "token", "id": tok.id,
		"policies": policies, "renewable": tok.renewable, "ttl": ttl, "expire_time": expire,
	}
}

func (f *fakeVault) authBody(tok *fakeToken, lease time.Duration) string {
	b, _ := json.Marshal(map[string]any{"auth": map[string]any{
		"client_token": tok.id, "accessor": "accessor-" + tok.id,
		"policies": []string{"default", "mcp"}, "token_policies": []string{"default", "mcp"},
		"metadata": map[string]string{"role_name": "mcp"}, "lease_duration": int(lease.Seconds()),
		"renewable": tok.renewable,
	}})
	return string(b)
}

func (f *fakeVault) approleLogin(body []byte) (int, string) {
	var in struct {
		RoleID   string `json:"role_id"`
		SecretID string `json:"secret_id"`
	}
	if json.Unmarshal(body, &in) != nil || in.RoleID == "" {
		return 400, errorsBody("missing role_id")
	}
	role := f.roles[in.RoleID]
	if role == nil || role.secretID != in.SecretID {
		return 400, errorsBody("invalid role or secret ID")
	}
	f.seq++
	f.logins++
	now := time.Now()
	tok := &fakeToken{id: fmt.Sprintf("hvs.fake-approle-%d", f.seq), policy: role.policy, ttl: role.ttl,
		expires: now.Add(role.ttl), maxExpires: now.Add(role.maxTTL), renewable: true}
	f.tokens[tok.id] = tok
	return 200, f.authBody(tok, role.ttl)
}

func (f *fakeVault) renewSelf(tok *fakeToken) (int, string) {
	if !tok.renewable {
		return 400, errorsBody("lease is not renewable")
	}
	f.renewals++
	exp := time.Now().Add(tok.ttl)
	if !tok.maxExpires.IsZero() && exp.After(tok.maxExpires) {
		exp = tok.maxExpires
	}
	tok.expires = exp
	return 200, f.authBody(tok, time.Until(exp).Round(time.Second))
}

// allowed reports whether tok may use capability on path: the most
// specific matching rule decides (an exact path over a prefix, a longer
// prefix over a shorter), and "deny" wins within it.
func (f *fakeVault) allowed(tok *fakeToken, capability, path string) bool {
	if tok.policy == nil {
		return true
	}
	best, bestLen, exact := []string(nil), -1, false
	for glob, caps := range *tok.policy {
		if p, ok := strings.CutSuffix(glob, "*"); ok {
			if strings.HasPrefix(path, p) && !exact && len(p) > bestLen {
				best, bestLen = caps, len(p)
			}
		} else if glob == path {
			best, exact = caps, true
		}
	}
	return !slices.Contains(best, "deny") && slices.Contains(best, capability)
}

// uiMount answers sys/internal/ui/mounts/<path>.
func (f *fakeVault) uiMount(tok *fakeToken, path string) (int, string) {
	mpath, m := f.mountFor(strings.TrimSuffix(path, "/") + "/")
	preflight := errorsBody(fmt.Sprintf("preflight capability check returned 403, please ensure client's policies grant access to path %q", strings.TrimSuffix(path, "/")+"/"))
	if m == nil {
		return 403, preflight
	}
	if tok.policy != nil {
		access := false
		for glob, caps := range *tok.policy {
			if strings.HasPrefix(glob, mpath) && !slices.Contains(caps, "deny") && len(caps) > 0 {
				access = true
			}
		}
		if !access {
			return 403, preflight
		}
	}
	var opts map[string]string
	if m.version != "" {
		opts = map[string]string{"version": m.version}
	}
	return 200, dataBody(map[string]any{
		"accessor": m.typ + "_1234", "config": map[string]any{"default_lease_ttl": 0, "max_lease_ttl": 0},
		"description": "", "external_entropy_access": false, "local": false, "options": opts,
		"path": mpath, "seal_wrap": false, "type": m.typ, "uuid": "00000000-0000-0000-0000-000000000000",
	})
}

func (f *fakeVault) kv2(tok *fakeToken, m *fakeMount, mpath, method, rest string, body []byte) (int, string) {
	section, key, _ := strings.Cut(rest, "/")
	full := mpath + rest
	switch section {
	case "data":
		if key == "" || strings.HasSuffix(key, "/") {
			return 405, errorsBody("1 error occurred:\n\t* unsupported operation\n\n")
		}
		capability := map[string]string{http.MethodGet: "read", http.MethodPut: "update", http.MethodDelete: "delete"}[method]
		if capability == "" {
			return 405, errorsBody("1 error occurred:\n\t* unsupported operation\n\n")
		}
		if method == http.MethodPut && m.kv2[key] == nil {
			capability = "create"
		}
		if !f.allowed(tok, capability, full) {
			return 403, deniedBody
		}
		switch method {
		case http.MethodGet:
			return f.dataRead(m, key)
		case http.MethodPut:
			return f.dataWrite(m, key, body)
		default:
			if s := m.kv2[key]; s != nil && s.versions[s.current] != nil {
				s.versions[s.current].deleted = time.Now().UTC()
			}
			return 204, ""
		}
	case "metadata":
		if method == "LIST" {
			if !strings.HasSuffix(full, "/") {
				full += "/"
				key += "/"
			}
			if !f.allowed(tok, "list", full) {
				return 403, deniedBody
			}
			return f.metaList(m, strings.TrimPrefix(key, "/"))
		}
		if key == "" {
			return 405, errorsBody("1 error occurred:\n\t* unsupported operation\n\n")
		}
		capability := map[string]string{http.MethodGet: "read", http.MethodPut: "update", http.MethodDelete: "delete"}[method]
		if capability == "" {
			return 405, errorsBody("1 error occurred:\n\t* unsupported operation\n\n")
		}
		if method == http.MethodPut && m.kv2[key] == nil {
			capability = "create"
		}
		if !f.allowed(tok, capability, full) {
			return 403, deniedBody
		}
		switch method {
		case http.MethodGet:
			return f.metaRead(m, key)
		case http.MethodPut:
			return f.metaWrite(m, key, body)
		default:
			delete(m.kv2, key)
			return 204, ""
		}
	case "config":
		if !f.allowed(tok, "read", full) {
			return 403, deniedBody
		}
		return 200, dataBody(map[string]any{"cas_required": m.casRequired, "delete_version_after": "0s", "max_versions": 0})
	}
	return 404, errorsBody("1 error occurred:\n\t* unsupported path\n\n")
}

func (f *fakeVault) versionMeta(s *fakeSecret, n int) map[string]any {
	v := s.versions[n]
	return map[string]any{
		"created_time": stamp(v.created), "custom_metadata": s.custom,
		"deletion_time": stamp(v.deleted), "destroyed": v.destroyed, "version": n,
	}
}

func (f *fakeVault) dataRead(m *fakeMount, key string) (int, string) {
	s := m.kv2[key]
	if s == nil || s.versions[s.current] == nil {
		return 404, absentBody
	}
	v := s.versions[s.current]
	meta := f.versionMeta(s, s.current)
	if (!v.deleted.IsZero() && v.deleted.Before(time.Now())) || v.destroyed {
		return 404, dataBody(map[string]any{"data": nil, "metadata": meta})
	}
	return 200, dataBody(map[string]any{"data": v.data, "metadata": meta})
}

func (f *fakeVault) dataWrite(m *fakeMount, key string, body []byte) (int, string) {
	var in struct {
		Data    map[string]json.RawMessage `json:"data"`
		Options map[string]json.RawMessage `json:"options"`
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&in); err != nil {
		return 400, errorsBody("failed to parse JSON input: " + err.Error())
	}
	if in.Data == nil {
		return 400, errorsBody("no data provided")
	}
	s := m.kv2[key]
	current := 0
	if s != nil {
		current = s.current
	}
	if raw, ok := in.Options["cas"]; ok {
		cas, err := strconv.Atoi(string(raw))
		if err != nil {
			return 400, errorsBody("error parsing check-and-set parameter")
		}
		if cas != current {
			return 400, errorsBody("check-and-set parameter did not match the current version")
		}
	} else if m.casRequired || (s != nil && s.casRequired) {
		return 400, errorsBody("check-and-set parameter required for this call")
	}
	raw, _ := json.Marshal(in.Data)
	if f.entryLimit > 0 && len(raw) > f.entryLimit {
		return 500, errorsBody("1 error occurred:\n\t* failed to persist the version: value too large\n\n")
	}
	now := time.Now().UTC()
	if s == nil {
		s = &fakeSecret{created: now, versions: map[int]*fakeVersion{}}
		m.kv2[key] = s
	}
	s.current++
	s.updated = now
	s.versions[s.current] = &fakeVersion{data: raw, created: now}
	keep := s.maxVersions
	if keep == 0 {
		keep = 10
	}
	for n := range s.versions {
		if n <= s.current-keep {
			delete(s.versions, n)
		}
	}
	s.oldest = max(1, s.current-keep+1)
	meta := f.versionMeta(s, s.current)
	return 200, dataBody(meta)
}

func (f *fakeVault) metaRead(m *fakeMount, key string) (int, string) {
	s := m.kv2[key]
	if s == nil {
		return 404, absentBody
	}
	versions := map[string]any{}
	for n, v := range s.versions {
		versions[strconv.Itoa(n)] = map[string]any{"created_time": stamp(v.created), "deletion_time": stamp(v.deleted), "destroyed": v.destroyed}
	}
	return 200, dataBody(map[string]any{
		"cas_required": s.casRequired, "created_time": stamp(s.created), "current_version": s.current,
		"delete_version_after": "0s", "max_versions": s.maxVersions, "oldest_version": s.oldest,
		"updated_time": stamp(s.updated), "custom_metadata": s.custom, "versions": versions,
	})
}

func (f *fakeVault) metaWrite(m *fakeMount, key string, body []byte) (int, string) {
	var in struct {
		MaxVersions    *int              `json:"max_versions"`
		CasRequired    *bool             `json:"cas_required"`
		CustomMetadata map[string]string `json:"custom_metadata"`
	}
	if err := json.Unmarshal(body, &in); err != nil {
		return 400, errorsBody("failed to parse JSON input: " + err.Error())
	}
	if in.CustomMetadata != nil {
		if msg := validateCustom(in.CustomMetadata); msg != "" {
			return 400, errorsBody(msg)
		}
	}
	s := m.kv2[key]
	if s == nil {
		now := time.Now().UTC()
		s = &fakeSecret{created: now, updated: now, versions: map[int]*fakeVersion{}}
		m.kv2[key] = s
	}
	if in.MaxVersions != nil {
		s.maxVersions = *in.MaxVersions
	}
	if in.CasRequired != nil {
		s.casRequired = *in.CasRequired
	}
	if in.CustomMetadata != nil {
		s.custom = in.CustomMetadata
	}
	return 204, ""
}

// validateCustom applies vault-plugin-secrets-kv's validateCustomMetadata.
func validateCustom(cm map[string]string) string {
	if len(cm) > 64 {
		return fmt.Sprintf("custom_metadata validation failed: payload must contain at most 64 keys, provided %d", len(cm))
	}
	printable := func(s string) bool {
		return strings.IndexFunc(s, func(r rune) bool { return !unicode.IsPrint(r) }) < 0
	}
	for k, v := range cm {
		switch {
		case len(k) == 0 || len(k) > 128:
			return fmt.Sprintf("custom_metadata validation failed: length of key %q is %d but must be 0 < len(key) <= 128", k, len(k))
		case len(v) == 0 || len(v) > 512:
			return fmt.Sprintf("custom_metadata validation failed: length of value for key %q is %d but must be 0 < len(value) <= 512", k, len(v))
		case !printable(k):
			return fmt.Sprintf("custom_metadata validation failed: key %q contains unprintable characters", k)
		case !printable(v):
			return fmt.Sprintf("custom_metadata validation failed: value for key %q contains unprintable characters", k)
		}
	}
	return ""
}

// metaList lists the keys directly under folder (which ends in "/" or is
// empty): secrets by name, deeper ones as "sub/".
func (f *fakeVault) metaList(m *fakeMount, folder string) (int, string) {
	seen := map[string]bool{}
	for k := range m.kv2 {
		rest, ok := strings.CutPrefix(k, folder)
		if !ok || rest == "" {
			continue
		}
		if i := strings.IndexByte(rest, '/'); i >= 0 {
			rest = rest[:i+1]
		}
		seen[rest] = true
	}
	if len(seen) == 0 {
		return 404, absentBody
	}
	keys := make([]string, 0, len(seen))
	for k := range seen {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return 200, dataBody(map[string]any{"keys": keys})
}

// kv1 serves a KV version 1 mount: the data map is the request body.
func (f *fakeVault) kv1(tok *fakeToken, m *fakeMount, mpath, method, key string, body []byte) (int, string) {
	full := mpath + key
	switch method {
	case http.MethodGet:
		if !f.allowed(tok, "read", full) {
			return 403, deniedBody
		}
		if v, ok := m.kv1[key]; ok {
			return 200, dataBody(v)
		}
		return 404, absentBody
	case http.MethodPut:
		capability := "update"
		if _, ok := m.kv1[key]; !ok {
			capability = "create"
		}
		if !f.allowed(tok, capability, full) {
			return 403, deniedBody
		}
		m.kv1[key] = json.RawMessage(body)
		return 204, ""
	case http.MethodDelete:
		if !f.allowed(tok, "delete", full) {
			return 403, deniedBody
		}
		delete(m.kv1, key)
		return 204, ""
	case "LIST":
		var keys []string
		for k := range m.kv1 {
			if rest, ok := strings.CutPrefix(k, key); ok && rest != "" {
				keys = append(keys, rest)
			}
		}
		if len(keys) == 0 {
			return 404, absentBody
		}
		return 200, dataBody(map[string]any{"keys": keys})
	}
	return 405, errorsBody("1 error occurred:\n\t* unsupported operation\n\n")
}
