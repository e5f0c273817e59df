package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// tsClientDir holds the TypeScript SDK client script and its pinned
// dependencies, relative to the module root.
const tsClientDir = "testdata/tsclient"

// The real binary driven by an independent client: the official MCP
// TypeScript SDK (testdata/tsclient/e2e.mjs), once per human answer. The
// script prints one "ok"/"not ok" line per check and exits non-zero if any
// failed. It needs node and `npm ci --prefix testdata/tsclient`; without
// them the test skips, unless MCP_SECRETS_REQUIRE_NODE=1 (as in CI).
func TestTypeScriptSDKClient(t *testing.T) {
	root := filepath.Join("..", "..")
	node := requireTSClient(t, root)
	for _, scenario := range []string{"accept", "decline", "cancel", "no-elicitation"} {
		t.Run(scenario, func(t *testing.T) {
			h := newHome(t)
			ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, node, filepath.Join(tsClientDir, "e2e.mjs"), binary, scenario)
			cmd.Dir = root
			cmd.Env = append(append([]string{}, h.env...), "E2E_CANARY="+canary)
			cmd.WaitDelay = 5 * time.Second
			var out bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &out
			err := cmd.Run()
			output := redact(out.String())
			if strings.Contains(out.String(), canary) {
				t.Error("the TypeScript client printed the canary")
			}
			if ctx.Err() != nil {
				t.Fatalf("node e2e.mjs %s timed out:\n%s", scenario, output)
			}
			if err != nil {
				t.Fatalf("node e2e.mjs %s: %v\n%s", scenario, err, output)
			}
			for _, line := range strings.Split(output, "\n") {
				if strings.HasPrefix(line, "# negotiated protocol version") {
					t.Log(strings.TrimPrefix(line, "# "))
				}
			}
			if !strings.Contains(output, " passed, 0 failed") {
				t.Fatalf("node e2e.mjs %s exited 0 without a clean summary:\n%s", scenario, output)
			}
		})
	}
}

// requireTSClient returns the path of node, or skips (fails when
// MCP_SECRETS_REQUIRE_NODE=1) if node or the client's dependencies are
// missing.
func requireTSClient(t *testing.T, root string) string {
	t.Helper()
	missing := func(why string) {
		t.Helper()
		msg := why + "; to run this test, install Node 20 or newer and run `npm ci --prefix " + tsClientDir + "`"
		if os.Getenv("MCP_SECRETS_REQUIRE_NODE") == "1" {
			t.Fatal(msg + " (MCP_SECRETS_REQUIRE_NODE=1, so this test may not skip)")
		}
		t.Skip(msg)
	}
	node, err := exec.LookPath("node")
	if err != nil {
		missing("node is not on PATH")
	}
	sdk := filepath.Join(root, tsClientDir, "node_modules", "@modelcontextprotocol", "sdk", "package.json")
	if _, err := os.Stat(sdk); errors.Is(err, os.ErrNotExist) {
		missing(tsClientDir + "/node_modules is not installed")
	} else if err != nil {
		t.Fatal(err)
	}
	return node
}
