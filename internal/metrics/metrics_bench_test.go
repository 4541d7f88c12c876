package metrics

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/warrenlag/warren/internal/workload"
)

// BenchmarkScrape is one /metrics scrape of 200 groups x 500 partitions over a
// real socket (cache off: every group is evaluated by the scrape). It reports
// the bytes of the response.
func BenchmarkScrape(b *testing.B) {
	app := workload.Start(b, 200)
	srv := httptest.NewServer(Handler(Options{Storage: app.StorageChannel, Evaluator: app.EvaluatorChannel}))
	defer srv.Close()
	b.ReportAllocs()
	var n int64
	for b.Loop() {
		resp, err := http.Get(srv.URL)
		if err != nil {
			b.Fatal(err)
		}
		n, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || n < 1<<20 {
			b.Fatalf("status %d, %d bytes", resp.StatusCode, n)
		}
	}
	b.ReportMetric(float64(n), "bytes/scrape")
}
