package notifier

import (
	"bytes"
	"fmt"
	"iter"
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/warrenlag/warren/internal/config"
	"github.com/warrenlag/warren/internal/state"
	"github.com/warrenlag/warren/protocol"
)

// snapshotOf takes a snapshot of c and returns its sections.
func snapshotOf(t testing.TB, c *Coordinator) []state.Section {
	t.Helper()
	var secs []state.Section
	err := c.Snapshot(func(kind string, data []byte) error {
		secs = append(secs, state.Section{Kind: kind, Data: bytes.Clone(data)})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return secs
}

func all(secs ...state.Section) iter.Seq2[string, []byte] {
	return (&state.Snapshot{Sections: secs}).All()
}

// describe returns c's incident state, one sorted line per group with any:
// "cluster/group id@start module=last ...", times in seconds after t0.
func describe(c *Coordinator, t0 time.Time) []string {
	in := c.incidents()
	n := len(c.modules)
	var out []string
	for i, g := range in.groups {
		line := g.key.cluster + "/" + g.key.group
		if g.id != "" {
			line += fmt.Sprintf(" %s@%v", g.id, time.Unix(0, g.start).Sub(t0).Seconds())
		}
		for j, ns := range in.last[i*n : (i+1)*n] {
			if ns != notSet {
				line += fmt.Sprintf(" %s=%v", c.modules[j].cfg.Name, time.Unix(0, ns).Sub(t0).Seconds())
			}
		}
		out = append(out, line)
	}
	slices.Sort(out)
	return out
}

// newBare builds a coordinator of cfg that is never started.
func newBare(t testing.TB, cfg ...config.Notifier) *Coordinator {
	t.Helper()
	c, err := New(cfg, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// put gives group g of cluster "c" of a coordinator not started an incident
// (none when id is "") and LastNotify times by module name.
func put(t testing.TB, c *Coordinator, g, id string, start time.Time, last map[string]time.Time) {
	t.Helper()
	gr := c.newGroup(groupKey{"c", g})
	if gr == nil {
		t.Fatalf("no module accepts %s", g)
	}
	gr.id, gr.start = id, start
	for i, m := range c.modules {
		gr.last[i] = last[m.cfg.Name]
	}
	c.groups[gr.key] = gr
}

// TestSnapshotRoundTrip runs a coordinator over groups in every kind of
// state: an incident every module was told of, one a module's threshold kept
// from it, an OK group notified by a threshold-1 module (LastNotify with no
// incident), one whose incident closed (LastNotify reset by the close for the
// send-close module only), one no module has notified. Its snapshot, taken
// while it runs and written to a real state file, restores into a second
// coordinator with the same state; and the second's snapshot is the same.
func TestSnapshotRoundTrip(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t)
		cfg := []config.Notifier{
			conf("err", func(n *config.Notifier) { n.Threshold, n.GroupAllowlist = 3, "^(bad|warn|closed)$" }),
			conf("n", func(n *config.Notifier) { n.SendClose = true }),
			conf("ok1", func(n *config.Notifier) { n.Threshold, n.GroupDenylist = 1, "^quiet$" }),
		}
		statuses := map[string]protocol.StatusConstant{"bad": ERR, "warn": WARN, "fine": OK, "closed": ERR, "quiet": OK}
		t0 := time.Now()
		n := 0
		var a *Coordinator
		for _, at := range []int{0, 65} {
			sleepUntil(t0, time.Duration(at)*time.Second)
			for g, st := range statuses {
				w.set(g, st)
			}
			statuses["closed"] = OK
			if a == nil {
				a = start(t, w, cfg, map[string]*recorder{"err": {}, "n": {}, "ok1": {}},
					WithIDs(func() string { n++; return fmt.Sprint("id", n) }))
			}
		}
		sleepUntil(t0, 80*time.Second)
		want := []string{
			"c/bad ID@15 err=75 n=75 ok1=75",
			"c/closed err=15 ok1=75",
			"c/fine ok1=75",
			"c/warn ID@15 n=75 ok1=75",
		}
		got := describe(a, t0)
		if !slices.Equal(anonymous(got), want) {
			t.Fatalf("state before the snapshot:\n got %q\nwant %q", got, want)
		}

		f := &state.File{Dir: t.TempDir()}
		if _, err := f.Write(a.Snapshot); err != nil {
			t.Fatal(err)
		}
		snap, err := f.Read()
		if err != nil {
			t.Fatal(err)
		}
		b := build(t, w, cfg, map[string]*recorder{"err": {}, "n": {}, "ok1": {}})
		if n, err := b.Restore(snap.All()); err != nil || n != len(want) {
			t.Fatalf("restored %d groups (%v), want %d", n, err, len(want))
		}
		if after := describe(b, t0); !slices.Equal(after, got) {
			t.Fatalf("state restored:\n got %q\nwant %q", after, got)
		}
		if sa, sb := snapshotOf(t, a), snapshotOf(t, b); len(sa) != 1 || len(sb) != 1 || len(sa[0].Data) != len(sb[0].Data) {
			t.Fatalf("snapshots differ: %d and %d sections", len(sa), len(sb))
		}
	})
}

// anonymous replaces incident IDs (which depend on the order of evaluations)
// by "ID".
func anonymous(lines []string) []string {
	out := make([]string, len(lines))
	for i, l := range lines {
		f := strings.Fields(l)
		for j, w := range f {
			if id, at, ok := strings.Cut(w, "@"); ok && id != "" {
				f[j] = "ID@" + at
			}
		}
		out[i] = strings.Join(f, " ")
	}
	return out
}

// TestIncidentSurvivesRestart is issue 12's test: coordinator A opens an
// incident for an ERR group, is stopped, and its snapshot is written to the
// state file; coordinator B on the same storage is restored from the file
// and started. While the group stays bad, B sends no open within
// send-interval of A's, and its next open carries A's incident; once the
// group recovers, B closes A's incident. Without the restore (the control),
// B opens a fresh incident at once. A group gone from storage at B's start
// gets nothing, and its state is dropped at B's first refresh.
func TestIncidentSurvivesRestart(t *testing.T) {
	for _, tc := range []struct {
		name    string
		restore bool
		script  func(w *world)
		want    []string
	}{
		{"still bad", true, func(w *world) { w.set("g", ERR) }, []string{"105 open X@15 ERR"}},
		{"recovered", true, func(w *world) { w.set("g", OK) }, []string{"45 close X@15 OK"}},
		{"not restored", false, func(w *world) { w.set("g", ERR) }, []string{"45 open fresh@45 ERR", "105 open fresh@45 ERR"}},
		{"gone", true, func(w *world) { w.remove("g") }, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				w := newWorld(t)
				w.set("g", ERR)
				cfg := []config.Notifier{conf("n", func(n *config.Notifier) { n.SendClose = true })}
				ra, rb := &recorder{}, &recorder{}
				t0 := time.Now()
				a := start(t, w, cfg, map[string]*recorder{"n": ra}, WithIDs(func() string { return "X" }))
				sleepUntil(t0, 20*time.Second)
				if err := a.Stop(); err != nil {
					t.Fatal(err)
				}
				if got := ra.take(); len(got) != 1 || format(t0, got[0]) != "15 open X@15 ERR" {
					t.Fatalf("A sent %v", got)
				}
				f := &state.File{Dir: t.TempDir()}
				if _, err := f.Write(a.Snapshot); err != nil {
					t.Fatal(err)
				}

				sleepUntil(t0, 25*time.Second)
				tc.script(w)
				sleepUntil(t0, 30*time.Second)
				b := build(t, w, cfg, map[string]*recorder{"n": rb}, WithIDs(func() string { return "fresh" }))
				if tc.restore {
					snap, err := f.Read()
					if err != nil {
						t.Fatal(err)
					}
					if n, err := b.Restore(snap.All()); n != 1 || err != nil {
						t.Fatalf("restored %d (%v), want 1", n, err)
					}
				}
				if err := b.Start(); err != nil {
					t.Fatal(err)
				}
				for _, at := range []int{40, 100} {
					sleepUntil(t0, time.Duration(at)*time.Second)
					if tc.name != "gone" {
						tc.script(w)
					}
				}
				sleepUntil(t0, 110*time.Second)
				var got []string
				for _, s := range rb.take() {
					got = append(got, format(t0, s))
				}
				if !slices.Equal(got, tc.want) {
					t.Errorf("B sent:\n got %q\nwant %q", got, tc.want)
				}
				if tc.name == "gone" {
					if secs := snapshotOf(t, b); len(secs) != 0 {
						t.Errorf("the gone group's state is still in B's snapshot: %d sections", len(secs))
					}
				}
			})
		})
	}
}

// TestRestoreModules restores into a coordinator whose modules changed: a
// module removed (its LastNotify dropped), one added (no LastNotify), one
// whose filter now rejects a group (the group, accepted by no module, dropped
// with its incident), a group left with nothing, a LastNotify in the future
// (taken as now), and a section of another kind; each counted.
func TestRestoreModules(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		t0 := time.Now()
		at := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }
		a := newBare(t, conf("gone", nil), conf("kept", nil))
		put(t, a, "g1", "I1", at(-100), map[string]time.Time{"gone": at(-90), "kept": at(-80)})
		put(t, a, "g2", "", time.Time{}, map[string]time.Time{"gone": at(-70)})
		put(t, a, "g3", "I3", at(-60), map[string]time.Time{"kept": at(-50)})
		put(t, a, "g4", "", time.Time{}, map[string]time.Time{"kept": at(3600)})
		secs := append(snapshotOf(t, a), state.Section{Kind: "offsets.groups", Data: []byte("whatever")})

		b, err := New([]config.Notifier{conf("kept", func(n *config.Notifier) { n.GroupDenylist = "^g3$" }),
			conf("new", func(n *config.Notifier) { n.GroupAllowlist = "^g1$" })}, newWorld(t).asker, nil)
		if err != nil {
			t.Fatal(err)
		}
		n, err := b.Restore(all(secs...))
		if err != nil || n != 2 {
			t.Fatalf("restored %d (%v), want 2", n, err)
		}
		if got, want := describe(b, t0), []string{"c/g1 I1@-100 kept=-80", "c/g4 kept=0"}; !slices.Equal(got, want) {
			t.Errorf("restored:\n got %q\nwant %q", got, want)
		}
		want := restoreStats{Groups: 2, UnknownModule: 2, Rejected: 1, Empty: 1, Future: 1, OtherSections: 1}
		if b.restored != want {
			t.Errorf("stats %+v, want %+v", b.restored, want)
		}
		if err := b.Start(); err != nil {
			t.Fatal(err)
		}
		b.Stop()
		if _, err := b.Restore(all(secs...)); err == nil {
			t.Error("Restore after Start: no error")
		}
	})
}

// TestSnapshotConcurrent takes a snapshot every second from another
// goroutine while the coordinator runs, evaluates and (at 30 s) stops, under
// the race detector: each snapshot is whole, none before the first
// evaluations at 15 s and all groups after them, also once stopped.
func TestSnapshotConcurrent(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t)
		const groups = 50
		for i := range groups {
			w.set(fmt.Sprint("g", i), ERR)
		}
		cfg := []config.Notifier{conf("n", nil)}
		c := start(t, w, cfg, map[string]*recorder{"n": {}})
		counts := make(chan int)
		go func() {
			defer close(counts)
			for range 40 {
				var secs []state.Section
				if err := c.Snapshot(func(kind string, data []byte) error {
					secs = append(secs, state.Section{Kind: kind, Data: bytes.Clone(data)})
					return nil
				}); err != nil {
					t.Error(err)
				}
				b := newBare(t, cfg...)
				n, _ := b.Restore(all(secs...))
				counts <- n
				time.Sleep(time.Second)
			}
		}()
		stopped := make(chan struct{})
		go func() {
			defer close(stopped)
			time.Sleep(30 * time.Second)
			c.Stop()
		}()
		defer func() { <-stopped }() // before the cleanup's Stop
		k := 0
		for n := range counts {
			if k < 15 && n != 0 || k > 15 && n != groups {
				t.Errorf("snapshot at %d s: %d groups", k, n)
			}
			k++
		}
	})
}
