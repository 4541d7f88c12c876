package kafka

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/warrenlag/warren/internal/config"
)

func TestBackoff(t *testing.T) {
	ms := time.Millisecond
	for _, tt := range []struct {
		name         string
		first, limit time.Duration
		steps        string // n: next, r: reset
		want         []time.Duration
	}{
		{"doubles up to the limit", 100 * ms, 30 * time.Second, "nnnnnnnnnnnn",
			[]time.Duration{100 * ms, 200 * ms, 400 * ms, 800 * ms, 1600 * ms, 3200 * ms, 6400 * ms, 12800 * ms, 25600 * ms, 30 * time.Second, 30 * time.Second, 30 * time.Second}},
		{"a reset starts over", 1 * ms, 4 * ms, "nnnnrnn", []time.Duration{1 * ms, 2 * ms, 4 * ms, 4 * ms, 1 * ms, 2 * ms}},
		{"first equal to the limit", 5 * ms, 5 * ms, "nnn", []time.Duration{5 * ms, 5 * ms, 5 * ms}},
	} {
		b := backoff{first: tt.first, limit: tt.limit}
		var got []time.Duration
		for _, step := range tt.steps {
			if step == 'r' {
				b.reset()
				continue
			}
			got = append(got, b.next())
		}
		if len(got) != len(tt.want) {
			t.Fatalf("%s: %v", tt.name, got)
		}
		for i := range got {
			if got[i] != tt.want[i] {
				t.Errorf("%s: step %d: %v, want %v (all: %v)", tt.name, i, got[i], tt.want[i], got)
			}
		}
	}
}

func TestTimingValidate(t *testing.T) {
	for _, tt := range []struct {
		opts []Opt
		ok   bool
	}{
		{nil, true},
		{[]Opt{WithBackoff(time.Millisecond, time.Second), WithFallback(time.Second, time.Second)}, true},
		{[]Opt{WithBackoff(0, time.Second)}, false},
		{[]Opt{WithBackoff(2*time.Second, time.Second)}, false},
		{[]Opt{WithFallback(0, time.Second)}, false},
		{[]Opt{WithFallback(time.Second, 0)}, false},
	} {
		if _, err := newTiming(tt.opts); (err == nil) != tt.ok {
			t.Errorf("%d options: %v", len(tt.opts), err)
		}
	}
	d := defaultTiming()
	if d.backoffFirst != 100*time.Millisecond || d.backoffLimit != 30*time.Second || d.switchAfter != 30*time.Second ||
		d.probeEvery != 30*time.Second || d.check() != 3*time.Second {
		t.Errorf("defaults %+v, check %v", d, d.check())
	}
}

// offsetsEnv is an env with an offsets topic of two partitions, and broker
// offsets for "orders".
func offsetsEnv(t *testing.T) *env {
	t.Helper()
	e := newEnv(t, "orders")
	if err := e.kf.CreateTopic("__consumer_offsets", 2, nil); err != nil {
		t.Fatal(err)
	}
	e.produce(t, "orders", 0, 100)
	c, _ := NewCluster(clusterConfig(e), e.storage, zap.NewNop())
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Stop)
	return e
}

// record writes one record to the offsets topic's partition p.
func (e *env) record(t *testing.T, p int32, key, value []byte) {
	t.Helper()
	r := &kgo.Record{Topic: "__consumer_offsets", Partition: p, Key: key, Value: value}
	if err := e.producer.ProduceSync(context.Background(), r).FirstErr(); err != nil {
		t.Fatal(err)
	}
}

// Requests an ACL on the offsets topic fails: denying Read fails fetches;
// denying Describe too fails metadata and offset listings as well.
var (
	readDenied     = []kmsg.Key{kmsg.Fetch}
	describeDenied = []kmsg.Key{kmsg.Fetch, kmsg.ListOffsets, kmsg.Metadata}
)

// deny makes the requests keys of the offsets topic fail as an ACL denying
// them does, until the returned handle is removed.
func (e *env) deny(keys []kmsg.Key) *kfake.FaultHandle {
	return e.kf.Fault(kfake.Fault{Keys: keys, Topic: "__consumer_offsets", Err: kerr.TopicAuthorizationFailed, Count: -1})
}

func consumerConfig(e *env, source string) config.Consumer {
	return config.Consumer{Name: "local", ClassName: "kafka", Cluster: "local", Servers: e.kf.ListenAddrs(),
		OffsetsTopic: "__consumer_offsets", OffsetsSource: source, Profile: &config.ClientProfile{ClientID: "warren-test"}}
}

// messages counts the log lines with the message msg.
func messages(logs *observer.ObservedLogs, msg string) int {
	return logs.FilterMessage(msg).Len()
}

// TestTopicSourceBacksOff: a reader whose fetches fail waits before polling
// again, twice as long each time up to the limit, and from the start again
// after a success; the topic's state is logged once per change. The test sees
// and releases each wait, so it counts what happens between two waits without
// timing anything.
func TestTopicSourceBacksOff(t *testing.T) {
	e := offsetsEnv(t)
	e.record(t, 0, commitKey(1, "g", "orders", 0), commitValue(3, 10, time.Now().UnixMilli(), ""))
	core, logs := observer.New(zap.DebugLevel)
	s, err := NewTopicSource(consumerConfig(e, config.SourceTopic), e.storage, zap.New(core),
		WithBackoff(time.Millisecond, 4*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	waits, release := make(chan time.Duration), make(chan struct{})
	s.timing.sleep = func(ctx context.Context, d time.Duration) bool {
		select {
		case waits <- d:
		case <-ctx.Done():
			return false
		}
		select {
		case <-release:
			return true
		case <-ctx.Done():
			return false
		}
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	defer s.Stop()
	eventually(t, "the first record", func() bool { return s.Records.Load() == 1 })
	next := func() time.Duration {
		t.Helper()
		select {
		case d := <-waits:
			return d
		case <-time.After(20 * time.Second):
			t.Fatal("the reader did not wait after failing")
			return 0
		}
	}

	deny := e.deny(readDenied)
	var want time.Duration = time.Millisecond
	errs := uint64(0)
	for i := range 6 {
		if d := next(); d != want {
			t.Errorf("wait %d: %v, want %v", i, d, want)
		}
		// Between two waits, one poll: at most one failed fetch per partition.
		now := s.Errors.Load()
		if now == errs || now-errs > 2 {
			t.Errorf("wait %d: %d errors since the previous wait, want 1 or 2", i, now-errs)
		}
		errs = now
		want = min(2*want, 4*time.Millisecond)
		release <- struct{}{}
	}
	if n := messages(logs, "the offsets topic cannot be read; retrying with backoff"); n != 1 {
		t.Errorf("%d warnings of the unreadable topic, want 1", n)
	}

	// Readable again: a poll without errors (records on both partitions, so
	// that one comes after any fetch that failed before the fault was
	// removed) ends the unreadable stretch, logged once with its errors, and
	// the backoff starts over.
	deny.Remove()
	e.record(t, 0, commitKey(1, "g", "orders", 0), commitValue(3, 20, time.Now().UnixMilli(), ""))
	e.record(t, 1, commitKey(1, "h", "orders", 0), commitValue(3, 20, time.Now().UnixMilli(), ""))
	eventually(t, "the topic readable again", func() bool {
		select {
		case <-waits:
			release <- struct{}{}
		default:
		}
		return messages(logs, "the offsets topic can be read again") > 0
	})
	again := logs.FilterMessage("the offsets topic can be read again").All()
	if len(again) != 1 || again[0].ContextMap()["errors"] != s.Errors.Load() {
		t.Errorf("readable-again lines %+v; want one, with errors = %d", again, s.Errors.Load())
	}
	e.deny(readDenied)
	if d := next(); d != time.Millisecond {
		t.Errorf("first wait after a success: %v, want 1ms", d)
	}
	release <- struct{}{}
}

// TestAutoSourceFallsBackAndReturns: with offsets-source auto, an offsets topic
// that becomes unreadable at runtime is retried with backoff, then replaced by
// the admin API, which carries the commits made meanwhile to storage; the topic
// is probed, and read again once readable. Every commit is appended to the
// group's window, in order, whichever source read it.
func TestAutoSourceFallsBackAndReturns(t *testing.T) {
	for _, tt := range []struct {
		name string
		keys []kmsg.Key
	}{{"read denied", readDenied}, {"describe denied", describeDenied}} {
		t.Run(tt.name, func(t *testing.T) { autoFallsBackAndReturns(t, tt.keys) })
	}
}

func autoFallsBackAndReturns(t *testing.T, denied []kmsg.Key) {
	e := offsetsEnv(t)
	ctx := context.Background()
	// commit commits g's offset in Kafka, where the admin API reads it, and
	// writes it as a record of the offsets topic (kfake keeps none of its own).
	commit := func(offset int64) {
		t.Helper()
		committed := kadm.Offsets{}
		committed.Add(kadm.Offset{Topic: "orders", Partition: 0, At: offset, LeaderEpoch: -1})
		if _, err := e.adm.CommitOffsets(ctx, "g", committed); err != nil {
			t.Fatal(err)
		}
		e.record(t, 0, commitKey(1, "g", "orders", 0), commitValue(3, offset, time.Now().UnixMilli(), ""))
	}
	// Another group's records first, so that the topic's Orders (record
	// offsets) start above the admin API's (poll numbers): a switch that did
	// not raise Orders would file the admin API's commits as old ones.
	for i := range 50 {
		e.record(t, 0, commitKey(1, "filler", "orders", 0), commitValue(3, int64(i), time.Now().UnixMilli(), ""))
	}
	commit(40)

	core, logs := observer.New(zap.DebugLevel)
	backoffLimit := 50 * time.Millisecond
	m, err := NewConsumer(consumerConfig(e, config.SourceAuto), 20*time.Millisecond, e.storage, zap.New(core),
		WithBackoff(5*time.Millisecond, backoffLimit), WithFallback(300*time.Millisecond, 20*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	a := m.(*autoSource)
	var waits atomic.Uint64
	a.topic.timing.sleep = func(ctx context.Context, d time.Duration) bool {
		waits.Add(1)
		return sleep(ctx, d)
	}
	if err := m.Start(); err != nil {
		t.Fatal(err)
	}
	defer m.Stop()
	newest := func() int64 {
		if g := e.group(t, "g"); g != nil {
			if o := g["orders"][0].Offsets; o[len(o)-1] != nil {
				return o[len(o)-1].Offset
			}
		}
		return -1
	}
	eventually(t, "the commit read from the topic", func() bool { return newest() == 40 })
	if st := m.Stats(); st.Source != config.SourceTopic || st.Switches != 0 {
		t.Fatalf("at start: %+v", st)
	}

	deny := e.deny(denied)
	since := time.Now()
	eventually(t, "the switch to the admin API", func() bool { return m.Stats().Source == config.SourceAdmin })
	// Every failed poll was followed by a wait, each twice the one before up
	// to the limit: at most one failed fetch per partition per wait, and, over
	// the time it took, a handful of waits where polling at once fails
	// thousands of fetches a second.
	errs, w := a.topic.Errors.Load(), waits.Load()
	if errs == 0 || errs > 2*(w+1) {
		t.Errorf("%d errors for %d waits; want 1 to 2 per wait", errs, w)
	}
	if limit := 2 * (uint64(time.Since(since)/backoffLimit) + 6); errs > limit {
		t.Errorf("%d errors in %v; want at most %d", errs, time.Since(since), limit)
	}

	// Commits made while the topic cannot be read come through the admin
	// API, and the topic is probed meanwhile, without success.
	commit(60)
	eventually(t, "the commit read through the admin API", func() bool { return newest() == 60 })
	eventually(t, "two probes", func() bool { return messages(logs, "the offsets topic still cannot be read") >= 2 })
	if st := m.Stats(); st.Source != config.SourceAdmin || st.Switches != 1 {
		t.Errorf("while the topic cannot be read: %+v", st)
	}

	deny.Remove()
	eventually(t, "the switch back to the topic", func() bool { return m.Stats().Source == config.SourceTopic })
	commit(80)
	eventually(t, "the commit read from the topic again", func() bool { return newest() == 80 })
	if st := m.Stats(); st.Switches != 2 {
		t.Errorf("switches %d, want 2", st.Switches)
	}
	// Every commit was appended (an appended commit has a lag), in order.
	var window []int64
	for _, o := range e.group(t, "g")["orders"][0].Offsets {
		if o == nil {
			continue
		}
		if o.Lag == nil {
			t.Errorf("commit %+v was not appended", o)
		}
		window = append(window, o.Offset)
	}
	if n := len(window); n < 3 || window[0] != 40 || window[n-2] != 60 || window[n-1] != 80 {
		t.Errorf("window %v; want 40 first, then 60 and 80 last", window)
	}
	for msg, want := range map[string]int{
		"the offsets topic cannot be read; retrying with backoff":                                                              1,
		"the offsets topic has been unreadable too long: reading committed offsets through the admin API until it can be read": 1,
		"the offsets topic can be read again":                                                                                  1,
		"reading committed offsets from the offsets topic again":                                                               1,
	} {
		if n := messages(logs, msg); n != want {
			t.Errorf("%d lines %q, want %d", n, msg, want)
		}
	}
}

// TestAutoSourceStartsOnAdmin: without an offsets topic at start, auto reads
// the admin API, and goes to the topic once it exists and can be read.
func TestAutoSourceStartsOnAdmin(t *testing.T) {
	e := newEnv(t, "orders")
	e.produce(t, "orders", 0, 100)
	c, _ := NewCluster(clusterConfig(e), e.storage, zap.NewNop())
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	defer c.Stop()
	m, err := NewConsumer(consumerConfig(e, config.SourceAuto), 20*time.Millisecond, e.storage, zap.NewNop(),
		WithFallback(time.Second, 20*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Start(); err != nil {
		t.Fatal(err)
	}
	defer m.Stop()
	if st := m.Stats(); st.Source != config.SourceAdmin {
		t.Fatalf("without an offsets topic: %+v", st)
	}
	if err := e.kf.CreateTopic("__consumer_offsets", 2, nil); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the switch to the topic", func() bool { return m.Stats().Source == config.SourceTopic })
	e.record(t, 1, commitKey(1, "g", "orders", 0), commitValue(3, 30, time.Now().UnixMilli(), ""))
	eventually(t, "the commit read from the topic", func() bool {
		g := e.group(t, "g")
		return g != nil && g["orders"][0].CurrentLag == 70
	})
	if st := m.Stats(); st.Switches != 1 {
		t.Errorf("switches %d, want 1", st.Switches)
	}
}
