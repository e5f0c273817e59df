package backend

import (
	"slices"
	"strings"
	"testing"
	"time"
)

// FuzzIndexRoundTrip checks the namespace index's text format both ways:
//   - decodeIndex never panics on any text, and whatever it accepts
//     encodes and decodes to the same items (so a rewrite never changes
//     what an index says);
//   - any valid entry (a name CheckStoreName allows, any field names,
//     description, size and times) comes back from encodeIndex and
//     decodeIndex exactly as it went in, even beside a second entry.
func FuzzIndexRoundTrip(f *testing.F) {
	f.Add(indexMagic+"\na\tstring\t3\t1700000000\t0\t\t\"d\"\n", "db", uint8(1), 12, int64(1700000000), int64(1700000001), "user\x00pass", "for \"x\"\n\t")
	f.Add(indexMagic+" chunks=3\n", "__secret_index__", uint8(0), 0, int64(0), int64(0), "", "")
	f.Add(indexMagic+"\nb\tobject\t2\t0\t0\t\"a\",\"\"\t\n", "x.y-z_1", uint8(2), -1, int64(-5), int64(1)<<40, "\xff\x00,\"", "\xff")
	f.Add("not an index", "a", uint8(1), 1, int64(1), int64(1), ",", "\\")
	kinds := []Kind{KindString, KindObject, KindArray}
	f.Fuzz(func(t *testing.T, text, name string, kind uint8, size int, created, updated int64, fields, desc string) {
		// Any text: no panic, and a stable re-encoding of what parses.
		items, chunks, err := decodeIndex(text)
		if err == nil && chunks == 0 {
			again, chunks2, err := decodeIndex(encodeIndex(items))
			if err != nil || chunks2 != 0 || !sameItems(items, again) {
				t.Fatalf("re-encoding a parsed index changed it (err %v)", err)
			}
		}
		if err == nil && chunks > 0 && len(items) != 0 {
			t.Fatalf("a chunked head came with items")
		}

		// A valid entry round-trips exactly.
		if CheckStoreName(name) != nil {
			return
		}
		m := Meta{Name: name, Kind: kinds[int(kind)%len(kinds)], Size: size, Created: fromUnix(created), Updated: fromUnix(updated), Description: desc}
		if fields != "" {
			m.Fields = strings.Split(fields, "\x00")
		}
		in := map[string]Meta{name: m}
		if name != "other" {
			in["other"] = Meta{Name: "other", Kind: KindString, Size: 1}
		}
		out, chunks, err := decodeIndex(encodeIndex(in))
		if err != nil || chunks != 0 {
			t.Fatalf("decodeIndex(encodeIndex(x)): chunks %d, err %v", chunks, err)
		}
		if !sameItems(in, out) {
			t.Fatalf("entry %q came back as %+v, want %+v", name, out[name], m)
		}
	})
}

func sameItems(a, b map[string]Meta) bool {
	if len(a) != len(b) {
		return false
	}
	for n, x := range a {
		y, ok := b[n]
		if !ok || x.Name != y.Name || x.Kind != y.Kind || x.Size != y.Size || x.Description != y.Description ||
			!x.Created.Equal(y.Created) || !x.Updated.Equal(y.Updated) || !slices.Equal(x.Fields, y.Fields) {
			return false
		}
	}
	return true
}

// The fuzz target's reading of times: 0 is "none", anything else a Unix second.
func TestIndexTimes(t *testing.T) {
	for _, s := range []int64{0, 1, -1, 1700000000} {
		if got := unix(fromUnix(s)); got != s {
			t.Errorf("unix(fromUnix(%d)) = %d", s, got)
		}
	}
	if unix(time.Time{}) != 0 || !fromUnix(0).IsZero() {
		t.Error("the zero time is not 0")
	}
}
