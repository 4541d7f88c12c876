package offsets

import (
	"fmt"
	"hash/maphash"
	"regexp"
	"sync"
	"sync/atomic"

	"go.uber.org/zap"

	"github.com/warrenlag/warren/protocol"
)

// Requests reach a worker in batches, which saves a channel hand-off and a
// goroutine wake-up per request. A batch is handed over when it is full, when a
// request that reads the worker's groups joins it (so every read sees every write
// sent before it), at Stop, and every sweepEvery requests. Until then nothing can
// observe the requests it holds, and as each request carries the time at which it
// was dispatched, its effect does not depend on when the worker applies it.
const (
	batchSize  = 128
	queueDepth = 4 // batches waiting for a worker
	sweepEvery = 4096
)

// Store is the in-memory offset store.
//
// Requests enter through Handle, which may be called from any goroutine; calls are
// serialised, and the order in which they are made is the order in which their
// effects are seen (read your writes). Handle is the dispatcher: it applies broker
// offsets itself, answers the fetches that only need broker offsets, and hands
// every group request to the worker that owns the group, together with the broker
// facts the request needs as of its place in the order.
//
// Before Start, Handle does each request's work on the caller's goroutine: that
// synchronous mode serves unit tests. After Stop, requests are dropped and fetches
// answered by a closed Reply.
type Store struct {
	cfg     Config
	set     settings
	log     *zap.Logger
	drops   drops
	brokers []*brokerCluster // the slice is fixed at New; see brokerCluster
	shards  []*shard

	// Keep what the dispatcher writes for every request off the cache lines
	// that workers read.
	_ [128]byte

	mu sync.Mutex // serialises dispatch
	// requests counts the requests handled, by type; the last slot counts
	// unknown types.
	requests   [14]uint64
	index      map[string]int32
	queues     []chan []msg
	free       []chan []msg // emptied batches, back from the workers
	pending    [][]msg      // the batch being filled, per worker
	waiting    int          // workers with a pending batch
	sinceSweep int          // requests since every batch was handed over
	clock      clock

	// One-entry caches of the dispatcher's lookups: requests come in runs of
	// one cluster, one group (an offset commit covers many partitions) and one
	// topic.
	lastCluster string
	lastCl      int32
	lastBC      *brokerCluster
	lastGroup   string
	lastGroupCl int32
	lastWorker  int
	seed        maphash.Seed
	running     bool
	stopped     bool
	workers     sync.WaitGroup
}

// settings are the values workers read for every request. Each shard has its
// own copy, so that they share no cache line with the dispatcher's state.
type settings struct {
	intervals   int
	expireMs    int64
	minDistMs   int64
	allow, deny *regexp.Regexp
}

// msg is a request on its way to a worker, with what the dispatcher resolved
// for it.
type msg struct {
	// r is a copy of the request, taken at dispatch: a caller may reuse its
	// request once it has sent it, and workers apply batches later.
	r      protocol.StorageRequest
	fan    *fanout
	snap   *snapJob   // a slice of a snapshot to encode
	rep    *repeatJob // the broker offsets of a repeat's run
	now    int64      // when it was dispatched, Unix ms
	broker int64      // newest broker offset of the partition (commits, owners)
	// count is the partition count of the topic (commits, owners), or, when
	// negative, minus the broker-side reason to drop the request. A field of
	// its own for the reason made msg 8 bytes longer, and a commit 3 ns
	// slower (BenchmarkHandleCommit, 43 ns).
	count int32
	cl    int32 // cluster index
}

// why returns the broker-side reason to drop m, or accepted.
func (m *msg) why() reason {
	if m.count < 0 {
		return reason(-m.count)
	}
	return accepted
}

// New builds a store from cfg, applying defaults. It returns an error naming each
// bad key. The store serves requests synchronously until Start.
func New(cfg Config, log *zap.Logger) (*Store, error) {
	injected := cfg.Now
	cfg.SetDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if log == nil {
		log = zap.NewNop()
	}
	s := &Store{
		cfg: cfg,
		set: settings{
			intervals: cfg.Intervals,
			expireMs:  cfg.ExpireGroup.Milliseconds(),
			minDistMs: cfg.MinDistance.Milliseconds(),
		},
		log:   log,
		index: make(map[string]int32, len(cfg.Clusters)),
		seed:  maphash.MakeSeed(),
		clock: clock{injected: injected},
		// No group looked up yet: a cluster index no request has, so that the
		// empty group name is not taken for a cached one.
		lastGroupCl: -1,
	}
	s.drops.log = log
	if cfg.GroupAllowlist != "" {
		s.set.allow = regexp.MustCompile(cfg.GroupAllowlist) // validated above
	}
	if cfg.GroupDenylist != "" {
		s.set.deny = regexp.MustCompile(cfg.GroupDenylist)
	}
	for i, name := range cfg.Clusters {
		s.index[name] = int32(i)
		s.brokers = append(s.brokers, &brokerCluster{topics: make(map[string]*brokerTopic)})
	}
	s.shards = make([]*shard, cfg.Workers)
	for i := range s.shards {
		s.shards[i] = newShard(s, len(cfg.Clusters))
	}
	return s, nil
}

// Start starts the workers. From then on Handle only dispatches.
func (s *Store) Start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.running || s.stopped {
		return fmt.Errorf("offset store already started")
	}
	n := len(s.shards)
	s.queues = make([]chan []msg, n)
	s.free = make([]chan []msg, n)
	s.pending = make([][]msg, n)
	for i, sh := range s.shards {
		q := make(chan []msg, queueDepth)
		free := make(chan []msg, queueDepth+2)
		s.queues[i], s.free[i] = q, free
		s.pending[i] = make([]msg, 0, batchSize)
		s.workers.Add(1)
		go func() {
			defer s.workers.Done()
			for batch := range q {
				for j := range batch {
					sh.do(&batch[j])
					batch[j] = msg{} // let the request go
				}
				select {
				case free <- batch[:0]:
				default:
				}
			}
		}()
	}
	s.running = true
	return nil
}

// flush hands worker w its pending batch. The caller holds s.mu.
func (s *Store) flush(w int) {
	b := s.pending[w]
	if len(b) == 0 {
		return
	}
	s.queues[w] <- b
	s.waiting--
	select {
	case s.pending[w] = <-s.free[w]:
	default:
		s.pending[w] = make([]msg, 0, batchSize)
	}
}

// flushAll hands every worker its pending batch. The caller holds s.mu.
func (s *Store) flushAll() {
	for w := range s.pending {
		if s.waiting == 0 {
			return
		}
		s.flush(w)
	}
}

// Stop waits until every request handled so far has been applied or answered,
// then stops the workers. Later requests are dropped. It is safe to call twice.
func (s *Store) Stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopped {
		return
	}
	s.stopped = true
	if s.running {
		s.flushAll()
		for _, q := range s.queues {
			close(q)
		}
		s.workers.Wait()
		s.running = false
	}
}

// Drops returns how many requests were dropped, by reason.
func (s *Store) Drops() map[string]uint64 { return s.drops.snapshot() }

// Requests returns how many requests were handled, by request type name.
func (s *Store) Requests() map[string]uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]uint64)
	for i := range s.requests {
		if n := s.requests[i]; n > 0 {
			out[protocol.StorageRequestConstant(i).String()] = n
		}
	}
	return out
}

// Handle takes one request. It never blocks on a caller's Reply and never panics
// on malformed input.
func (s *Store) Handle(r *protocol.StorageRequest) {
	if r == nil {
		s.drops.add(nilRequest, nil)
		return
	}
	t := r.RequestType
	if t < 0 || int(t) >= len(s.requests)-1 {
		t = protocol.StorageRequestConstant(len(s.requests) - 1)
	}
	s.mu.Lock()
	s.requests[t]++
	if s.stopped {
		s.mu.Unlock()
		s.drops.add(stopped, r)
		s.answer(r, nil, false)
		return
	}
	s.dispatch(r)
	s.mu.Unlock()
}

// dispatch routes one request. The caller holds s.mu.
func (s *Store) dispatch(r *protocol.StorageRequest) {
	switch r.RequestType {
	case protocol.StorageSetBrokerOffset:
		s.setBroker(r)

	case protocol.StorageSetConsumerOffset, protocol.StorageSetConsumerOwner:
		cl, bc := s.clusterOf(r)
		if bc == nil {
			return
		}
		m := msg{r: *r, cl: cl, now: s.clock.ms()}
		var why reason
		m.broker, m.count, why = s.brokerFacts(bc, r)
		if why != accepted {
			m.count = -int32(why)
		}
		s.send(s.worker(cl, r.Group), m, false)

	case protocol.StorageSetConsumerRepeat:
		s.repeat(r)

	case protocol.StorageSetDeleteGroup, protocol.StorageClearConsumerOwners:
		if cl, bc := s.clusterOf(r); bc != nil {
			s.send(s.worker(cl, r.Group), msg{r: *r, cl: cl}, false)
		}

	case protocol.StorageFetchConsumer:
		if !s.hasReply(r) {
			return
		}
		if cl, bc := s.clusterOf(r); bc != nil {
			s.send(s.worker(cl, r.Group), msg{r: *r, cl: cl, now: s.clock.ms()}, true)
		} else {
			s.answer(r, nil, false)
		}

	case protocol.StorageSetDeleteTopic:
		cl, bc := s.clusterOf(r)
		if bc == nil {
			return
		}
		bc.deleteTopic(r.Topic)
		s.broadcast(r, cl)

	case protocol.StorageFetchConsumers, protocol.StorageFetchConsumersForTopic:
		if !s.hasReply(r) {
			return
		}
		if cl, bc := s.clusterOf(r); bc != nil {
			s.broadcast(r, cl)
		} else {
			s.answer(r, nil, false)
		}

	case protocol.StorageFetchClusters:
		if s.hasReply(r) {
			s.answer(r, append([]string{}, s.cfg.Clusters...), true)
		}

	case protocol.StorageFetchTopics:
		if !s.hasReply(r) {
			return
		}
		if _, bc := s.clusterOf(r); bc != nil {
			s.answer(r, bc.topicNames(), true)
		} else {
			s.answer(r, nil, false)
		}

	case protocol.StorageFetchTopic:
		if !s.hasReply(r) {
			return
		}
		var offsets []int64
		if _, bc := s.clusterOf(r); bc != nil {
			if t := bc.topics[r.Topic]; t != nil {
				offsets = t.newestOffsets(s.cfg.Intervals)
			}
		}
		s.answer(r, offsets, offsets != nil)

	default:
		s.drops.add(unknownRequest, r)
		s.answer(r, nil, false)
	}
}

// hasReply reports whether a fetch has a Reply channel, counting it when not.
func (s *Store) hasReply(r *protocol.StorageRequest) bool {
	if r.Reply == nil {
		s.drops.add(noReply, r)
		return false
	}
	return true
}

// clusterOf returns the index and broker offsets of r's cluster, or a nil
// brokerCluster (the drop counted) when the cluster is unknown.
func (s *Store) clusterOf(r *protocol.StorageRequest) (int32, *brokerCluster) {
	if r.Cluster == s.lastCluster && s.lastBC != nil {
		return s.lastCl, s.lastBC
	}
	i, ok := s.index[r.Cluster]
	if !ok {
		s.drops.add(unknownCluster, r)
		return 0, nil
	}
	s.lastCluster, s.lastCl, s.lastBC = r.Cluster, i, s.brokers[i]
	return i, s.brokers[i]
}

// brokerCluster is clusterOf for the dispatcher's own broker requests.
func (s *Store) brokerCluster(r *protocol.StorageRequest) *brokerCluster {
	_, bc := s.clusterOf(r)
	return bc
}

// worker returns the index of the worker that owns group in cluster cl.
func (s *Store) worker(cl int32, group string) int {
	if group == s.lastGroup && cl == s.lastGroupCl {
		return s.lastWorker
	}
	h := maphash.String(s.seed, group) ^ uint64(cl+1)*0x9e3779b97f4a7c15
	w := int(h % uint64(len(s.shards)))
	s.lastGroup, s.lastGroupCl, s.lastWorker = group, cl, w
	return w
}

// send adds m to worker w's pending batch, handing the batch over when it is
// full or when read is set (m reads the worker's groups). In synchronous mode it
// does m's work at once.
func (s *Store) send(w int, m msg, read bool) {
	if !s.running {
		s.shards[w].do(&m)
		return
	}
	b := append(s.pending[w], m)
	s.pending[w] = b
	if len(b) == 1 {
		s.waiting++
	}
	if read || len(b) == batchSize {
		s.flush(w)
		return
	}
	s.sinceSweep++
	if s.sinceSweep >= sweepEvery {
		s.sinceSweep = 0
		s.flushAll()
	}
}

// fanout is a request that every worker takes a part in: listing the groups of a
// cluster, or deleting a topic from every group. The last worker to finish
// answers.
type fanout struct {
	left  atomic.Int32
	mu    sync.Mutex
	names []string
}

// broadcast hands r to every worker.
func (s *Store) broadcast(r *protocol.StorageRequest, cl int32) {
	f := &fanout{}
	f.left.Store(int32(len(s.shards)))
	read := r.RequestType != protocol.StorageSetDeleteTopic
	for w := range s.shards {
		s.send(w, msg{r: *r, cl: cl, fan: f}, read)
	}
}

// done records one worker's part of a fanout, with the names it found, and
// answers when it was the last.
func (f *fanout) done(s *Store, r *protocol.StorageRequest, names []string) {
	if len(names) > 0 {
		f.mu.Lock()
		f.names = append(f.names, names...)
		f.mu.Unlock()
	}
	if f.left.Add(-1) != 0 {
		return
	}
	if r.RequestType == protocol.StorageSetDeleteTopic {
		return
	}
	f.mu.Lock()
	names = f.names
	f.mu.Unlock()
	if names == nil {
		names = []string{}
	}
	s.answer(r, names, true)
}
