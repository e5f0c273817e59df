package server_test

import (
	"context"
	"fmt"
	"html"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// RequireChromiumEnv makes a missing Chromium fail the browser tests
// instead of skipping them (CI sets it).
const requireChromiumEnv = "MCP_SECRETS_REQUIRE_CHROMIUM"

// chromiumPath finds Debian's chromium (or chromium-headless-shell);
// MCP_SECRETS_CHROMIUM names another binary.
func chromiumPath(t *testing.T) string {
	t.Helper()
	candidates := []string{os.Getenv("MCP_SECRETS_CHROMIUM"), "/usr/bin/chromium", "/usr/bin/chromium-headless-shell", "chromium", "chromium-headless-shell"}
	for _, c := range candidates {
		if c == "" {
			continue
		}
		if p, err := exec.LookPath(c); err == nil {
			return p
		}
	}
	const why = "no Chromium here (apt-get install -y --no-install-recommends chromium)"
	if os.Getenv(requireChromiumEnv) == "1" {
		t.Fatalf("%s, and %s=1", why, requireChromiumEnv)
	}
	t.Skip(why)
	return ""
}

// newBrowser starts a headless Chromium with a throwaway profile; it is
// stopped when the test ends.
func newBrowser(t *testing.T) context.Context {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath(t)),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("no-default-browser-check", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("password-store", "basic"),
		chromedp.UserDataDir(t.TempDir()),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	bctx, cancelBrowser := chromedp.NewContext(actx)
	t.Cleanup(func() {
		cancelBrowser()
		cancelAlloc()
	})
	start := time.Now()
	if err := chromedp.Do(bctx); err != nil {
		t.Fatalf("start Chromium: %v", err)
	}
	t.Logf("Chromium started in %v", time.Since(start).Round(time.Millisecond))
	return bctx
}

// tab opens a new tab of browser, closed when done is called.
func tab(browser context.Context) (context.Context, context.CancelFunc) {
	tctx, cancelTab := chromedp.NewContext(browser)
	tctx, cancelTimeout := context.WithTimeout(tctx, 30*time.Second)
	return tctx, func() { cancelTimeout(); cancelTab() }
}

// person is what the human does in the browser: open the link, compare
// the code with the one the assistant's message shows, type, submit.
func person(t *testing.T, browser context.Context, link, wantCode string, values []string) bool {
	t.Helper()
	tctx, done := tab(browser)
	defer done()
	if err := chromedp.Do(tctx, chromedp.Navigate(link), chromedp.WaitVisible(chromedp.CSS("#code"))); err != nil {
		t.Errorf("open the entry page: %v", err)
		return false
	}
	shown, err := chromedp.Run(tctx, chromedp.Text(chromedp.CSS("#code")))
	if err != nil || shown != wantCode {
		t.Errorf("the page shows code %q (%v), the message %q", shown, err, wantCode)
		return false
	}
	for i, v := range values {
		sel := "#f" + strconv.Itoa(i)
		typ, err := chromedp.Run(tctx, chromedp.Evaluate[string](`document.querySelector(`+strconv.Quote(sel)+`).type`))
		if err != nil || typ != "password" {
			t.Errorf("input %s is of type %q (%v), want password", sel, typ, err)
		}
		if err := chromedp.Do(tctx, chromedp.SendKeys(chromedp.CSS(sel), v)); err != nil {
			t.Errorf("type into %s: %v", sel, err)
			return false
		}
	}
	if dir := os.Getenv("MCP_SECRETS_SCREENSHOTS"); dir != "" {
		if png, err := chromedp.Run(tctx, chromedp.FullScreenshot(100)); err == nil {
			_ = os.WriteFile(filepath.Join(dir, "entry-"+strings.ReplaceAll(t.Name(), "/", "_")+".png"), png, 0o600)
		}
	}
	if err := chromedp.Do(tctx, chromedp.Click(chromedp.CSS("#submit")), chromedp.WaitVisible(chromedp.CSS("#done"))); err != nil {
		msg, _ := chromedp.Run(tctx, chromedp.Evaluate[string](`document.body.innerText`))
		t.Errorf("submit the page: %v; the page says: %s", err, redact(msg))
		return false
	}
	return true
}

// The whole exchange in a real browser: the client declares URL-mode
// elicitation and its handler is the person at Chromium. The value ends up
// in the store and listed, and never in the MCP traffic.
func TestSecureEntryInChromium(t *testing.T) {
	browser := newBrowser(t)
	for _, c := range []struct {
		version string
		fields  []string
		values  []string
	}{
		{"2025-11-25", nil, []string{"sk-" + canary}},
		{"2026-07-28", nil, []string{"sk-" + canary}},
		{"2026-07-28", []string{"user", "password"}, []string{"ada", canary}},
	} {
		kind := "string"
		if c.fields != nil {
			kind = "object"
		}
		t.Run(c.version+"/"+kind, func(t *testing.T) {
			start := time.Now()
			var elicitationID string
			e := startEntryEnv(t, entrySetup{version: c.version, caps: urlCaps,
				elicit: func(_ context.Context, req *mcp.ElicitRequest) (*mcp.ElicitResult, error) {
					elicitationID = req.Params.ElicitationID
					if req.Params.Mode != "url" {
						t.Errorf("elicitation mode %q, want url", req.Params.Mode)
						return &mcp.ElicitResult{Action: "decline"}, nil
					}
					code := codePattern.FindString(req.Params.Message)
					if code == "" {
						t.Errorf("the message has no verification code: %q", req.Params.Message)
						return &mcp.ElicitResult{Action: "decline"}, nil
					}
					if !person(t, browser, req.Params.URL, code, c.values) {
						return &mcp.ElicitResult{Action: "cancel"}, nil
					}
					return &mcp.ElicitResult{Action: "accept"}, nil
				}})
			args := map[string]any{"name": "cred", "description": "entered in Chromium"}
			if c.fields != nil {
				args["fields"] = c.fields
			}
			res := e.call(t, args)
			out := structured(t, res)
			if out["status"] != "stored" || out["kind"] != kind {
				t.Fatalf("result: %s", redact(wire(t, res)))
			}
			rec, err := e.cat.Get(context.Background(), "cred")
			if err != nil {
				t.Fatalf("not in the store: %v", err)
			}
			want := c.values[0]
			if c.fields != nil {
				want = fmt.Sprintf(`{"password":%q,"user":%q}`, c.values[1], c.values[0])
			}
			if rec.Value.Text() != want {
				t.Errorf("the store holds %q", redact(rec.Value.Text()))
			}
			if names := e.listed(t); len(names) != 1 || names[0] != "cred" {
				t.Errorf("list = %q", names)
			}
			select {
			case id := <-e.completed:
				if id != elicitationID {
					t.Errorf("elicitation/complete for %q, want %q", id, elicitationID)
				}
			case <-time.After(5 * time.Second):
				t.Error("no notifications/elicitation/complete")
			}
			if !strings.Contains(e.traffic.String(), "elicitation") {
				t.Fatal("the traffic capture is empty")
			}
			e.noLeak(t)
			t.Logf("exchange took %v", time.Since(start).Round(time.Millisecond))
		})
	}
}

// A page of another origin that knows the link (the worst case: the token
// leaked) cannot store anything through it: not by submitting a form, not
// with fetch, from another port of 127.0.0.1 (same site) or from localhost.
// The link still works for the person afterwards.
func TestSecureEntryOtherOriginRefusedInChromium(t *testing.T) {
	browser := newBrowser(t)
	e := startEntryEnv(t, entrySetup{version: "2026-07-28"}) // no URL mode: the link comes as text
	res := e.call(t, map[string]any{"name": "target"})
	status, link, code := entryOf(t, res)
	if status != "waiting" || link == "" {
		t.Fatalf("result: %s", wire(t, res))
	}
	const evil = "attacker-chosen-value"
	attacker := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		switch r.URL.Path {
		case "/form":
			fmt.Fprintf(w, `<!doctype html><form id="f" method="post" action="%s"><input name="f0" value="%s"></form>`+
				`<script>document.getElementById("f").submit()</script>`, html.EscapeString(link), evil)
		case "/fetch":
			fmt.Fprintf(w, `<!doctype html><title>start</title><script>
fetch(%q, {method: "POST", mode: "no-cors", headers: {"Content-Type": "application/x-www-form-urlencoded"}, body: "f0=%s"})
  .then(() => { document.title = "sent" }, (e) => { document.title = "failed" });
</script>`, link, evil)
		default:
			http.NotFound(w, r)
		}
	}))
	defer attacker.Close()
	_, attackPort, err := net.SplitHostPort(attacker.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}

	for _, origin := range []string{"http://127.0.0.1:" + attackPort, "http://localhost:" + attackPort} {
		t.Run("form from "+origin, func(t *testing.T) {
			tctx, done := tab(browser)
			defer done()
			// The form posts at once; the browser lands on the entry server's refusal.
			if err := chromedp.Do(tctx, chromedp.Navigate(origin+"/form"), chromedp.WaitVisible(chromedp.CSS("#notice"))); err != nil {
				t.Fatalf("the cross-origin form: %v", err)
			}
			notice, _ := chromedp.Run(tctx, chromedp.Text(chromedp.CSS("#notice")))
			if notice != "Refused" {
				t.Errorf("the entry server answered the cross-origin form with %q", notice)
			}
		})
		t.Run("fetch from "+origin, func(t *testing.T) {
			tctx, done := tab(browser)
			defer done()
			refused := strings.Count(e.logs.String(), `why="not from the page's own origin"`)
			if err := chromedp.Do(tctx, chromedp.Navigate(origin+"/fetch")); err != nil {
				t.Fatal(err)
			}
			deadline := time.Now().Add(10 * time.Second)
			for {
				title, err := chromedp.Run(tctx, chromedp.Title())
				if err == nil && title != "start" {
					break
				}
				if time.Now().After(deadline) {
					t.Fatal("the cross-origin fetch never settled")
				}
				time.Sleep(50 * time.Millisecond)
			}
			// It reached the entry server, which refused it.
			if now := strings.Count(e.logs.String(), `why="not from the page's own origin"`); now != refused+1 {
				t.Errorf("the entry server refused %d cross-origin requests for one fetch", now-refused)
			}
		})
	}
	if len(e.listed(t)) != 0 {
		t.Fatal("a page of another origin stored something")
	}
	if _, err := e.cat.Get(context.Background(), "target"); err == nil {
		t.Fatal("a page of another origin stored a value")
	}
	// The person can still use the link.
	if !person(t, browser, link, code, []string{canary}) {
		t.Fatal("the link no longer works for the person")
	}
	if rec, err := e.cat.Get(context.Background(), "target"); err != nil || rec.Value.Text() != canary {
		t.Errorf("after the person's submission the store holds something else (%v)", err)
	}
	e.noLeak(t)
}
