package httpapi

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/warrenlag/warren/internal/notifier"
	"github.com/warrenlag/warren/protocol"
)

// fakeIncidents is a notifier's list of open incidents.
type fakeIncidents []notifier.Incident

func (f fakeIncidents) Incidents() []notifier.Incident { return f }

// TestUIFiles serves every page and static file of the dashboard: the bytes
// are the embedded files (pages with their static files' hashed names), with
// their caching headers, compressed on request, and 304 for a known ETag.
func TestUIFiles(t *testing.T) {
	f := newFixture(t, "")
	entries, err := fs.ReadDir(uiFiles, "ui")
	if err != nil || len(entries) < 8 {
		t.Fatalf("embedded files: %v %v", entries, err)
	}
	var replace []string
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".html") {
			replace = append(replace, "/ui/static/"+e.Name(), "/ui/static/"+uiHashed(e.Name()))
		}
	}
	for _, e := range entries {
		name := e.Name()
		want, _ := uiFiles.ReadFile("ui/" + name)
		path, cache, ctype := "/ui/static/"+uiHashed(name), "public, max-age=31536000, immutable", ""
		switch name {
		case "index.html", "group.html", "cluster.html":
			path = map[string]string{"index.html": "/", "group.html": "/ui/group?cluster=a&group=b", "cluster.html": "/ui/cluster"}[name]
			want = []byte(strings.NewReplacer(replace...).Replace(string(want)))
			cache, ctype = "no-cache", "text/html; charset=utf-8"
			if bytes.Contains(want, []byte(`src="/ui/static/app.js"`)) {
				t.Errorf("%s still names app.js without its hash", name)
			}
		case "app.css":
			ctype = "text/css; charset=utf-8"
		default:
			ctype = "text/javascript; charset=utf-8"
		}
		status, h, body := f.do(t, "GET", path, "")
		if status != 200 || body != string(want) || h.Get("Cache-Control") != cache || h.Get("Content-Type") != ctype ||
			h.Get("ETag") == "" || h.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("GET %s = %d %v, %d bytes (want %d)", path, status, h, len(body), len(want))
		}
		if ctype == "text/html; charset=utf-8" && !strings.Contains(h.Get("Content-Security-Policy"), "script-src 'self'") {
			t.Errorf("GET %s: no Content-Security-Policy: %v", path, h)
		}
		if status, _, body := f.do(t, "GET", path, "", "If-None-Match", h.Get("ETag")); status != 304 || body != "" {
			t.Errorf("GET %s with its ETag = %d %q", path, status, body)
		}
		// Compressed when asked, for the larger files; the same bytes once unzipped.
		req, _ := http.NewRequest("GET", f.srv.URL+path, nil)
		req.Header.Set("Accept-Encoding", "gzip")
		resp, err := http.DefaultTransport.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.Header.Get("Content-Encoding") == "gzip" {
			zr, err := gzip.NewReader(bytes.NewReader(raw))
			if err != nil {
				t.Fatal(err)
			}
			raw, _ = io.ReadAll(zr)
		} else if len(want) >= defaultGzipMin {
			t.Errorf("GET %s (%d bytes) not compressed", path, len(want))
		}
		if !bytes.Equal(raw, want) {
			t.Errorf("GET %s gzipped: not the embedded bytes", path)
		}
	}
}

// TestUIRouter: the dashboard's routes follow the routing rules of every
// route (405 with Allow, OPTIONS), and every other path stays the catch-all.
func TestUIRouter(t *testing.T) {
	f := newFixture(t, "")
	catchAll := `{"error":true,"message":"invalid request type","result":{}}` + "\n"
	for _, tt := range []struct {
		method, path string
		status       int
		allow, body  string
	}{
		{"HEAD", "/", 405, "GET, OPTIONS", ""},
		{"POST", "/", 405, "GET, OPTIONS", "Method Not Allowed\n"},
		{"OPTIONS", "/", 200, "GET, OPTIONS", ""},
		{"DELETE", "/ui/api/overview", 405, "GET, OPTIONS", "Method Not Allowed\n"},
		{"POST", "/ui/static/" + uiHashed("app.js"), 405, "GET, OPTIONS", "Method Not Allowed\n"},
		{"GET", "/index.html", 404, "", catchAll},
		{"GET", "/ui", 404, "", catchAll},
		{"GET", "/ui/", 404, "", catchAll},
		{"GET", "/ui/api", 404, "", catchAll},
		{"GET", "/ui/api/nope", 404, "", catchAll},
		{"GET", "/ui/static/", 404, "", catchAll},
		{"GET", "/ui/static/app.js", 404, "", catchAll}, // only the hashed name
		{"GET", "/ui/static/nope.js", 404, "", catchAll},
		{"GET", "/ui/group/", 404, "", catchAll},
		{"GET", "/ui/static/a%2Fb", 404, "", catchAll},
	} {
		status, h, body := f.do(t, tt.method, tt.path, "")
		if status != tt.status || h.Get("Allow") != tt.allow || body != tt.body {
			t.Errorf("%s %s = %d allow %q body %q", tt.method, tt.path, status, h.Get("Allow"), body)
		}
	}
}

// TestUIAPI reads the dashboard's JSON routes over the fixture's data.
func TestUIAPI(t *testing.T) {
	since := time.UnixMilli(1700000100000)
	f := newFixture(t, "", func(o *Options) {
		o.Incidents = fakeIncidents{{Cluster: "local", Group: "grp", ID: "X-1", Start: since, Told: []string{"nh"}}}
	})
	get := func(path string, want int, v any) string {
		t.Helper()
		status, h, body := f.do(t, "GET", path, "")
		if status != want || h.Get("Content-Type") != "application/json" {
			t.Fatalf("GET %s = %d %v\n%s", path, status, h, body)
		}
		if v != nil {
			if err := json.Unmarshal([]byte(body), v); err != nil {
				t.Fatalf("GET %s: %v\n%s", path, err, body)
			}
		}
		return body
	}

	var ov uiOverviewReply
	get("/ui/api/overview", 200, &ov)
	if len(ov.Clusters) != 1 || ov.Clusters[0].Name != "local" || len(ov.Clusters[0].Groups) != 2 {
		t.Fatalf("overview %+v", ov)
	}
	grp, other := ov.Clusters[0].Groups[0], ov.Clusters[0].Groups[1]
	if grp.Group != "grp" || grp.Status != "ERR" || grp.TotalLag != 300 || grp.Partitions != 3 ||
		grp.ByStatus["STOP"] != 1 || grp.ByStatus["OK"] != 2 || !grp.SinceSeen || grp.Since > ov.Now || ov.Now-grp.Since > 5000 {
		t.Errorf("grp %+v", grp)
	}
	if other.Group != "other" || other.Status == "" {
		t.Errorf("other %+v", other)
	}
	if !ov.Notifier || len(ov.Incidents) != 1 || ov.Incidents[0].ID != "X-1" || ov.Incidents[0].Since != since.UnixMilli() ||
		ov.Incidents[0].Told[0] != "nh" {
		t.Errorf("incidents %+v", ov.Incidents)
	}

	var g uiGroupReply
	get("/ui/api/group?cluster=local&group=grp", 200, &g)
	if g.Status != "ERR" || len(g.Partitions) != 3 || g.Partitions[0].Status != "STOP" ||
		!strings.HasPrefix(g.Partitions[0].Why, "STOP: last commit 80 s ago") || g.Partitions[0].Owner != "/10.1.2.3" ||
		g.Partitions[0].ClientID != "client-A" || g.Incident == nil || g.Incident.ID != "X-1" {
		t.Errorf("group %+v", g)
	}
	if len(g.Topics) != 1 || g.Topics[0].Name != "orders" || len(g.Topics[0].Partitions) != 3 {
		t.Fatalf("series %+v", g.Topics)
	}
	p0 := g.Topics[0].Partitions[0]
	if want := []int64{1700000060000, 1000, 1700000120000, 4021}; !equal(p0.Commits, want) || !equal(p0.Broker, []int64{1700000200000, 4321}) {
		t.Errorf("partition 0 series %+v", p0)
	}
	for _, path := range []string{"/ui/api/group?cluster=local&group=nope", "/ui/api/group?cluster=nope&group=grp", "/ui/api/group"} {
		get(path, 404, nil)
	}

	var c uiClusterReply
	get("/ui/api/cluster?cluster=local", 200, &c)
	if len(c.Topics) != 1 || c.Topics[0].Name != "orders" || c.Topics[0].Partitions != 3 ||
		!equal(c.Topics[0].Offsets, []int64{4321, 5000, 0}) || strings.Join(c.Topics[0].Groups, ",") != "grp,other" ||
		strings.Join(c.Groups, ",") != "grp,other" {
		t.Errorf("cluster %+v", c)
	}
	get("/ui/api/cluster?cluster=nope", 404, nil)
	get("/ui/api/cluster", 404, nil)
}

func equal(a, b []int64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestUIHostileNames: names with quotes, markup, ampersands, slashes and
// other scripts travel through the JSON routes HTML-safe, and are
// addressable (slashes too, as the query carries them).
func TestUIHostileNames(t *testing.T) {
	f := newFixture(t, "")
	const group, topic = `<script>alert("g&'")</script>/x ü 漢`, `<img src=x onerror=alert(1)>&/t`
	f.ch <- &protocol.StorageRequest{RequestType: protocol.StorageSetBrokerOffset, Cluster: "local", Topic: topic,
		TopicPartitionCount: 1, Offset: 50, Timestamp: now.UnixMilli()}
	f.ch <- &protocol.StorageRequest{RequestType: protocol.StorageSetConsumerOffset, Cluster: "local", Group: group,
		Topic: topic, Offset: 40, Order: 9, Timestamp: now.UnixMilli()}
	for _, path := range []string{"/ui/api/overview", "/ui/api/cluster?cluster=local",
		"/ui/api/group?" + (urlValues{"cluster": "local", "group": group}).encode()} {
		status, _, body := f.do(t, "GET", path, "")
		if status != 200 || strings.ContainsAny(body, "<>&") || !strings.Contains(body, `\u003cscript\u003e`) {
			t.Errorf("GET %s = %d, not HTML-safe or missing the group:\n%s", path, status, body)
		}
		var v any
		if err := json.Unmarshal([]byte(body), &v); err != nil {
			t.Errorf("GET %s: %v", path, err)
		}
		if !strings.Contains(allStrings(v), group+"\n") {
			t.Errorf("GET %s: group name not round-tripped", path)
		}
	}
}

type urlValues map[string]string

func (u urlValues) encode() string {
	var parts []string
	for k, v := range u {
		parts = append(parts, k+"="+url.QueryEscape(v))
	}
	return strings.Join(parts, "&")
}

// allStrings joins every string of a decoded JSON value.
func allStrings(v any) string {
	switch x := v.(type) {
	case string:
		return x + "\n"
	case []any:
		var s string
		for _, e := range x {
			s += allStrings(e)
		}
		return s
	case map[string]any:
		var s string
		for _, e := range x {
			s += allStrings(e)
		}
		return s
	}
	return ""
}

// TestUISince: the dashboard's record of since when a group has its status.
func TestUISince(t *testing.T) {
	t0 := time.Unix(1000, 0)
	at := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }
	var u uiState
	k := groupKey{"c", "g"}
	for _, tt := range []struct {
		at     int
		status protocol.StatusConstant
		since  int
		exact  bool
	}{
		{0, protocol.StatusOK, 0, false},       // first seen: at least since then
		{5, protocol.StatusOK, 0, false},       // unchanged
		{10, protocol.StatusWarning, 10, true}, // changed: since then
		{15, protocol.StatusWarning, 10, true},
		{20, protocol.StatusOK, 20, true},
	} {
		got := u.observe(k, tt.status, at(tt.at))
		if !got.since.Equal(at(tt.since)) || got.exact != tt.exact || got.status != tt.status {
			t.Errorf("at %d: %+v, want since %d exact %v", tt.at, got, tt.since, tt.exact)
		}
	}
}
