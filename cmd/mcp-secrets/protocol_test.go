package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Protocol robustness: the binary driven over raw pipes with what a broken
// or hostile client might send. Every input gets a JSON-RPC error, a tool
// error, or a clean exit: never a hang, a panic or a process left behind,
// and where the connection survives the server goes on answering.

// rawServer is the binary on pipes the test owns.
type rawServer struct {
	t      *testing.T
	cmd    *exec.Cmd
	stdin  *os.File
	stdout *os.File // the read end; closing it makes the server's writes fail
	msgs   chan map[string]any
	stderr *lockedBuffer
	exited chan struct{}
	state  *os.ProcessState
	nextID int
	// other holds messages read while waiting for something else, such as
	// requests from the server.
	other []map[string]any
}

func startRaw(t *testing.T, h *home, args ...string) *rawServer {
	t.Helper()
	inR, inW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	r := &rawServer{t: t, cmd: h.command(args...), stdin: inW, stdout: outR,
		msgs: make(chan map[string]any, 64), stderr: &lockedBuffer{}, exited: make(chan struct{}), nextID: 100}
	r.cmd.Stdin, r.cmd.Stdout, r.cmd.Stderr = inR, outW, r.stderr
	if err := r.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	inR.Close()
	outW.Close()
	go func() {
		defer close(r.msgs)
		br := bufio.NewReaderSize(outR, 1<<20)
		for {
			line, err := br.ReadBytes('\n')
			if len(line) > 0 {
				var m map[string]any
				if jerr := json.Unmarshal(line, &m); jerr != nil {
					m = map[string]any{"notJSON": string(line)}
				}
				r.msgs <- m
			}
			if err != nil {
				return
			}
		}
	}()
	go func() {
		_ = r.cmd.Wait()
		r.state = r.cmd.ProcessState
		close(r.exited)
	}()
	t.Cleanup(func() {
		r.stdin.Close()
		select {
		case <-r.exited:
		case <-time.After(10 * time.Second):
			_ = r.cmd.Process.Kill()
			<-r.exited
		}
		r.stdout.Close()
	})
	return r
}

// send writes one line. It reports false if the server no longer reads.
func (r *rawServer) send(line string) bool {
	_, err := io.WriteString(r.stdin, line+"\n")
	return err == nil
}

// request sends method with params under a new id and returns the id.
func (r *rawServer) request(method string, params any) int {
	r.nextID++
	msg := map[string]any{"jsonrpc": "2.0", "id": r.nextID, "method": method}
	if params != nil {
		msg["params"] = params
	}
	data, _ := json.Marshal(msg)
	r.send(string(data))
	return r.nextID
}

// next returns the next message, or nil if stdout closed or nothing came
// within timeout.
func (r *rawServer) next(timeout time.Duration) map[string]any {
	select {
	case m, ok := <-r.msgs:
		if !ok {
			return nil
		}
		return m
	case <-time.After(timeout):
		return nil
	}
}

// response waits for the response to id; other messages are kept in
// r.other. It fails the test if none comes within 30s.
func (r *rawServer) response(id int) map[string]any {
	r.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		m := r.next(time.Until(deadline))
		if m == nil {
			break
		}
		if _, isReq := m["method"]; !isReq && m["id"] == float64(id) {
			return m
		}
		r.other = append(r.other, m)
	}
	r.t.Fatalf("no response to request %d\nstderr:\n%s", id, redact(r.stderr.String()))
	return nil
}

// call makes a request and returns its response.
func (r *rawServer) call(method string, params any) map[string]any {
	r.t.Helper()
	return r.response(r.request(method, params))
}

func (r *rawServer) initialize(caps map[string]any) {
	r.t.Helper()
	res := r.call("initialize", map[string]any{"protocolVersion": "2025-06-18", "capabilities": caps,
		"clientInfo": map[string]any{"name": "raw", "version": "0"}})
	if res["result"] == nil {
		r.t.Fatalf("initialize: %v", res)
	}
	r.send(`{"jsonrpc":"2.0","method":"notifications/initialized"}`)
}

// alive checks that the server still answers a ping.
func (r *rawServer) alive(after string) {
	r.t.Helper()
	if res := r.call("ping", nil); res["result"] == nil {
		r.t.Fatalf("after %s the server does not answer a ping: %v", after, res)
	}
}

// waitExit waits for the process to end; false if it is still running
// after timeout.
func (r *rawServer) waitExit(timeout time.Duration) bool {
	select {
	case <-r.exited:
		return true
	case <-time.After(timeout):
		return false
	}
}

// noPanic fails if stderr shows a panic or a goroutine dump.
func noPanic(t *testing.T, stderr string) {
	t.Helper()
	if strings.Contains(stderr, "panic:") || strings.Contains(stderr, "goroutine ") {
		t.Errorf("the server panicked:\n%s", redact(stderr))
	}
}

// toolCall is the params of a tools/call of name with raw JSON arguments.
func toolCall(name, args string) json.RawMessage {
	return json.RawMessage(`{"name":` + string(mustJSON(name)) + `,"arguments":` + args + `}`)
}

// TestProtocolBadRequestsKeepServing sends one server, over one connection,
// every kind of well-framed but wrong request: each gets a JSON-RPC error
// or a tool error that names the problem, the server answers a ping after
// each, and what was stored before is untouched.
func TestProtocolBadRequestsKeepServing(t *testing.T) {
	h := newHome(t)
	r := startRaw(t, h, "--backend", "memory", "--reveal", "always", "--log-level", "debug")
	r.initialize(map[string]any{})
	store := r.call("tools/call", toolCall("store_credential", `{"name":"kept","value":"`+canary+`"}`))
	if res, _ := store["result"].(map[string]any); res == nil || res["isError"] == true {
		t.Fatalf("store: %v", redact(fmt.Sprint(store)))
	}

	// want: "rpc:CODE" for a JSON-RPC error with that code, or "tool:TEXT"
	// for a tool error whose text contains TEXT.
	cases := []struct {
		name   string
		method string
		params any
		want   string
	}{
		{"unknown method", "no/such/method", nil, "rpc:-32601"},
		{"unknown tool", "tools/call", toolCall("no_such_tool", `{}`), "rpc:-32602"},
		{"params not an object", "tools/call", json.RawMessage(`"store_credential"`), "rpc:-32602"},
		{"params an array", "tools/call", json.RawMessage(`[1,2]`), "rpc:-32602"},
		{"no params", "tools/call", nil, "rpc:-32600"},
		{"tool name a number", "tools/call", json.RawMessage(`{"name":7,"arguments":{}}`), "rpc:-32602"},
		{"arguments a string", "tools/call", toolCall("store_credential", `"`+canary+`"`), "tool:must be a JSON object"},
		{"arguments an array", "tools/call", toolCall("store_credential", `["a","`+canary+`"]`), "tool:must be a JSON object"},
		{"name a number", "tools/call", toolCall("store_credential", `{"name":5,"value":"`+canary+`"}`), `tool:"name" must be a string`},
		{"value a boolean", "tools/call", toolCall("store_credential", `{"name":"b","value":true}`), "tool:not a boolean"},
		{"value a number", "tools/call", toolCall("store_credential", `{"name":"b","value":12345}`), "tool:not a number"},
		{"value null", "tools/call", toolCall("store_credential", `{"name":"b","value":null}`), "tool:required"},
		{"empty value", "tools/call", toolCall("store_credential", `{"name":"b","value":""}`), "tool:empty"},
		{"unknown argument", "tools/call", toolCall("store_credential", `{"name":"b","value":"`+canary+`","colour":"red"}`), "tool:unknown field"},
		{"overwrite a string", "tools/call", toolCall("store_credential", `{"name":"kept","value":"x","overwrite":"yes"}`), `tool:"overwrite" must be a boolean`},
		{"description a number", "tools/call", toolCall("store_credential", `{"name":"b","value":"`+canary+`","description":7}`), `tool:"description" must be a string`},
		{"name with a NUL", "tools/call", toolCall("store_credential", `{"name":"a\u0000b","value":"`+canary+`"}`), "tool:control characters"},
		{"name a path", "tools/call", toolCall("store_credential", `{"name":"../kept","value":"`+canary+`"}`), `tool:must not contain "/"`},
		{"reserved name", "tools/call", toolCall("retrieve_credential", `{"name":"__secret_index__"}`), "tool:reserved"},
		{"overlong name", "tools/call", toolCall("retrieve_credential", `{"name":"`+strings.Repeat("n", 10000)+`"}`), "tool:the limit is 128"},
		{"reveal a string", "tools/call", toolCall("retrieve_credential", `{"name":"kept","reveal":"please"}`), `tool:"reveal" must be a boolean`},
		{"names a string", "tools/call", toolCall("clear_credentials", `{"names":"kept"}`), `tool:"names" must be an array`},
		{"all a number", "tools/call", toolCall("clear_credentials", `{"all":1}`), `tool:"all" must be a boolean`},
		{"value 12 MB", "tools/call", toolCall("store_credential", `{"name":"big","value":"`+strings.Repeat("x", 12<<20)+`"}`), "tool:the limit is"},
		{"initialize again", "initialize", map[string]any{"protocolVersion": "2025-06-18", "capabilities": map[string]any{},
			"clientInfo": map[string]any{"name": "raw", "version": "0"}}, "any"},
		{"logging/setLevel bogus", "logging/setLevel", map[string]any{"level": "loudest"}, "any"},
		{"resources/read", "resources/read", map[string]any{"uri": "file:///etc/passwd"}, "rpc:"},
	}
	for _, c := range cases {
		start := time.Now()
		res := r.call(c.method, c.params)
		if d := time.Since(start); d > 10*time.Second {
			t.Errorf("%s: answered after %s", c.name, d)
		}
		errObj, _ := res["error"].(map[string]any)
		result, _ := res["result"].(map[string]any)
		switch kind, want, _ := strings.Cut(c.want, ":"); kind {
		case "rpc":
			if errObj == nil || (want != "" && fmt.Sprint(errObj["code"]) != want) {
				t.Errorf("%s: got %.300s; want a JSON-RPC error %s", c.name, redact(string(mustJSON(res))), want)
			}
		case "tool":
			text := ""
			if result != nil {
				if content, _ := result["content"].([]any); len(content) > 0 {
					text, _ = content[0].(map[string]any)["text"].(string)
				}
			}
			if result == nil || result["isError"] != true || !strings.Contains(text, want) {
				t.Errorf("%s: got %.300s; want a tool error saying %q", c.name, redact(string(mustJSON(res))), want)
			}
		}
		if strings.Contains(string(mustJSON(res)), canary) {
			t.Errorf("%s: the answer carries the value", c.name)
		}
		r.alive(c.name)
	}

	// Messages that get no answer, by design: an unknown notification and
	// a response to a request the server never made.
	r.send(`{"jsonrpc":"2.0","method":"notifications/no_such_thing","params":{"x":"` + canary + `"}}`)
	r.send(`{"jsonrpc":"2.0","id":987654,"result":{"action":"accept","content":{"x":"` + canary + `"}}}`)
	r.send(`{"jsonrpc":"2.0","id":987655,"error":{"code":-1,"message":"` + canary + `"}}`)
	r.alive("an unknown notification and stray responses")

	// Nothing was changed by any of it.
	got := r.call("tools/call", toolCall("retrieve_credential", `{"name":"kept","reveal":true}`))
	if !strings.Contains(string(mustJSON(got)), `"value":"`+canary+`"`) {
		t.Errorf("after the bad requests the stored credential reads back as %.300s", redact(string(mustJSON(got))))
	}
	list := r.call("tools/call", toolCall("list_stored_credentials", `{}`))
	if !strings.Contains(string(mustJSON(list)), `"count":1`) {
		t.Errorf("after the bad requests the list is %.300s", redact(string(mustJSON(list))))
	}
	r.stdin.Close()
	if !r.waitExit(10 * time.Second) {
		t.Fatal("the server did not exit when stdin closed")
	}
	stderr := r.stderr.String()
	noPanic(t, stderr)
	if strings.Contains(stderr, canary) {
		t.Error("a value reached stderr")
	}
	if !r.state.Success() {
		t.Errorf("exit after the bad requests: %v", r.state)
	}
}

// TestProtocolBrokenFramesEndCleanly sends input that breaks the framing
// or is not a JSON-RPC message at all. The SDK cannot resynchronise after
// such a line, so the server may end the connection; it must then exit
// promptly with an error on stderr, not hang or panic, leaving nothing
// behind. If it answers instead, it must go on answering.
func TestProtocolBrokenFramesEndCleanly(t *testing.T) {
	deep := strings.Repeat("[", 5000) + strings.Repeat("]", 5000)
	huge := `{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"store_credential","arguments":{"name":"big","value":"` +
		strings.Repeat("x", 20<<20) + `"}}}`
	for _, c := range []struct {
		name string
		line string
		eof  bool // close stdin after the line instead of sending a ping
	}{
		{"not JSON", `this is not json`, false},
		{"truncated JSON", `{"jsonrpc":"2.0","id":2,"method":"tools/ca`, true},
		{"unterminated string across lines", `{"jsonrpc":"2.0","id":2,"method":"ping","params":{"a":"b`, false},
		{"empty object", `{}`, false},
		{"a number", `42`, false},
		{"wrong jsonrpc version", `{"jsonrpc":"1.0","id":2,"method":"ping"}`, false},
		{"id an object", `{"jsonrpc":"2.0","id":{"a":1},"method":"ping"}`, false},
		{"empty batch", `[]`, false},
		{"batch at 2025-06-18", `[{"jsonrpc":"2.0","id":2,"method":"ping"}]`, false},
		{"nested 5,000 deep", `{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"store_credential","arguments":{"name":"d","value":` + deep + `}}}`, false},
		{"a 20 MB line", huge, false},
		{"NUL bytes", "\x00\x00\x00", false},
		{"invalid UTF-8", "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"\xff\xfe\"}", false},
	} {
		// Not parallel: noStrays reaps any exited child, which would take
		// the exit status from another subtest's process.
		t.Run(c.name, func(t *testing.T) {
			h := newHome(t)
			r := startRaw(t, h, "--backend", "memory")
			r.initialize(map[string]any{})
			start := time.Now()
			// A 20 MB write blocks until the server has read it, or fails if
			// it stops reading: write from a goroutine.
			go func() {
				r.send(c.line)
				if c.eof {
					r.stdin.Close()
				}
			}()
			survived := false
			if !c.eof {
				id := 0
				for id == 0 && time.Since(start) < 30*time.Second {
					select {
					case <-r.exited:
						id = -1
					case <-time.After(100 * time.Millisecond):
						// Ping once the line is in; a dead server makes the write fail.
						if ok := r.send(`{"jsonrpc":"2.0","id":77,"method":"ping"}`); ok {
							id = 77
						}
					}
				}
				if id == 77 {
					for m := r.next(5 * time.Second); m != nil; m = r.next(5 * time.Second) {
						if m["id"] == float64(77) && m["result"] != nil {
							survived = true
							break
						}
					}
				}
			}
			if survived {
				// It answered: it must go on answering, then exit on EOF.
				r.alive("a broken frame")
				r.stdin.Close()
			}
			if !r.waitExit(15 * time.Second) {
				t.Fatalf("the server neither answered nor exited within 15s of %s", c.name)
			}
			took := time.Since(start)
			stderr := r.stderr.String()
			noPanic(t, stderr)
			code := r.state.ExitCode()
			switch {
			case (survived || c.eof) && code == 0:
				// It answered, or dropped the line and then saw EOF: a clean end.
			case survived && code != 0:
				t.Errorf("exit code %d after a clean EOF", code)
			case !survived && code != 1:
				t.Errorf("the server ended the connection with exit code %d (%v); want 1 with the reason on stderr", code, r.state)
			case !survived && !strings.Contains(stderr, "mcp-secrets stopped"):
				t.Errorf("the server ended the connection without saying why:\n%s", stderr)
			}
			t.Logf("survived=%v exit=%d after %s", survived, code, took.Round(time.Millisecond))
		})
	}
}

// TestProtocolClientVanishesMidCall: the client goes away while a call is
// in flight, waiting for its confirmation or in the middle of writes. The
// server exits promptly, nothing is deleted without the human's answer,
// and the store is consistent for the next process.
func TestProtocolClientVanishesMidCall(t *testing.T) {
	t.Run("waiting for a confirmation", func(t *testing.T) {
		h := newHome(t)
		args := []string{"--backend", "file", "--reveal", "confirm"}
		r := startRaw(t, h, args...)
		r.initialize(map[string]any{"elicitation": map[string]any{"form": map[string]any{}}})
		res := r.call("tools/call", toolCall("store_credential", `{"name":"kept","value":"`+canary+`"}`))
		if result, _ := res["result"].(map[string]any); result == nil || result["isError"] == true {
			t.Fatalf("store: %v", redact(string(mustJSON(res))))
		}
		r.request("tools/call", toolCall("clear_credentials", `{"names":["kept"]}`))
		var ask map[string]any
		for m := r.next(10 * time.Second); m != nil; m = r.next(10 * time.Second) {
			if m["method"] == "elicitation/create" {
				ask = m
				break
			}
		}
		if ask == nil {
			t.Fatal("the server did not ask for a confirmation")
		}
		// The client vanishes: both pipes close, nobody answers.
		start := time.Now()
		r.stdin.Close()
		r.stdout.Close()
		if !r.waitExit(10 * time.Second) {
			t.Fatal("the server did not exit within 10s of its client vanishing mid-call")
		}
		t.Logf("exited %s after the client vanished: %v", time.Since(start).Round(time.Millisecond), r.state)
		noPanic(t, r.stderr.String())
		if strings.Contains(r.stderr.String(), canary) {
			t.Error("a value reached stderr")
		}
		checkStore(t, h, []string{"--backend", "file"}, map[string]any{"kept": canary})
	})

	t.Run("with writes in flight", func(t *testing.T) {
		h := newHome(t)
		args := []string{"--backend", "file"}
		r := startRaw(t, h, args...)
		r.initialize(map[string]any{})
		const n = 100
		for i := range n {
			r.request("tools/call", toolCall("store_credential", fmt.Sprintf(`{"name":"s%03d","value":"value-%03d"}`, i, i)))
		}
		// Take a few answers, so that writes are surely under way, then go.
		for range 3 {
			r.next(10 * time.Second)
		}
		start := time.Now()
		r.stdin.Close()
		r.stdout.Close()
		if !r.waitExit(10 * time.Second) {
			t.Fatal("the server did not exit within 10s of its client vanishing with calls in flight")
		}
		t.Logf("exited %s after the client vanished: %v", time.Since(start).Round(time.Millisecond), r.state)
		noPanic(t, r.stderr.String())
		if ws, ok := r.state.Sys().(syscall.WaitStatus); ok && ws.Signaled() && ws.Signal() != syscall.SIGPIPE {
			t.Errorf("the server died of %v", ws.Signal())
		}

		// Each credential is whole or absent, and the index of the next
		// process agrees with the records.
		s := h.connect(t, clientConfig{}, "--backend", "file", "--reveal", "always")
		list := listAll(t, s)
		present := 0
		for i := range n {
			name := fmt.Sprintf("s%03d", i)
			res := s.call(t, "retrieve_credential", map[string]any{"name": name, "reveal": true})
			if res.IsError {
				if !strings.Contains(resultText(res), "not found") {
					t.Errorf("%s: %s", name, resultText(res))
				}
				if list[name] != nil {
					t.Errorf("%s is listed but does not exist", name)
				}
				continue
			}
			present++
			if got := ok(t, res); got["value"] != fmt.Sprintf("value-%03d", i) {
				t.Errorf("%s holds the wrong value", name)
			}
			if list[name] == nil {
				t.Errorf("%s exists but is not listed", name)
			}
		}
		t.Logf("%d of %d stores had landed when the client vanished", present, n)
		if present < 3 {
			t.Errorf("only %d stores landed, but 3 were answered", present)
		}
	})
}

// TestProtocolStdinClosed: a server whose stdin is closed before or right
// after the handshake exits at once with status 0 and leaves nothing.
func TestProtocolStdinClosed(t *testing.T) {
	for _, c := range []struct {
		name string
		args []string
		send []string
	}{
		{"at start, memory", []string{"--backend", "memory"}, nil},
		{"at start, file", []string{"--backend", "file"}, nil},
		{"after initialize, unanswered", []string{"--backend", "file"}, []string{
			`{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"raw","version":"0"}}}`,
		}},
		{"after a call, unanswered", []string{"--backend", "file"}, []string{
			`{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"raw","version":"0"}}}`,
			`{"jsonrpc":"2.0","method":"notifications/initialized"}`,
			`{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"list_stored_credentials","arguments":{}}}`,
		}},
	} {
		// Not parallel: noStrays reaps any exited child, which would take
		// the exit status from another subtest's process.
		t.Run(c.name, func(t *testing.T) {
			h := newHome(t)
			r := startRaw(t, h, c.args...)
			for _, l := range c.send {
				r.send(l)
			}
			r.stdin.Close()
			start := time.Now()
			if !r.waitExit(10 * time.Second) {
				t.Fatal("the server did not exit within 10s of stdin closing")
			}
			noPanic(t, r.stderr.String())
			if !r.state.Success() {
				t.Errorf("exit: %v\n%s", r.state, r.stderr.String())
			}
			t.Logf("exited %s after stdin closed", time.Since(start).Round(time.Millisecond))
		})
	}
}

// TestProtocolMalformedFrameNotLogged: a line that is JSON but not a
// JSON-RPC message (a bare string, or a batch of strings) must not have its
// content written to stderr. The SDK's decoding error quotes the whole
// line; the server drops such lines before the SDK sees them (frames.go)
// and withholds the SDK's error texts from the log.
func TestProtocolMalformedFrameNotLogged(t *testing.T) {
	for _, line := range []string{`"` + canary + `"`, `["` + canary + `"]`} {
		h := newHome(t)
		r := startRaw(t, h, "--backend", "memory")
		r.initialize(map[string]any{})
		r.send(line)
		r.stdin.Close()
		if !r.waitExit(10 * time.Second) {
			t.Fatal("no exit")
		}
		if strings.Contains(r.stderr.String(), canary) {
			t.Errorf("the content of a malformed frame reached stderr: %.80s...", redact(line))
		}
	}
}
