package offsets

import (
	"encoding/binary"
	"reflect"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/warrenlag/warren/protocol"
)

// Orders of a poller's previous and current poll in the repeat tests.
const (
	prevOrder = int64(100)
	curOrder  = int64(200)
)

func repeatReq(group, topic string, first, n int32, ts int64) *protocol.StorageRequest {
	return &protocol.StorageRequest{RequestType: protocol.StorageSetConsumerRepeat, Cluster: "c", Group: group,
		Topic: topic, Partition: first, TopicPartitionCount: n, Offset: prevOrder, Order: curOrder, Timestamp: ts}
}

// sendRepeat sends r with a Reply and returns the partitions it left to the
// sender, and whether it answered with a value.
func sendRepeat(s *Store, r *protocol.StorageRequest) ([]int32, bool) {
	v, ok := fetch(s, r)
	if !ok {
		return nil, false
	}
	return v.([]int32), true
}

// TestRepeat: for each case, a store given the individual commits of a run of
// unchanged offsets, and a store given one StorageSetConsumerRepeat followed by
// the individual commits of the partitions it lists, end up with the same
// windows (every fetch form), lastCommit and drop counts; the test also pins
// which partitions the repeat leaves to the sender.
func TestRepeat(t *testing.T) {
	prevTs := testNow - 65_000
	// base: broker offsets for t/0..3 (t/3 has none yet), commits of g at the
	// previous Order on t/0..2.
	base := func(s *Store) {
		for p := range int32(3) {
			s.Handle(broker("t", p, 4, 1000))
		}
		for p := range int32(3) {
			s.Handle(commit("g", "t", p, 10*int64(p+1), prevOrder, prevTs))
		}
		for p := range int32(3) {
			s.Handle(broker("t", p, 4, 2000+int64(p)))
		}
	}
	tests := []struct {
		name    string
		cfg     Config
		setup   func(s *Store)
		group   string
		first   int32
		offsets []int64 // the sender's offset for each partition of the run
		changed map[int32]int64
		ts      int64
		cluster string
		missed  []int32
	}{
		{name: "all repeated", setup: base, offsets: []int64{10, 20, 30}},
		{name: "a run inside the topic", setup: base, first: 1, offsets: []int64{20, 30}},
		{name: "min-distance merges", cfg: Config{MinDistance: 2 * time.Minute}, setup: base, offsets: []int64{10, 20, 30}},
		{name: "partition sent alone before the run", setup: base, offsets: []int64{10, 25, 30},
			changed: map[int32]int64{1: 25}},
		{name: "a newer commit from elsewhere", setup: func(s *Store) {
			base(s)
			s.Handle(commit("g", "t", 0, 99, 150, prevTs+1000))
		}, offsets: []int64{10, 20, 30}, missed: []int32{0}},
		{name: "not sent at the previous Order", setup: func(s *Store) {
			for p := range int32(3) {
				s.Handle(broker("t", p, 3, 1000))
			}
			s.Handle(commit("g", "t", 0, 10, prevOrder, prevTs))
			s.Handle(commit("g", "t", 1, 20, prevOrder, prevTs))
			s.Handle(commit("g", "t", 2, 30, prevOrder-10, prevTs-1000))
			s.Handle(commit("g", "t", 1, 15, prevOrder-10, prevTs-1000)) // late, older
		}, offsets: []int64{10, 20, 30}, missed: []int32{2}},
		{name: "no broker offset, no window", setup: base, offsets: []int64{10, 20, 30, 40}, missed: []int32{3}},
		{name: "unknown group", setup: base, group: "h", offsets: []int64{10, 20, 30}, missed: []int32{0, 1, 2}},
		{name: "deleted group", setup: func(s *Store) {
			base(s)
			s.Handle(&protocol.StorageRequest{RequestType: protocol.StorageSetDeleteGroup, Cluster: "c", Group: "g"})
		}, offsets: []int64{10, 20, 30}, missed: []int32{0, 1, 2}},
		{name: "expired timestamp", cfg: Config{ExpireGroup: time.Minute}, setup: func(s *Store) {
			for p := range int32(3) {
				s.Handle(broker("t", p, 3, 1000))
				s.Handle(commit("g", "t", p, 10*int64(p+1), prevOrder, testNow-1000))
			}
		}, offsets: []int64{10, 20, 30}, ts: testNow - 2*time.Minute.Milliseconds(), missed: []int32{0, 1, 2}},
		{name: "unknown cluster", setup: base, cluster: "x", offsets: []int64{10, 20, 30}, missed: []int32{0, 1, 2}},
		{name: "owner only", setup: func(s *Store) {
			base(s)
			s.Handle(broker("t", 3, 4, 1000))
			s.Handle(&protocol.StorageRequest{RequestType: protocol.StorageSetConsumerOwner, Cluster: "c", Group: "g",
				Topic: "t", Partition: 3, Owner: "/h", ClientID: "c"})
		}, offsets: []int64{10, 20, 30, 40}, missed: []int32{3}},
		{name: "topic grown", setup: func(s *Store) {
			base(s)
			s.Handle(broker("t", 5, 6, 1000))
		}, offsets: []int64{10, 20, 30, 40, 50, 60}, missed: []int32{3, 4, 5}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			group, cluster, ts := tt.group, tt.cluster, tt.ts
			if group == "" {
				group = "g"
			}
			if cluster == "" {
				cluster = "c"
			}
			if ts == 0 {
				ts = testNow - 5_000
			}
			one, _ := newStore(t, tt.cfg)
			run, _ := newStore(t, tt.cfg)
			for _, s := range []*Store{one, run} {
				tt.setup(s)
				for p, off := range tt.changed {
					c := commit(group, "t", p, off, curOrder, ts)
					c.Cluster = cluster
					s.Handle(c)
				}
			}
			for i, off := range tt.offsets {
				p := tt.first + int32(i)
				if _, ok := tt.changed[p]; ok {
					continue
				}
				c := commit(group, "t", p, off, curOrder, ts)
				c.Cluster = cluster
				one.Handle(c)
			}
			r := repeatReq(group, "t", tt.first, int32(len(tt.offsets)), ts)
			r.Cluster = cluster
			missed, ok := sendRepeat(run, r)
			if !ok {
				t.Fatal("no answer")
			}
			if !slices.Equal(missed, tt.missed) {
				t.Errorf("left to the sender %v, want %v", missed, tt.missed)
			}
			for _, p := range missed {
				c := commit(group, "t", p, tt.offsets[p-tt.first], curOrder, ts)
				c.Cluster = cluster
				run.Handle(c)
			}
			sameStores(t, one, run, group)
		})
	}
}

// sameStores compares what two stores hold for group, in every fetch form,
// their snapshots and their drop counts.
func sameStores(t *testing.T, a, b *Store, groups ...string) {
	t.Helper()
	for _, group := range groups {
		ta, oka := fetchConsumer(a, group)
		tb, okb := fetchConsumer(b, group)
		if oka != okb || !reflect.DeepEqual(ta, tb) {
			t.Errorf("group %s differs:\n individual %v (%v)\n repeat     %v (%v)", group, dump(ta), oka, dump(tb), okb)
		}
		wa, oka := fetchWindows(t, a, group)
		wb, okb := fetchWindows(t, b, group)
		if oka != okb || (oka && !reflect.DeepEqual(topicsOf(wa), topicsOf(wb))) {
			t.Errorf("group %s differs in WindowsForm", group)
		}
		if la, lb := lastCommit(a, group), lastCommit(b, group); la != lb {
			t.Errorf("group %s: lastCommit %d and %d", group, la, lb)
		}
	}
	// The state file: the same sections (one group, so in the same order
	// whatever worker it hashes to).
	// Records compared as sets: a section lists its records in map order.
	if ra, rb := snapshotRecords(t, a), snapshotRecords(t, b); !reflect.DeepEqual(ra, rb) {
		t.Errorf("snapshots differ")
	}
	if da, db := a.Drops(), b.Drops(); !reflect.DeepEqual(da, db) {
		t.Errorf("drops differ: individual %v, repeat %v", da, db)
	}
}

// lastCommit returns the lastCommit of group in cluster "c" of a store that
// is not started, or -1.
func lastCommit(s *Store, group string) int64 {
	for _, sh := range s.shards {
		if g := sh.groups[0][group]; g != nil {
			return g.lastCommit
		}
	}
	return -1
}

// dump shows a group's windows compactly.
func dump(topics protocol.ConsumerTopics) map[string][][]slot {
	out := map[string][][]slot{}
	for name, cps := range topics {
		for _, cp := range cps {
			out[name] = append(out[name], window(cp.Offsets))
		}
	}
	return out
}

// TestRepeatRequests: a started store answers the same; a bad run is dropped
// and counted, with an empty answer; a stopped store closes the Reply, as a
// storage that does not know the type does.
func TestRepeatRequests(t *testing.T) {
	s, _ := newStore(t, Config{Workers: 3})
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	s.Handle(broker("t", 0, 2, 1000))
	s.Handle(broker("t", 1, 2, 1000))
	s.Handle(commit("g", "t", 0, 10, prevOrder, testNow-1000))
	if missed, ok := sendRepeat(s, repeatReq("g", "t", 0, 2, testNow)); !ok || !slices.Equal(missed, []int32{1}) {
		t.Errorf("started: %v %v, want [1]", missed, ok)
	}
	topics, _ := fetchConsumer(s, "g")
	if o := topics["t"][0].Offsets[DefaultIntervals-1]; o == nil || o.Order != curOrder || o.Offset != 10 || o.Lag.Value != 990 {
		t.Errorf("repeated commit %+v", o)
	}
	for _, r := range []*protocol.StorageRequest{repeatReq("g", "t", -1, 2, testNow), repeatReq("g", "t", 0, 1<<30, testNow)} {
		if missed, ok := sendRepeat(s, r); !ok || len(missed) != 0 {
			t.Errorf("bad run %d+%d: %v %v", r.Partition, r.TopicPartitionCount, missed, ok)
		}
	}
	s.Handle(repeatReq("g", "t", 0, 2, testNow+1)) // no Reply
	s.Stop()
	if d := s.Drops(); d["negative_partition"] != 1 || d["partition_count"] != 1 {
		t.Errorf("drops %v", d)
	}
	if n := s.Requests()["StorageSetConsumerRepeat"]; n != 4 {
		t.Errorf("%d repeats counted, want 4", n)
	}
	if _, ok := sendRepeat(s, repeatReq("g", "t", 0, 2, testNow)); ok {
		t.Error("a stopped store answered")
	}
}

// TestRepeatAllocs: a repeat of known partitions allocates nothing.
func TestRepeatAllocs(t *testing.T) {
	s, _ := newStore(t, Config{})
	for p := range int32(8) {
		s.Handle(broker("t", p, 8, 1<<40))
		s.Handle(commit("g", "t", p, 1, prevOrder, testNow))
	}
	r := repeatReq("g", "t", 0, 8, testNow)
	r.Order = prevOrder
	allocs := testing.AllocsPerRun(1000, func() {
		r.Offset = r.Order
		r.Order++
		s.Handle(r)
	})
	if allocs != 0 && !raceEnabled {
		t.Errorf("%v allocations per repeat, want 0", allocs)
	}
	topics, _ := fetchConsumer(s, "g")
	if o := topics["t"][7].Offsets[DefaultIntervals-1]; o.Order != r.Order {
		t.Errorf("newest Order %d, want %d", o.Order, r.Order)
	}
}

// snapshotRecords returns the records of a store's snapshot, each as its kind
// and bytes, sorted.
func snapshotRecords(t *testing.T, s *Store) []string {
	t.Helper()
	var out []string
	for _, sec := range snapshotOf(t, s) {
		b := sec.Data
		for len(b) >= 4 {
			n := int(binary.LittleEndian.Uint32(b))
			if 4+n > len(b) {
				t.Fatalf("%s: a record of %d bytes in %d", sec.Kind, n, len(b)-4)
			}
			out = append(out, sec.Kind+":"+string(b[4:4+n]))
			b = b[4+n:]
		}
		if len(b) != 0 {
			t.Fatalf("%s: %d bytes left", sec.Kind, len(b))
		}
	}
	sort.Strings(out)
	return out
}
