package notifier

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/warrenlag/warren/internal/config"
)

// counted gives a module's counts as "open sent/failed/abandoned close
// sent/failed/abandoned retries".
func counted(c *Coordinator, name string) string {
	for _, m := range c.modules {
		if m.cfg.Name == name {
			n := &m.counts.n
			return fmt.Sprintf("open %d/%d/%d close %d/%d/%d retries %d",
				n[Open][resultSent].Load(), n[Open][resultFailed].Load(), n[Open][resultAbandoned].Load(),
				n[Close][resultSent].Load(), n[Close][resultFailed].Load(), n[Close][resultAbandoned].Load(),
				m.counts.retries.Load())
		}
	}
	return "no module " + name
}

// offsets gives the times of a recorder's calls in seconds after t0.
func offsets(t0 time.Time, sends []sent) []float64 {
	var out []float64
	for _, s := range sends {
		out = append(out, s.at.Sub(t0).Seconds())
	}
	return out
}

var errDown = errors.New("connection refused")

// TestRetries checks the retry rule of notifier.md §12 item 13 on a group
// that is ERR from Start and first evaluated at 15 s (send-interval 60 s, so
// no newer notification comes within the retries).
func TestRetries(t *testing.T) {
	for _, tc := range []struct {
		name   string
		fail   func(call int, n *Notification) error
		times  []float64
		counts string
	}{
		{"success", nil, []float64{15}, "open 1/0/0 close 0/0/0 retries 0"},
		{"transient then success", func(call int, _ *Notification) error {
			if call < 4 {
				return Transient(errDown)
			}
			return nil
		}, []float64{15, 16, 18, 22}, "open 1/0/0 close 0/0/0 retries 3"},
		{"always transient", func(int, *Notification) error { return Transient(errDown) },
			[]float64{15, 16, 18, 22}, "open 0/1/0 close 0/0/0 retries 3"},
		{"permanent", func(int, *Notification) error { return errors.New("HTTP 400") },
			[]float64{15}, "open 0/1/0 close 0/0/0 retries 0"},
		{"template error", func(int, *Notification) error { return templateError("open", errors.New("no field")) },
			[]float64{15}, "open 0/1/0 close 0/0/0 retries 0"},
		{"retry-after", func(call int, _ *Notification) error {
			if call == 1 {
				return TransientAfter(errors.New("HTTP 429"), 30*time.Second)
			}
			return nil
		}, []float64{15, 45}, "open 1/0/0 close 0/0/0 retries 1"},
		{"retry-after too long", func(int, *Notification) error { return TransientAfter(errors.New("HTTP 503"), 61*time.Second) },
			[]float64{15}, "open 0/1/0 close 0/0/0 retries 0"},
		{"panic", func(int, *Notification) error { panic("bug") }, []float64{15}, "open 0/1/0 close 0/0/0 retries 0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				w := newWorld(t)
				w.set("g", ERR)
				rec := &recorder{fail: tc.fail}
				t0 := time.Now()
				c := start(t, w, []config.Notifier{conf("n", nil)}, map[string]*recorder{"n": rec})
				sleepUntil(t0, 70*time.Second)
				if got := offsets(t0, rec.take()); !slices.Equal(got, tc.times) {
					t.Errorf("attempts at %v, want %v", got, tc.times)
				}
				if got := counted(c, "n"); got != tc.counts {
					t.Errorf("counts %q, want %q", got, tc.counts)
				}
			})
		})
	}
}

// TestRetryReplaced checks that a newer notification for the group replaces
// one waiting for its retry: with interval 2 s and send-interval 0, a retry
// due 3 s after the first attempt is replaced by the evaluation 2 s after it.
func TestRetryReplaced(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t)
		w.set("g", ERR)
		rec := &recorder{fail: func(int, *Notification) error { return Transient(errDown) }}
		t0 := time.Now()
		cfg := conf("n", func(n *config.Notifier) { n.Interval, n.SendInterval = 2*time.Second, 0 })
		c := start(t, w, []config.Notifier{cfg}, map[string]*recorder{"n": rec}, WithRand(fixedOffset(0)))
		sleepUntil(t0, 5*time.Second)
		// Evaluations at 2 and 4. Attempts at 2, 3 (its first retry), 4 (the
		// newer notification, which replaces the second retry, due at 5), 5
		// (the newer one's first retry).
		if got := offsets(t0, rec.take()); !slices.Equal(got, []float64{2, 3, 4, 5}) {
			t.Errorf("attempts at %v", got)
		}
		if got := counted(c, "n"); got != "open 0/0/1 close 0/0/0 retries 2" {
			t.Errorf("counts %q", got)
		}
	})
}

// TestSlowModule checks that a module whose every send takes 10 s delays
// neither another module, nor evaluations, nor more than MaxInFlight of its
// own sends (notifier.md §12 item 10).
func TestSlowModule(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t)
		const groups = 20
		for i := range groups {
			w.set(fmt.Sprintf("g%02d", i), ERR)
		}
		slow := &recorder{delay: 10 * time.Second}
		fast := &recorder{}
		t0 := time.Now()
		c := start(t, w, []config.Notifier{conf("fast", nil), conf("slow", nil)}, map[string]*recorder{"fast": fast, "slow": slow})
		sleepUntil(t0, 15*time.Second)
		if got := fast.take(); len(got) != groups || got[groups-1].at != t0.Add(15*time.Second) {
			t.Fatalf("fast module: %d sends, want %d at 15 s", len(got), groups)
		}
		if got := slow.take(); len(got) != MaxInFlight {
			t.Fatalf("slow module started %d sends at once, want %d", len(got), MaxInFlight)
		}
		sleepUntil(t0, 25*time.Second)
		if got := offsets(t0, slow.take()); len(got) != groups-MaxInFlight || got[0] != 25 {
			t.Fatalf("slow module's other sends at %v", got)
		}
		sleepUntil(t0, 75*time.Second)
		if got := fast.take(); len(got) != groups || got[0].at != t0.Add(75*time.Second) {
			t.Fatalf("next round: fast module %d sends", len(got))
		}
		sleepUntil(t0, 100*time.Second)
		if got := counted(c, "slow"); got != "open 40/0/0 close 0/0/0 retries 0" {
			t.Errorf("slow counts %q", got)
		}
	})
}

// hung is a module whose Send blocks, ignoring its context, until released.
type hung struct {
	release chan struct{}
	once    sync.Once
}

func (h *hung) Send(context.Context, Kind, *Notification) error { <-h.release; return nil }
func (h *hung) Close() error                                    { return nil }

// TestStopAbandons checks that Stop returns after StopWait even when a
// module never returns, and counts what it abandoned: the send under way and
// the notification queued behind it.
func TestStopAbandons(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t)
		w.set("g", ERR)
		h := &hung{release: make(chan struct{})}
		t0 := time.Now()
		cfg := conf("n", func(n *config.Notifier) { n.Interval, n.SendInterval = 10*time.Second, 0 })
		c, err := New([]config.Notifier{cfg}, w.asker, nil, WithRand(fixedOffset(0)), withModules(map[string]Module{"n": h}))
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Start(); err != nil {
			t.Fatal(err)
		}
		sleepUntil(t0, 25*time.Second) // evaluations at 10 (sending) and 20 (queued)
		stopped := time.Now()
		if err := c.Stop(); err != nil {
			t.Fatal(err)
		}
		if d := time.Since(stopped); d != StopWait {
			t.Errorf("Stop took %v", d)
		}
		if got := counted(c, "n"); got != "open 0/0/2 close 0/0/0 retries 0" {
			t.Errorf("counts %q", got)
		}
		close(h.release)
		synctest.Wait()
		if got := counted(c, "n"); got != "open 0/0/2 close 0/0/0 retries 0" {
			t.Errorf("counts after the send returned %q", got)
		}
	})
}

func TestCollector(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t)
		w.set("g", ERR)
		rec := &recorder{fail: func(call int, _ *Notification) error {
			if call == 1 {
				return Transient(errDown)
			}
			return nil
		}}
		t0 := time.Now()
		c := start(t, w, []config.Notifier{conf("n", nil)}, map[string]*recorder{"n": rec})
		sleepUntil(t0, 30*time.Second)
		reg := prometheus.NewPedanticRegistry()
		if err := reg.Register(c.Collector()); err != nil {
			t.Fatal(err)
		}
		families, err := reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]float64{}
		for _, f := range families {
			for _, m := range f.GetMetric() {
				key := f.GetName()
				for _, l := range m.GetLabel() {
					key += " " + l.GetName() + "=" + l.GetValue()
				}
				got[key] = m.GetCounter().GetValue()
			}
		}
		if len(got) != 7 {
			t.Errorf("%d series, want 7: %v", len(got), got)
		}
		for key, want := range map[string]float64{
			"warren_notifications_total kind=open notifier=n result=sent":       1,
			"warren_notifications_total kind=open notifier=n result=failed":     0,
			"warren_notifications_total kind=close notifier=n result=abandoned": 0,
			"warren_notification_retries_total notifier=n":                      1,
		} {
			if v, ok := got[key]; !ok || v != want {
				t.Errorf("%s = %v (%v), want %v", key, v, ok, want)
			}
		}
	})
}
