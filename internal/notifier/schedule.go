package notifier

import (
	"container/heap"
	"time"
)

// groupKey names a consumer group.
type groupKey struct{ cluster, group string }

// group is the notifier's state of one consumer group. Owned by the loop
// goroutine; evaluation workers read only key.
type group struct {
	key groupKey

	next    time.Time // scheduled time of the next evaluation
	index   int       // position in the schedule heap; -1 when not in it (restored, not yet listed by storage)
	busy    bool      // an evaluation is under way
	accepts []bool    // per module: its allowlist and denylist let the group through

	// The incident: ID "" and Start zero when there is none.
	id    string
	start time.Time
	// last is, per module, the scheduled time of the evaluation that caused
	// its last open notification; zero when none (or reset by a close).
	last []time.Time
}

// schedule is a min-heap of groups by next evaluation time.
type schedule []*group

func (s schedule) Len() int           { return len(s) }
func (s schedule) Less(i, j int) bool { return s[i].next.Before(s[j].next) }
func (s schedule) Swap(i, j int) {
	s[i], s[j] = s[j], s[i]
	s[i].index, s[j].index = i, j
}
func (s *schedule) Push(x any) {
	g := x.(*group)
	g.index = len(*s)
	*s = append(*s, g)
}
func (s *schedule) Pop() any {
	old := *s
	g := old[len(old)-1]
	old[len(old)-1] = nil
	*s = old[:len(old)-1]
	g.index = -1
	return g
}

// due pops the groups whose evaluation is due at now and moves each to its
// next evaluation, an exact multiple of e after its previous one (skipping
// the times already past, so a stalled loop catches up with one evaluation).
// It calls fn with each group and the scheduled time of its evaluation.
func (s *schedule) due(now time.Time, e time.Duration, fn func(g *group, at time.Time)) {
	for len(*s) > 0 && !(*s)[0].next.After(now) {
		g := (*s)[0]
		at := g.next
		next := at.Add(e)
		if !next.After(now) {
			next = at.Add(e * (now.Sub(at)/e + 1))
		}
		g.next = next
		heap.Fix(s, 0)
		fn(g, at)
	}
}
