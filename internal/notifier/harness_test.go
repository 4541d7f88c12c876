package notifier

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/spf13/viper"
	"go.uber.org/zap"

	"github.com/warrenlag/warren/evaluator"
	"github.com/warrenlag/warren/internal/ask"
	"github.com/warrenlag/warren/internal/config"
	"github.com/warrenlag/warren/protocol"
	"github.com/warrenlag/warren/storage"
)

// world is a real storage and evaluator (cache off, windows of 3 commits)
// with cluster "c", started in the caller's synctest bubble. Each group has
// a topic of its own name with one partition, so setting one group's status
// leaves the others alone.
type world struct {
	t      testing.TB
	store  chan *protocol.StorageRequest
	asker  *ask.Client
	order  int64
	broker map[string]int64
}

func newWorld(t testing.TB) *world {
	v := viper.New()
	v.Set("storage.default.class-name", "inmemory")
	v.Set("storage.default.intervals", 3)
	v.Set("storage.default.min-distance", 0)
	v.Set("evaluator.default.class-name", "caching")
	v.Set("evaluator.default.expire-cache", 0)
	v.Set("cluster.c.class-name", "kafka")
	app := &protocol.ApplicationContext{Logger: zap.NewNop(), Viper: v,
		StorageChannel: make(chan *protocol.StorageRequest), EvaluatorChannel: make(chan *protocol.EvaluatorRequest)}
	sc := &storage.Coordinator{App: app, Log: zap.NewNop()}
	sc.Configure()
	if err := sc.Start(); err != nil {
		t.Fatal(err)
	}
	ec := &evaluator.Coordinator{App: app, Log: zap.NewNop()}
	ec.Configure()
	if err := ec.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ec.Stop(); sc.Stop() })
	return &world{t: t, store: app.StorageChannel, broker: map[string]int64{},
		asker: &ask.Client{Storage: app.StorageChannel, Evaluator: app.EvaluatorChannel}}
}

func (w *world) brokerAt(group string, offset int64, at time.Time) {
	w.broker[group] = offset
	w.store <- &protocol.StorageRequest{RequestType: protocol.StorageSetBrokerOffset, Cluster: "c", Topic: group,
		TopicPartitionCount: 1, Offset: offset, Timestamp: at.UnixMilli()}
}

func (w *world) commitAt(group string, offset int64, at time.Time) {
	w.order++
	w.store <- &protocol.StorageRequest{RequestType: protocol.StorageSetConsumerOffset, Cluster: "c", Group: group,
		Topic: group, Offset: offset, Order: w.order, Timestamp: at.UnixMilli()}
}

// set makes the evaluator answer status for group from now on: OK is a
// commit at the log end; WARN three commits falling further behind, up to
// now; ERR three commits that rewind (REWIND). A whole window is written each time,
// so the previous status leaves no trace.
func (w *world) set(group string, status protocol.StatusConstant) {
	now := time.Now()
	b := w.broker[group] + 1000
	switch status {
	case protocol.StatusOK:
		w.brokerAt(group, b, now)
		w.commitAt(group, b, now)
	case protocol.StatusWarning:
		// Spread over 40 s, so that the window is not judged stopped by an
		// evaluation up to 40 s later.
		for i := range 3 {
			at := now.Add(time.Duration(20*(i-2)) * time.Second)
			w.brokerAt(group, b+int64(100*i), at)
			w.commitAt(group, b-500+int64(10*i), at)
		}
	case protocol.StatusError:
		for i, off := range []int64{b - 100, b - 200, b - 150} {
			at := now.Add(time.Duration(i-2) * time.Second)
			w.brokerAt(group, b+int64(i), at)
			w.commitAt(group, off, at)
		}
	default:
		w.t.Fatalf("cannot set status %v", status)
	}
}

// remove deletes group from storage.
func (w *world) remove(group string) {
	w.store <- &protocol.StorageRequest{RequestType: protocol.StorageSetDeleteGroup, Cluster: "c", Group: group}
}

// sent is one notification a recorder was given.
type sent struct {
	at   time.Time
	kind Kind
	n    Notification
}

func (s sent) String() string {
	return fmt.Sprintf("%v %s %s id=%q start=%v %v", s.at.Format("15:04:05"), s.kind, s.n.Group, s.n.ID, s.n.Start.Format("15:04:05"), s.n.Result.Status)
}

// recorder is a fake module: it records every call, and can fail or take
// time as told.
type recorder struct {
	mu    sync.Mutex
	sends []sent
	// fail, when set, gives the error of each call (nil: success).
	fail func(call int, n *Notification) error
	// delay, when set, is how long each call takes (fake time).
	delay time.Duration
	calls int
}

func (r *recorder) Send(ctx context.Context, kind Kind, n *Notification) error {
	r.mu.Lock()
	r.calls++
	call := r.calls
	r.sends = append(r.sends, sent{at: time.Now(), kind: kind, n: *n})
	fail, delay := r.fail, r.delay
	r.mu.Unlock()
	if delay > 0 {
		t := time.NewTimer(delay)
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	if fail != nil {
		return fail(call, n)
	}
	return nil
}

func (r *recorder) Close() error { return nil }

// take returns the calls recorded since the last take.
func (r *recorder) take() []sent {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.sends
	r.sends = nil
	return out
}

// fixedOffset makes every new group's first evaluation come e - off after
// the refresh that found it.
type fixedOffset time.Duration

func (f fixedOffset) Int64N(n int64) int64 { return min(int64(f), n-1) }

// ids returns incident IDs A, B, C, ...
func ids() func() string {
	n := 0
	return func() string {
		n++
		return string(rune('A' + n - 1))
	}
}

// nullConf is a class-null table with the defaults and a template that
// renders nothing.
func nullConf(name string) config.Notifier {
	n := config.DefaultNotifier(name, config.NotifierNull)
	n.TemplateOpen, n.TemplateOpenText = "x", "{{.ID}}"
	n.TemplateClose, n.TemplateCloseText = "x", "{{.ID}}"
	return n
}

// start builds and starts a coordinator on w with the given tables, whose
// modules are the recorders of the same names; new groups are first
// evaluated 15 s after Start (with E 60 s).
func start(t *testing.T, w *world, cfg []config.Notifier, recs map[string]*recorder, opts ...Option) *Coordinator {
	c := build(t, w, cfg, recs, opts...)
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	return c
}

// build is start without the Start: it builds the coordinator, to be stopped
// at the end of the test.
func build(t *testing.T, w *world, cfg []config.Notifier, recs map[string]*recorder, opts ...Option) *Coordinator {
	mods := map[string]Module{}
	for name, r := range recs {
		mods[name] = r
	}
	opts = append([]Option{WithRand(fixedOffset(45 * time.Second)), WithIDs(ids()), withModules(mods)}, opts...)
	c, err := New(cfg, w.asker, zap.NewNop(), opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Stop() })
	return c
}

// sleepUntil advances fake time to since+d and lets everything settle.
func sleepUntil(since time.Time, d time.Duration) {
	time.Sleep(time.Until(since.Add(d)))
	synctest.Wait()
}
