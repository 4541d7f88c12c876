package offsets

import (
	"fmt"
	"reflect"
	"testing"
	"time"
)

// t0 is the origin of the worked examples' relative times.
const t0 = testNow - 10_000_000

// sec is a time of the worked examples: s seconds after t0, in ms.
func sec(s float64) int64 { return t0 + int64(s*1000) }

type c struct {
	order, offset int64
	ts            int64
}

type want struct {
	order, offset, ts int64
	lag               int64 // -1: null
}

func seq(orders []int64, offsetPer int64, firstSec, stepSec float64) []c {
	out := make([]c, len(orders))
	for i, o := range orders {
		out[i] = c{order: o, offset: o * offsetPer, ts: sec(firstSec + float64(i)*stepSec)}
	}
	return out
}

func rng(from, to, step int64) []int64 {
	var out []int64
	for o := from; o <= to; o += step {
		out = append(out, o)
	}
	return out
}

// TestPlacement covers every placement rule, the spec's worked examples first.
func TestPlacement(t *testing.T) {
	full := seq(rng(10, 100, 10), 100, 100, 100) // Orders 10..100 at t=100..1000 s
	tests := []struct {
		name        string
		broker      int64
		intervals   int
		minDistance time.Duration
		commits     []c
		want        []want // non-nil entries, oldest first
		lastCommit  int64
	}{
		{
			name:   "example 1: appends with lag",
			broker: 5000, minDistance: time.Second,
			commits: seq(rng(1, 5, 1), 1000, 100, 100),
			want: []want{{1, 1000, sec(100), 4000}, {2, 2000, sec(200), 3000}, {3, 3000, sec(300), 2000},
				{4, 4000, sec(400), 1000}, {5, 5000, sec(500), 0}},
		},
		{
			name:   "example 2: late commits fill the window backwards, then the oldest are dropped",
			broker: 5000, minDistance: time.Second,
			commits: seq([]int64{20, 30, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6}, 100, 100, 100),
			want: []want{{8, 800, sec(1000), -1}, {9, 900, sec(900), -1}, {10, 1000, sec(800), -1},
				{11, 1100, sec(700), -1}, {12, 1200, sec(600), -1}, {13, 1300, sec(500), -1},
				{14, 1400, sec(400), -1}, {15, 1500, sec(300), -1}, {20, 2000, sec(100), 3000},
				{30, 3000, sec(200), 2000}},
		},
		{
			name:   "example 3: insert between two commits",
			broker: 5000, minDistance: time.Second,
			commits: append(seq([]int64{20, 30, 40}, 100, 100, 100), c{25, 2500, sec(150)}),
			want: []want{{20, 2000, sec(100), 3000}, {25, 2500, sec(150), -1},
				{30, 3000, sec(200), 2000}, {40, 4000, sec(300), 1000}},
		},
		{
			name:   "example 4: insert into a full window drops the oldest",
			broker: 10000, minDistance: time.Second,
			commits: append(append([]c{}, full...), c{55, 5500, sec(550)}),
			want: []want{{20, 2000, sec(200), 8000}, {30, 3000, sec(300), 7000}, {40, 4000, sec(400), 6000},
				{50, 5000, sec(500), 5000}, {55, 5500, sec(550), -1}, {60, 6000, sec(600), 4000},
				{70, 7000, sec(700), 3000}, {80, 8000, sec(800), 2000}, {90, 9000, sec(900), 1000},
				{100, 10000, sec(1000), 0}},
		},
		{
			name:   "example 5: just above the oldest of a full window replaces it",
			broker: 10000, minDistance: time.Second,
			commits: append(append([]c{}, full...), c{15, 1500, sec(150)}),
			want:    append([]want{{15, 1500, sec(150), -1}}, wantsOf(full[1:], 10000)...),
		},
		{
			name:   "example 6: an append closer than min-distance merges into the newest",
			broker: 10000, minDistance: time.Second,
			commits: append(seq(rng(10, 50, 10), 100, 100, 100), c{60, 6000, sec(500.001)}),
			want: []want{{10, 1000, sec(100), 9000}, {20, 2000, sec(200), 8000}, {30, 3000, sec(300), 7000},
				{40, 4000, sec(400), 6000}, {60, 6000, sec(500), 4000}},
		},
		{
			name:   "example 7: an insert closer than min-distance merges into its predecessor",
			broker: 10000, minDistance: time.Second,
			commits: append(seq(rng(10, 50, 10), 100, 100, 100), c{45, 4500, sec(400.001)}),
			want: []want{{10, 1000, sec(100), 9000}, {20, 2000, sec(200), 8000}, {30, 3000, sec(300), 7000},
				{45, 4500, sec(400), -1}, {50, 5000, sec(500), 5000}},
		},
		{
			name:    "full window: not newer than the oldest is dropped",
			broker:  10000,
			commits: append(append([]c{}, full...), c{10, 1, sec(5)}, c{5, 1, sec(5)}),
			want:    wantsOf(full, 10000),
		},
		{
			name:    "duplicate Order is dropped, newest or inside",
			broker:  10000,
			commits: append(seq(rng(10, 50, 10), 100, 100, 100), c{50, 1, sec(900)}, c{30, 1, sec(900)}),
			want:    wantsOf(seq(rng(10, 50, 10), 100, 100, 100), 10000),
		},
		{
			name:    "append to a full window drops the oldest",
			broker:  10000,
			commits: append(append([]c{}, full...), c{110, 11000, sec(1100)}),
			want:    append(wantsOf(full[1:], 10000), want{110, 11000, sec(1100), 0}),
		},
		{
			name:    "insert before the oldest of a window that is not full",
			broker:  10000,
			commits: seq([]int64{30, 20, 10}, 100, 100, 100),
			want:    []want{{10, 1000, sec(300), -1}, {20, 2000, sec(200), -1}, {30, 3000, sec(100), 7000}},
		},
		{
			name:    "window with one free slot: insert at the front fills it",
			broker:  10000,
			commits: append(seq(rng(20, 100, 10), 100, 100, 100), c{15, 1500, sec(50)}, c{12, 1200, sec(40)}),
			want:    append([]want{{15, 1500, sec(50), -1}}, wantsOf(seq(rng(20, 100, 10), 100, 100, 100), 10000)...),
		},
		{
			name:       "min-distance 0: a commit stamped before its predecessor merges into it",
			broker:     10000,
			commits:    []c{{10, 1000, sec(100)}, {20, 2000, sec(90)}},
			want:       []want{{20, 2000, sec(100), 8000}},
			lastCommit: sec(90),
		},
		{
			name:    "a commit ahead of the broker has lag 0",
			broker:  100,
			commits: []c{{1, 500, sec(1)}},
			want:    []want{{1, 500, sec(1), 0}},
		},
		{
			name:   "intervals 1: each newer commit replaces the only one",
			broker: 100, intervals: 1,
			commits: []c{{1, 10, sec(1)}, {3, 30, sec(3)}, {2, 20, sec(2)}},
			want:    []want{{3, 30, sec(3), 70}},
		},
		{
			name:   "intervals 3: inserts and appends wrap around the ring",
			broker: 1000, intervals: 3,
			commits: []c{{1, 10, sec(1)}, {2, 20, sec(2)}, {4, 40, sec(4)}, {5, 50, sec(5)}, {3, 30, sec(3)}, {6, 60, sec(6)}},
			want:    []want{{4, 40, sec(4), 960}, {5, 50, sec(5), 950}, {6, 60, sec(6), 940}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, _ := newStore(t, Config{Intervals: tt.intervals, MinDistance: tt.minDistance})
			s.Handle(broker("t", 0, 1, tt.broker))
			for _, c := range tt.commits {
				s.Handle(commit("g", "t", 0, c.offset, c.order, c.ts))
			}
			topics, ok := fetchConsumer(s, "g")
			if !ok {
				t.Fatal("group not found")
			}
			size := max(tt.intervals, DefaultIntervals)
			if tt.intervals != 0 {
				size = tt.intervals
			}
			got := window(topics["t"][0].Offsets)
			if len(got) != size {
				t.Fatalf("window has %d slots, want %d", len(got), size)
			}
			wantSlots := make([]slot, size-len(tt.want))
			for i := range wantSlots {
				wantSlots[i] = slot{nil_: true}
			}
			for _, w := range tt.want {
				wantSlots = append(wantSlots, slot{offset: w.offset, order: w.order, ts: w.ts, lag: w.lag})
			}
			if !reflect.DeepEqual(got, wantSlots) {
				t.Errorf("window:\n got %v\nwant %v", fmtSlots(got), fmtSlots(wantSlots))
			}
			last := tt.lastCommit
			if last == 0 {
				last = lastAppended(tt.commits)
			}
			g := s.shards[s.worker(0, "g")].groups[0]["g"]
			if g.lastCommit != last {
				t.Errorf("lastCommit = %d, want %d", g.lastCommit, last)
			}
		})
	}
}

// wantsOf is the expected content for commits that were all appended against
// broker offset b.
func wantsOf(cs []c, b int64) []want {
	out := make([]want, len(cs))
	for i, c := range cs {
		out[i] = want{c.order, c.offset, c.ts, max(b-c.offset, 0)}
	}
	return out
}

// lastAppended is the Timestamp of the last commit newer than all before it.
func lastAppended(cs []c) int64 {
	var last, maxOrder int64
	for i, c := range cs {
		if i == 0 || c.order > maxOrder {
			maxOrder, last = c.order, c.ts
		}
	}
	return last
}

func fmtSlots(ss []slot) string {
	out := ""
	for _, s := range ss {
		if s.nil_ {
			out += " nil"
			continue
		}
		out += fmt.Sprintf(" {o%d off%d t%+d lag%d}", s.order, s.offset, (s.ts-t0)/1000, s.lag)
	}
	return out
}
