package offsets

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"sort"
	"testing"
	"time"

	"github.com/warrenlag/warren/protocol"
)

// FuzzStore feeds the same request sequence to the store (started, with its
// workers) and to the reference model, and requires every fetch to agree.
// The seed corpus in testdata/fuzz/FuzzStore runs with every `go test`.
func FuzzStore(f *testing.F) {
	f.Add([]byte{0, 0, 0, 2, 3, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15})
	f.Add([]byte("broker offsets, commits and fetches in some order: abcdefghijklmnopqrstuvwxyz"))
	f.Fuzz(differential)
}

// TestDifferentialRandom runs long random sequences through differential, for
// the cases the seed corpus does not reach.
func TestDifferentialRandom(t *testing.T) {
	rnd := rand.New(rand.NewPCG(1, 2))
	runs := 2000
	if testing.Short() {
		runs = 30
	}
	for i := range runs {
		data := make([]byte, 3000)
		for j := range data {
			data[j] = byte(rnd.Uint32())
		}
		t.Run(fmt.Sprint(i), func(t *testing.T) { differential(t, data) })
	}

}

// differential decodes data into a configuration and a request sequence, and
// fails at the first fetch on which the store and the model disagree.
func differential(t *testing.T, data []byte) {
	d := &decoder{data: data}
	cfg := Config{
		Intervals:     1 + int(d.next()%5),
		MinDistance:   time.Duration(d.next()%3) * time.Second,
		Workers:       1 + int(d.next()%4),
		Clusters:      []string{"a", "b"},
		MaxPartitions: 6,
	}
	cfg.SetExpireGroup(10 * time.Second)
	switch d.next() % 4 {
	case 1:
		cfg.GroupAllowlist = "[02]"
	case 2:
		cfg.GroupDenylist = "1"
	}
	now := testNow
	cfg.Now = func() time.Time { return time.UnixMilli(now) }
	s, err := New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	defer s.Stop()
	m := newModel(cfg, func() int64 { return now })

	for step := 0; !d.done(); step++ {
		r := d.request(now)
		if r == nil {
			now += int64(d.next()) * 100 // the clock moves up to 25.5 s
			continue
		}
		var want any
		var wantOK bool
		if r.RequestType == protocol.StorageFetchConsumer && r.Topic == protocol.WindowsForm {
			// The same facts as a plain fetch, in the shapes the windows form keeps.
			plain := *r
			plain.Topic = ""
			want, wantOK = m.apply(&plain)
			if wantOK {
				want = plainShapes(want.(protocol.ConsumerTopics))
			}
		} else {
			want, wantOK = m.apply(r)
		}
		if r.Reply == nil {
			s.Handle(r)
			continue
		}
		s.Handle(r)
		got, gotOK := <-r.Reply
		if _, more := <-r.Reply; more {
			t.Fatalf("step %d: %v sent twice", step, r.RequestType)
		}
		w, isWindows := got.(*protocol.ConsumerWindows)
		got, want = normalize(got), normalize(want)
		if isWindows {
			w.Release() // so that later fetches fill a used reply
		}
		if gotOK != wantOK || !reflect.DeepEqual(got, want) {
			t.Fatalf("step %d: %v %s/%s/%s:\n got %v %s\nwant %v %s", step, r.RequestType, r.Cluster, r.Group,
				r.Topic, gotOK, show(got), wantOK, show(want))
		}
	}
}

// decoder turns fuzz bytes into requests over a small space of names, so that
// requests meet each other often.
type decoder struct {
	data []byte
	i    int
}

func (d *decoder) done() bool { return d.i >= len(d.data) }

func (d *decoder) next() byte {
	if d.done() {
		return 0
	}
	b := d.data[d.i]
	d.i++
	return b
}

func (d *decoder) pick(names ...string) string { return names[int(d.next())%len(names)] }

// request decodes one request, or nil for "let the clock move". Commits are the
// most common, deletes and clock jumps rare enough that windows fill up.
func (d *decoder) request(now int64) *protocol.StorageRequest {
	op := d.next() % 32
	r := &protocol.StorageRequest{Cluster: d.pick("a", "a", "a", "a", "a", "a", "b", "zz")}
	reply := func() { r.Reply = make(chan any, 1) }
	r.Partition = []int32{0, 0, 1, 1, 2, 3, -1}[d.next()%7]
	switch {
	case op < 4:
		r.RequestType = protocol.StorageSetBrokerOffset
		r.Topic = d.pick("t0", "t1", "t2")
		r.TopicPartitionCount = int32(d.next() % 5)
		if r.TopicPartitionCount == 4 {
			r.TopicPartitionCount = int32(d.next())
		}
		r.Offset = int64(d.next()) * 10
		r.Timestamp = now
	case op < 18:
		r.RequestType = protocol.StorageSetConsumerOffset
		r.Group = d.pick("g0", "g1", "g2")
		r.Topic = d.pick("t0", "t1")
		r.Offset = int64(d.next()) * 10
		r.Order = int64(d.next() % 24)
		r.Timestamp = now - int64(d.next())*10 // up to 2.55 s ago
		if d.next() < 32 {
			r.Timestamp = now + (int64(d.next())-200)*60 // -12 s .. +3.3 s
		}
	case op < 20:
		r.RequestType = protocol.StorageSetConsumerOwner
		r.Group = d.pick("g0", "g1", "g2", "g3")
		r.Topic = d.pick("t0", "t1", "t2")
		r.Owner = d.pick("", "h1", "h2")
		r.ClientID = d.pick("", "c1", "c2")
	case op < 21:
		r.RequestType = protocol.StorageClearConsumerOwners
		r.Group = d.pick("g0", "g1", "g2", "g3")
	case op < 22:
		r.RequestType = protocol.StorageSetDeleteTopic
		r.Topic = d.pick("t0", "t1", "t2", "t3")
	case op < 23:
		r.RequestType = protocol.StorageSetDeleteGroup
		r.Group = d.pick("g0", "g1", "g2", "g3")
		r.Topic = d.pick("", "", "t0", "t1")
	case op < 25:
		return nil
	case op < 28:
		r.RequestType = protocol.StorageFetchConsumer
		if op == 27 {
			r.Topic = protocol.WindowsForm
		}
		r.Group = d.pick("g0", "g1", "g2", "g3")
		reply()
	case op < 29:
		r.RequestType = d.pick2(protocol.StorageFetchConsumers, protocol.StorageFetchClusters)
		reply()
	case op < 30:
		r.RequestType = protocol.StorageFetchTopics
		reply()
	case op < 31:
		r.RequestType = protocol.StorageFetchTopic
		r.Topic = d.pick("t0", "t1", "t2", "t3")
		reply()
	default:
		r.RequestType = protocol.StorageFetchConsumersForTopic
		r.Topic = d.pick("t0", "t1", "t2")
		reply()
	}
	return r
}

func (d *decoder) pick2(a, b protocol.StorageRequestConstant) protocol.StorageRequestConstant {
	if d.next()%2 == 0 {
		return a
	}
	return b
}

// normalize sorts name lists, whose order is unspecified.
func normalize(v any) any {
	if w, ok := v.(*protocol.ConsumerWindows); ok {
		return topicsOf(w)
	}
	if names, ok := v.([]string); ok {
		names = append([]string{}, names...)
		sort.Strings(names)
		return names
	}
	return v
}

func show(v any) string {
	topics, ok := v.(protocol.ConsumerTopics)
	if !ok {
		return fmt.Sprintf("%#v", v)
	}
	names := make([]string, 0, len(topics))
	for name := range topics {
		names = append(names, name)
	}
	sort.Strings(names)
	out := ""
	for _, name := range names {
		out += "\n  " + name + ":"
		for i, p := range topics[name] {
			out += fmt.Sprintf("\n    %d owner=%q/%q lag=%d brokers=%#v window=%v", i, p.Owner, p.ClientID,
				p.CurrentLag, p.BrokerOffsets, fmtWindow(p.Offsets))
		}
	}
	return out
}

func fmtWindow(offsets []*protocol.ConsumerOffset) string {
	if offsets == nil {
		return "nil"
	}
	out := "["
	for _, o := range offsets {
		if o == nil {
			out += " nil"
			continue
		}
		lag := "null"
		if o.Lag != nil {
			lag = fmt.Sprint(o.Lag.Value)
		}
		out += fmt.Sprintf(" {off%d o%d t%d obs%d lag%s}", o.Offset, o.Order, o.Timestamp-testNow, o.ObservedTimestamp-testNow, lag)
	}
	return out + " ]"
}
