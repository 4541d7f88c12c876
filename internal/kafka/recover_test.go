package kafka

import (
	"context"
	"testing"
	"time"

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
		{[]Opt{WithBackoff(time.Millisecond, time.Second)}, true},
		{[]Opt{WithBackoff(0, time.Second)}, false},
		{[]Opt{WithBackoff(2*time.Second, time.Second)}, false},
	} {
		if _, err := newTiming(tt.opts); (err == nil) != tt.ok {
			t.Errorf("%d options: %v", len(tt.opts), err)
		}
	}
	d := defaultTiming()
	if d.backoffFirst != 100*time.Millisecond || d.backoffLimit != 30*time.Second {
		t.Errorf("defaults %+v", d)
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

// readDenied is the requests an ACL denying Read on the offsets topic fails.
var readDenied = []kmsg.Key{kmsg.Fetch}

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
