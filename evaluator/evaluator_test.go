package evaluator

import (
	"encoding/json"
	"fmt"
	"math"
	"sync"
	"testing"
	"time"

	"github.com/spf13/viper"
	"go.uber.org/zap"

	"github.com/warrenlag/warren/protocol"
	"github.com/warrenlag/warren/storage"
)

// base is the tests' "now": a whole second.
const base = int64(1_800_000_000_000)

type harness struct {
	t     *testing.T
	mu    sync.Mutex
	nowMs int64
	app   *protocol.ApplicationContext
	order int64
}

// newHarness starts storage (one cluster "c", intervals 10) and the evaluator
// with the given keys, on a settable clock.
func newHarness(t *testing.T, keys map[string]any) *harness {
	t.Helper()
	h := &harness{t: t, nowMs: base}
	v := viper.New()
	v.Set("cluster.c.class-name", "kafka")
	for k, val := range keys {
		v.Set(k, val)
	}
	h.app = &protocol.ApplicationContext{Logger: zap.NewNop(), Viper: v,
		StorageChannel:   make(chan *protocol.StorageRequest),
		EvaluatorChannel: make(chan *protocol.EvaluatorRequest),
		Clock: func() time.Time {
			h.mu.Lock()
			defer h.mu.Unlock()
			return time.UnixMilli(h.nowMs)
		}}
	sc := &storage.Coordinator{App: h.app}
	sc.Configure()
	if err := sc.Start(); err != nil {
		t.Fatal(err)
	}
	ec := &Coordinator{App: h.app}
	ec.Configure()
	if err := ec.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ec.Stop(); sc.Stop() })
	return h
}

func (h *harness) setNow(ms int64) {
	h.mu.Lock()
	h.nowMs = ms
	h.mu.Unlock()
}

// broker sets the broker offset of topic/partition (count partitions).
func (h *harness) broker(topic string, p, count int32, offset int64) {
	h.app.StorageChannel <- &protocol.StorageRequest{RequestType: protocol.StorageSetBrokerOffset, Cluster: "c",
		Topic: topic, Partition: p, TopicPartitionCount: count, Offset: offset, Timestamp: h.nowMs}
}

// commit commits offset for group on topic/partition, stamped at ts, with the
// next Order unless order is given.
func (h *harness) commit(group, topic string, p int32, offset, ts int64, order ...int64) {
	h.order++
	o := h.order
	if len(order) > 0 {
		o = order[0]
	}
	h.app.StorageChannel <- &protocol.StorageRequest{RequestType: protocol.StorageSetConsumerOffset, Cluster: "c",
		Group: group, Topic: topic, Partition: p, Offset: offset, Order: o, Timestamp: ts}
}

func (h *harness) eval(group string, showAll bool) *protocol.ConsumerGroupStatus {
	reply := make(chan *protocol.ConsumerGroupStatus)
	h.app.EvaluatorChannel <- &protocol.EvaluatorRequest{Reply: reply, Cluster: "c", Group: group, ShowAll: showAll}
	return <-reply
}

// ago is a timestamp s seconds before base.
func ago(s float64) int64 { return base - int64(s*1000) }

// rounds runs the usual "Round i: B b(i), C c(i) @ -t(i)" for i = 0..n-1.
func (h *harness) rounds(n int, b, c func(i int64) int64, secondsAgo func(i int64) float64) {
	for i := int64(0); i < int64(n); i++ {
		h.broker("t", 0, 1, b(i))
		h.commit("g", "t", 0, c(i), ago(secondsAgo(i)))
	}
}

func e1Times(i int64) float64 { return float64(95 - 10*i) }

func TestWorkedExamples(t *testing.T) {
	type want struct {
		status, group protocol.StatusConstant
		lag           uint64
		complete      float32
	}
	tests := []struct {
		name string
		keys map[string]any
		run  func(h *harness)
		want want
	}{
		{"E1 working down a backlog", nil, func(h *harness) {
			h.rounds(10, func(i int64) int64 { return 5000 + 100*i }, func(i int64) int64 { return 1000 + 500*i }, e1Times)
		}, want{protocol.StatusOK, protocol.StatusOK, 400, 1}},
		{"E2 falling behind", nil, func(h *harness) {
			h.rounds(10, func(i int64) int64 { return 2000 + 300*i }, func(i int64) int64 { return 1000 + 200*i }, e1Times)
		}, want{protocol.StatusWarning, protocol.StatusWarning, 1900, 1}},
		{"E3 constant lag, allowed-lag 0", nil, func(h *harness) {
			h.rounds(10, func(i int64) int64 { return 1100 + 100*i }, func(i int64) int64 { return 1000 + 100*i }, e1Times)
		}, want{protocol.StatusWarning, protocol.StatusWarning, 100, 1}},
		{"E3 allowed-lag 100: R1", map[string]any{"evaluator.e.class-name": "caching", "evaluator.e.allowed-lag": 100}, func(h *harness) {
			h.rounds(10, func(i int64) int64 { return 1100 + 100*i }, func(i int64) int64 { return 1000 + 100*i }, e1Times)
		}, want{protocol.StatusOK, protocol.StatusOK, 100, 1}},
		{"E3 allowed-lag 100, broker moved on: the gate", map[string]any{"evaluator.e.class-name": "caching", "evaluator.e.allowed-lag": 100}, func(h *harness) {
			h.rounds(10, func(i int64) int64 { return 1100 + 100*i }, func(i int64) int64 { return 1000 + 100*i }, e1Times)
			h.broker("t", 0, 1, 2001)
		}, want{protocol.StatusOK, protocol.StatusOK, 101, 1}},
		{"E3 allowed-lag 100, lags 101", map[string]any{"evaluator.e.class-name": "caching", "evaluator.e.allowed-lag": 100}, func(h *harness) {
			h.rounds(10, func(i int64) int64 { return 1101 + 100*i }, func(i int64) int64 { return 1000 + 100*i }, e1Times)
		}, want{protocol.StatusWarning, protocol.StatusWarning, 101, 1}},
		{"E3 allowed-lag 100, old commits: R1 first", map[string]any{"evaluator.e.class-name": "caching", "evaluator.e.allowed-lag": 100}, func(h *harness) {
			h.rounds(5, func(int64) int64 { return 1100 }, func(i int64) int64 { return 600 + 100*i }, func(i int64) float64 { return float64(100 - 10*i) })
		}, want{protocol.StatusOK, protocol.StatusOK, 100, 0.5}},
		{"E4 stalled", nil, func(h *harness) {
			h.rounds(10, func(i int64) int64 { return 1000 + 100*i }, func(int64) int64 { return 500 }, e1Times)
		}, want{protocol.StatusStall, protocol.StatusError, 1400, 1}},
		{"E5 stopped with half a window", nil, func(h *harness) {
			h.rounds(5, func(int64) int64 { return 4321 }, func(i int64) int64 { return 1000 + 100*i }, func(i int64) float64 { return float64(100 - 10*i) })
		}, want{protocol.StatusStop, protocol.StatusError, 2921, 0.5}},
		{"E5 recent commits", nil, func(h *harness) {
			h.rounds(5, func(int64) int64 { return 4321 }, func(i int64) int64 { return 1000 + 100*i }, func(i int64) float64 { return float64(60 - 10*i) })
		}, want{protocol.StatusOK, protocol.StatusOK, 2921, 0.5}},
		{"E5 minimum-complete 0.6: not judged", map[string]any{"evaluator.e.class-name": "caching", "evaluator.e.minimum-complete": 0.6}, func(h *harness) {
			h.rounds(5, func(int64) int64 { return 4321 }, func(i int64) int64 { return 1000 + 100*i }, func(i int64) float64 { return float64(100 - 10*i) })
		}, want{protocol.StatusOK, protocol.StatusOK, 2921, 0.5}},
		{"E5 minimum-complete 0.5: judged", map[string]any{"evaluator.e.class-name": "caching", "evaluator.e.minimum-complete": 0.5}, func(h *harness) {
			h.rounds(5, func(int64) int64 { return 4321 }, func(i int64) int64 { return 1000 + 100*i }, func(i int64) float64 { return float64(100 - 10*i) })
		}, want{protocol.StatusStop, protocol.StatusError, 2921, 0.5}},
		{"E7 caught up recently: the hold-off", nil, func(h *harness) {
			h.rounds(5, func(int64) int64 { return 1000 }, func(i int64) int64 { return 600 + 100*i }, func(i int64) float64 { return float64(100 - 10*i) })
			h.broker("t", 0, 1, 1050)
		}, want{protocol.StatusOK, protocol.StatusOK, 50, 0.5}},
		{"E7 the hold-off expired", nil, func(h *harness) {
			h.rounds(5, func(int64) int64 { return 1000 }, func(i int64) int64 { return 600 + 100*i }, func(i int64) float64 { return float64(100 - 10*i) })
			for b := int64(1050); b <= 1140; b += 10 {
				h.broker("t", 0, 1, b)
			}
		}, want{protocol.StatusStop, protocol.StatusError, 140, 0.5}},
		{"E7 broker still at the last commit", nil, func(h *harness) {
			h.rounds(5, func(int64) int64 { return 1000 }, func(i int64) int64 { return 600 + 100*i }, func(i int64) float64 { return float64(100 - 10*i) })
		}, want{protocol.StatusOK, protocol.StatusOK, 0, 0.5}},
		{"E8 rewind", nil, func(h *harness) {
			for i, c := range []int64{1000, 2000, 3000, 2000, 2500} {
				h.broker("t", 0, 1, 5000)
				h.commit("g", "t", 0, c, ago(float64(50-10*i)))
			}
		}, want{protocol.StatusRewind, protocol.StatusError, 2500, 0.5}},
		{"E8 rewind recovered", nil, func(h *harness) {
			for i, c := range []int64{1000, 2000, 3000, 2000, 3000} {
				h.broker("t", 0, 1, 5000)
				h.commit("g", "t", 0, c, ago(float64(50-10*i)))
			}
		}, want{protocol.StatusOK, protocol.StatusOK, 2000, 0.5}},
		{"E8 old rewind: STOP first", nil, func(h *harness) {
			for i, c := range []int64{1000, 2000, 3000, 2000, 2500} {
				h.broker("t", 0, 1, 5000)
				h.commit("g", "t", 0, c, ago(float64(150-10*i)))
			}
		}, want{protocol.StatusStop, protocol.StatusError, 2500, 0.5}},
		{"E8 only the first drop counts", nil, func(h *harness) {
			for i, c := range []int64{1000, 2000, 1500, 2500, 3000, 2800} {
				h.broker("t", 0, 1, 5000)
				h.commit("g", "t", 0, c, ago(float64(60-10*i)))
			}
		}, want{protocol.StatusOK, protocol.StatusOK, 2200, 0.6}},
		{"E9 a single old commit", nil, func(h *harness) {
			h.broker("t", 0, 1, 500)
			h.commit("g", "t", 0, 200, ago(30))
		}, want{protocol.StatusStop, protocol.StatusError, 300, 0.1}},
		{"E9 a single commit from the future", nil, func(h *harness) {
			h.broker("t", 0, 1, 500)
			h.commit("g", "t", 0, 200, ago(-30))
		}, want{protocol.StatusStall, protocol.StatusError, 300, 0.1}},
		{"E10 a late commit with an unknown lag", nil, func(h *harness) {
			h.broker("t", 0, 1, 2000)
			h.commit("g", "t", 0, 1000, ago(50), 1)
			h.broker("t", 0, 1, 2200)
			h.commit("g", "t", 0, 1100, ago(40), 2)
			h.broker("t", 0, 1, 2500)
			h.commit("g", "t", 0, 1300, ago(20), 4)
			h.broker("t", 0, 1, 2700)
			h.commit("g", "t", 0, 1400, ago(10), 5)
			h.commit("g", "t", 0, 1200, ago(30), 3)
		}, want{protocol.StatusWarning, protocol.StatusWarning, 1300, 0.5}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, tt.keys)
			tt.run(h)
			st := h.eval("g", true)
			if len(st.Partitions) != 1 {
				t.Fatalf("partitions %+v", st.Partitions)
			}
			p := st.Partitions[0]
			if p.Status != tt.want.status || st.Status != tt.want.group || p.CurrentLag != tt.want.lag || p.Complete != tt.want.complete {
				t.Errorf("partition %v (group %v), lag %d, complete %v; want %v (%v), %d, %v",
					p.Status, st.Status, p.CurrentLag, p.Complete, tt.want.status, tt.want.group, tt.want.lag, tt.want.complete)
			}
			if st.TotalPartitions != 1 || st.TotalLag != tt.want.lag || st.Maxlag == nil {
				t.Errorf("group %+v", st)
			}
			wantGroupComplete := float32(0)
			if tt.want.complete == 1 {
				wantGroupComplete = 1
			}
			if st.Complete != wantGroupComplete {
				t.Errorf("group complete %v, want %v", st.Complete, wantGroupComplete)
			}
		})
	}
}

// TestE6StopBoundary is E6, on the rules alone: its broker history [5250] with
// lags 50..250 is given, not something storage would build.
func TestE6StopBoundary(t *testing.T) {
	p := testPartition{lag: 250, readings: []protocol.BrokerReading{{Offset: 5250, Timestamp: 500_000}}}
	for i := int64(1); i <= 5; i++ {
		p.commits = append(p.commits, protocol.WindowCommit{Offset: 1000 * i, Timestamp: 100_000 * i, Lag: uint64(50 * i), LagKnown: true})
	}
	w := windowsOf(10, testTopic{"t", []testPartition{p}})
	for _, tt := range []struct {
		nowMs int64
		want  protocol.StatusConstant
	}{
		{900_000, protocol.StatusWarning}, // 400 s since the last commit = the 400 s span: not greater
		{901_000, protocol.StatusStop},
	} {
		st := (rules{}).evaluate("c", "g", w, tt.nowMs)
		if ps := st.Partitions[0]; ps.Status != tt.want || ps.Why == "" || ps.Complete != 0.5 || ps.End.Offset != 5000 {
			t.Errorf("now %d: %+v, want %v", tt.nowMs, ps, tt.want)
		}
	}
	// The module truncates now to the second: at 900.999 s it is still 900 s.
	h := newHarness(t, nil)
	h.setNow(900_999)
	if ms := h.app.Now().Unix() * 1000; ms != 900_000 {
		t.Errorf("truncated now %d", ms)
	}
}

// TestE1Details checks E1's start, end and ShowAll.
func TestE1Details(t *testing.T) {
	h := newHarness(t, nil)
	h.rounds(10, func(i int64) int64 { return 5000 + 100*i }, func(i int64) int64 { return 1000 + 500*i }, e1Times)
	all, some := h.eval("g", true), h.eval("g", false)
	p := all.Partitions[0]
	if p.Start.Offset != 1000 || p.End.Offset != 5500 || p.Start.Lag.Value != 4000 {
		t.Errorf("start %+v end %+v", p.Start, p.End)
	}
	if len(some.Partitions) != 0 || some.Maxlag == nil || some.Maxlag.CurrentLag != 400 || some.TotalPartitions != 1 {
		t.Errorf("ShowAll false: %+v", some)
	}
}

// TestE11TwoTopics is E11: four partitions over two topics.
func TestE11TwoTopics(t *testing.T) {
	h := newHarness(t, nil)
	for i := int64(0); i < 10; i++ {
		h.broker("a", 0, 3, 5000+100*i)
		h.commit("g", "a", 0, 1000+500*i, ago(e1Times(i)))
		h.broker("a", 1, 3, 2000+300*i)
		h.commit("g", "a", 1, 1000+200*i, ago(e1Times(i)))
	}
	h.broker("a", 2, 3, 10)
	for i := int64(0); i < 5; i++ {
		h.broker("b", 0, 1, 4321)
		h.commit("g", "b", 0, 1000+100*i, ago(float64(100-10*i)))
	}
	h.app.StorageChannel <- &protocol.StorageRequest{RequestType: protocol.StorageSetConsumerOwner, Cluster: "c",
		Group: "g", Topic: "a", Partition: 0, Owner: "/10.1.2.3", ClientID: "client-A"}
	st := h.eval("g", true)
	got := ""
	for _, p := range st.Partitions {
		got += fmt.Sprintf("%s/%d %v %v %d %q; ", p.Topic, p.Partition, p.Status, p.Complete, p.CurrentLag, p.Owner)
	}
	want := `a/0 OK 1 400 "/10.1.2.3"; a/1 WARN 1 1900 ""; a/2 OK 0 0 ""; b/0 STOP 0.5 2921 ""; `
	if got != want {
		t.Errorf("partitions\n got %s\nwant %s", got, want)
	}
	if st.Status != protocol.StatusError || st.TotalPartitions != 4 || st.Complete != 0.5 || st.TotalLag != 5221 ||
		st.Maxlag.Topic != "b" {
		t.Errorf("group %v %d %v %d maxlag %s/%d", st.Status, st.TotalPartitions, st.Complete, st.TotalLag, st.Maxlag.Topic, st.Maxlag.Partition)
	}
	if some := h.eval("g", false); len(some.Partitions) != 2 {
		t.Errorf("ShowAll false lists %d partitions, want a/1 and b/0", len(some.Partitions))
	}
}

// TestE12NothingToJudge: unknown group and cluster, and a group whose topic was
// deleted.
func TestE12NothingToJudge(t *testing.T) {
	h := newHarness(t, nil)
	st := h.eval("nope", false)
	b, _ := json.Marshal(st)
	if string(b) != `{"cluster":"c","group":"nope","status":"NOTFOUND","complete":1,"partitions":[],"partition_count":0,"maxlag":null,"totallag":0}` {
		t.Errorf("not found: %s", b)
	}
	h.rounds(10, func(i int64) int64 { return 5000 + 100*i }, func(i int64) int64 { return 1000 + 500*i }, e1Times)
	h.app.StorageChannel <- &protocol.StorageRequest{RequestType: protocol.StorageSetDeleteTopic, Cluster: "c", Topic: "t"}
	st = h.eval("g", true)
	b, _ = json.Marshal(st)
	if string(b) != `{"cluster":"c","group":"g","status":"OK","complete":0,"partitions":[],"partition_count":0,"maxlag":null,"totallag":0}` {
		t.Errorf("group without topics: %s", b)
	}
}

// TestE13Cache is E13: a found result is served for expire-cache seconds, by
// both kinds of request, and replaced after.
func TestE13Cache(t *testing.T) {
	h := newHarness(t, map[string]any{"evaluator.e.class-name": "caching", "evaluator.e.expire-cache": 1})
	h.rounds(10, func(i int64) int64 { return 5000 + 100*i }, func(i int64) int64 { return 1000 + 500*i }, e1Times)
	if st := h.eval("g", true); st.Status != protocol.StatusOK || st.TotalLag != 400 {
		t.Fatalf("first: %v %d", st.Status, st.TotalLag)
	}
	h.broker("t", 0, 1, 6000)
	h.commit("g", "t", 0, 3000, ago(1))
	if st := h.eval("g", false); st.Status != protocol.StatusOK || st.TotalLag != 400 || st.Maxlag.CurrentLag != 400 {
		t.Errorf("within the second: %v %d", st.Status, st.TotalLag)
	}
	h.setNow(base + 1500)
	st := h.eval("g", true)
	if st.Status != protocol.StatusError || st.TotalLag != 3000 || st.Partitions[0].Status != protocol.StatusRewind ||
		st.Partitions[0].Start.Offset != 1500 {
		t.Errorf("after expiry: %v %d %+v", st.Status, st.TotalLag, st.Partitions[0])
	}
	// NOTFOUND is never cached: a group is seen on the first request after it appears.
	if st := h.eval("late", true); st.Status != protocol.StatusNotFound {
		t.Fatal(st.Status)
	}
	h.commit("late", "t", 0, 5000, base)
	if st := h.eval("late", true); st.Status == protocol.StatusNotFound {
		t.Error("NOTFOUND was cached")
	}
}

// TestRepliesAreIndependent: changing a reply changes neither the cache nor
// other replies.
func TestRepliesAreIndependent(t *testing.T) {
	h := newHarness(t, nil)
	h.rounds(10, func(i int64) int64 { return 5000 + 100*i }, func(i int64) int64 { return 1000 + 500*i }, e1Times)
	a := h.eval("g", true)
	a.Partitions[0].Status = protocol.StatusStop
	a.Partitions[0].Start.Offset = -1
	a.Maxlag.CurrentLag = 9
	b := h.eval("g", true)
	if b.Partitions[0].Status != protocol.StatusOK || b.Partitions[0].Start.Offset != 1000 || b.Maxlag.CurrentLag != 400 {
		t.Errorf("a change to a reply reached another: %+v", b.Partitions[0])
	}
}

// TestConcurrentRequests: many requesters at once under -race get consistent
// answers, and concurrent misses for one group share an evaluation.
func TestConcurrentRequests(t *testing.T) {
	for _, keys := range []map[string]any{nil, {"evaluator.e.class-name": "caching", "evaluator.e.expire-cache": 0}} {
		concurrentRequests(t, newHarness(t, keys))
	}
}

func concurrentRequests(t *testing.T, h *harness) {
	h.rounds(10, func(i int64) int64 { return 5000 + 100*i }, func(i int64) int64 { return 1000 + 500*i }, e1Times)
	var wg sync.WaitGroup
	for i := range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			group := "g"
			if i%4 == 0 {
				group = "nope"
			}
			st := h.eval(group, i%2 == 0)
			if group == "g" && (st.Status != protocol.StatusOK || st.TotalLag != 400) {
				t.Errorf("g: %v %d", st.Status, st.TotalLag)
			}
			if group == "g" && len(st.Partitions) > 0 {
				st.Partitions[0].Status = protocol.StatusStop // each reply is its caller's to change
				st.Partitions[0].Start.Offset = -1
			}
			if group == "nope" && st.Status != protocol.StatusNotFound {
				t.Errorf("nope: %v", st.Status)
			}
		}()
	}
	wg.Wait()
}

func TestFixture(t *testing.T) {
	ec, sc := StorageAndEvaluatorCoordinatorsWithOffsets()
	defer sc.Stop()
	defer ec.Stop()
	ask := func(group string, showAll bool) *protocol.ConsumerGroupStatus {
		reply := make(chan *protocol.ConsumerGroupStatus)
		sc.App.EvaluatorChannel <- &protocol.EvaluatorRequest{Reply: reply, Cluster: "testcluster", Group: group, ShowAll: showAll}
		return <-reply
	}
	g := ask("testgroup", true)
	if g.Status != protocol.StatusOK || g.Complete != 1 || g.TotalPartitions != 1 || g.TotalLag != 2421 ||
		g.Partitions[0].Start.Offset != 1000 || g.Partitions[0].End.Offset != 1900 {
		t.Errorf("testgroup %+v", g)
	}
	if g := ask("testgroup", false); len(g.Partitions) != 0 || g.TotalLag != 2421 {
		t.Errorf("testgroup ShowAll false %+v", g)
	}
	g2 := ask("testgroup2", false)
	if g2.Status != protocol.StatusError || g2.Complete != 0 || g2.TotalLag != 2921 || len(g2.Partitions) != 1 ||
		g2.Partitions[0].Status != protocol.StatusStop || g2.Partitions[0].Complete != 0.5 ||
		g2.Partitions[0].Start.Offset != 1000 || g2.Partitions[0].End.Offset != 1400 {
		t.Errorf("testgroup2 %+v", g2)
	}
}

func TestConfigurePanics(t *testing.T) {
	for _, tt := range []struct {
		keys map[string]any
		want string
	}{
		{map[string]any{"evaluator.a.class-name": "caching", "evaluator.b.class-name": "caching"}, "Only one evaluator module must be configured"},
		{map[string]any{"evaluator.a.class-name": "caching", "evaluator.a.minimum-complete": math.NaN()}, "minimum-complete"},
		{map[string]any{"evaluator.a.class-name": "nope"}, `unknown evaluator className provided: "nope"`},
		{map[string]any{"evaluator.a.class-name": "caching", "evaluator.a.expire-cache": -1}, "expire-cache"},
		{map[string]any{"evaluator.a.class-name": "caching", "evaluator.a.minimum-complete": 1.5}, "minimum-complete"},
		{map[string]any{"evaluator.a.class-name": "caching", "evaluator.a.allowed-lag": -3}, "allowed-lag"},
	} {
		msg := func() (msg string) {
			defer func() { msg = fmt.Sprint(recover()) }()
			v := viper.New()
			for k, val := range tt.keys {
				v.Set(k, val)
			}
			ec := &Coordinator{App: &protocol.ApplicationContext{Logger: zap.NewNop(), Viper: v}}
			ec.Configure()
			return ""
		}()
		if !contains(msg, tt.want) {
			t.Errorf("%v: panic %q", tt.keys, msg)
		}
	}
}

func contains(s, sub string) bool {
	return len(sub) == 0 || len(s) >= len(sub) && (s[:len(sub)] == sub || contains(s[1:], sub))
}

func TestLagTime(t *testing.T) {
	// Readings: offset 1000 at 100 s, 2000 at 110 s, 4000 at 120 s; now 130 s.
	h := []protocol.BrokerReading{rd(1000, 100_000), rd(2000, 110_000), rd(4000, 120_000)}
	tests := []struct {
		commit    int64
		seconds   float64
		estimated bool
		ok        bool
	}{
		{4000, 0, false, true},    // caught up
		{5000, 0, false, true},    // ahead of the last reading
		{3000, 15, false, true},   // the log end passed 3000 at 115 s
		{1500, 25, false, true},   // at 105 s
		{1000, 30, false, true},   // exactly at the oldest reading
		{500, 33.333, true, true}, // before the history: 0.15 messages/ms: 3.33 s before 100 s
	}
	for _, tt := range tests {
		got, est, ok := lagTime(tt.commit, h, 130_000)
		if ok != tt.ok || est != tt.estimated || got < tt.seconds-0.001 || got > tt.seconds+0.001 {
			t.Errorf("commit %d: %v s estimated=%v ok=%v; want %v s estimated=%v", tt.commit, got, est, ok, tt.seconds, tt.estimated)
		}
	}
	for _, h := range [][]protocol.BrokerReading{
		nil,
		{rd(1000, 100_000)},                   // one reading: no rate
		{rd(1000, 1), rd(1000, 2)},            // no writes
		{rd(2000, 100_000), rd(1000, 90_000)}, // out of order
	} {
		if _, _, ok := lagTime(10, h, 130_000); ok {
			t.Errorf("%v: a lag time", h)
		}
	}
}

// TestWhyAndLagTime: through storage and the evaluator, a stopped partition says
// why, and every partition with commits has a lag in time from storage's broker
// timestamps.
func TestWhyAndLagTime(t *testing.T) {
	h := newHarness(t, nil)
	// E2, falling behind: the broker moves 300 per round, the consumer 200.
	for i := int64(0); i < 10; i++ {
		h.setNow(ago(e1Times(i)))
		h.broker("t", 0, 1, 2000+300*i)
		h.commit("g", "t", 0, 1000+200*i, ago(e1Times(i)))
	}
	h.setNow(base)
	st := h.eval("g", false)
	p := st.Partitions[0]
	if p.Status != protocol.StatusWarning || p.Why != "WARN: lag did not decrease over 10 commits spanning 90 s (1000 to 1900)" {
		t.Errorf("why %q", p.Why)
	}
	// The last commit, 2800, was the log end's position between the readings
	// 2600 (at -75 s) and 2900 (at -65 s): 68.333 s ago.
	if p.LagSeconds == nil || *p.LagSeconds != 68.333 || p.LagEstimated {
		t.Errorf("lag seconds %v estimated %v", p.LagSeconds, p.LagEstimated)
	}
	b, _ := json.Marshal(p)
	if !contains(string(b), `"why":"WARN: lag did not decrease`) || !contains(string(b), `"lag_seconds":68.333}`) {
		t.Errorf("JSON %s", b)
	}
}

// TestSlowReaders: one goroutine sends 300 requests that share one unbuffered
// Reply channel, then reads them: every one is answered, as in Burrow.
func TestSlowReaders(t *testing.T) {
	h := newHarness(t, nil)
	h.rounds(10, func(i int64) int64 { return 5000 + 100*i }, func(i int64) int64 { return 1000 + 500*i }, e1Times)
	reply := make(chan *protocol.ConsumerGroupStatus)
	const n = 300
	for i := range n {
		h.app.EvaluatorChannel <- &protocol.EvaluatorRequest{Reply: reply, Cluster: "c", Group: fmt.Sprint("g", i%3)}
	}
	for range n {
		<-reply
	}
	// A closed Reply is counted, not a crash.
	closed := make(chan *protocol.ConsumerGroupStatus)
	close(closed)
	h.app.EvaluatorChannel <- &protocol.EvaluatorRequest{Reply: closed, Cluster: "c", Group: "g"}
	if st := h.eval("g", true); st.Status != protocol.StatusOK {
		t.Errorf("after a closed Reply: %v", st.Status)
	}
}

// TestLenientNumbers: fractions are read as whole seconds and messages, as
// Burrow reads them, and a very long cache is accepted.
func TestLenientNumbers(t *testing.T) {
	for _, tt := range []struct {
		expire, allowed any
		wantExpire      time.Duration
		wantAllowed     uint64
	}{
		{1.5, 10.5, time.Second, 10},
		{"30", "7", 30 * time.Second, 7},
		{int64(40_000_000), 0, 40_000_000 * time.Second, 0},
	} {
		v := viper.New()
		v.Set("evaluator.e.class-name", "caching")
		v.Set("evaluator.e.expire-cache", tt.expire)
		v.Set("evaluator.e.allowed-lag", tt.allowed)
		ec := &Coordinator{App: &protocol.ApplicationContext{Logger: zap.NewNop(), Viper: v}}
		ec.Configure()
		m := ec.module.(*CachingEvaluator)
		if m.expire != tt.wantExpire || m.rules.allowedLag != tt.wantAllowed {
			t.Errorf("%v, %v: expire %v, allowed-lag %d", tt.expire, tt.allowed, m.expire, m.rules.allowedLag)
		}
	}
}
