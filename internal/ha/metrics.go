package ha

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

var (
	leaderDesc = prometheus.NewDesc("warren_ha_leader",
		"1 while this instance is the leader, which evaluates for the notifier and sends notifications; 0 otherwise.", nil, nil)
	generationDesc = prometheus.NewDesc("warren_ha_generation",
		"The election group's generation this instance last joined, -1 when it is not a member.", nil, nil)
	electionsDesc = prometheus.NewDesc("warren_ha_elections_total",
		"Times this instance became the leader.", nil, nil)
	demotionsDesc = prometheus.NewDesc("warren_ha_demotions_total",
		"Times this instance stopped being the leader, by reason: revoked (another member was given the partition), "+
			"lost (the group session ended on an error), lease (no word from the coordinating cluster for the lease), stop.",
		[]string{"reason"}, nil)
	contactErrorsDesc = prometheus.NewDesc("warren_ha_contact_errors_total",
		"Requests to the group coordinator of the coordinating cluster that failed (join, heartbeat, sync).", nil, nil)
	takeoverDesc = prometheus.NewDesc("warren_ha_takeover_seconds",
		"How long this instance's last take-over took, from the assignment to its first evaluation allowed "+
			"(reading the state topic to its end included).", nil, nil)
	recordsDesc = prometheus.NewDesc("warren_ha_state_records_total",
		"Records read from the state topic, by result: applied, stale (a deposed leader's), garbage, "+
			"future_version, foreign (another group-id's), tombstone.", []string{"result"}, nil)
	writesDesc = prometheus.NewDesc("warren_ha_state_writes_total",
		"Records of the notifier's state written to the state topic, by result: ok, failed, dropped (not the leader).",
		[]string{"result"}, nil)
)

// Collector returns the coordinator's metrics, read at scrape time. Register
// it once.
func (c *Coordinator) Collector() prometheus.Collector { return collector{c} }

type collector struct{ c *Coordinator }

func (collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{leaderDesc, generationDesc, electionsDesc, demotionsDesc, contactErrorsDesc,
		takeoverDesc, recordsDesc, writesDesc} {
		ch <- d
	}
}

func (col collector) Collect(ch chan<- prometheus.Metric) {
	c := col.c
	leader := 0.0
	if c.Leader() {
		leader = 1
	}
	ch <- prometheus.MustNewConstMetric(leaderDesc, prometheus.GaugeValue, leader)
	ch <- prometheus.MustNewConstMetric(generationDesc, prometheus.GaugeValue, float64(c.generation.Load()))
	ch <- prometheus.MustNewConstMetric(electionsDesc, prometheus.CounterValue, float64(c.elections.Load()))
	for i := range numDemotions {
		ch <- prometheus.MustNewConstMetric(demotionsDesc, prometheus.CounterValue, float64(c.demotions[i].Load()), demotionNames[i])
	}
	ch <- prometheus.MustNewConstMetric(contactErrorsDesc, prometheus.CounterValue, float64(c.contactErrors.Load()))
	ch <- prometheus.MustNewConstMetric(takeoverDesc, prometheus.GaugeValue, time.Duration(c.takeover.Load()).Seconds())
	for i := range numResults {
		ch <- prometheus.MustNewConstMetric(recordsDesc, prometheus.CounterValue, float64(c.table.counts[i].Load()), resultNames[i])
	}
	for i := range numWrites {
		ch <- prometheus.MustNewConstMetric(writesDesc, prometheus.CounterValue, float64(c.writes[i].Load()), writeNames[i])
	}
}

// Status is what GET /v3/admin/ha shows of this instance.
type Status struct {
	Leader     bool   `json:"leader"`
	Cluster    string `json:"cluster"`
	Group      string `json:"group"`
	Member     string `json:"member"`
	Generation int32  `json:"generation"`
	Epoch      uint64 `json:"epoch"`
	Elections  uint64 `json:"elections"`
}

// Status returns this instance's view of the election.
func (c *Coordinator) Status() Status {
	s := Status{Leader: c.Leader(), Cluster: c.cfg.Cluster, Group: c.cfg.GroupID, Generation: c.generation.Load(),
		Elections: c.elections.Load()}
	if m := c.member.Load(); m != nil {
		s.Member = *m
	}
	if f := c.writer.Load(); f != nil {
		s.Epoch = f.epoch
	}
	return s
}

// Handler serves Status as JSON, in the shape of Burrow's admin replies.
func (c *Coordinator) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(struct {
			Error   bool   `json:"error"`
			Message string `json:"message"`
			HA      Status `json:"ha"`
		}{false, "ha status returned", c.Status()})
	})
}
