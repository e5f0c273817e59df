package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode"

	"golang.org/x/term"
)

// terminal returns stdin's file descriptor if stdin is a terminal.
func terminal(stdin io.Reader) (int, bool) {
	f, ok := stdin.(interface{ Fd() uintptr })
	if !ok {
		return 0, false
	}
	fd := int(f.Fd())
	return fd, term.IsTerminal(fd)
}

// readHidden writes prompt to w and reads one line from the terminal fd
// without echoing it. If ctx ends first (Ctrl-C), the terminal's echo is
// restored before it returns; the blocked read is abandoned, which is fine
// in a process that is about to exit.
func readHidden(ctx context.Context, fd int, w io.Writer, prompt string) ([]byte, error) {
	state, err := term.GetState(fd)
	if err != nil {
		return nil, fmt.Errorf("terminal: %w", err)
	}
	fmt.Fprint(w, prompt)
	type result struct {
		line []byte
		err  error
	}
	done := make(chan result, 1)
	go func() {
		line, err := term.ReadPassword(fd)
		done <- result{line, err}
	}()
	select {
	case r := <-done:
		fmt.Fprintln(w)
		if errors.Is(r.err, io.EOF) {
			return nil, errors.New("no value entered (end of input)")
		}
		if r.err != nil {
			return nil, fmt.Errorf("terminal: %w", r.err)
		}
		return r.line, nil
	case <-ctx.Done():
		_ = term.Restore(fd, state)
		fmt.Fprintln(w)
		return nil, ctx.Err()
	}
}

// maxAnswer bounds a typed answer to a question.
const maxAnswer = 1024

// readAnswer writes prompt to w and reads one line from r, a byte at a
// time so that nothing after the line is consumed.
func readAnswer(ctx context.Context, r io.Reader, w io.Writer, prompt string) (string, error) {
	fmt.Fprint(w, prompt)
	done := make(chan string, 1)
	go func() {
		var line []byte
		b := make([]byte, 1)
		for len(line) < maxAnswer {
			n, err := r.Read(b)
			if n == 1 {
				if b[0] == '\n' {
					break
				}
				line = append(line, b[0])
			}
			if err != nil {
				break
			}
		}
		done <- strings.TrimSpace(string(line))
	}()
	select {
	case s := <-done:
		return s, nil
	case <-ctx.Done():
		fmt.Fprintln(w)
		return "", ctx.Err()
	}
}

// yes reports whether an answer means yes.
func yes(answer string) bool {
	switch strings.ToLower(answer) {
	case "y", "yes":
		return true
	}
	return false
}

// printable replaces control characters (terminal escapes among them) in
// text that came from the store, such as a description, before it is
// shown on a terminal.
func printable(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r) || r == unicode.ReplacementChar {
			return '?'
		}
		return r
	}, s)
}
