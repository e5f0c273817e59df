package env

import "testing"

// FuzzVarNames checks the mapping between credentials and environment
// variable names:
//   - classify never panics, and every variable it claims is the one
//     variable that plainVar, fieldVar or markerVar builds for what it
//     says, so no two variables ever stand for the same credential part;
//   - for a valid prefix and name (and field), the variables built for a
//     credential classify back to it.
func FuzzVarNames(f *testing.F) {
	f.Add("MYAPP", "MYAPP_API_KEY", "api", "key")
	f.Add("MYAPP", "MYAPP_DB__KIND", "db", "user_name")
	f.Add("MYAPP", "MYAPP_A__B", "a1", "x__y")
	f.Add("A", "A__KIND", "kind", "_x")
	f.Add("MY_APP", "MY_APP_X_Y_Z", "x", "y_z")
	f.Add("P", "P_X_", "X", "")
	f.Fuzz(func(t *testing.T, prefix, key, name, field string) {
		if info, ok := classify(prefix, key); ok {
			var rebuilt string
			switch info.kind {
			case varPlain:
				rebuilt = plainVar(prefix, info.name)
			case varField:
				rebuilt = fieldVar(prefix, info.name, info.field)
			case varMarker:
				rebuilt = markerVar(prefix, info.name)
			}
			if rebuilt != key {
				t.Fatalf("classify(%q, %q) = %+v, which is the variable %q", prefix, key, info, rebuilt)
			}
			if checkName(info.name) != nil || (info.kind == varField && !isField(info.field)) {
				t.Fatalf("classify(%q, %q) = %+v: not a valid name or field", prefix, key, info)
			}
		}

		if checkPrefix(prefix) != nil || checkName(name) != nil {
			return
		}
		want := map[string]varInfo{
			plainVar(prefix, name):  {name: name, kind: varPlain},
			markerVar(prefix, name): {name: name, kind: varMarker},
		}
		if isField(field) {
			want[fieldVar(prefix, name, field)] = varInfo{name: name, kind: varField, field: field}
		}
		for v, w := range want {
			if got, ok := classify(prefix, v); !ok || got != w {
				t.Fatalf("classify(%q, %q) = %+v, %v; want %+v", prefix, v, got, ok, w)
			}
		}
	})
}
