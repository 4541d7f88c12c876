// Package throttle keeps repeated log lines from flooding the log: one line
// per period goes through, and the next says how many were held back.
package throttle

import (
	"sync"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// Log lets one line through per Every and counts the others; the next line
// let through carries the count as "suppressed". It is safe for concurrent
// use; its zero value lets every line through.
type Log struct {
	// Every is the period; zero lets every line through.
	Every time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time

	mu    sync.Mutex
	next  time.Time
	count int
}

// Warn writes msg at warn level, unless a line went through less than Every
// ago.
func (t *Log) Warn(log *zap.Logger, msg string, fields ...zap.Field) {
	t.Write(log, zapcore.WarnLevel, msg, fields...)
}

// Write writes msg at level, unless a line went through less than Every ago.
func (t *Log) Write(log *zap.Logger, level zapcore.Level, msg string, fields ...zap.Field) {
	ce := log.Check(level, msg)
	if ce == nil {
		return
	}
	now := time.Now
	if t.Now != nil {
		now = t.Now
	}
	t.mu.Lock()
	n := now()
	if n.Before(t.next) {
		t.count++
		t.mu.Unlock()
		return
	}
	held := t.count
	t.count = 0
	t.next = n.Add(t.Every)
	t.mu.Unlock()
	if held > 0 {
		fields = append(fields, zap.Int("suppressed", held))
	}
	ce.Write(fields...)
}
