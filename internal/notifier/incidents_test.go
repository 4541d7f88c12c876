package notifier

import (
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/warrenlag/warren/internal/config"
)

// TestIncidents lists the open incidents of a running coordinator: a group
// at ERR told to both modules, one at WARN told only to the module whose
// threshold WARN reaches, none for an OK group, and the list shrinks when a
// group recovers. Readers on other goroutines race with the loop (-race).
func TestIncidents(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t)
		w.set("bad", ERR)
		w.set("slow", WARN)
		w.set("fine", OK)
		cfg := []config.Notifier{
			conf("a", func(n *config.Notifier) { n.Threshold = 2; n.SendClose = true }),
			conf("b", func(n *config.Notifier) { n.Threshold = 3 }),
		}
		t0 := time.Now()
		next := ids()
		c := start(t, w, cfg, map[string]*recorder{"a": {}, "b": {}}, WithIDs(next))
		if got := c.Incidents(); len(got) != 0 {
			t.Fatalf("before any evaluation: %+v", got)
		}
		var wg sync.WaitGroup
		for range 4 {
			wg.Go(func() {
				for range 20 {
					c.Incidents()
					time.Sleep(time.Second)
				}
			})
		}
		sleepUntil(t0, 20*time.Second) // first evaluated at 15 s
		got := c.Incidents()
		type row struct {
			group, id string
			start     time.Duration
			told      []string
		}
		var rows []row
		for _, in := range got {
			if in.Cluster != "c" {
				t.Errorf("cluster %q", in.Cluster)
			}
			rows = append(rows, row{in.Group, in.ID, in.Start.Sub(t0), in.Told})
		}
		want := []row{{"bad", "", 15 * time.Second, []string{"a", "b"}}, {"slow", "", 15 * time.Second, []string{"a"}}}
		if len(rows) != len(want) {
			t.Fatalf("incidents %+v, want groups bad and slow", rows)
		}
		ids := map[string]bool{}
		for i := range want {
			g := rows[i]
			ids[g.id] = true
			if g.group != want[i].group || g.id == "" || g.start != want[i].start || !slices.Equal(g.told, want[i].told) {
				t.Errorf("incident %d: %+v, want %+v with an ID", i, g, want[i])
			}
		}
		if len(ids) != 2 {
			t.Errorf("IDs not distinct: %v", ids)
		}
		got[0].Told[0] = "changed" // the copy is the caller's own
		if again := c.Incidents(); again[0].Told[0] != "a" {
			t.Errorf("Incidents shares memory with the coordinator: %+v", again)
		}

		w.set("slow", OK)
		sleepUntil(t0, 80*time.Second) // evaluated again at 75 s
		if got := c.Incidents(); len(got) != 1 || got[0].Group != "bad" {
			t.Errorf("after slow recovered: %+v", got)
		}
		wg.Wait()
		c.Stop()
		if got := c.Incidents(); len(got) != 1 {
			t.Errorf("after Stop: %+v", got)
		}
	})
}
