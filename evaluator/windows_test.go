package evaluator

import (
	"math"
	"strconv"
	"testing"

	"github.com/warrenlag/warren/internal/decimal"
	"github.com/warrenlag/warren/protocol"
)

// testTopic is a topic of a hand-made storage reply.
type testTopic struct {
	name  string
	parts []testPartition
}

// testPartition is one partition of a hand-made storage reply.
type testPartition struct {
	lag      uint64
	owner    protocol.PartitionOwner // none when zero
	commits  []protocol.WindowCommit
	readings []protocol.BrokerReading
}

// windowsOf builds the reply storage gives to StorageFetchConsumerWindows for
// the given topics, which must be in name order.
func windowsOf(intervals int, topics ...testTopic) *protocol.ConsumerWindows {
	w := &protocol.ConsumerWindows{Intervals: intervals}
	for _, t := range topics {
		w.Topics = append(w.Topics, protocol.WindowTopic{Name: t.name, Partitions: len(t.parts)})
		for _, p := range t.parts {
			wp := protocol.WindowPartition{CurrentLag: p.lag, CommitsFrom: int32(len(w.Commits)), BrokerFrom: int32(len(w.Broker))}
			w.Commits = append(w.Commits, p.commits...)
			w.Broker = append(w.Broker, p.readings...)
			wp.CommitsTo, wp.BrokerTo = int32(len(w.Commits)), int32(len(w.Broker))
			if p.owner != (protocol.PartitionOwner{}) {
				w.Owners = append(w.Owners, p.owner)
				wp.Owner = int32(len(w.Owners))
			}
			w.Partitions = append(w.Partitions, wp)
		}
	}
	return w
}

// rd is a broker reading of offset at ts.
func rd(offset, ts int64) protocol.BrokerReading {
	return protocol.BrokerReading{Offset: offset, Timestamp: ts}
}

// TestMalformedWindows: a reply that is not storage's shape is evaluated
// without a crash, its bad ranges read as empty.
func TestMalformedWindows(t *testing.T) {
	good := func() *protocol.ConsumerWindows {
		return windowsOf(10, testTopic{"t", []testPartition{{lag: 5, commits: []protocol.WindowCommit{{Offset: 1, Timestamp: base}},
			readings: []protocol.BrokerReading{rd(6, base)}}}})
	}
	tests := []struct {
		name  string
		bad   func(w *protocol.ConsumerWindows)
		parts int
	}{
		{"more partitions named than given", func(w *protocol.ConsumerWindows) { w.Topics[0].Partitions = 3 }, 1},
		{"commits past the end", func(w *protocol.ConsumerWindows) { w.Partitions[0].CommitsTo = 9 }, 1},
		{"negative range", func(w *protocol.ConsumerWindows) { w.Partitions[0].CommitsFrom, w.Partitions[0].BrokerFrom = -2, -1 }, 1},
		{"reversed range", func(w *protocol.ConsumerWindows) { w.Partitions[0].CommitsFrom = 1; w.Partitions[0].CommitsTo = 0 }, 1},
		{"readings past the end", func(w *protocol.ConsumerWindows) { w.Partitions[0].BrokerTo = 7 }, 1},
		{"owner out of range", func(w *protocol.ConsumerWindows) { w.Partitions[0].Owner = 4 }, 1},
		{"no intervals", func(w *protocol.ConsumerWindows) { w.Intervals = 0 }, 1},
		{"no topics", func(w *protocol.ConsumerWindows) { w.Topics = nil }, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := good()
			tt.bad(w)
			st := (rules{}).evaluate("c", "g", w, base+60_000)
			if st.TotalPartitions != tt.parts || len(st.Partitions) != tt.parts || st.Partitions == nil {
				t.Errorf("%d partitions listed, %d counted", len(st.Partitions), st.TotalPartitions)
			}
			if tt.parts > 0 && (st.Partitions[0].Complete < 0 || st.Partitions[0].Complete > 1) {
				t.Errorf("complete %v", st.Partitions[0].Complete)
			}
		})
	}
}

func TestAppendInt(t *testing.T) {
	values := []int64{0, 1, 9, 10, 11, 99, 100, 101, 999, 1000, 9999, 10000, 123456789, -1, -9, -10, -123,
		math.MaxInt64, math.MinInt64, math.MinInt64 + 1, 1e18, 1e18 - 1}
	for p := int64(1); p > 0 && p <= math.MaxInt64/10; p *= 10 {
		values = append(values, p-1, p, p+1, -p)
	}
	for _, v := range values {
		if got, want := string(decimal.AppendInt([]byte("x"), v)), "x"+strconv.FormatInt(v, 10); got != want {
			t.Errorf("%d: %q, want %q", v, got, want)
		}
		if got, want := string(decimal.AppendInt(make([]byte, 0, 64), v)), strconv.FormatInt(v, 10); got != want {
			t.Errorf("%d in room: %q, want %q", v, got, want)
		}
	}
}
