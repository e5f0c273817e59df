package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/pflag"

	"github.com/mcp-secrets/mcp-secrets/internal/backend"
)

const getHelp = `Prints a credential's value on standard output, for the person at the
terminal: a string as it is, followed by a newline; an object or array as
indented JSON. --field prints one field of an object credential.

This is you asking, not an assistant, so nothing is confirmed: anyone who can
run this command as you can read your credentials, as they can the keyring.
`

type getCmd struct{ field string }

func (g *getCmd) define(fs *pflag.FlagSet) {
	fs.StringVar(&g.field, "field", "", "print one field of an object credential")
}

func (g *getCmd) run(ctx context.Context, c *cli) error {
	name, err := c.oneName()
	if err != nil {
		return err
	}
	cat, _, err := c.open(ctx)
	if err != nil {
		return err
	}
	defer cat.Close()
	rec, err := cat.Get(ctx, name)
	if errors.Is(err, backend.ErrNotFound) {
		return fmt.Errorf("no credential named %q in %s", name, c.namespace())
	}
	if err != nil {
		return err
	}
	v := rec.Value
	if g.field != "" {
		if v.Kind() != backend.KindObject {
			return fmt.Errorf("%q is a %s credential, and only an object has fields", name, v.Kind())
		}
		f, err := v.Field(g.field)
		if errors.Is(err, backend.ErrNotFound) {
			return fmt.Errorf("%q has no field %q (its fields: %s)", name, g.field, printable(strings.Join(v.Fields(), ", ")))
		}
		if err != nil {
			return fmt.Errorf("%q: %w", name, err)
		}
		v = f
	}
	data := v.Bytes()
	defer clear(data)
	if v.Kind() == backend.KindString {
		data = append(data, '\n')
	} else {
		var buf bytes.Buffer
		if err := json.Indent(&buf, data, "", "  "); err != nil {
			return fmt.Errorf("%q: %w: the stored JSON is malformed", name, backend.ErrInvalidValue)
		}
		buf.WriteByte('\n')
		defer clear(buf.Bytes())
		data = buf.Bytes()
	}
	if _, err := c.stdout.Write(data); err != nil {
		return fmt.Errorf("write the value: %w", err)
	}
	return nil
}
