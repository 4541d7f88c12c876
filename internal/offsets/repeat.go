package offsets

import (
	"math"
	"sync"

	"github.com/warrenlag/warren/protocol"
)

// A StorageSetConsumerRepeat stands for the StorageSetConsumerOffset a poller
// would send for each partition of a run whose offset did not change since its
// previous poll. The store applies it as those requests would be applied, where
// it can tell their offset: a partition whose newest commit carries the
// poller's previous Order (the request's Offset) holds the offset the poller
// sent then, which is the one it would send again. That commit is repeated
// through place, with the broker offset the dispatcher read at the request's
// place in the order, so lag, min-distance merging and lastCommit come out as
// for the individual requests. Every partition it cannot serve that way is
// listed in the reply, for the poller to send one by one: the drops, the group
// and window creation and the placement of those then follow the usual path,
// so no rule of it is written twice.

// noBroker marks, in a repeatJob, a partition without a broker offset.
const noBroker = math.MinInt64

// repeatJob is what the dispatcher resolves for a repeat: the newest broker
// offset of each partition of the run, as of the request's place in the order.
type repeatJob struct {
	broker []int64 // by partition, from the request's Partition; noBroker: none
}

// repeatJobs recycles jobs: the worker puts back what the dispatcher took.
var repeatJobs = sync.Pool{New: func() any { return &repeatJob{} }}

// repeat dispatches a StorageSetConsumerRepeat. The caller holds s.mu.
func (s *Store) repeat(r *protocol.StorageRequest) {
	first, n := int(r.Partition), int(r.TopicPartitionCount)
	if _, ok := s.index[r.Cluster]; !ok {
		// Each partition, sent alone, is dropped and counted.
		s.answer(r, runIDs(first, n, s.cfg.MaxPartitions), true)
		return
	}
	cl, bc := s.clusterOf(r)
	switch {
	case first < 0:
		s.drops.add(negativePartition, r)
		s.answer(r, []int32(nil), true)
		return
	case n > s.cfg.MaxPartitions || first >= s.cfg.MaxPartitions-n:
		s.drops.add(partitionCount, r)
		s.answer(r, []int32(nil), true)
		return
	}
	job := repeatJobs.Get().(*repeatJob)
	job.broker = job.broker[:0]
	size := s.cfg.Intervals
	t := bc.topic(r.Topic)
	for p := first; p < first+n; p++ {
		off := int64(noBroker)
		if t != nil && p < len(t.parts) {
			if o, ok := t.newest(p, size); ok {
				off = o
			}
		}
		job.broker = append(job.broker, off)
	}
	s.send(s.worker(cl, r.Group), msg{r: *r, cl: cl, now: s.clock.ms(), rep: job}, r.Reply != nil)
}

// runIDs lists the partition ids of a run, bounded by limit.
func runIDs(first, n, limit int) []int32 {
	if first < 0 || n <= 0 || n > limit || first >= limit-n {
		return nil
	}
	ids := make([]int32, n)
	for i := range ids {
		ids[i] = int32(first + i)
	}
	return ids
}

// repeat applies a StorageSetConsumerRepeat and answers with the partitions
// it left to the sender.
func (sh *shard) repeat(m *msg) {
	r, job := &m.r, m.rep
	m.rep = nil
	var missed []int32
	miss := func(p int) {
		if r.Reply != nil {
			missed = append(missed, int32(p))
		}
	}
	var t *topic
	g := sh.group(m.cl, r.Group)
	if g != nil {
		t = g.topics[r.Topic]
	}
	// An expired Timestamp: each request alone is dropped, and counted.
	expired := r.Timestamp < m.now-sh.set.expireMs
	size := sh.set.intervals
	obs := m.now / 1000 * 1000 << 1
	for i, b := range job.broker {
		p := int(r.Partition) + i
		if expired || t == nil || p >= len(t.parts) || b == noBroker {
			miss(p)
			continue
		}
		pt := &t.parts[p]
		if pt.head == noWindow || pt.n == 0 {
			miss(p)
			continue
		}
		ring := t.hist[p*size : (p+1)*size]
		newest := int(pt.head) + int(pt.n) - 1
		if newest >= size {
			newest -= size
		}
		e := &ring[newest]
		if e.order == r.Order {
			continue // sent alone before the run: already stored
		}
		if e.order != r.Offset {
			miss(p)
			continue
		}
		c := entry{offset: e.offset, order: r.Order, ts: r.Timestamp, obs: obs}
		res := place(ring, &pt.span, c, b, sh.set.minDistMs)
		if res.why != accepted {
			sh.s.drops.add(res.why, r)
			continue
		}
		if res.appended {
			g.lastCommit = r.Timestamp
		}
	}
	job.broker = job.broker[:0]
	repeatJobs.Put(job)
	sh.s.answer(r, missed, true)
}
