package env_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"

	"github.com/mcp-secrets/mcp-secrets/internal/backend"
	"github.com/mcp-secrets/mcp-secrets/internal/backend/env"
)

// Reading: fields become objects, and only the prefix's variables count.
func Example() {
	s, err := env.New(env.Options{
		Prefix: "MYAPP",
		Environ: []string{
			"MYAPP_API_KEY=abc", "MYAPP_API_SECRET=def", "MYAPP_TOKEN=t0k3n",
			"MYAPPLE_PIE=not ours", "HOME=/home/ada",
		},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx := context.Background()
	names, _ := s.List(ctx)
	fmt.Println(names)
	api, _ := s.Get(ctx, "api")
	fmt.Println(api.Value.Kind(), api.Value.Text())
	token, _ := s.Get(ctx, "token")
	fmt.Println(token.Value.Kind(), token.Value.Text())
	err = s.Set(ctx, "token", backend.Record{Value: token.Value})
	fmt.Println(errors.Is(err, backend.ErrReadOnly))
	// Output:
	// [api token]
	// object {"key":"abc","secret":"def"}
	// string t0k3n
	// true
}

// Writing: with AutoSave, objects of strings become one variable per
// field, and anything else is JSON beside a marker.
func Example_autoSave() {
	vars := map[string]string{}
	s, err := env.New(env.Options{
		Prefix:   "MYAPP",
		AutoSave: true,
		Environ:  []string{},
		Setenv:   func(k, v string) error { vars[k] = v; return nil },
		Unsetenv: func(k string) error { delete(vars, k); return nil },
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx := context.Background()
	login, _ := backend.NewJSON([]byte(`{"user":"ada","password":"pw"}`))
	config, _ := backend.NewJSON([]byte(`{"retries":3}`))
	_ = s.Set(ctx, "login", backend.Record{Value: login})
	_ = s.Set(ctx, "config", backend.Record{Value: config})
	for _, k := range slices.Sorted(maps.Keys(vars)) {
		fmt.Printf("%s=%s\n", k, vars[k])
	}
	// Output:
	// MYAPP_CONFIG={"retries":3}
	// MYAPP_CONFIG__KIND=json
	// MYAPP_LOGIN_PASSWORD=pw
	// MYAPP_LOGIN_USER=ada
}
