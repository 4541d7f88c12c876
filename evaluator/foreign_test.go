package evaluator

import (
	"sync"
	"testing"
	"time"

	"github.com/spf13/viper"
	"go.uber.org/zap"

	"github.com/warrenlag/warren/protocol"
)

// burrowStorage answers on an application's storage channel the way Burrow's
// storage does, from fixed replies: a ConsumerTopics for a known group, a
// closed Reply otherwise. It records the requests it was sent.
type burrowStorage struct {
	mu       sync.Mutex
	replies  map[string]protocol.ConsumerTopics
	requests []protocol.StorageRequest
}

func (b *burrowStorage) serve(ch chan *protocol.StorageRequest, quit chan struct{}) {
	for {
		select {
		case <-quit:
			return
		case r := <-ch:
			b.mu.Lock()
			b.requests = append(b.requests, *r)
			topics, ok := b.replies[r.Group]
			b.mu.Unlock()
			if r.RequestType == protocol.StorageFetchConsumer && ok {
				r.Reply <- topics
			}
			close(r.Reply)
		}
	}
}

// startWithBurrowStorage starts the evaluator (cache off) over a burrowStorage
// holding replies, at now.
func startWithBurrowStorage(t *testing.T, replies map[string]protocol.ConsumerTopics, nowMs int64) (*protocol.ApplicationContext, *burrowStorage) {
	t.Helper()
	v := viper.New()
	v.Set("evaluator.e.class-name", "caching")
	v.Set("evaluator.e.expire-cache", 0)
	app := &protocol.ApplicationContext{Logger: zap.NewNop(), Viper: v,
		StorageChannel:   make(chan *protocol.StorageRequest),
		EvaluatorChannel: make(chan *protocol.EvaluatorRequest),
		Clock:            func() time.Time { return time.UnixMilli(nowMs) }}
	bs := &burrowStorage{replies: replies}
	quit := make(chan struct{})
	go bs.serve(app.StorageChannel, quit)
	ec := &Coordinator{App: app}
	ec.Configure()
	if err := ec.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ec.Stop(); close(quit) })
	return app, bs
}

func askStorage(app *protocol.ApplicationContext, group string) *protocol.ConsumerGroupStatus {
	reply := make(chan *protocol.ConsumerGroupStatus, 1)
	app.EvaluatorChannel <- &protocol.EvaluatorRequest{Reply: reply, Cluster: "c", Group: group, ShowAll: true}
	return <-reply
}

// TestBurrowStorage: a storage that knows nothing of Warren's compact form is
// asked with a StorageFetchConsumer, as the spec says, and its ConsumerTopics
// are judged by the same rules, whatever their shape: here E6, whose broker
// history only a storage like this can give, and the replies that the spec's
// guarantees name.
func TestBurrowStorage(t *testing.T) {
	e6 := &protocol.ConsumerPartition{Offsets: make([]*protocol.ConsumerOffset, 10), BrokerOffsets: []int64{5250},
		CurrentLag: 250, Owner: "/10.0.0.1", ClientID: "client-1"}
	for i := int64(1); i <= 5; i++ {
		e6.Offsets[4+i] = &protocol.ConsumerOffset{Offset: 1000 * i, Order: i, Timestamp: 100_000 * i,
			ObservedTimestamp: 100_000*i + 5, Lag: &protocol.Lag{Value: uint64(50 * i)}}
	}
	stall := &protocol.ConsumerPartition{CurrentLag: 7, Offsets: []*protocol.ConsumerOffset{
		{Offset: 10, Timestamp: 890_000}, nil, {Offset: 10, Timestamp: 895_000, Lag: &protocol.Lag{Value: 7}}}}
	replies := map[string]protocol.ConsumerTopics{
		"e6": {"t": {e6}},
		"odd": {
			"b": {nil, {Offsets: make([]*protocol.ConsumerOffset, 10), CurrentLag: 3}, {}, stall},
			"a": {{BrokerOffsets: []int64{1, 2}}},
		},
		"empty": {},
	}
	for _, tt := range []struct {
		nowMs int64
		want  protocol.StatusConstant
	}{
		{900_000, protocol.StatusWarning}, // 400 s since the last commit = the 400 s span: not greater
		{901_000, protocol.StatusStop},
	} {
		app, bs := startWithBurrowStorage(t, replies, tt.nowMs)
		st := askStorage(app, "e6")
		if len(st.Partitions) != 1 {
			t.Fatalf("now %d: %+v", tt.nowMs, st)
		}
		p := st.Partitions[0]
		if p.Status != tt.want || p.Complete != 0.5 || p.Start.Offset != 1000 || p.End.Offset != 5000 ||
			p.End.Order != 5 || p.End.ObservedTimestamp != 500_005 || p.End.Lag.Value != 250 || p.Owner != "/10.0.0.1" ||
			p.ClientID != "client-1" || p.Why == "" || p.LagSeconds != nil {
			t.Errorf("now %d: %+v, want %v with no lag in time", tt.nowMs, p, tt.want)
		}
		if p.End == e6.Offsets[9] || p.End.Lag == e6.Offsets[9].Lag {
			t.Error("the status shares a commit with storage's reply")
		}
		bs.mu.Lock()
		if r := bs.requests[0]; r.RequestType != protocol.StorageFetchConsumer || r.Cluster != "c" || r.Group != "e6" {
			t.Errorf("storage was asked %+v", r)
		}
		bs.mu.Unlock()
	}

	app, _ := startWithBurrowStorage(t, replies, 900_000)
	st := askStorage(app, "odd")
	type want struct {
		topic     string
		id        int32
		status    protocol.StatusConstant
		complete  float32
		lag       uint64
		withStart bool
	}
	wants := []want{
		{"a", 0, protocol.StatusOK, 0, 0, false},        // broker offsets, no commit
		{"b", 0, protocol.StatusOK, 0, 0, false},        // a nil partition
		{"b", 1, protocol.StatusOK, 0, 3, false},        // a window of nil slots only
		{"b", 2, protocol.StatusOK, 0, 0, false},        // nothing at all
		{"b", 3, protocol.StatusStall, 2. / 3, 7, true}, // a nil slot between commits is skipped
	}
	if st.Status != protocol.StatusError || st.TotalPartitions != len(wants) || len(st.Partitions) != len(wants) ||
		st.TotalLag != 10 || st.Maxlag == nil || st.Maxlag.Topic != "b" || st.Maxlag.Partition != 3 {
		t.Fatalf("group %+v", st)
	}
	for i, w := range wants {
		p := st.Partitions[i]
		if p.Topic != w.topic || p.Partition != w.id || p.Status != w.status || p.Complete != w.complete ||
			p.CurrentLag != w.lag || (p.Start != nil) != w.withStart {
			t.Errorf("partition %d: %+v, want %+v", i, p, w)
		}
	}

	if st := askStorage(app, "empty"); st.Status != protocol.StatusOK || st.TotalPartitions != 0 || st.Partitions == nil {
		t.Errorf("a group with no topics: %+v", st)
	}
	if st := askStorage(app, "unknown"); st.Status != protocol.StatusNotFound || st.Complete != 1 {
		t.Errorf("an unknown group: %+v", st)
	}
}
