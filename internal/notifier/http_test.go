package notifier

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/warrenlag/warren/internal/config"
)

// httpConf is an http table with body templates that show the ID and group.
func httpConf(urlOpen string, edit func(*config.Notifier)) config.Notifier {
	n := config.DefaultNotifier("web", config.NotifierHTTP)
	n.URLOpen = urlOpen
	n.TemplateOpenText = `{"open":"{{.ID}}","group":"{{.Group}}"}`
	n.TemplateCloseText = `{"close":"{{.Id}}"}`
	if edit != nil {
		edit(&n)
	}
	return n
}

func newHTTPModule(t *testing.T, cfg config.Notifier) *httpModule {
	t.Helper()
	tmpl, err := parseTemplates(cfg)
	if err != nil {
		t.Fatal(err)
	}
	m, err := newHTTP(cfg, Env{Log: zap.NewNop(), Templates: tmpl})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m.(*httpModule)
}

// request is what a test receiver saw.
type request struct {
	method, path, query, body string
	header                    http.Header
	user, password            string
	auth                      bool
}

func receiver(t *testing.T, answer func(w http.ResponseWriter, r *http.Request)) (*httptest.Server, chan request) {
	seen := make(chan request, 100)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		user, password, auth := r.BasicAuth()
		seen <- request{r.Method, r.URL.Path, r.URL.RawQuery, string(body), r.Header, user, password, auth}
		if answer != nil {
			answer(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return srv, seen
}

func TestHTTPRequest(t *testing.T) {
	srv, seen := receiver(t, nil)
	m := newHTTPModule(t, httpConf(srv.URL+"/open?id={{.ID}}&g={{.Group}}", func(n *config.Notifier) {
		n.SendClose = true
		n.URLClose = srv.URL + "/v2/alerts/{{.ID}}/close"
		n.MethodClose = "DELETE"
		n.Headers = map[string]string{"x-api-key": "secret", "token": "testtoken"}
		n.Username, n.Password = "user", "pw"
	}))
	n := &Notification{Cluster: "prod", Group: "billing", ID: "id-1"}
	if err := m.Send(context.Background(), Open, n); err != nil {
		t.Fatal(err)
	}
	r := <-seen
	if r.method != "POST" || r.path != "/open" || r.query != "id=id-1&g=billing" || r.body != `{"open":"id-1","group":"billing"}` {
		t.Errorf("open request %+v", r)
	}
	if ct := r.header.Values("Content-Type"); len(ct) != 1 || ct[0] != "application/json" {
		t.Errorf("content type %q", ct)
	}
	if r.header.Get("X-Api-Key") != "secret" || r.header.Get("Token") != "testtoken" || !r.auth || r.user != "user" || r.password != "pw" {
		t.Errorf("headers %v, auth %v %q %q", r.header, r.auth, r.user, r.password)
	}
	if err := m.Send(context.Background(), Close, n); err != nil {
		t.Fatal(err)
	}
	if r := <-seen; r.method != "DELETE" || r.path != "/v2/alerts/id-1/close" || r.body != `{"close":"id-1"}` {
		t.Errorf("close request %+v", r)
	}

	// headers can replace the content type; no username, no authentication.
	m = newHTTPModule(t, httpConf(srv.URL, func(n *config.Notifier) { n.Headers = map[string]string{"content-type": "text/plain"} }))
	if err := m.Send(context.Background(), Open, n); err != nil {
		t.Fatal(err)
	}
	if r := <-seen; r.header.Get("Content-Type") != "text/plain" || r.auth {
		t.Errorf("request %+v", r)
	}
}

// TestHTTPResults checks how each answer is classified: 2xx sent, 429 and
// 5xx retried (with Retry-After), other codes and bad templates not retried,
// and connection failures and timeouts retried.
func TestHTTPResults(t *testing.T) {
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()
	release := make(chan struct{})
	defer close(release)
	for _, tc := range []struct {
		name      string
		answer    func(w http.ResponseWriter, r *http.Request)
		url       string
		ok        bool
		transient bool
		after     time.Duration
	}{
		{"200", nil, "", true, false, 0},
		{"204", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(204) }, "", true, false, 0},
		{"400", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(400) }, "", false, false, 0},
		{"404", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(404) }, "", false, false, 0},
		{"429", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Retry-After", "7")
			w.WriteHeader(429)
		}, "", false, true, 7 * time.Second},
		{"500", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(500) }, "", false, true, 0},
		{"503 with a date", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Retry-After", time.Now().Add(time.Hour).UTC().Format(http.TimeFormat))
			w.WriteHeader(503)
		}, "", false, true, time.Hour},
		{"connection refused", nil, closed.URL, false, true, 0},
		{"reply never ends", func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(200)
			w.(http.Flusher).Flush()
			select {
			case <-release:
			case <-r.Context().Done():
			}
		}, "", false, true, 0},
		{"bad URL template", nil, "http://x/{{.Nope}}", false, false, 0},
		{"not http", nil, "ftp://x/", false, false, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv, _ := receiver(t, tc.answer)
			u := tc.url
			if u == "" {
				u = srv.URL
			}
			m := newHTTPModule(t, httpConf(u, func(n *config.Notifier) { n.Timeout = 300 * time.Millisecond }))
			err := m.Send(context.Background(), Open, &Notification{Group: "g"})
			if (err == nil) != tc.ok {
				t.Fatalf("error %v", err)
			}
			after, transient := IsTransient(err)
			if transient != tc.transient || (tc.after > 0) != (after > 0) || after > tc.after || after < tc.after-time.Minute {
				t.Errorf("error %v: transient %v after %v, want %v %v", err, transient, after, tc.transient, tc.after)
			}
			if tc.name == "bad URL template" && !errors.Is(err, ErrTemplate) {
				t.Errorf("%v is not a template error", err)
			}
		})
	}
}

// TestHTTPRetryAndIsolation drives http modules through their senders, in
// real time with short retry delays: a receiver that fails twice gets three
// requests; one that never answers costs bounded attempts and delays neither
// its module's other groups nor another module.
func TestHTTPRetryAndIsolation(t *testing.T) {
	var calls atomic.Int32
	flaky, _ := receiver(t, func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) <= 2 {
			w.WriteHeader(502)
		}
	})
	release := make(chan struct{})
	defer close(release)
	var hangs atomic.Int32
	hangStarted := make(chan struct{}, 8)
	hanging, seen := receiver(t, func(w http.ResponseWriter, r *http.Request) {
		if strings.Contains(r.URL.RawQuery, "hang") {
			hangs.Add(1)
			hangStarted <- struct{}{}
			select {
			case <-release:
			case <-r.Context().Done():
			}
		}
	})
	delays := []time.Duration{10 * time.Millisecond, 20 * time.Millisecond, 40 * time.Millisecond}
	newS := func(url string) (*sender, *counts, chan int) {
		cfg := httpConf(url, func(n *config.Notifier) { n.Timeout = 500 * time.Millisecond })
		settled := make(chan int, 16)
		c := &counts{settled: settled}
		s := newSender("web", newHTTPModule(t, cfg), zap.NewNop(), c, delays)
		s.start()
		return s, c, settled
	}
	sf, cf, settledF := newS(flaky.URL)
	sh, ch, settledH := newS(hanging.URL + "/?g={{.Group}}")
	// waitFor reads results off settled until want comes, within a deadline.
	waitFor := func(settled chan int, want int) {
		deadline := time.After(5 * time.Second)
		for {
			select {
			case r := <-settled:
				if r == want {
					return
				}
			case <-deadline:
				t.Errorf("no %s result within 5 s", resultNames[want])
				return
			}
		}
	}
	k := func(g string) groupKey { return groupKey{"c", g} }

	begin := time.Now()
	sh.enqueue(k("hang"), Open, &Notification{Group: "hang"})
	<-hangStarted // the hanging request is under way
	sh.enqueue(k("other"), Open, &Notification{Group: "other"})
	sf.enqueue(k("g"), Open, &Notification{Group: "g"})
	for r := range seen {
		if strings.Contains(r.query, "other") {
			break
		}
	}
	if d := time.Since(begin); d > 400*time.Millisecond {
		t.Errorf("another group of the hanging module waited %v", d)
	}
	var wg sync.WaitGroup
	wg.Go(func() {
		waitFor(settledF, resultSent)
		sf.stop(StopWait)
	})
	wg.Go(func() {
		// Let the hanging group use up its attempts: 4 × 500 ms + 70 ms.
		waitFor(settledH, resultFailed)
		sh.stop(StopWait)
	})
	wg.Wait()
	if got := cf.n[Open][resultSent].Load(); got != 1 || cf.retries.Load() != 2 || calls.Load() != 3 {
		t.Errorf("flaky receiver: sent %d, retries %d, calls %d", got, cf.retries.Load(), calls.Load())
	}
	if hangs.Load() != 4 || ch.n[Open][resultFailed].Load() != 1 || ch.n[Open][resultSent].Load() != 1 || ch.retries.Load() != 3 {
		t.Errorf("hanging receiver: %d attempts, failed %d, sent %d, retries %d", hangs.Load(),
			ch.n[Open][resultFailed].Load(), ch.n[Open][resultSent].Load(), ch.retries.Load())
	}
}
