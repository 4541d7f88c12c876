package decimal

import (
	"math"
	"math/rand/v2"
	"strconv"
	"testing"
)

func TestAppend(t *testing.T) {
	vals := []int64{0, 1, 9, 10, 99, 100, 101, 999, 1000, 12345, math.MaxInt64, math.MinInt64, -1, -10, -99, -100}
	for i := range 63 {
		vals = append(vals, 1<<i, 1<<i-1, -(1 << i))
	}
	for range 10000 {
		vals = append(vals, rand.Int64(), -rand.Int64N(1<<40))
	}
	for _, v := range vals {
		if got, want := string(AppendInt([]byte("x"), v)), "x"+strconv.FormatInt(v, 10); got != want {
			t.Fatalf("AppendInt(%d) = %q, want %q", v, got, want)
		}
	}
	for _, u := range []uint64{math.MaxUint64, 1e19, 1e19 - 1, 1<<63 + 5} {
		if got, want := string(AppendUint(nil, u)), strconv.FormatUint(u, 10); got != want {
			t.Fatalf("AppendUint(%d) = %q, want %q", u, got, want)
		}
	}
}
