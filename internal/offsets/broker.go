package offsets

import (
	"sync"

	"github.com/warrenlag/warren/protocol"
)

// brokerCluster holds the broker offsets of one cluster.
//
// Only the dispatcher writes it, so the dispatcher reads it without locking.
// Workers read it under the locks: mu for the topics map, each topic's mu for
// its histories.
type brokerCluster struct {
	mu     sync.RWMutex
	topics map[string]*brokerTopic

	// lastName and last cache the dispatcher's previous topic lookup.
	lastName string
	last     *brokerTopic
}

// topic returns the named topic or nil. Dispatcher only.
func (bc *brokerCluster) topic(name string) *brokerTopic {
	if bc.last != nil && name == bc.lastName {
		return bc.last
	}
	t := bc.topics[name]
	if t != nil {
		bc.lastName, bc.last = name, t
	}
	return t
}

// brokerTopic holds the broker offset histories of a topic's partitions, all in
// one slab: partition p owns hist[p*intervals : (p+1)*intervals].
type brokerTopic struct {
	mu    sync.RWMutex
	parts []span
	hist  []brokerEntry
}

// brokerEntry is one broker (log-end) offset and when it was read. It is the
// protocol's type, so that a fetch copies a history in at most two moves.
type brokerEntry = protocol.BrokerReading

// span locates a ring in its slab: the physical index of its oldest entry and
// how many entries it holds.
type span struct {
	head uint16
	n    uint16
}

// newest returns the newest offset of partition p and whether it has one.
func (t *brokerTopic) newest(p int, size int) (int64, bool) {
	sp := t.parts[p]
	if sp.n == 0 {
		return 0, false
	}
	i := int(sp.head) + int(sp.n) - 1
	if i >= size {
		i -= size
	}
	return t.hist[p*size+i].Offset, true
}

// setBroker applies a StorageSetBrokerOffset. Dispatcher only.
func (s *Store) setBroker(r *protocol.StorageRequest) {
	bc := s.brokerCluster(r)
	if bc == nil {
		return
	}
	switch {
	case r.Partition < 0:
		s.drops.add(negativePartition, r)
		return
	case int(r.TopicPartitionCount) > s.cfg.MaxPartitions || int(r.Partition) >= s.cfg.MaxPartitions:
		s.drops.add(partitionCount, r)
		return
	}
	size := s.cfg.Intervals
	t := bc.topic(r.Topic)
	known := 0
	if t != nil {
		known = len(t.parts)
	}
	count := max(known, int(r.TopicPartitionCount))
	if int(r.Partition) >= count {
		s.drops.add(brokerPartition, r)
		return
	}
	if t == nil {
		t = &brokerTopic{}
		bc.mu.Lock()
		bc.topics[r.Topic] = t
		bc.mu.Unlock()
	}
	t.mu.Lock()
	if count > len(t.parts) {
		t.grow(count, size)
	}
	sp := &t.parts[r.Partition]
	i := int(sp.head) + int(sp.n)
	if int(sp.n) == size {
		i = int(sp.head)
		sp.head++
		if int(sp.head) == size {
			sp.head = 0
		}
	} else {
		sp.n++
		if i >= size {
			i -= size
		}
	}
	t.hist[int(r.Partition)*size+i] = brokerEntry{Offset: r.Offset, Timestamp: r.Timestamp}
	t.mu.Unlock()
}

// grow extends the topic to count partitions. The caller holds t.mu.
func (t *brokerTopic) grow(count, size int) {
	parts := make([]span, count)
	copy(parts, t.parts)
	hist := make([]brokerEntry, count*size)
	copy(hist, t.hist)
	t.parts, t.hist = parts, hist
}

// brokerFacts resolves, at dispatch time, what a commit or owner request needs to
// know of the broker offsets: the partition's newest offset, the topic's partition
// count, and why the request must be dropped, if it must. Dispatcher only.
func (s *Store) brokerFacts(bc *brokerCluster, r *protocol.StorageRequest) (offset int64, count int32, why reason) {
	t := bc.topic(r.Topic)
	switch {
	case t == nil:
		return 0, 0, noTopic
	case r.Partition < 0:
		return 0, 0, negativePartition
	case int(r.Partition) >= len(t.parts):
		return 0, 0, noPartition
	}
	offset, ok := t.newest(int(r.Partition), s.cfg.Intervals)
	if !ok {
		return 0, 0, noBrokerOffset
	}
	return offset, int32(len(t.parts)), accepted
}

// deleteTopic removes a topic's broker offsets. Dispatcher only.
func (bc *brokerCluster) deleteTopic(name string) {
	bc.last = nil
	bc.mu.Lock()
	delete(bc.topics, name)
	bc.mu.Unlock()
}

// topicNames lists the topics. Dispatcher only.
func (bc *brokerCluster) topicNames() []string {
	names := make([]string, 0, len(bc.topics))
	for name := range bc.topics {
		names = append(names, name)
	}
	return names
}

// newestOffsets lists the newest offset of every partition that has one, in
// partition order. Dispatcher only.
func (t *brokerTopic) newestOffsets(size int) []int64 {
	out := make([]int64, 0, len(t.parts))
	for p := range t.parts {
		if off, ok := t.newest(p, size); ok {
			out = append(out, off)
		}
	}
	return out
}

// history appends the broker offsets of partition p to offsets, oldest first,
// and reports whether the partition exists. The caller holds t.mu for reading.
func (t *brokerTopic) history(offsets []int64, p, size int) ([]int64, bool) {
	if p >= len(t.parts) {
		return offsets, false
	}
	older, newer := t.ring(p, size)
	for i := range older {
		offsets = append(offsets, older[i].Offset)
	}
	for i := range newer {
		offsets = append(offsets, newer[i].Offset)
	}
	return offsets, true
}

// readings appends the broker readings of partition p to out, oldest first, and
// reports whether the partition exists. The caller holds t.mu for reading.
func (t *brokerTopic) readings(out []protocol.BrokerReading, p, size int) ([]protocol.BrokerReading, bool) {
	if p >= len(t.parts) {
		return out, false
	}
	older, newer := t.ring(p, size)
	return append(append(out, older...), newer...), true
}

// ring returns the readings of partition p, which must exist, oldest first,
// in the two runs of split.
func (t *brokerTopic) ring(p, size int) (older, newer []brokerEntry) {
	sp := t.parts[p]
	return split(t.hist[p*size:(p+1)*size], int(sp.head), int(sp.n))
}
