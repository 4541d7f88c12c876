package offsets

import (
	"fmt"
	"slices"
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

// fetchWindows sends a StorageFetchConsumer in WindowsForm and checks that its reply is
// well formed.
func fetchWindows(t testing.TB, s *Store, group string) (*protocol.ConsumerWindows, bool) {
	t.Helper()
	v, ok := fetch(s, &protocol.StorageRequest{RequestType: protocol.StorageFetchConsumer, Group: group, Topic: protocol.WindowsForm})
	if !ok {
		return nil, false
	}
	w := v.(*protocol.ConsumerWindows)
	topicsOf(w) // panics on bad ranges
	return w, true
}

// topicsOf turns a windows reply into the ConsumerTopics it stands for, in the
// shapes of plainShapes. It panics when the reply is not well formed: topics out
// of order, partitions not adding up, ranges that overlap or leave gaps.
func topicsOf(w *protocol.ConsumerWindows) protocol.ConsumerTopics {
	out := protocol.ConsumerTopics{}
	parts := w.Partitions
	var commits, readings int32
	for i, wt := range w.Topics {
		if i > 0 && w.Topics[i-1].Name >= wt.Name {
			panic("topics not sorted")
		}
		cps := make(protocol.ConsumerPartitions, wt.Partitions)
		for p := range cps {
			wp := &parts[p]
			if wp.CommitsFrom != commits || wp.CommitsTo < wp.CommitsFrom || wp.BrokerFrom != readings || wp.BrokerTo < wp.BrokerFrom {
				panic(fmt.Sprintf("bad ranges %+v", *wp))
			}
			commits, readings = wp.CommitsTo, wp.BrokerTo
			o := w.Owner(wp)
			cp := &protocol.ConsumerPartition{Owner: o.Host, ClientID: o.ClientID, CurrentLag: wp.CurrentLag}
			if win := w.Window(wp); len(win) > 0 {
				cp.Offsets = make([]*protocol.ConsumerOffset, w.Intervals)
				first := w.Intervals - len(win)
				for k, c := range win {
					o := &protocol.ConsumerOffset{Offset: c.Offset, Order: c.Order, Timestamp: c.Timestamp, ObservedTimestamp: c.ObservedTimestamp}
					if c.LagKnown {
						o.Lag = &protocol.Lag{Value: c.Lag}
					}
					cp.Offsets[first+k] = o
				}
			} else {
				cp.Offsets = []*protocol.ConsumerOffset{}
			}
			for _, b := range w.History(wp) {
				cp.BrokerOffsets = append(cp.BrokerOffsets, b.Offset)
			}
			cps[p] = cp
		}
		parts = parts[wt.Partitions:]
		out[wt.Name] = cps
	}
	if len(parts) != 0 || int(commits) != len(w.Commits) || int(readings) != len(w.Broker) {
		panic("partitions, commits or readings left over")
	}
	return out
}

// plainShapes makes, in place, the shapes that a windows reply does not tell
// apart the same: a window of nil slots only becomes empty, and an empty broker
// history nil.
func plainShapes(topics protocol.ConsumerTopics) protocol.ConsumerTopics {
	for _, cps := range topics {
		for _, cp := range cps {
			if !slices.ContainsFunc(cp.Offsets, func(o *protocol.ConsumerOffset) bool { return o != nil }) {
				cp.Offsets = []*protocol.ConsumerOffset{}
			}
			if len(cp.BrokerOffsets) == 0 {
				cp.BrokerOffsets = nil
			}
		}
	}
	return topics
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
