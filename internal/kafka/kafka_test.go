package kafka

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/spf13/viper"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"

	"github.com/warrenlag/warren/internal/config"
	"github.com/warrenlag/warren/protocol"
	"github.com/warrenlag/warren/storage"
)

// env is a kfake cluster, a started storage knowing cluster "local", and a
// producer.
type env struct {
	kf       *kfake.Cluster
	storage  chan *protocol.StorageRequest
	producer *kgo.Client
	adm      *kadm.Client
	sc       *storage.Coordinator
}

func newEnv(t testing.TB, topics ...string) *env {
	t.Helper()
	kf, err := kfake.NewCluster(kfake.NumBrokers(2), kfake.SeedTopics(3, topics...))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(kf.Close)
	v := viper.New()
	v.Set("cluster.local.class-name", "kafka")
	ch := make(chan *protocol.StorageRequest)
	sc := &storage.Coordinator{App: &protocol.ApplicationContext{Logger: zap.NewNop(), StorageChannel: ch, Viper: v}}
	sc.Configure()
	if err := sc.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sc.Stop() })
	producer, err := kgo.NewClient(kgo.SeedBrokers(kf.ListenAddrs()...), kgo.DefaultProduceTopic(topics[0]),
		kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(producer.Close)
	return &env{kf: kf, storage: ch, producer: producer, adm: kadm.NewClient(producer), sc: sc}
}

// produce writes n records to topic partition p.
func (e *env) produce(t testing.TB, topic string, p int32, n int) {
	t.Helper()
	var rs []*kgo.Record
	for range n {
		rs = append(rs, &kgo.Record{Topic: topic, Partition: p, Value: []byte("x")})
	}
	if err := e.producer.ProduceSync(context.Background(), rs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
}

func (e *env) ask(t testing.TB, r *protocol.StorageRequest) (any, bool) {
	t.Helper()
	r.Reply = make(chan any, 1)
	r.Cluster = "local"
	e.storage <- r
	v, ok := <-r.Reply
	return v, ok
}

func (e *env) group(t testing.TB, name string) protocol.ConsumerTopics {
	t.Helper()
	v, ok := e.ask(t, &protocol.StorageRequest{RequestType: protocol.StorageFetchConsumer, Group: name})
	if !ok {
		return nil
	}
	return v.(protocol.ConsumerTopics)
}

// eventually polls cond until it holds or the deadline passes.
func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		runtime_Gosched()
	}
}

func clusterConfig(e *env) config.Cluster {
	return config.Cluster{Name: "local", ClassName: "kafka", Servers: e.kf.ListenAddrs(),
		Profile: &config.ClientProfile{ClientID: "warren-test"}, TopicRefresh: time.Hour, OffsetRefresh: time.Hour}
}

func TestClusterOffsetsAndDeletion(t *testing.T) {
	e := newEnv(t, "orders", "gone")
	e.produce(t, "orders", 0, 5)
	e.produce(t, "orders", 2, 3)
	c, err := NewCluster(clusterConfig(e), e.storage, zaptest.NewLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	defer c.Stop()
	// Start has recorded the offsets once already.
	v, ok := e.ask(t, &protocol.StorageRequest{RequestType: protocol.StorageFetchTopic, Topic: "orders"})
	if !ok || len(v.([]int64)) != 3 || v.([]int64)[0] != 5 || v.([]int64)[1] != 0 || v.([]int64)[2] != 3 {
		t.Fatalf("orders offsets %v", v)
	}
	v, _ = e.ask(t, &protocol.StorageRequest{RequestType: protocol.StorageFetchTopics})
	if names := v.([]string); len(names) != 2 {
		t.Errorf("topics %v", names)
	}

	// A topic that disappears between two refreshes is deleted from storage.
	if err := e.kf.DeleteTopic("gone"); err != nil {
		t.Fatal(err)
	}
	c.refresh(context.Background())
	if _, ok := e.ask(t, &protocol.StorageRequest{RequestType: protocol.StorageFetchTopic, Topic: "gone"}); ok {
		t.Error("deleted topic still stored")
	}
	e.produce(t, "orders", 0, 2)
	c.offsets(context.Background())
	v, _ = e.ask(t, &protocol.StorageRequest{RequestType: protocol.StorageFetchTopic, Topic: "orders"})
	if v.([]int64)[0] != 7 {
		t.Errorf("offsets after a second round %v", v)
	}
}

func TestClusterUnreachable(t *testing.T) {
	cfg := config.Cluster{Name: "x", Servers: []string{"127.0.0.1:1"}, Profile: &config.ClientProfile{DialTimeout: time.Second},
		TopicRefresh: time.Hour, OffsetRefresh: time.Hour}
	c, err := NewCluster(cfg, nil, zap.NewNop())
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Start(); err == nil {
		c.Stop()
		t.Fatal("start against nothing succeeded")
	}
}

func TestAdminSource(t *testing.T) {
	e := newEnv(t, "orders")
	e.produce(t, "orders", 0, 10)
	e.produce(t, "orders", 1, 10)
	c, _ := NewCluster(clusterConfig(e), e.storage, zap.NewNop())
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	defer c.Stop()

	// A live group member that consumed and committed partition 0..2.
	member, err := kgo.NewClient(kgo.SeedBrokers(e.kf.ListenAddrs()...), kgo.ConsumerGroup("live"),
		kgo.ConsumeTopics("orders"), kgo.ClientID("live-client"), kgo.DisableAutoCommit())
	if err != nil {
		t.Fatal(err)
	}
	defer member.Close()
	got := 0
	for got < 20 {
		fs := member.PollFetches(context.Background())
		got += fs.NumRecords()
	}
	if err := member.CommitUncommittedOffsets(context.Background()); err != nil {
		t.Fatal(err)
	}
	// Kafka's "no offset" (-1) on partition 2, which OffsetFetch answers as it
	// was committed. The group is live, so an unchanged offset would be sent.
	var commitErr error
	member.CommitOffsetsSync(context.Background(), map[string]map[int32]kgo.EpochOffset{"orders": {2: {Epoch: -1, Offset: -1}}},
		func(_ *kgo.Client, _ *kmsg.OffsetCommitRequest, _ *kmsg.OffsetCommitResponse, err error) {
			commitErr = err
		})
	if commitErr != nil {
		t.Fatal(commitErr)
	}
	if fetched, err := e.adm.FetchOffsets(context.Background(), "live"); err != nil {
		t.Fatal(err)
	} else if o, ok := fetched.Lookup("orders", 2); !ok || o.At != -1 {
		t.Fatalf("kfake does not answer the -1 commit: %+v %v", o, ok)
	}
	// A group with no members: its offsets were committed and it left.
	committed := kadm.Offsets{}
	committed.Add(kadm.Offset{Topic: "orders", Partition: 0, At: 3, LeaderEpoch: -1})
	if _, err := e.adm.CommitOffsets(context.Background(), "left", committed); err != nil {
		t.Fatal(err)
	}

	cfg := config.Consumer{Name: "local", ClassName: "kafka", Cluster: "local", Servers: e.kf.ListenAddrs(),
		Profile: &config.ClientProfile{ClientID: "warren-test"}, GroupDenylist: "^ignored$"}
	a, err := NewAdminSource(cfg, time.Hour, e.storage, zap.NewNop())
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Start(); err != nil {
		t.Fatal(err)
	}
	defer a.Stop()
	ctx := context.Background()
	eventually(t, "the first poll", func() bool { return a.Polls.Load() >= 1 })
	a.Poll(ctx)

	live := e.group(t, "live")
	if live == nil || len(live["orders"]) != 3 {
		t.Fatalf("live group %v", live)
	}
	p0 := live["orders"][0]
	n := 0
	for _, o := range p0.Offsets {
		if o != nil {
			n++
			if o.Offset != 10 {
				t.Errorf("live offset %d, want 10", o.Offset)
			}
		}
	}
	if n != 2 {
		t.Errorf("live group: %d commits after 2 polls, want 2 (unchanged offsets repeat while members live)", n)
	}
	if p0.Owner == "" || p0.ClientID != "live-client" {
		t.Errorf("owner %q %q", p0.Owner, p0.ClientID)
	}
	// The -1 is no commit: the partition has none, and no lag.
	for _, o := range live["orders"][2].Offsets {
		if o != nil {
			t.Errorf("live group, partition 2 (offset -1): commit %+v stored", o)
		}
	}
	left := e.group(t, "left")
	if left == nil {
		t.Fatal("left group missing")
	}
	n = 0
	for _, o := range left["orders"][0].Offsets {
		if o != nil {
			n++
		}
	}
	if n != 1 || left["orders"][0].CurrentLag != 7 {
		t.Errorf("left group: %d commits, lag %d; want 1 commit (no repeats without members), lag 7", n, left["orders"][0].CurrentLag)
	}
}

// TestAdminSourceForgetsDeletedGroups: a group deleted in Kafka leaves storage
// at the admin source's next poll, without the groups reaper; a failed group
// listing deletes nothing, and neither does a group the source never sent.
func TestAdminSourceForgetsDeletedGroups(t *testing.T) {
	e := newEnv(t, "orders")
	e.produce(t, "orders", 0, 10)
	c, _ := NewCluster(clusterConfig(e), e.storage, zap.NewNop())
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	defer c.Stop()
	ctx := context.Background()
	committed := kadm.Offsets{}
	committed.Add(kadm.Offset{Topic: "orders", Partition: 0, At: 3, LeaderEpoch: -1})
	// "other" is coordinated by the broker that does not coordinate "kept",
	// so that a listing failed by kept's broker is partial but not empty.
	other := "other"
	for i := 0; e.kf.CoordinatorFor(other) == e.kf.CoordinatorFor("kept"); i++ {
		other = fmt.Sprintf("other-%d", i)
	}
	for _, g := range []string{"gone", "kept", "ignored", other} {
		if _, err := e.adm.CommitOffsets(ctx, g, committed); err != nil {
			t.Fatal(err)
		}
	}
	// Groups in storage that this source never sends: one its deny list
	// rejects (another module may feed it), one Kafka does not know.
	for _, g := range []string{"ignored", "stranger"} {
		e.storage <- &protocol.StorageRequest{RequestType: protocol.StorageSetConsumerOffset, Cluster: "local",
			Group: g, Topic: "orders", Partition: 0, Offset: 1, Order: 1, Timestamp: time.Now().UnixMilli()}
	}
	cfg := config.Consumer{Name: "local", ClassName: "kafka", Cluster: "local", Servers: e.kf.ListenAddrs(),
		Profile: &config.ClientProfile{ClientID: "warren-test"}, GroupDenylist: "^ignored$"}
	a, err := NewAdminSource(cfg, time.Hour, e.storage, zap.NewNop())
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Start(); err != nil {
		t.Fatal(err)
	}
	defer a.Stop()
	eventually(t, "the first poll", func() bool { return a.Polls.Load() >= 1 })
	stored := func() string {
		v, _ := e.ask(t, &protocol.StorageRequest{RequestType: protocol.StorageFetchConsumers})
		names := v.([]string)
		sortStrings(names)
		return strings.Join(names, ",")
	}
	all := "gone,ignored,kept," + other + ",stranger"
	if got := stored(); got != all {
		t.Fatalf("groups after the first poll: %s", got)
	}
	for _, g := range []string{"gone", "ignored"} {
		if _, err := e.adm.DeleteGroups(ctx, g); err != nil {
			t.Fatal(err)
		}
	}

	// The broker of "kept" fails its ListGroups: the list is partial, nothing
	// is deleted.
	fault := e.kf.Fault(kfake.Fault{Keys: []kmsg.Key{kmsg.ListGroups}, Nodes: []int32{e.kf.CoordinatorFor("kept")},
		Err: kerr.UnknownServerError, Count: -1})
	errs := a.Errors.Load()
	a.Poll(ctx)
	fault.Remove()
	if fault.Hits() == 0 || a.Errors.Load() == errs {
		t.Fatalf("the ListGroups fault was not hit (%d) or not counted", fault.Hits())
	}
	if got := stored(); got != all {
		t.Errorf("groups after a failed listing: %s; want all of them", got)
	}

	a.Poll(ctx)
	if got := stored(); got != "ignored,kept,"+other+",stranger" {
		t.Errorf("groups after the deletion: %s; want gone deleted, the others kept", got)
	}
}

// TestTopicSource creates an offsets topic in kfake (which has none of its own),
// writes records encoded with kmsg into it, and reads them back through storage.
func TestTopicSource(t *testing.T) {
	e := newEnv(t, "orders")
	if err := e.kf.CreateTopic("__consumer_offsets", 2, nil); err != nil {
		t.Fatal(err)
	}
	e.produce(t, "orders", 0, 100)
	c, _ := NewCluster(clusterConfig(e), e.storage, zap.NewNop())
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	defer c.Stop()
	now := time.Now().UnixMilli()
	records := []*kgo.Record{
		{Partition: 0, Key: commitKey(1, "g", "orders", 0), Value: commitValue(3, 40, now-3000, "")},
		{Partition: 0, Key: groupKey("g"), Value: groupValue(3, "consumer", member("m1", "client-1", "/10.0.0.1", assignment("orders", 0)))},
		{Partition: 0, Key: []byte{0xff}, Value: []byte("garbage")},
		{Partition: 0, Key: commitKey(1, "g", "orders", 0), Value: commitValue(4, 60, now-1000, strings.Repeat("x", 300))},
		// No valid offset: stored, it would make the partition's lag 101.
		{Partition: 0, Key: commitKey(1, "g", "orders", 0), Value: commitValue(3, -1, now-500, "")},
		{Partition: 1, Key: commitKey(0, "gone", "orders", 0), Value: commitValue(1, 10, now, "")},
		{Partition: 1, Key: groupKey("gone"), Value: nil},
	}
	for _, r := range records {
		r.Topic = "__consumer_offsets"
	}
	if err := e.producer.ProduceSync(context.Background(), records...).FirstErr(); err != nil {
		t.Fatal(err)
	}
	s, err := NewTopicSource(config.Consumer{Name: "local", Cluster: "local", Servers: e.kf.ListenAddrs(),
		OffsetsTopic: "__consumer_offsets", Profile: &config.ClientProfile{ClientID: "warren-test"}}, e.storage, zap.NewNop())
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	defer s.Stop()
	eventually(t, "all records read", func() bool { return s.Records.Load() == uint64(len(records)) })

	g := e.group(t, "g")
	if g == nil {
		t.Fatal("group g missing")
	}
	p := g["orders"][0]
	w := p.Offsets[len(p.Offsets)-2:]
	if w[0] == nil || w[0].Offset != 40 || w[0].Order != 0 || w[1] == nil || w[1].Offset != 60 || w[1].Order != 3 ||
		w[1].Timestamp != now-1000 {
		t.Errorf("window %+v %+v", w[0], w[1])
	}
	if p.Owner != "/10.0.0.1" || p.ClientID != "client-1" || p.CurrentLag != 40 {
		t.Errorf("partition %+v", p)
	}
	if e.group(t, "gone") != nil {
		t.Error("group deleted by a tombstone is still stored")
	}
	progress := e.group(t, "burrow-local")
	if progress == nil || len(progress["__consumer_offsets"]) != 2 {
		t.Fatalf("progress group %v", progress)
	}
	if last := progress["__consumer_offsets"][0].Offsets; last[len(last)-1].Offset != 5 {
		t.Errorf("progress of partition 0: %+v", last[len(last)-1])
	} else if ts := last[len(last)-1].Timestamp; ts%1000 != 0 {
		t.Errorf("progress commit stamped %d; the original stamps whole seconds (Unix()*1000)", ts)
	}
	if sk := s.Skips(); sk["no_key_version"] != 1 || sk["negative_offset"] != 1 {
		t.Errorf("skips %v", sk)
	}
}

func TestTopicSourceMissingTopic(t *testing.T) {
	e := newEnv(t, "orders")
	s, _ := NewTopicSource(config.Consumer{Name: "local", Cluster: "local", Servers: e.kf.ListenAddrs(),
		OffsetsTopic: "__consumer_offsets", Profile: &config.ClientProfile{}}, e.storage, zap.NewNop())
	if err := s.Start(); !errors.Is(err, ErrNoOffsetsTopic) {
		s.Stop()
		t.Fatalf("start without the topic: %v", err)
	}
}

func TestGroupsReaper(t *testing.T) {
	e := newEnv(t, "orders")
	e.produce(t, "orders", 0, 10)
	cfg := clusterConfig(e)
	cfg.ProgressGroups = []string{"burrow-mine"}
	c, _ := NewCluster(cfg, e.storage, zap.NewNop())
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	defer c.Stop()
	committed := kadm.Offsets{}
	committed.Add(kadm.Offset{Topic: "orders", Partition: 0, At: 3, LeaderEpoch: -1})
	if _, err := e.adm.CommitOffsets(context.Background(), "known", committed); err != nil {
		t.Fatal(err)
	}
	now := time.Now().UnixMilli()
	for _, g := range []string{"known", "vanished", "burrow-mine", "burrow-local"} {
		e.storage <- &protocol.StorageRequest{RequestType: protocol.StorageSetConsumerOffset, Cluster: "local",
			Group: g, Topic: "orders", Partition: 0, Offset: 1, Order: 1, Timestamp: now}
	}
	c.Reap(context.Background())
	v, _ := e.ask(t, &protocol.StorageRequest{RequestType: protocol.StorageFetchConsumers})
	names := v.([]string)
	sortStrings(names)
	if strings.Join(names, ",") != "burrow-local,burrow-mine,known" {
		t.Errorf("groups after the reaper: %v", names)
	}
	if reaperSupported(&config.ClientProfile{KafkaVersion: "0.10.2"}) || !reaperSupported(&config.ClientProfile{KafkaVersion: "0.11.0"}) ||
		!reaperSupported(&config.ClientProfile{KafkaVersion: "2.8.0"}) {
		t.Error("reaperSupported")
	}
}
