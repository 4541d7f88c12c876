package state

import (
	"errors"
	"io/fs"
	"iter"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"

	"github.com/warrenlag/warren/internal/collect"
)

// DefaultInterval is how often a Keeper writes the state file.
const DefaultInterval = time.Minute

// Keeper keeps the state file of a running Warren: Load reads it once at
// start, Start writes a snapshot of its sources every Interval, and Stop
// writes a last one. A failure is logged and counted, never fatal: Warren goes
// on without its state file rather than not at all.
//
// Load, Start and Stop are called from one goroutine; Collector's reads are
// safe at any time.
type Keeper struct {
	// File is the state file.
	File *File
	// Sources are written in this order; a section that others rely on when
	// restored (the reader's positions before storage's commits) comes first.
	Sources []Source
	// Interval between snapshots; DefaultInterval when zero.
	Interval time.Duration
	// Log receives one line per failure and per bad file.
	Log *zap.Logger

	mu         sync.Mutex
	lastOK     time.Time
	lastBytes  int64
	lastTook   time.Duration
	writes     uint64
	failures   uint64
	bad        map[string]uint64 // by reason
	failing    bool              // the previous write failed: log the next success
	stop, done chan struct{}
}

// Load reads the state file and hands its sections to restore. A missing file
// is a first start: restore is not called. A bad file (truncated, corrupt,
// foreign, of a future version, too large) is logged once with its reason,
// moved aside and counted, and Warren starts empty. A file that cannot be
// read at all (permissions, I/O) is logged and counted as a failure, left
// in place, and Warren starts empty. Load returns whether a
// snapshot was restored.
func (k *Keeper) Load(restore func(sections iter.Seq2[string, []byte]) error) bool {
	snap, err := k.File.Read()
	switch {
	case errors.Is(err, fs.ErrNotExist):
		k.Log.Info("no state file yet: starting empty", zap.String("path", k.File.Path()))
		return false
	case err != nil && !isBad(err):
		// Not the file's fault (permissions, a folder in its place, an I/O
		// error): start empty and leave it where it is, for the operator.
		k.Log.Error("the state file cannot be read: starting empty, the file is left in place", zap.Error(err),
			zap.String("path", k.File.Path()))
		k.mu.Lock()
		k.failures++
		k.mu.Unlock()
		return false
	case err != nil:
		reason := Reason(err)
		k.mu.Lock()
		if k.bad == nil {
			k.bad = map[string]uint64{}
		}
		k.bad[reason]++
		k.mu.Unlock()
		to, merr := k.File.MoveAside()
		if merr != nil {
			k.Log.Error("the state file cannot be read, nor moved aside: starting empty", zap.String("reason", reason),
				zap.Error(err), zap.NamedError("move", merr))
			return false
		}
		k.Log.Warn("the state file cannot be read: moved aside, starting empty", zap.String("reason", reason),
			zap.Error(err), zap.String("moved_to", to))
		return false
	}
	if err := restore(snap.All()); err != nil {
		k.Log.Warn("the state file was restored in part", zap.Error(err))
	}
	return true
}

// isBad says whether err is a file that is not a good state file, which is
// moved aside, rather than one that could not be read at all.
func isBad(err error) bool {
	for _, e := range []error{ErrTruncated, ErrCorrupt, ErrForeign, ErrFutureVersion, ErrTooLarge} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

// Start writes a snapshot every Interval until Stop.
func (k *Keeper) Start() error {
	every := k.Interval
	if every <= 0 {
		every = DefaultInterval
	}
	k.stop, k.done = make(chan struct{}), make(chan struct{})
	go func() {
		defer close(k.done)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-k.stop:
				return
			case <-t.C:
				k.Write()
			}
		}
	}()
	return nil
}

// Stop ends the periodic writes and writes a last snapshot.
func (k *Keeper) Stop() {
	if k.stop != nil {
		close(k.stop)
		<-k.done
		k.stop = nil
	}
	k.Write()
}

// Write writes one snapshot now, logging and counting a failure.
func (k *Keeper) Write() {
	begin := time.Now()
	st, err := k.File.Write(k.Sources...)
	took := time.Since(begin)
	k.mu.Lock()
	defer k.mu.Unlock()
	if err != nil {
		k.failures++
		k.failing = true
		k.Log.Warn("the state file could not be written; Warren goes on, and will try again", zap.Error(err),
			zap.String("path", k.File.Path()), zap.Uint64("failures", k.failures))
		return
	}
	if k.failing {
		k.Log.Info("the state file is written again", zap.String("path", k.File.Path()))
		k.failing = false
	}
	k.writes++
	k.lastOK, k.lastBytes, k.lastTook = time.Now(), st.Bytes, took
	if ce := k.Log.Check(zap.DebugLevel, "state file written"); ce != nil {
		ce.Write(zap.Int64("bytes", st.Bytes), zap.Int("sections", st.Sections), zap.Duration("took", took))
	}
}

// Collector exports the state file's health: warren_state_snapshot_age_seconds
// (since the last good write; absent before it), warren_state_snapshot_bytes,
// warren_state_snapshot_duration_seconds, warren_state_writes_total,
// warren_state_write_failures_total and warren_state_bad_files_total{reason}.
func (k *Keeper) Collector() prometheus.Collector {
	locked := func(f func() float64) func() float64 {
		return func() float64 { k.mu.Lock(); defer k.mu.Unlock(); return f() }
	}
	return collect.New(
		collect.Family{Name: "warren_state_snapshot_age_seconds", Help: "Seconds since the state file was last written.", Gauge: true,
			Read: func(emit func(float64, ...string)) {
				k.mu.Lock()
				last := k.lastOK
				k.mu.Unlock()
				if !last.IsZero() {
					emit(time.Since(last).Seconds())
				}
			}},
		collect.Family{Name: "warren_state_snapshot_bytes", Help: "Size of the last state file written.", Gauge: true,
			Read: collect.Value(locked(func() float64 { return float64(k.lastBytes) }))},
		collect.Family{Name: "warren_state_snapshot_duration_seconds", Help: "How long the last state file took to write.", Gauge: true,
			Read: collect.Value(locked(func() float64 { return k.lastTook.Seconds() }))},
		collect.Family{Name: "warren_state_writes_total", Help: "State files written.",
			Read: collect.Value(locked(func() float64 { return float64(k.writes) }))},
		collect.Family{Name: "warren_state_write_failures_total", Help: "State files that could not be written.",
			Read: collect.Value(locked(func() float64 { return float64(k.failures) }))},
		collect.Family{Name: "warren_state_bad_files_total", Help: "State files found unreadable at start and moved aside, by reason.",
			Labels: []string{"reason"}, Read: collect.Map(func() map[string]uint64 {
				k.mu.Lock()
				defer k.mu.Unlock()
				out := make(map[string]uint64, len(k.bad))
				for r, n := range k.bad {
					out[r] = n
				}
				return out
			})},
	)
}
