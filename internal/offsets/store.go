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

// queueDepth is the buffer of each worker's queue. A deep queue lets the
// dispatcher run ahead of a worker that is busy with a large fetch.
const queueDepth = 512

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
	cfg   Config
	log   *zap.Logger
	drops drops

	allow, deny *regexp.Regexp
	expireMs    int64
	minDistMs   int64

	// requests counts the requests handled, by type; the last slot counts unknown
	// types.
	requests [13]atomic.Uint64

	mu      sync.Mutex // serialises dispatch
	index   map[string]int32
	brokers []*brokerCluster
	shards  []*shard
	queues  []chan msg
	seed    maphash.Seed
	running bool
	stopped bool
	workers sync.WaitGroup
}

// msg is a request on its way to a worker, with what the dispatcher resolved
// for it.
type msg struct {
	r      *protocol.StorageRequest
	fan    *fanout
	broker int64  // newest broker offset of the partition (commits, owners)
	count  int32  // partition count of the topic (commits, owners)
	cl     int32  // cluster index
	why    reason // broker-side reason to drop, or accepted
}

// New builds a store from cfg, applying defaults. It returns an error naming each
// bad key. The store serves requests synchronously until Start.
func New(cfg Config, log *zap.Logger) (*Store, error) {
	cfg.SetDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if log == nil {
		log = zap.NewNop()
	}
	s := &Store{
		cfg:       cfg,
		log:       log,
		expireMs:  cfg.ExpireGroup.Milliseconds(),
		minDistMs: cfg.MinDistance.Milliseconds(),
		index:     make(map[string]int32, len(cfg.Clusters)),
		seed:      maphash.MakeSeed(),
	}
	s.drops.log = log
	if cfg.GroupAllowlist != "" {
		s.allow = regexp.MustCompile(cfg.GroupAllowlist) // validated above
	}
	if cfg.GroupDenylist != "" {
		s.deny = regexp.MustCompile(cfg.GroupDenylist)
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
	s.queues = make([]chan msg, len(s.shards))
	for i, sh := range s.shards {
		q := make(chan msg, queueDepth)
		s.queues[i] = q
		s.workers.Add(1)
		go func() {
			defer s.workers.Done()
			for m := range q {
				sh.do(&m)
			}
		}()
	}
	s.running = true
	return nil
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
	out := make(map[string]uint64)
	for i := range s.requests {
		if n := s.requests[i].Load(); n > 0 {
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
	s.requests[t].Add(1)

	s.mu.Lock()
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
		m := msg{r: r, cl: cl}
		m.broker, m.count, m.why = s.brokerFacts(bc, r)
		s.send(s.worker(cl, r.Group), m)

	case protocol.StorageSetDeleteGroup, protocol.StorageClearConsumerOwners:
		if cl, bc := s.clusterOf(r); bc != nil {
			s.send(s.worker(cl, r.Group), msg{r: r, cl: cl})
		}

	case protocol.StorageFetchConsumer:
		if !s.hasReply(r) {
			return
		}
		if cl, bc := s.clusterOf(r); bc != nil {
			s.send(s.worker(cl, r.Group), msg{r: r, cl: cl})
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
	i, ok := s.index[r.Cluster]
	if !ok {
		s.drops.add(unknownCluster, r)
		return 0, nil
	}
	return i, s.brokers[i]
}

// brokerCluster is clusterOf for the dispatcher's own broker requests.
func (s *Store) brokerCluster(r *protocol.StorageRequest) *brokerCluster {
	_, bc := s.clusterOf(r)
	return bc
}

// worker returns the index of the worker that owns group in cluster cl.
func (s *Store) worker(cl int32, group string) int {
	h := maphash.String(s.seed, group) ^ uint64(cl+1)*0x9e3779b97f4a7c15
	return int(h % uint64(len(s.shards)))
}

// send hands m to worker w, or does its work at once in synchronous mode.
func (s *Store) send(w int, m msg) {
	if s.running {
		s.queues[w] <- m
		return
	}
	s.shards[w].do(&m)
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
	for w := range s.shards {
		s.send(w, msg{r: r, cl: cl, fan: f})
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
