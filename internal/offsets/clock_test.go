package offsets

import (
	"testing"
	"time"
)

func TestClockFollowsTheWallClock(t *testing.T) {
	var c clock
	before := time.Now().UnixMilli()
	got := c.ms()
	after := time.Now().UnixMilli()
	if got < before || got > after {
		t.Errorf("clock %d outside [%d, %d]", got, before, after)
	}
	if c.ms() < got {
		t.Error("clock went backwards")
	}
	fixed := time.UnixMilli(12345)
	c = clock{injected: func() time.Time { return fixed }}
	if c.ms() != 12345 {
		t.Error("injected clock not used")
	}
}

func BenchmarkClock(b *testing.B) {
	var c clock
	var sink int64
	for b.Loop() {
		sink += c.ms()
	}
	_ = sink
}
