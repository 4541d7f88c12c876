package offsets

import (
	"sync/atomic"
	"time"
)

// clockReuse is how many requests in a row may share one reading of the clock
// while they arrive back to back.
const clockReuse = 64

// clock gives the dispatcher the time in Unix milliseconds. An injected clock is
// asked for every request. The default clock is read (monotonic part only, at
// half the cost of time.Now; the wall clock is read again once a second so that
// its adjustments are followed) for the first request after the dispatcher's
// input ran empty or a hand-off to a worker had to wait, and otherwise once
// every clockReuse requests: under load a reading is then at most a few
// microseconds old, and reading the clock for every request would cost a
// quarter of the dispatcher's time. Not goroutine safe but for stale.
type clock struct {
	injected func() time.Time
	base     time.Time // a reading with its monotonic part
	baseNs   int64
	cached   int64
	uses     int
	stale    atomic.Bool // set by Store.Idle from the goroutines that feed the store
}

func (c *clock) ms() int64 {
	if c.injected != nil {
		return c.injected().UnixMilli()
	}
	if c.uses > 0 && c.uses < clockReuse && !c.stale.Load() {
		c.uses++
		return c.cached
	}
	c.stale.Store(false)
	c.uses = 1
	d := time.Since(c.base)
	if c.baseNs == 0 || d < 0 || d >= time.Second {
		c.base = time.Now()
		c.baseNs = c.base.UnixNano()
		d = 0
	}
	c.cached = (c.baseNs + int64(d)) / int64(time.Millisecond)
	return c.cached
}
