package onepassword_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mcp-secrets/mcp-secrets/internal/backend/backendtest"
	"github.com/mcp-secrets/mcp-secrets/internal/backend/onepassword"
)

// fakeOp is the path of testdata/fakeop, built once by TestMain.
var fakeOp string

func TestMain(m *testing.M) { os.Exit(testMain(m)) }

func testMain(m *testing.M) int {
	gomod, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil || len(bytes.TrimSpace(gomod)) == 0 {
		fmt.Fprintln(os.Stderr, "onepassword tests: cannot find the module root with `go env GOMOD`:", err)
		return 1
	}
	root := filepath.Dir(string(bytes.TrimSpace(gomod)))
	// Built outside the work tree, so that no binary is left to commit and
	// packages whose tests run at the same time cannot race on one path.
	dir, err := os.MkdirTemp("", "fakeop-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "onepassword tests:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	bin := filepath.Join(dir, "op")
	if runtime.GOOS == "windows" {
		bin += ".exe"
	}
	build := exec.Command("go", "build", "-o", bin, "./testdata/fakeop")
	build.Dir = root
	build.Stdout = os.Stderr
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "onepassword tests: building testdata/fakeop:", err)
		return 1
	}
	fakeOp = bin
	return m.Run()
}

// ownCanary is this package's canary, beside backendtest.Canary.
const ownCanary = "opcanary-5d1e-never-on-argv"

var canaries = []string{backendtest.Canary, ownCanary}

const (
	testVault  = "Test"
	otherVault = "Other"
	testNS     = "com.mcp.fakeop-test"
	testTag    = "mcp:" + testNS
)

// fake is one fake 1Password account: a state file, an argv log and a pid
// log in a test's temporary directory.
type fake struct {
	dir, state, argvLog, pidLog string
}

// newFake makes an account with the vaults Test and Other. When the test
// ends, it fails if a canary value ever appeared in op's arguments.
func newFake(t *testing.T) *fake {
	t.Helper()
	dir := t.TempDir()
	f := &fake{
		dir:     dir,
		state:   filepath.Join(dir, "state.json"),
		argvLog: filepath.Join(dir, "argv.log"),
		pidLog:  filepath.Join(dir, "pid.log"),
	}
	t.Cleanup(func() { f.checkArgv(t) })
	return f
}

// checkArgv fails t if any argument op was given holds a canary. It never
// prints the line.
func (f *fake) checkArgv(t *testing.T) {
	t.Helper()
	for i, line := range f.argv(t) {
		for _, c := range canaries {
			if strings.Contains(line, c) {
				t.Errorf("op was run with a canary value among its arguments (argv line %d withheld)", i+1)
			}
		}
	}
}

// argv returns the argument lists op was run with, one JSON array each.
func (f *fake) argv(t *testing.T) []string {
	t.Helper()
	data, err := os.ReadFile(f.argvLog)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatalf("reading the argv log: %v", err)
	}
	var lines []string
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	return lines
}

// argvLists returns the argument lists op was run with.
func (f *fake) argvLists(t *testing.T) [][]string {
	t.Helper()
	var out [][]string
	for _, line := range f.argv(t) {
		var args []string
		if err := json.Unmarshal([]byte(line), &args); err != nil {
			t.Fatalf("argv log line is not a JSON array: %v", err)
		}
		out = append(out, args)
	}
	return out
}

// env is op's environment for this account; extra adds FAKEOP_MODE and
// the like.
func (f *fake) env(extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "FAKEOP_") {
			env = append(env, kv)
		}
	}
	env = append(env,
		"FAKEOP_STATE="+f.state,
		"FAKEOP_VAULTS="+testVault+","+otherVault,
		"FAKEOP_ARGV_LOG="+f.argvLog,
		"FAKEOP_PID_LOG="+f.pidLog,
	)
	return append(env, extra...)
}

// options returns Options for the fake with the test namespace.
func (f *fake) options(extra ...string) onepassword.Options {
	return onepassword.Options{Bin: fakeOp, Vault: testVault, Namespace: testNS, Env: f.env(extra...)}
}

// store opens a Store on the fake, failing the test if it cannot.
func (f *fake) store(t *testing.T, extra ...string) *onepassword.Store {
	t.Helper()
	s, err := onepassword.New(context.Background(), f.options(extra...))
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// op runs the fake directly, as a person or another program would, and
// returns its output and exit status.
func (f *fake) op(t *testing.T, stdin string, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(fakeOp, args...)
	cmd.Env = f.env()
	if stdin != "" {
		cmd.Stdin = strings.NewReader(stdin)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout = &stdout
	cmd.Stderr = &stderr
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("running the fake op: %v", err)
	}
	return stdout.String(), stderr.String(), code
}

// plant creates an item through the fake op, not through the store.
func (f *fake) plant(t *testing.T, vault, title, category string, tags []string, fields ...fakeField) {
	t.Helper()
	tmpl, err := json.Marshal(map[string]any{"title": title, "category": category, "fields": fields})
	if err != nil {
		t.Fatal(err)
	}
	args := []string{"item", "create", "--vault=" + vault, "--format=json", "-"}
	if len(tags) > 0 {
		args = append(args, "--tags="+strings.Join(tags, ","))
	}
	if _, stderr, code := f.op(t, string(tmpl), args...); code != 0 {
		t.Fatalf("planting %q: exit %d: %s", title, code, stderr)
	}
}

// fakeState mirrors the fake's state file.
type fakeState struct {
	Vaults []struct {
		ID   string `json:"id"`
		Name string `json:"name"`
	} `json:"vaults"`
	Items []fakeItem `json:"items"`
}

type fakeItem struct {
	ID       string `json:"id"`
	Title    string `json:"title"`
	Category string `json:"category"`
	Vault    struct {
		ID   string `json:"id"`
		Name string `json:"name"`
	} `json:"vault"`
	Tags      []string    `json:"tags"`
	UpdatedAt string      `json:"updated_at"`
	Fields    []fakeField `json:"fields"`
}

type fakeField struct {
	ID      string `json:"id"`
	Section *struct {
		ID    string `json:"id"`
		Label string `json:"label,omitempty"`
	} `json:"section,omitempty"`
	Type    string `json:"type"`
	Purpose string `json:"purpose,omitempty"`
	Label   string `json:"label"`
	Value   string `json:"value,omitempty"`
}

// items reads every item in the fake account.
func (f *fake) items(t *testing.T) []fakeItem {
	t.Helper()
	data, err := os.ReadFile(f.state)
	if err != nil {
		t.Fatalf("reading the fake's state: %v", err)
	}
	var st fakeState
	if err := json.Unmarshal(data, &st); err != nil {
		t.Fatalf("parsing the fake's state: %v", err)
	}
	return st.Items
}

// ours returns the items in the Test vault titled title with exactly our
// tag.
func (f *fake) ours(t *testing.T, title string) []fakeItem {
	t.Helper()
	var out []fakeItem
	for _, it := range f.items(t) {
		if it.Title == title && it.Vault.Name == testVault && contains(it.Tags, testTag) {
			out = append(out, it)
		}
	}
	return out
}

// editState rewrites the fake's state file through fn (no op may be
// running).
func (f *fake) editState(t *testing.T, fn func(st map[string]any)) {
	t.Helper()
	data, err := os.ReadFile(f.state)
	if err != nil {
		t.Fatal(err)
	}
	var st map[string]any
	if err := json.Unmarshal(data, &st); err != nil {
		t.Fatal(err)
	}
	fn(st)
	if data, err = json.Marshal(st); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(f.state, data, 0o600); err != nil {
		t.Fatal(err)
	}
}

// vaultID returns the ID of the fake's vault named name.
func (f *fake) vaultID(t *testing.T, name string) string {
	t.Helper()
	out, _, code := f.op(t, "", "vault", "get", name, "--format=json")
	if code != 0 {
		t.Fatalf("vault get %s: exit %d", name, code)
	}
	var v struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal([]byte(out), &v); err != nil || v.ID == "" {
		t.Fatalf("vault get %s: no ID in the output", name)
	}
	return v.ID
}

// lastPid is the process ID of the fake's latest run.
func (f *fake) lastPid(t *testing.T) int {
	t.Helper()
	data, err := os.ReadFile(f.pidLog)
	if err != nil {
		t.Fatalf("reading the pid log: %v", err)
	}
	lines := strings.Fields(string(data))
	if len(lines) == 0 {
		t.Fatal("the pid log is empty")
	}
	pid, err := strconv.Atoi(lines[len(lines)-1])
	if err != nil {
		t.Fatal(err)
	}
	return pid
}

// alive reports whether a process with pid still exists (a zombie counts:
// nobody waited for it).
func alive(pid int) bool {
	p, err := os.FindProcess(pid)
	if err != nil {
		return false
	}
	return p.Signal(syscall.Signal(0)) == nil
}

// waitGone waits a little for pid to disappear.
func waitGone(pid int) bool {
	for range 50 {
		if !alive(pid) {
			return true
		}
		time.Sleep(20 * time.Millisecond)
	}
	return false
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
