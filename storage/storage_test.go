package storage

import (
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/warrenlag/warren/protocol"
)

// ask sends a fetch on ch and returns its reply.
func ask(ch chan *protocol.StorageRequest, r *protocol.StorageRequest) (any, bool) {
	r.Reply = make(chan any)
	ch <- r
	v, ok := <-r.Reply
	return v, ok
}

func fetchGroup(ch chan *protocol.StorageRequest, cluster, group string) (protocol.ConsumerTopics, bool) {
	v, ok := ask(ch, &protocol.StorageRequest{RequestType: protocol.StorageFetchConsumer, Cluster: cluster, Group: group})
	if !ok {
		return nil, false
	}
	return v.(protocol.ConsumerTopics), true
}

func TestCoordinatorWithOffsets(t *testing.T) {
	sc := CoordinatorWithOffsets()
	defer sc.Stop()
	ch := sc.App.StorageChannel

	if got := clusters(t, ch); !reflect.DeepEqual(got, []string{"testcluster"}) {
		t.Errorf("clusters %v", got)
	}
	v, ok := ask(ch, &protocol.StorageRequest{RequestType: protocol.StorageFetchTopic, Cluster: "testcluster", Topic: "testtopic"})
	if !ok || !reflect.DeepEqual(v, []int64{4321}) {
		t.Errorf("testtopic %v", v)
	}
	now := time.Now().UnixMilli()
	for _, g := range []struct {
		name    string
		commits int
		lag     uint64
	}{{"testgroup", 10, 4321 - 1900}, {"testgroup2", 5, 4321 - 1400}} {
		topics, ok := fetchGroup(ch, "testcluster", g.name)
		if !ok || len(topics) != 1 || len(topics["testtopic"]) != 1 {
			t.Fatalf("%s: %v", g.name, topics)
		}
		p := topics["testtopic"][0]
		if len(p.Offsets) != 10 || p.CurrentLag != g.lag || !reflect.DeepEqual(p.BrokerOffsets, []int64{4321}) {
			t.Errorf("%s: %d offsets, lag %d, brokers %v", g.name, len(p.Offsets), p.CurrentLag, p.BrokerOffsets)
		}
		start := p.Offsets[10-g.commits].Timestamp
		if start > now-100000 || start < now-110000 {
			t.Errorf("%s: first commit at %d, want about now-100 s (%d)", g.name, start, now-100000)
		}
		for i := range 10 {
			o := p.Offsets[i]
			if i < 10-g.commits {
				if o != nil {
					t.Errorf("%s: slot %d = %+v, want nil", g.name, i, o)
				}
				continue
			}
			k := int64(i - (10 - g.commits))
			if o == nil || o.Offset != 1000+100*k || o.Order != 10+k || o.Timestamp != start+10000*k ||
				o.Lag == nil || o.Lag.Value != uint64(4321-o.Offset) {
				t.Errorf("%s: slot %d = %+v", g.name, i, o)
			}
		}
	}
	v, _ = ask(ch, &protocol.StorageRequest{RequestType: protocol.StorageFetchConsumersForTopic, Cluster: "testcluster", Topic: "testtopic"})
	if names := v.([]string); len(names) != 2 {
		t.Errorf("groups of testtopic %v", names)
	}
}

// TestReadYourWrites: many senders at once, each checking after every step that
// its own requests took effect in the order it sent them, broker offsets
// included (a commit sent after a broker offset gets its lag from it).
func TestReadYourWrites(t *testing.T) {
	app := newApp(map[string]any{"storage.s.class-name": "inmemory", "storage.s.workers": 4, "storage.s.intervals": 5})
	start(t, app)
	ch := app.StorageChannel
	const senders, steps = 16, 60
	var wg sync.WaitGroup
	errs := make(chan error, senders)
	for s := range senders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			topic, group := fmt.Sprintf("topic-%d", s), fmt.Sprintf("group-%d", s)
			now := time.Now().UnixMilli()
			for i := int64(1); i <= steps; i++ {
				ch <- &protocol.StorageRequest{RequestType: protocol.StorageSetBrokerOffset, Cluster: "c", Topic: topic,
					Partition: 0, TopicPartitionCount: 1, Offset: 1000 * i, Timestamp: now}
				ch <- &protocol.StorageRequest{RequestType: protocol.StorageSetConsumerOffset, Cluster: "c", Topic: topic,
					Group: group, Partition: 0, Offset: 1000*i - i, Order: i, Timestamp: now + i}
				if i%7 == 0 {
					ch <- &protocol.StorageRequest{RequestType: protocol.StorageSetDeleteGroup, Cluster: "c", Group: group}
					if _, ok := fetchGroup(ch, "c", group); ok {
						errs <- fmt.Errorf("%s: served after its deletion", group)
						return
					}
					continue
				}
				topics, ok := fetchGroup(ch, "c", group)
				if !ok {
					errs <- fmt.Errorf("%s: step %d not found", group, i)
					return
				}
				w := topics[topic][0].Offsets
				newest := w[len(w)-1]
				if newest == nil || newest.Order != i || newest.Lag == nil || newest.Lag.Value != uint64(i) {
					errs <- fmt.Errorf("%s: step %d newest commit %+v", group, i, newest)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// TestStopAppliesEverything: requests sent before Stop are all taken by the
// module, and a fetch in flight at Stop gets its answer.
func TestStopAppliesEverything(t *testing.T) {
	app := newApp(map[string]any{"storage.s.class-name": "inmemory", "storage.s.workers": 3})
	sc := &Coordinator{App: app}
	sc.Configure()
	if err := sc.Start(); err != nil {
		t.Fatal(err)
	}
	ch := app.StorageChannel
	now := time.Now().UnixMilli()
	ch <- &protocol.StorageRequest{RequestType: protocol.StorageSetBrokerOffset, Cluster: "c", Topic: "t",
		Partition: 0, TopicPartitionCount: 1, Offset: 100, Timestamp: now}
	const commits = 1000
	for i := range commits {
		ch <- &protocol.StorageRequest{RequestType: protocol.StorageSetConsumerOffset, Cluster: "c", Topic: "t",
			Group: fmt.Sprint("g", i%50), Partition: 0, Offset: int64(i), Order: int64(i), Timestamp: now}
	}
	late := make(chan any) // read only after Stop
	ch <- &protocol.StorageRequest{RequestType: protocol.StorageFetchConsumers, Cluster: "c", Reply: late}
	if err := sc.Stop(); err != nil {
		t.Fatal(err)
	}
	m := sc.module.(*InMemoryStorage)
	if n := m.Requests()["StorageSetConsumerOffset"]; n != commits {
		t.Errorf("%d commits taken, want %d", n, commits)
	}
	if d := m.Drops(); len(d) != 0 {
		t.Errorf("drops %v", d)
	}
	v, ok := <-late
	if !ok || len(v.([]string)) != 50 {
		t.Errorf("fetch in flight at Stop got %v, %v", v, ok)
	}
	// A second Stop is harmless.
	if err := sc.Stop(); err != nil {
		t.Error(err)
	}
}

// TestUnreadReplyBlocksNothing: a caller that never reads its reply holds up no
// one, whatever kind of fetch it sent.
func TestUnreadReplyBlocksNothing(t *testing.T) {
	app := newApp(map[string]any{"storage.s.class-name": "inmemory", "storage.s.workers": 1})
	start(t, app)
	ch := app.StorageChannel
	now := time.Now().UnixMilli()
	ch <- &protocol.StorageRequest{RequestType: protocol.StorageSetBrokerOffset, Cluster: "c", Topic: "t",
		Partition: 0, TopicPartitionCount: 1, Offset: 100, Timestamp: now}
	ch <- &protocol.StorageRequest{RequestType: protocol.StorageSetConsumerOffset, Cluster: "c", Topic: "t",
		Group: "g", Partition: 0, Offset: 1, Order: 1, Timestamp: now}
	for rt := protocol.StorageFetchClusters; rt <= protocol.StorageFetchConsumersForTopic; rt++ {
		for range 3 {
			ch <- &protocol.StorageRequest{RequestType: rt, Cluster: "c", Group: "g", Topic: "t", Reply: make(chan any)}
		}
	}
	if _, ok := fetchGroup(ch, "c", "g"); !ok {
		t.Error("group not served behind unread replies")
	}
}

// TestModuleChannel: the module's own channel serves requests too, in order.
func TestModuleChannel(t *testing.T) {
	app := newApp(nil)
	sc := start(t, app)
	mc := sc.module.GetCommunicationChannel()
	now := time.Now().UnixMilli()
	mc <- &protocol.StorageRequest{RequestType: protocol.StorageSetBrokerOffset, Cluster: "c", Topic: "t",
		Partition: 0, TopicPartitionCount: 1, Offset: 100, Timestamp: now}
	mc <- &protocol.StorageRequest{RequestType: protocol.StorageSetConsumerOffset, Cluster: "c", Topic: "t",
		Group: "g", Partition: 0, Offset: 1, Order: 1, Timestamp: now}
	if topics, ok := fetchGroup(mc, "c", "g"); !ok || topics["t"][0].CurrentLag != 99 {
		t.Errorf("got %v, %v", topics, ok)
	}
}

// TestObservedTimestampWholeSeconds: storage.md says a stored commit's
// ObservedTimestamp is "now, when stored"; the original takes it as
// time.Now().Unix()*1000, so it is whole seconds in milliseconds, and clients
// (and the original's own tests) compare it with such a value.
func TestObservedTimestampWholeSeconds(t *testing.T) {
	now := time.UnixMilli(1_700_000_000_303) // 303 ms past a second
	app := newApp(map[string]any{"storage.s.class-name": "inmemory"})
	app.Clock = func() time.Time { return now }
	start(t, app)
	ch := app.StorageChannel
	ch <- &protocol.StorageRequest{RequestType: protocol.StorageSetBrokerOffset, Cluster: "c", Topic: "t",
		Partition: 0, TopicPartitionCount: 1, Offset: 100, Timestamp: now.UnixMilli()}
	ch <- &protocol.StorageRequest{RequestType: protocol.StorageSetConsumerOffset, Cluster: "c", Topic: "t",
		Group: "g", Partition: 0, Offset: 90, Order: 1, Timestamp: now.UnixMilli()}
	topics, ok := fetchGroup(ch, "c", "g")
	if !ok {
		t.Fatal("group not found")
	}
	w := topics["t"][0].Offsets
	if got, want := w[len(w)-1].ObservedTimestamp, int64(1_700_000_000_000); got != want {
		t.Errorf("observedAt %d, want %d (now in whole seconds, times 1000)", got, want)
	}
}
