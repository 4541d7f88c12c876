package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/warrenlag/warren/internal/browsertest"
)

// TestDashboard runs the README's command (the demo) and watches its
// dashboard in a real browser: the dashboard's URL is the first the demo
// prints; the overview reaches the four groups' statuses by itself, without
// a reload (audit changes status while the page is open), with the
// notifier's incidents; the filter narrows the list; a group's page shows
// its partitions, why and a drawn chart; the cluster page its topics; no
// console error, and with mutating-routes = "token" nothing asks for it.
// Screenshots of each page go to the test's artifacts, and with
// WARREN_SCREENSHOTS=DIR the README's to DIR.
func TestDashboard(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	b := browsertest.New(t)
	bin := build(t)
	env := []string{"WARREN_DEMO_PORTS=0,0", "BURROW_HTTPSERVER_DEFAULT_ADDRESS=127.0.0.1:0",
		"BURROW_HTTPSERVER_DEFAULT_MUTATING_ROUTES=token", "BURROW_HTTPSERVER_DEFAULT_MUTATING_TOKEN=s3cret"}
	cmd, addr, stderr, console := startedWithLog(t, bin, t.TempDir(), env)
	dashboard := "http://" + addr + "/"
	if l := console.matching(`"msg":"started listener"`, `"dashboard":"`+dashboard+`"`); len(l) == 0 {
		t.Errorf("the listener's log line does not give the dashboard's URL %s", dashboard)
	}
	for !strings.Contains(stderr.String(), "Stop with Ctrl-C") {
		waitTick()
	}
	if out := stderr.String(); !strings.HasPrefix(out[strings.Index(out, "http://"):], dashboard+"\n") {
		t.Errorf("the first URL the demo prints is not the dashboard's %s:\n%s", dashboard, out)
	}
	dir := t.ArtifactDir()
	docs := os.Getenv("WARREN_SCREENSHOTS")

	b.Open(dashboard)
	b.WaitTrue(`document.documentElement.dataset.renders >= 1 && document.querySelectorAll("#groups tbody tr").length >= 4`,
		time.Minute, `document.body.innerText`)
	statusOf := `(g => { const r = Array.from(document.querySelectorAll("#groups tbody tr")).find(r => r.cells[1].textContent === g);
		return r ? r.cells[2].textContent + " " + r.cells[5].textContent : "" })`
	early := browsertest.Eval[string](b, statusOf+`("audit")`)
	t.Logf("audit at first sight: %q", early)
	// The statuses the demo is built to reach, each with the partition
	// statuses behind it; up to three minutes, as audit stops after 30 s.
	for _, want := range []struct{ group, status string }{
		{"billing", "OK 6 OK"}, {"analytics", "WARN 6 WARN"}, {"audit", "ERR 3 STOP"}, {"search", "ERR"},
	} {
		b.WaitTrue(statusOf+`("`+want.group+`").startsWith("`+want.status+`")`, 3*time.Minute, statusOf+`("`+want.group+`")`)
	}
	b.WaitTrue(statusOf+`("search").includes("STALL")`, time.Minute, statusOf+`("search")`)
	if strings.HasPrefix(early, "ERR") {
		t.Errorf("audit was ERR at first sight (%q): the page was not shown updating itself", early)
	}
	if n := browsertest.Eval[int](b, `performance.getEntriesByType("navigation").length`); n != 1 {
		t.Errorf("%d navigations: the page reloaded", n)
	}
	// The demo's log notifier has told of the three unhealthy groups.
	b.WaitTrue(`Array.from(document.querySelectorAll("#incidents tbody tr")).filter(r => r.cells[4].textContent === "console").length === 3`,
		2*time.Minute, `document.getElementById("incidents").innerText`)
	b.Screenshot(dir, "overview.png")
	if docs != "" {
		b.Screenshot(docs, "overview.png")
	}
	b.Do(chromedp.SendKeys(chromedp.ID("filter"), "au"))
	b.WaitTrue(`Array.from(document.querySelectorAll("#groups tbody tr")).filter(r => !r.hidden).map(r => r.cells[1].textContent).join() === "audit"`,
		5*time.Second, `document.getElementById("count").textContent`)

	// The stalled group's page: its six partitions, why, a chart.
	b.Open(dashboard + "ui/group?cluster=local&group=search")
	b.WaitTrue(`document.documentElement.dataset.renders >= 1`, 30*time.Second, `document.body.innerText`)
	rows := browsertest.Eval[[][]string](b, `Array.from(document.querySelectorAll("#partitions tbody tr")).map(r => Array.from(r.cells).map(c => c.textContent))`)
	stalled := 0
	for _, r := range rows {
		if r[2] == "STALL" && strings.HasPrefix(r[7], "STALL: ") {
			stalled++
		}
	}
	if len(rows) != 6 || stalled == 0 {
		t.Errorf("search's partitions %q", rows)
	}
	b.WaitTrue(`document.querySelector("#charts canvas").dataset.drawn === "6"`, 5*time.Second, `document.querySelector("#charts").innerText`)
	b.Screenshot(dir, "group-search.png")
	b.Open(dashboard + "ui/group?cluster=local&group=analytics")
	b.WaitTrue(`document.documentElement.dataset.renders >= 1 && document.querySelector("#charts canvas").dataset.drawn === "6"`,
		30*time.Second, `document.body.innerText`)
	b.Screenshot(dir, "group-analytics.png")
	if docs != "" {
		b.Screenshot(docs, "group.png")
	}

	b.Open(dashboard + "ui/cluster?cluster=local")
	b.WaitTrue(`document.documentElement.dataset.renders >= 1`, 30*time.Second, `document.body.innerText`)
	topics := browsertest.Eval[[][]string](b, `Array.from(document.querySelectorAll("#topics tbody tr")).map(r => [r.cells[0].textContent, r.cells[1].textContent, r.cells[4].textContent])`)
	if got := topicsText(topics); !strings.Contains(got, "orders 6 analytics, billing, search") || !strings.Contains(got, "payments 3 audit") {
		t.Errorf("cluster page topics %q", topics)
	}
	b.Screenshot(dir, "cluster.png")

	if errs := b.Errors(); len(errs) > 0 {
		t.Errorf("console errors:\n%s", strings.Join(errs, "\n"))
	}
	t.Logf("screenshots in %s", filepath.Clean(dir))
	stop(t, cmd, stderr)
}

func topicsText(rows [][]string) string {
	var s []string
	for _, r := range rows {
		s = append(s, strings.Join(r, " "))
	}
	return strings.Join(s, "\n")
}
