package env

import (
	"fmt"
	"strings"
)

// entry is one logical line of a dotenv file: an assignment (which spans
// several physical lines when its quoted value holds newlines), a comment or
// a blank line.
type entry struct {
	raw    string // the exact text, line terminator included
	key    string // "" unless the entry is an assignment
	value  string // the value after unquoting
	export bool   // the assignment starts with "export "
}

// dotenv is a parsed dotenv file that can be written back with only some
// assignments changed.
type dotenv struct {
	entries []entry
	eol     string // the file's line terminator: "\n", or "\r\n" if its first line ends so
}

// parseError is a malformed line. It carries the line number and the rule
// broken, never the line's text, which may be a secret.
type parseError struct {
	line   int
	reason string
}

func (e *parseError) Error() string { return fmt.Sprintf("line %d: %s", e.line, e.reason) }

// parseDotenv parses a dotenv file:
//
//	# a comment, and blank lines
//	KEY=unquoted value      # a comment after whitespace
//	export KEY=value
//	KEY='single-quoted: every byte literal, newlines too'
//	KEY="double-quoted: \n \r \t \" \\ \$ and \` are escapes"
//
// Lines may end in "\n" or "\r\n". Values are never expanded ($VAR stays as
// written). Any other line is an error naming the line number only.
func parseDotenv(data string) (*dotenv, error) {
	d := &dotenv{eol: "\n"}
	if i := strings.IndexByte(data, '\n'); i > 0 && data[i-1] == '\r' {
		d.eol = "\r\n"
	}
	if i := strings.IndexByte(data, 0); i >= 0 {
		return nil, &parseError{line: 1 + strings.Count(data[:i], "\n"), reason: "contains a NUL byte"}
	}
	p := &parser{data: data, line: 1}
	for p.pos < len(data) {
		e, err := p.entry()
		if err != nil {
			return nil, err
		}
		d.entries = append(d.entries, e)
	}
	return d, nil
}

type parser struct {
	data string
	pos  int
	line int // the line that pos is on, from 1
}

// lineEnd returns the index of the '\n' ending the line that holds i, or
// len(data) when the line is the last and has none.
func (p *parser) lineEnd(i int) int {
	if j := strings.IndexByte(p.data[i:], '\n'); j >= 0 {
		return i + j
	}
	return len(p.data)
}

// content returns data[i:end] without a trailing '\r'.
func (p *parser) content(i, end int) string {
	return strings.TrimSuffix(p.data[i:end], "\r")
}

func (p *parser) fail(line int, reason string) error {
	return &parseError{line: line, reason: reason}
}

// finish ends the entry that started at start and whose last line ends at
// end (the index of its '\n' or len(data)).
func (p *parser) finish(e entry, start, end int) entry {
	if end < len(p.data) {
		end++ // take the '\n'
		p.line++
	}
	e.raw = p.data[start:end]
	p.pos = end
	return e
}

func (p *parser) entry() (entry, error) {
	start, first := p.pos, p.line
	end := p.lineEnd(start)
	line := p.content(start, end)
	trimmed := strings.TrimLeft(line, " \t")
	if trimmed == "" || trimmed[0] == '#' {
		return p.finish(entry{}, start, end), nil
	}
	i := start + len(line) - len(trimmed)
	var e entry
	if rest, ok := strings.CutPrefix(trimmed, "export"); ok && rest != "" && (rest[0] == ' ' || rest[0] == '\t') {
		e.export = true
		i += len(trimmed) - len(strings.TrimLeft(rest, " \t"))
	}
	k := i
	for k < end && isKeyByte(p.data[k], k == i) {
		k++
	}
	if k == i {
		return entry{}, p.fail(first, "expected KEY=value, where KEY starts with a letter or '_' and has only letters, digits, '_', '.' and '-'")
	}
	e.key = p.data[i:k]
	k = skipBlanks(p.data, k, end)
	if k >= end || p.data[k] != '=' {
		return entry{}, p.fail(first, "expected '=' after the variable name")
	}
	k++
	v := skipBlanks(p.data, k, end)
	if v < end && (p.data[v] == '\'' || p.data[v] == '"') {
		closing, value, err := p.quoted(v, first)
		if err != nil {
			return entry{}, err
		}
		e.value = value
		end = p.lineEnd(closing)
		after := strings.TrimLeft(p.content(closing+1, end), " \t")
		if after != "" && after[0] != '#' {
			return entry{}, p.fail(p.line, "unexpected text after the closing quote")
		}
		return p.finish(e, start, end), nil
	}
	// Unquoted: up to the end of the line or a '#' that follows a blank.
	value := p.content(k, end)
	for j := 1; j < len(value); j++ {
		if value[j] == '#' && (value[j-1] == ' ' || value[j-1] == '\t') {
			value = value[:j]
			break
		}
	}
	e.value = strings.Trim(value, " \t")
	return p.finish(e, start, end), nil
}

// quoted reads the quoted value that starts at q, counting the lines it
// spans, and returns the index of its closing quote and the value.
func (p *parser) quoted(q, first int) (int, string, error) {
	quote := p.data[q]
	if quote == '\'' {
		j := strings.IndexByte(p.data[q+1:], '\'')
		if j < 0 {
			return 0, "", p.fail(first, "unterminated single-quoted value")
		}
		value := p.data[q+1 : q+1+j]
		p.line += strings.Count(value, "\n")
		return q + 1 + j, value, nil
	}
	var b strings.Builder
	for j := q + 1; j < len(p.data); j++ {
		c := p.data[j]
		switch {
		case c == '"':
			return j, b.String(), nil
		case c == '\\' && j+1 < len(p.data):
			j++
			switch e := p.data[j]; e {
			case 'n':
				b.WriteByte('\n')
			case 'r':
				b.WriteByte('\r')
			case 't':
				b.WriteByte('\t')
			case '"', '\\', '$', '`':
				b.WriteByte(e)
			default: // not an escape: keep both bytes
				j--
				b.WriteByte('\\')
			}
		default:
			if c == '\n' {
				p.line++
			}
			b.WriteByte(c)
		}
	}
	return 0, "", p.fail(first, "unterminated double-quoted value")
}

func isKeyByte(c byte, first bool) bool {
	switch {
	case c >= 'A' && c <= 'Z', c >= 'a' && c <= 'z', c == '_':
		return true
	case c >= '0' && c <= '9', c == '.', c == '-':
		return !first
	}
	return false
}

func skipBlanks(s string, i, end int) int {
	for i < end && (s[i] == ' ' || s[i] == '\t') {
		i++
	}
	return i
}

// quote returns v written as a dotenv value that parses back to exactly v:
// single-quoted (literal to every dotenv reader and to a shell) unless v
// holds a single quote, a newline or a carriage return, and double-quoted
// with escapes otherwise.
func quote(v string) string {
	if !strings.ContainsAny(v, "'\n\r") {
		return "'" + v + "'"
	}
	var b strings.Builder
	b.Grow(len(v) + 2)
	b.WriteByte('"')
	for i := 0; i < len(v); i++ {
		switch c := v[i]; c {
		case '\\', '"', '$', '`':
			b.WriteByte('\\')
			b.WriteByte(c)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// vars returns the file's assignments to keys that keep says are wanted;
// when a key is assigned twice the later assignment wins, as when the file
// is sourced by a shell.
func (d *dotenv) vars(keep func(key string) bool) map[string]string {
	out := make(map[string]string)
	for _, e := range d.entries {
		if e.key != "" && keep(e.key) {
			out[e.key] = e.value
		}
	}
	return out
}

// update returns the file's text with one credential's variables replaced.
// owned says which keys belong to the credential. Each key in set replaces
// its first assignment in place (keeping "export " if it had it) and every
// other assignment to an owned key is removed; keys not yet in the file are
// added after the credential's last line, or at the end. Every other line is
// kept byte for byte.
func (d *dotenv) update(set []assignment, owned func(key string) bool) string {
	want := make(map[string]string, len(set))
	for _, a := range set {
		want[a.key] = a.value
	}
	useExport := false
	for _, e := range d.entries {
		useExport = useExport || (e.key != "" && e.export)
	}
	out := make([]string, 0, len(d.entries)+len(set))
	done := make(map[string]bool, len(set))
	insertAt := -1
	for _, e := range d.entries {
		if e.key == "" || !owned(e.key) {
			out = append(out, e.raw)
			continue
		}
		if v, ok := want[e.key]; ok && !done[e.key] {
			done[e.key] = true
			out = append(out, assignLine(e.export, e.key, v, terminator(e.raw)))
		}
		insertAt = len(out)
	}
	var added []string
	for _, a := range set {
		if !done[a.key] {
			added = append(added, assignLine(useExport, a.key, a.value, d.eol))
		}
	}
	if insertAt < 0 {
		insertAt = len(out)
	}
	if len(added) > 0 && insertAt > 0 && terminator(out[insertAt-1]) == "" {
		// The file's last line had no newline: end it, completing a
		// "\r\n" it may have begun.
		if strings.HasSuffix(out[insertAt-1], "\r") {
			out[insertAt-1] += "\n"
		} else {
			out[insertAt-1] += d.eol
		}
	}
	out = append(out[:insertAt], append(added, out[insertAt:]...)...)
	return strings.Join(out, "")
}

// terminator returns the line terminator that ends raw: "\r\n", "\n" or "".
func terminator(raw string) string {
	switch {
	case strings.HasSuffix(raw, "\r\n"):
		return "\r\n"
	case strings.HasSuffix(raw, "\n"):
		return "\n"
	}
	return ""
}

func assignLine(export bool, key, value, eol string) string {
	line := key + "=" + quote(value) + eol
	if export {
		return "export " + line
	}
	return line
}
