package notifier

import "github.com/prometheus/client_golang/prometheus"

var (
	notificationsDesc = prometheus.NewDesc("warren_notifications_total",
		"Notifications by notifier module, kind (open, close) and result: sent (the receiver accepted it), "+
			"failed (a permanent error, or every attempt failed), abandoned (replaced by a newer notification "+
			"for the same group, or left when stopping).",
		[]string{"notifier", "kind", "result"}, nil)
	retriesDesc = prometheus.NewDesc("warren_notification_retries_total",
		"Attempts to send a notification again after a transient failure, by notifier module.",
		[]string{"notifier"}, nil)
)

// Collector returns the notifier's metrics, read at scrape time: every
// module's warren_notifications_total{notifier,kind,result} and
// warren_notification_retries_total{notifier}. Register it once.
func (c *Coordinator) Collector() prometheus.Collector { return collector{c} }

type collector struct{ c *Coordinator }

func (collector) Describe(ch chan<- *prometheus.Desc) {
	ch <- notificationsDesc
	ch <- retriesDesc
}

func (col collector) Collect(ch chan<- prometheus.Metric) {
	for _, m := range col.c.modules {
		for kind := Open; kind <= Close; kind++ {
			for result := range numResults {
				ch <- prometheus.MustNewConstMetric(notificationsDesc, prometheus.CounterValue,
					float64(m.counts.n[kind][result].Load()), m.cfg.Name, kind.String(), resultNames[result])
			}
		}
		ch <- prometheus.MustNewConstMetric(retriesDesc, prometheus.CounterValue, float64(m.counts.retries.Load()), m.cfg.Name)
	}
}
