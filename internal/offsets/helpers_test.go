package offsets

import (
	"sort"
	"testing"
	"time"

	"github.com/warrenlag/warren/protocol"
)

// testNow is the fixed clock of the tests: a time well past any timestamp they use.
const testNow = int64(2_000_000_000_000)

// clock is a settable test clock.
type testClock struct{ ms int64 }

func (c *testClock) now() time.Time { return time.UnixMilli(c.ms) }

// newStore builds a synchronous store (not started) on a fixed clock, with one
// cluster "c" unless cfg names others.
func newStore(t testing.TB, cfg Config) (*Store, *testClock) {
	t.Helper()
	clk := &testClock{ms: testNow}
	if cfg.Now == nil {
		cfg.Now = clk.now
	}
	if cfg.Clusters == nil {
		cfg.Clusters = []string{"c"}
	}
	s, err := New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	return s, clk
}

func broker(topic string, p, count int32, offset int64) *protocol.StorageRequest {
	return &protocol.StorageRequest{RequestType: protocol.StorageSetBrokerOffset, Cluster: "c", Topic: topic,
		Partition: p, TopicPartitionCount: count, Offset: offset, Timestamp: testNow}
}

func commit(group, topic string, p int32, offset, order, ts int64) *protocol.StorageRequest {
	return &protocol.StorageRequest{RequestType: protocol.StorageSetConsumerOffset, Cluster: "c", Group: group,
		Topic: topic, Partition: p, Offset: offset, Order: order, Timestamp: ts}
}

// fetch sends a fetch and returns its reply. It works in both modes: the reply
// channel has room for the answer.
func fetch(s *Store, r *protocol.StorageRequest) (any, bool) {
	r.Reply = make(chan any, 1)
	if r.Cluster == "" && r.RequestType != protocol.StorageFetchClusters {
		r.Cluster = "c"
	}
	s.Handle(r)
	v, ok := <-r.Reply
	if _, more := <-r.Reply; more {
		panic("more than one value on Reply")
	}
	return v, ok
}

func fetchConsumer(s *Store, group string) (protocol.ConsumerTopics, bool) {
	v, ok := fetch(s, &protocol.StorageRequest{RequestType: protocol.StorageFetchConsumer, Group: group})
	if !ok {
		return nil, false
	}
	return v.(protocol.ConsumerTopics), true
}

func fetchNames(s *Store, rt protocol.StorageRequestConstant, topic string) ([]string, bool) {
	v, ok := fetch(s, &protocol.StorageRequest{RequestType: rt, Topic: topic})
	if !ok {
		return nil, false
	}
	names := v.([]string)
	sort.Strings(names)
	return names, true
}

// window is a compact view of a partition's Offsets for comparisons: one item
// per slot, nil slots included.
type slot struct {
	nil_      bool
	offset    int64
	order, ts int64
	lag       int64 // -1 when nil
}

func window(offsets []*protocol.ConsumerOffset) []slot {
	out := make([]slot, 0, len(offsets))
	for _, o := range offsets {
		if o == nil {
			out = append(out, slot{nil_: true})
			continue
		}
		sl := slot{offset: o.Offset, order: o.Order, ts: o.Timestamp, lag: -1}
		if o.Lag != nil {
			sl.lag = int64(o.Lag.Value)
		}
		out = append(out, sl)
	}
	return out
}
