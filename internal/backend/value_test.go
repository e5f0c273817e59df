package backend_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/mcp-secrets/mcp-secrets/internal/backend"
	"github.com/mcp-secrets/mcp-secrets/internal/backend/backendtest"
)

func TestValueNeverPrints(t *testing.T) {
	v := backendtest.MustString(t, canary)
	obj, err := backend.NewJSON([]byte(`{"k":"` + canary + `"}`))
	if err != nil {
		t.Fatal(err)
	}
	rec := backend.Record{Value: obj}
	var logged bytes.Buffer
	slog.New(slog.NewTextHandler(&logged, nil)).Info("x", "v", v, "rec", rec)
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("x", "v", v, "rec", rec)
	js, _ := json.Marshal(map[string]any{"v": v, "rec": rec})
	outs := []string{
		fmt.Sprint(v), fmt.Sprintf("%v %+v %#v %s %q %x %X", v, v, v, v, v, v, v),
		fmt.Sprintf("%v %+v %#v", rec, rec, rec), fmt.Sprintf("%v", []backend.Value{v, obj}),
		logged.String(), string(js),
	}
	for i, out := range outs {
		if strings.Contains(out, canary) || strings.Contains(out, fmt.Sprintf("%x", canary)) {
			t.Errorf("output %d shows the value", i)
		}
		if !strings.Contains(out, "[redacted]") {
			t.Errorf("output %d does not say [redacted]: %s", i, out)
		}
	}
}

func TestNewJSON(t *testing.T) {
	for _, tc := range []struct {
		in   string
		kind backend.Kind
		err  bool
	}{
		{`{"a":1}`, backend.KindObject, false},
		{" [1, 2] ", backend.KindArray, false},
		{`"just a string"`, "", true},
		{`42`, "", true},
		{`null`, "", true},
		{``, "", true},
		{`{"a":` + canary, "", true},
		{`{"a":1} trailing`, "", true},
	} {
		v, err := backend.NewJSON([]byte(tc.in))
		if (err != nil) != tc.err {
			t.Errorf("NewJSON(%q) err = %v, want error %v", tc.in, err, tc.err)
			continue
		}
		if err != nil {
			if !errors.Is(err, backend.ErrInvalidValue) || strings.Contains(err.Error(), canary) {
				t.Errorf("NewJSON(%q) err = %v; want ErrInvalidValue without the input", tc.in, err)
			}
			continue
		}
		if v.Kind() != tc.kind {
			t.Errorf("NewJSON(%q).Kind() = %q, want %q", tc.in, v.Kind(), tc.kind)
		}
	}
}

func TestFromAny(t *testing.T) {
	for _, tc := range []struct {
		in   any
		kind backend.Kind
		want string
	}{
		{"s", backend.KindString, ""},
		{map[string]any{"a": "b"}, backend.KindObject, ""},
		{[]any{"x"}, backend.KindArray, ""},
		{nil, "", "value is required"},
		{3.0, "", "not a number"},
		{true, "", "not a boolean"},
	} {
		v, err := backend.FromAny(tc.in)
		if tc.want != "" {
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("FromAny(%v) err = %v, want %q", tc.in, err, tc.want)
			}
			continue
		}
		if err != nil || v.Kind() != tc.kind {
			t.Errorf("FromAny(%v) = %s, %v", tc.in, v.Kind(), err)
		}
	}
}

func TestField(t *testing.T) {
	obj, _ := backend.NewJSON([]byte(`{"s":"text","n":5,"o":{"x":1},"a":[1]}`))
	for _, tc := range []struct{ field, kind, text string }{
		{"s", "string", "text"}, {"n", "string", "5"}, {"o", "object", `{"x":1}`}, {"a", "array", "[1]"},
	} {
		f, err := obj.Field(tc.field)
		if err != nil || string(f.Kind()) != tc.kind || f.Text() != tc.text {
			t.Errorf("Field(%q) = %s %q, %v", tc.field, f.Kind(), f.Text(), err)
		}
	}
	if _, err := obj.Field("missing"); !errors.Is(err, backend.ErrNotFound) {
		t.Errorf("Field(missing) err = %v", err)
	}
	if _, err := backendtest.MustString(t, "x").Field("s"); !errors.Is(err, backend.ErrNotFound) {
		t.Errorf("Field of a string err = %v", err)
	}
}

func TestMarshalKeepsKind(t *testing.T) {
	tricky := []string{
		`{"looks":"like json"}`, `[1,2]`, "mcp-secrets/1 {\"kind\":\"object\"}\n{\"a\":1}",
		"mcp-secrets/1 ", "", "\n", "ünï\x00code",
	}
	for _, s := range tricky {
		rec := backend.Record{Value: backendtest.MustString(t, s), Description: "d"}
		if s == "" {
			continue // empty values are refused by the Catalog, and Marshal needs a value
		}
		data, err := backend.Marshal(rec)
		if err != nil {
			t.Fatal(err)
		}
		got, err := backend.Unmarshal(data)
		if err != nil || got.Value.Kind() != backend.KindString || got.Value.Text() != s || got.Description != "d" {
			t.Errorf("string %q came back as %s %q (err %v)", s, got.Value.Kind(), got.Value.Text(), err)
		}
	}
	// Bytes a person stored by hand under our namespace read as a string.
	got, err := backend.Unmarshal([]byte(`{"a":1}`))
	if err != nil || got.Value.Kind() != backend.KindString {
		t.Errorf("headerless bytes: %s, %v", got.Value.Kind(), err)
	}
	// A header that lies about the kind is refused, not trusted.
	if _, err := backend.Unmarshal([]byte("mcp-secrets/1 {\"kind\":\"array\"}\n{\"a\":1}")); !errors.Is(err, backend.ErrInvalidValue) {
		t.Errorf("mismatched kind err = %v", err)
	}
}

func FuzzMarshalRoundTrip(f *testing.F) {
	f.Add("plain", "", false)
	f.Add(`{"a":[1,{"b":null}]}`, "desc", true)
	f.Add("mcp-secrets/1 {\"kind\":\"object\"}\n{}", "", false)
	f.Fuzz(func(t *testing.T, s, desc string, asJSON bool) {
		var v backend.Value
		var err error
		if asJSON {
			v, err = backend.NewJSON([]byte(s))
		} else {
			v, err = backend.NewString(s)
		}
		if err != nil || v.Len() == 0 {
			return
		}
		rec := backend.Record{Value: v, Description: desc}
		data, err := backend.Marshal(rec)
		if err != nil {
			return // descriptions that are not valid UTF-8 may be refused
		}
		got, err := backend.Unmarshal(data)
		if err != nil {
			t.Fatalf("Unmarshal(Marshal(x)) failed: %v", err)
		}
		if !got.Value.Equal(v) {
			t.Fatalf("value kind %s came back as %s or changed", v.Kind(), got.Value.Kind())
		}
	})
}

func FuzzCheckName(f *testing.F) {
	for _, s := range []string{"a", "..", "a/b", "__x", "ok.name-1_2", "\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if backend.CheckName(s) != nil {
			return
		}
		if s == "" || len(s) > backend.MaxNameLen || strings.ContainsAny(s, "/\\\x00") || strings.Contains(s, "..") || strings.HasPrefix(s, "__") {
			t.Fatalf("CheckName accepted %q", s)
		}
	})
}
