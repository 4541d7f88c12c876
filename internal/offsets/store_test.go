package offsets

import (
	"reflect"
	"testing"
	"time"

	"github.com/warrenlag/warren/protocol"
)

func fetchTopic(s *Store, topic string) ([]int64, bool) {
	v, ok := fetch(s, &protocol.StorageRequest{RequestType: protocol.StorageFetchTopic, Topic: topic})
	if !ok {
		return nil, false
	}
	return v.([]int64), true
}

func TestBrokerOffsets(t *testing.T) {
	tests := []struct {
		name  string
		reqs  []*protocol.StorageRequest
		topic string
		want  []int64 // nil: unknown topic
		drops map[string]uint64
	}{
		{
			name:  "only partition 2 set: the reply is compacted",
			reqs:  []*protocol.StorageRequest{broker("t", 2, 4, 30)},
			topic: "t", want: []int64{30},
		},
		{
			name:  "newest per partition, in partition order",
			reqs:  []*protocol.StorageRequest{broker("t", 1, 2, 10), broker("t", 0, 2, 5), broker("t", 1, 2, 11)},
			topic: "t", want: []int64{5, 11},
		},
		{
			name:  "the topic grows, never shrinks",
			reqs:  []*protocol.StorageRequest{broker("t", 0, 1, 1), broker("t", 3, 4, 4), broker("t", 2, 1, 3)},
			topic: "t", want: []int64{1, 3, 4},
		},
		{
			name:  "negative partition is dropped",
			reqs:  []*protocol.StorageRequest{broker("t", -1, 4, 1)},
			topic: "t", drops: map[string]uint64{"negative_partition": 1},
		},
		{
			name:  "partition not below the count is dropped and creates nothing",
			reqs:  []*protocol.StorageRequest{broker("t", 4, 4, 1), broker("t", 0, 0, 1)},
			topic: "t", drops: map[string]uint64{"broker_partition_out_of_range": 2},
		},
		{
			name:  "absurd partition count is dropped",
			reqs:  []*protocol.StorageRequest{broker("t", 0, 1<<30, 1), broker("t", 1<<30, 1<<30+1, 1)},
			topic: "t", drops: map[string]uint64{"partition_count": 2},
		},
		{
			name: "unknown cluster is dropped",
			reqs: []*protocol.StorageRequest{{RequestType: protocol.StorageSetBrokerOffset, Cluster: "x",
				Topic: "t", TopicPartitionCount: 1}},
			topic: "t", drops: map[string]uint64{"unknown_cluster": 1},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, _ := newStore(t, Config{})
			for _, r := range tt.reqs {
				s.Handle(r)
			}
			got, ok := fetchTopic(s, tt.topic)
			if ok != (tt.want != nil) || !reflect.DeepEqual(got, tt.want) {
				t.Errorf("FetchTopic = %v, %v; want %v", got, ok, tt.want)
			}
			if d := s.Drops(); !reflect.DeepEqual(d, orEmpty(tt.drops)) {
				t.Errorf("drops = %v, want %v", d, tt.drops)
			}
		})
	}
}

func orEmpty(m map[string]uint64) map[string]uint64 {
	if m == nil {
		return map[string]uint64{}
	}
	return m
}

func TestBrokerHistory(t *testing.T) {
	s, _ := newStore(t, Config{Intervals: 3})
	s.Handle(broker("t", 0, 2, 1))
	s.Handle(commit("g", "t", 0, 0, 1, testNow))
	for i := int64(2); i <= 5; i++ {
		s.Handle(broker("t", 0, 2, i))
	}
	topics, _ := fetchConsumer(s, "g")
	p0, p1 := topics["t"][0], topics["t"][1]
	if !reflect.DeepEqual(p0.BrokerOffsets, []int64{3, 4, 5}) {
		t.Errorf("p0 broker offsets %v, want the last 3, oldest first", p0.BrokerOffsets)
	}
	if p1.BrokerOffsets == nil || len(p1.BrokerOffsets) != 0 {
		t.Errorf("p1 broker offsets %#v, want empty (the broker partition exists without offsets)", p1.BrokerOffsets)
	}
	if p0.CurrentLag != 5 || p1.CurrentLag != 0 {
		t.Errorf("current lag %d, %d; want 5, 0", p0.CurrentLag, p1.CurrentLag)
	}
}

// TestCommitDrops checks each reason a commit is dropped, and that the first
// applicable reason in the spec's order is the one counted.
func TestCommitDrops(t *testing.T) {
	old := testNow - DefaultExpireGroup.Milliseconds() - 1
	tests := []struct {
		name string
		cfg  Config
		r    *protocol.StorageRequest
		want string
	}{
		{"unknown cluster first", Config{}, &protocol.StorageRequest{RequestType: protocol.StorageSetConsumerOffset,
			Cluster: "x", Group: "g", Topic: "nope", Partition: -1, Timestamp: old}, "unknown_cluster"},
		{"expired before lists and broker checks", Config{GroupDenylist: "g"}, commit("g", "nope", -1, 1, 1, old), "expired"},
		{"denied before broker checks", Config{GroupDenylist: "^g$"}, commit("g", "nope", 0, 1, 1, testNow), "group_rejected"},
		{"not allowed", Config{GroupAllowlist: "^ok"}, commit("g", "t", 0, 1, 1, testNow), "group_rejected"},
		{"allowlist matches unanchored", Config{GroupAllowlist: "o"}, commit("notok", "nope", 0, 1, 1, testNow), "no_topic"},
		{"no broker topic", Config{}, commit("g", "nope", 0, 1, 1, testNow), "no_topic"},
		{"negative partition", Config{}, commit("g", "t", -1, 1, 1, testNow), "negative_partition"},
		{"partition not below the broker count", Config{}, commit("g", "t", 4, 1, 1, testNow), "no_partition"},
		{"partition without broker offset", Config{}, commit("g", "t", 1, 1, 1, testNow), "no_broker_offset"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, _ := newStore(t, tt.cfg)
			s.Handle(broker("t", 0, 4, 100))
			s.Handle(tt.r)
			if d := s.Drops(); !reflect.DeepEqual(d, map[string]uint64{tt.want: 1}) {
				t.Errorf("drops = %v, want %s", d, tt.want)
			}
			if names, _ := fetchNames(s, protocol.StorageFetchConsumers, ""); len(names) != 0 {
				t.Errorf("a dropped commit created groups %v", names)
			}
		})
	}
}

func TestGroupTopicSizing(t *testing.T) {
	s, _ := newStore(t, Config{})
	s.Handle(broker("t", 0, 2, 100))
	s.Handle(commit("g", "t", 0, 10, 1, testNow))
	topics, _ := fetchConsumer(s, "g")
	if n := len(topics["t"]); n != 2 {
		t.Fatalf("group topic has %d partitions, want the broker's 2", n)
	}
	if p1 := topics["t"][1]; p1.Offsets == nil || len(p1.Offsets) != 0 {
		t.Errorf("untouched partition Offsets = %#v, want empty and non-nil", p1.Offsets)
	}

	// The broker grows to 6; a commit below the group's size does not grow it...
	s.Handle(broker("t", 5, 6, 100))
	s.Handle(broker("t", 1, 6, 100))
	s.Handle(commit("g", "t", 1, 10, 1, testNow))
	topics, _ = fetchConsumer(s, "g")
	if n := len(topics["t"]); n != 2 {
		t.Fatalf("group topic has %d partitions, want still 2", n)
	}
	// ... one at or above it grows it to the broker's count, keeping the windows.
	s.Handle(commit("g", "t", 5, 20, 2, testNow))
	topics, _ = fetchConsumer(s, "g")
	if n := len(topics["t"]); n != 6 {
		t.Fatalf("group topic has %d partitions, want 6", n)
	}
	for _, p := range []int{0, 1, 5} {
		w := topics["t"][p].Offsets
		if len(w) != DefaultIntervals || w[DefaultIntervals-1] == nil {
			t.Errorf("partition %d lost its commit: %v", p, w)
		}
	}
	if w := topics["t"][3].Offsets; len(w) != 0 {
		t.Errorf("partition 3 window %v, want empty", w)
	}
}

func TestFetchConsumerShape(t *testing.T) {
	s, _ := newStore(t, Config{Intervals: 4})
	s.Handle(broker("t", 0, 1, 100))
	s.Handle(broker("u", 0, 1, 50))
	s.Handle(commit("g", "t", 0, 40, 1, testNow-2000))
	s.Handle(commit("g", "t", 0, 120, 2, testNow-1000)) // ahead of the broker
	s.Handle(commit("g", "u", 0, 20, 1, testNow))
	s.Handle(&protocol.StorageRequest{RequestType: protocol.StorageSetDeleteTopic, Cluster: "c", Topic: "zz"})

	topics, ok := fetchConsumer(s, "g")
	if !ok || len(topics) != 2 {
		t.Fatalf("got %v, %v", topics, ok)
	}
	p := topics["t"][0]
	w := window(p.Offsets)
	want := []slot{{nil_: true}, {nil_: true}, {offset: 40, order: 1, ts: testNow - 2000, lag: 60},
		{offset: 120, order: 2, ts: testNow - 1000, lag: 0}}
	if !reflect.DeepEqual(w, want) {
		t.Errorf("window %v, want %v", w, want)
	}
	if p.Offsets[2].ObservedTimestamp != testNow {
		t.Errorf("observed %d, want %d", p.Offsets[2].ObservedTimestamp, testNow)
	}
	if p.CurrentLag != 0 {
		t.Errorf("current lag %d, want 0 (commit ahead of broker)", p.CurrentLag)
	}
	if !reflect.DeepEqual(p.BrokerOffsets, []int64{100}) {
		t.Errorf("broker offsets %v", p.BrokerOffsets)
	}
	if topics["u"][0].CurrentLag != 30 {
		t.Errorf("u current lag %d, want 30", topics["u"][0].CurrentLag)
	}
}

// TestFetchIsDeepCopy: a caller may keep and change a fetched value; the store
// and later fetches do not see it.
func TestFetchIsDeepCopy(t *testing.T) {
	s, _ := newStore(t, Config{})
	s.Handle(broker("t", 0, 1, 100))
	s.Handle(commit("g", "t", 0, 40, 1, testNow))
	a, _ := fetchConsumer(s, "g")
	a["t"][0].Offsets[DefaultIntervals-1].Offset = 999
	a["t"][0].Offsets[DefaultIntervals-1].Lag.Value = 999
	a["t"][0].BrokerOffsets[0] = 999
	a["t"][0].Owner = "x"
	delete(a, "t")
	b, _ := fetchConsumer(s, "g")
	p := b["t"][0]
	if o := p.Offsets[DefaultIntervals-1]; o.Offset != 40 || o.Lag.Value != 60 || p.BrokerOffsets[0] != 100 || p.Owner != "" {
		t.Errorf("a change to a fetched value reached the store: %+v %+v", o, p)
	}
}

func TestOwners(t *testing.T) {
	s, _ := newStore(t, Config{Intervals: 3})
	s.Handle(broker("t", 0, 2, 100))
	owner := func(group, topic string, p int32, host, id string) *protocol.StorageRequest {
		return &protocol.StorageRequest{RequestType: protocol.StorageSetConsumerOwner, Cluster: "c", Group: group,
			Topic: topic, Partition: p, Owner: host, ClientID: id}
	}
	// Drops create nothing.
	s.Handle(owner("g", "nope", 0, "h", "id"))
	s.Handle(owner("g", "t", 1, "h", "id")) // no broker offset on partition 1
	s.Handle(owner("g", "t", 7, "h", "id"))
	if names, _ := fetchNames(s, protocol.StorageFetchConsumers, ""); len(names) != 0 {
		t.Fatalf("dropped owners created groups %v", names)
	}
	s.Handle(commit("g", "t", 0, 10, 1, testNow))
	s.Handle(owner("g", "t", 0, "host-a", "client-a"))
	topics, _ := fetchConsumer(s, "g")
	if p := topics["t"][0]; p.Owner != "host-a" || p.ClientID != "client-a" {
		t.Errorf("owner %q %q", p.Owner, p.ClientID)
	}

	// An owner-only partition has a window of nils.
	s.Handle(broker("u", 0, 1, 5))
	s.Handle(owner("g", "u", 0, "host-b", "client-b"))
	topics, _ = fetchConsumer(s, "g")
	if p := topics["u"][0]; len(p.Offsets) != 3 || p.Offsets[0] != nil || p.Owner != "host-b" {
		t.Errorf("owner-only partition %+v", p)
	}

	s.Handle(&protocol.StorageRequest{RequestType: protocol.StorageClearConsumerOwners, Cluster: "c", Group: "g"})
	s.Handle(&protocol.StorageRequest{RequestType: protocol.StorageClearConsumerOwners, Cluster: "c", Group: "unknown"})
	topics, _ = fetchConsumer(s, "g")
	for name, parts := range topics {
		for i, p := range parts {
			if p.Owner != "" || p.ClientID != "" {
				t.Errorf("%s/%d still owned by %q %q", name, i, p.Owner, p.ClientID)
			}
		}
	}

	// A group with owners but no commit has lastCommit 0: the next fetch purges it.
	s.Handle(owner("h", "t", 0, "host", "id"))
	if _, ok := fetchConsumer(s, "h"); ok {
		t.Error("owner-only group was not purged")
	}
	if names, _ := fetchNames(s, protocol.StorageFetchConsumers, ""); !reflect.DeepEqual(names, []string{"g"}) {
		t.Errorf("groups %v after purge", names)
	}
}

// TestOwnerTableStaysSmall: owners that come and go do not pile up in a group.
func TestOwnerTableStaysSmall(t *testing.T) {
	s, _ := newStore(t, Config{})
	s.Handle(broker("t", 0, 1, 100))
	s.Handle(commit("g", "t", 0, 10, 1, testNow))
	for i := range 10000 {
		s.Handle(&protocol.StorageRequest{RequestType: protocol.StorageSetConsumerOwner, Cluster: "c", Group: "g",
			Topic: "t", Owner: "host", ClientID: string(rune('a'+i%26)) + time.Duration(i).String()})
	}
	g := s.shards[s.worker(0, "g")].groups[0]["g"]
	if len(g.owners) > 64 {
		t.Errorf("%d owners kept for one partition", len(g.owners))
	}
	topics, _ := fetchConsumer(s, "g")
	if id := topics["t"][0].ClientID; id != "p"+time.Duration(9999).String() {
		t.Errorf("client id %q, want the last one", id)
	}
}

func TestDeletes(t *testing.T) {
	setup := func(t *testing.T) *Store {
		s, _ := newStore(t, Config{})
		s.Handle(broker("t", 0, 1, 100))
		s.Handle(broker("u", 0, 1, 100))
		for _, g := range []string{"g1", "g2"} {
			s.Handle(commit(g, "t", 0, 10, 1, testNow))
			s.Handle(commit(g, "u", 0, 10, 1, testNow))
		}
		s.Handle(commit("g3", "u", 0, 10, 1, testNow))
		return s
	}
	del := func(rt protocol.StorageRequestConstant, group, topic string) *protocol.StorageRequest {
		return &protocol.StorageRequest{RequestType: rt, Cluster: "c", Group: group, Topic: topic}
	}

	t.Run("topic", func(t *testing.T) {
		s := setup(t)
		s.Handle(del(protocol.StorageSetDeleteTopic, "", "u"))
		if topics, _ := fetchNames(s, protocol.StorageFetchTopics, ""); !reflect.DeepEqual(topics, []string{"t"}) {
			t.Errorf("topics %v", topics)
		}
		if _, ok := fetchTopic(s, "u"); ok {
			t.Error("deleted topic still has broker offsets")
		}
		if groups, _ := fetchNames(s, protocol.StorageFetchConsumersForTopic, "u"); len(groups) != 0 {
			t.Errorf("groups of the deleted topic %v", groups)
		}
		// g3 is left without topics, and stays until it expires.
		if groups, _ := fetchNames(s, protocol.StorageFetchConsumers, ""); !reflect.DeepEqual(groups, []string{"g1", "g2", "g3"}) {
			t.Errorf("groups %v", groups)
		}
		if topics, ok := fetchConsumer(s, "g3"); !ok || len(topics) != 0 {
			t.Errorf("g3 = %v, %v; want empty", topics, ok)
		}
	})
	t.Run("group", func(t *testing.T) {
		s := setup(t)
		s.Handle(del(protocol.StorageSetDeleteGroup, "g1", ""))
		s.Handle(del(protocol.StorageSetDeleteGroup, "nope", ""))
		if groups, _ := fetchNames(s, protocol.StorageFetchConsumers, ""); !reflect.DeepEqual(groups, []string{"g2", "g3"}) {
			t.Errorf("groups %v", groups)
		}
	})
	t.Run("group topic", func(t *testing.T) {
		s := setup(t)
		s.Handle(del(protocol.StorageSetDeleteGroup, "g1", "u"))
		s.Handle(del(protocol.StorageSetDeleteGroup, "g3", "u"))
		s.Handle(del(protocol.StorageSetDeleteGroup, "g2", "nope"))
		if groups, _ := fetchNames(s, protocol.StorageFetchConsumers, ""); !reflect.DeepEqual(groups, []string{"g1", "g2"}) {
			t.Errorf("groups %v (g3 lost its last topic and goes)", groups)
		}
		if groups, _ := fetchNames(s, protocol.StorageFetchConsumersForTopic, "u"); !reflect.DeepEqual(groups, []string{"g2"}) {
			t.Errorf("groups of u %v", groups)
		}
		if topics, _ := fetchConsumer(s, "g1"); len(topics) != 1 || topics["t"] == nil {
			t.Errorf("g1 = %v", topics)
		}
	})
}

func TestExpiry(t *testing.T) {
	s, clk := newStore(t, Config{ExpireGroup: 100 * time.Second})
	s.Handle(broker("t", 0, 1, 100))
	s.Handle(commit("g", "t", 0, 10, 1, testNow-100_000)) // exactly at the limit: kept
	s.Handle(commit("g", "t", 0, 11, 2, testNow-100_001)) // older: dropped
	if d := s.Drops(); d["expired"] != 1 {
		t.Fatalf("drops %v", d)
	}
	if _, ok := fetchConsumer(s, "g"); !ok {
		t.Fatal("group at the limit was purged")
	}
	clk.ms++
	// Lists do not purge...
	if groups, _ := fetchNames(s, protocol.StorageFetchConsumers, ""); len(groups) != 1 {
		t.Fatalf("groups %v", groups)
	}
	// ... FetchConsumer does.
	if _, ok := fetchConsumer(s, "g"); ok {
		t.Fatal("expired group was served")
	}
	if groups, _ := fetchNames(s, protocol.StorageFetchConsumers, ""); len(groups) != 0 {
		t.Fatalf("expired group still listed after the fetch: %v", groups)
	}
}

func TestFetches(t *testing.T) {
	s, _ := newStore(t, Config{Clusters: []string{"c", "b"}})
	s.Handle(broker("t", 0, 1, 100))
	s.Handle(broker("u", 0, 1, 100))
	s.Handle(commit("g1", "t", 0, 10, 1, testNow))
	s.Handle(commit("g2", "u", 0, 10, 1, testNow))

	v, ok := fetch(s, &protocol.StorageRequest{RequestType: protocol.StorageFetchClusters})
	if !ok || !reflect.DeepEqual(v, []string{"c", "b"}) {
		t.Errorf("clusters %v", v)
	}
	if got, _ := fetchNames(s, protocol.StorageFetchTopics, ""); !reflect.DeepEqual(got, []string{"t", "u"}) {
		t.Errorf("topics %v", got)
	}
	if got, _ := fetchNames(s, protocol.StorageFetchConsumers, ""); !reflect.DeepEqual(got, []string{"g1", "g2"}) {
		t.Errorf("consumers %v", got)
	}
	if got, _ := fetchNames(s, protocol.StorageFetchConsumersForTopic, "u"); !reflect.DeepEqual(got, []string{"g2"}) {
		t.Errorf("consumers for u %v", got)
	}
	// Known cluster without data: empty lists, not closed replies.
	for _, rt := range []protocol.StorageRequestConstant{protocol.StorageFetchTopics,
		protocol.StorageFetchConsumers, protocol.StorageFetchConsumersForTopic} {
		v, ok := fetch(s, &protocol.StorageRequest{RequestType: rt, Cluster: "b"})
		if !ok || v == nil || len(v.([]string)) != 0 {
			t.Errorf("%v on an empty cluster = %#v, %v", rt, v, ok)
		}
	}
	// Unknown cluster, group or topic: closed reply, nothing sent.
	for _, r := range []*protocol.StorageRequest{
		{RequestType: protocol.StorageFetchTopics, Cluster: "x"},
		{RequestType: protocol.StorageFetchConsumers, Cluster: "x"},
		{RequestType: protocol.StorageFetchConsumersForTopic, Cluster: "x", Topic: "t"},
		{RequestType: protocol.StorageFetchConsumer, Cluster: "x", Group: "g1"},
		{RequestType: protocol.StorageFetchConsumer, Group: "nope"},
		{RequestType: protocol.StorageFetchTopic, Cluster: "x", Topic: "t"},
		{RequestType: protocol.StorageFetchTopic, Topic: "nope"},
	} {
		if v, ok := fetch(s, r); ok {
			t.Errorf("%v %q/%q/%q answered %v", r.RequestType, r.Cluster, r.Group, r.Topic, v)
		}
	}
}

// TestBadRequests: nothing malformed crashes or blocks, and each is counted.
func TestBadRequests(t *testing.T) {
	for _, running := range []bool{false, true} {
		s, _ := newStore(t, Config{Workers: 3})
		if running {
			if err := s.Start(); err != nil {
				t.Fatal(err)
			}
		}
		closed := make(chan any)
		close(closed)
		full := make(chan any, 1)
		full <- "occupied"
		s.Handle(nil)
		for _, rt := range []protocol.StorageRequestConstant{-1, 13, 1 << 30} {
			v, ok := fetch(s, &protocol.StorageRequest{RequestType: rt})
			if ok {
				t.Errorf("unknown type %d answered %v", rt, v)
			}
		}
		s.Handle(&protocol.StorageRequest{RequestType: 99})
		for rt := protocol.StorageFetchClusters; rt <= protocol.StorageFetchConsumersForTopic; rt++ {
			s.Handle(&protocol.StorageRequest{RequestType: rt, Cluster: "c", Group: "g", Topic: "t"}) // nil Reply
			s.Handle(&protocol.StorageRequest{RequestType: rt, Cluster: "c", Group: "g", Topic: "t", Reply: closed})
		}
		s.Handle(broker("t", 0, 1, 1))
		s.Handle(commit("g", "t", 0, 1, 1, testNow))
		s.Handle(&protocol.StorageRequest{RequestType: protocol.StorageFetchConsumer, Cluster: "c", Group: "g", Reply: closed})
		s.Handle(&protocol.StorageRequest{RequestType: protocol.StorageFetchConsumer, Cluster: "c", Group: "g", Reply: full})
		// The store still works.
		if topics, ok := fetchConsumer(s, "g"); !ok || len(topics) != 1 {
			t.Errorf("running=%v: store broken after bad input: %v", running, topics)
		}
		s.Stop()
		d := s.Drops()
		if d["nil_request"] != 1 || d["unknown_request"] != 4 || d["no_reply"] == 0 || d["reply_failed"] == 0 {
			t.Errorf("running=%v: drops %v", running, d)
		}
	}
}

// TestStopped: after Stop, requests are dropped and fetches answered closed.
func TestStopped(t *testing.T) {
	s, _ := newStore(t, Config{})
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	s.Stop()
	s.Stop()
	if _, ok := fetch(s, &protocol.StorageRequest{RequestType: protocol.StorageFetchClusters}); ok {
		t.Error("fetch answered after Stop")
	}
	if err := s.Start(); err == nil {
		t.Error("Start after Stop succeeded")
	}
}

// TestSlowReader: a caller that reads its reply late does not hold anything up,
// and still gets its answer.
func TestSlowReader(t *testing.T) {
	s, _ := newStore(t, Config{Workers: 1})
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	defer s.Stop()
	s.Handle(broker("t", 0, 1, 1))
	s.Handle(commit("g", "t", 0, 1, 1, testNow))
	late := make(chan any) // unbuffered and not read yet
	s.Handle(&protocol.StorageRequest{RequestType: protocol.StorageFetchConsumer, Cluster: "c", Group: "g", Reply: late})
	s.Handle(&protocol.StorageRequest{RequestType: protocol.StorageFetchTopics, Cluster: "c", Reply: make(chan any)})
	// The same worker answers others meanwhile.
	if _, ok := fetchConsumer(s, "g"); !ok {
		t.Fatal("no answer while another caller is slow")
	}
	if v, ok := <-late; !ok || len(v.(protocol.ConsumerTopics)) != 1 {
		t.Errorf("late reader got %v, %v", v, ok)
	}
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		cfg  Config
		want string
	}{
		{Config{Intervals: -1}, "intervals"},
		{Config{Intervals: MaxIntervals + 1}, "intervals"},
		{Config{Workers: -1}, "workers"},
		{Config{ExpireGroup: -time.Second}, "expire-group"},
		{Config{MinDistance: -time.Second}, "min-distance"},
		{Config{GroupAllowlist: "("}, "group-allowlist"},
		{Config{GroupDenylist: "[z-a]"}, "group-denylist"},
		{Config{MaxPartitions: -3}, "max-partitions"},
		{Config{Clusters: []string{"a", "a"}}, "cluster"},
	}
	for _, tt := range tests {
		_, err := New(tt.cfg, nil)
		if err == nil || !contains(err.Error(), tt.want+":") {
			t.Errorf("New(%+v) = %v, want an error naming %s", tt.cfg, err, tt.want)
		}
	}
}

func contains(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return true
		}
	}
	return false
}

// TestCommitAllocs pins that storing a commit on a known partition, and a broker
// offset, allocate nothing.
func TestCommitAllocs(t *testing.T) {
	s, _ := newStore(t, Config{})
	s.Handle(broker("t", 0, 4, 1<<40))
	s.Handle(commit("g", "t", 0, 1, 1, testNow))
	s.Handle(commit("h", "t", 1, 1, 1, testNow))
	c1, c2 := commit("g", "t", 0, 0, 0, testNow), commit("h", "t", 1, 0, 0, testNow)
	b := broker("t", 3, 4, 0)
	order := int64(1)
	allocs := testing.AllocsPerRun(1000, func() {
		order++
		c1.Order, c1.Offset = order, order
		c2.Order, c2.Offset = order, order
		b.Offset = order
		s.Handle(c1)
		s.Handle(b)
		s.Handle(c2)
	})
	if allocs != 0 {
		t.Errorf("%v allocations per commit and broker offset, want 0", allocs)
	}
	topics, _ := fetchConsumer(s, "g")
	if got := topics["t"][0].Offsets[DefaultIntervals-1].Order; got != order {
		t.Errorf("newest Order %d, want %d", got, order)
	}
}

// TestEmptyGroupName: the group "" is a group like any other, always served by
// the same worker (a cache once took it for an entry looked up before).
func TestEmptyGroupName(t *testing.T) {
	s, _ := newStore(t, Config{Workers: 7})
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	defer s.Stop()
	s.Handle(broker("t", 0, 1, 100))
	s.Handle(commit("", "t", 0, 10, 1, testNow))
	s.Handle(commit("other", "t", 0, 10, 1, testNow))
	s.Handle(commit("", "t", 0, 20, 2, testNow))
	topics, ok := fetchConsumer(s, "")
	if !ok || window(topics["t"][0].Offsets)[DefaultIntervals-1].offset != 20 || window(topics["t"][0].Offsets)[DefaultIntervals-2].offset != 10 {
		t.Fatalf("group \"\": %v, %v", topics, ok)
	}
	if names, _ := fetchNames(s, protocol.StorageFetchConsumers, ""); !reflect.DeepEqual(names, []string{"", "other"}) {
		t.Errorf("groups %q", names)
	}
}

// TestReusedRequest: a caller may reuse its request once it has sent it.
func TestReusedRequest(t *testing.T) {
	s, _ := newStore(t, Config{})
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	defer s.Stop()
	s.Handle(broker("t", 0, 1, 100))
	r := commit("g", "t", 0, 0, 0, testNow)
	for i := int64(1); i <= 3; i++ {
		r.Offset, r.Order = 10*i, i
		s.Handle(r)
	}
	topics, _ := fetchConsumer(s, "g")
	w := window(topics["t"][0].Offsets)
	if w[7].offset != 10 || w[8].offset != 20 || w[9].offset != 30 {
		t.Errorf("window %v", fmtSlots(w))
	}
}

// TestFetchWindows: the windows fetch holds the facts of the plain fetch, plus
// the broker timestamps, in topic-name order.
func TestFetchWindows(t *testing.T) {
	s, clk := newStore(t, Config{Intervals: 5})
	for i := range int64(6) { // one more reading than a history holds
		b := broker("t", 0, 2, 100+10*i)
		b.Timestamp = testNow + i
		s.Handle(b)
	}
	s.Handle(broker("t", 1, 2, 7))
	s.Handle(broker("a", 0, 1, 50))
	for i := range int64(4) {
		s.Handle(commit("g", "t", 0, 10+i, 10*(i+1), testNow-100_000+10_000*i))
	}
	s.Handle(&protocol.StorageRequest{RequestType: protocol.StorageSetConsumerOwner, Cluster: "c", Group: "g",
		Topic: "t", Partition: 1, Owner: "h", ClientID: "id"})
	s.Handle(commit("g", "a", 0, 60, 9, testNow))
	s.Handle(commit("g", "t", 0, 11, 25, testNow-85_000)) // late: inserted, lag unknown

	w, ok := fetchWindows(t, s, "g")
	if !ok {
		t.Fatal("group not found")
	}
	if w.Intervals != 5 || len(w.Topics) != 2 || w.Topics[0] != (protocol.WindowTopic{Name: "a", Partitions: 1}) ||
		w.Topics[1] != (protocol.WindowTopic{Name: "t", Partitions: 2}) {
		t.Fatalf("topics %+v, intervals %d", w.Topics, w.Intervals)
	}
	t0 := &w.Partitions[1]
	want := []protocol.WindowCommit{
		{Offset: 10, Order: 10, Timestamp: testNow - 100_000, ObservedTimestamp: testNow, Lag: 140, LagKnown: true},
		{Offset: 11, Order: 20, Timestamp: testNow - 90_000, ObservedTimestamp: testNow, Lag: 139, LagKnown: true},
		{Offset: 11, Order: 25, Timestamp: testNow - 85_000, ObservedTimestamp: testNow},
		{Offset: 12, Order: 30, Timestamp: testNow - 80_000, ObservedTimestamp: testNow, Lag: 138, LagKnown: true},
		{Offset: 13, Order: 40, Timestamp: testNow - 70_000, ObservedTimestamp: testNow, Lag: 137, LagKnown: true},
	}
	if got := w.Window(t0); !reflect.DeepEqual(got, want) {
		t.Errorf("window %+v\nwant %+v", got, want)
	}
	readings := []protocol.BrokerReading{{Offset: 110, Timestamp: testNow + 1}, {Offset: 120, Timestamp: testNow + 2},
		{Offset: 130, Timestamp: testNow + 3}, {Offset: 140, Timestamp: testNow + 4}, {Offset: 150, Timestamp: testNow + 5}}
	if got := w.History(t0); !reflect.DeepEqual(got, readings) {
		t.Errorf("history %+v", got)
	}
	if t0.CurrentLag != 137 || w.Partitions[0].CurrentLag != 0 {
		t.Errorf("current lags %d, %d", t0.CurrentLag, w.Partitions[0].CurrentLag)
	}
	if o := w.Owner(&w.Partitions[2]); o != (protocol.PartitionOwner{Host: "h", ClientID: "id"}) || len(w.Window(&w.Partitions[2])) != 0 {
		t.Errorf("owner %+v of t/1", o)
	}
	if o := w.Owner(t0); o != (protocol.PartitionOwner{}) {
		t.Errorf("owner %+v of t/0", o)
	}

	plain, _ := fetchConsumer(s, "g")
	if got := topicsOf(w); !reflect.DeepEqual(got, plainShapes(plain)) {
		t.Errorf("windows %s\nplain %s", show(got), show(plain))
	}
	// A reply is the caller's own: later commits do not change it.
	s.Handle(commit("g", "t", 0, 99, 10, testNow))
	if w.Window(t0)[4].Offset != 13 {
		t.Error("the reply changed with the store")
	}

	if _, ok := fetchWindows(t, s, "nope"); ok {
		t.Error("an unknown group was found")
	}
	clk.ms += 8 * 24 * 3600 * 1000 // past expire-group
	if _, ok := fetchWindows(t, s, "g"); ok {
		t.Error("an expired group was found")
	}
}
