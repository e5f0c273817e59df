// Command soak drives a built mcp-secrets binary with a bounded loop of
// mixed tool calls and prints throughput, latency and the server's memory
// as it goes. It is not part of CI; run it with `make soak`.
//
//	SOAK_DURATION=10m go run ./testdata/soak -bin bin/mcp-secrets [-backend file] [-names 200]
//
// Each round overwrites one of -names credentials with a value of random
// size and kind, reads it back (checking the value), lists every 25th
// round (checking the count) and deletes one every 50th round (confirmed
// through elicitation), against a model of what the store must hold. It
// runs for SOAK_DURATION (default 10m) or -ops calls, whichever comes
// first, then checks the final state, that the server exits when its stdin
// closes, and that its resident memory did not keep growing. It exits 1 on
// any wrong answer, error or leak.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "soak: FAIL:", err)
		os.Exit(1)
	}
	fmt.Println("soak: PASS")
}

func run() error {
	bin := flag.String("bin", "bin/mcp-secrets", "the mcp-secrets binary to soak")
	backendName := flag.String("backend", "file", "--backend for the server (file, memory, keyring)")
	names := flag.Int("names", 200, "how many credential names the loop cycles through")
	maxOps := flag.Int("ops", 0, "stop after this many calls (0: only the duration bounds the loop)")
	every := flag.Duration("every", 30*time.Second, "how often to print a line of figures")
	growth := flag.Float64("max-rss-growth", 1.5, "fail if RSS at the end exceeds RSS after warm-up by this factor (and by 16 MiB)")
	flag.Parse()

	duration := 10 * time.Minute
	if v := os.Getenv("SOAK_DURATION"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			return fmt.Errorf("SOAK_DURATION=%q: want a Go duration such as 10m", v)
		}
		duration = d
	}
	binPath, err := filepath.Abs(*bin)
	if err != nil {
		return err
	}
	if _, err := os.Stat(binPath); err != nil {
		return fmt.Errorf("%s: %w (run `make build` first)", *bin, err)
	}
	home, err := os.MkdirTemp("", "mcp-secrets-soak")
	if err != nil {
		return err
	}
	defer os.RemoveAll(home)

	cmd := exec.Command(binPath, "--backend", *backendName, "--reveal", "always", "--log-level", "warn",
		"--server-name", fmt.Sprintf("soak-%d", os.Getpid()))
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + home,
		"XDG_DATA_HOME=" + filepath.Join(home, "data"), "XDG_CONFIG_HOME=" + filepath.Join(home, "config"),
		"XDG_RUNTIME_DIR=" + home}
	if v, ok := os.LookupEnv("DBUS_SESSION_BUS_ADDRESS"); ok {
		cmd.Env = append(cmd.Env, "DBUS_SESSION_BUS_ADDRESS="+v)
	}
	cmd.Stderr = os.Stderr
	client := mcp.NewClient(&mcp.Implementation{Name: "soak", Version: "v0"}, &mcp.ClientOptions{
		ElicitationHandler: func(context.Context, *mcp.ElicitRequest) (*mcp.ElicitResult, error) {
			return &mcp.ElicitResult{Action: "accept", Content: map[string]any{"confirm": true}}, nil
		},
	})
	ctx := context.Background()
	cs, err := client.Connect(ctx, &mcp.CommandTransport{Command: cmd}, nil)
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	pid := cmd.Process.Pid
	closed := false
	defer func() {
		if !closed {
			_ = cs.Close()
		}
	}()

	fmt.Printf("soak: %s --backend %s, %d names, for %s (pid %d)\n", *bin, *backendName, *names, duration, pid)
	fmt.Printf("%8s %9s %8s %9s %9s %9s %9s %5s\n", "elapsed", "calls", "calls/s", "p50", "p99", "rss MiB", "peak MiB", "fds")

	model := map[string]string{} // name -> JSON of the value it must hold
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 1))
	start := time.Now()
	deadline := start.Add(duration)
	nextReport := start.Add(*every)
	var window []time.Duration
	ops, windowOps := 0, 0
	var warmRSS float64
	call := func(name string, args map[string]any) (*mcp.CallToolResult, error) {
		cctx, cancel := context.WithTimeout(ctx, time.Minute)
		defer cancel()
		t0 := time.Now()
		res, err := cs.CallTool(cctx, &mcp.CallToolParams{Name: name, Arguments: args})
		window = append(window, time.Since(t0))
		ops++
		windowOps++
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		if res.IsError {
			return nil, fmt.Errorf("%s: %s", name, text(res))
		}
		return res, nil
	}
	lastReport := start
	report := func() {
		if windowOps == 0 {
			return
		}
		rss, peak := memory(pid)
		secs := time.Since(lastReport).Seconds()
		lastReport = time.Now()
		p50, p99 := percentile(window, 0.5), percentile(window, 0.99)
		fmt.Printf("%8s %9d %8.0f %9s %9s %9.1f %9.1f %5d\n", time.Since(start).Round(time.Second), ops, float64(windowOps)/secs,
			p50.Round(10*time.Microsecond), p99.Round(10*time.Microsecond), rss, peak, countFDs(pid))
		if warmRSS == 0 {
			warmRSS = rss
		}
		window, windowOps = window[:0], 0
	}

	for round := 0; time.Now().Before(deadline) && (*maxOps == 0 || ops < *maxOps); round++ {
		name := fmt.Sprintf("soak-%04d", rng.IntN(*names))
		value := randomValue(rng)
		if _, err := call("store_credential", map[string]any{"name": name, "value": value, "overwrite": true}); err != nil {
			return err
		}
		model[name] = jsonOf(value)
		res, err := call("retrieve_credential", map[string]any{"name": name, "reveal": true})
		if err != nil {
			return err
		}
		if got := jsonOf(structured(res)["value"]); got != model[name] {
			return fmt.Errorf("round %d: %s reads back a different value than was stored", round, name)
		}
		if round%25 == 0 {
			res, err := call("list_stored_credentials", nil)
			if err != nil {
				return err
			}
			if n := structured(res)["count"]; n != float64(len(model)) {
				return fmt.Errorf("round %d: %v credentials listed, the model has %d", round, n, len(model))
			}
		}
		if round%50 == 49 {
			victim := fmt.Sprintf("soak-%04d", rng.IntN(*names))
			res, err := call("clear_credentials", map[string]any{"names": []string{victim}})
			if err != nil {
				return err
			}
			_, had := model[victim]
			if deleted := strings.HasPrefix(text(res), "Deleted 1"); deleted != had {
				return fmt.Errorf("round %d: clear %s: %q, but the model says present=%v", round, victim, text(res), had)
			}
			delete(model, victim)
		}
		if time.Now().After(nextReport) {
			report()
			nextReport = nextReport.Add(*every)
		}
	}
	report()

	// Final state: exactly the model.
	res, err := call("list_stored_credentials", nil)
	if err != nil {
		return err
	}
	var listed []string
	for _, c := range structured(res)["credentials"].([]any) {
		listed = append(listed, c.(map[string]any)["name"].(string))
	}
	want := make([]string, 0, len(model))
	for n := range model {
		want = append(want, n)
	}
	slices.Sort(want)
	if !slices.Equal(listed, want) {
		return fmt.Errorf("final listing has %d names, the model %d", len(listed), len(want))
	}
	endRSS, peak := memory(pid)

	// The server exits when its client goes.
	done := make(chan error, 1)
	go func() { done <- cs.Close() }()
	closed = true
	select {
	case <-done:
	case <-time.After(15 * time.Second):
		_ = cmd.Process.Kill()
		return errors.New("the server did not exit within 15s of its stdin closing")
	}
	total := time.Since(start)
	fmt.Printf("soak: %d calls in %s (%.0f calls/s); RSS after warm-up %.1f MiB, at the end %.1f MiB, peak %.1f MiB; %d credentials\n",
		ops, total.Round(time.Second), float64(ops)/total.Seconds(), warmRSS, endRSS, peak, len(model))
	if warmRSS > 0 && endRSS > warmRSS**growth && endRSS-warmRSS > 16 {
		return fmt.Errorf("RSS grew from %.1f MiB to %.1f MiB", warmRSS, endRSS)
	}
	return nil
}

// randomValue is a string or an object of random size (up to 4 KiB).
func randomValue(rng *rand.Rand) any {
	s := strings.Repeat(string(rune('a'+rng.IntN(26))), 1+rng.IntN(4096))
	if rng.IntN(3) == 0 {
		return map[string]any{"user": "soak", "password": s, "n": rng.IntN(1000)}
	}
	return s
}

func jsonOf(v any) string {
	data, _ := json.Marshal(v)
	return string(data)
}

func text(res *mcp.CallToolResult) string {
	var b strings.Builder
	for _, c := range res.Content {
		if tc, ok := c.(*mcp.TextContent); ok {
			b.WriteString(tc.Text)
		}
	}
	return b.String()
}

func structured(res *mcp.CallToolResult) map[string]any {
	var m map[string]any
	data, _ := json.Marshal(res.StructuredContent)
	_ = json.Unmarshal(data, &m)
	return m
}

// memory returns the process's resident and peak resident memory in MiB.
func memory(pid int) (rss, peak float64) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0
	}
	for line := range strings.Lines(string(data)) {
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		kb, _ := strconv.ParseFloat(f[1], 64)
		switch f[0] {
		case "VmRSS:":
			rss = kb / 1024
		case "VmHWM:":
			peak = kb / 1024
		}
	}
	return rss, peak
}

func countFDs(pid int) int {
	entries, _ := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	return len(entries)
}

func percentile(d []time.Duration, q float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	return s[min(len(s)-1, int(q*float64(len(s))))]
}
