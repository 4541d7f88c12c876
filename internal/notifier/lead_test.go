package notifier

import (
	"iter"
	"maps"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/warrenlag/warren/internal/config"
)

// published keeps the latest record per group, as a reader of the state
// topic does.
type published struct {
	mu   sync.Mutex
	recs map[string][]byte
	n    int
}

func (p *published) publish(cluster, group string, rec []byte) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.recs == nil {
		p.recs = map[string][]byte{}
	}
	p.recs[cluster+"/"+group] = rec
	p.n++
}

// sections returns the records as sections of KindIncidents.
func (p *published) sections() iter.Seq2[string, []byte] {
	p.mu.Lock()
	recs := slices.Collect(maps.Values(p.recs))
	p.mu.Unlock()
	return func(yield func(string, []byte) bool) {
		for _, r := range recs {
			if !yield(KindIncidents, r) {
				return
			}
		}
	}
}

// TestPassive runs a passive coordinator on an ERR group: it sends nothing
// and publishes nothing until Lead; once leading it opens at its next
// evaluation; after Follow it sends nothing again.
func TestPassive(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t)
		w.set("g", ERR)
		rec := &recorder{}
		var pub published
		t0 := time.Now()
		c := start(t, w, []config.Notifier{conf("n", nil)}, map[string]*recorder{"n": rec}, WithPassive(),
			WithPublish(pub.publish))
		sleepUntil(t0, 200*time.Second)
		if got := rec.take(); len(got) != 0 || pub.n != 0 || c.Active() {
			t.Fatalf("passive: sent %v, published %d, active %v", got, pub.n, c.Active())
		}
		if n := c.Lead(pub.sections()); n != 0 || !c.Active() {
			t.Fatalf("Lead: %d groups, active %v", n, c.Active())
		}
		sleepUntil(t0, 300*time.Second)
		if got := rec.take(); len(got) != 1 || format(t0, got[0]) != "255 open A@255 ERR" || pub.n != 1 {
			t.Fatalf("leading: sent %v, published %d", got, pub.n)
		}
		c.Follow()
		sleepUntil(t0, 500*time.Second)
		if got := rec.take(); len(got) != 0 || c.Active() {
			t.Fatalf("after Follow: sent %v", got)
		}
	})
}

// TestTakeOver is issue 14's hand-over, in one process: leader A opens an
// incident for an ERR group at 15 s and publishes it; B, passive and on its
// own schedule (evaluations at 35 s, 95 s, ...), leads from 30 s with the
// records A published. While the group stays bad, B sends no open within
// send-interval of A's, and its open carries A's incident; once the group
// recovers, B closes A's incident. Without the records (the control), B opens
// a fresh incident at its first evaluation.
func TestTakeOver(t *testing.T) {
	for _, tc := range []struct {
		name    string
		handed  bool
		recover bool
		want    []string
	}{
		{"still bad", true, false, []string{"95 open X@15 ERR", "155 open X@15 ERR"}},
		{"recovered", true, true, []string{"95 open X@15 ERR", "155 close X@15 OK"}},
		{"not handed over", false, false, []string{"35 open fresh@35 ERR", "95 open fresh@35 ERR", "155 open fresh@35 ERR"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				w := newWorld(t)
				w.set("g", ERR)
				cfg := []config.Notifier{conf("n", func(n *config.Notifier) { n.SendClose = true })}
				ra, rb := &recorder{}, &recorder{}
				var pub published
				t0 := time.Now()
				a := start(t, w, cfg, map[string]*recorder{"n": ra}, WithIDs(func() string { return "X" }),
					WithPublish(pub.publish))
				sleepUntil(t0, 20*time.Second)
				b := start(t, w, cfg, map[string]*recorder{"n": rb}, WithIDs(func() string { return "fresh" }), WithPassive())
				sleepUntil(t0, 30*time.Second)
				a.Follow()
				if got := ra.take(); len(got) != 1 || format(t0, got[0]) != "15 open X@15 ERR" {
					t.Fatalf("A sent %v", got)
				}
				sections := pub.sections()
				if !tc.handed {
					sections = func(func(string, []byte) bool) {}
				}
				b.Lead(sections)
				for _, at := range []int{40, 100} {
					sleepUntil(t0, time.Duration(at)*time.Second)
					if tc.recover && at == 100 {
						w.set("g", OK)
					} else {
						w.set("g", ERR)
					}
				}
				sleepUntil(t0, 160*time.Second)
				var got []string
				for _, s := range rb.take() {
					got = append(got, format(t0, s))
				}
				if !slices.Equal(got, tc.want) {
					t.Errorf("B sent:\n got %q\nwant %q", got, tc.want)
				}
				if got := ra.take(); len(got) != 0 {
					t.Errorf("A sent %v after Follow", got)
				}
			})
		})
	}
}

// TestPublish checks what the leader publishes: a record when an incident
// opens, one per open that moves LastNotify, and one without state when the
// incident closes; nothing for an evaluation that changes nothing.
func TestPublish(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t)
		w.set("g", OK)
		var pub published
		t0 := time.Now()
		c := start(t, w, []config.Notifier{conf("n", func(n *config.Notifier) { n.SendClose = true; n.SendInterval = 120 * time.Second })},
			map[string]*recorder{"n": {}}, WithPublish(pub.publish))
		sleepUntil(t0, 20*time.Second) // OK at 15: nothing
		if pub.n != 0 {
			t.Fatalf("published %d for an OK group", pub.n)
		}
		w.set("g", ERR)
		sleepUntil(t0, 140*time.Second) // open at 75, held back at 135
		if pub.n != 1 {
			t.Fatalf("published %d, want 1 (the open)", pub.n)
		}
		w.set("g", OK)
		sleepUntil(t0, 200*time.Second) // close at 195
		if pub.n != 2 {
			t.Fatalf("published %d, want 2", pub.n)
		}
		c.Stop()
		// The last record clears the group: applied, it leaves nothing.
		d := build(t, w, []config.Notifier{conf("n", nil)}, map[string]*recorder{"n": {}})
		if n := d.Lead(pub.sections()); n != 0 {
			t.Errorf("the close's record left %d groups with state", n)
		}
	})
}
