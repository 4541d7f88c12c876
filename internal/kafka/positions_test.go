package kafka

import (
	"context"
	"fmt"
	"math"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/warrenlag/warren/internal/config"
	"github.com/warrenlag/warren/internal/state"
	"github.com/warrenlag/warren/protocol"
)

// snapshot writes the positions of mods to a state file and reads it back.
func snapshot(t *testing.T, mods ...Named) *state.Snapshot {
	t.Helper()
	f := &state.File{Dir: t.TempDir()}
	if _, err := f.Write(Positions(mods)); err != nil {
		t.Fatal(err)
	}
	snap, err := f.Read()
	if err != nil {
		t.Fatal(err)
	}
	return snap
}

// savedIn returns the records of the KindPositions sections of snap.
func savedIn(t *testing.T, snap *state.Snapshot) []saved {
	t.Helper()
	var out []saved
	for kind, data := range snap.All() {
		if kind != KindPositions {
			continue
		}
		d := state.NewDecoder(data)
		for d.Len() > 0 {
			rec := d.Record()
			sv, err := decodeSaved(&rec)
			if err != nil || d.Err() != nil {
				t.Fatalf("a record does not decode: %v %v", err, d.Err())
			}
			out = append(out, sv)
		}
	}
	return out
}

// window returns the offsets of the commits in the window of a group's
// partition 0 of "orders", oldest first.
func (e *env) window(t *testing.T, group string) []int64 {
	t.Helper()
	g := e.group(t, group)
	if g == nil {
		return nil
	}
	var w []int64
	for _, o := range g["orders"][0].Offsets {
		if o != nil {
			w = append(w, o.Offset)
		}
	}
	return w
}

// TestConsumerResumes: a consumer module reads the offsets topic, its
// positions are saved, and it stops; a new module restored from them, with the
// same storage, does not read again the records before the positions (a group
// deleted from storage meanwhile is not brought back by its old commits, and
// the module counts only the new records), and reads every commit made while
// it was down. With start-latest and backfill-earliest the saved positions
// win: neither applies to a partition that has one.
func TestConsumerResumes(t *testing.T) {
	for _, tt := range []struct {
		name string
		cfg  func(config.Consumer) config.Consumer
	}{
		{"topic, from the start", func(c config.Consumer) config.Consumer { return c }},
		{"topic, start-latest and backfill", func(c config.Consumer) config.Consumer {
			c.StartLatest, c.BackfillEarliest = true, true
			return c
		}},
		{"auto", func(c config.Consumer) config.Consumer {
			c.OffsetsSource = config.SourceAuto
			return c
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := offsetsEnv(t)
			cfg := tt.cfg(consumerConfig(e, config.SourceTopic))
			now := time.Now().UnixMilli()
			e.record(t, 0, commitKey(1, "g", "orders", 0), commitValue(3, 10, now-2000, ""))
			e.record(t, 0, commitKey(1, "g", "orders", 0), commitValue(3, 20, now-1000, ""))
			e.record(t, 1, commitKey(1, "h", "orders", 0), commitValue(3, 5, now, ""))

			first, err := NewConsumer(cfg, time.Hour, e.storage, zap.NewNop())
			if err != nil {
				t.Fatal(err)
			}
			if err := first.Start(); err != nil {
				t.Fatal(err)
			}
			eventually(t, "the records read", func() bool { return first.Stats().Rounds == 3 })
			snap := snapshot(t, Named{"consumer.local", first})
			first.Stop()
			sv := savedIn(t, snap)
			want := []partPosition{{0, 2}, {1, 1}}
			if len(sv) != 1 || sv[0].module != "local" || sv[0].onAdmin || !reflect.DeepEqual(sv[0].parts, want) {
				t.Fatalf("saved %+v; want the positions %v", sv, want)
			}
			if got := e.window(t, "g"); !slices.Equal(got, []int64{10, 20}) {
				t.Fatalf("g before the restart: %v", got)
			}
			// Deleted from storage after the snapshot: a module reading the
			// topic again would bring 10 and 20 back.
			e.storage <- &protocol.StorageRequest{RequestType: protocol.StorageSetDeleteGroup, Cluster: "local", Group: "g"}
			// While down.
			e.record(t, 0, commitKey(1, "g", "orders", 0), commitValue(3, 30, now+1000, ""))
			e.record(t, 1, commitKey(1, "k", "orders", 0), commitValue(3, 7, now+1000, ""))

			second, err := NewConsumer(cfg, time.Hour, e.storage, zap.NewNop())
			if err != nil {
				t.Fatal(err)
			}
			mods := []Named{{"consumer.local", second}}
			if st := Restore(mods, snap.All()); st != (RestoreStats{Modules: 1, Positions: 2}) {
				t.Fatalf("restore %+v", st)
			}
			if err := second.Start(); err != nil {
				t.Fatal(err)
			}
			defer second.Stop()
			// Each partition is read in order, and a record is counted once
			// storage has its commits: when the commits made while down are
			// counted, so is any record read again.
			eventually(t, "the commits made while down", func() bool {
				w := e.window(t, "g")
				return second.Stats().Rounds >= 2 && len(w) > 0 && w[len(w)-1] == 30 && len(e.window(t, "k")) > 0
			})
			if n := second.Stats().Rounds; n != 2 {
				t.Errorf("%d records read after the restart, want the 2 made while down", n)
			}
			if g, k := e.window(t, "g"), e.window(t, "k"); !slices.Equal(g, []int64{30}) || !slices.Equal(k, []int64{7}) {
				t.Errorf("after the restart: g %v, want [30] (10 and 20 not read again); k %v, want [7]", g, k)
			}
			if got := e.window(t, "h"); !slices.Equal(got, []int64{5}) {
				t.Errorf("h, read before the restart and kept by storage: %v", got)
			}
			if sv := savedIn(t, snapshot(t, mods...)); len(sv) != 1 || !reflect.DeepEqual(sv[0].parts, []partPosition{{0, 3}, {1, 2}}) {
				t.Errorf("positions after the restart %+v", sv)
			}
		})
	}
}

// TestSavedPositionsOutOfRange: a saved position below its partition's log
// start (records deleted) or beyond its end (the topic recreated) gives way to
// the start rule, logged once for all; a saved partition the topic does not
// have is ignored.
func TestSavedPositionsOutOfRange(t *testing.T) {
	for _, latest := range []bool{false, true} {
		t.Run(fmt.Sprintf("start-latest %v", latest), func(t *testing.T) { outOfRange(t, latest) })
	}
}

func outOfRange(t *testing.T, latest bool) {
	{
		e := offsetsEnv(t)
		now := time.Now().UnixMilli()
		for i := range int64(5) {
			e.record(t, 0, commitKey(1, "g", "orders", 0), commitValue(3, 10+i, now, ""))
		}
		e.record(t, 1, commitKey(1, "h", "orders", 0), commitValue(3, 1, now, ""))
		e.record(t, 1, commitKey(1, "h", "orders", 0), commitValue(3, 2, now, ""))
		del := kadm.Offsets{}
		del.Add(kadm.Offset{Topic: "__consumer_offsets", Partition: 0, At: 4})
		if resp, err := e.adm.DeleteRecords(context.Background(), del); err != nil || resp.Error() != nil {
			t.Fatalf("delete records: %v %v", err, resp.Error())
		}

		cfg := consumerConfig(e, config.SourceTopic)
		cfg.StartLatest, cfg.BackfillEarliest = latest, latest
		core, logs := observer.New(zap.InfoLevel)
		s, err := NewTopicSource(cfg, e.storage, zap.New(core))
		if err != nil {
			t.Fatal(err)
		}
		rec := appendSaved(nil, &saved{module: "local", cluster: "local", topic: "__consumer_offsets", max: -1,
			parts: []partPosition{{0, 2}, {1, 1000}, {7, 3}}})
		if st := Restore([]Named{{"consumer.local", s}}, sections(KindPositions, rec)); st.Modules != 1 {
			t.Fatalf("restore %+v", st)
		}
		if err := s.Start(); err != nil {
			t.Fatal(err)
		}
		// The start rule: from the log start (4), or from the end with a
		// backfill from the log start; both read the 3 records left.
		eventually(t, "the records left", func() bool { return s.Records.Load() >= 3 })
		if n := s.Records.Load(); n != 3 {
			t.Errorf("%d records read, want 3", n)
		}
		if h, g := e.window(t, "h"), e.window(t, "g"); !slices.Equal(h, []int64{1, 2}) || !slices.Equal(g, []int64{14}) {
			t.Errorf("h %v, want [1 2]; g %v, want [14]", h, g)
		}
		warns := logs.FilterMessageSnippet("saved positions outside").All()
		if len(warns) != 1 || !reflect.DeepEqual(warns[0].ContextMap()["partitions"], []any{int32(0), int32(1)}) {
			t.Errorf("warnings %+v; want one, for partitions 0 and 1", warns)
		}
		s.Stop()
	}
}

// sections yields one section.
func sections(kind string, data []byte) func(func(string, []byte) bool) {
	return func(yield func(string, []byte) bool) { yield(kind, data) }
}

// TestRestoreMatchesModules: a record reaches the consumer module of its name
// when that module reads the same cluster and offsets topic; the others are
// counted and left out, as is a record that does not decode, without
// stopping at it.
func TestRestoreMatchesModules(t *testing.T) {
	cfg := config.Consumer{Name: "local", Cluster: "local", Servers: []string{"127.0.0.1:1"},
		OffsetsTopic: "__consumer_offsets", OffsetsSource: config.SourceTopic}
	rec := func(module, cluster, topic string, p int32) []byte {
		return appendSaved(nil, &saved{module: module, cluster: cluster, topic: topic, max: -1,
			parts: []partPosition{{p, 10}}})
	}
	good := rec("local", "local", "__consumer_offsets", 0)
	for _, tt := range []struct {
		name string
		data []byte
		want RestoreStats
		at   map[int32]int64
	}{
		{"its own", good, RestoreStats{Modules: 1, Positions: 1}, map[int32]int64{0: 10}},
		{"a module not configured now", rec("gone", "local", "__consumer_offsets", 0), RestoreStats{Unknown: 1}, nil},
		{"a cluster module's name", rec("cl", "local", "__consumer_offsets", 0), RestoreStats{Unknown: 1}, nil},
		{"another cluster", rec("local", "other", "__consumer_offsets", 0), RestoreStats{Mismatched: 1}, nil},
		{"another offsets topic", rec("local", "local", "offsets2", 0), RestoreStats{Mismatched: 1}, nil},
		{"the last of two wins", append(slices.Clone(good), rec("local", "local", "__consumer_offsets", 1)...),
			RestoreStats{Modules: 1, Positions: 1}, map[int32]int64{1: 10}},
		{"a bad record, then a good one", append(appendSaved(nil, &saved{module: "local", base: -1}), good...),
			RestoreStats{Modules: 1, Positions: 1, Malformed: 1}, map[int32]int64{0: 10}},
		{"a good record, then a cut one", append(slices.Clone(good), good[:len(good)-1]...),
			RestoreStats{Modules: 1, Positions: 1, Malformed: 1}, map[int32]int64{0: 10}},
	} {
		s, err := NewTopicSource(cfg, nil, zap.NewNop())
		if err != nil {
			t.Fatal(err)
		}
		cl, err := NewCluster(config.Cluster{Name: "cl", Servers: []string{"127.0.0.1:1"}}, nil, zap.NewNop())
		if err != nil {
			t.Fatal(err)
		}
		mods := []Named{{"cluster.cl", cl}, {"consumer.local", s}}
		all := func(yield func(string, []byte) bool) {
			_ = yield("offsets.groups", []byte("not ours")) && yield(KindPositions, tt.data)
		}
		tt.want.OtherSections = 1
		if st := Restore(mods, all); st != tt.want {
			t.Errorf("%s: %+v, want %+v", tt.name, st, tt.want)
		}
		if at := s.takeSaved(); !reflect.DeepEqual(at, tt.at) {
			t.Errorf("%s: positions %v, want %v", tt.name, at, tt.at)
		}
	}
}

// TestAdminSourceRestoredOrders: storage restored with a group whose window
// holds Orders up to 1009 (from before the restart): an admin source numbers
// its polls by time, above them, whether or not its own positions were
// restored, and the commit is stored; restored, it also saves Orders above
// the saved ones.
func TestAdminSourceRestoredOrders(t *testing.T) {
	for _, restored := range []bool{false, true} {
		e := offsetsEnv(t)
		now := time.Now().UnixMilli()
		for i := range int64(10) {
			e.storage <- &protocol.StorageRequest{RequestType: protocol.StorageSetConsumerOffset, Cluster: "local",
				Group: "g", Topic: "orders", Partition: 0, Offset: 20 + i, Order: 1000 + i, Timestamp: now - 60000*(10-i)}
		}
		committed := kadm.Offsets{}
		committed.Add(kadm.Offset{Topic: "orders", Partition: 0, At: 50, LeaderEpoch: -1})
		if _, err := e.adm.CommitOffsets(context.Background(), "g", committed); err != nil {
			t.Fatal(err)
		}
		a, err := NewAdminSource(consumerConfig(e, config.SourceAdmin), time.Hour, e.storage, zap.NewNop())
		if err != nil {
			t.Fatal(err)
		}
		if restored {
			rec := appendSaved(nil, &saved{module: "local", cluster: "local", topic: "__consumer_offsets", onAdmin: true, max: 1009})
			if st := Restore([]Named{{"consumer.local", a}}, sections(KindPositions, rec)); st.Modules != 1 {
				t.Fatalf("restore %+v", st)
			}
		}
		if err := a.Start(); err != nil {
			t.Fatal(err)
		}
		eventually(t, "the first poll", func() bool { return a.Polls.Load() >= 1 })
		w := e.window(t, "g")
		if w[len(w)-1] != 50 {
			t.Errorf("restored %v: window %v", restored, w)
		}
		if sv := a.save(); !sv.onAdmin || restored && sv.max <= 1009+restartGap {
			t.Errorf("restored %v: saved %+v", restored, sv)
		}
		a.Stop()
	}
}

// TestAutoSourceRestoredOnAdmin: offsets-source auto saved while it read the
// admin API restarts on it, with Orders above the saved ones, and goes to the
// topic once its probe can read it.
func TestAutoSourceRestoredOnAdmin(t *testing.T) {
	e := offsetsEnv(t)
	m, err := NewConsumer(consumerConfig(e, config.SourceAuto), 20*time.Millisecond, e.storage, zap.NewNop(),
		WithFallback(time.Second, 50*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	rec := appendSaved(nil, &saved{module: "local", cluster: "local", topic: "__consumer_offsets", onAdmin: true, max: 1009,
		parts: []partPosition{{0, 1}}})
	mods := []Named{{"consumer.local", m}}
	if st := Restore(mods, sections(KindPositions, rec)); st.Modules != 1 {
		t.Fatalf("restore %+v", st)
	}
	if sv := savedIn(t, snapshot(t, mods...)); len(sv) != 1 || !sv[0].onAdmin || sv[0].max < 1009 {
		t.Errorf("saved before Start %+v; want what was restored", sv)
	}
	if err := m.Start(); err != nil {
		t.Fatal(err)
	}
	defer m.Stop()
	a := m.(*autoSource)
	if st := m.Stats(); st.Source != config.SourceAdmin {
		t.Fatalf("restored on the admin API, started on %s", st.Source)
	}
	if base := a.orders.base.Load(); base <= 1009+restartGap {
		t.Errorf("Orders base %d, want above the saved 1009 and the gap", base)
	}
	eventually(t, "the switch to the topic", func() bool { return m.Stats().Source == config.SourceTopic })
	if sv := savedIn(t, snapshot(t, mods...)); len(sv) != 1 || sv[0].onAdmin || len(sv[0].parts) != 2 || sv[0].base != a.orders.base.Load() {
		t.Errorf("saved on the topic %+v", sv)
	}
}

// TestPositionsRecord: a record decodes to what was encoded; every cut of it,
// and values out of range, are malformed.
func TestPositionsRecord(t *testing.T) {
	sv := saved{module: "m", cluster: "c", topic: "t", onAdmin: true, base: 7, max: 1 << 40,
		parts: []partPosition{{0, 0}, {3, 1 << 50}, {math.MaxInt32, math.MaxInt64}}}
	b := appendSaved(nil, &sv)
	d := state.NewDecoder(b)
	rec := d.Record()
	got, err := decodeSaved(&rec)
	if err != nil || !reflect.DeepEqual(got, sv) {
		t.Fatalf("round trip: %+v %v", got, err)
	}
	body := b[4:]
	for n := range len(body) {
		d := state.NewDecoder(body[:n])
		if _, err := decodeSaved(&d); err == nil {
			t.Errorf("cut at %d of %d: decoded", n, len(body))
		}
	}
	for _, tt := range []struct {
		name string
		body []byte
	}{
		{"version 2", []byte{2, 1, 'm', 1, 'c', 1, 't', 0, 0, 0, 0}},
		{"a partition beyond int32", []byte{1, 1, 'm', 1, 'c', 1, 't', 0, 0, 0, 1, 0x80, 0x80, 0x80, 0x80, 0x08, 0}},
		{"an offset beyond int64", append([]byte{1, 1, 'm', 1, 'c', 1, 't', 0, 0, 0, 1, 0},
			0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01)},
		{"more partitions than bytes", []byte{1, 1, 'm', 1, 'c', 1, 't', 0, 0, 0, 0xff, 0xff, 0xff, 0x7f, 0, 0}},
		{"bytes after the record", []byte{1, 1, 'm', 1, 'c', 1, 't', 0, 0, 0, 0, 0}},
		{"a negative base", []byte{1, 1, 'm', 1, 'c', 1, 't', 0, 1, 0, 0}},
	} {
		d := state.NewDecoder(tt.body)
		if got, err := decodeSaved(&d); err == nil {
			t.Errorf("%s: decoded %+v", tt.name, got)
		}
	}
}

// FuzzRestorePositions: no section, however malformed, panics Restore or
// makes it allocate beyond its bytes; what it restores was encoded whole.
func FuzzRestorePositions(f *testing.F) {
	f.Add(appendSaved(nil, &saved{module: "local", cluster: "local", topic: "t", max: -1, parts: []partPosition{{0, 5}, {1, 9}}}))
	f.Add(appendSaved(nil, &saved{module: "local", cluster: "local", topic: "t", onAdmin: true, base: 3, max: 99}))
	f.Add(append(appendSaved(nil, &saved{module: "x"}), 0xff, 0xff, 0xff, 0x7f, 1))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := NewTopicSource(config.Consumer{Name: "local", Cluster: "local", Servers: []string{"127.0.0.1:1"},
			OffsetsTopic: "t"}, nil, zap.NewNop())
		if err != nil {
			t.Fatal(err)
		}
		st := Restore([]Named{{"consumer.local", s}}, sections(KindPositions, data))
		if n := st.Modules + st.Unknown + st.Mismatched + st.Malformed; n > len(data)/4+1 {
			t.Fatalf("%d records from %d bytes", n, len(data))
		}
		if st.Positions > len(data)/2 {
			t.Fatalf("%d positions from %d bytes", st.Positions, len(data))
		}
		if sv := s.save(); st.Modules == 1 {
			if re := appendSaved(nil, &sv); len(re) > len(data) {
				t.Fatalf("restored %+v, %d bytes re-encoded, from %d bytes", sv, len(re), len(data))
			}
		}
	})
}
