package httpapi

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/spf13/viper"
	"go.uber.org/zap"

	"github.com/warrenlag/warren/evaluator"
	"github.com/warrenlag/warren/internal/config"
	"github.com/warrenlag/warren/protocol"
	"github.com/warrenlag/warren/storage"
)

// benchWorld is a started storage and evaluator (defaults: intervals 10,
// expire-cache 10 s, under a fixed clock so the cache never expires) holding
// one group, group-000, of 10 topics x 50 partitions with full windows:
// even topics catch up once in the window (OK), odd ones fall behind (WARN, with a
// reason and a lag in time). /lag lists 500 partitions, /status 250.
type benchWorld struct {
	srv *Server
	h   http.Handler
	cfg *config.Config
	app *protocol.ApplicationContext
}

func newBenchWorld(b *testing.B) *benchWorld {
	b.Helper()
	v := viper.New()
	v.Set("cluster.local.class-name", "kafka")
	v.Set("cluster.local.servers", []string{"kafka01:9092"})
	cfg, err := config.Parse(v)
	if err != nil {
		b.Fatal(err)
	}
	now := time.UnixMilli(1700000200000)
	app := &protocol.ApplicationContext{Logger: zap.NewNop(), Viper: v, Clock: func() time.Time { return now },
		StorageChannel: make(chan *protocol.StorageRequest), EvaluatorChannel: make(chan *protocol.EvaluatorRequest)}
	sc := &storage.Coordinator{App: app}
	sc.Configure()
	if err := sc.Start(); err != nil {
		b.Fatal(err)
	}
	ec := &evaluator.Coordinator{App: app}
	ec.Configure()
	if err := ec.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { ec.Stop(); sc.Stop() })
	nowMs := now.UnixMilli()
	for round := int64(1); round <= 10; round++ {
		for t := range 10 {
			topic := fmt.Sprintf("topic-%03d", t)
			for p := range 50 {
				// Offsets and times that differ by partition, as real ones do,
				// so that gzip is not flattered.
				base := int64(t*104729+p*7919) * 1000
				rate := int64(1000 + p*37 + t*11)
				app.StorageChannel <- &protocol.StorageRequest{RequestType: protocol.StorageSetBrokerOffset, Cluster: "local",
					Topic: topic, Partition: int32(p), TopicPartitionCount: 50, Offset: base + round*2*rate,
					Timestamp: nowMs - (10-round)*10000 - int64(p*61)}
				commit := base + round*2*rate - int64(p+1)*3 // caught up once in the window: OK
				if round == 5 {
					commit = base + round*2*rate
				}
				if t%2 == 1 {
					commit = base + round*rate // growing lag: WARN
				}
				app.StorageChannel <- &protocol.StorageRequest{RequestType: protocol.StorageSetConsumerOffset, Cluster: "local",
					Group: "group-000", Topic: topic, Partition: int32(p), Offset: commit, Order: round,
					Timestamp: nowMs - (10-round)*10000 - int64(p*53%1000)}
			}
		}
	}
	for t := range 10 {
		for p := range 50 {
			app.StorageChannel <- &protocol.StorageRequest{RequestType: protocol.StorageSetConsumerOwner, Cluster: "local",
				Group: "group-000", Topic: fmt.Sprintf("topic-%03d", t), Partition: int32(p),
				Owner: fmt.Sprintf("/10.1.2.%d", p), ClientID: fmt.Sprintf("consumer-%d", p%7)}
		}
	}
	s := New(Options{Storage: app.StorageChannel, Evaluator: app.EvaluatorChannel, Config: cfg, Host: "burrow01"})
	return &benchWorld{srv: s, h: s.Handler(cfg.HTTP[0]), cfg: cfg, app: app}
}

// status asks the evaluator once, as the route does, and checks the shape.
func (bw *benchWorld) status(b *testing.B, showAll bool) *protocol.ConsumerGroupStatus {
	st, err := bw.srv.asker.Status(b.Context(), "local", "group-000", showAll)
	if err != nil || st.TotalPartitions != 500 {
		b.Fatalf("status: %v, %+v", err, st)
	}
	return st
}

// discard is a ResponseWriter that keeps its headers and counts the body.
type discard struct {
	h    http.Header
	code int
	n    int
}

func (d *discard) Header() http.Header         { return d.h }
func (d *discard) WriteHeader(code int)        { d.code = code }
func (d *discard) Write(p []byte) (int, error) { d.n += len(p); return len(p), nil }

var statusRoutes = []struct {
	name    string
	showAll bool
}{{"lag", true}, {"status", false}}

// BenchmarkStatusEncode is the encoding path of /lag and /status alone: the
// reply of a 500-partition group's status, already evaluated, written with
// its headers into a ResponseWriter that discards it; with /gzip, for a
// client that accepts gzip (bytes/body is then what is sent).
func BenchmarkStatusEncode(b *testing.B) {
	bw := newBenchWorld(b)
	for _, rt := range statusRoutes {
		for _, gz := range []bool{false, true} {
			name := "route=" + rt.name + "/partitions=500"
			if gz {
				name += "/gzip"
			}
			b.Run(name, func(b *testing.B) {
				st := bw.status(b, rt.showAll)
				r := httptest.NewRequest("GET", "/v3/kafka/local/consumer/group-000/"+rt.name, nil)
				if gz {
					r.Header.Set("Accept-Encoding", "gzip")
				}
				w := &discard{h: http.Header{}}
				b.ReportAllocs()
				for b.Loop() {
					w.n = 0
					bw.srv.reply(w, r, http.StatusOK, statusReply{Message: "consumer status returned", Status: st, Request: bw.srv.info(r)})
				}
				b.ReportMetric(float64(w.n), "bytes/body")
			})
		}
	}
}

// BenchmarkStatusRoute is a whole GET of /lag and /status for the
// 500-partition group with the evaluator's cache warm (as by default within
// expire-cache): routing, the evaluator's round trip and copy of its cached
// result, encoding, and either an httptest.ResponseRecorder (via=recorder)
// or a real socket and client (via=socket, identity encoding; via=socket-gzip,
// a Go client that asks for gzip and decompresses).
func BenchmarkStatusRoute(b *testing.B) {
	bw := newBenchWorld(b)
	srv := httptest.NewServer(bw.h)
	b.Cleanup(srv.Close)
	client := &http.Client{Transport: &http.Transport{DisableCompression: true}}
	gzClient := &http.Client{Transport: &http.Transport{}} // asks for gzip and decompresses, as Go clients do
	for _, rt := range statusRoutes {
		path := "/v3/kafka/local/consumer/group-000/" + rt.name
		bw.status(b, rt.showAll) // warm the cache
		b.Run("route="+rt.name+"/partitions=500/via=recorder", func(b *testing.B) {
			r := httptest.NewRequest("GET", path, nil)
			b.ReportAllocs()
			for b.Loop() {
				w := httptest.NewRecorder()
				bw.h.ServeHTTP(w, r)
				if w.Code != http.StatusOK {
					b.Fatalf("status %d", w.Code)
				}
			}
		})
		b.Run("route="+rt.name+"/partitions=500/via=socket", func(b *testing.B) {
			b.ReportAllocs()
			var n int64
			for b.Loop() {
				resp, err := client.Get(srv.URL + path)
				if err != nil {
					b.Fatal(err)
				}
				n, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					b.Fatalf("status %d", resp.StatusCode)
				}
			}
			b.ReportMetric(float64(n), "bytes/body")
		})
		b.Run("route="+rt.name+"/partitions=500/via=socket-gzip", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				resp, err := gzClient.Get(srv.URL + path)
				if err != nil {
					b.Fatal(err)
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK || !resp.Uncompressed {
					b.Fatalf("status %d, uncompressed by the client %v", resp.StatusCode, resp.Uncompressed)
				}
			}
		})
	}
}

// BenchmarkConsumerEncode is the encoding path of the consumer detail route
// for the same group: 500 partitions of 10 commits each.
func BenchmarkConsumerEncode(b *testing.B) {
	bw := newBenchWorld(b)
	r := httptest.NewRequest("GET", "/v3/kafka/local/consumer/group-000", nil)
	v, ok, err := bw.srv.asker.Fetch(b.Context(), &protocol.StorageRequest{RequestType: protocol.StorageFetchConsumer,
		Cluster: "local", Group: "group-000"})
	if err != nil || !ok {
		b.Fatal(ok, err)
	}
	topics := v.(protocol.ConsumerTopics)
	w := &discard{h: http.Header{}}
	b.Run("partitions=500", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			w.n = 0
			bw.srv.reply(w, r, http.StatusOK, consumerDetailReply{Message: "consumer detail returned", Topics: topics, Request: bw.srv.info(r)})
		}
		b.ReportMetric(float64(w.n), "bytes/body")
	})
}

// BenchmarkListEncode is the encoding path of a name list (consumer list) of
// 1,000 groups.
func BenchmarkListEncode(b *testing.B) {
	s := New(Options{Config: &config.Config{}, Host: "burrow01"})
	names := make([]string, 1000)
	for i := range names {
		names[i] = fmt.Sprintf("group-%04d", i)
	}
	r := httptest.NewRequest("GET", "/v3/kafka/local/consumer", nil)
	w := &discard{h: http.Header{}}
	b.Run("names=1000", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			w.n = 0
			s.reply(w, r, http.StatusOK, consumersReply{Message: "consumer list returned", Consumers: names, Request: s.info(r)})
		}
		b.ReportMetric(float64(w.n), "bytes/body")
	})
}
