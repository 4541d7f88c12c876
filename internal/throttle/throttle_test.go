package throttle

import (
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"
)

func TestLog(t *testing.T) {
	core, logs := observer.New(zapcore.InfoLevel)
	log := zap.New(core)
	now := time.Unix(1000, 0)
	th := &Log{Every: 30 * time.Second, Now: func() time.Time { return now }}
	for range 5 {
		th.Warn(log, "cannot read")
	}
	now = now.Add(31 * time.Second)
	th.Warn(log, "cannot read", zap.String("k", "v"))
	got := logs.AllUntimed()
	if len(got) != 2 {
		t.Fatalf("%d lines, want 2: %v", len(got), got)
	}
	if s, ok := got[1].ContextMap()["suppressed"]; !ok || s != int64(4) {
		t.Errorf("second line %v, want suppressed 4", got[1].ContextMap())
	}
	// A level the logger does not write is neither written nor counted.
	th.Write(log, zapcore.DebugLevel, "quiet")
	now = now.Add(time.Minute)
	th.Warn(log, "again")
	if l := logs.AllUntimed(); len(l) != 3 || l[2].ContextMap()["suppressed"] != nil {
		t.Errorf("lines %v", l)
	}
}
