package ha

import (
	"context"
	"encoding/binary"
	"errors"
	"iter"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/warrenlag/warren/internal/config"
	"github.com/warrenlag/warren/internal/state"
)

// leaders counts the fake notifiers leading at once, across instances.
type leaders struct {
	now, most atomic.Int32
}

// fakeNotifier records what the coordinator makes it do.
type fakeNotifier struct {
	all *leaders

	mu     sync.Mutex
	active bool
	leads  int
	got    []string // the records of the last Lead, as cluster/group/id
}

func (f *fakeNotifier) Lead(sections iter.Seq2[string, []byte]) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.got = nil
	for _, data := range sections {
		d := state.NewDecoder(data)
		r := d.Record()
		r.Uvarint()
		f.got = append(f.got, r.String()+"/"+r.String()+"/"+r.String())
	}
	if !f.active {
		n := f.all.now.Add(1)
		for m := f.all.most.Load(); n > m && !f.all.most.CompareAndSwap(m, n); m = f.all.most.Load() {
		}
	}
	f.active = true
	f.leads++
	return len(f.got)
}

func (f *fakeNotifier) Follow() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.active {
		f.all.now.Add(-1)
	}
	f.active = false
}

func (f *fakeNotifier) records() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.got...)
}

// incident is a notifier record of an incident id with no module's
// LastNotify (notifier.KindIncidents).
func incident(cluster, group, id string) []byte {
	b, at := state.StartRecord(nil)
	b = binary.AppendUvarint(b, 1)
	b = state.AppendString(b, cluster)
	b = state.AppendString(b, group)
	b = state.AppendString(b, id)
	b = binary.AppendVarint(b, 0)
	b = binary.AppendUvarint(b, 0)
	return state.EndRecord(b, at)
}

func newCluster(t *testing.T) *kfake.Cluster {
	kf, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.GroupMinSessionTimeout(100*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(kf.Close)
	return kf
}

func haConfig(kf *kfake.Cluster) config.HA {
	cfg := config.DefaultHA()
	cfg.Enabled, cfg.Cluster, cfg.Servers = true, "coord", kf.ListenAddrs()
	cfg.SessionTimeout, cfg.HeartbeatInterval, cfg.RebalanceTimeout = time.Second, 100*time.Millisecond, time.Second
	return cfg
}

// member starts a coordinator on kf driving a fake notifier.
func member(t *testing.T, kf *kfake.Cluster, all *leaders) (*Coordinator, *fakeNotifier) {
	t.Helper()
	c, err := New(haConfig(kf), nil)
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeNotifier{all: all}
	c.SetNotifier(f)
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Stop() })
	return c, f
}

// eventually polls cond every 10 ms for at most within: the group protocol
// runs between the members' clients and kfake over sockets, with nothing to
// wait on but its outcome.
func eventually(t *testing.T, within time.Duration, what string, cond func() bool) time.Duration {
	t.Helper()
	start := time.Now()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Since(start) > within {
			t.Fatalf("%s: not within %v", what, within)
		}
		<-tick.C
	}
	return time.Since(start)
}

// leader returns the only leader of cs, or -1.
func leader(cs []*Coordinator) int {
	at := -1
	for i, c := range cs {
		if c.Leader() {
			if at >= 0 {
				return -1
			}
			at = i
		}
	}
	return at
}

// TestElection starts three instances: exactly one leads. The leader writes
// an incident and stops (leaving the group): another leads within a session
// timeout and is handed the incident. At no time do two notifiers lead.
func TestElection(t *testing.T) {
	kf := newCluster(t)
	var all leaders
	var cs []*Coordinator
	var fs []*fakeNotifier
	for range 3 {
		c, f := member(t, kf, &all)
		cs, fs = append(cs, c), append(fs, f)
	}
	eventually(t, 10*time.Second, "one leader", func() bool { return leader(cs) >= 0 })
	// That it stays the only one is all.most, checked at the end.
	first := leader(cs)
	if first < 0 || all.now.Load() != 1 {
		t.Fatalf("leaders: %d notifiers lead", all.now.Load())
	}
	cs[first].Publish("c", "payments", incident("c", "payments", "X"))
	eventually(t, 5*time.Second, "the write", func() bool { return cs[first].writes[writeOK].Load() == 1 })
	if err := cs[first].Stop(); err != nil {
		t.Fatal(err)
	}
	took := eventually(t, time.Second, "a new leader", func() bool { return leader(cs) >= 0 && leader(cs) != first })
	t.Logf("hand-over after a clean stop: %v", took)
	next := leader(cs)
	if got := fs[next].records(); len(got) != 1 || got[0] != "c/payments/X" {
		t.Errorf("the new leader was handed %q", got)
	}
	if n := all.most.Load(); n != 1 {
		t.Errorf("%d notifiers led at once", n)
	}
	if cs[first].demotions[demoteStop].Load() != 1 || cs[next].elections.Load() != 1 {
		t.Errorf("demotions %d, elections %d", cs[first].demotions[demoteStop].Load(), cs[next].elections.Load())
	}
}

// TestCutOff cuts the leader off from the group coordinator (its heartbeats
// fail): it stops leading on its own, by its lease, before the group gives
// the partition to the other instance, which then leads. At no time do two
// notifiers lead.
func TestCutOff(t *testing.T) {
	kf := newCluster(t)
	var all leaders
	a, _ := member(t, kf, &all)
	b, _ := member(t, kf, &all)
	cs := []*Coordinator{a, b}
	eventually(t, 10*time.Second, "one leader", func() bool { return leader(cs) >= 0 })
	old := cs[leader(cs)]
	other := cs[1-leader(cs)]
	cut, _ := old.group.GroupMetadata()
	kf.ControlKey(int16(kmsg.Heartbeat), func(r kmsg.Request) (kmsg.Response, error, bool) {
		kf.KeepControl()
		if r.(*kmsg.HeartbeatRequest).MemberID == cut {
			return nil, errors.New("cut off"), true
		}
		return nil, nil, false
	})
	cutAt := time.Now()
	eventually(t, 2*time.Second, "the cut-off leader steps down", func() bool { return !old.Leader() })
	stepped := time.Since(cutAt)
	eventually(t, 10*time.Second, "the other leads", other.Leader)
	t.Logf("cut-off leader stepped down after %v; the other leads after %v", stepped, time.Since(cutAt))
	if n := all.most.Load(); n != 1 {
		t.Errorf("%d notifiers led at once", n)
	}
	if old.demotions[demoteLease].Load()+old.demotions[demoteLost].Load() == 0 {
		t.Errorf("demotions %v", &old.demotions)
	}
}

// TestBadRecords puts records on the state topic that a reader must skip:
// garbage, a bad key, a future version, another group-id's, a deposed
// leader's; and good ones. The leader is handed the good ones only, and each
// skipped record is counted.
func TestBadRecords(t *testing.T) {
	kf := newCluster(t)
	cfg := haConfig(kf)
	cl, err := kgo.NewClient(kgo.SeedBrokers(kf.ListenAddrs()...), kgo.DefaultProduceTopic(cfg.StateTopic))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	if _, err := kadm.NewClient(cl).CreateTopic(context.Background(), 1, 1, nil, cfg.StateTopic); err != nil {
		t.Fatal(err)
	}
	value := func(group string, f fence, rec []byte) []byte { return appendValue(nil, group, f, kindGroup, rec) }
	future := binary.AppendUvarint([]byte(magic), recordVersion+1)
	recs := []*kgo.Record{
		{Key: groupKey("c", "a"), Value: value(cfg.GroupID, fence{3, 3}, incident("c", "a", "A"))},
		{Key: groupKey("c", "b"), Value: []byte("garbage")},
		{Key: []byte{9}, Value: value(cfg.GroupID, fence{3, 3}, incident("c", "b", "B"))},
		{Key: groupKey("c", "b"), Value: append(future, "whatever comes next"...)},
		{Key: groupKey("c", "b"), Value: value("another-warren", fence{9, 9}, incident("c", "b", "B"))},
		{Key: groupKey("c", "b"), Value: value(cfg.GroupID, fence{3, 3}, []byte{1, 2, 3})},
		{Key: []byte{kindLeader}, Value: appendValue(nil, cfg.GroupID, fence{5, 5}, kindLeader, []byte("m"))},
		{Key: groupKey("c", "b"), Value: value(cfg.GroupID, fence{4, 4}, incident("c", "b", "deposed"))},
		{Key: groupKey("c", "d"), Value: value(cfg.GroupID, fence{5, 5}, incident("c", "d", "D"))},
		{Key: groupKey("c", "e"), Value: value(cfg.GroupID, fence{5, 5}, incident("c", "e", "E"))},
		{Key: groupKey("c", "e")}, // an operator's tombstone
	}
	if err := cl.ProduceSync(context.Background(), recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
	var all leaders
	c, f := member(t, kf, &all)
	eventually(t, 10*time.Second, "leading", c.Leader)
	if got := strings.Join(f.records(), " "); got != "c/a/A c/d/D" && got != "c/d/D c/a/A" {
		t.Errorf("handed %q", got)
	}
	// The records above, and the leader's own marker.
	eventually(t, 5*time.Second, "the marker read", func() bool { return c.table.counts[resultApplied].Load() == 5 })
	want := [numResults]uint64{resultApplied: 5, resultGarbage: 3, resultFutureVersion: 1, resultForeign: 1,
		resultStale: 1, resultTombstone: 1}
	for i := range numResults {
		if got := c.table.counts[i].Load(); got != want[i] {
			t.Errorf("%s: %d, want %d", resultNames[i], got, want[i])
		}
	}
	if _, top := c.table.position(); top.epoch != 6 {
		t.Errorf("the leader's epoch is %d, want 6 (one past the largest read)", top.epoch)
	}
}

// TestTopics: without create-topics a missing topic is a clear error; a
// coordination topic with two partitions is refused.
func TestTopics(t *testing.T) {
	kf := newCluster(t)
	cfg := haConfig(kf)
	cfg.CreateTopics = false
	c, _ := New(cfg, nil)
	c.SetNotifier(&fakeNotifier{all: &leaders{}})
	if err := c.Start(); err == nil || !strings.Contains(err.Error(), "ha.coordination-topic: topic warren-ha does not exist") {
		t.Errorf("missing topic: %v", err)
	}
	cl, _ := kgo.NewClient(kgo.SeedBrokers(kf.ListenAddrs()...))
	defer cl.Close()
	req := kmsg.NewPtrCreateTopicsRequest()
	rt := kmsg.NewCreateTopicsRequestTopic()
	rt.Topic, rt.NumPartitions, rt.ReplicationFactor = cfg.CoordinationTopic, 2, 1
	req.Topics = append(req.Topics, rt)
	if _, err := req.RequestWith(context.Background(), cl); err != nil {
		t.Fatal(err)
	}
	cfg.CreateTopics = true
	c, _ = New(cfg, nil)
	c.SetNotifier(&fakeNotifier{all: &leaders{}})
	if err := c.Start(); err == nil || !strings.Contains(err.Error(), "has 2 partitions") {
		t.Errorf("two partitions: %v", err)
	}
}
