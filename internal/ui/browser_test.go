package ui_test

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
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// chromium returns the browser to drive. Without one the test is skipped on
// a developer's machine and fails in CI (CI is set), where .ci/run installs
// Debian's chromium.
func chromium(t *testing.T) string {
	t.Helper()
	for _, p := range []string{os.Getenv("CHROMIUM"), "/usr/bin/chromium"} {
		if p != "" {
			if _, err := os.Stat(p); err == nil {
				return p
			}
		}
	}
	if p, err := exec.LookPath("chromium"); err == nil {
		return p
	}
	if os.Getenv("CI") != "" {
		t.Fatal("chromium is not installed; CI must run the browser test (.ci/run installs it: apt-get install -y chromium)")
	}
	t.Skip("chromium is not installed (apt-get install -y chromium); CI runs this test")
	return ""
}

// screenshotDir is where the test saves what the browser showed:
// SCREENSHOT_DIR, or a directory of the test's own.
func screenshotDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("SCREENSHOT_DIR")
	if dir == "" {
		return t.TempDir()
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// browser is one headless chromium with a fresh profile, and what it
// reported while the test drove it.
type browser struct {
	ctx context.Context
	dir string

	mu       sync.Mutex
	dialogs  []string // JavaScript dialogs that opened: there must be none
	problems []string // console errors, exceptions and CSP violations
}

func newBrowser(t *testing.T) *browser {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromium(t)),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("hide-scrollbars", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancelAlloc)
	b := &browser{dir: screenshotDir(t)}
	var ctx context.Context
	var cancel context.CancelFunc
	// The listener sees every event of the tab from its start. It runs in
	// the tab's loop, so it only records; a dialog (there must be none) is
	// dismissed from another goroutine, or the page would stall.
	ctx, cancel = chromedp.NewContext(actx, chromedp.WithListener(func(ev any) {
		b.mu.Lock()
		defer b.mu.Unlock()
		switch e := ev.(type) {
		case *page.EventJavascriptDialogOpening:
			b.dialogs = append(b.dialogs, string(e.Type)+": "+e.Message)
			go func() {
				_, _ = chromedp.Call(ctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: false})
			}()
		case *log.EventEntryAdded:
			if e.Entry.Level == log.EntryLevelError || strings.Contains(e.Entry.Text, "Content Security Policy") {
				b.problems = append(b.problems, e.Entry.Text+" "+e.Entry.URL)
			}
		case *runtime.EventExceptionThrown:
			b.problems = append(b.problems, "exception: "+e.ExceptionDetails.Text)
		case *runtime.EventConsoleAPICalled:
			if e.Type == runtime.ConsoleAPICalledTypeError {
				b.problems = append(b.problems, "console.error")
			}
		}
	}))
	t.Cleanup(cancel)
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("starting chromium: %v", err)
	}
	b.ctx = ctx
	return b
}

func (b *browser) do(t *testing.T, what string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	// A bound on a hung browser, not a timing assertion.
	ctx, cancel := context.WithTimeout(b.ctx, time.Minute)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

func get[T any](t *testing.T, b *browser, what string, a chromedp.Action[T]) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, time.Minute)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	return v
}

// screenshot saves the whole page as name.png, and what fits in the window
// as name-window.png (the README's picture is one of these).
func (b *browser) screenshot(t *testing.T, name string) {
	t.Helper()
	b.save(t, name, get(t, b, "screenshot "+name, chromedp.FullScreenshot(100)))
	b.save(t, name+"-window", get(t, b, "screenshot "+name, chromedp.CaptureScreenshot()))
}

func (b *browser) save(t *testing.T, name string, png []byte) {
	t.Helper()
	path := filepath.Join(b.dir, name+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", path)
}

// visible returns the text a person sees in the page's main part.
func (b *browser) visible(t *testing.T) string {
	t.Helper()
	return get(t, b, "reading the page", chromedp.Text(chromedp.CSS("main")))
}

// jsCount counts the elements selector matches. (DevTools evaluates this,
// outside the page's CSP, which stays script-free.)
func (b *browser) jsCount(t *testing.T, selector string) int {
	t.Helper()
	return get(t, b, "counting "+selector, chromedp.Evaluate[int](fmt.Sprintf("document.querySelectorAll(%q).length", selector)))
}

// TestBrowser drives headless chromium through the review page of a real
// serve, backed by PostgreSQL after two dry-runs against the simulator, as a
// person would: runs, a run, a filter, an artifact, the storage chart.
func TestBrowser(t *testing.T) {
	t.Parallel()
	b := newBrowser(t)
	s := newSite(t, nil)

	// The runs page.
	b.do(t, "opening the runs page", chromedp.Navigate(s.URL+"/"), chromedp.WaitVisible(chromedp.CSS("table.runs")))
	text := b.visible(t)
	for _, want := range []string{"Runs", "run 2", "run 1", "succeeded", "dry-run", "Storage by repository", "octo/api"} {
		if !strings.Contains(text, want) {
			t.Errorf("the runs page does not show %q:\n%s", want, text)
		}
	}
	// The stylesheet loaded under the CSP: the header is dark.
	bg := get(t, b, "reading the header's style", chromedp.Evaluate[string](`getComputedStyle(document.querySelector("header")).backgroundColor`))
	if bg != "rgb(36, 41, 47)" {
		t.Errorf("header background %q: the stylesheet did not apply", bg)
	}
	if n := b.jsCount(t, "svg.chart rect"); n != 2 {
		t.Errorf("the chart on the runs page has %d bars, want 2 (one per repository)", n)
	}
	b.screenshot(t, "runs")

	// Follow the link to the latest run.
	b.do(t, "following the link to run 2", chromedp.Click(chromedp.CSS(`table.runs a[href="/runs/2"]`)),
		chromedp.WaitVisible(chromedp.CSS("table.decisions")))
	h1 := get(t, b, "reading the title", chromedp.Text(chromedp.CSS("h1")))
	if !strings.HasPrefix(h1, "Run 2") {
		t.Errorf("h1 %q, want Run 2", h1)
	}
	text = b.visible(t)
	for _, want := range []string{hostileName, hostileBranch, "By rule", "By repository", "old-reports", "stale", "keep-latest", "octo/web"} {
		if !strings.Contains(text, want) {
			t.Errorf("the run page does not show %q literally", want)
		}
	}
	if n := b.jsCount(t, "main img, script, main iframe"); n != 0 {
		t.Errorf("the run page has %d img, script or iframe elements: a name was interpreted as HTML", n)
	}
	total := dbCount(t, s.Store, `SELECT count(*) FROM decisions WHERE run_id = 2`)
	if n := b.jsCount(t, "table.decisions tbody tr"); n != min(total, 50) {
		t.Errorf("the run page lists %d decisions, want %d", n, min(total, 50))
	}
	b.screenshot(t, "run")

	// Filter: the stale rule's deletions in octo/api, through the form.
	want := dbCount(t, s.Store, `SELECT count(*) FROM decisions WHERE run_id = 2 AND rule = 'stale' AND action = 'delete' AND repository = 'octo/api'`)
	if want == 0 {
		t.Fatal("the fixture has no stale deletions in octo/api")
	}
	b.do(t, "filtering",
		chromedp.SetValue(chromedp.CSS(`select[name="repository"]`), "octo/api"),
		chromedp.SetValue(chromedp.CSS(`select[name="rule"]`), "stale"),
		chromedp.SetValue(chromedp.CSS(`select[name="action"]`), "delete"),
		chromedp.Click(chromedp.CSS(`form.filter button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`tr.selected`)))
	loc := get(t, b, "reading the location", chromedp.Location())
	countText := get(t, b, "reading the count", chromedp.Text(chromedp.CSS("#count")))
	rules := get(t, b, "reading the rules", chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll("table.decisions tbody tr td:nth-child(8)")).map(td => td.innerText)`))
	if !strings.Contains(loc, "rule=stale") || !strings.Contains(loc, "action=delete") || !strings.Contains(loc, "repository=octo%2Fapi") {
		t.Errorf("the filter went to %s", loc)
	}
	if len(rules) != want || !strings.HasPrefix(countText, fmt.Sprintf("%d decisions on this page matching the filter", want)) {
		t.Errorf("filtered: %d rows, %q; want %d", len(rules), countText, want)
	}
	for _, r := range rules {
		if r != "stale" {
			t.Errorf("a filtered row's rule is %q", r)
		}
	}
	b.screenshot(t, "run-filtered")

	// An artifact with a hostile name: its decision history.
	b.do(t, "opening the hostile artifact", chromedp.Click(chromedp.CSS(fmt.Sprintf(`table.decisions a[href="/artifacts/%d"]`, s.HostileID))),
		chromedp.WaitVisible(chromedp.CSS(`dl.facts`)))
	name := get(t, b, "reading the name", chromedp.Text(chromedp.CSS("dd.name")))
	branch := get(t, b, "reading the branch", chromedp.Text(chromedp.CSS("dd.branch")))
	if name != hostileName || branch != hostileBranch {
		t.Errorf("the artifact page shows name %q branch %q, want them literally", name, branch)
	}
	// One row per recorded decision (a keep carried unchanged through later
	// runs is one row naming them).
	recorded := dbCount(t, s.Store, `SELECT (SELECT count(*) FROM audit_log WHERE artifact_id = $1) + (SELECT count(*) FROM audit_pending WHERE artifact_id = $1)`, s.HostileID)
	if n := b.jsCount(t, "table.decisions tbody tr"); n != recorded || n == 0 {
		t.Errorf("the history lists %d decisions, want the %d recorded", n, recorded)
	}
	text = b.visible(t)
	for _, want := range []string{"Decision history", "run 1", "run 2", "stale", "dry_run"} {
		if !strings.Contains(text, want) {
			t.Errorf("the history does not show %q:\n%s", want, text)
		}
	}
	b.screenshot(t, "artifact")

	// The storage page, from the navigation.
	b.do(t, "opening storage", chromedp.Click(chromedp.CSS(`nav a[href="/storage"]`)),
		chromedp.WaitVisible(chromedp.CSS(`svg.chart`)))
	text = b.visible(t)
	for _, want := range []string{"octo/api", "octo/web", "in 30 artifacts", "in 12 artifacts"} {
		if !strings.Contains(text, want) {
			t.Errorf("the storage page does not show %q:\n%s", want, text)
		}
	}
	b.screenshot(t, "storage")

	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.dialogs) > 0 {
		t.Errorf("JavaScript dialogs opened: %q", b.dialogs)
	}
	if len(b.problems) > 0 {
		t.Errorf("the browser reported: %q", b.problems)
	}
}
