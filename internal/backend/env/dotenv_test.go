package env

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"
)

type kv struct {
	key, value string
	export     bool
}

func assignments(d *dotenv) []kv {
	var out []kv
	for _, e := range d.entries {
		if e.key != "" {
			out = append(out, kv{e.key, e.value, e.export})
		}
	}
	return out
}

func TestParseDotenv(t *testing.T) {
	cases := []struct {
		name, in string
		want     []kv
	}{
		{"plain", "KEY=value\n", []kv{{"KEY", "value", false}}},
		{"export", "export KEY=value\n", []kv{{"KEY", "value", true}}},
		{"export with tab", "export\tKEY=value\n", []kv{{"KEY", "value", true}}},
		{"key named export", "export=1\n", []kv{{"export", "1", false}}},
		{"blanks around", "  KEY  =  value  \n", []kv{{"KEY", "value", false}}},
		{"empty", "KEY=\n", []kv{{"KEY", "", false}}},
		{"no final newline", "A=1\nB=2", []kv{{"A", "1", false}, {"B", "2", false}}},
		{"comments and blanks", "# c\n\n   \n\t# indented\nA=1\n", []kv{{"A", "1", false}}},
		{"comment after value", "A=abc # note\nB=abc\t# note\n", []kv{{"A", "abc", false}, {"B", "abc", false}}},
		{"hash inside a word", "A=abc#def\nB=#x\n", []kv{{"A", "abc#def", false}, {"B", "#x", false}}},
		{"only a comment", "A= # note\n", []kv{{"A", "", false}}},
		{"inner spaces", "A=a b  c\n", []kv{{"A", "a b  c", false}}},
		{"quote inside unquoted", "A=it's\n", []kv{{"A", "it's", false}}},
		{"single quoted", "A=' sp # \\n $X '\n", []kv{{"A", " sp # \\n $X ", false}}},
		{"single quoted then comment", "A='v' # c\n", []kv{{"A", "v", false}}},
		{"double quoted escapes", `A="l1\nl2\r\t\"q\" \\ \$X \` + "`" + `"` + "\n", []kv{{"A", "l1\nl2\r\t\"q\" \\ $X `", false}}},
		{"unknown escape kept", `A="\a\x\'"` + "\n", []kv{{"A", `\a\x\'`, false}}},
		{"double quoted hash", `A="a # b"` + "\n", []kv{{"A", "a # b", false}}},
		{"multi-line single", "A='l1\nl2'\nB=2\n", []kv{{"A", "l1\nl2", false}, {"B", "2", false}}},
		{"multi-line double", "A=\"l1\nl2\"\nB=2\n", []kv{{"A", "l1\nl2", false}, {"B", "2", false}}},
		{"crlf", "A=1\r\n# c\r\nB='2'\r\n", []kv{{"A", "1", false}, {"B", "2", false}}},
		{"dotted and dashed keys", "a.b=1\nc-d=2\n_E=3\n", []kv{{"a.b", "1", false}, {"c-d", "2", false}, {"_E", "3", false}}},
		{"later wins is kept as two", "A=1\nA=2\n", []kv{{"A", "1", false}, {"A", "2", false}}},
		{"no expansion", "A=$HOME\nB=\"${HOME}\"\n", []kv{{"A", "$HOME", false}, {"B", "${HOME}", false}}},
		{"empty file", "", nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d, err := parseDotenv(c.in)
			if err != nil {
				t.Fatalf("parse: %v", err)
			}
			got := assignments(d)
			if len(got) != len(c.want) {
				t.Fatalf("got %d assignments %+v, want %+v", len(got), got, c.want)
			}
			for i := range got {
				if got[i] != c.want[i] {
					t.Errorf("assignment %d = %+v, want %+v", i, got[i], c.want[i])
				}
			}
			if joined := rawText(d); joined != c.in {
				t.Errorf("entries do not add up to the input: %q", joined)
			}
		})
	}
}

func rawText(d *dotenv) string {
	var b strings.Builder
	for _, e := range d.entries {
		b.WriteString(e.raw)
	}
	return b.String()
}

func TestParseDotenvErrors(t *testing.T) {
	const secret = "CANARY-7f3a9c-do-not-leak"
	cases := []struct {
		name, in string
		line     int
		reason   string
	}{
		{"no equals", "# ok\n" + secret + "\n", 2, "expected '='"},
		{"bad key start", "1KEY=" + secret + "\n", 1, "expected KEY=value"},
		{"equals first", "=" + secret + "\n", 1, "expected KEY=value"},
		{"space in key", "MY KEY=" + secret + "\n", 1, "expected '='"},
		{"export alone", "export \n", 1, "expected KEY=value"},
		{"unterminated single", "A=1\n\nB='" + secret + "\nC=3\n", 3, "unterminated single-quoted"},
		{"unterminated double", "A=\"" + secret + "\\\"\n", 1, "unterminated double-quoted"},
		{"text after quote", "A='x' " + secret + "\n", 1, "after the closing quote"},
		{"text after multi-line quote", "A='x\ny\nz' " + secret + "\n", 3, "after the closing quote"},
		{"nul", "A=1\nB=" + secret + "\x00\n", 2, "NUL"},
		{"nul in comment", "# \x00\n", 1, "NUL"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := parseDotenv(c.in)
			var pe *parseError
			if !errors.As(err, &pe) {
				t.Fatalf("error = %v, want a parseError", err)
			}
			if strings.Contains(err.Error(), secret) {
				t.Fatalf("the error quotes the line's content (withheld)")
			}
			if pe.line != c.line || !strings.Contains(pe.reason, c.reason) {
				t.Errorf("error = %v, want line %d and %q", err, c.line, c.reason)
			}
		})
	}
}

func TestQuote(t *testing.T) {
	cases := map[string]string{
		"plain":      `'plain'`,
		"":           `''`,
		" a # b $X ": `' a # b $X '`,
		"it's":       `"it's"`,
		"l1\nl2":     `"l1\nl2"`,
		"a\r\nb":     `"a\r\nb"`,
		`"\$` + "`'": `"\"\\\$` + "\\`" + `'"`,
		"tab\there":  "'tab\there'",
	}
	for in, want := range cases {
		if got := quote(in); got != want {
			t.Errorf("quote(%q) = %s, want %s", in, got, want)
		}
		d, err := parseDotenv("K=" + quote(in) + "\n")
		if err != nil || len(d.entries) != 1 || d.entries[0].value != in {
			t.Errorf("quote(%q) does not parse back (err %v)", in, err)
		}
	}
}

func ownedBy(name string) func(string) bool {
	return func(key string) bool {
		info, ok := classify("MYAPP", key)
		return ok && info.name == name
	}
}

func TestUpdate(t *testing.T) {
	cases := []struct {
		name, in string
		set      []assignment
		want     string
	}{
		{
			name: "replace in place, keep export and comments",
			in:   "# top\nexport MYAPP_API=old # c\nOTHER=1\n",
			set:  []assignment{{"MYAPP_API", "new"}},
			want: "# top\nexport MYAPP_API='new'\nOTHER=1\n",
		},
		{
			name: "new variables after the credential's last line",
			in:   "MYAPP_API_KEY=k\nMYAPP_B=1\n",
			set:  []assignment{{"MYAPP_API_KEY", "k2"}, {"MYAPP_API_SECRET", "s"}},
			want: "MYAPP_API_KEY='k2'\nMYAPP_API_SECRET='s'\nMYAPP_B=1\n",
		},
		{
			name: "shape change removes the old variables",
			in:   "A=1\nMYAPP_API_KEY=k\nB=2\nMYAPP_API_SECRET=s\nC=3\n",
			set:  []assignment{{"MYAPP_API", "x"}},
			want: "A=1\nB=2\nMYAPP_API='x'\nC=3\n",
		},
		{
			name: "duplicates collapse into the first",
			in:   "MYAPP_API=1\nX=0\nMYAPP_API=2\n",
			set:  []assignment{{"MYAPP_API", "3"}},
			want: "MYAPP_API='3'\nX=0\n",
		},
		{
			name: "append with export when the file uses it",
			in:   "export X=1",
			set:  []assignment{{"MYAPP_API", "v"}},
			want: "export X=1\nexport MYAPP_API='v'\n",
		},
		{
			name: "crlf file",
			in:   "X=1\r\n# c\r\n",
			set:  []assignment{{"MYAPP_API", "v"}},
			want: "X=1\r\n# c\r\nMYAPP_API='v'\r\n",
		},
		{
			name: "delete",
			in:   "X=1\nMYAPP_API=v\nMYAPP_API__KIND=json\nMYAPPLE_API=keep\nMYAPP_APIS=keep\n",
			set:  nil,
			want: "X=1\nMYAPPLE_API=keep\nMYAPP_APIS=keep\n",
		},
		{
			name: "empty file",
			in:   "",
			set:  []assignment{{"MYAPP_API", "v"}, {"MYAPP_API__KIND", "json"}},
			want: "MYAPP_API='v'\nMYAPP_API__KIND='json'\n",
		},
		{
			name: "multi-line value replaced",
			in:   "MYAPP_API=\"l1\nl2\"\nX=1\n",
			set:  []assignment{{"MYAPP_API", "a'b\nc"}},
			want: "MYAPP_API=\"a'b\\nc\"\nX=1\n",
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d, err := parseDotenv(c.in)
			if err != nil {
				t.Fatalf("parse: %v", err)
			}
			if got := d.update(c.set, ownedBy("api")); got != c.want {
				t.Errorf("update =\n%q\nwant\n%q", got, c.want)
			}
		})
	}
}

// FuzzParse checks that the parser never panics, that its entries add up
// to its input, and that its errors are one of its fixed reasons.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"", "A=1\n", "export A='x'\r\n# c\n", "A=\"a\\n\\\"b\" # c\nB=", "A='unterminated\n",
		"A=\"x\\", "=1", "A='x' y", "\x00", "A=\"l1\nl2\"\n\n", "export \t A = b #c",
	} {
		f.Add(s)
	}
	reasons := []string{"NUL", "expected", "unterminated", "after the closing quote"}
	f.Fuzz(func(t *testing.T, data string) {
		d, err := parseDotenv(data)
		if err != nil {
			var pe *parseError
			if !errors.As(err, &pe) || pe.line < 1 || pe.line > strings.Count(data, "\n")+1 {
				t.Fatalf("unexpected error %v", err)
			}
			known := false
			for _, r := range reasons {
				known = known || strings.Contains(pe.reason, r)
			}
			if !known {
				t.Fatalf("unknown reason %q", pe.reason)
			}
			return
		}
		if rawText(d) != data {
			t.Fatalf("entries do not add up to the input")
		}
	})
}

// FuzzDotenvRoundTrip writes a value for one credential into any parsable
// file and checks that it reads back identical and that every other line
// is kept.
func FuzzDotenvRoundTrip(f *testing.F) {
	seeds := []struct{ file, value string }{
		{"", "plain"},
		{"# c\nexport X=1\n", "it's \"quoted\"\n$HOME `x` \\ # not a comment\r\n"},
		{"MYAPP_API=old\nX='y'", ""},
		{"X=1\r\nMYAPP_API_KEY=k\r\n", " leading and trailing "},
		{"A=\"l1\nl2\"", "'"},
		{"MYAPP_API=1\nMYAPP_API=2\n", "\t\x01\x7f€🔑"},
	}
	for _, s := range seeds {
		f.Add(s.file, s.value)
	}
	owned := ownedBy("api")
	f.Fuzz(func(t *testing.T, file, value string) {
		if strings.IndexByte(value, 0) >= 0 || !utf8.ValidString(value) {
			return // the Store refuses these before writing
		}
		d, err := parseDotenv(file)
		if err != nil {
			return
		}
		set := []assignment{{"MYAPP_API", value}}
		out := d.update(set, owned)
		d2, err := parseDotenv(out)
		if err != nil {
			t.Fatalf("the written file does not parse: %v", err)
		}
		got := d2.vars(owned)
		if len(got) != 1 || got["MYAPP_API"] != value {
			t.Fatalf("the value does not read back identical (%d variables)", len(got))
		}
		var before, after []string
		for _, e := range d.entries {
			if e.key == "" || !owned(e.key) {
				before = append(before, e.raw)
			}
		}
		for _, e := range d2.entries {
			if e.key == "" || !owned(e.key) {
				after = append(after, e.raw)
			}
		}
		if len(before) != len(after) {
			t.Fatalf("%d other entries became %d", len(before), len(after))
		}
		for i := range before {
			// Only a last line without a newline may gain one.
			if after[i] != before[i] && after[i] != before[i]+d.eol && after[i] != before[i]+"\n" {
				t.Fatalf("other entry %d changed", i)
			}
		}
		// Deleting removes it again and keeps the rest.
		d3, err := parseDotenv(d2.update(nil, owned))
		if err != nil || len(d3.vars(owned)) != 0 {
			t.Fatalf("delete did not remove the credential (err %v)", err)
		}
	})
}
