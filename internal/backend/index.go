package backend

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The index is text, one credential a line, because at 10,000 names it
// parses several times faster than JSON and listing is the hot path:
//
//	mcp-secrets index 1[ chunks=N]
//	name <TAB> kind <TAB> size <TAB> created <TAB> updated <TAB> fields <TAB> description
//
// Times are Unix seconds (0 for none); fields are Go-quoted strings joined
// by ','; the description is Go-quoted or empty. Names need no quoting:
// CheckName allows no tab, newline or quote. A head with chunks=N holds no
// lines: the lines are in N chunks, concatenated in order.
const indexMagic = "mcp-secrets index 1"

func indexHead(chunks int) string {
	return indexMagic + " chunks=" + strconv.Itoa(chunks) + "\n"
}

func encodeIndex(items map[string]Meta) string {
	names := make([]string, 0, len(items))
	for n := range items {
		names = append(names, n)
	}
	slices.Sort(names)
	var b strings.Builder
	b.Grow(len(indexMagic) + 1 + len(items)*64)
	b.WriteString(indexMagic)
	b.WriteByte('\n')
	for _, n := range names {
		m := items[n]
		b.WriteString(n)
		b.WriteByte('\t')
		b.WriteString(string(m.Kind))
		b.WriteByte('\t')
		b.WriteString(strconv.Itoa(m.Size))
		b.WriteByte('\t')
		b.WriteString(strconv.FormatInt(unix(m.Created), 10))
		b.WriteByte('\t')
		b.WriteString(strconv.FormatInt(unix(m.Updated), 10))
		b.WriteByte('\t')
		for i, f := range m.Fields {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(strconv.Quote(f))
		}
		b.WriteByte('\t')
		if m.Description != "" {
			b.WriteString(strconv.Quote(m.Description))
		}
		b.WriteByte('\n')
	}
	return b.String()
}

// decodeIndex parses encodeIndex's output. For a chunked head it returns
// the chunk count and no items.
func decodeIndex(s string) (map[string]Meta, int, error) {
	head, rest, _ := strings.Cut(s, "\n")
	if head != indexMagic {
		n, ok := strings.CutPrefix(head, indexMagic+" chunks=")
		chunks, err := strconv.Atoi(n)
		if !ok || err != nil || chunks < 1 {
			return nil, 0, fmt.Errorf("%w: the index has an unknown format", ErrInvalidValue)
		}
		return nil, chunks, nil
	}
	items := make(map[string]Meta, strings.Count(rest, "\n"))
	for line := range strings.Lines(rest) {
		m, err := decodeLine(strings.TrimSuffix(line, "\n"))
		if err != nil {
			return nil, 0, err
		}
		items[m.Name] = m
	}
	return items, 0, nil
}

func decodeLine(line string) (Meta, error) {
	bad := fmt.Errorf("%w: the index has a malformed line", ErrInvalidValue)
	var col [7]string
	for i := range 6 {
		var ok bool
		col[i], line, ok = strings.Cut(line, "\t")
		if !ok {
			return Meta{}, bad
		}
	}
	col[6] = line
	size, err1 := strconv.Atoi(col[2])
	created, err2 := strconv.ParseInt(col[3], 10, 64)
	updated, err3 := strconv.ParseInt(col[4], 10, 64)
	if err1 != nil || err2 != nil || err3 != nil || CheckStoreName(col[0]) != nil {
		return Meta{}, bad
	}
	m := Meta{Name: col[0], Kind: Kind(col[1]), Size: size, Created: fromUnix(created), Updated: fromUnix(updated)}
	for f := col[5]; f != ""; {
		q, err := strconv.QuotedPrefix(f)
		if err != nil {
			return Meta{}, bad
		}
		name, _ := strconv.Unquote(q)
		m.Fields = append(m.Fields, name)
		f = strings.TrimPrefix(f[len(q):], ",")
	}
	if col[6] != "" {
		d, err := strconv.Unquote(col[6])
		if err != nil {
			return Meta{}, bad
		}
		m.Description = d
	}
	return m, nil
}

func unix(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.Unix()
}

func fromUnix(s int64) time.Time {
	if s == 0 {
		return time.Time{}
	}
	return time.Unix(s, 0).UTC()
}
