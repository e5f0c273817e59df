package main

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/pflag"

	"github.com/mcp-secrets/mcp-secrets/internal/backend"
)

const rmHelp = `Deletes the named credentials, or every credential of the namespace with --all.
It first asks on the terminal, listing what it will delete:

  Delete 2 credentials: a, b? [y/N]

and deletes only on "y" or "yes". When standard input is not a terminal there
is nobody to ask, so it refuses unless given --yes. Names that do not exist are
reported, and make the exit code 1.
`

type rmCmd struct{ yes, all bool }

func (r *rmCmd) define(fs *pflag.FlagSet) {
	fs.BoolVarP(&r.yes, "yes", "y", false, "delete without asking (needed when stdin is not a terminal)")
	fs.BoolVar(&r.all, "all", false, "delete every credential of the namespace")
}

// maxShown is how many names a question lists before "and N more".
const maxShown = 20

func (r *rmCmd) run(ctx context.Context, c *cli) error {
	switch {
	case r.all && len(c.args) > 0:
		return usageErrorf("give either names or --all, not both")
	case !r.all && len(c.args) == 0:
		return usageErrorf("missing NAME (or --all to delete every credential)")
	}
	for _, n := range c.args {
		if err := backend.CheckName(n); err != nil {
			return err
		}
	}
	if _, isTerm := terminal(c.stdin); !isTerm && !r.yes {
		return fmt.Errorf("standard input is not a terminal, so nobody can be asked to confirm; nothing deleted (pass --yes to delete without asking)")
	}
	cat, _, err := c.open(ctx)
	if err != nil {
		return err
	}
	defer cat.Close()
	// Never ask to confirm what cannot happen.
	if err := cat.CheckWritable(); err != nil {
		return err
	}
	if r.all {
		if _, _, err := cat.Reconcile(ctx); err != nil {
			c.log.Warn("could not check the index against the store", "err", err)
		}
	}
	metas, err := cat.List(ctx)
	if err != nil {
		return err
	}
	stored := make(map[string]bool, len(metas))
	for _, m := range metas {
		stored[m.Name] = true
	}
	var targets, missing []string
	if r.all {
		for _, m := range metas {
			targets = append(targets, m.Name)
		}
	} else {
		seen := map[string]bool{}
		for _, n := range c.args {
			switch {
			case seen[n]:
			case stored[n]:
				targets = append(targets, n)
			default:
				missing = append(missing, n)
			}
			seen[n] = true
		}
	}
	slices.Sort(targets)
	notFound := func() error {
		if len(missing) == 0 {
			return nil
		}
		return fmt.Errorf("no credential named %s in %s", strings.Join(missing, ", "), c.namespace())
	}
	if len(targets) == 0 {
		if r.all {
			fmt.Fprintf(c.stderr, "Nothing to delete: no credentials are stored in %s.\n", c.namespace())
		}
		return notFound()
	}
	if len(missing) > 0 {
		fmt.Fprintf(c.stderr, "Not found: %s.\n", strings.Join(missing, ", "))
	}
	if !r.yes {
		shown, more := targets, ""
		if len(targets) > maxShown {
			shown, more = targets[:maxShown], fmt.Sprintf(" and %d more", len(targets)-maxShown)
		}
		all := ""
		if r.all {
			all = "all "
		}
		answer, err := readAnswer(ctx, c.stdin, c.stderr,
			fmt.Sprintf("Delete %s%s: %s%s? [y/N] ", all, plural(len(targets), "credential"), strings.Join(shown, ", "), more))
		if err != nil {
			return err
		}
		if !yes(answer) {
			fmt.Fprintln(c.stderr, "Nothing deleted.")
			return notFound()
		}
	}
	deleted, gone, err := cat.Delete(ctx, targets)
	if len(deleted) > 0 {
		fmt.Fprintf(c.stderr, "Deleted %s: %s.\n", plural(len(deleted), "credential"), strings.Join(deleted, ", "))
	}
	if err != nil {
		return fmt.Errorf("deleted %d of %d before an error: %w", len(deleted), len(targets), err)
	}
	missing = append(missing, gone...)
	return notFound()
}
