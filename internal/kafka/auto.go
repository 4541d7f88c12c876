package kafka

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"go.uber.org/zap"

	"github.com/warrenlag/warren/internal/config"
	"github.com/warrenlag/warren/internal/throttle"
	"github.com/warrenlag/warren/protocol"
)

// autoSource is offsets-source auto: it reads the offsets topic while it can
// and the admin API while it cannot, one of them at a time. It starts on the
// topic, or on the admin API when the topic cannot be read at start. On the
// topic, once the readers have found it unreadable for switchAfter (an ACL
// added at runtime, say), it switches to the admin API; on the admin API, it
// probes the topic every probeEvery and switches back once the probe can
// fetch from it.
type autoSource struct {
	topic  *TopicSource
	admin  *AdminSource
	log    *zap.Logger
	timing timing
	orders *orders

	prober   *kgo.Client // its own: each source closes its clients when stopped
	bg       background
	onAdmin  atomic.Bool
	switches atomic.Uint64
	warnings throttle.Log

	// mu is held while switching sources, and by save, so that a snapshot
	// sees one source and its own Orders base.
	mu sync.Mutex
	// resumeAdmin: restored from a snapshot taken on the admin API, Start
	// starts on it; started: Start has run.
	resumeAdmin, started bool
}

func newAutoSource(cfg config.Consumer, poll time.Duration, storage chan *protocol.StorageRequest, log *zap.Logger, opts []Opt) (*autoSource, error) {
	topic, err := NewTopicSource(cfg, storage, log, opts...)
	if err != nil {
		return nil, err
	}
	admin, err := NewAdminSource(cfg, poll, storage, log)
	if err != nil {
		return nil, err
	}
	o := &orders{}
	topic.out.orders, admin.out.orders = o, o
	return &autoSource{topic: topic, admin: admin, log: log, timing: topic.timing, orders: o,
		warnings: throttle.Log{Every: 5 * time.Minute}}, nil
}

// Start starts on the offsets topic, or on the admin API when the topic cannot
// be read or when the module was restored from a snapshot taken on the admin
// API (the topic comes back at a probe).
func (a *autoSource) Start() error {
	a.mu.Lock()
	a.started = true
	var err error
	if a.resumeAdmin {
		a.log.Info("the snapshot was taken while reading the admin API: starting on it")
		err = a.startAdmin()
	} else if err = a.topic.Start(); errors.Is(err, ErrNoOffsetsTopic) {
		a.log.Info("the offsets topic cannot be read; reading committed offsets through the admin API instead", zap.Error(err))
		err = a.startAdmin()
	}
	a.mu.Unlock()
	if err != nil {
		return err
	}
	a.prober, err = kgo.NewClient(a.topic.opts...)
	if err != nil {
		a.topic.Stop()
		a.admin.Stop()
		return fmt.Errorf("consumer.%s: %w", a.topic.cfg.Name, err)
	}
	a.bg.start(a.watch)
	return nil
}

// startAdmin starts the admin API, its Orders above every one placed (or
// restored).
func (a *autoSource) startAdmin() error {
	a.orders.next()
	err := a.admin.Start()
	a.onAdmin.Store(err == nil)
	return err
}

func (a *autoSource) Stop() {
	if !a.bg.stop() {
		return
	}
	a.topic.Stop()
	a.admin.Stop()
	a.prober.Close()
}

// Stats sums the two sources' counts, so that the module's counters never go
// down at a switch.
func (a *autoSource) Stats() Stats {
	t, ad := a.topic.Stats(), a.admin.Stats()
	st := Stats{Errors: t.Errors + ad.Errors, Rounds: t.Rounds + ad.Rounds, Skips: t.Skips,
		Source: config.SourceTopic, Switches: a.switches.Load()}
	if a.onAdmin.Load() {
		st.Source, st.LastRound = config.SourceAdmin, ad.LastRound
	}
	return st
}

// watch switches between the sources until ctx ends.
func (a *autoSource) watch(ctx context.Context) {
	t := time.NewTicker(a.timing.check())
	defer t.Stop()
	var probed time.Time
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if !a.onAdmin.Load() {
			if down, since, _ := a.topic.health.unreadable(); down && time.Since(since) >= a.timing.switchAfter {
				a.toAdmin()
				probed = time.Now()
			}
			continue
		}
		if time.Since(probed) >= a.timing.probeEvery {
			probed = time.Now()
			a.toTopic(ctx)
		}
	}
}

// toAdmin switches to the admin API. When that cannot be reached either, it
// stays on the topic, whose readers keep trying, and tries again at the next
// check.
func (a *autoSource) toAdmin() {
	if err := a.admin.open(); err != nil {
		a.warnings.Warn(a.log, "the offsets topic cannot be read, and the admin API cannot be reached", zap.Error(err))
		return
	}
	_, since, errs := a.topic.health.unreadable()
	a.mu.Lock()
	a.topic.Stop()
	a.orders.next()
	a.admin.run()
	a.onAdmin.Store(true)
	a.mu.Unlock()
	a.switches.Add(1)
	a.log.Warn("the offsets topic has been unreadable too long: reading committed offsets through the admin API until it can be read",
		zap.Duration("unreadable_for", time.Since(since)), zap.Uint64("errors", errs))
}

// toTopic switches back to the topic if a probe can fetch from it. The admin
// API polls one last time, and the readers start at the end offsets the probe
// listed before that poll: no commit falls between the two sources.
func (a *autoSource) toTopic(ctx context.Context) {
	ends, err := a.topic.probe(ctx, a.prober)
	if err != nil {
		if ce := a.log.Check(zap.DebugLevel, "the offsets topic still cannot be read"); ce != nil {
			ce.Write(zap.Error(err))
		}
		return
	}
	a.admin.finish(ctx)
	a.mu.Lock()
	a.orders.next()
	err = a.topic.resume(ends)
	a.onAdmin.Store(err != nil)
	a.mu.Unlock()
	if err != nil {
		a.log.Error("cannot read the offsets topic again; staying on the admin API", zap.Error(err))
		if err := a.admin.Start(); err != nil {
			a.log.Error("cannot restart the admin API source", zap.Error(err))
		}
		return
	}
	a.topic.health.ok()
	a.switches.Add(1)
	a.log.Info("reading committed offsets from the offsets topic again")
}

// orders keeps the Orders of a consumer module's commits rising across a
// switch of source. Storage places a commit by its Order, and each source
// numbers its own way (the topic by record offset, the admin API by poll), so
// the first commits of the source switched to could rank below the last ones
// of the source switched from, and be dropped or filed as old. Every Order is
// raised by base, and a switch moves base above the highest Order sent. Safe
// for concurrent use.
type orders struct {
	base, max atomic.Int64
}

// place raises r's Order.
func (o *orders) place(r *protocol.StorageRequest) {
	r.Order += o.base.Load()
	for {
		m := o.max.Load()
		if r.Order <= m || o.max.CompareAndSwap(m, r.Order) {
			return
		}
	}
}

// next makes the Orders placed from now on rank above every one placed so far,
// as sources number from 0 up; it runs between stopping one source and
// starting the other.
func (o *orders) next() { o.base.Store(o.max.Load() + 1) }

// resume restores saved Orders before the module starts: the base its topic
// readers used, so that the records they read again keep their Orders and
// storage drops them as duplicates, and a highest Order placed restartGap
// above the saved one, so that a switch (next) goes above whatever storage
// holds.
func (o *orders) resume(sv *saved) {
	o.base.Store(sv.base)
	o.max.Store(max(sv.max, -1) + restartGap)
}
