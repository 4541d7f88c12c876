package offsets

import "time"

// clock gives the dispatcher the time in Unix milliseconds. With an injected
// clock it asks that; with the default it reads only the monotonic clock, at
// half the cost of time.Now on the machines measured, and reads the wall clock
// again once a second so that adjustments of it are followed. Not goroutine
// safe: the dispatcher owns it.
type clock struct {
	injected func() time.Time
	base     time.Time // a reading with its monotonic part
	baseNs   int64
}

func (c *clock) ms() int64 {
	if c.injected != nil {
		return c.injected().UnixMilli()
	}
	d := time.Since(c.base)
	if c.baseNs == 0 || d < 0 || d >= time.Second {
		c.base = time.Now()
		c.baseNs = c.base.UnixNano()
		d = 0
	}
	return (c.baseNs + int64(d)) / int64(time.Millisecond)
}
