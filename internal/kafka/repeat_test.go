package kafka

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/spf13/viper"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
	"go.uber.org/zap"

	"github.com/warrenlag/warren/evaluator"
	"github.com/warrenlag/warren/internal/config"
	"github.com/warrenlag/warren/protocol"
	"github.com/warrenlag/warren/storage"
)

// pipeline is an admin source feeding a started storage, with an evaluator
// on it, all on one injected clock.
type pipeline struct {
	app *protocol.ApplicationContext
	sc  *storage.Coordinator
	src *AdminSource
}

// The forms a pipeline's source sends unchanged offsets in.
const (
	oneByOne = iota // every offset a StorageSetConsumerOffset
	asRuns          // runs as StorageSetConsumerRepeat
	foreign         // runs, to a storage that does not know the request
)

func newPipeline(t *testing.T, clock, srcClock func() time.Time, form int) *pipeline {
	t.Helper()
	v := viper.New()
	v.Set("cluster.local.class-name", "kafka")
	v.Set("storage.default.class-name", "inmemory")
	v.Set("storage.default.min-distance", 45)
	v.Set("storage.default.expire-group", 300)
	v.Set("storage.default.workers", 3)
	v.Set("evaluator.default.class-name", "caching")
	v.Set("evaluator.default.expire-cache", 0)
	app := &protocol.ApplicationContext{Logger: zap.NewNop(), Viper: v, Clock: clock,
		StorageChannel: make(chan *protocol.StorageRequest), EvaluatorChannel: make(chan *protocol.EvaluatorRequest)}
	sc := &storage.Coordinator{App: app}
	sc.Configure()
	if err := sc.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sc.Stop() })
	ec := &evaluator.Coordinator{App: app}
	ec.Configure()
	if err := ec.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ec.Stop() })
	cfg := config.Consumer{Name: "local", Cluster: "local", Servers: []string{"127.0.0.1:1"}, Profile: &config.ClientProfile{}}
	out := app.StorageChannel
	if form == foreign {
		// Like any storage that does not know a request type, it closes the
		// Reply and drops the request.
		out = make(chan *protocol.StorageRequest)
		done := make(chan struct{})
		go func() {
			defer close(done)
			for r := range out {
				if r.RequestType == protocol.StorageSetConsumerRepeat {
					close(r.Reply)
					continue
				}
				app.StorageChannel <- r
			}
		}()
		t.Cleanup(func() {
			close(out)
			<-done
		})
	}
	src, err := NewAdminSource(cfg, time.Minute, out, zap.NewNop())
	if err != nil {
		t.Fatal(err)
	}
	src.now = srcClock
	src.noRepeat = form == oneByOne
	return &pipeline{app: app, sc: sc, src: src}
}

// polledPart is one partition of an OffsetFetch answer; absent partitions are
// left out of the answer.
type polledPart struct {
	offset int64
	err    int16
	absent bool
}

// polled is what one poll reads of a group.
type polled struct {
	name      string
	unlisted  bool // Kafka no longer lists it
	members   int  // -1: DescribeGroups failed for it
	unfetched bool // its OffsetFetch failed
	topics    map[string][]polledPart
}

// repeatScenario is poll i of the differential test: the broker offsets by
// topic and what the groups look like.
func repeatScenario(i int) (brokers map[string][]int64, groups []polled) {
	na := 4
	if i >= 5 {
		na = 6 // topic a grows
	}
	brokers = map[string][]int64{"a": make([]int64, na), "b": {500, 500}}
	for p := range na {
		brokers["a"][p] = 1000 + 100*int64(i) + int64(p)
	}
	all := func(n int, off func(p int) int64) []polledPart {
		out := make([]polledPart, n)
		for p := range out {
			out[p] = polledPart{offset: off(p)}
		}
		return out
	}
	constant := func(v int64) func(int) int64 { return func(int) int64 { return v } }
	moving := polled{name: "moving", members: 1, unfetched: i == 6, topics: map[string][]polledPart{
		"a": all(na, func(p int) int64 { return 900 + 100*int64(i) + int64(p) }),
		"b": all(2, constant(500))}}
	mixed := polled{name: "mixed", members: 2, topics: map[string][]polledPart{
		"a": all(na, func(p int) int64 {
			if p == 0 {
				return 950 + 50*int64(i)
			}
			return 600
		})}}
	if i >= 10 {
		// Changed in the poll whose commits all expire: storage keeps the old
		// offset, and the next poll must not repeat it.
		mixed.topics["a"][1].offset = 640
	}
	switch i {
	case 4:
		mixed.topics["a"][2].err = kerr.UnstableOffsetCommit.Code
	case 6:
		mixed.topics["a"][2].absent = true
	case 8, 9:
		mixed.topics["a"][3].offset = -1 // Kafka's "no offset"
	}
	flap := polled{name: "flap", members: 1, topics: map[string][]polledPart{"a": all(4, constant(620))}}
	if i == 3 || i == 4 {
		flap.members = 0
	}
	if i >= 4 {
		flap.topics["a"][1].offset = 630
	}
	groups = []polled{
		moving,
		mixed,
		flap,
		{name: "stalled", members: 1, topics: map[string][]polledPart{"a": all(na, constant(700))}},
		{name: "caughtup", members: 1, topics: map[string][]polledPart{"b": all(2, constant(500))}},
		{name: "stopped", members: 0, topics: map[string][]polledPart{"a": all(4, constant(800))}},
		{name: "unknown", members: -1, topics: map[string][]polledPart{"a": all(na, constant(610)), "b": all(2, constant(400))}},
		{name: "deleted", members: 1, unlisted: i == 7 || i == 8, topics: map[string][]polledPart{"a": all(na, constant(650))}},
	}
	return brokers, groups
}

// poll gives the source what Kafka answers in a poll of groups.
func (pl *pipeline) poll(t *testing.T, groups []polled) {
	t.Helper()
	listed := kadm.ListedGroups{}
	described := kadm.DescribedGroups{}
	fetched := map[string][]kmsg.OffsetFetchResponseGroupTopic{}
	var names []string
	for _, g := range groups {
		if g.unlisted {
			continue
		}
		listed[g.name] = kadm.ListedGroup{Group: g.name}
		names = append(names, g.name)
		if g.members >= 0 {
			described[g.name] = kadm.DescribedGroup{Group: g.name, ProtocolType: "consumer",
				Members: make([]kadm.DescribedGroupMember, g.members)}
		}
		if g.unfetched {
			continue
		}
		var topics []kmsg.OffsetFetchResponseGroupTopic
		for _, name := range slices.Sorted(func(yield func(string) bool) {
			for k := range g.topics {
				if !yield(k) {
					return
				}
			}
		}) {
			rt := kmsg.NewOffsetFetchResponseGroupTopic()
			rt.Topic = name
			for p, pp := range g.topics[name] {
				if pp.absent {
					continue
				}
				rp := kmsg.NewOffsetFetchResponseGroupTopicPartition()
				rp.Partition, rp.Offset, rp.ErrorCode = int32(p), pp.offset, pp.err
				rt.Partitions = append(rt.Partitions, rp)
			}
			topics = append(topics, rt)
		}
		fetched[g.name] = topics
	}
	sort.Strings(names)
	ctx := context.Background()
	if !pl.src.forget(ctx, listed) || !pl.src.send(ctx, names, described, fetched) {
		t.Fatal("poll interrupted")
	}
}

func (pl *pipeline) fetch(r *protocol.StorageRequest) (any, bool) {
	r.Cluster = "local"
	r.Reply = make(chan any, 1)
	pl.app.StorageChannel <- r
	v, ok := <-r.Reply
	return v, ok
}

func (pl *pipeline) status(group string) *protocol.ConsumerGroupStatus {
	reply := make(chan *protocol.ConsumerGroupStatus, 1)
	pl.app.EvaluatorChannel <- &protocol.EvaluatorRequest{Reply: reply, Cluster: "local", Group: group, ShowAll: true}
	return <-reply
}

// TestAdminSourceRepeatsDifferential: an admin source that sends runs of
// unchanged offsets as StorageSetConsumerRepeat and one that sends every
// offset as StorageSetConsumerOffset, polling the same groups over 14 polls,
// leave storage with the same windows in every fetch form, the same drops and
// the same group list, and the evaluator with the same statuses. The groups
// move, stall (live, unchanged, lag > 0), are caught up, are stopped (no
// members), have unknown members; partitions are added, fail their offset
// fetch or are absent from it for a poll, show Kafka's "no offset"; a group's
// whole offset fetch fails for a poll, a group goes from live to no members and
// back, a group is deleted in Kafka and comes back; storage merges commits
// closer than min-distance (polls alternate 30 and 60 s against 45 s), and in
// one poll the source's clock is behind by more than expire-group, so every
// commit of that poll is dropped as expired (one of them a changed offset,
// unchanged in the next poll), and the stopped group expires.
func TestAdminSourceRepeatsDifferential(t *testing.T) {
	start := time.UnixMilli(1_800_000_000_000)
	now, skew := start, time.Duration(0)
	clock := func() time.Time { return now }
	srcClock := func() time.Time { return now.Add(-skew) }
	one := newPipeline(t, clock, srcClock, oneByOne)
	run := newPipeline(t, clock, srcClock, asRuns)
	other := newPipeline(t, clock, srcClock, foreign)
	seen := map[protocol.StatusConstant]int{}
	for i := range 14 {
		now = now.Add(time.Duration(30*(1+i%2)) * time.Second)
		skew = 0
		if i == 10 {
			skew = 400 * time.Second
		}
		brokers, groups := repeatScenario(i)
		for _, pl := range []*pipeline{one, run, other} {
			for _, topic := range []string{"a", "b"} {
				for p, off := range brokers[topic] {
					pl.app.StorageChannel <- &protocol.StorageRequest{RequestType: protocol.StorageSetBrokerOffset,
						Cluster: "local", Topic: topic, Partition: int32(p), TopicPartitionCount: int32(len(brokers[topic])),
						Offset: off, Timestamp: now.UnixMilli()}
				}
			}
			pl.poll(t, groups)
		}
		// The group lists first: a fetch purges an expired group.
		want := groupNames(one)
		for _, pl := range []*pipeline{run, other} {
			if got := groupNames(pl); !slices.Equal(got, want) {
				t.Fatalf("poll %d: groups %v, want %v", i, got, want)
			}
		}
		for _, pl := range []*pipeline{run, other} {
			same(t, i, groups, one, pl, seen)
		}
	}
	if !other.src.noRepeat {
		t.Error("the source did not notice that storage does not know StorageSetConsumerRepeat")
	}
	reqOther, dropsOther := other.sc.Stats()
	if reqOther["StorageSetConsumerRepeat"] != 0 || !reflect.DeepEqual(dropsOther, func() map[string]uint64 { _, d := one.sc.Stats(); return d }()) {
		t.Errorf("foreign storage: %v requests, %v drops", reqOther, dropsOther)
	}
	reqOne, dropsOne := one.sc.Stats()
	reqRun, dropsRun := run.sc.Stats()
	if !reflect.DeepEqual(dropsOne, dropsRun) {
		t.Errorf("drops differ: one by one %v, as runs %v", dropsOne, dropsRun)
	}
	if dropsOne["expired"] == 0 {
		t.Errorf("no commit expired: %v", dropsOne)
	}
	for _, st := range []protocol.StatusConstant{protocol.StatusOK, protocol.StatusWarning, protocol.StatusStop,
		protocol.StatusStall, protocol.StatusNotFound, protocol.StatusError} {
		if seen[st] == 0 {
			t.Errorf("no %v seen: the scenario does not cover it (%v)", st, seen)
		}
	}
	commits := reqOne["StorageSetConsumerOffset"]
	if reqRun["StorageSetConsumerRepeat"] == 0 || reqRun["StorageSetConsumerOffset"]*2 > commits {
		t.Errorf("as runs: %v; one by one: %v", reqRun, reqOne)
	}
	t.Logf("one by one: %d commits; as runs: %d commits and %d runs", commits,
		reqRun["StorageSetConsumerOffset"], reqRun["StorageSetConsumerRepeat"])
}

func groupNames(pl *pipeline) []string {
	v, _ := pl.fetch(&protocol.StorageRequest{RequestType: protocol.StorageFetchConsumers})
	return slices.Sorted(slices.Values(v.([]string)))
}

// same fails the test unless pipelines a and b hold the same of every group,
// in storage and in the evaluator; it counts the statuses seen.
func same(t *testing.T, i int, groups []polled, a, b *pipeline, seen map[protocol.StatusConstant]int) {
	t.Helper()
	for _, g := range groups {
		what := fmt.Sprintf("poll %d, group %s", i, g.name)
		va, oka := a.fetch(&protocol.StorageRequest{RequestType: protocol.StorageFetchConsumer, Group: g.name})
		vb, okb := b.fetch(&protocol.StorageRequest{RequestType: protocol.StorageFetchConsumer, Group: g.name})
		if oka != okb || !reflect.DeepEqual(va, vb) {
			t.Fatalf("%s: storage differs:\n one by one %s\n as runs    %s", what, show(va), show(vb))
		}
		va, oka = a.fetch(&protocol.StorageRequest{RequestType: protocol.StorageFetchConsumer, Group: g.name, Topic: protocol.WindowsForm})
		vb, okb = b.fetch(&protocol.StorageRequest{RequestType: protocol.StorageFetchConsumer, Group: g.name, Topic: protocol.WindowsForm})
		if oka != okb || !reflect.DeepEqual(va, vb) {
			t.Fatalf("%s: windows differ:\n one by one %+v\n as runs    %+v", what, va, vb)
		}
		sa, sb := a.status(g.name), b.status(g.name)
		if !reflect.DeepEqual(sa, sb) {
			t.Fatalf("%s: statuses differ:\n one by one %+v\n as runs    %+v", what, sa, sb)
		}
		for _, p := range sa.Partitions {
			seen[p.Status]++
		}
		seen[sa.Status]++
	}
}

func show(v any) string {
	topics, _ := v.(protocol.ConsumerTopics)
	out := ""
	for _, name := range slices.Sorted(func(yield func(string) bool) {
		for k := range topics {
			if !yield(k) {
				return
			}
		}
	}) {
		out += name + ":"
		for p, cp := range topics[name] {
			out += fmt.Sprintf(" %d[", p)
			for _, o := range cp.Offsets {
				if o == nil {
					out += " -"
					continue
				}
				lag := "nil"
				if o.Lag != nil {
					lag = fmt.Sprint(o.Lag.Value)
				}
				out += fmt.Sprintf(" %d@%d/%d/%s", o.Offset, o.Order, o.Timestamp, lag)
			}
			out += " ]"
		}
		out += "\n"
	}
	return out
}

// TestOrdersRaiseRuns: with offsets-source auto, a run's previous Order is
// raised as the commits of the previous poll were, so that it still names them.
func TestOrdersRaiseRuns(t *testing.T) {
	o := &orders{}
	o.base.Store(1000)
	ch := make(chan *protocol.StorageRequest, 2)
	out := sender{ch: ch, orders: o}
	ctx := context.Background()
	out.send(ctx, &protocol.StorageRequest{RequestType: protocol.StorageSetConsumerOffset, Order: 5})
	out.send(ctx, &protocol.StorageRequest{RequestType: protocol.StorageSetConsumerRepeat, Offset: 5, Order: 6})
	if c, r := <-ch, <-ch; c.Order != 1005 || r.Offset != c.Order || r.Order != 1006 || o.max.Load() != 1006 {
		t.Errorf("commit Order %d; run Offset %d, Order %d; max %d", c.Order, r.Offset, r.Order, o.max.Load())
	}
}
