// Package browsertest drives a headless Chromium from tests, for the
// dashboard's tests in a real browser: it finds the browser, starts it with
// the flags a machine without network needs, records console errors and
// uncaught exceptions, and saves screenshots.
//
// Without a browser a test is skipped, except under CI (CI=true), where that
// is a failure: CI installs Debian's chromium (.ci/run) and must run them.
package browsertest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// Width and Height are the window the pages are checked in: a laptop's.
const Width, Height = 1280, 800

// Browser is one headless Chromium with one tab, stopped at the end of the
// test that started it. Its methods fail the test on error.
type Browser struct {
	t   testing.TB
	ctx context.Context

	mu   sync.Mutex
	errs []string
}

// Path returns the browser to run: $WARREN_CHROMIUM, or the first of
// chromium, chromium-browser, google-chrome found; "" when there is none.
func Path() string {
	if p := os.Getenv("WARREN_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "headless-shell"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// New starts a browser for t, or skips t when there is none (fails it under CI).
func New(t testing.TB) *Browser {
	t.Helper()
	path := Path()
	if path == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("CI=true and no chromium found: .ci/run installs Debian's chromium; the browser tests must run in CI")
		}
		t.Skip("no chromium found (apt-get install chromium, or set WARREN_CHROMIUM): skipping the browser test")
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck, chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(Width, Height),
		// The network is closed: without these, Chromium waits on connections
		// to Google's services.
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-extensions", true), chromedp.Flag("disable-default-apps", true),
		chromedp.Flag("no-pings", true), chromedp.Flag("disable-dev-shm-usage", true),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	b := &Browser{t: t, ctx: ctx}
	start, done := context.WithTimeout(ctx, time.Minute)
	defer done()
	err := chromedp.Listen(ctx, b.record)
	if err == nil {
		err = chromedp.Do(start, chromedp.EmulateViewport(Width, Height))
	}
	if err != nil {
		t.Fatalf("starting %s: %v", path, err)
	}
	return b
}

// record keeps console errors, uncaught exceptions and error log entries
// (failed loads among them).
func (b *Browser) record(ev any) {
	var msg string
	switch e := ev.(type) {
	case *runtime.EventConsoleAPICalled:
		if e.Type != runtime.ConsoleAPICalledTypeError && e.Type != runtime.ConsoleAPICalledTypeAssert {
			return
		}
		var parts []string
		for _, a := range e.Args {
			if a.Description != "" {
				parts = append(parts, a.Description)
			} else {
				parts = append(parts, string(a.Value))
			}
		}
		msg = "console." + string(e.Type) + ": " + strings.Join(parts, " ")
	case *runtime.EventExceptionThrown:
		d := e.ExceptionDetails
		msg = "exception: " + d.Text
		if d.Exception != nil {
			msg += " " + d.Exception.Description
		}
		msg += fmt.Sprintf(" at %s:%d", d.URL, d.LineNumber)
	case *log.EventEntryAdded:
		if e.Entry == nil || e.Entry.Level != log.EntryLevelError {
			return
		}
		msg = "log: " + e.Entry.Text + " " + e.Entry.URL
	default:
		return
	}
	b.mu.Lock()
	b.errs = append(b.errs, msg)
	b.mu.Unlock()
}

// Errors returns the console errors, exceptions and failed loads so far.
func (b *Browser) Errors() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.errs...)
}

// Ctx is the tab's context, for chromedp actions of the test's own.
func (b *Browser) Ctx() context.Context { return b.ctx }

// Do runs actions within a minute.
func (b *Browser) Do(actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, time.Minute)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		b.t.Fatalf("browser: %v", err)
	}
}

// Open navigates to url and waits for it to load.
func (b *Browser) Open(url string) {
	b.t.Helper()
	b.Do(chromedp.Navigate(url))
}

// Eval evaluates a JavaScript expression and decodes its value into T.
func Eval[T any](b *Browser, expr string) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, time.Minute)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		b.t.Fatalf("browser: evaluating %s: %v", expr, err)
	}
	return v
}

// WaitTrue polls a JavaScript expression until it is true, for up to
// within, and fails the test with what describe evaluates to otherwise.
func (b *Browser) WaitTrue(expr string, within time.Duration, describe string) {
	b.t.Helper()
	deadline := time.Now().Add(within)
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		if Eval[bool](b, "!!("+expr+")") {
			return
		}
		if time.Now().After(deadline) {
			b.t.Fatalf("browser: not true within %v: %s\n%s", within, expr, Eval[string](b, "String("+describe+")"))
		}
		<-tick.C
	}
}

// Screenshot saves the viewport as a PNG file named name in dir, and
// returns its path.
func (b *Browser) Screenshot(dir, name string) string {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, time.Minute)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		b.t.Fatalf("browser: screenshot: %v", err)
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, png, 0o644); err != nil {
		b.t.Fatal(err)
	}
	return path
}
