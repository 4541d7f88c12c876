package offsets

import (
	"bytes"
	"fmt"
	"iter"
	"math/rand/v2"
	"reflect"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/warrenlag/warren/internal/state"
	"github.com/warrenlag/warren/protocol"
)

// snapshotOf takes a snapshot of s and returns its sections.
func snapshotOf(t testing.TB, s *Store) []state.Section {
	t.Helper()
	var secs []state.Section
	_, err := s.Snapshot(func(kind string, data []byte) error {
		secs = append(secs, state.Section{Kind: kind, Data: bytes.Clone(data)})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return secs
}

func all(secs []state.Section) iter.Seq2[string, []byte] {
	return (&state.Snapshot{Sections: secs}).All()
}

// restored builds a store of cfg (on a clock at ms) and restores secs into it.
func restored(t testing.TB, cfg Config, ms int64, secs []state.Section) (*Store, RestoreStats) {
	t.Helper()
	clk := &testClock{ms: ms}
	cfg.Now = clk.now
	s, err := New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	st, err := s.Restore(all(secs))
	if err != nil {
		t.Fatal(err)
	}
	return s, st
}

// sameFetches requires every fetch of a and b to agree: every form of
// FetchConsumer for every group (first, so that expired groups are purged
// from both), the lists, and FetchTopic for every topic. names are groups and
// topics to ask for beyond those listed.
func sameFetches(t *testing.T, a, b *Store, names ...string) {
	t.Helper()
	clusters, _ := fetch(a, &protocol.StorageRequest{RequestType: protocol.StorageFetchClusters})
	if cb, _ := fetch(b, &protocol.StorageRequest{RequestType: protocol.StorageFetchClusters}); !reflect.DeepEqual(clusters, cb) {
		t.Fatalf("clusters %v and %v", clusters, cb)
	}
	list := func(s *Store, rt protocol.StorageRequestConstant, cluster, topic string) []string {
		v, ok := fetch(s, &protocol.StorageRequest{RequestType: rt, Cluster: cluster, Topic: topic})
		if !ok {
			return nil
		}
		names := v.([]string)
		slices.Sort(names)
		return names
	}
	for _, cl := range clusters.([]string) {
		groups := slices.Concat(names, list(a, protocol.StorageFetchConsumers, cl, ""), list(b, protocol.StorageFetchConsumers, cl, ""))
		for _, g := range groups {
			for _, form := range []string{"", protocol.WindowsForm} {
				r := protocol.StorageRequest{RequestType: protocol.StorageFetchConsumer, Cluster: cl, Group: g, Topic: form}
				ra, rb := r, r
				va, oka := fetch(a, &ra)
				vb, okb := fetch(b, &rb)
				if oka != okb || !sameReply(va, vb) {
					t.Fatalf("FetchConsumer %s/%s %q:\n%v %s\n%v %s", cl, g, form, oka, show(normalize(va)), okb, show(normalize(vb)))
				}
			}
		}
		for _, rt := range []protocol.StorageRequestConstant{protocol.StorageFetchConsumers, protocol.StorageFetchTopics} {
			if la, lb := list(a, rt, cl, ""), list(b, rt, cl, ""); !reflect.DeepEqual(la, lb) {
				t.Fatalf("%v %s: %v and %v", rt, cl, la, lb)
			}
		}
		topics := slices.Concat(names, list(a, protocol.StorageFetchTopics, cl, ""))
		for _, topic := range topics {
			r := protocol.StorageRequest{RequestType: protocol.StorageFetchTopic, Cluster: cl, Topic: topic}
			ra, rb := r, r
			va, oka := fetch(a, &ra)
			vb, okb := fetch(b, &rb)
			if oka != okb || !reflect.DeepEqual(va, vb) {
				t.Fatalf("FetchTopic %s/%s: %v %v, %v %v", cl, topic, va, oka, vb, okb)
			}
			la := list(a, protocol.StorageFetchConsumersForTopic, cl, topic)
			if lb := list(b, protocol.StorageFetchConsumersForTopic, cl, topic); !reflect.DeepEqual(la, lb) {
				t.Fatalf("FetchConsumersForTopic %s/%s: %v and %v", cl, topic, la, lb)
			}
		}
	}
}

// sameReply compares two FetchConsumer replies; a windows reply may come from
// a pool, with empty slices where a fresh one has nil.
func sameReply(a, b any) bool {
	wa, ok := a.(*protocol.ConsumerWindows)
	wb, _ := b.(*protocol.ConsumerWindows)
	if !ok || wb == nil {
		return reflect.DeepEqual(a, b)
	}
	return wa.Intervals == wb.Intervals && slices.Equal(wa.Topics, wb.Topics) &&
		slices.Equal(wa.Partitions, wb.Partitions) && slices.Equal(wa.Commits, wb.Commits) &&
		slices.Equal(wa.Broker, wb.Broker) && slices.Equal(wa.Owners, wb.Owners)
}

func on(cluster string, r *protocol.StorageRequest) *protocol.StorageRequest {
	r.Cluster = cluster
	return r
}

func setOwner(group, topic string, p int32, host, client string) *protocol.StorageRequest {
	return &protocol.StorageRequest{RequestType: protocol.StorageSetConsumerOwner, Cluster: "c", Group: group,
		Topic: topic, Partition: p, Owner: host, ClientID: client}
}

// scenario is a store's history with every kind of state: wrapped broker
// histories, full and partial windows, late commits (inserted by Order, their
// lag unknown), owners and partitions with only an owner, cleared owners, a
// deleted group, a group with a deleted topic, a deleted broker topic, and a
// second cluster.
func scenario() []*protocol.StorageRequest {
	var rs []*protocol.StorageRequest
	add := func(r ...*protocol.StorageRequest) { rs = append(rs, r...) }
	ts := testNow - 3_600_000
	for i := range int64(13) { // wraps a 10-interval history
		for p := range int32(4) {
			b := broker("t", p, 4, 10_000+i*1_000+int64(p))
			b.Timestamp = ts + i*60_000
			add(b)
		}
	}
	add(broker("u", 0, 2, 500), broker("u", 1, 2, 600), broker("v", 0, 1, 1))
	add(on("d", broker("t", 0, 1, 77)))
	for i := range int64(15) { // wraps the windows
		for p := range int32(4) {
			add(commit("full", "t", p, 9_000+i*900+int64(p)*7, 1_000+i*10, ts+i*60_000+int64(p)))
		}
	}
	add(commit("late", "t", 0, 100, 20, ts), commit("late", "t", 0, 300, 40, ts+2_000),
		commit("late", "t", 0, 200, 30, ts+1_000), commit("late", "t", 0, 150, 25, ts+500))
	for o := int64(1); o <= 10; o++ {
		add(commit("late", "t", 1, o*100, o*10, ts+o*1_000))
	}
	add(commit("late", "t", 1, 555, 55, ts+5_500), commit("late", "t", 1, 1, 15, ts+1_500))
	add(setOwner("owners", "t", 0, "10.0.0.1", "client-a"), setOwner("owners", "t", 1, "10.0.0.2", "client-b"),
		setOwner("owners", "t", 3, "10.0.0.1", "client-a"), commit("owners", "t", 0, 1_234, 7, ts))
	add(setOwner("cleared", "t", 0, "h", "c"), commit("cleared", "t", 0, 5, 5, ts),
		&protocol.StorageRequest{RequestType: protocol.StorageClearConsumerOwners, Cluster: "c", Group: "cleared"})
	add(commit("gone", "t", 0, 5, 5, ts),
		&protocol.StorageRequest{RequestType: protocol.StorageSetDeleteGroup, Cluster: "c", Group: "gone"})
	add(commit("half", "t", 2, 5, 5, ts), commit("half", "u", 1, 6, 6, ts), commit("half", "v", 0, 1, 1, ts),
		&protocol.StorageRequest{RequestType: protocol.StorageSetDeleteGroup, Cluster: "c", Group: "half", Topic: "u"},
		&protocol.StorageRequest{RequestType: protocol.StorageSetDeleteTopic, Cluster: "c", Topic: "v"})
	add(on("d", commit("other", "t", 0, 70, 1, ts)))
	return rs
}

// after is what both stores get after the restore: a late commit, an append, a
// new owner, a broker offset.
func after() []*protocol.StorageRequest {
	return []*protocol.StorageRequest{
		broker("t", 0, 4, 30_000),
		commit("late", "t", 0, 120, 22, testNow), commit("late", "t", 1, 1_100, 110, testNow),
		commit("full", "t", 3, 99_000, 5_000, testNow), setOwner("owners", "t", 2, "10.0.0.3", "client-c"),
	}
}

func TestSnapshotRoundTrip(t *testing.T) {
	cfg := Config{Clusters: []string{"c", "d"}, Workers: 3}
	for _, running := range []bool{false, true} {
		t.Run(fmt.Sprintf("running=%v", running), func(t *testing.T) {
			a, _ := newStore(t, cfg)
			if running {
				a.Start()
				defer a.Stop()
			}
			for _, r := range scenario() {
				a.Handle(r)
			}
			b, st := restored(t, cfg, testNow, snapshotOf(t, a))
			want := RestoreStats{Groups: 6, Partitions: 4 + 4 + 4 + 4 + 4 + 1, Commits: 40 + 10 + 4 + 1 + 1 + 1 + 1,
				BrokerTopics: 3, BrokerPartitions: 4 + 2 + 1}
			if st != want {
				t.Errorf("restore stats %+v, want %+v", st, want)
			}
			sameFetches(t, a, b, "gone", "half", "u", "v")
			if _, ok := fetchConsumer(b, "gone"); ok {
				t.Error("a deleted group was restored")
			}
			for _, r := range after() {
				a.Handle(r)
				r2 := *r
				b.Handle(&r2)
			}
			sameFetches(t, a, b)
			if win := window(mustFetch(t, b, "late")["t"][0].Offsets); win[5].order != 20 || win[6].order != 22 || win[6].lag != -1 {
				t.Errorf("a late commit after the restore was not placed by its Order: %+v", win)
			}
		})
	}
}

func mustFetch(t *testing.T, s *Store, group string) protocol.ConsumerTopics {
	t.Helper()
	c, ok := fetchConsumer(s, group)
	if !ok {
		t.Fatalf("group %s not found", group)
	}
	return c
}

// TestSnapshotRoundTripRandom: random histories (those of the differential
// fuzz test) are restored equal, and stay equal under the same requests after.
func TestSnapshotRoundTripRandom(t *testing.T) {
	rnd := rand.New(rand.NewPCG(3, 4))
	runs := 300
	if testing.Short() {
		runs = 20
	}
	for i := range runs {
		data := make([]byte, 2000)
		for j := range data {
			data[j] = byte(rnd.Uint32())
		}
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			d := &decoder{data: data}
			cfg := Config{Intervals: 1 + int(d.next()%5), MinDistance: time.Duration(d.next()%3) * time.Second,
				Workers: 1 + int(d.next()%4), Clusters: []string{"a", "b"}, MaxPartitions: 6}
			cfg.SetExpireGroup(10 * time.Second)
			now := testNow
			cfg.Now = func() time.Time { return time.UnixMilli(now) }
			a, err := New(cfg, nil)
			if err != nil {
				t.Fatal(err)
			}
			a.Start()
			defer a.Stop()
			var b *Store
			for d.i < len(data)/2 || b == nil {
				if d.i >= len(data)/2 {
					b, _ = restored(t, cfg, now, snapshotOf(t, a))
					cfg.Now = nil
					sameFetches(t, a, b, "g0", "g1", "g2", "g3", "t0", "t1", "t2", "t3")
					b.cfg.Now = nil
					b.clock.injected = func() time.Time { return time.UnixMilli(now) }
					continue
				}
				if r := d.request(now); r == nil {
					now += int64(d.next()) * 100
				} else if r.Reply == nil {
					a.Handle(r)
				}
			}
			for !d.done() {
				r := d.request(now)
				if r == nil {
					now += int64(d.next()) * 100
					continue
				}
				if r.Reply == nil {
					r2 := *r
					a.Handle(r)
					b.Handle(&r2)
				}
			}
			sameFetches(t, a, b, "g0", "g1", "g2", "g3", "t0", "t1", "t2", "t3")
		})
	}
}

// TestRestoreLeavesOut: what a restore must not bring back, and windows cut or
// kept when intervals changed.
func TestRestoreLeavesOut(t *testing.T) {
	a, _ := newStore(t, Config{Clusters: []string{"c", "d"}})
	for _, r := range scenario() {
		a.Handle(r)
	}
	a.Handle(commit("old", "t", 0, 1, 1, testNow-6*24*3600_000))
	secs := snapshotOf(t, a)

	// Two days later, the "old" group's newest commit is more than seven days
	// old; cluster d is gone and e is new; lists reject "owners"; topics may
	// have 3 partitions at most, which leaves out broker topic t and the four
	// other groups, all on t.
	cfg := Config{Clusters: []string{"c", "e"}, GroupDenylist: "^own", MaxPartitions: 3}
	b, st := restored(t, cfg, testNow+2*24*3600_000, secs)
	if st.Expired != 1 || st.UnknownCluster != 2 || st.Rejected != 1 || st.OverLimit != 5 || st.Malformed != 0 || st.Groups != 0 {
		t.Errorf("stats %+v", st)
	}
	for _, g := range []string{"old", "owners", "full", "late"} { // t has 4 partitions: over the limit
		if _, ok := fetchConsumer(b, g); ok {
			t.Errorf("group %s restored", g)
		}
	}
	if got, ok := fetchTopic(b, "u"); !ok || !reflect.DeepEqual(got, []int64{500, 600}) {
		t.Errorf("broker topic u: %v", got)
	}
	if v, ok := fetch(b, &protocol.StorageRequest{RequestType: protocol.StorageFetchConsumers, Cluster: "e"}); !ok || len(v.([]string)) != 0 {
		t.Errorf("new cluster e: %v %v", v, ok)
	}

	for _, size := range []int{4, 20} {
		b, _ := restored(t, Config{Clusters: []string{"c", "d"}, Intervals: size}, testNow, secs)
		got := window(mustFetch(t, b, "full")["t"][2].Offsets)
		full := window(mustFetch(t, a, "full")["t"][2].Offsets)
		want := full[max(0, 10-size):]
		if size > 10 {
			want = append(slices.Repeat([]slot{{nil_: true}}, size-10), full...)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("intervals %d: window %v, want %v", size, got, want)
		}
		if h, _ := fetchTopic(b, "t"); h[0] != 22_000 {
			t.Errorf("intervals %d: newest broker offset %v", size, h)
		}
	}
}

// TestRestoreMalformed: sections cut short or with a byte changed restore what
// they can, count the rest, and leave a store that serves every request.
func TestRestoreMalformed(t *testing.T) {
	cfg := Config{Clusters: []string{"c", "d"}}
	a, _ := newStore(t, cfg)
	for _, r := range scenario() {
		a.Handle(r)
	}
	secs := snapshotOf(t, a)
	for i, sec := range secs {
		boundary := map[int]bool{}
		for d := state.NewDecoder(sec.Data); d.Len() > 0; d.Record() {
			boundary[len(sec.Data)-d.Len()] = true
		}
		for n := 0; n < len(sec.Data); n += 1 + n/50 {
			for _, flip := range []bool{false, true} {
				bad := slices.Clone(secs)
				bad[i].Data = bytes.Clone(sec.Data[:n])
				if flip {
					bad[i].Data = bytes.Clone(sec.Data)
					bad[i].Data[n] ^= 0x55
				}
				b, st := restored(t, cfg, testNow, bad)
				if !flip && st.Malformed == 0 && !boundary[n] {
					t.Errorf("section %d cut to %d bytes: nothing malformed (%+v)", i, n, st)
				}
				for _, r := range append(scenario(), after()...) {
					b.Handle(r)
				}
				for _, g := range []string{"full", "late", "owners", "cleared", "half"} {
					fetchConsumer(b, g)
					fetchWindows(t, b, g)
				}
			}
		}
	}
	// Sections of other kinds are left to others.
	_, st := restored(t, cfg, testNow, append(secs, state.Section{Kind: "notifier.incidents", Data: []byte("x")}))
	if st.OtherSections != 1 || st.Malformed != 0 {
		t.Errorf("stats %+v", st)
	}
}

func TestRestoreAfterStart(t *testing.T) {
	s, _ := newStore(t, Config{})
	s.Start()
	if _, err := s.Restore(all(nil)); err == nil {
		t.Error("Restore after Start succeeded")
	}
	s.Stop()
	if _, err := s.Restore(all(nil)); err == nil {
		t.Error("Restore after Stop succeeded")
	}
}

// TestSnapshotWhileIngesting: snapshots taken while commits, deletes and
// fetches go on decode, and a snapshot after Stop holds everything.
func TestSnapshotWhileIngesting(t *testing.T) {
	cfg := Config{Workers: 4, Clusters: []string{"c"}}
	s, _ := newStore(t, cfg)
	s.Start()
	s.Handle(broker("t", 0, 8, 1_000))
	for p := range int32(8) {
		s.Handle(broker("t", p, 8, 1_000))
	}
	var wg sync.WaitGroup
	stop := make(chan struct{})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := int64(0); ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			g := fmt.Sprint("g", i%50)
			s.Handle(commit(g, "t", int32(i%8), i, i, testNow))
			if i%97 == 0 {
				s.Handle(&protocol.StorageRequest{RequestType: protocol.StorageSetDeleteGroup, Cluster: "c", Group: g})
			}
			if i%13 == 0 {
				fetchWindows(t, s, g)
			}
		}
	}()
	for range 5 {
		b, st := restored(t, cfg, testNow, snapshotOf(t, s))
		if st.Malformed != 0 {
			t.Errorf("stats %+v", st)
		}
		b.Start()
		b.Stop()
	}
	close(stop)
	wg.Wait()
	b, _ := restored(t, cfg, testNow, snapshotOf(t, s))
	sameFetches(t, s, b)
	// After Stop, the store is still whole for a last snapshot.
	s.Stop()
	c, _ := restored(t, cfg, testNow, snapshotOf(t, s))
	sameFetches(t, b, c)
}

// FuzzRestore: no section, however malformed, makes Restore panic or allocate
// beyond what it could keep, and the store serves requests after it.
func FuzzRestore(f *testing.F) {
	a, _ := newStore(f, Config{Clusters: []string{"c", "d"}})
	for _, r := range scenario() {
		a.Handle(r)
	}
	for _, sec := range snapshotOf(f, a) {
		f.Add(sec.Kind == KindGroups, sec.Data)
	}
	f.Add(true, []byte{})
	f.Add(false, []byte{0xff, 0xff, 0xff, 0xff, 1})
	f.Fuzz(func(t *testing.T, groups bool, data []byte) {
		kind := KindBroker
		if groups {
			kind = KindGroups
		}
		cfg := Config{Clusters: []string{"c", "d"}, MaxPartitions: 1 << 12}
		secs := []state.Section{{Kind: kind, Data: data}}
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		b, _ := restored(t, cfg, testNow, secs)
		runtime.ReadMemStats(&after)
		// Each byte may stand for a partition: its header and window (8 + 40 x
		// 10 bytes), its share of a map entry and slice growth.
		if n := after.TotalAlloc - before.TotalAlloc; n > uint64(1<<20+1024*len(data)) {
			t.Errorf("%d bytes allocated for %d of input", n, len(data))
		}
		for _, r := range scenario() {
			b.Handle(r)
		}
		for _, g := range []string{"full", "late", "owners"} {
			fetchConsumer(b, g)
			fetchWindows(t, b, g)
		}
	})
}
