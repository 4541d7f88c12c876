package kafka

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"
)

// How a consumer module recovers when the offsets topic cannot be read, by
// default; see WithBackoff and WithFallback.
const (
	defaultBackoffFirst = 100 * time.Millisecond
	defaultBackoffLimit = 30 * time.Second
	defaultSwitchAfter  = 30 * time.Second
	defaultProbeEvery   = 30 * time.Second
)

// Opt changes how a consumer module recovers when the offsets topic cannot be
// read.
type Opt func(*timing)

// WithBackoff sets how long an offsets-topic reader waits after a poll that
// failed: first, then twice as long after each further failure, up to limit,
// and first again after a poll that succeeds. The default is 100 ms doubling
// up to 30 s.
func WithBackoff(first, limit time.Duration) Opt {
	return func(t *timing) { t.backoffFirst, t.backoffLimit = first, limit }
}

// WithFallback sets, for offsets-source auto, how long the offsets topic must
// have been unreadable before the module reads the admin API instead, and how
// often it then probes whether the topic can be read again. The default is
// 30 s and 30 s.
func WithFallback(after, probeEvery time.Duration) Opt {
	return func(t *timing) { t.switchAfter, t.probeEvery = after, probeEvery }
}

// timing is what the options set.
type timing struct {
	backoffFirst, backoffLimit time.Duration
	switchAfter, probeEvery    time.Duration
	// sleep waits d, or less when ctx ends, and then reports false; tests
	// replace it to see and pace the readers' waits.
	sleep func(ctx context.Context, d time.Duration) bool
}

func defaultTiming() timing {
	return timing{backoffFirst: defaultBackoffFirst, backoffLimit: defaultBackoffLimit,
		switchAfter: defaultSwitchAfter, probeEvery: defaultProbeEvery, sleep: sleep}
}

// newTiming applies opts to the defaults and checks the result.
func newTiming(opts []Opt) (timing, error) {
	t := defaultTiming()
	for _, o := range opts {
		o(&t)
	}
	return t, t.validate()
}

func (t timing) validate() error {
	switch {
	case t.backoffFirst <= 0 || t.backoffLimit < t.backoffFirst:
		return fmt.Errorf("backoff from %v to %v: both must be positive, the first not above the limit", t.backoffFirst, t.backoffLimit)
	case t.switchAfter <= 0 || t.probeEvery <= 0:
		return fmt.Errorf("fallback after %v, probing every %v: both must be positive", t.switchAfter, t.probeEvery)
	}
	return nil
}

// check is how often offsets-source auto looks whether to switch: a switch then
// comes at most a tenth of its delay late.
func (t timing) check() time.Duration {
	return max(min(t.switchAfter, t.probeEvery)/10, time.Millisecond)
}

func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// backoff is an exponential delay with a cap. Not goroutine safe: each reader
// has its own.
type backoff struct {
	first, limit, last time.Duration
}

// next returns the delay to wait now: first after a reset, then twice the
// previous one, up to limit.
func (b *backoff) next() time.Duration {
	if b.last == 0 {
		b.last = b.first
	} else {
		b.last = min(2*b.last, b.limit)
	}
	return b.last
}

func (b *backoff) reset() { b.last = 0 }

// health is whether the offsets topic can be read, as its readers find it. An
// unreadable topic fails every fetch, so health logs its changes of state, once
// each, with the errors counted in between, rather than every error. Safe for
// concurrent use.
type health struct {
	log  *zap.Logger
	down atomic.Bool // read without the lock by ok, which runs after every poll

	mu    sync.Mutex
	since time.Time // when the topic became unreadable
	errs  uint64    // errors since then
}

// failed records n errors of a poll, the first of which is err.
func (h *health) failed(n int, err error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.down.Load() {
		h.down.Store(true)
		h.since, h.errs = time.Now(), 0
		h.log.Warn("the offsets topic cannot be read; retrying with backoff", zap.Error(err))
	}
	h.errs += uint64(n)
}

// ok records that the topic could be read.
func (h *health) ok() {
	if !h.down.Load() {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.down.Load() {
		return
	}
	h.down.Store(false)
	h.log.Info("the offsets topic can be read again", zap.Uint64("errors", h.errs),
		zap.Duration("unreadable_for", time.Since(h.since)))
}

// unreadable reports whether the topic is unreadable, since when, and how many
// errors were counted since then.
func (h *health) unreadable() (down bool, since time.Time, errs uint64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.down.Load(), h.since, h.errs
}
