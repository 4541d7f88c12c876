package notifier

import (
	"fmt"
	"testing"
	"time"

	"github.com/warrenlag/warren/internal/state"
)

// benchCoordinator is a coordinator, never started, with two modules and
// groups groups, each with an incident and both modules' LastNotify.
func benchCoordinator(b *testing.B, groups int) *Coordinator {
	c := newBare(b, conf("alerts", nil), conf("pager", nil))
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	for i := range groups {
		at := t0.Add(time.Duration(i) * time.Millisecond)
		put(b, c, fmt.Sprintf("consumer-group-%06d", i), newUUID(), at, map[string]time.Time{"alerts": at, "pager": at})
	}
	return c
}

// BenchmarkSnapshot measures, per snapshot of every group: copy, the time the
// loop stops for (the copy of the state); snapshot, the copy and its
// encoding on the caller's goroutine; restore, decoding it back. bytes/group
// is the section's size per group.
func BenchmarkSnapshot(b *testing.B) {
	for _, groups := range []int{10_000, 100_000} {
		c := benchCoordinator(b, groups)
		var secs []state.Section
		b.Run(fmt.Sprintf("groups=%d/copy", groups), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				c.copyIncidents()
			}
		})
		b.Run(fmt.Sprintf("groups=%d/snapshot", groups), func(b *testing.B) {
			b.ReportAllocs()
			size := 0
			for b.Loop() {
				size = 0
				if err := c.Snapshot(func(_ string, data []byte) error { size += len(data); return nil }); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(size)/float64(groups), "bytes/group")
		})
		secs = snapshotOf(b, c)
		b.Run(fmt.Sprintf("groups=%d/restore", groups), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				r := newBare(b, conf("alerts", nil), conf("pager", nil))
				if n, err := r.Restore(all(secs...)); err != nil || n != groups {
					b.Fatalf("restored %d (%v)", n, err)
				}
			}
		})
	}
}
