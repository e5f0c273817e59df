package server

import (
	"context"
	"log/slog"
)

// withholdErrors is the log handler the go-sdk gets: it replaces the value
// of every "error" attribute with a note. The SDK's errors can quote what
// the client sent (a frame it could not decode, say), and that may be a
// secret; this package's own log lines use "err" and never hold values.
type withholdErrors struct{ slog.Handler }

const withheld = "[withheld: may quote client input]"

func (h withholdErrors) Handle(ctx context.Context, r slog.Record) error {
	out := slog.NewRecord(r.Time, r.Level, r.Message, r.PC)
	r.Attrs(func(a slog.Attr) bool {
		if a.Key == "error" {
			a = slog.String("error", withheld)
		}
		out.AddAttrs(a)
		return true
	})
	return h.Handler.Handle(ctx, out)
}

func (h withholdErrors) WithAttrs(attrs []slog.Attr) slog.Handler {
	for i, a := range attrs {
		if a.Key == "error" {
			attrs[i] = slog.String("error", withheld)
		}
	}
	return withholdErrors{h.Handler.WithAttrs(attrs)}
}

func (h withholdErrors) WithGroup(name string) slog.Handler {
	return withholdErrors{h.Handler.WithGroup(name)}
}
