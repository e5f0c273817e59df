package backend

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/gofrs/flock"
)

// DefaultMaxValueSize is the largest credential value a Catalog accepts
// unless told otherwise: far above any password, token or key, small enough
// that a runaway tool call cannot fill a keyring.
const DefaultMaxValueSize = 64 << 10

// Limited is implemented by stores with a size limit of their own, in bytes
// of value. The Catalog splits its index into chunks that fit.
type Limited interface {
	MaxValueSize() int
}

// Meta describes a credential without its value.
type Meta struct {
	Name        string    `json:"name"`
	Kind        Kind      `json:"kind"`
	Fields      []string  `json:"fields,omitempty"`
	Size        int       `json:"size"`
	Description string    `json:"description,omitempty"`
	Created     time.Time `json:"created,omitzero"`
	Updated     time.Time `json:"updated,omitzero"`
}

// MetaOf describes rec, stored under name.
func MetaOf(name string, rec Record) Meta {
	return Meta{
		Name:        name,
		Kind:        rec.Value.Kind(),
		Fields:      rec.Value.Fields(),
		Size:        rec.Value.Len(),
		Description: rec.Description,
		Created:     rec.Created,
		Updated:     rec.Updated,
	}
}

// CatalogOptions configures a Catalog.
type CatalogOptions struct {
	// LockPath is a file used to serialize writers across processes that
	// share the namespace. Empty: writers are serialized within this process only.
	LockPath string
	// MaxValueSize limits a value's size in bytes; 0 means DefaultMaxValueSize.
	MaxValueSize int
	// Logger receives names and counts, never values. Nil discards.
	Logger *slog.Logger
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
}

// Catalog keeps a namespace's credentials in a Store together with an index
// of their metadata (under IndexName), so that listing is one read. Every
// write holds a lock across the read-modify-write of the index and
// reconciles the index with the store's own list of names, so the index
// heals after a crash between writing a value and writing the index, and
// stays right when several processes share the namespace. Before it
// replaces a credential it leaves a marker naming it (see pendingName), so
// that a crash between the two writes, which leaves the index describing
// the old record, is healed the same way.
type Catalog struct {
	store   Store
	mu      sync.Mutex
	flock   *flock.Flock
	maxSize int
	log     *slog.Logger
	now     func() time.Time
}

// NewCatalog returns a Catalog over store.
func NewCatalog(store Store, opts CatalogOptions) *Catalog {
	c := &Catalog{store: store, maxSize: opts.MaxValueSize, log: opts.Logger, now: opts.Now}
	if c.maxSize <= 0 {
		c.maxSize = DefaultMaxValueSize
	}
	if l, ok := store.(Limited); ok && l.MaxValueSize() > 0 && l.MaxValueSize() < c.maxSize {
		c.maxSize = l.MaxValueSize()
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	if c.now == nil {
		c.now = time.Now
	}
	if opts.LockPath != "" {
		c.flock = flock.New(opts.LockPath)
	}
	return c
}

// Store returns the underlying store.
func (c *Catalog) Store() Store { return c.store }

// MaxValueSize is the largest value, in bytes, that Put accepts.
func (c *Catalog) MaxValueSize() int { return c.maxSize }

// CheckWritable returns an error wrapping ErrReadOnly if the store
// refuses writes, and nil otherwise.
func (c *Catalog) CheckWritable() error {
	if w, ok := c.store.(Writable); ok {
		return w.CheckWritable()
	}
	return nil
}

// Close closes the store.
func (c *Catalog) Close() error { return c.store.Close() }

func (c *Catalog) lock(ctx context.Context) (func(), error) {
	c.mu.Lock()
	if c.flock == nil {
		return c.mu.Unlock, nil
	}
	ok, err := c.flock.TryLockContext(ctx, 5*time.Millisecond)
	if err != nil || !ok {
		c.mu.Unlock()
		if err == nil {
			err = ctx.Err()
		}
		return nil, fmt.Errorf("lock namespace: %w", err)
	}
	return func() {
		_ = c.flock.Unlock()
		c.mu.Unlock()
	}, nil
}

func (c *Catalog) indexed() bool {
	_, ok := c.store.(Unindexed)
	return !ok
}

// List returns the metadata of every credential, sorted by name.
func (c *Catalog) List(ctx context.Context) ([]Meta, error) {
	var items map[string]Meta
	var err error
	if c.indexed() {
		items, err = c.readIndex(ctx)
		if errors.Is(err, ErrNotFound) {
			items, err = c.scan(ctx)
		}
	} else {
		items, err = c.scan(ctx)
	}
	if err != nil {
		return nil, err
	}
	// Sorting the names and not the Metas moves a tenth of the bytes.
	names := make([]string, 0, len(items))
	for n := range items {
		names = append(names, n)
	}
	slices.Sort(names)
	out := make([]Meta, len(names))
	for i, n := range names {
		out[i] = items[n]
	}
	return out, nil
}

// Get returns the credential stored under name.
func (c *Catalog) Get(ctx context.Context, name string) (Record, error) {
	if err := CheckName(name); err != nil {
		return Record{}, err
	}
	return c.store.Get(ctx, name)
}

// Put stores v under name and reports whether it replaced a credential.
// Unless overwrite is set, an existing credential is left alone and
// ErrExists returned. On overwrite the creation time is kept, and so is the
// description when desc is empty.
func (c *Catalog) Put(ctx context.Context, name string, v Value, desc string, overwrite bool) (meta Meta, replaced bool, err error) {
	if err := CheckName(name); err != nil {
		return Meta{}, false, err
	}
	if v.IsZero() {
		return Meta{}, false, fmt.Errorf("%w: value is required", ErrInvalidValue)
	}
	if v.Len() == 0 {
		return Meta{}, false, fmt.Errorf("%w: value must not be empty", ErrInvalidValue)
	}
	if v.Len() > c.maxSize {
		return Meta{}, false, fmt.Errorf("%w: value is %d bytes; the limit is %d", ErrTooLarge, v.Len(), c.maxSize)
	}
	if len(desc) > 1024 || !utf8.ValidString(desc) {
		return Meta{}, false, fmt.Errorf("%w: description must be valid UTF-8 of at most 1024 bytes", ErrInvalidValue)
	}
	unlock, err := c.lock(ctx)
	if err != nil {
		return Meta{}, false, err
	}
	defer unlock()

	now := c.now().UTC().Truncate(time.Second)
	rec := Record{Value: v, Description: desc, Created: now, Updated: now}
	old, err := c.store.Get(ctx, name)
	switch {
	case err == nil:
		replaced = true
		if !overwrite {
			return Meta{}, false, fmt.Errorf("%q: %w; pass overwrite=true to replace it", name, ErrExists)
		}
		if !old.Created.IsZero() {
			rec.Created = old.Created
		}
		if desc == "" {
			rec.Description = old.Description
		}
	case errors.Is(err, ErrNotFound):
	default:
		return Meta{}, false, err
	}
	// A new name needs no marker: a crash before the index is written
	// leaves a credential the index lacks, which sync finds by its name.
	marker := ""
	if replaced && c.indexed() {
		marker = pendingName(name)
		if err := c.setText(ctx, marker, name); err != nil {
			return Meta{}, false, fmt.Errorf("replace %q: cannot record the pending write: %w", name, err)
		}
	}
	if err := c.store.Set(ctx, name, rec); err != nil {
		if marker != "" {
			// The old record is still in place and the index describes it.
			_ = c.store.Delete(ctx, marker)
		}
		return Meta{}, false, err
	}
	meta = MetaOf(name, rec)
	c.updateIndex(ctx, func(items map[string]Meta) { items[name] = meta })
	return meta, replaced, nil
}

// Delete removes the named credentials. It returns the names it deleted and
// those that did not exist; it stops at the first other error.
func (c *Catalog) Delete(ctx context.Context, names []string) (deleted, missing []string, err error) {
	for _, n := range names {
		if err := CheckName(n); err != nil {
			return nil, nil, err
		}
	}
	unlock, err := c.lock(ctx)
	if err != nil {
		return nil, nil, err
	}
	defer unlock()
	defer func() {
		if len(deleted) > 0 || len(missing) > 0 {
			c.updateIndex(ctx, func(items map[string]Meta) {
				for _, n := range deleted {
					delete(items, n)
				}
				for _, n := range missing {
					delete(items, n)
				}
			})
		}
	}()
	for _, n := range names {
		switch err := c.store.Delete(ctx, n); {
		case err == nil:
			deleted = append(deleted, n)
		case errors.Is(err, ErrNotFound):
			missing = append(missing, n)
		default:
			return deleted, missing, err
		}
	}
	return deleted, missing, nil
}

// Clear deletes every credential of the namespace, and the index, and
// returns how many credentials it deleted.
func (c *Catalog) Clear(ctx context.Context) (int, error) {
	unlock, err := c.lock(ctx)
	if err != nil {
		return 0, err
	}
	defer unlock()
	names, err := c.store.List(ctx)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, name := range names {
		if strings.HasPrefix(name, ReservedPrefix) {
			continue
		}
		if err := c.store.Delete(ctx, name); err != nil && !errors.Is(err, ErrNotFound) {
			return n, err
		}
		n++
	}
	if c.indexed() {
		for _, name := range names {
			if isIndexName(name) || strings.HasPrefix(name, pendingPrefix) {
				if err := c.store.Delete(ctx, name); err != nil && !errors.Is(err, ErrNotFound) {
					return n, err
				}
			}
		}
	}
	return n, nil
}

// Reconcile brings the index in line with the store's own list of names:
// entries are added for credentials the index misses (a crash between
// writing a value and writing the index) and dropped for credentials that
// are gone. It returns how many entries it added and dropped.
func (c *Catalog) Reconcile(ctx context.Context) (added, dropped int, err error) {
	if !c.indexed() {
		return 0, 0, nil
	}
	unlock, err := c.lock(ctx)
	if err != nil {
		return 0, 0, err
	}
	defer unlock()
	items, err := c.readIndex(ctx)
	if err != nil && !errors.Is(err, ErrNotFound) {
		c.log.Warn("index unreadable; rebuilding it", "err", err)
	}
	if items == nil {
		items = make(map[string]Meta)
	}
	added, dropped, markers, err := c.sync(ctx, items)
	if err != nil {
		return 0, 0, err
	}
	if added+dropped > 0 || len(markers) > 0 {
		if err := c.writeIndex(ctx, items); err != nil {
			return 0, 0, err
		}
	}
	c.dropMarkers(ctx, markers)
	return added, dropped, nil
}

// sync adds and drops entries of items to match the store's names, and
// describes afresh each credential that a pending marker names. It returns
// the markers it handled, to be deleted once items is written.
func (c *Catalog) sync(ctx context.Context, items map[string]Meta) (added, dropped int, markers []string, err error) {
	names, err := c.store.List(ctx)
	if err != nil {
		return 0, 0, nil, err
	}
	for _, n := range names {
		if strings.HasPrefix(n, pendingPrefix) {
			c.refresh(ctx, n, items)
			markers = append(markers, n)
		}
	}
	present := make(map[string]bool, len(names))
	for _, n := range names {
		if CheckName(n) != nil {
			continue
		}
		present[n] = true
		if _, ok := items[n]; ok {
			continue
		}
		rec, err := c.store.Get(ctx, n)
		if err != nil {
			c.log.Warn("credential unreadable while reconciling the index", "name", n, "err", err)
			continue
		}
		items[n] = MetaOf(n, rec)
		added++
	}
	for n := range items {
		if !present[n] {
			delete(items, n)
			dropped++
		}
	}
	return added, dropped, markers, nil
}

// pendingPrefix starts the names of the markers that Put leaves while it
// replaces a credential.
const pendingPrefix = ReservedPrefix + "pending_"

// pendingName is the marker Put writes, holding name, before it replaces
// the credential name and deletes once the index describes the new record.
// A crash in between leaves the marker, and the next sync describes that
// credential afresh from its record instead of keeping the old entry. The
// name is hashed to fit the name length limit; each credential has its
// own, so processes sharing the namespace never overwrite each other's.
func pendingName(name string) string {
	sum := sha256.Sum256([]byte(name))
	return pendingPrefix + hex.EncodeToString(sum[:16])
}

// refresh replaces the index entry of the credential that marker names
// with one read from its record, or drops it if the record is gone.
func (c *Catalog) refresh(ctx context.Context, marker string, items map[string]Meta) {
	m, err := c.store.Get(ctx, marker)
	if err != nil {
		return
	}
	name := m.Value.Text()
	if CheckName(name) != nil || pendingName(name) != marker {
		return
	}
	switch rec, err := c.store.Get(ctx, name); {
	case err == nil:
		items[name] = MetaOf(name, rec)
	case errors.Is(err, ErrNotFound):
		delete(items, name)
	default:
		c.log.Warn("credential unreadable while reconciling the index", "name", name, "err", err)
	}
}

// dropMarkers deletes pending markers whose credentials the index now
// describes.
func (c *Catalog) dropMarkers(ctx context.Context, markers []string) {
	for _, m := range markers {
		if err := c.store.Delete(ctx, m); err != nil && !errors.Is(err, ErrNotFound) {
			c.log.Warn("could not delete a pending-write marker; the next write retries", "err", err)
		}
	}
}

// setText stores text under a reserved name.
func (c *Catalog) setText(ctx context.Context, name, text string) error {
	v, err := NewString(text)
	if err != nil {
		return err
	}
	now := c.now().UTC().Truncate(time.Second)
	return c.store.Set(ctx, name, Record{Value: v, Created: now, Updated: now})
}

// updateIndex applies change to the index and reconciles it with the store.
// The value write has already succeeded, so a failure here is logged, not
// returned: the next write or start heals the index.
func (c *Catalog) updateIndex(ctx context.Context, change func(map[string]Meta)) {
	if !c.indexed() {
		return
	}
	items, err := c.readIndex(ctx)
	if err != nil && !errors.Is(err, ErrNotFound) {
		c.log.Warn("index unreadable; rebuilding it", "err", err)
	}
	if items == nil {
		items = make(map[string]Meta)
	}
	change(items)
	added, dropped, markers, err := c.sync(ctx, items)
	if err != nil {
		c.log.Warn("could not reconcile the index", "err", err)
	} else if added+dropped > 0 {
		c.log.Info("index reconciled", "added", added, "dropped", dropped)
	}
	if err := c.writeIndex(ctx, items); err != nil {
		c.log.Warn("could not write the index; it will be rebuilt", "err", err)
		return
	}
	c.dropMarkers(ctx, markers)
}

// scan builds the listing from the store itself, one Get per credential.
func (c *Catalog) scan(ctx context.Context) (map[string]Meta, error) {
	names, err := c.store.List(ctx)
	if err != nil {
		return nil, err
	}
	items := make(map[string]Meta, len(names))
	for _, n := range names {
		if CheckName(n) != nil {
			continue
		}
		rec, err := c.store.Get(ctx, n)
		switch {
		case errors.Is(err, ErrNotFound):
			continue
		case errors.Is(err, ErrUnavailable):
			return nil, err
		case err != nil:
			// One unreadable credential (say, conflicting variables) must
			// not hide the others.
			c.log.Warn("credential unreadable; left out of the listing", "name", n, "err", err)
			continue
		}
		items[n] = MetaOf(n, rec)
	}
	return items, nil
}

func isIndexName(name string) bool {
	return name == IndexName || strings.HasPrefix(name, IndexName+".")
}

func chunkName(i int) string { return IndexName + "." + strconv.Itoa(i) }

func (c *Catalog) readIndex(ctx context.Context) (map[string]Meta, error) {
	rec, err := c.store.Get(ctx, IndexName)
	if err != nil {
		return nil, err
	}
	items, chunks, err := decodeIndex(rec.Value.Text())
	if err != nil || chunks == 0 {
		return items, err
	}
	var buf strings.Builder
	for i := 1; i <= chunks; i++ {
		part, err := c.store.Get(ctx, chunkName(i))
		if err != nil {
			return nil, fmt.Errorf("index chunk %d: %w", i, err)
		}
		buf.WriteString(part.Value.Text())
	}
	items, _, err = decodeIndex(buf.String())
	return items, err
}

func (c *Catalog) writeIndex(ctx context.Context, items map[string]Meta) error {
	data := encodeIndex(items)
	limit := 0
	if l, ok := c.store.(Limited); ok {
		limit = l.MaxValueSize()
	}
	set := func(name, text string) error { return c.setText(ctx, name, text) }
	if limit <= 0 || len(data) <= limit {
		if err := set(IndexName, data); err != nil {
			return err
		}
		if limit <= 0 {
			return nil // only a Limited store ever holds chunks
		}
		return c.dropChunks(ctx, 0)
	}
	// Too large for one item: write the parts first, then the head that
	// counts them, so a reader never sees a head pointing at missing parts.
	parts := split(data, limit)
	for i, p := range parts {
		if err := set(chunkName(i+1), p); err != nil {
			return err
		}
	}
	if err := set(IndexName, indexHead(len(parts))); err != nil {
		return err
	}
	return c.dropChunks(ctx, len(parts))
}

// dropChunks deletes index chunks numbered above keep.
func (c *Catalog) dropChunks(ctx context.Context, keep int) error {
	names, err := c.store.List(ctx)
	if err != nil {
		return err
	}
	for _, n := range names {
		rest, ok := strings.CutPrefix(n, IndexName+".")
		if !ok {
			continue
		}
		if i, err := strconv.Atoi(rest); err == nil && i <= keep {
			continue
		}
		if err := c.store.Delete(ctx, n); err != nil && !errors.Is(err, ErrNotFound) {
			return err
		}
	}
	return nil
}

// split cuts s into parts of at most n bytes, on rune boundaries.
func split(s string, n int) []string {
	var parts []string
	for len(s) > n {
		i := n
		for i > 0 && !utf8.RuneStart(s[i]) {
			i--
		}
		parts = append(parts, s[:i])
		s = s[i:]
	}
	return append(parts, s)
}
