package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/pflag"

	"github.com/mcp-secrets/mcp-secrets/internal/backend"
)

const listHelp = `Lists the stored credentials of the namespace by name, with their kind, field
names, size, times and description: what list_stored_credentials shows an
assistant. Never values. --json prints the same as JSON, in the shape of the
tool's result.
`

type listCmd struct{ json bool }

func (l *listCmd) define(fs *pflag.FlagSet) {
	fs.BoolVar(&l.json, "json", false, "print JSON: {\"credentials\": [...], \"count\": N}")
}

// listEntry is a credential's metadata as list --json shows it, the same
// as the list_stored_credentials tool.
type listEntry struct {
	Name        string       `json:"name"`
	Kind        backend.Kind `json:"kind"`
	Fields      []string     `json:"fields,omitempty"`
	Size        int          `json:"size"`
	Description string       `json:"description,omitempty"`
	Created     string       `json:"created,omitempty"`
	Updated     string       `json:"updated,omitempty"`
}

func (l *listCmd) run(ctx context.Context, c *cli) error {
	if len(c.args) > 0 {
		return usageErrorf("takes no arguments, got %q", c.args[0])
	}
	cat, o, err := c.open(ctx)
	if err != nil {
		return err
	}
	defer cat.Close()
	// As the server does at start: an index left behind by a crash heals.
	if _, _, err := cat.Reconcile(ctx); err != nil {
		c.log.Warn("could not check the index against the store", "err", err)
	}
	metas, err := cat.List(ctx)
	if err != nil {
		return err
	}
	if l.json {
		out := struct {
			Credentials []listEntry `json:"credentials"`
			Count       int         `json:"count"`
		}{Credentials: make([]listEntry, 0, len(metas)), Count: len(metas)}
		for _, m := range metas {
			e := listEntry{Name: m.Name, Kind: m.Kind, Fields: m.Fields, Size: m.Size, Description: m.Description,
				Created: stamp(m.Created)}
			if !m.Updated.Equal(m.Created) {
				e.Updated = stamp(m.Updated)
			}
			out.Credentials = append(out.Credentials, e)
		}
		data, err := json.MarshalIndent(out, "", "  ")
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(c.stdout, "%s\n", data)
		return err
	}
	fmt.Fprintf(c.stderr, "%s in %s (%s).\n", plural(len(metas), "credential"), c.namespace(), o.name)
	if len(metas) == 0 {
		return nil
	}
	tw := tabwriter.NewWriter(c.stdout, 0, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tKIND\tSIZE\tUPDATED\tDESCRIPTION")
	for _, m := range metas {
		kind := string(m.Kind)
		if len(m.Fields) > 0 {
			kind += " (" + strings.Join(m.Fields, ", ") + ")"
		}
		when := m.Updated
		if when.IsZero() {
			when = m.Created
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\n", m.Name, printable(kind), m.Size, localTime(when), printable(m.Description))
	}
	return tw.Flush()
}

func stamp(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

func localTime(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.Local().Format("2006-01-02 15:04")
}
