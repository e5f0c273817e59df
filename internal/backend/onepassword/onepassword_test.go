package onepassword_test

import (
	"context"
	"encoding/base64"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mcp-secrets/mcp-secrets/internal/backend"
	"github.com/mcp-secrets/mcp-secrets/internal/backend/backendtest"
	"github.com/mcp-secrets/mcp-secrets/internal/backend/onepassword"
)

// noLeak fails if err's text holds a canary or the fake's garbage marker,
// without printing it.
func noLeak(t *testing.T, err error) {
	t.Helper()
	if err == nil {
		return
	}
	for _, s := range append(slices.Clone(canaries), "FAKEOP-GARBAGE", "panic:", "[ERROR]") {
		if strings.Contains(err.Error(), s) {
			t.Errorf("an error's text passes on op's output or a value (error withheld; it contains %q)", s[:min(len(s), 7)])
		}
	}
}

// TestConformanceFakeOp runs the backend suite against the fake op.
func TestConformanceFakeOp(t *testing.T) {
	var mu sync.Mutex
	fakes := map[*testing.T]*fake{}
	stores := map[backend.Store]*fake{}
	backendtest.Run(t, func(t *testing.T) backend.Store {
		f := newFake(t)
		s := f.store(t)
		mu.Lock()
		defer mu.Unlock()
		fakes[t] = f
		stores[s] = f
		return s
	}, backendtest.Options{
		PlantForeign: func(t *testing.T) string {
			mu.Lock()
			f := fakes[t]
			mu.Unlock()
			cred := fakeField{ID: "credential", Type: "CONCEALED", Label: "credential", Value: "foreign-value"}
			// Our title in every way that is not ours: another namespace's
			// tag, no tag, a sub-tag of ours (op's --tags matches it), our
			// tag in upper case, and our tag in another vault.
			f.plant(t, testVault, "foreign-item", "API_CREDENTIAL", []string{"mcp:com.mcp.other"}, cred)
			f.plant(t, testVault, "foreign-item", "API_CREDENTIAL", nil, cred)
			f.plant(t, testVault, "foreign-item", "API_CREDENTIAL", []string{testTag + "/sub"}, cred)
			f.plant(t, testVault, "foreign-item", "API_CREDENTIAL", []string{strings.ToUpper(testTag)}, cred)
			f.plant(t, otherVault, "foreign-item", "API_CREDENTIAL", []string{testTag}, cred)
			return "foreign-item"
		},
		Reopen: func(t *testing.T, s backend.Store) backend.Store {
			mu.Lock()
			f := stores[s]
			mu.Unlock()
			return f.store(t)
		},
	})
}

// TestItemLayoutFakeOp checks what a person finds in 1Password: one
// API_CREDENTIAL item per credential, titled and tagged, the value in the
// credential field, object fields as concealed fields, the description as
// notes, and the exact record.
func TestItemLayoutFakeOp(t *testing.T) {
	ctx := context.Background()
	f := newFake(t)
	s := f.store(t)
	obj := backendtest.NewRecord(backendtest.MustJSON(t, `{"user":"ada","password":"`+ownCanary+`","port":5432,"nested":{"a":[1,2]}}`), "db login")
	if err := s.Set(ctx, "db", obj); err != nil {
		t.Fatalf("Set: %v", err)
	}
	str := backendtest.NewRecord(backendtest.MustString(t, "token-"+ownCanary), "")
	if err := s.Set(ctx, "api", str); err != nil {
		t.Fatalf("Set: %v", err)
	}

	items := f.ours(t, "db")
	if len(items) != 1 {
		t.Fatalf("found %d items titled db with our tag, want 1", len(items))
	}
	it := items[0]
	if it.Category != "API_CREDENTIAL" {
		t.Errorf("category = %q, want API_CREDENTIAL", it.Category)
	}
	if !slices.Equal(it.Tags, []string{testTag}) {
		t.Errorf("tags = %q, want [%q]", it.Tags, testTag)
	}
	byLabel := func(it fakeItem, section, label string) *fakeField {
		for i, fl := range it.Fields {
			in := ""
			if fl.Section != nil {
				in = fl.Section.Label
			}
			if fl.Label == label && in == section {
				return &it.Fields[i]
			}
		}
		return nil
	}
	want := map[[2]string]struct{ typ, value string }{
		{"", "credential"}:        {"CONCEALED", obj.Value.Text()},
		{"", "notesPlain"}:        {"STRING", "db login"},
		{"mcp-secrets", "kind"}:   {"STRING", "object"},
		{"Fields", "user"}:        {"CONCEALED", "ada"},
		{"Fields", "password"}:    {"CONCEALED", ownCanary},
		{"Fields", "port"}:        {"CONCEALED", "5432"},
		{"Fields", "nested"}:      {"CONCEALED", `{"a":[1,2]}`},
		{"mcp-secrets", "record"}: {"CONCEALED", ""},
		{"", "username"}:          {"STRING", ""}, // a built-in the fake adds, as op does
	}
	for k, w := range want {
		fl := byLabel(it, k[0], k[1])
		if fl == nil {
			t.Errorf("no field %q in section %q", k[1], k[0])
			continue
		}
		if fl.Type != w.typ {
			t.Errorf("field %q type = %q, want %q", k[1], fl.Type, w.typ)
		}
		if w.value != "" && fl.Value != w.value {
			t.Errorf("field %q holds the wrong value (%d bytes, want %d)", k[1], len(fl.Value), len(w.value))
		}
	}
	if fl := byLabel(it, "mcp-secrets", "record"); fl != nil {
		raw, err := base64.StdEncoding.DecodeString(fl.Value)
		if err != nil {
			t.Fatalf("record field is not base64: %v", err)
		}
		got, err := backend.Unmarshal(raw)
		if err != nil {
			t.Fatalf("record field does not decode: %v", err)
		}
		if !got.Value.Equal(obj.Value) || got.Description != obj.Description || !got.Created.Equal(obj.Created) {
			t.Errorf("record field does not hold the record written")
		}
	}

	api := f.ours(t, "api")
	if len(api) != 1 {
		t.Fatalf("found %d items titled api, want 1", len(api))
	}
	if fl := byLabel(api[0], "", "credential"); fl == nil || fl.Value != "token-"+ownCanary {
		t.Errorf("a string credential is not in the credential field")
	}
	if fl := byLabel(api[0], "Fields", "user"); fl != nil {
		t.Errorf("a string credential has object fields")
	}
}

// TestCommandsFakeOp pins the exact op commands each method runs, and
// that no argument holds a value.
func TestCommandsFakeOp(t *testing.T) {
	ctx := context.Background()
	f := newFake(t)
	opts := f.options()
	opts.Account = "my.1password.example"
	s, err := onepassword.New(ctx, opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	vaultID := f.vaultID(t, testVault)
	acct := "--account=my.1password.example"
	list := []string{"item", "list", "--vault=" + vaultID, "--tags=" + testTag, "--format=json", acct}
	step := func(name string, do func() error, want ...[]string) {
		t.Helper()
		before := len(f.argvLists(t))
		if err := do(); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		got := f.argvLists(t)[before:]
		if len(got) != len(want) {
			t.Fatalf("%s ran op %d times: %q; want %q", name, len(got), got, want)
		}
		for i := range want {
			if want[i] == nil {
				continue // an item ID, checked by shape below
			}
			if !slices.Equal(got[i], want[i]) {
				t.Errorf("%s: op command %d = %q, want %q", name, i+1, got[i], want[i])
			}
		}
	}
	v := backendtest.NewRecord(backendtest.MustString(t, ownCanary), "")
	step("Set (new)", func() error { return s.Set(ctx, "cmd", v) }, list,
		[]string{"item", "create", "--vault=" + vaultID, "--tags=" + testTag, "--format=json", "-", acct})
	id := f.ours(t, "cmd")[0].ID
	step("Set (existing)", func() error { return s.Set(ctx, "cmd", v) }, list,
		[]string{"item", "edit", id, "--vault=" + vaultID, "--tags=" + testTag, "--format=json", acct})
	step("Get", func() error { _, err := s.Get(ctx, "cmd"); return err }, list,
		[]string{"item", "get", id, "--vault=" + vaultID, "--reveal", "--format=json", acct})
	step("List", func() error { _, err := s.List(ctx); return err }, list)
	step("Delete", func() error { return s.Delete(ctx, "cmd") }, list,
		[]string{"item", "delete", id, "--vault=" + vaultID, acct})

	all := f.argvLists(t)
	if !slices.Equal(all[0], []string{"--version"}) {
		t.Errorf("New's first command = %q, want op --version", all[0])
	}
	if !slices.Equal(all[1], []string{"vault", "get", testVault, "--format=json", acct}) {
		t.Errorf("New's second command = %q, want op vault get", all[1])
	}
}

// TestForeignSameTitleFakeOp plants items with our title that are not ours
// beside our own: Get reads ours, Delete removes only ours.
func TestForeignSameTitleFakeOp(t *testing.T) {
	ctx := context.Background()
	f := newFake(t)
	s := f.store(t)
	mine := backendtest.NewRecord(backendtest.MustString(t, "mine-"+ownCanary), "mine")
	if err := s.Set(ctx, "shared", mine); err != nil {
		t.Fatalf("Set: %v", err)
	}
	cred := fakeField{ID: "credential", Type: "CONCEALED", Label: "credential", Value: "not-mine"}
	f.plant(t, testVault, "shared", "API_CREDENTIAL", []string{"mcp:com.mcp.other"}, cred)
	f.plant(t, testVault, "shared", "API_CREDENTIAL", nil, cred)
	f.plant(t, testVault, "shared", "API_CREDENTIAL", []string{testTag + "/sub"}, cred)
	f.plant(t, otherVault, "shared", "API_CREDENTIAL", []string{testTag}, cred)

	got, err := s.Get(ctx, "shared")
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	if !got.Value.Equal(mine.Value) || got.Description != "mine" {
		t.Errorf("Get returned a foreign item's value")
	}
	if err := s.Set(ctx, "shared", backendtest.NewRecord(backendtest.MustString(t, "mine-2"), "")); err != nil {
		t.Fatalf("Set over ours: %v", err)
	}
	if err := s.Delete(ctx, "shared"); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if _, err := s.Get(ctx, "shared"); !errors.Is(err, backend.ErrNotFound) {
		t.Errorf("Get after Delete: %v, want ErrNotFound", err)
	}
	left := 0
	for _, it := range f.items(t) {
		if it.Title == "shared" {
			left++
			for _, fl := range it.Fields {
				if fl.ID == "credential" && fl.Value != "not-mine" {
					t.Errorf("a foreign item was changed")
				}
			}
		}
	}
	if left != 4 {
		t.Errorf("%d foreign items titled shared are left, want all 4", left)
	}
}

// TestHandMadeItemFakeOp: an item a person tagged by hand, without our
// record, is read as a string from its credential or password field.
func TestHandMadeItemFakeOp(t *testing.T) {
	ctx := context.Background()
	f := newFake(t)
	s := f.store(t)
	f.plant(t, testVault, "by-hand", "API_CREDENTIAL", []string{testTag},
		fakeField{ID: "credential", Type: "CONCEALED", Label: "credential", Value: "hand-made value\n"})
	f.plant(t, testVault, "login", "LOGIN", []string{testTag, "work"},
		fakeField{ID: "password", Type: "CONCEALED", Purpose: "PASSWORD", Label: "password", Value: "hunter2"})
	f.plant(t, testVault, "Not A Valid Name", "API_CREDENTIAL", []string{testTag},
		fakeField{ID: "credential", Type: "CONCEALED", Label: "credential", Value: "x"})
	f.plant(t, testVault, "empty", "SECURE_NOTE", []string{testTag})

	names, err := s.List(ctx)
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	if want := []string{"by-hand", "empty", "login"}; !slices.Equal(names, want) {
		t.Errorf("List = %q, want %q (a title that is no valid name is left out)", names, want)
	}
	for name, want := range map[string]string{"by-hand": "hand-made value\n", "login": "hunter2"} {
		got, err := s.Get(ctx, name)
		if err != nil {
			t.Errorf("Get(%s): %v", name, err)
			continue
		}
		if got.Value.Kind() != backend.KindString || got.Value.Text() != want {
			t.Errorf("Get(%s) = a %s of %d bytes, want the string field", name, got.Value.Kind(), got.Value.Len())
		}
		if got.Created.IsZero() {
			t.Errorf("Get(%s): created time is zero, want the item's", name)
		}
	}
	if _, err := s.Get(ctx, "empty"); !errors.Is(err, backend.ErrInvalidValue) {
		t.Errorf("Get of an item with no value: %v, want ErrInvalidValue", err)
	}
}

// TestDuplicatesFakeOp: two items of ours with one title; Get reads the
// newest, Set edits it and removes the other.
func TestDuplicatesFakeOp(t *testing.T) {
	ctx := context.Background()
	f := newFake(t)
	s := f.store(t)
	if err := s.Set(ctx, "dup", backendtest.NewRecord(backendtest.MustString(t, "older"), "")); err != nil {
		t.Fatalf("Set: %v", err)
	}
	f.plant(t, testVault, "dup", "API_CREDENTIAL", []string{testTag},
		fakeField{ID: "credential", Type: "CONCEALED", Label: "credential", Value: "newer"})
	oldID := f.ours(t, "dup")[0].ID
	f.editState(t, func(st map[string]any) {
		for _, it := range st["items"].([]any) {
			m := it.(map[string]any)
			if m["id"] == oldID {
				m["updated_at"] = "2020-01-01T00:00:00Z"
			}
		}
	})
	got, err := s.Get(ctx, "dup")
	if err != nil || got.Value.Text() != "newer" {
		t.Fatalf("Get with duplicates: err %v, want the newest item's value", err)
	}
	if names, _ := s.List(ctx); !slices.Equal(names, []string{"dup"}) {
		t.Errorf("List with duplicates = %q, want dup once", names)
	}
	want := backendtest.NewRecord(backendtest.MustJSON(t, `["x"]`), "")
	if err := s.Set(ctx, "dup", want); err != nil {
		t.Fatalf("Set over duplicates: %v", err)
	}
	if n := len(f.ours(t, "dup")); n != 1 {
		t.Errorf("%d items titled dup after Set, want 1", n)
	}
	if got, err := s.Get(ctx, "dup"); err != nil || !got.Value.Equal(want.Value) {
		t.Errorf("Get after Set over duplicates: err %v, or the wrong value", err)
	}
}

// TestFaultsFakeOp maps each fault of op to the right sentinel and a clear
// sentence, never quoting op's output; and a failed write leaves the old
// value whole and no orphan item.
func TestFaultsFakeOp(t *testing.T) {
	cases := []struct {
		mode, on string
		do       string // get, list, set-new, set-old, delete, new
		want     error
		says     []string
	}{
		{"signedout", "", "new", backend.ErrUnavailable, []string{"not signed in", "op signin", "OP_SERVICE_ACCOUNT_TOKEN"}},
		{"signedout", "item list", "get", backend.ErrUnavailable, []string{"op signin", "OP_SERVICE_ACCOUNT_TOKEN"}},
		{"novault", "", "new", backend.ErrUnavailable, []string{`"` + testVault + `"`, "--op-vault"}},
		{"novault", "item get", "get", backend.ErrUnavailable, []string{`"` + testVault + `"`}},
		{"garbage", "version", "new", backend.ErrUnavailable, []string{"did not print a version"}},
		{"garbage", "vault get", "new", backend.ErrUnavailable, []string{"vault get", "not shown"}},
		{"garbage", "item list", "list", backend.ErrUnavailable, []string{"item list", "not shown"}},
		{"garbage", "item get", "get", backend.ErrUnavailable, []string{"item get", "not shown"}},
		{"garbage", "item create", "set-new", backend.ErrUnavailable, []string{"item create", "not shown"}},
		{"garbage", "item edit", "set-old", backend.ErrUnavailable, []string{"item edit", "not shown"}},
		{"crash", "item get", "get", backend.ErrUnavailable, []string{"op item get failed (exit 2)"}},
		{"crash", "item create", "set-new", backend.ErrUnavailable, []string{"op item create failed (exit 2)"}},
		{"crash", "item edit", "set-old", backend.ErrUnavailable, []string{"op item edit failed (exit 2)"}},
		{"crash", "item delete", "delete", backend.ErrUnavailable, []string{"op item delete failed (exit 2)"}},
	}
	for _, c := range cases {
		t.Run(c.mode+"/"+strings.ReplaceAll(c.on, " ", "-")+"/"+c.do, func(t *testing.T) {
			ctx := context.Background()
			f := newFake(t)
			good := f.store(t)
			old := backendtest.NewRecord(backendtest.MustJSON(t, `{"k":"old-`+ownCanary+`"}`), "old")
			if err := good.Set(ctx, "old", old); err != nil {
				t.Fatalf("Set: %v", err)
			}
			extra := []string{"FAKEOP_MODE=" + c.mode, "FAKEOP_MODE_ON=" + c.on}
			var err error
			if c.do == "new" {
				_, err = onepassword.New(ctx, f.options(extra...))
			} else {
				bad := f.store(t, extra...)
				newRec := backendtest.NewRecord(backendtest.MustString(t, "new-"+ownCanary), "")
				switch c.do {
				case "get":
					_, err = bad.Get(ctx, "old")
				case "list":
					_, err = bad.List(ctx)
				case "set-new":
					err = bad.Set(ctx, "fresh", newRec)
				case "set-old":
					err = bad.Set(ctx, "old", newRec)
				case "delete":
					err = bad.Delete(ctx, "old")
				}
			}
			if !errors.Is(err, c.want) {
				t.Fatalf("error = %v, want %v", err, c.want)
			}
			noLeak(t, err)
			for _, s := range c.says {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not say %q", err, s)
				}
			}
			// Nothing half-written, nothing lost, no orphan.
			if n := len(f.ours(t, "old")); n != 1 {
				t.Errorf("%d items titled old after the fault, want 1", n)
			}
			got, err := good.Get(ctx, "old")
			if err != nil {
				t.Fatalf("Get after the fault: %v", err)
			}
			if !got.Value.Equal(old.Value) {
				t.Errorf("the old value changed after a failed write")
			}
			if n := len(f.ours(t, "fresh")); n != 0 && c.mode == "crash" {
				t.Errorf("a crashed create left %d items", n)
			}
		})
	}
}

// TestHangFakeOp: an op that never answers (an unlock prompt left open) is
// killed after the timeout; the call fails clearly and no process is left.
func TestHangFakeOp(t *testing.T) {
	for _, on := range []string{"version", "item list", "item edit"} {
		t.Run(strings.ReplaceAll(on, " ", "-"), func(t *testing.T) {
			ctx := context.Background()
			f := newFake(t)
			good := f.store(t)
			if err := good.Set(ctx, "kept", backendtest.NewRecord(backendtest.MustString(t, "kept-"+ownCanary), "")); err != nil {
				t.Fatalf("Set: %v", err)
			}
			opts := f.options("FAKEOP_MODE=hang", "FAKEOP_MODE_ON="+on)
			opts.Timeout = time.Second
			start := time.Now()
			var err error
			if on == "version" {
				_, err = onepassword.New(ctx, opts)
			} else {
				s, nerr := onepassword.New(ctx, opts)
				if nerr != nil {
					t.Fatalf("New: %v", nerr)
				}
				if on == "item list" {
					_, err = s.Get(ctx, "kept")
				} else {
					err = s.Set(ctx, "kept", backendtest.NewRecord(backendtest.MustString(t, "new-"+ownCanary), ""))
				}
			}
			elapsed := time.Since(start)
			if !errors.Is(err, backend.ErrUnavailable) {
				t.Fatalf("error = %v, want ErrUnavailable", err)
			}
			noLeak(t, err)
			for _, s := range []string{"did not finish within 1s", "1Password app"} {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not say %q", err, s)
				}
			}
			if elapsed > 5*time.Second {
				t.Errorf("a hung op held the call for %s; the timeout is 1s", elapsed)
			}
			if pid := f.lastPid(t); !waitGone(pid) {
				t.Errorf("the hung op (pid %d) is still running", pid)
			}
			if got, err := good.Get(ctx, "kept"); err != nil || got.Value.Text() != "kept-"+ownCanary {
				t.Errorf("the stored value did not survive a hung op (err %v)", err)
			}
		})
	}
}

// TestNotInstalledFakeOp: a missing op says how to install it or pass
// --op-bin.
func TestNotInstalledFakeOp(t *testing.T) {
	f := newFake(t)
	opts := f.options()
	opts.Bin = filepath.Join(t.TempDir(), "no-such-op")
	_, err := onepassword.New(context.Background(), opts)
	checkNotInstalled(t, err)

	t.Setenv("PATH", t.TempDir())
	opts.Bin = ""
	_, err = onepassword.New(context.Background(), opts)
	checkNotInstalled(t, err)
	if err != nil && !strings.Contains(err.Error(), `"op"`) {
		t.Errorf("error %q does not name the program looked for", err)
	}
}

func checkNotInstalled(t *testing.T, err error) {
	t.Helper()
	if !errors.Is(err, backend.ErrUnavailable) {
		t.Fatalf("error = %v, want ErrUnavailable", err)
	}
	for _, s := range []string{"not found", "install the 1Password CLI", "--op-bin"} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error %q does not say %q", err, s)
		}
	}
}

// TestOldVersionFakeOp: an op too old for piped edits is refused at New.
func TestOldVersionFakeOp(t *testing.T) {
	f := newFake(t)
	_, err := onepassword.New(context.Background(), f.options("FAKEOP_VERSION=2.22.1"))
	if !errors.Is(err, backend.ErrUnavailable) || !strings.Contains(err.Error(), "2.23.0 or newer") {
		t.Errorf("New with op 2.22.1: %v, want ErrUnavailable asking for 2.23.0 or newer", err)
	}
	for _, v := range []string{"2.23.0", "2.30.1", "3.0.0"} {
		if _, err := onepassword.New(context.Background(), f.options("FAKEOP_VERSION="+v)); err != nil {
			t.Errorf("New with op %s: %v", v, err)
		}
	}
}

// TestOptionsFakeOp: bad options are refused before op runs.
func TestOptionsFakeOp(t *testing.T) {
	f := newFake(t)
	cases := []struct {
		edit func(*onepassword.Options)
		says string
	}{
		{func(o *onepassword.Options) { o.Vault = "" }, "--op-vault"},
		{func(o *onepassword.Options) { o.Vault = "-x" }, "vault's ID"},
		{func(o *onepassword.Options) { o.Namespace = "" }, "namespace is required"},
		{func(o *onepassword.Options) { o.Namespace = "a,b" }, `","`},
		{func(o *onepassword.Options) { o.Timeout = -time.Second }, "negative"},
	}
	for _, c := range cases {
		opts := f.options()
		c.edit(&opts)
		_, err := onepassword.New(context.Background(), opts)
		if err == nil || !strings.Contains(err.Error(), c.says) {
			t.Errorf("New: %v, want an error saying %q", err, c.says)
		}
	}
	if n := len(f.argv(t)); n != 0 {
		t.Errorf("op ran %d times for bad options, want none", n)
	}
}

// TestCancelFakeOp: a cancelled context ends the call with its error.
func TestCancelFakeOp(t *testing.T) {
	f := newFake(t)
	s := f.store(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.List(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("List with a cancelled context: %v, want context.Canceled", err)
	}
}

// TestConcurrentStoresFakeOp: two stores (two processes' worth) on one
// vault and namespace write different names at once.
func TestConcurrentStoresFakeOp(t *testing.T) {
	ctx := context.Background()
	f := newFake(t)
	a, b := f.store(t), f.store(t)
	var wg sync.WaitGroup
	for i, s := range []*onepassword.Store{a, b} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range 5 {
				name := string(rune('a'+i)) + "-" + string(rune('0'+j))
				if err := s.Set(ctx, name, backendtest.NewRecord(backendtest.MustString(t, name), "")); err != nil {
					t.Errorf("Set(%s): %v", name, err)
				}
			}
		}()
	}
	wg.Wait()
	names, err := a.List(ctx)
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	if len(names) != 10 {
		t.Errorf("List = %q, want 10 names", names)
	}
}

// TestFakeOpRefusesWhatOpWouldFake checks the fake itself: unknown flags
// and commands fail as op's do, and a value on the command line is caught.
func TestFakeOpRefusesWhatOpWouldFake(t *testing.T) {
	f := newFake(t)
	cases := []struct {
		args  []string
		stdin string
		code  int
		says  string
	}{
		{[]string{"item", "list", "--vault=Test", "--format=json", "--bogus"}, "", 1, "unknown flag: --bogus"},
		{[]string{"item", "list", "--vault=Test", "--format=json", "--reveal"}, "", 1, "unknown flag: --reveal"},
		{[]string{"item", "list", "--vault=Test", "-x"}, "", 1, "unknown shorthand flag"},
		{[]string{"item", "frobnicate"}, "", 1, `unknown command "frobnicate"`},
		{[]string{"item", "get", "x", "--vault=Test"}, "", 3, "--format=json"},
		{[]string{"item", "get", "nope", "--vault=Test", "--format=json"}, "", 1, `"nope" isn't an item in the "Test" vault`},
		{[]string{"vault", "get", "Nope", "--format=json"}, "", 1, `"Nope" isn't a vault in this account`},
		{[]string{"item", "create", "--vault=Test", "--format=json", "-", "--tags=x-secret-value"},
			`{"title":"t","category":"API_CREDENTIAL","fields":[{"id":"credential","type":"CONCEALED","label":"credential","value":"x-secret-value"}]}`,
			4, "appears on the command line"},
	}
	for _, c := range cases {
		_, stderr, code := f.op(t, c.stdin, c.args...)
		if code != c.code || !strings.Contains(stderr, c.says) {
			t.Errorf("fake op %q: exit %d, stderr %q; want exit %d saying %q", c.args, code, stderr, c.code, c.says)
		}
	}
}
