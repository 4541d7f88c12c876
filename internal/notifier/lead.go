package notifier

import (
	"iter"
	"slices"
	"time"

	"go.uber.org/zap"
)

// Several Warren instances (package internal/ha) run one notifier each; one,
// the leader, evaluates and sends. The others are passive: their loop keeps
// the group list and the schedule, but evaluates nothing and sends nothing.
// The leader publishes every change of a group's incident state (WithPublish)
// to a topic the others read; the next leader applies the latest of it (Lead)
// before its first evaluation, so that it goes on with the same incidents.

// WithPassive starts the coordinator passive, as an instance that is not the
// leader: it neither evaluates nor sends until Lead. By default it is active
// from Start, as the only instance.
func WithPassive() Option { return func(o *options) { o.passive = true } }

// WithPublish sets fn, which is given the new record of a group (one record
// of KindIncidents, with its length) each time the active coordinator changes
// the group's incident or a module's LastNotify, including a record with
// neither when the group's state is cleared (a close, the group forgotten).
// fn is called from the loop: it must not block. By default nothing is
// published.
func WithPublish(fn func(cluster, group string, record []byte)) Option {
	return func(o *options) { o.publish = fn }
}

// gate is a request of Lead (lead true, with the state to apply) or Follow.
type gate struct {
	lead     bool
	sections iter.Seq2[string, []byte]
	done     chan int
}

// Lead makes the coordinator active: it first replaces every group's incident
// state with the records of sections (KindIncidents, as Snapshot and
// WithPublish write them; groups without a record have none), then evaluates
// and sends from the next scheduled evaluation on. Records are applied as
// Restore applies them, and what they leave out is counted the same way. It
// returns the number of groups with state. Safe from any goroutine; the
// sections are read before it returns.
func (c *Coordinator) Lead(sections iter.Seq2[string, []byte]) int {
	return c.gate(gate{lead: true, sections: sections})
}

// Follow makes the coordinator passive: it stops evaluating, ignores
// evaluations under way, and its modules abandon the notifications waiting to
// be sent or retried (an attempt under way finishes). Safe from any goroutine.
func (c *Coordinator) Follow() { c.gate(gate{}) }

// Active reports whether the coordinator evaluates and sends.
func (c *Coordinator) Active() bool { return c.activeMirror.Load() }

// gate hands req to the loop, or applies it directly while the loop does not run.
func (c *Coordinator) gate(req gate) int {
	req.done = make(chan int, 1)
	for {
		c.mu.Lock()
		if !c.running {
			defer c.mu.Unlock()
			return c.setGate(req)
		}
		done := c.loopDone
		c.mu.Unlock()
		select {
		case c.gates <- req:
			return <-req.done
		case <-done:
		}
	}
}

// setGate applies a gate request. The caller owns groups.
func (c *Coordinator) setGate(req gate) int {
	for _, m := range c.modules {
		m.sender.hold(!req.lead)
	}
	if !req.lead {
		if c.active {
			c.log.Info("passive: another instance evaluates and sends notifications")
		}
		c.active = false
		c.activeMirror.Store(false)
		return 0
	}
	for _, g := range c.groups {
		g.id, g.start = "", time.Time{}
		clear(g.last)
	}
	st := c.apply(req.sections)
	n := 0
	for _, g := range c.groups {
		if g.id != "" || anySet(g.last) {
			n++
		}
	}
	c.active = true
	c.activeMirror.Store(true)
	c.log.Info("leading: this instance evaluates and sends notifications", zap.Int("groups_with_incidents", n),
		zap.Any("left_out", st))
	return n
}

// publishChange publishes g's record when its state differs from id, start
// and last, its state before a decision.
func (c *Coordinator) publishChange(g *group, id string, start time.Time, last []time.Time) {
	if g.id == id && g.start.Equal(start) && slices.EqualFunc(g.last, last, time.Time.Equal) {
		return
	}
	ns := make([]int64, len(g.last))
	for i, t := range g.last {
		ns[i] = notSet
		if !t.IsZero() {
			ns[i] = t.UnixNano()
		}
	}
	sg := savedGroup{key: g.key, id: g.id, start: g.start.UnixNano()}
	c.opts.publish(g.key.cluster, g.key.group, c.appendIncident(nil, &sg, ns))
}

// publishCleared publishes a record without state for k.
func (c *Coordinator) publishCleared(k groupKey) {
	if c.opts.publish != nil {
		c.opts.publish(k.cluster, k.group, c.appendIncident(nil, &savedGroup{key: k}, nil))
	}
}
