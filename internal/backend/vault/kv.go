package vault

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/mcp-secrets/mcp-secrets/internal/backend"
)

// maxResponse bounds a response body read from Vault. Our secrets are under
// 1 MiB; a listing of 10,000 names is about 200 KiB.
const maxResponse = 16 << 20

// casAttempts bounds how often Set retries an update that lost a
// check-and-set race to another writer.
const casAttempts = 3

// get sends GET <path> (with query parameters) and returns the body. Vault's
// error answers come back as *api.ResponseError.
func (s *Store) get(ctx context.Context, path string, query map[string][]string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	resp, err := s.client.Logical().ReadRawWithDataWithContext(ctx, path, query)
	if resp != nil {
		defer resp.Body.Close()
	}
	if err != nil {
		return nil, err
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse+1))
	if err != nil {
		return nil, err
	}
	if len(body) > maxResponse {
		return nil, fmt.Errorf("%w: Vault's answer is larger than %d bytes", backend.ErrUnavailable, maxResponse)
	}
	return body, nil
}

// put sends PUT <path> with a JSON body. Vault treats PUT and POST alike;
// the official client and CLI send PUT.
func (s *Store) put(ctx context.Context, path string, body any) error {
	b, err := json.Marshal(body)
	if err != nil {
		return fmt.Errorf("%w: cannot encode the request", backend.ErrInvalidValue)
	}
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	resp, err := s.client.Logical().WriteRawWithContext(ctx, path, b)
	if resp != nil {
		resp.Body.Close()
	}
	return err
}

// del sends DELETE <path>.
func (s *Store) del(ctx context.Context, path string) error {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	resp, err := s.client.Logical().DeleteRawWithContext(ctx, path)
	if resp != nil {
		resp.Body.Close()
	}
	return err
}

// dataResponse is the answer to GET <mount>/data/<path>.
type dataResponse struct {
	Data struct {
		Data     map[string]json.RawMessage `json:"data"`
		Metadata struct {
			CreatedTime string `json:"created_time"`
			Version     int    `json:"version"`
		} `json:"metadata"`
	} `json:"data"`
}

// metaResponse is the answer to GET <mount>/metadata/<path>.
type metaResponse struct {
	Data struct {
		CurrentVersion int               `json:"current_version"`
		CustomMetadata map[string]string `json:"custom_metadata"`
	} `json:"data"`
}

// listResponse is the answer to LIST <mount>/metadata/<path>/.
type listResponse struct {
	Data struct {
		Keys []string `json:"keys"`
	} `json:"data"`
}

// Get returns the record stored under name: one GET <mount>/data/<prefix>/<name>.
func (s *Store) Get(ctx context.Context, name string) (backend.Record, error) {
	if err := backend.CheckStoreName(name); err != nil {
		return backend.Record{}, fmt.Errorf("vault: get: %w", err)
	}
	o := op{what: fmt.Sprintf("get %q", name), capability: "read", path: s.dataPath(name)}
	body, err := s.get(ctx, o.path, nil)
	if statusOf(err) == http.StatusNotFound && !says(err, phraseNoHandler) {
		// Never written, deleted, or its latest version deleted or destroyed.
		return backend.Record{}, fmt.Errorf("vault: %s: %w", o.what, backend.ErrNotFound)
	}
	if err != nil {
		return backend.Record{}, s.fail(ctx, o, err)
	}
	var dr dataResponse
	if err := json.Unmarshal(body, &dr); err != nil {
		return backend.Record{}, fmt.Errorf("vault: %s: %w: Vault's answer is not the KV version 2 secret expected", o.what, backend.ErrUnavailable)
	}
	if dr.Data.Data == nil {
		return backend.Record{}, fmt.Errorf("vault: %s: %w", o.what, backend.ErrNotFound)
	}
	created, _ := time.Parse(time.RFC3339Nano, dr.Data.Metadata.CreatedTime)
	rec, err := decodeData(dr.Data.Data, created.UTC())
	if err != nil {
		return backend.Record{}, fmt.Errorf("vault: %s: %w", o.what, err)
	}
	return rec, nil
}

// readMeta reads name's metadata. found is false when there is none.
func (s *Store) readMeta(ctx context.Context, what, name string) (meta metaResponse, found bool, err error) {
	o := op{what: what, capability: "read", path: s.metaPath(name)}
	body, err := s.get(ctx, o.path, nil)
	if statusOf(err) == http.StatusNotFound && !says(err, phraseNoHandler) {
		return metaResponse{}, false, nil
	}
	if err != nil {
		return metaResponse{}, false, s.fail(ctx, o, err)
	}
	if err := json.Unmarshal(body, &meta); err != nil {
		return metaResponse{}, false, fmt.Errorf("vault: %s: %w: Vault's answer is not the KV version 2 metadata expected", what, backend.ErrUnavailable)
	}
	return meta, true, nil
}

// Set stores rec under name as a new version of <mount>/data/<prefix>/<name>:
//
//	GET  <mount>/metadata/<prefix>/<name>            current version, custom_metadata
//	PUT  <mount>/data/<prefix>/<name>                {"options":{"cas":N},"data":{...}}
//	PUT  <mount>/metadata/<prefix>/<name>            {"custom_metadata":{...}}, only if it changes
//
// A name without metadata is created with cas=0, which Vault refuses if
// another writer created it meanwhile: Set then fails with
// backend.ErrExists. An existing name is updated with cas set to the
// version just read; if another writer got in between, Set reads again and
// retries (up to three attempts), as the caller asked for an overwrite.
func (s *Store) Set(ctx context.Context, name string, rec backend.Record) error {
	if err := backend.CheckStoreName(name); err != nil {
		return fmt.Errorf("vault: set: %w", err)
	}
	what := fmt.Sprintf("set %q", name)
	if rec.Value.IsZero() {
		return fmt.Errorf("vault: %s: %w: value is required", what, backend.ErrInvalidValue)
	}
	if n := rec.Value.Len(); n > MaxValueSize {
		return fmt.Errorf("vault: %s: %w: value is %d bytes; the limit is %d", what, backend.ErrTooLarge, n, MaxValueSize)
	}
	data, err := encodeData(rec)
	if err != nil {
		return fmt.Errorf("vault: %s: %w", what, err)
	}
	defer s.locks.Lock(name)()
	for attempt := 1; ; attempt++ {
		meta, exists, err := s.readMeta(ctx, what, name)
		if err != nil {
			return err
		}
		o := op{what: what, capability: "create", path: s.dataPath(name)}
		if exists {
			o.capability = "update"
		}
		body := map[string]any{
			"options": map[string]int{"cas": meta.Data.CurrentVersion},
			"data":    data,
		}
		err = s.put(ctx, o.path, body)
		switch {
		case err == nil:
		case statusOf(err) == http.StatusBadRequest && says(err, phraseCASMismatch) && !exists:
			return fmt.Errorf("vault: %s: %w: another writer created it at the same moment", what, backend.ErrExists)
		case statusOf(err) == http.StatusBadRequest && says(err, phraseCASMismatch) && attempt < casAttempts:
			continue
		case statusOf(err) == http.StatusBadRequest && says(err, phraseCASMismatch):
			return fmt.Errorf("vault: %s: %w: other writers kept changing it; try again", what, backend.ErrUnavailable)
		default:
			return s.fail(ctx, o, err)
		}
		want := customMetadata(meta.Data.CustomMetadata, rec, s.namespace)
		if maps.Equal(want, meta.Data.CustomMetadata) {
			return nil
		}
		// The data write created the metadata if there was none.
		mo := op{what: what, capability: "update", path: s.metaPath(name)}
		if err := s.put(ctx, mo.path, map[string]any{"custom_metadata": want}); err != nil {
			return fmt.Errorf("%w (the value was stored; only its custom_metadata was not)", s.fail(ctx, mo, err))
		}
		return nil
	}
}

// Delete removes name and all its versions:
//
//	GET    <mount>/metadata/<prefix>/<name>   (Vault answers a delete of a missing path with 204 too)
//	DELETE <mount>/metadata/<prefix>/<name>
func (s *Store) Delete(ctx context.Context, name string) error {
	if err := backend.CheckStoreName(name); err != nil {
		return fmt.Errorf("vault: delete: %w", err)
	}
	what := fmt.Sprintf("delete %q", name)
	defer s.locks.Lock(name)()
	_, exists, err := s.readMeta(ctx, what, name)
	if err != nil {
		return err
	}
	if !exists {
		return fmt.Errorf("vault: %s: %w", what, backend.ErrNotFound)
	}
	o := op{what: what, capability: "delete", path: s.metaPath(name)}
	if err := s.del(ctx, o.path); err != nil {
		return s.fail(ctx, o, err)
	}
	return nil
}

// List returns the names under the prefix, sorted: one LIST of
// <mount>/metadata/<prefix>/ (sent as GET with list=true, as the official
// client does). Sub-folders and names that are not valid store names are
// left out.
func (s *Store) List(ctx context.Context) ([]string, error) {
	o := op{what: "list", capability: "list", path: s.listPath()}
	body, err := s.get(ctx, o.path, map[string][]string{"list": {"true"}})
	if statusOf(err) == http.StatusNotFound && !says(err, phraseNoHandler) {
		return []string{}, nil // Vault answers an empty folder with 404
	}
	if err != nil {
		return nil, s.fail(ctx, o, err)
	}
	var lr listResponse
	if err := json.Unmarshal(body, &lr); err != nil {
		return nil, fmt.Errorf("vault: list: %w: Vault's answer is not the key list expected", backend.ErrUnavailable)
	}
	names := make([]string, 0, len(lr.Data.Keys))
	for _, k := range lr.Data.Keys {
		if strings.HasSuffix(k, "/") || backend.CheckStoreName(k) != nil {
			continue
		}
		names = append(names, k)
	}
	slices.Sort(names)
	return slices.Compact(names), nil
}
