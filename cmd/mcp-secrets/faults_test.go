package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// Faults: the storage under a running server fails (its daemon dies, its
// disk fills up or turns read-only, the server itself is killed mid-write).
// Each time, calls fail with an error that says what went wrong, the server
// keeps serving, and nothing stored before is lost or damaged.

// --- Secret Service daemon killed ---

// TestFaultSecretServiceDaemonKilled freezes gnome-keyring-daemon under a
// running server (SIGSTOP), then kills it (SIGKILL), brings it back first
// locked and then unlocked, and checks that the server reports each state
// clearly and in time, answers other requests meanwhile, stays up, and
// recovers with every credential intact.
//
// It runs its own session bus and daemon rather than the one
// .ci/services.sh starts: killing that one would break the keyring tests of
// other packages running at the same time, and services.sh keeps the login
// keyring's password in a shell variable only, so nobody could restart it
// unlocked. The private bus has no service files, so nothing restarts the
// daemon behind the test's back (a desktop bus would start a locked one;
// the locked phase covers that).
func TestFaultSecretServiceDaemonKilled(t *testing.T) {
	requireKeyring(t, "secret-service")
	h := newHome(t) // first, so that its check for strays runs last
	ss := startPrivateSecretService(t)
	ss.start(t, true)

	h.env = slices.DeleteFunc(h.env, func(e string) bool { return strings.HasPrefix(e, "DBUS_SESSION_BUS_ADDRESS=") })
	h.env = append(h.env, "DBUS_SESSION_BUS_ADDRESS="+ss.addr)
	s := h.connect(t, clientConfig{}, "--backend", "keyring", "--keyring-backend", "secret-service", "--reveal", "always")
	stored := map[string]any{
		"github": "ghp_" + canary,
		"db":     map[string]any{"user": "ada", "password": canary},
		"stripe": "sk_" + canary,
	}
	for _, name := range sortedKeys(stored) {
		ok(t, s.call(t, "store_credential", map[string]any{"name": name, "value": stored[name]}))
	}

	calls := []struct {
		tool string
		args map[string]any
	}{
		{"list_stored_credentials", nil},
		{"retrieve_credential", map[string]any{"name": "github", "reveal": true}},
		{"store_credential", map[string]any{"name": "while-down", "value": "x"}},
		{"store_credential", map[string]any{"name": "github", "value": "replaced", "overwrite": true}},
	}
	// failsClearly runs every call and wants a tool error that mentions
	// want, returned within a few seconds.
	failsClearly := func(phase string, want ...string) {
		t.Helper()
		for _, c := range calls {
			start := time.Now()
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			res, err := s.cs.CallTool(ctx, &mcp.CallToolParams{Name: c.tool, Arguments: c.args})
			cancel()
			took := time.Since(start)
			switch {
			case err != nil:
				t.Errorf("%s: %s: protocol error %v; want a tool error", phase, c.tool, redact(err.Error()))
			case !res.IsError:
				t.Errorf("%s: %s succeeded", phase, c.tool)
			default:
				text := resultText(res)
				for _, w := range want {
					if !strings.Contains(text, w) {
						t.Errorf("%s: %s: error %q does not say %q", phase, c.tool, redact(text), w)
					}
				}
				if strings.Contains(text, canary) {
					t.Errorf("%s: %s: the error carries a value", phase, c.tool)
				}
			}
			if took > 5*time.Second {
				t.Errorf("%s: %s took %s; want an answer within a few seconds", phase, c.tool, took.Round(time.Millisecond))
			}
			t.Logf("%s: %s answered in %s: %s", phase, c.tool, took.Round(time.Millisecond), redact(resultOrEmpty(res)))
		}
		// Still serving: the process is alive and answers.
		if err := s.cs.Ping(context.Background(), nil); err != nil {
			t.Fatalf("%s: the server stopped answering: %v\nstderr:\n%s", phase, err, redact(s.stderr.String()))
		}
	}

	// A daemon that hangs (stopped, or waiting on a prompt nobody sees):
	// a call fails when the server's keyring timeout (10s) runs out, and
	// meanwhile the server answers everything else.
	ss.signal(t, syscall.SIGSTOP)
	hung := make(chan *mcp.CallToolResult, 1)
	start := time.Now()
	go func() {
		res, _ := s.cs.CallTool(context.Background(), &mcp.CallToolParams{Name: "retrieve_credential",
			Arguments: map[string]any{"name": "github"}})
		hung <- res
	}()
	time.Sleep(200 * time.Millisecond)
	pingStart := time.Now()
	if _, err := s.cs.ListTools(context.Background(), nil); err != nil || time.Since(pingStart) > 2*time.Second {
		t.Errorf("with the keyring hung the server did not answer tools/list at once: %v after %s", err, time.Since(pingStart))
	}
	select {
	case res := <-hung:
		took := time.Since(start)
		if res == nil || !res.IsError || !strings.Contains(resultText(res), "no answer within") {
			t.Errorf("a call into a hung keyring: %q; want an error saying it did not answer", resultOrEmpty(res))
		}
		t.Logf("daemon hung: retrieve_credential answered in %s: %s", took.Round(time.Millisecond), resultOrEmpty(res))
	case <-time.After(20 * time.Second):
		t.Fatal("a call into a hung keyring did not return within 20s")
	}
	ss.signal(t, syscall.SIGCONT)
	got := ok(t, s.call(t, "retrieve_credential", map[string]any{"name": "github", "reveal": true}))
	if got["value"] != stored["github"] {
		t.Error("after the daemon resumed, github holds the wrong value")
	}

	ss.kill(t)
	failsClearly("daemon gone", "unavailable", "no Secret Service on the session bus")

	// A locked keyring: what a desktop bus would start on demand. It must
	// fail in time (there is nobody to answer an unlock prompt), not hang.
	ss.start(t, false)
	failsClearly("keyring locked", "unavailable", "locked")
	ss.kill(t)

	ss.start(t, true)
	// Recovered: the same process works again and lost nothing.
	list := listAll(t, s)
	if names := sortedKeys(list); !slices.Equal(names, sortedKeys(stored)) {
		t.Errorf("after the daemon came back the server lists %v, want %v", names, sortedKeys(stored))
	}
	for name, want := range stored {
		got := ok(t, s.call(t, "retrieve_credential", map[string]any{"name": name, "reveal": true}))
		if !sameJSON(got["value"], want) {
			t.Errorf("after the daemon came back %s holds the wrong value", name)
		}
	}
	ok(t, s.call(t, "store_credential", map[string]any{"name": "after", "value": "v"}))
	if n := ok(t, s.call(t, "list_stored_credentials", nil))["count"]; n != float64(len(stored)+1) {
		t.Errorf("after a store following recovery: %v credentials, want %d", n, len(stored)+1)
	}
	s.close(t)
	if strings.Contains(s.stderr.String(), canary) {
		t.Error("a value reached stderr")
	}
}

// privateSecretService is a session bus and a gnome-keyring-daemon of the
// test's own, with a login keyring under a throwaway XDG_DATA_HOME.
type privateSecretService struct {
	dir, addr, password string
	env                 []string
	daemon              *exec.Cmd
	daemonDone          chan struct{}
}

func startPrivateSecretService(t *testing.T) *privateSecretService {
	t.Helper()
	for _, cmd := range []string{"dbus-daemon", "dbus-send", "gnome-keyring-daemon"} {
		if _, err := exec.LookPath(cmd); err != nil {
			t.Fatalf("%s is missing; .ci/services.sh installs it", cmd)
		}
	}
	// A short path: a unix socket path must fit in 108 bytes.
	dir, err := os.MkdirTemp("", "mcp-ss")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	ss := &privateSecretService{dir: dir, password: fmt.Sprintf("pw-%x", rand.Uint64())}
	for _, d := range []string{"data", "run"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	conf := filepath.Join(dir, "bus.conf")
	// No <servicedir>: nothing is started on demand.
	busConf := `<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:path=` + filepath.Join(dir, "bus") + `</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
`
	if err := os.WriteFile(conf, []byte(busConf), 0o600); err != nil {
		t.Fatal(err)
	}
	ss.env = []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + dir,
		"XDG_DATA_HOME=" + filepath.Join(dir, "data"),
		"XDG_RUNTIME_DIR=" + filepath.Join(dir, "run"),
	}
	// services.sh sweeps whatever carries its marker; keep it as a net.
	if v, ok := os.LookupEnv("MCP_SECRETS_SERVICES_DIR"); ok {
		ss.env = append(ss.env, "MCP_SECRETS_SERVICES_DIR="+v)
	}
	bus := exec.Command("dbus-daemon", "--config-file="+conf, "--nofork", "--nopidfile", "--print-address=1")
	bus.Env = ss.env
	out, err := bus.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var busLog lockedBuffer
	bus.Stderr = &busLog
	if err := bus.Start(); err != nil {
		t.Fatalf("start dbus-daemon: %v", err)
	}
	busDone := make(chan struct{})
	go func() { _ = bus.Wait(); close(busDone) }()
	t.Cleanup(func() {
		ss.stop()
		_ = bus.Process.Kill()
		<-busDone
	})
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatalf("dbus-daemon printed no address: %v\n%s", err, busLog.String())
	}
	ss.addr = strings.TrimSpace(line)
	ss.env = append(ss.env, "DBUS_SESSION_BUS_ADDRESS="+ss.addr)
	return ss
}

// start starts gnome-keyring-daemon; with unlock it is given the login
// keyring's password (creating the keyring the first time), without it the
// login keyring stays locked.
func (ss *privateSecretService) start(t *testing.T, unlock bool) {
	t.Helper()
	d := exec.Command("gnome-keyring-daemon", "--foreground", "--components=secrets")
	d.Stdin = strings.NewReader("")
	if unlock {
		d.Args = append(d.Args, "--unlock")
		d.Stdin = strings.NewReader(ss.password)
	}
	d.Env = ss.env
	var log lockedBuffer
	d.Stdout, d.Stderr = io.Discard, &log
	if err := d.Start(); err != nil {
		t.Fatalf("start gnome-keyring-daemon: %v", err)
	}
	ss.daemon, ss.daemonDone = d, make(chan struct{})
	go func(done chan struct{}) { _ = d.Wait(); close(done) }(ss.daemonDone)
	deadline := time.Now().Add(15 * time.Second)
	for !ss.hasLogin() {
		select {
		case <-ss.daemonDone:
			t.Fatalf("gnome-keyring-daemon exited:\n%s", log.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("gnome-keyring-daemon has no login collection on the bus after 15s:\n%s", log.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// hasLogin reports whether org.freedesktop.secrets is on the bus with a
// login collection.
func (ss *privateSecretService) hasLogin() bool {
	cmd := exec.Command("dbus-send", "--bus="+ss.addr, "--print-reply=literal", "--dest=org.freedesktop.secrets",
		"/org/freedesktop/secrets", "org.freedesktop.DBus.Properties.Get",
		"string:org.freedesktop.Secret.Service", "string:Collections")
	cmd.Env = ss.env
	out, err := cmd.Output()
	return err == nil && strings.Contains(string(out), "/org/freedesktop/secrets/collection/login")
}

// kill SIGKILLs the daemon and waits until its name has left the bus.
func (ss *privateSecretService) kill(t *testing.T) {
	t.Helper()
	if err := ss.daemon.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatalf("kill gnome-keyring-daemon: %v", err)
	}
	<-ss.daemonDone
	ss.daemon = nil
	deadline := time.Now().Add(5 * time.Second)
	for ss.hasLogin() {
		if time.Now().After(deadline) {
			t.Fatal("org.freedesktop.secrets is still on the bus after the daemon was killed")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (ss *privateSecretService) signal(t *testing.T, sig syscall.Signal) {
	t.Helper()
	if err := ss.daemon.Process.Signal(sig); err != nil {
		t.Fatalf("signal gnome-keyring-daemon: %v", err)
	}
}

func (ss *privateSecretService) stop() {
	if ss.daemon != nil {
		_ = ss.daemon.Process.Signal(syscall.SIGCONT)
		_ = ss.daemon.Process.Kill()
		<-ss.daemonDone
		ss.daemon = nil
	}
}

func sameJSON(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return string(x) == string(y)
}

// --- file store: disk full, read-only ---

// mountTmpfs mounts a tmpfs of the given size (e.g. "64k") on a new
// directory and unmounts it at the end of the test. It reports false if
// mounting is not permitted here.
func mountTmpfs(t *testing.T, size string) (string, bool) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "mnt")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mount("tmpfs", dir, "tmpfs", syscall.MS_NOSUID|syscall.MS_NODEV, "size="+size+",mode=0700"); err != nil {
		if errors.Is(err, syscall.EPERM) || errors.Is(err, syscall.EACCES) {
			return "", false
		}
		t.Fatalf("mount tmpfs: %v", err)
	}
	t.Cleanup(func() {
		if err := syscall.Unmount(dir, 0); err != nil {
			_ = syscall.Unmount(dir, syscall.MNT_DETACH)
		}
	})
	return dir, true
}

// fillDisk writes a file in dir until the file system is full and returns
// its path.
func fillDisk(t *testing.T, dir string) string {
	t.Helper()
	path := filepath.Join(dir, "filler")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	chunk := make([]byte, 4096)
	for {
		if _, err := f.Write(chunk); err != nil {
			if errors.Is(err, syscall.ENOSPC) {
				return path
			}
			t.Fatalf("filling the disk: %v", err)
		}
	}
}

// TestFaultFileStoreDiskFull fills the file system under a running file
// store: stores fail saying the disk is full, earlier credentials stay
// readable, the server keeps serving, and once space returns everything
// works and nothing is damaged or left behind.
func TestFaultFileStoreDiskFull(t *testing.T) {
	h := newHome(t)
	dir, mounted := mountTmpfs(t, "64k")
	want := "no space left on device"
	wrap := func(args []string) *exec.Cmd { return h.command(args...) }
	if !mounted {
		// Without mount: a file size limit on the server process makes its
		// writes fail the same way (EFBIG instead of ENOSPC).
		t.Log("mount is not permitted here: limiting the server's file size with RLIMIT_FSIZE instead of filling a tmpfs")
		dir = filepath.Join(t.TempDir(), "store")
		want = "file too large"
		wrap = func(args []string) *exec.Cmd {
			cmd := exec.Command("/bin/sh", append([]string{"-c", `ulimit -f 16 && exec "$0" "$@"`, binary}, args...)...)
			cmd.Env = h.env
			return cmd
		}
	}
	args := []string{"--backend", "file", "--file-dir", dir, "--reveal", "always"}
	s := connectCmd(t, wrap(args), clientConfig{})
	stored := map[string]any{"a": "value-a-" + canary, "b": map[string]any{"password": canary}, "c": "value-c"}
	for _, name := range sortedKeys(stored) {
		ok(t, s.call(t, "store_credential", map[string]any{"name": name, "value": stored[name]}))
	}

	big := strings.Repeat("x", 32<<10) // well under the value limit, too big for what is left
	var filler string
	if mounted {
		filler = fillDisk(t, dir)
		big = "a-new-value"
	}
	for _, c := range []map[string]any{
		{"name": "d", "value": big},
		{"name": "a", "value": big, "overwrite": true},
	} {
		res := s.call(t, "store_credential", c)
		if !res.IsError || !strings.Contains(resultText(res), want) {
			t.Errorf("store %v with the disk full: %q; want an error saying %q", c["name"], redact(resultText(res)), want)
		}
		if strings.Contains(resultText(res), canary) {
			t.Error("the error carries a value")
		}
		t.Logf("store %v with the disk full: %s", c["name"], redact(resultText(res)))
	}
	// Earlier credentials are intact and the server still serves.
	for name, v := range stored {
		got := ok(t, s.call(t, "retrieve_credential", map[string]any{"name": name, "reveal": true}))
		if !sameJSON(got["value"], v) {
			t.Errorf("with the disk full, %s holds the wrong value", name)
		}
	}
	if names := sortedKeys(listAll(t, s)); !slices.Equal(names, sortedKeys(stored)) {
		t.Errorf("with the disk full the server lists %v", names)
	}

	// Space returns: the same stores now work.
	if filler != "" {
		if err := os.Remove(filler); err != nil {
			t.Fatal(err)
		}
	} else {
		big = "small"
	}
	ok(t, s.call(t, "store_credential", map[string]any{"name": "d", "value": big}))
	ok(t, s.call(t, "store_credential", map[string]any{"name": "a", "value": big, "overwrite": true}))
	stored["d"], stored["a"] = big, big
	s.close(t)
	noTempFiles(t, dir)
	checkStore(t, h, args, stored)
}

// TestFaultFileStoreReadOnly remounts the store's file system read-only
// under a running server: writes and deletions fail saying so, reads and
// listing still work, and after it is writable again all is well.
func TestFaultFileStoreReadOnly(t *testing.T) {
	h := newHome(t)
	dir, mounted := mountTmpfs(t, "1m")
	if !mounted {
		t.Skip("mount is not permitted here, and as root no permission bit makes a directory read-only; run as root in CI")
	}
	args := []string{"--backend", "file", "--file-dir", dir, "--reveal", "always"}
	s := h.connect(t, clientConfig{answer: "accept"}, args...)
	stored := map[string]any{"a": "value-a-" + canary, "b": map[string]any{"password": canary}}
	for _, name := range sortedKeys(stored) {
		ok(t, s.call(t, "store_credential", map[string]any{"name": name, "value": stored[name]}))
	}
	remount := func(flags uintptr) {
		t.Helper()
		if err := syscall.Mount("", dir, "", syscall.MS_REMOUNT|flags, ""); err != nil {
			t.Fatalf("remount: %v", err)
		}
	}
	remount(syscall.MS_RDONLY)
	defer remount(0) // the cleanup must be able to delete the files

	for _, c := range []struct {
		tool string
		args map[string]any
	}{
		{"store_credential", map[string]any{"name": "new", "value": "v"}},
		{"store_credential", map[string]any{"name": "a", "value": "v", "overwrite": true}},
		{"clear_credentials", map[string]any{"names": []string{"b"}}},
	} {
		res := s.call(t, c.tool, c.args)
		if text := resultText(res); !res.IsError || !strings.Contains(text, "read-only") {
			t.Errorf("%s %v on a read-only file system: %q; want an error saying read-only", c.tool, c.args["name"], redact(text))
		}
		t.Logf("%s on a read-only file system: %s", c.tool, redact(resultText(res)))
	}
	for name, v := range stored {
		got := ok(t, s.call(t, "retrieve_credential", map[string]any{"name": name, "reveal": true}))
		if !sameJSON(got["value"], v) {
			t.Errorf("read-only: %s holds the wrong value", name)
		}
	}
	if names := sortedKeys(listAll(t, s)); !slices.Equal(names, sortedKeys(stored)) {
		t.Errorf("read-only: the server lists %v", names)
	}

	remount(0)
	ok(t, s.call(t, "store_credential", map[string]any{"name": "new", "value": "v"}))
	stored["new"] = "v"
	s.close(t)
	noTempFiles(t, dir)
	checkStore(t, h, args, stored)
}

// connectCmd is home.connect for a command made by the caller (a wrapper
// around the binary).
func connectCmd(t *testing.T, cmd *exec.Cmd, cc clientConfig) *session {
	t.Helper()
	s := &session{stderr: &lockedBuffer{}, wire: &lockedBuffer{}, cmd: cmd}
	cmd.Stderr = s.stderr
	client := mcp.NewClient(&mcp.Implementation{Name: "faults", Version: "v0"}, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cs, err := client.Connect(ctx, &mcp.CommandTransport{Command: cmd}, &mcp.ClientSessionOptions{ProtocolVersion: cc.version})
	if err != nil {
		t.Fatalf("connect: %v\nstderr:\n%s", err, redact(s.stderr.String()))
	}
	s.cs = cs
	t.Cleanup(func() { s.close(t) })
	return s
}

// noTempFiles fails if a write left a temporary file in the store.
func noTempFiles(t *testing.T, dir string) {
	t.Helper()
	var left []string
	_ = filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err == nil && strings.HasPrefix(d.Name(), ".tmp-") {
			left = append(left, path)
		}
		return nil
	})
	if len(left) > 0 {
		t.Errorf("temporary files left behind: %v", left)
	}
}

// checkStore starts a new server over the same store and checks that it
// holds exactly want: the listing (the index) names every credential and
// describes it as its record does, every value reads back whole, and the
// new process found nothing to repair.
func checkStore(t *testing.T, h *home, args []string, want map[string]any) {
	t.Helper()
	s := h.connect(t, clientConfig{}, append(slices.Clone(args), "--reveal", "always", "--log-level", "debug")...)
	list := listAll(t, s)
	if names := sortedKeys(list); !slices.Equal(names, sortedKeys(want)) {
		t.Errorf("a new process lists %v, want %v", names, sortedKeys(want))
	}
	for name, v := range want {
		got := ok(t, s.call(t, "retrieve_credential", map[string]any{"name": name, "reveal": true}))
		if !sameJSON(got["value"], v) {
			t.Errorf("a new process reads the wrong value for %s", name)
		}
		if m := list[name]; m != nil && (m["kind"] != got["kind"] || m["size"] != got["size"]) {
			t.Errorf("%s: the index says %v/%v bytes, the record is %v/%v", name, m["kind"], m["size"], got["kind"], got["size"])
		}
	}
	s.close(t)
	for _, bad := range []string{"index repaired", "index unreadable", "damaged", "unreadable"} {
		if strings.Contains(s.stderr.String(), bad) {
			t.Errorf("a new process logged %q:\n%s", bad, redact(s.stderr.String()))
		}
	}
}

// --- SIGKILL while writing ---

// TestFaultSIGKILLWhileWriting kills a file-store server with SIGKILL at a
// random moment while it overwrites credentials, 30 times. After each kill
// a new process must read every credential as either its last acknowledged
// value or the one in flight (never damaged, never undecryptable), list
// exactly the credentials that exist, and describe each as its record does.
func TestFaultSIGKILLWhileWriting(t *testing.T) {
	rounds := 30
	if testing.Short() {
		rounds = 8
	}
	h := newHome(t)
	args := []string{"--backend", "file", "--reveal", "always", "--log-level", "debug"}
	const writers, namesEach = 4, 3
	// Per name: the last value the server acknowledged and the one in
	// flight when it was killed ("" for none).
	acked := map[string]any{}
	inFlight := map[string]any{}
	var mu sync.Mutex
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 7))
	var kills []time.Duration
	for round := range rounds + 1 {
		s := h.connect(t, clientConfig{}, args...)
		// Check what the previous round left.
		verifyAfterKill(t, round, s, acked, inFlight)
		clear(inFlight)
		s.close(t)
		if t.Failed() || round == rounds {
			break
		}

		s = h.connect(t, clientConfig{}, args...)
		var wg sync.WaitGroup
		for w := range writers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for seq := 0; ; seq++ {
					name := fmt.Sprintf("w%d-%d", w, seq%namesEach)
					v := killValue(round, w, seq)
					mu.Lock()
					inFlight[name] = v
					mu.Unlock()
					res, err := s.cs.CallTool(context.Background(), &mcp.CallToolParams{Name: "store_credential",
						Arguments: map[string]any{"name": name, "value": v, "overwrite": true}})
					if err != nil {
						return // killed
					}
					if res.IsError {
						t.Errorf("round %d: store %s: %s", round, name, resultText(res))
						return
					}
					mu.Lock()
					acked[name] = v
					delete(inFlight, name)
					mu.Unlock()
				}
			}()
		}
		delay := time.Duration(20+rng.IntN(280)) * time.Millisecond
		kills = append(kills, delay)
		time.Sleep(delay)
		if err := s.cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		wg.Wait()
		s.close(t)
		if strings.Contains(s.stderr.String(), "panic:") {
			t.Errorf("round %d: the server panicked:\n%s", round, redact(s.stderr.String()))
		}
	}
	t.Logf("%d kills after %s of writing each", len(kills), latencyFigures(kills))

	// A killed write leaves its temporary file; once such files are an
	// hour old, the next start removes them.
	tmp, _ := filepath.Glob(filepath.Join(h.dir, "data", "mcp-secrets", "*", ".tmp-*"))
	t.Logf("%d temporary files left by killed writes", len(tmp))
	old := time.Now().Add(-2 * time.Hour)
	for _, f := range tmp {
		if err := os.Chtimes(f, old, old); err != nil {
			t.Fatal(err)
		}
	}
	h.connect(t, clientConfig{}, args...).close(t)
	if left, _ := filepath.Glob(filepath.Join(h.dir, "data", "mcp-secrets", "*", ".tmp-*")); len(left) > 0 {
		t.Errorf("a new start left %d stale temporary files: %v", len(left), left)
	}
}

// killValue is a value of varying kind and size, so a stale index entry
// (an old size or kind) shows.
func killValue(round, w, seq int) any {
	v := fmt.Sprintf("r%02d-w%d-s%05d-%s", round, w, seq, strings.Repeat("x", (round*7+seq*13)%200))
	if seq%3 == 1 {
		return map[string]any{"user": fmt.Sprintf("u%d", seq), "password": v}
	}
	return v
}

func verifyAfterKill(t *testing.T, round int, s *session, acked, inFlight map[string]any) {
	t.Helper()
	list := listAll(t, s)
	var exist []string
	for _, name := range sortedKeys(mergeKeys(acked, inFlight)) {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		res, err := s.cs.CallTool(ctx, &mcp.CallToolParams{Name: "retrieve_credential",
			Arguments: map[string]any{"name": name, "reveal": true}})
		cancel()
		if err != nil {
			t.Fatalf("round %d: retrieve %s: %v", round, name, err)
		}
		if res.IsError {
			text := resultText(res)
			_, wasAcked := acked[name]
			if !strings.Contains(text, "not found") || wasAcked {
				t.Errorf("round %d: %s after a kill: %s", round, name, text)
			}
			continue
		}
		exist = append(exist, name)
		got := ok(t, res)
		a, hasA := acked[name]
		f, hasF := inFlight[name]
		if !(hasA && sameJSON(got["value"], a)) && !(hasF && sameJSON(got["value"], f)) {
			t.Errorf("round %d: %s holds neither its last acknowledged value nor the one in flight", round, name)
		}
		// What is on disk now is the value later rounds must find.
		acked[name] = got["value"]
		if m := list[name]; m == nil {
			t.Errorf("round %d: %s exists but is not listed", round, name)
		} else if m["kind"] != got["kind"] || m["size"] != got["size"] {
			t.Errorf("round %d: %s: the index says %v/%v bytes, the record is %v/%v",
				round, name, m["kind"], m["size"], got["kind"], got["size"])
		}
	}
	if names := sortedKeys(list); !slices.Equal(names, exist) {
		t.Errorf("round %d: listed %v, but the credentials are %v", round, names, exist)
	}
	for _, bad := range []string{"damaged", "unreadable", "panic:"} {
		if strings.Contains(s.stderr.String(), bad) {
			t.Errorf("round %d: the server logged %q:\n%s", round, bad, redact(s.stderr.String()))
		}
	}
}

func mergeKeys(ms ...map[string]any) map[string]any {
	out := map[string]any{}
	for _, m := range ms {
		for k, v := range m {
			out[k] = v
		}
	}
	return out
}
