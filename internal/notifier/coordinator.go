package notifier

import (
	"container/heap"
	"context"
	crand "crypto/rand"
	"errors"
	"fmt"
	"math/rand/v2"
	"regexp"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/warrenlag/warren/internal/throttle"

	"github.com/warrenlag/warren/internal/ask"
	"github.com/warrenlag/warren/internal/config"
	"github.com/warrenlag/warren/protocol"
)

// RefreshInterval is how often the group list is read from storage, the first
// time at Start (notifier.md §12 item 12).
const RefreshInterval = 10 * time.Second

// evalWorkers is the number of evaluations under way at once.
const evalWorkers = 16

// Option changes a default of New.
type Option func(*options)

type options struct {
	rand    Rand
	ids     func() string
	delays  []time.Duration
	workers int
	modules map[string]Module
	modLog  *zap.Logger
	passive bool
	publish func(cluster, group string, record []byte)
}

// Rand is a source of random numbers, such as *rand.Rand of math/rand/v2.
type Rand interface {
	// Int64N returns a number in [0, n).
	Int64N(n int64) int64
}

// WithRand sets the source of the random first evaluation offsets; by default
// the runtime's shared source. The Coordinator uses it from one goroutine.
func WithRand(r Rand) Option { return func(o *options) { o.rand = r } }

// withModules replaces the modules built for the named tables, for tests.
func withModules(m map[string]Module) Option { return func(o *options) { o.modules = m } }

// WithIDs sets the generator of incident IDs; by default a random version 4
// UUID. It is called from one goroutine.
func WithIDs(f func() string) Option { return func(o *options) { o.ids = f } }

// WithModuleLog sets the logger the modules' loggers derive from (with their
// type, class and name), when the coordinator's own carries fields of its
// own; the default is the coordinator's logger.
func WithModuleLog(l *zap.Logger) Option { return func(o *options) { o.modLog = l } }

// withRetryDelays sets the waits between attempts (1 s, 2 s, 4 s by default),
// for tests that run in real time.
func withRetryDelays(d ...time.Duration) Option { return func(o *options) { o.delays = d } }

// module is one configured module with what the coordinator keeps of it.
type module struct {
	cfg    config.Notifier
	allow  *regexp.Regexp // nil when unset
	deny   *regexp.Regexp // nil when unset
	mod    Module
	sender *sender
	counts *counts
}

// accepts applies the module's allowlist and denylist to a group name.
func (m *module) accepts(group string) bool {
	if m.allow != nil && !m.allow.MatchString(group) {
		return false
	}
	return m.deny == nil || !m.deny.MatchString(group)
}

// Coordinator is the notifier subsystem: it evaluates every group that some
// module accepts every E (the smallest interval), keeps incidents, and queues
// notifications for its modules. New builds it, Start starts it, Stop stops
// it; the three must not be called concurrently. Its group state is owned by
// one goroutine (see the package documentation).
type Coordinator struct {
	log     *zap.Logger
	ask     *ask.Client
	modules []*module // in name order
	e       time.Duration
	opts    options

	ctx     context.Context // cancelled by Stop
	cancel  context.CancelFunc
	jobs    chan evaluation
	replies chan reply
	refresh chan refreshResult
	wg      sync.WaitGroup
	started bool

	// gates carries Lead's and Follow's requests to the loop.
	gates chan gate
	// snaps carries Snapshot's requests for a copy of the incidents to the
	// loop, which answers each at once.
	snaps chan chan *incidents
	// mu guards running and loopDone; while running is false (before Start,
	// after the loop returned) groups belongs to whoever holds mu.
	mu       sync.Mutex
	running  bool
	loopDone chan struct{} // closed when the loop has returned
	restored restoreStats  // what Restore took and left out

	// Owned by the loop goroutine while running.
	groups   map[groupKey]*group
	schedule schedule
	due      []evaluation
	failures throttle.Log // at most one line per RefreshInterval
	// active: this instance evaluates and sends (always, without WithPassive;
	// between Lead and Follow with it). Guarded by mu while the loop is not
	// running.
	active bool
	// activeMirror is active, for Active.
	activeMirror atomic.Bool
}

// evaluation is one scheduled evaluation of a group.
type evaluation struct {
	g  *group
	at time.Time // its scheduled time
}

// reply is the evaluator's answer to an evaluation.
type reply struct {
	evaluation
	st  *protocol.ConsumerGroupStatus
	err error
}

// refreshResult is the group list read from storage.
type refreshResult struct {
	groups map[groupKey]struct{}
	err    error
}

// New builds the coordinator of the notifier tables cfg (config.Notifiers),
// asking storage and the evaluator through asker. It compiles filters and
// templates and builds the modules; it contacts nothing. Every error names
// its key.
func New(cfg []config.Notifier, asker *ask.Client, log *zap.Logger, opts ...Option) (*Coordinator, error) {
	if log == nil {
		log = zap.NewNop()
	}
	c := &Coordinator{log: log, ask: asker, groups: map[groupKey]*group{}, snaps: make(chan chan *incidents),
		gates: make(chan gate), failures: throttle.Log{Every: RefreshInterval}}
	c.opts = options{delays: retryDelays, workers: evalWorkers, ids: newUUID}
	for _, o := range opts {
		o(&c.opts)
	}
	cfg = append([]config.Notifier(nil), cfg...)
	sort.Slice(cfg, func(i, j int) bool { return cfg[i].Name < cfg[j].Name })
	var errs []error
	for _, nc := range cfg {
		m, err := c.newModule(nc)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		c.modules = append(c.modules, m)
		if c.e == 0 || nc.Interval < c.e {
			c.e = nc.Interval
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	c.active = !c.opts.passive
	c.activeMirror.Store(c.active)
	for _, m := range c.modules {
		m.sender.held = c.opts.passive
	}
	return c, nil
}

func (c *Coordinator) newModule(nc config.Notifier) (*module, error) {
	root := "notifier." + nc.Name
	if nc.Interval <= 0 {
		return nil, fmt.Errorf("%s.interval: must be positive", root)
	}
	m := &module{cfg: nc, counts: &counts{}}
	var err error
	if nc.GroupAllowlist != "" {
		if m.allow, err = regexp.Compile(nc.GroupAllowlist); err != nil {
			return nil, fmt.Errorf("%s.group-allowlist: failed to compile: %w", root, err)
		}
	}
	if nc.GroupDenylist != "" {
		if m.deny, err = regexp.Compile(nc.GroupDenylist); err != nil {
			return nil, fmt.Errorf("%s.group-denylist: failed to compile: %w", root, err)
		}
	}
	factory := classes[nc.ClassName]
	if factory == nil {
		return nil, fmt.Errorf("%s.class-name: class %q is not available (have %v)", root, nc.ClassName, Classes())
	}
	tmpl, err := parseTemplates(nc)
	if err != nil {
		return nil, err
	}
	base := c.log
	if c.opts.modLog != nil {
		base = c.opts.modLog
	}
	log := base.With(zap.String("type", "module"), zap.String("coordinator", "notifier"),
		zap.String("class", nc.ClassName), zap.String("name", nc.Name))
	if fake, ok := c.opts.modules[nc.Name]; ok {
		m.mod = fake
	} else if m.mod, err = factory(nc, Env{Log: log, Templates: tmpl}); err != nil {
		return nil, fmt.Errorf("%s: %w", root, err)
	}
	m.sender = newSender(nc.Name, m.mod, log, m.counts, c.opts.delays)
	return m, nil
}

// Interval returns E, the evaluation period: the smallest interval of the
// modules (0 without modules).
func (c *Coordinator) Interval() time.Duration { return c.e }

// Start starts the modules' senders, the group refresh and the evaluations,
// and returns. Without modules it does nothing.
func (c *Coordinator) Start() error {
	if c.started {
		return errors.New("notifier: already started")
	}
	c.started = true
	if len(c.modules) == 0 {
		return nil
	}
	c.log.Info("starting", zap.Duration("interval", c.e), zap.Int("modules", len(c.modules)))
	c.startWorkers()
	c.mu.Lock()
	c.running, c.loopDone = true, make(chan struct{})
	c.mu.Unlock()
	c.wg.Go(c.loop)
	return nil
}

// startWorkers starts the senders and the evaluation workers.
func (c *Coordinator) startWorkers() {
	c.ctx, c.cancel = context.WithCancel(context.Background())
	c.jobs, c.replies, c.refresh = make(chan evaluation), make(chan reply), make(chan refreshResult, 1)
	for _, m := range c.modules {
		m.sender.start()
	}
	for range c.opts.workers {
		c.wg.Go(c.evaluate)
	}
}

// Stop ends the evaluations, then stops every module's sender, waiting at
// most StopWait for sends under way (all modules at once), and closes the
// modules. Notifications it gives up on are counted as abandoned.
func (c *Coordinator) Stop() error {
	if !c.started || c.cancel == nil {
		return nil
	}
	c.log.Info("stopping")
	c.cancel()
	c.wg.Wait()
	var wg sync.WaitGroup
	for _, m := range c.modules {
		wg.Go(func() { m.sender.stop(StopWait) })
	}
	wg.Wait()
	var errs []error
	for _, m := range c.modules {
		if err := m.mod.Close(); err != nil {
			errs = append(errs, fmt.Errorf("notifier.%s: %w", m.cfg.Name, err))
		}
	}
	c.cancel = nil
	return errors.Join(errs...)
}

// loop owns the groups: it applies refreshes, starts due evaluations and
// handles their replies.
func (c *Coordinator) loop() {
	defer func() {
		c.mu.Lock()
		c.running = false
		c.mu.Unlock()
		close(c.loopDone)
	}()
	ticker := time.NewTicker(RefreshInterval)
	defer ticker.Stop()
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	var timerAt time.Time
	refreshing := true
	go c.readGroups()
	for {
		var jobs chan evaluation
		var head evaluation
		if len(c.due) > 0 {
			jobs, head = c.jobs, c.due[0]
		}
		if len(c.schedule) > 0 && !c.schedule[0].next.Equal(timerAt) {
			timerAt = c.schedule[0].next
			timer.Reset(time.Until(timerAt))
		}
		select {
		case <-c.ctx.Done():
			if refreshing {
				<-c.refresh
			}
			return
		case <-ticker.C:
			if !refreshing {
				refreshing = true
				go c.readGroups()
			}
		case res := <-c.refresh:
			refreshing = false
			c.applyGroups(res, time.Now())
		case <-timer.C:
			timerAt = time.Time{}
			if c.active {
				c.schedule.due(time.Now(), c.e, c.start)
			} else {
				c.schedule.due(time.Now(), c.e, func(*group, time.Time) {}) // keep the rhythm, evaluate nothing
			}
		case jobs <- head:
			c.due[0] = evaluation{}
			c.due = c.due[1:]
		case r := <-c.replies:
			c.handle(r)
		case req := <-c.snaps:
			req <- c.copyIncidents()
		case req := <-c.gates:
			req.done <- c.setGate(req)
		}
	}
}

// start queues the evaluation of g scheduled at at, unless the previous one
// is still under way.
func (c *Coordinator) start(g *group, at time.Time) {
	if g.busy {
		return
	}
	g.busy = true
	c.due = append(c.due, evaluation{g: g, at: at})
}

// evaluate is an evaluation worker: it asks the evaluator and hands the
// reply to the loop.
func (c *Coordinator) evaluate() {
	for {
		var ev evaluation
		select {
		case <-c.ctx.Done():
			return
		case ev = <-c.jobs:
		}
		st, err := c.ask.Status(c.ctx, ev.g.key.cluster, ev.g.key.group, false)
		select {
		case c.replies <- reply{evaluation: ev, st: st, err: err}:
		case <-c.ctx.Done():
			return
		}
	}
}

// readGroups reads the group list from storage and hands it to the loop. On
// any error nothing is forgotten: the next refresh tries again.
func (c *Coordinator) readGroups() {
	res := refreshResult{groups: map[groupKey]struct{}{}}
	res.err = c.ask.EachGroup(c.ctx, func(cluster, group string) error {
		res.groups[groupKey{cluster, group}] = struct{}{}
		return nil
	})
	c.refresh <- res
}

// applyGroups forgets the groups no longer listed, with their incidents, and
// adds new ones that some module accepts, each first evaluated at a random
// time in (0, E] from now. Groups restored from a snapshot and listed are
// scheduled the same way; those not listed are forgotten like any other.
func (c *Coordinator) applyGroups(res refreshResult, now time.Time) {
	if res.err != nil {
		c.failures.Warn(c.log, "cannot read the group list from storage; trying again later", zap.Error(res.err))
		return
	}
	for k, g := range c.groups {
		if _, ok := res.groups[k]; !ok {
			if c.active && (g.id != "" || anySet(g.last)) {
				c.publishCleared(k)
			}
			delete(c.groups, k)
			if g.index >= 0 {
				heap.Remove(&c.schedule, g.index)
			}
		}
	}
	for k := range res.groups {
		g, ok := c.groups[k]
		if ok && g.index >= 0 {
			continue
		}
		if !ok {
			if g = c.newGroup(k); g == nil {
				continue
			}
			c.groups[k] = g
		}
		g.next = now.Add(c.e - c.offset())
		heap.Push(&c.schedule, g)
	}
}

// newGroup returns the state of a group not yet scheduled (index -1), or nil
// when no module accepts it.
func (c *Coordinator) newGroup(k groupKey) *group {
	accepts := make([]bool, len(c.modules))
	any := false
	for i, m := range c.modules {
		accepts[i] = m.accepts(k.group)
		any = any || accepts[i]
	}
	if !any {
		return nil
	}
	return &group{key: k, accepts: accepts, last: make([]time.Time, len(c.modules)), index: -1}
}

// offset returns a random duration in [0, E).
func (c *Coordinator) offset() time.Duration {
	if c.opts.rand != nil {
		return time.Duration(c.opts.rand.Int64N(int64(c.e)))
	}
	return time.Duration(rand.Int64N(int64(c.e)))
}

// handle applies an evaluator reply (notifier.md §3.3, §4).
func (c *Coordinator) handle(r reply) {
	g := r.g
	g.busy = false
	if c.groups[g.key] != g || !c.active {
		return // forgotten meanwhile, or passive since
	}
	if r.err != nil {
		c.failures.Warn(c.log, "cannot evaluate a group; trying again at its next evaluation", zap.Error(r.err),
			zap.String("cluster", g.key.cluster), zap.String("group", g.key.group))
		return
	}
	if r.st == nil || r.st.Status == protocol.StatusNotFound {
		return
	}
	c.decide(g, r.st, r.at)
}

// decide opens the incident, consults each module in name order and closes
// the incident (notifier.md §4.2 to §4.4), at the scheduled time at.
func (c *Coordinator) decide(g *group, st *protocol.ConsumerGroupStatus, at time.Time) {
	if c.opts.publish != nil {
		defer c.publishChange(g, g.id, g.start, slices.Clone(g.last))
	}
	if st.Status >= protocol.StatusWarning && g.id == "" {
		g.id, g.start = c.opts.ids(), at
	}
	for i, m := range c.modules {
		if !g.accepts[i] {
			continue
		}
		cfg := &m.cfg
		switch {
		case g.id != "" && st.Status == protocol.StatusOK && cfg.SendClose:
			c.send(m, g, Close, st)
			g.last[i] = time.Time{}
		case int(st.Status) < cfg.Threshold:
		case !g.last[i].IsZero() && cfg.SendOnce:
		case g.last[i].IsZero() || at.Sub(g.last[i]) >= cfg.SendInterval:
			c.send(m, g, Open, st)
			g.last[i] = at
		}
	}
	if st.Status == protocol.StatusOK {
		g.id, g.start = "", time.Time{}
	}
}

// send queues a notification of g for m.
func (c *Coordinator) send(m *module, g *group, kind Kind, st *protocol.ConsumerGroupStatus) {
	n := &Notification{Cluster: g.key.cluster, Group: g.key.group, ID: g.id, Extras: m.cfg.Extras, Result: *st}
	if !g.start.IsZero() {
		n.Start = g.start.UTC()
	}
	m.sender.enqueue(g.key, kind, n)
}

// newUUID returns a random version 4 UUID in its 36-character form.
func newUUID() string {
	var b [16]byte
	_, _ = crand.Read(b[:]) // crypto/rand.Read never fails
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	const hex = "0123456789abcdef"
	out := make([]byte, 0, 36)
	for i, v := range b {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			out = append(out, '-')
		}
		out = append(out, hex[v>>4], hex[v&0x0f])
	}
	return string(out)
}
