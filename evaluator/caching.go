package evaluator

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/warrenlag/warren/internal/ask"
	"github.com/warrenlag/warren/internal/config"
	"github.com/warrenlag/warren/protocol"
)

// Bounds of the caching module's work.
const (
	maxConcurrent = 256              // evaluations in flight at once (replies waiting to be read do not count)
	stopWait      = 10 * time.Second // how long Stop lets requests in flight finish
)

// CachingEvaluator is the evaluator module of class caching. It evaluates a group
// from storage at the first request, and serves the result for expire-cache
// seconds to every request for the same (cluster, group); 0 turns the cache off.
// Concurrent requests that miss the cache for one group share one evaluation.
type CachingEvaluator struct {
	// App is the application context; storage is asked on App.StorageChannel.
	App *protocol.ApplicationContext
	// Log is the module's logger.
	Log *zap.Logger
	// RequestChannel is the channel the module takes requests on (Configure
	// creates it).
	RequestChannel chan *protocol.EvaluatorRequest

	name   string
	rules  rules
	expire time.Duration

	accept chan struct{} // closed by Stop: take no more requests
	quit   chan struct{} // closed by Stop when requests in flight must give up
	ctx    context.Context
	cancel context.CancelFunc // called with quit
	asker  *ask.Client
	loop   chan struct{}
	sem    chan struct{}
	wg     sync.WaitGroup
	once   sync.Once

	mu       sync.Mutex
	cache    map[groupKey]cached
	inflight map[groupKey]*evaluation
	sweepAt  int

	// Evaluations counts evaluations done (cache misses); Dropped counts requests
	// that could not be answered (nil Reply, reply never read).
	Evaluations atomic.Uint64
	Dropped     atomic.Uint64
}

type groupKey struct{ cluster, group string }

type cached struct {
	st      *protocol.ConsumerGroupStatus
	expires time.Time
}

type evaluation struct {
	done    chan struct{}
	st      *protocol.ConsumerGroupStatus
	waiters int // requests sharing this evaluation, besides the one running it
}

// Configure reads expire-cache (default 10 s; negative is an error),
// minimum-complete (0 to 1, default 0) and allowed-lag (not negative, default 0),
// and creates the request channel. It panics naming the key on a bad value.
func (m *CachingEvaluator) Configure(name string, configRoot string) {
	if m.Log == nil {
		m.Log = zap.NewNop()
	}
	m.Log.Info("configuring")
	m.name = name
	sec, err := config.EvaluatorModule(m.App.Config(), strings.TrimPrefix(configRoot, "evaluator."))
	if err != nil {
		panic(err)
	}
	m.expire = sec.ExpireCache
	m.rules = rules{minimumComplete: float32(sec.MinimumComplete), allowedLag: sec.AllowedLag}
	m.RequestChannel = make(chan *protocol.EvaluatorRequest)
}

// GetCommunicationChannel returns RequestChannel.
func (m *CachingEvaluator) GetCommunicationChannel() chan *protocol.EvaluatorRequest {
	return m.RequestChannel
}

// Start serves RequestChannel: each request is answered on its own goroutine, so
// a slow storage fetch for one group holds back no other.
func (m *CachingEvaluator) Start() error {
	if m.RequestChannel == nil {
		return errors.New("caching evaluator: Start called before Configure")
	}
	m.Log.Info("starting")
	m.cache = map[groupKey]cached{}
	m.inflight = map[groupKey]*evaluation{}
	m.accept, m.quit, m.loop = make(chan struct{}), make(chan struct{}), make(chan struct{})
	m.ctx, m.cancel = context.WithCancel(context.Background())
	m.asker = &ask.Client{Storage: m.App.StorageChannel}
	m.sem = make(chan struct{}, maxConcurrent)
	go func() {
		defer close(m.loop)
		for {
			select {
			case <-m.accept:
				return
			case r := <-m.RequestChannel:
				if r == nil {
					continue
				}
				m.sem <- struct{}{}
				m.wg.Add(1)
				go func() {
					defer m.wg.Done()
					m.serve(r) // releases its slot once evaluated, before delivering
				}()
			}
		}
	}()
	return nil
}

// Stop takes no more requests, lets those in flight finish (for up to
// stopWait), and returns.
func (m *CachingEvaluator) Stop() error {
	m.once.Do(func() {
		m.Log.Info("stopping")
		if m.accept == nil {
			return
		}
		close(m.accept)
		<-m.loop
		done := make(chan struct{})
		go func() { m.wg.Wait(); close(done) }()
		select {
		case <-done:
			m.cancel()
		case <-time.After(stopWait):
			close(m.quit)
			m.cancel()
			<-done
		}
	})
	return nil
}

// serve answers one request: exactly one value on its Reply, which is never
// closed. The evaluation holds one of maxConcurrent slots; delivery does not,
// so callers that read late hold up no other request. A reply is abandoned only
// when Stop gives up waiting, or when its caller closed the channel.
func (m *CachingEvaluator) serve(r *protocol.EvaluatorRequest) {
	if r.Reply == nil {
		<-m.sem
		m.Dropped.Add(1)
		m.Log.Warn("evaluator request without a Reply channel dropped", zap.String("cluster", r.Cluster), zap.String("group", r.Group))
		return
	}
	st, owned := m.status(r.Cluster, r.Group)
	if owned {
		st = filter(st, r.ShowAll)
	} else {
		st = view(st, r.ShowAll)
	}
	<-m.sem
	defer func() {
		if recover() != nil {
			m.Dropped.Add(1)
			m.Log.Warn("evaluator reply channel closed by its owner", zap.String("cluster", r.Cluster), zap.String("group", r.Group))
		}
	}()
	select {
	case r.Reply <- st:
	case <-m.quit:
		m.Dropped.Add(1)
		m.Log.Warn("evaluator stopped before a reply was read", zap.String("cluster", r.Cluster), zap.String("group", r.Group))
	}
}

// status returns the group's evaluation from the cache, or evaluates it (once
// for all concurrent requests). A shared result must be copied by its callers;
// owned says the result is the caller's alone (not cached, no one waited for
// it), so that it needs no copy.
func (m *CachingEvaluator) status(cluster, group string) (st *protocol.ConsumerGroupStatus, owned bool) {
	k := groupKey{cluster, group}
	m.mu.Lock()
	if c, ok := m.cache[k]; ok {
		if m.now().Before(c.expires) {
			m.mu.Unlock()
			return c.st, false
		}
		delete(m.cache, k)
	}
	if e, ok := m.inflight[k]; ok {
		e.waiters++
		m.mu.Unlock()
		<-e.done
		return e.st, false
	}
	e := &evaluation{done: make(chan struct{})}
	m.inflight[k] = e
	m.mu.Unlock()

	e.st = m.evaluate(cluster, group)
	m.mu.Lock()
	delete(m.inflight, k) // from here on no one can join e
	cache := e.st.Status != protocol.StatusNotFound && m.expire > 0
	if cache {
		m.cache[k] = cached{st: e.st, expires: m.now().Add(m.expire)}
		m.sweep()
	}
	owned = !cache && e.waiters == 0
	m.mu.Unlock()
	close(e.done)
	return e.st, owned
}

// sweep drops expired entries once the cache has doubled since the last sweep.
// The caller holds m.mu.
func (m *CachingEvaluator) sweep() {
	if len(m.cache) < 2*m.sweepAt+64 {
		return
	}
	now := m.now()
	for k, c := range m.cache {
		if !now.Before(c.expires) {
			delete(m.cache, k)
		}
	}
	m.sweepAt = len(m.cache)
}

func (m *CachingEvaluator) now() time.Time { return m.App.Now() }

// evaluate fetches the group from storage and applies the rules.
func (m *CachingEvaluator) evaluate(cluster, group string) *protocol.ConsumerGroupStatus {
	m.Evaluations.Add(1)
	// A StorageFetchConsumer, as Burrow's evaluator sends it, in WindowsForm:
	// Warren's storage answers it in the compact form, and any other storage
	// with the usual ConsumerTopics, which is read as well.
	req := &protocol.StorageRequest{RequestType: protocol.StorageFetchConsumer, Cluster: cluster, Group: group,
		Topic: protocol.WindowsForm}
	v, ok, err := m.asker.Fetch(m.ctx, req)
	if err != nil {
		return notFound(cluster, group)
	}
	// "Now" is truncated to the whole second, as the original does.
	nowMs := m.now().Unix() * 1000
	switch reply := v.(type) {
	case *protocol.ConsumerWindows:
		if ok && reply != nil {
			st := m.rules.evaluate(cluster, group, reply, nowMs)
			reply.Release() // st shares nothing with it
			return st
		}
	case protocol.ConsumerTopics:
		if ok {
			return m.rules.evaluateTopics(cluster, group, reply, nowMs)
		}
	}
	return notFound(cluster, group)
}
