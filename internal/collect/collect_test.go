package collect

import (
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestCollector(t *testing.T) {
	drops := map[string]uint64{"expired": 3, "unknown_cluster": 1}
	n := uint64(7)
	c := New(
		Family{Name: "x_drops_total", Help: "Drops.", Labels: []string{"reason"}, Read: Map(func() map[string]uint64 { return drops })},
		Family{Name: "x_open", Help: "Open.", Gauge: true, Read: Value(func() uint64 { return n })},
	)
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(c)
	want := `# HELP x_drops_total Drops.
# TYPE x_drops_total counter
x_drops_total{reason="expired"} 3
x_drops_total{reason="unknown_cluster"} 1
# HELP x_open Open.
# TYPE x_open gauge
x_open 7
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want)); err != nil {
		t.Error(err)
	}
	n = 9 // read at scrape time
	if err := testutil.GatherAndCompare(reg, strings.NewReader(strings.Replace(want, "x_open 7", "x_open 9", 1))); err != nil {
		t.Error(err)
	}
}
