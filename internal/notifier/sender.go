package notifier

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/warrenlag/warren/internal/throttle"
)

// The results of a notification, the result label of the metrics.
const (
	resultSent = iota
	resultFailed
	resultAbandoned
	numResults
)

var resultNames = [numResults]string{"sent", "failed", "abandoned"}

// counts are a module's notifications by kind and result, and its retries.
type counts struct {
	n       [2][numResults]atomic.Uint64
	retries atomic.Uint64
	// settled, when set (tests), is told of each result counted.
	settled chan<- int
}

// add counts a notification's result.
func (c *counts) add(k Kind, r int) {
	c.n[k][r].Add(1)
	if c.settled != nil {
		c.settled <- r
	}
}

// job is one notification on its way to one module.
type job struct {
	kind     Kind
	n        *Notification
	attempts int  // attempts made
	counted  bool // its result is counted (Stop abandoned it while in flight)
}

// slot is a sender's state for one group. At most one attempt per group is
// under way, and at most one notification waits behind it.
type slot struct {
	next    *job        // the newest notification not yet attempted, or a retry now due
	retry   *job        // a failed notification waiting for its retry
	timer   *time.Timer // the retry's timer
	current *job        // the attempt under way
	queued  bool        // the group is in ready
}

// sender delivers one module's notifications: a queue holding at most one
// notification per group (newer ones replace older ones not yet attempted),
// MaxInFlight workers, and retries of transient failures. It is safe for
// concurrent use; its state is guarded by mu.
type sender struct {
	name   string
	mod    Module
	log    *zap.Logger
	counts *counts
	delays []time.Duration

	failures throttle.Log // the log lines of failed sends

	ctx    context.Context // cancelled when Stop gives up on sends under way
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu       sync.Mutex
	wake     *sync.Cond // signalled when ready grows or stopping is set
	slots    map[groupKey]*slot
	ready    []groupKey // groups whose next notification can be attempted, oldest first
	stopping bool
	held     bool // passive (another instance leads): nothing new is sent or retried
}

func newSender(name string, mod Module, log *zap.Logger, c *counts, delays []time.Duration) *sender {
	s := &sender{name: name, mod: mod, log: log, counts: c, delays: delays, slots: map[groupKey]*slot{},
		failures: throttle.Log{Every: failureLogEvery}}
	s.wake = sync.NewCond(&s.mu)
	return s
}

// failureLogEvery is the period of the failed sends' log lines, per module.
const failureLogEvery = 30 * time.Second

// start starts the workers.
func (s *sender) start() {
	s.ctx, s.cancel = context.WithCancel(context.Background())
	for range MaxInFlight {
		s.wg.Go(s.work)
	}
}

// enqueue queues a notification for group k, replacing any that waits for it
// (queued or waiting to be retried), which is counted as abandoned.
func (s *sender) enqueue(k groupKey, kind Kind, n *Notification) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopping || s.held {
		s.counts.add(kind, resultAbandoned)
		return
	}
	sl := s.slots[k]
	if sl == nil {
		sl = &slot{}
		s.slots[k] = sl
	}
	if sl.next != nil {
		s.drop(sl.next, "replaced by a newer notification before it was sent")
	}
	if sl.retry != nil {
		sl.timer.Stop()
		s.drop(sl.retry, "replaced by a newer notification before its retry")
		sl.retry, sl.timer = nil, nil
	}
	sl.next = &job{kind: kind, n: n}
	s.schedule(k, sl)
}

// schedule puts k in ready if it has a notification and no attempt under way.
// The caller holds mu.
func (s *sender) schedule(k groupKey, sl *slot) {
	if sl.next != nil && sl.current == nil && !sl.queued {
		sl.queued = true
		s.ready = append(s.ready, k)
		s.wake.Signal()
	}
}

// drop counts j as abandoned. The caller holds mu.
func (s *sender) drop(j *job, why string) {
	s.counts.add(j.kind, resultAbandoned)
	if ce := s.log.Check(zap.DebugLevel, "notification abandoned"); ce != nil {
		ce.Write(zap.String("kind", j.kind.String()), zap.String("cluster", j.n.Cluster), zap.String("group", j.n.Group),
			zap.String("id", j.n.ID), zap.String("why", why))
	}
}

// work attempts notifications until Stop.
func (s *sender) work() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for {
		for len(s.ready) == 0 && !s.stopping {
			s.wake.Wait()
		}
		if s.stopping {
			return
		}
		k := s.ready[0]
		s.ready[0] = groupKey{}
		s.ready = s.ready[1:]
		sl := s.slots[k]
		sl.queued = false
		j := sl.next
		sl.next, sl.current = nil, j
		s.mu.Unlock()
		err := s.attempt(j)
		s.mu.Lock()
		sl.current = nil
		s.finish(k, sl, j, err)
	}
}

// attempt calls the module once; a panic is a permanent failure.
func (s *sender) attempt(j *job) (err error) {
	if j.attempts > 0 {
		s.counts.retries.Add(1)
	}
	j.attempts++
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("module panicked: %v", p)
		}
	}()
	return s.mod.Send(s.ctx, j.kind, j.n)
}

// finish counts, retries or forgets j after an attempt. The caller holds mu.
func (s *sender) finish(k groupKey, sl *slot, j *job, err error) {
	defer func() {
		s.schedule(k, sl)
		if sl.next == nil && sl.retry == nil && sl.current == nil {
			delete(s.slots, k)
		}
	}()
	if j.counted {
		return // Stop gave up on it and counted it
	}
	if err == nil {
		s.counts.add(j.kind, resultSent)
		if ce := s.log.Check(zap.DebugLevel, "sent"); ce != nil {
			ce.Write(zap.String("kind", j.kind.String()), zap.String("cluster", j.n.Cluster), zap.String("group", j.n.Group),
				zap.String("id", j.n.ID), zap.Int("attempts", j.attempts))
		}
		return
	}
	after, transient := IsTransient(err)
	var delay time.Duration
	switch {
	case !transient || s.stopping:
	case s.held:
		s.drop(j, "passive: another instance sends notifications")
		return
	case sl.next != nil:
		s.drop(j, "replaced by a newer notification after a failed attempt")
		return
	case j.attempts > len(s.delays):
	case after > MaxRetryAfter:
		err = fmt.Errorf("%w (the receiver asked to wait %v, more than %v)", err, after, MaxRetryAfter)
	case after > 0:
		delay = after
	default:
		delay = s.delays[j.attempts-1]
	}
	if delay == 0 {
		s.fail(j, err)
		return
	}
	if ce := s.log.Check(zap.DebugLevel, "send failed, will retry"); ce != nil {
		ce.Write(zap.String("kind", j.kind.String()), zap.String("cluster", j.n.Cluster), zap.String("group", j.n.Group),
			zap.Int("attempts", j.attempts), zap.Duration("after", delay), zap.Error(err))
	}
	sl.retry = j
	sl.timer = time.AfterFunc(delay, func() { s.retryDue(k, j) })
}

// fail counts j as failed and logs it, once. The caller holds mu.
func (s *sender) fail(j *job, err error) {
	s.counts.add(j.kind, resultFailed)
	// A dead receiver fails every group: one line per period says so, with
	// the count of the others; warren_notifications_total counts them all.
	s.failures.Write(s.log, zap.ErrorLevel, "failed to send notification", zap.String("kind", j.kind.String()),
		zap.String("cluster", j.n.Cluster), zap.String("group", j.n.Group), zap.String("id", j.n.ID),
		zap.Int("attempts", j.attempts), zap.Error(err))
}

// retryDue queues j again, unless it was replaced or Stop began.
func (s *sender) retryDue(k groupKey, j *job) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sl := s.slots[k]
	if sl == nil || sl.retry != j || s.stopping || s.held {
		return
	}
	sl.retry, sl.timer = nil, nil
	sl.next = j
	s.schedule(k, sl)
}

// hold makes the sender passive (true) or active again (false). Passive, it
// abandons what waits and what waits for a retry, and takes nothing new; an
// attempt under way finishes, and is not retried.
func (s *sender) hold(held bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.held = held
	if !held {
		return
	}
	for k, sl := range s.slots {
		if sl.next != nil {
			s.drop(sl.next, "passive: another instance sends notifications")
			sl.next = nil
		}
		if sl.retry != nil {
			sl.timer.Stop()
			s.drop(sl.retry, "passive: another instance sends notifications")
			sl.retry, sl.timer = nil, nil
		}
		sl.queued = false
		if sl.current == nil {
			delete(s.slots, k)
		}
	}
	s.ready = nil
}

// stop abandons what waits, lets attempts under way finish for up to wait,
// then cancels them and counts them as abandoned. It returns without waiting
// for a module that ignores its context.
func (s *sender) stop(wait time.Duration) {
	s.mu.Lock()
	s.stopping = true
	for _, sl := range s.slots {
		if sl.next != nil {
			s.drop(sl.next, "stopping")
			sl.next = nil
		}
		if sl.retry != nil {
			sl.timer.Stop()
			s.drop(sl.retry, "stopping")
			sl.retry, sl.timer = nil, nil
		}
	}
	s.ready = nil
	s.wake.Broadcast()
	s.mu.Unlock()

	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	timer := time.NewTimer(wait)
	defer timer.Stop()
	select {
	case <-done:
	case <-timer.C:
		s.mu.Lock()
		n := 0
		for _, sl := range s.slots {
			if j := sl.current; j != nil && !j.counted {
				j.counted = true
				s.drop(j, "stopping: the send took too long")
				n++
			}
		}
		s.mu.Unlock()
		s.log.Warn("stopped with sends still under way; they were abandoned", zap.Int("abandoned", n))
	}
	s.cancel()
}
