package onepassword

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"github.com/mcp-secrets/mcp-secrets/internal/backend"
)

const (
	// defaultTimeout bounds one op invocation when Options.Timeout is 0.
	defaultTimeout = 30 * time.Second
	// waitDelay bounds how long Wait waits for op's output pipes after op
	// was killed (a child holding them open must not hang the call).
	waitDelay = 2 * time.Second
	// maxStdout caps what is kept of op's output; a listing of thousands
	// of items is a few megabytes.
	maxStdout = 64 << 20
	// maxStderr caps what is kept of op's error output, which is only
	// classified, never shown.
	maxStderr = 64 << 10
	// installHint tells a person how to get op.
	installHint = "install the 1Password CLI (https://developer.1password.com/docs/cli/get-started/) or pass --op-bin with the path of op"
	// signInHint tells a person how to sign op in.
	signInHint = "run `op signin` (or turn on the 1Password app's CLI integration), or set OP_SERVICE_ACCOUNT_TOKEN"
)

// The oldest op whose `op item edit` reads a piped template.
const (
	minMajor, minMinor, minPatch = 2, 23, 0
	minVersionText               = "2.23.0"
)

// run runs op with args plus --account and returns its standard output.
// what names the command in errors ("item list"). stdin, when not nil, is
// piped to op. Failures wrap backend.ErrNotFound or backend.ErrUnavailable
// and never contain op's output.
func (s *Store) run(ctx context.Context, what string, stdin []byte, args ...string) ([]byte, error) {
	if s.account != "" {
		args = append(args, "--account="+s.account)
	}
	return s.exec(ctx, what, stdin, args)
}

// exec runs op with exactly args; see run.
func (s *Store) exec(ctx context.Context, what string, stdin []byte, args []string) ([]byte, error) {
	runCtx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	cmd := exec.CommandContext(runCtx, s.bin, args...)
	cmd.Env = s.env
	cmd.WaitDelay = waitDelay
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	stdout := &cappedBuffer{max: maxStdout}
	stderr := &cappedBuffer{max: maxStderr}
	cmd.Stdout = stdout
	cmd.Stderr = stderr
	err := cmd.Run()
	if err == nil {
		if stdout.overflow {
			return nil, fmt.Errorf("%w: op %s printed more than %d bytes", backend.ErrUnavailable, what, maxStdout)
		}
		return stdout.Bytes(), nil
	}
	if ctx.Err() != nil {
		return nil, fmt.Errorf("op %s: %w", what, ctx.Err())
	}
	if runCtx.Err() != nil {
		return nil, fmt.Errorf("%w: op %s did not finish within %s and was stopped; if the 1Password app is showing an unlock or authorization prompt, answer it and try again", backend.ErrUnavailable, what, s.timeout)
	}
	var exitErr *exec.ExitError
	if errors.As(err, &exitErr) {
		return nil, s.classify(what, exitErr.ExitCode(), stderr.Bytes())
	}
	if errors.Is(err, exec.ErrNotFound) || errors.Is(err, fs.ErrNotExist) {
		return nil, notInstalled(s.bin)
	}
	// A start failure (permission denied, not an executable): the text
	// is about the program file, never about data.
	return nil, fmt.Errorf("%w: cannot run op (%s): %v", backend.ErrUnavailable, s.bin, err)
}

// notInstalled is the error for an op that cannot be found.
func notInstalled(bin string) error {
	return fmt.Errorf("%w: the 1Password CLI was not found (looked for %q): %s", backend.ErrUnavailable, bin, installHint)
}

// classify turns a failed op command into an error. op's standard error is
// matched against op's documented messages but never quoted.
func (s *Store) classify(what string, code int, stderr []byte) error {
	msg := strings.ToLower(string(stderr))
	has := func(subs ...string) bool {
		for _, sub := range subs {
			if strings.Contains(msg, sub) {
				return true
			}
		}
		return false
	}
	switch {
	case has("isn't an item", "item not found"):
		return fmt.Errorf("op %s: %w", what, backend.ErrNotFound)
	case has("isn't a vault"):
		return fmt.Errorf("%w: 1Password has no vault %q that this account can see; check --op-vault (and --op-account)", backend.ErrUnavailable, s.vault)
	case has("not currently signed in", "not signed in", "session expired", "sign in again"):
		return fmt.Errorf("%w: op is not signed in to 1Password: %s", backend.ErrUnavailable, signInHint)
	case has("authorization prompt dismissed", "authorization timeout", "authorization was denied", "unlock"):
		return fmt.Errorf("%w: the 1Password app did not authorize op (prompt dismissed, denied or timed out); approve op in the 1Password app and try again", backend.ErrUnavailable)
	case has("(401)", "unauthorized", "invalid token", "token is invalid"):
		return fmt.Errorf("%w: 1Password refused op's credentials: %s", backend.ErrUnavailable, signInHint)
	case has("(403)", "forbidden", "don't have permission", "do not have permission"):
		return fmt.Errorf("%w: this 1Password account may not %s in vault %q; check the vault's permissions (a service account needs read and write access)", backend.ErrUnavailable, describe(what), s.vault)
	case has("(429)", "too many requests", "rate limit"):
		return fmt.Errorf("%w: 1Password is rate-limiting op; try again later", backend.ErrUnavailable)
	case has("unknown flag", "unknown command", "unknown shorthand flag"):
		return fmt.Errorf("%w: op %s was refused as unknown (exit %d); upgrade the 1Password CLI to %s or newer", backend.ErrUnavailable, what, code, minVersionText)
	}
	return fmt.Errorf("%w: op %s failed (exit %d); op's message is withheld because it may quote stored data", backend.ErrUnavailable, what, code)
}

// describe turns "item edit" into "edit items" for a permission message.
func describe(what string) string {
	noun, verb, ok := strings.Cut(what, " ")
	if !ok {
		return "run " + what
	}
	return verb + " " + noun + "s"
}

// checkVersion runs op --version and requires minVersionText or newer.
func (s *Store) checkVersion(ctx context.Context) error {
	out, err := s.exec(ctx, "--version", nil, []string{"--version"})
	if err != nil {
		return err
	}
	v, ok := parseVersion(string(out))
	if !ok {
		return fmt.Errorf("%w: %s --version did not print a version; is it the 1Password CLI? (%s)", backend.ErrUnavailable, s.bin, installHint)
	}
	want := [3]int{minMajor, minMinor, minPatch}
	for i := range v {
		if v[i] > want[i] {
			break
		}
		if v[i] < want[i] {
			return fmt.Errorf("%w: the 1Password CLI at %s is version %d.%d.%d; mcp-secrets needs %s or newer (https://developer.1password.com/docs/cli/get-started/)",
				backend.ErrUnavailable, s.bin, v[0], v[1], v[2], minVersionText)
		}
	}
	return nil
}

// parseVersion reads "2.30.0" (optionally "v2.30.0", "2.30.0-beta.01",
// followed by a newline) as major, minor and patch.
func parseVersion(s string) ([3]int, bool) {
	var v [3]int
	s = strings.TrimPrefix(strings.TrimSpace(s), "v")
	if i := strings.IndexAny(s, "-+ \n"); i >= 0 {
		s = s[:i]
	}
	parts := strings.Split(s, ".")
	if len(parts) < 2 || len(parts) > 3 {
		return v, false
	}
	for i, p := range parts {
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 {
			return v, false
		}
		v[i] = n
	}
	return v, true
}

// cappedBuffer keeps at most max bytes and notes whether more came.
type cappedBuffer struct {
	bytes.Buffer
	max      int
	overflow bool
}

// Write keeps what fits and drops the rest, never failing, so that op is
// never blocked or killed by a full pipe.
func (b *cappedBuffer) Write(p []byte) (int, error) {
	room := b.max - b.Len()
	if len(p) > room {
		b.overflow = true
		if room > 0 {
			b.Buffer.Write(p[:room])
		}
		return len(p), nil
	}
	return b.Buffer.Write(p)
}
