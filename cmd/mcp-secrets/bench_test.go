package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcp-secrets/mcp-secrets/internal/backend"
	"github.com/mcp-secrets/mcp-secrets/internal/backend/file"
)

// Run with `make bench`. Each figure is printed as a benchmark metric; the
// floor is the smallest go-sdk stdio server with one trivial tool
// (testdata/floor), measured in the same run.

const benchPassphrase = "bench-passphrase"

// target is a server to measure.
type target struct {
	name string
	bin  string
	args []string
	tool string         // a cheap tool to call
	call map[string]any // its arguments
	env  []string       // extra environment
}

func floorBinary(b *testing.B) string {
	b.Helper()
	out := filepath.Join(filepath.Dir(binary), "floor")
	if _, err := os.Stat(out); err == nil {
		return out
	}
	if msg, err := exec.Command("go", "build", "-o", out, "../../testdata/floor").CombinedOutput(); err != nil {
		b.Fatalf("build floor: %v\n%s", err, msg)
	}
	return out
}

func targets(b *testing.B, dir string) []target {
	retrieve := map[string]any{"name": "bench"}
	file := []string{"--backend", "file", "--file-dir", dir, "--log-level", "error"}
	return []target{
		{"floor", floorBinary(b), nil, "echo", map[string]any{"text": "hi"}, nil},
		{"memory", binary, []string{"--backend", "memory", "--log-level", "error"}, "retrieve_credential", retrieve, nil},
		// The default file store: a generated key file, no key derivation.
		{"file", binary, file, "retrieve_credential", retrieve, nil},
		// With a passphrase every start pays for argon2id.
		{"file-passphrase", binary, append(file, "--server-name", "withpass"), "retrieve_credential", retrieve,
			[]string{"MCP_SECRETS_FILE_PASSPHRASE=" + benchPassphrase}},
	}
}

func benchEnv(dir string, extra []string) []string {
	return append([]string{
		"PATH=" + os.Getenv("PATH"), "HOME=" + dir, "XDG_CONFIG_HOME=" + filepath.Join(dir, "config"),
		"XDG_RUNTIME_DIR=" + dir,
	}, extra...)
}

// open starts t and connects a client; the returned func closes it and
// returns the process's peak RSS in MiB.
func open(b *testing.B, t target, dir string) (*mcp.ClientSession, func() float64) {
	b.Helper()
	cmd := exec.Command(t.bin, t.args...)
	cmd.Env = benchEnv(dir, t.env)
	client := mcp.NewClient(&mcp.Implementation{Name: "bench", Version: "v0"}, nil)
	cs, err := client.Connect(context.Background(), &mcp.CommandTransport{Command: cmd}, nil)
	if err != nil {
		b.Fatalf("%s: connect: %v", t.name, err)
	}
	return cs, func() float64 {
		_ = cs.Close()
		if cmd.ProcessState == nil {
			return 0
		}
		ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage)
		if !ok {
			return 0
		}
		return float64(ru.Maxrss) / 1024 // Linux reports KiB
	}
}

func mustCall(b *testing.B, cs *mcp.ClientSession, tool string, args map[string]any) {
	res, err := cs.CallTool(context.Background(), &mcp.CallToolParams{Name: tool, Arguments: args})
	if err != nil || res.IsError {
		b.Fatalf("%s: %v %v", tool, err, res)
	}
}

// BenchmarkColdStart: spawn to initialize done (the session is usable).
func BenchmarkColdStart(b *testing.B) {
	dir := b.TempDir()
	for _, t := range targets(b, dir) {
		b.Run(t.name, func(b *testing.B) {
			for b.Loop() {
				_, closeFn := open(b, t, dir)
				b.StopTimer()
				closeFn()
				b.StartTimer()
			}
		})
	}
}

// BenchmarkCall: sequential tool calls on one session; run with
// -benchtime=200x for the 200 calls. Reports median and p99.
func BenchmarkCall(b *testing.B) {
	dir := b.TempDir()
	for _, t := range targets(b, dir) {
		b.Run(t.name, func(b *testing.B) {
			cs, closeFn := open(b, t, dir)
			if t.name != "floor" {
				mustCall(b, cs, "store_credential", map[string]any{"name": "bench", "value": "sk-0123456789abcdef", "overwrite": true})
			}
			var lat []time.Duration
			for b.Loop() {
				start := time.Now()
				mustCall(b, cs, t.tool, t.call)
				lat = append(lat, time.Since(start))
			}
			b.StopTimer()
			reportLatency(b, lat)
			b.ReportMetric(closeFn(), "peak-RSS-MiB")
		})
	}
}

func reportLatency(b *testing.B, lat []time.Duration) {
	slices.Sort(lat)
	q := func(p float64) float64 {
		i := int(p * float64(len(lat)-1))
		return float64(lat[i].Microseconds())
	}
	b.ReportMetric(q(0.5), "p50-µs")
	b.ReportMetric(q(0.99), "p99-µs")
}

// BenchmarkList: list_stored_credentials over 10, 1,000 and 10,000 names.
func BenchmarkList(b *testing.B) {
	for _, n := range []int{10, 1000, 10000} {
		for _, backendName := range []string{"memory", "file-passphrase"} {
			b.Run(fmt.Sprintf("%s/%d", backendName, n), func(b *testing.B) {
				dir := b.TempDir()
				var t target
				for _, x := range targets(b, dir) {
					if x.name == backendName {
						t = x
					}
				}
				if backendName == "file-passphrase" {
					seedFile(b, dir, n) // the server rebuilds the index from the records at start
				}
				cs, closeFn := open(b, t, dir)
				if backendName == "memory" {
					for i := range n {
						mustCall(b, cs, "store_credential", map[string]any{"name": fmt.Sprintf("cred-%05d", i), "value": "v", "description": "seeded"})
					}
				}
				var lat []time.Duration
				for b.Loop() {
					start := time.Now()
					mustCall(b, cs, "list_stored_credentials", nil)
					lat = append(lat, time.Since(start))
				}
				b.StopTimer()
				reportLatency(b, lat)
				b.ReportMetric(closeFn(), "peak-RSS-MiB")
				seed := 0
				if backendName == "memory" {
					seed = n // a new memory process starts empty
				}
				b.ReportMetric(rawListLatency(b, t, dir, seed), "raw-p50-µs")
			})
		}
	}
}

// rawListLatency is the median time from writing a list request to
// reading its whole response line, over a bare pipe: the server's own
// cost, without the go-sdk client's decoding of a large result.
func rawListLatency(b *testing.B, t target, dir string, seed int) float64 {
	b.Helper()
	cmd := exec.Command(t.bin, t.args...)
	cmd.Env = benchEnv(dir, t.env)
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	defer func() { stdin.Close(); _ = cmd.Wait() }()
	r := bufio.NewReaderSize(stdout, 1<<20)
	readLine := func() {
		if _, err := r.ReadSlice('\n'); err != nil && err != bufio.ErrBufferFull {
			b.Fatal(err)
		} else if err == bufio.ErrBufferFull {
			for err == bufio.ErrBufferFull {
				_, err = r.ReadSlice('\n')
			}
		}
	}
	fmt.Fprintln(stdin, `{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"raw","version":"0"}}}`)
	readLine()
	fmt.Fprintln(stdin, `{"jsonrpc":"2.0","method":"notifications/initialized"}`)
	for i := range seed {
		fmt.Fprintf(stdin, `{"jsonrpc":"2.0","id":"s%d","method":"tools/call","params":{"name":"store_credential","arguments":{"name":"cred-%05d","value":"v","description":"seeded"}}}`+"\n", i, i)
		readLine()
	}
	var lat []time.Duration
	for i := 1; i <= 20; i++ {
		start := time.Now()
		fmt.Fprintf(stdin, `{"jsonrpc":"2.0","id":%d,"method":"tools/call","params":{"name":"list_stored_credentials","arguments":{}}}`+"\n", i)
		readLine()
		lat = append(lat, time.Since(start))
	}
	slices.Sort(lat)
	return float64(lat[len(lat)/2].Microseconds())
}

// seedFile writes n records straight into the file store the server will open.
func seedFile(b *testing.B, dir string, n int) {
	b.Helper()
	s, err := file.Open(file.Options{Dir: filepath.Join(dir, backend.Namespace("withpass")), Passphrase: benchPassphrase})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	v, _ := backend.NewString("v")
	now := time.Now()
	for i := range n {
		if err := s.Set(context.Background(), fmt.Sprintf("cred-%05d", i), backend.Record{Value: v, Description: "seeded", Created: now, Updated: now}); err != nil {
			b.Fatal(err)
		}
	}
}
