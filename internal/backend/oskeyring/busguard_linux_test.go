package oskeyring_test

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// buildProbe builds testdata/probe, a program that imports oskeyring the
// way the real binary does.
func buildProbe(t *testing.T) string {
	t.Helper()
	goTool, err := exec.LookPath("go")
	if err != nil {
		goTool = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	bin := filepath.Join(t.TempDir(), "probe")
	out, err := exec.Command(goTool, "build", "-o", bin, "./testdata/probe").CombinedOutput()
	if err != nil {
		t.Fatalf("build testdata/probe: %v\n%s", err, out)
	}
	return bin
}

// runProbe runs the probe program for secret-service with the test's
// environment less the D-Bus and runtime-dir variables, plus env, and
// returns its key=value report.
func runProbe(t *testing.T, bin string, env ...string) map[string]string {
	t.Helper()
	cmd := exec.Command(bin, "secret-service")
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch k {
		case "DBUS_SESSION_BUS_ADDRESS", "XDG_RUNTIME_DIR", "PATH":
		default:
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, env...)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("probe: %v", err)
	}
	report := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		k, v, _ := strings.Cut(line, "=")
		report[k] = v
	}
	return report
}

// TestBusGuard checks, in a real program, that with no session bus to be
// found the keyring library never runs dbus-launch (which would leave a
// dbus-daemon behind): a fake dbus-launch first on PATH records any call.
// It also checks what busguard does with the address in each case, and
// that Probe then reports the missing bus as ErrUnavailable. With the
// busguard import removed from oskeyring, the "no bus" cases fail.
func TestBusGuard(t *testing.T) {
	run := fmt.Sprintf("/run/user/%d", os.Getuid())
	for _, p := range []string{run + "/bus", run + "/dbus-session"} {
		if _, err := os.Stat(p); err == nil {
			t.Skipf("%s exists, so the D-Bus library finds a bus by itself and never runs dbus-launch here", p)
		}
	}
	bin := buildProbe(t)
	fakeBin := t.TempDir()
	called := filepath.Join(t.TempDir(), "dbus-launch-called")
	script := "#!/bin/sh\necho called >> " + called + "\nexit 1\n"
	if err := os.WriteFile(filepath.Join(fakeBin, "dbus-launch"), []byte(script), 0o700); err != nil {
		t.Fatal(err)
	}
	path := "PATH=" + fakeBin + string(os.PathListSeparator) + os.Getenv("PATH")

	socketDir := t.TempDir()
	l, err := net.Listen("unix", filepath.Join(socketDir, "bus"))
	if err != nil {
		t.Fatal(err)
	}
	// Leave a socket nobody listens on: connecting fails at once.
	l.(*net.UnixListener).SetUnlinkOnClose(false)
	l.Close()

	cases := []struct {
		name    string
		env     []string
		address string // after init
		reason  string // in Probe's error
	}{
		{"no bus", []string{"XDG_RUNTIME_DIR=" + t.TempDir()}, "disabled:", "no D-Bus session bus"},
		{"no runtime dir", nil, "disabled:", "no D-Bus session bus"},
		{"autolaunch", []string{"DBUS_SESSION_BUS_ADDRESS=autolaunch:", "XDG_RUNTIME_DIR=" + t.TempDir()}, "disabled:", "no D-Bus session bus"},
		{"runtime dir socket", []string{"XDG_RUNTIME_DIR=" + socketDir}, "unix:path=" + socketDir + "/bus", "cannot connect"},
		{"explicit disabled", []string{"DBUS_SESSION_BUS_ADDRESS=disabled:"}, "disabled:", "no D-Bus session bus"},
		{"explicit address", []string{"DBUS_SESSION_BUS_ADDRESS=unix:path=/nonexistent/bus"}, "unix:path=/nonexistent/bus", "cannot connect"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_ = os.Remove(called)
			got := runProbe(t, bin, append(c.env, path)...)
			if _, err := os.Stat(called); err == nil {
				t.Errorf("dbus-launch was run")
			}
			if got["address"] != c.address {
				t.Errorf("DBUS_SESSION_BUS_ADDRESS after init = %q, want %q", got["address"], c.address)
			}
			if got["unavailable"] != "true" || !strings.Contains(got["error"], c.reason) {
				t.Errorf("Probe error = %q (unavailable=%s); want ErrUnavailable mentioning %q", got["error"], got["unavailable"], c.reason)
			}
		})
	}
}
