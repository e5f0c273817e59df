package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"log/slog"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// Limits on what reaches the go-sdk: its own line limit, and a nesting
// depth no real message comes near (the SDK ends the session on a frame
// it cannot decode, and a model could be talked into sending one).
const (
	maxFrame = mcp.DefaultMaxLineLength
	maxDepth = 200
)

// filterFrames passes on, from r, each line that is a JSON-RPC message (an
// object with "jsonrpc":"2.0", or a batch of them) within the limits, and
// drops any other line with a log entry that gives only its size. Without
// it the SDK would end the session on such a line and quote the whole line,
// which may hold a secret, in its error and so on stderr.
func filterFrames(r io.Reader, log *slog.Logger) io.ReadCloser {
	pr, pw := io.Pipe()
	go func() {
		br := bufio.NewReaderSize(r, 64<<10)
		for {
			line, tooLong, err := readLine(br, maxFrame)
			switch trimmed := bytes.TrimSpace(line); {
			case tooLong:
				log.Warn("dropped a line longer than the limit", "limit", maxFrame)
			case len(trimmed) == 0:
			case !isMessage(trimmed):
				log.Warn("dropped a line that is not a JSON-RPC message", "bytes", len(trimmed))
			default:
				if _, werr := pw.Write(append(trimmed, '\n')); werr != nil {
					return // the session is gone
				}
			}
			if err != nil {
				_ = pw.Close()
				return
			}
		}
	}()
	return pr
}

// readLine reads up to and without the next '\n'. A line over limit bytes
// is read to its end and reported as too long, without its content.
func readLine(br *bufio.Reader, limit int) (line []byte, tooLong bool, err error) {
	for {
		chunk, err := br.ReadSlice('\n')
		if !tooLong {
			if len(line)+len(chunk) > limit+1 {
				tooLong, line = true, nil
			} else {
				line = append(line, chunk...)
			}
		}
		switch {
		case err == nil:
			return bytes.TrimSuffix(line, []byte{'\n'}), tooLong, nil
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		default:
			return line, tooLong, err
		}
	}
}

// isMessage reports whether b is a JSON-RPC 2.0 message or a batch of them.
func isMessage(b []byte) bool {
	if !json.Valid(b) || depth(b) > maxDepth {
		return false
	}
	var version struct {
		JSONRPC string `json:"jsonrpc"`
	}
	switch b[0] {
	case '{':
		return json.Unmarshal(b, &version) == nil && version.JSONRPC == "2.0"
	case '[':
		var batch []json.RawMessage
		if json.Unmarshal(b, &batch) != nil || len(batch) == 0 {
			return false
		}
		for _, m := range batch {
			if len(m) == 0 || m[0] != '{' || json.Unmarshal(m, &version) != nil || version.JSONRPC != "2.0" {
				return false
			}
		}
		return true
	}
	return false
}

// depth is the deepest nesting of objects and arrays in valid JSON b.
func depth(b []byte) int {
	d, most, inString, escaped := 0, 0, false, false
	for _, c := range b {
		switch {
		case inString:
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
		case c == '"':
			inString = true
		case c == '{' || c == '[':
			d++
			most = max(most, d)
		case c == '}' || c == ']':
			d--
		}
	}
	return most
}
