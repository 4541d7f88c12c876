package httpapi

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/spf13/viper"
	"go.uber.org/zap"

	"github.com/warrenlag/warren/evaluator"
	"github.com/warrenlag/warren/internal/config"
	"github.com/warrenlag/warren/protocol"
	"github.com/warrenlag/warren/storage"
)

// now is the fixed clock of the tests.
var now = time.UnixMilli(1700000200000)

type fixture struct {
	srv   *httptest.Server
	ch    chan *protocol.StorageRequest
	level zap.AtomicLevel
}

// newFixture starts storage (intervals 3, fixed clock) and the routes of the first
// listener, with Burrow-shaped data: topic orders with broker offsets
// [4321, 5000, 0] and group grp.
func newFixture(t *testing.T, extra string, opts ...func(*Options)) *fixture {
	t.Helper()
	v := viper.New()
	v.SetConfigType("toml")
	if err := v.ReadConfig(strings.NewReader(`
[general]
access-control-allow-origin = "*"
[cluster.local]
class-name = "kafka"
servers = ["kafka01:9092", "kafka02:9092"]
client-profile = "prof"
[client-profile.prof]
client-id = "burrow-x"
tls = "t1"
sasl = "s1"
[tls.t1]
noverify = true
[sasl.s1]
username = "u"
password = "secret"
[consumer.local]
class-name = "kafka"
cluster = "local"
servers = ["kafka01:9092"]
[storage.default]
class-name = "inmemory"
intervals = 3
[notifier.nh]
class-name = "http"
url-open = "http://x/open"
template-open = "testdata/post.tmpl"
[notifier.nh.extras]
app = "burrow"
[notifier.quiet]
class-name = "null"
template-open = "builtin:event-open"
[httpserver.default]
address = ":8000"
` + extra)); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Parse(v)
	if err != nil {
		t.Fatal(err)
	}
	ch := make(chan *protocol.StorageRequest)
	app := &protocol.ApplicationContext{Logger: zap.NewNop(), StorageChannel: ch, Viper: v,
		EvaluatorChannel: make(chan *protocol.EvaluatorRequest), Clock: func() time.Time { return now }}
	sc := &storage.Coordinator{App: app}
	sc.Configure()
	if err := sc.Start(); err != nil {
		t.Fatal(err)
	}
	ec := &evaluator.Coordinator{App: app}
	ec.Configure()
	if err := ec.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ec.Stop(); sc.Stop() })
	for p, off := range []int64{4321, 5000, 0} {
		ch <- &protocol.StorageRequest{RequestType: protocol.StorageSetBrokerOffset, Cluster: "local", Topic: "orders",
			Partition: int32(p), TopicPartitionCount: 3, Offset: off, Timestamp: now.UnixMilli()}
	}
	ch <- &protocol.StorageRequest{RequestType: protocol.StorageSetConsumerOffset, Cluster: "local", Group: "grp",
		Topic: "orders", Partition: 0, Offset: 1000, Order: 1, Timestamp: 1700000060000}
	ch <- &protocol.StorageRequest{RequestType: protocol.StorageSetConsumerOffset, Cluster: "local", Group: "grp",
		Topic: "orders", Partition: 0, Offset: 4021, Order: 2, Timestamp: 1700000120000}
	ch <- &protocol.StorageRequest{RequestType: protocol.StorageSetConsumerOwner, Cluster: "local", Group: "grp",
		Topic: "orders", Partition: 0, Owner: "/10.1.2.3", ClientID: "client-A"}
	ch <- &protocol.StorageRequest{RequestType: protocol.StorageSetConsumerOffset, Cluster: "local", Group: "other",
		Topic: "orders", Partition: 1, Offset: 10, Order: 1, Timestamp: 1700000120000}

	f := &fixture{ch: ch, level: zap.NewAtomicLevel()}
	o := Options{Storage: ch, Evaluator: app.EvaluatorChannel, Config: cfg, Host: "burrow01", Level: &f.level, Wait: time.Second}
	for _, opt := range opts {
		opt(&o)
	}
	s := New(o)
	f.srv = httptest.NewServer(s.Handler(cfg.HTTP[0]))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fixture) do(t *testing.T, method, path, body string, header ...string) (int, http.Header, string) {
	t.Helper()
	req, err := http.NewRequest(method, f.srv.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(b)
}

// golden is a GET of the fixture and its reply, byte for byte.
type golden struct {
	path   string
	status int
	body   string
}

// goldenBodies are the contract: the bodies of the fixture's routes.
func goldenBodies() []golden {
	req := func(path string) string { return `"request":{"url":"` + path + `","host":"burrow01"}` }
	// grp's partition 0: its last commit is 80 s old against a 60 s span.
	grpP0 := `{"topic":"orders","partition":0,"owner":"/10.1.2.3","client_id":"client-A","status":"STOP","start":{"offset":1000,"timestamp":1700000060000,"observedAt":1700000200000,"lag":3321},"end":{"offset":4021,"timestamp":1700000120000,"observedAt":1700000200000,"lag":300},"current_lag":300,"complete":0.6666667,"why":"STOP: last commit 80 s ago, window spans 60 s; lag 300, and no broker reading (1 kept) was at or below offset 4021"}`
	return []golden{
		{"/v3/kafka", 200, `{"error":false,"message":"cluster list returned","clusters":["local"],` + req("/v3/kafka") + `}`},
		{"/v3/kafka/local", 200, `{"error":false,"message":"cluster module detail returned","module":{"class-name":"kafka","servers":["kafka01:9092","kafka02:9092"],"client-profile":{"name":"prof","client-id":"burrow-x","kafka-version":"2.8.0","tls":{"name":"t1","noverify":true,"certfile":"","keyfile":"","cafile":""},"sasl":{"name":"s1","handshake-first":false,"username":"u"}},"topic-refresh":60,"offset-refresh":10},` + req("/v3/kafka/local") + `}`},
		{"/v3/kafka/LOCAL", 200, `{"error":false,"message":"cluster module detail returned","module":{"class-name":"kafka","servers":["kafka01:9092","kafka02:9092"],"client-profile":{"name":"prof","client-id":"burrow-x","kafka-version":"2.8.0","tls":{"name":"t1","noverify":true,"certfile":"","keyfile":"","cafile":""},"sasl":{"name":"s1","handshake-first":false,"username":"u"}},"topic-refresh":60,"offset-refresh":10},` + req("/v3/kafka/LOCAL") + `}`},
		{"/v3/kafka/nope", 404, `{"error":true,"message":"cluster module not found",` + req("/v3/kafka/nope") + `}`},
		{"/v3/kafka/local/topic", 200, `{"error":false,"message":"topic list returned","topics":["orders"],` + req("/v3/kafka/local/topic") + `}`},
		{"/v3/kafka/LOCAL/topic", 404, `{"error":true,"message":"cluster not found",` + req("/v3/kafka/LOCAL/topic") + `}`},
		{"/v3/kafka/local/topic/orders", 200, `{"error":false,"message":"topic offsets returned","offsets":[4321,5000,0],` + req("/v3/kafka/local/topic/orders") + `}`},
		{"/v3/kafka/local/topic/nope", 404, `{"error":true,"message":"cluster or topic not found",` + req("/v3/kafka/local/topic/nope") + `}`},
		{"/v3/kafka/local/topic/orders/consumers", 200, `{"error":false,"message":"consumers of topic returned","consumers":["grp","other"],` + req("/v3/kafka/local/topic/orders/consumers") + `}`},
		{"/v3/kafka/local/topic/nope/consumers", 200, `{"error":false,"message":"consumers of topic returned","consumers":[],` + req("/v3/kafka/local/topic/nope/consumers") + `}`},
		{"/v3/kafka/x/topic/orders/consumers", 404, `{"error":true,"message":"cluster not found",` + req("/v3/kafka/x/topic/orders/consumers") + `}`},
		{"/v3/kafka/local/consumer", 200, `{"error":false,"message":"consumer list returned","consumers":["grp","other"],` + req("/v3/kafka/local/consumer") + `}`},
		{"/v3/kafka/local/consumer/grp", 200, `{"error":false,"message":"consumer detail returned","topics":{"orders":[{"offsets":[null,{"offset":1000,"timestamp":1700000060000,"observedAt":1700000200000,"lag":3321},{"offset":4021,"timestamp":1700000120000,"observedAt":1700000200000,"lag":300}],"owner":"/10.1.2.3","client_id":"client-A","current-lag":300},{"offsets":[],"owner":"","client_id":"","current-lag":0},{"offsets":[],"owner":"","client_id":"","current-lag":0}]},` + req("/v3/kafka/local/consumer/grp") + `}`},
		{"/v3/kafka/local/consumer/nope", 404, `{"error":true,"message":"cluster or consumer not found",` + req("/v3/kafka/local/consumer/nope") + `}`},
		{"/v3/kafka/local/consumer/grp/status", 200, `{"error":false,"message":"consumer status returned","status":{"cluster":"local","group":"grp","status":"ERR","complete":0,"partitions":[` + grpP0 + `],"partition_count":3,"maxlag":` + grpP0 + `,"totallag":300},` + req("/v3/kafka/local/consumer/grp/status") + `}`},
		{"/v3/kafka/local/consumer/grp/lag", 200, `{"error":false,"message":"consumer status returned","status":{"cluster":"local","group":"grp","status":"ERR","complete":0,"partitions":[` + grpP0 + `,{"topic":"orders","partition":1,"owner":"","client_id":"","status":"OK","start":null,"end":null,"current_lag":0,"complete":0},{"topic":"orders","partition":2,"owner":"","client_id":"","status":"OK","start":null,"end":null,"current_lag":0,"complete":0}],"partition_count":3,"maxlag":` + grpP0 + `,"totallag":300},` + req("/v3/kafka/local/consumer/grp/lag") + `}`},
		{"/v3/kafka/local/consumer/nogroup/status", 404, `{"error":false,"message":"consumer status returned","status":{"cluster":"local","group":"nogroup","status":"NOTFOUND","complete":1,"partitions":[],"partition_count":0,"maxlag":null,"totallag":0},` + req("/v3/kafka/local/consumer/nogroup/status") + `}`},
		{"/v3/admin/loglevel", 200, `{"error":false,"message":"log level returned","level":"info",` + req("/v3/admin/loglevel") + `}`},
		{"/v3/config", 200, `{"error":false,"message":"main config returned",` + req("/v3/config") + `,"general":{"pidfile":"burrow.pid","stdout-logfile":"","access-control-allow-origin":"*"},"logging":{"filename":"","max-size":100,"max-backups":10,"max-age":30,"use-local-time":false,"use-compression":false,"level":"info"},"zookeeper":{"servers":null,"timeout":0,"root-path":""},"httpserver":{"default":{"address":":8000","tls":"","timeout":300}}}`},
		{"/v3/config/storage", 200, `{"error":false,"message":"module list returned",` + req("/v3/config/storage") + `,"coordinator":"storage","modules":["default"]}`},
		{"/v3/config/evaluator", 200, `{"error":false,"message":"module list returned",` + req("/v3/config/evaluator") + `,"coordinator":"evaluator","modules":["default"]}`},
		{"/v3/config/notifier", 200, `{"error":false,"message":"module list returned",` + req("/v3/config/notifier") + `,"coordinator":"notifier","modules":["nh","quiet"]}`},
		{"/v3/config/consumer", 200, `{"error":false,"message":"module list returned",` + req("/v3/config/consumer") + `,"coordinator":"consumer","modules":["local"]}`},
		{"/v3/config/cluster", 200, `{"error":false,"message":"module list returned",` + req("/v3/config/cluster") + `,"coordinator":"cluster","modules":["local"]}`},
		{"/v3/config/cluster/local", 200, `{"error":false,"message":"cluster module detail returned","module":{"class-name":"kafka","servers":["kafka01:9092","kafka02:9092"],"client-profile":{"name":"prof","client-id":"burrow-x","kafka-version":"2.8.0","tls":{"name":"t1","noverify":true,"certfile":"","keyfile":"","cafile":""},"sasl":{"name":"s1","handshake-first":false,"username":"u"}},"topic-refresh":60,"offset-refresh":10},` + req("/v3/config/cluster/local") + `}`},
		{"/v3/config/notifier/nh", 200, `{"error":false,"message":"notifier module detail returned","module":{"class-name":"http","group-allowlist":"","interval":60,"threshold":2,"timeout":5,"keepalive":300,"url-open":"http://x/open","url-close":"","method-open":"POST","method-close":"","template-open":"testdata/post.tmpl","template-close":"","extra":{"app":"burrow"},"send-close":false,"extra-ca":"","noverify":""},` + req("/v3/config/notifier/nh") + `}`},
		{"/v3/config/notifier/quiet", 200, `{"error":false,"message":"notifier module detail returned","module":{"class-name":"null","group-allowlist":"","interval":60,"threshold":2,"template-open":"builtin:event-open","template-close":"","extra":{},"send-close":false},` + req("/v3/config/notifier/quiet") + `}`},
		{"/v3/config/consumer/local", 200, `{"error":false,"message":"consumer module detail returned","module":{"class-name":"kafka","cluster":"local","servers":["kafka01:9092"],"group-allowlist":"","zookeeper-path":"","zookeeper-timeout":0,"client-profile":{"name":"","client-id":"burrow-lagchecker","kafka-version":"2.8.0","tls":null,"sasl":null},"offsets-topic":"__consumer_offsets","start-latest":false},` + req("/v3/config/consumer/local") + `}`},
		{"/v3/config/storage/default", 200, `{"error":false,"message":"storage module detail returned","module":{"class-name":"inmemory","intervals":3,"min-distance":0,"group-allowlist":"","expire-group":604800},` + req("/v3/config/storage/default") + `}`},
		{"/v3/config/evaluator/default", 200, `{"error":false,"message":"evaluator module detail returned","module":{"class-name":"caching","expire-cache":10},` + req("/v3/config/evaluator/default") + `}`},
		{"/v3/config/consumer/local", 200, `{"error":false,"message":"consumer module detail returned","module":{"class-name":"kafka","cluster":"local","servers":["kafka01:9092"],"group-allowlist":"","zookeeper-path":"","zookeeper-timeout":0,"client-profile":{"name":"","client-id":"burrow-lagchecker","kafka-version":"2.8.0","tls":null,"sasl":null},"offsets-topic":"__consumer_offsets","start-latest":false},` + req("/v3/config/consumer/local") + `}`},
		{"/v3/config/cluster/nope", 404, `{"error":true,"message":"cluster module not found",` + req("/v3/config/cluster/nope") + `}`},
		{"/v3/config/storage/nope", 404, `{"error":true,"message":"storage module not found",` + req("/v3/config/storage/nope") + `}`},
	}
}

func TestGoldenBodies(t *testing.T) {
	f := newFixture(t, "")
	for _, tt := range goldenBodies() {
		status, h, body := f.do(t, "GET", tt.path, "")
		if status != tt.status || body != tt.body {
			t.Errorf("GET %s = %d\n%s\nwant %d\n%s", tt.path, status, body, tt.status, tt.body)
		}
		if h.Get("Content-Type") != "application/json" || h.Get("Access-Control-Allow-Origin") != "*" {
			t.Errorf("GET %s headers %v", tt.path, h)
		}
	}
}

func TestRouter(t *testing.T) {
	f := newFixture(t, "")
	catchAll := `{"error":true,"message":"invalid request type","result":{}}` + "\n"
	tests := []struct {
		method, path string
		status       int
		allow, body  string
	}{
		{"GET", "/nope", 404, "", catchAll},
		{"GET", "/v3/config/httpserver", 404, "", catchAll},
		{"GET", "/v3/kafka/a%2Fb/consumer", 404, "", catchAll},
		{"POST", "/v3/kafka", 405, "GET, OPTIONS", "Method Not Allowed\n"},
		{"HEAD", "/v3/kafka", 405, "GET, OPTIONS", ""},
		{"PUT", "/v3/kafka/local/consumer/grp", 405, "DELETE, GET, OPTIONS", "Method Not Allowed\n"},
		{"OPTIONS", "/v3/kafka/local/consumer/grp", 200, "DELETE, GET, OPTIONS", ""},
		{"GET", "/burrow/admin", 200, "", "GOOD"},
		{"GET", "/burrow/admin/ready", 503, "", "STARTING"},
		// Unclean paths, as the original's router treats them.
		{"GET", "/v3/kafka//topic", 404, "", `{"error":true,"message":"cluster not found","request":{"url":"/v3/kafka//topic","host":"burrow01"}}`},
		{"GET", "/v3/kafka/a%2F/consumer", 404, "", catchAll},
	}
	for _, tt := range tests {
		status, h, body := f.do(t, tt.method, tt.path, "")
		if status != tt.status || h.Get("Allow") != tt.allow || body != tt.body {
			t.Errorf("%s %s = %d allow %q body %q", tt.method, tt.path, status, h.Get("Allow"), body)
		}
	}
}

// TestUncleanPaths: a path that is a route once cleaned is redirected with 301
// (GET) or 307 (other methods) to the cleaned path, as the original does.
func TestUncleanPaths(t *testing.T) {
	f := newFixture(t, "")
	for _, tt := range []struct {
		method, path string
		status       int
		location     string
	}{
		{"GET", "//v3/kafka", 301, "/v3/kafka"},
		{"GET", "/./v3/kafka", 301, "/v3/kafka"},
		{"GET", "/v3/kafka/../v3/kafka", 301, "/v3/v3/kafka"}, // ".." takes "kafka" away
		{"GET", "/v3/kafka/acc//consumer", 301, "/v3/kafka/acc/consumer"},
		{"GET", "/v3/kafka/acc//consumer?x=1", 301, "/v3/kafka/acc/consumer?x=1"},
		{"DELETE", "/v3/kafka/local/consumer//grp", 307, "/v3/kafka/local/consumer/grp"},
	} {
		// Written on the wire by hand: Go's client would send "//v3/kafka" as
		// an absolute URI.
		conn, err := net.Dial("tcp", f.srv.Listener.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(conn, "%s %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", tt.method, tt.path)
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		conn.Close()
		if resp.StatusCode != tt.status || resp.Header.Get("Location") != tt.location {
			t.Errorf("%s %s = %d Location %q, want %d %q", tt.method, tt.path, resp.StatusCode, resp.Header.Get("Location"), tt.status, tt.location)
		}
	}
}

func TestDeleteAndLogLevel(t *testing.T) {
	f := newFixture(t, "")
	status, _, body := f.do(t, "DELETE", "/v3/kafka/local/consumer/other", "")
	if status != 200 || body != `{"error":false,"message":"consumer group removed","request":{"url":"/v3/kafka/local/consumer/other","host":"burrow01"}}` {
		t.Errorf("delete: %d %s", status, body)
	}
	if _, _, body := f.do(t, "GET", "/v3/kafka/local/consumer", ""); !strings.Contains(body, `"consumers":["grp"]`) {
		t.Errorf("after delete: %s", body)
	}
	f.do(t, "DELETE", "/v3/kafka/local/consumer/grp/topic/orders", "")
	if status, _, _ := f.do(t, "GET", "/v3/kafka/local/consumer/grp", ""); status != 404 {
		t.Errorf("group with its last topic deleted: %d", status)
	}

	for _, tt := range []struct {
		body   string
		status int
		level  string
	}{
		{`{"level":"DEBUG"}`, 200, "debug"},
		{`{"level":"warning"}`, 200, "warn"},
		{`{"level":"trace","x":1}`, 200, "debug"},
		{`{"level":"panic"}`, 404, "debug"},
		{`{}`, 404, "debug"},
		{`not json`, 400, "debug"},
	} {
		status, _, _ := f.do(t, "POST", "/v3/admin/loglevel", tt.body)
		if status != tt.status || f.level.Level().String() != tt.level {
			t.Errorf("POST %s: %d, level %s", tt.body, status, f.level.Level())
		}
	}
}

func TestMutatingProtection(t *testing.T) {
	f := newFixture(t, `mutating-routes = "token"
mutating-token = "s3cret"`)
	if status, h, _ := f.do(t, "DELETE", "/v3/kafka/local/consumer/grp", ""); status != 401 || h.Get("WWW-Authenticate") == "" {
		t.Errorf("no token: %d", status)
	}
	if status, _, _ := f.do(t, "POST", "/v3/admin/loglevel", `{"level":"debug"}`, "Authorization", "Bearer wrong"); status != 401 {
		t.Errorf("wrong token: %d", status)
	}
	if status, _, _ := f.do(t, "DELETE", "/v3/kafka/local/consumer/grp", "", "Authorization", "Bearer s3cret"); status != 200 {
		t.Errorf("right token: %d", status)
	}
	g := newFixture(t, `mutating-routes = "disabled"`)
	if status, _, _ := g.do(t, "DELETE", "/v3/kafka/local/consumer/grp", ""); status != 403 {
		t.Errorf("disabled: %d", status)
	}
	if status, _, _ := g.do(t, "GET", "/v3/kafka/local/consumer/grp", ""); status != 200 {
		t.Errorf("reads still open: %d", status)
	}
}

// TestStorageTimeout: a storage that does not answer gives a 503, not a hang.
func TestStorageTimeout(t *testing.T) {
	v := viper.New()
	cfg, _ := config.Parse(v)
	s := New(Options{Storage: make(chan *protocol.StorageRequest), Config: cfg, Wait: 50 * time.Millisecond, Host: "h"})
	srv := httptest.NewServer(s.Handler(cfg.HTTP[0]))
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/v3/kafka")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 503 {
		t.Errorf("status %d", resp.StatusCode)
	}
}

// TestCrossSiteWrites: a page of another site cannot change state, whatever
// the mode, while reads stay open to dashboards and curl keeps working.
func TestCrossSiteWrites(t *testing.T) {
	f := newFixture(t, "")
	f.level.SetLevel(zap.InfoLevel)
	for _, tt := range []struct {
		name    string
		headers []string
		status  int
		level   string
	}{
		{"cross-origin text/plain, as a page sends it", []string{"Origin", "http://evil.example", "Content-Type", "text/plain"}, 403, "info"},
		{"cross-origin JSON", []string{"Origin", "http://evil.example", "Content-Type", "application/json"}, 403, "info"},
		{"Sec-Fetch-Site cross-site", []string{"Sec-Fetch-Site", "cross-site"}, 403, "info"},
		{"Origin null (sandboxed page)", []string{"Origin", "null"}, 403, "info"},
		{"text/plain without an origin", []string{"Content-Type", "text/plain; charset=utf-8"}, 415, "info"},
		{"multipart form", []string{"Content-Type", "multipart/form-data; boundary=x"}, 415, "info"},
		{"curl -d (form encoded)", []string{"Content-Type", "application/x-www-form-urlencoded"}, 200, "debug"},
		{"same origin", []string{"Origin", "http://" + f.srv.Listener.Addr().String(), "Content-Type", "application/json", "Sec-Fetch-Site", "same-origin"}, 200, "debug"},
	} {
		f.level.SetLevel(zap.InfoLevel)
		status, h, _ := f.do(t, "POST", "/v3/admin/loglevel", `{"level":"debug"}`, tt.headers...)
		if status != tt.status || f.level.Level().String() != tt.level {
			t.Errorf("%s: %d, level %s; want %d, %s", tt.name, status, f.level.Level(), tt.status, tt.level)
		}
		if status == 403 && h.Get("Access-Control-Allow-Origin") == "http://evil.example" {
			t.Errorf("%s: the refused origin is echoed back", tt.name)
		}
	}
	if status, _, _ := f.do(t, "DELETE", "/v3/kafka/local/consumer/grp", "", "Origin", "http://evil.example"); status != 403 {
		t.Errorf("cross-origin DELETE: %d", status)
	}
	status, h, _ := f.do(t, "GET", "/v3/kafka/local/consumer", "", "Origin", "http://evil.example", "Sec-Fetch-Site", "cross-site")
	if status != 200 || h.Get("Access-Control-Allow-Origin") != "*" {
		t.Errorf("cross-origin GET: %d, ACAO %q; reads stay open", status, h.Get("Access-Control-Allow-Origin"))
	}
}

// TestPreflight: pre-flights are answered for the allowed origins only, so a
// dashboard there can send the bearer token of mutating-routes = "token".
func TestPreflight(t *testing.T) {
	f := newFixture(t, `mutating-routes = "token"
mutating-token = "s3cret"
allowed-origins = ["https://dash.example.com"]`)
	pre := []string{"Origin", "https://dash.example.com", "Access-Control-Request-Method", "DELETE",
		"Access-Control-Request-Headers", "authorization"}
	status, h, _ := f.do(t, "OPTIONS", "/v3/kafka/local/consumer/grp", "", pre...)
	if status != 200 || h.Get("Access-Control-Allow-Origin") != "https://dash.example.com" ||
		h.Get("Access-Control-Allow-Methods") != "DELETE, GET, OPTIONS" ||
		!strings.Contains(h.Get("Access-Control-Allow-Headers"), "Authorization") {
		t.Errorf("pre-flight from an allowed origin: %d %v", status, h)
	}
	pre[1] = "https://evil.example"
	status, h, _ = f.do(t, "OPTIONS", "/v3/kafka/local/consumer/grp", "", pre...)
	if status != 200 || h.Get("Access-Control-Allow-Origin") != "" || h.Get("Access-Control-Allow-Methods") != "" {
		t.Errorf("pre-flight from another origin: %d %v", status, h)
	}
	status, h, _ = f.do(t, "DELETE", "/v3/kafka/local/consumer/other", "", "Origin", "https://dash.example.com",
		"Sec-Fetch-Site", "cross-site", "Authorization", "Bearer s3cret")
	if status != 200 || h.Get("Access-Control-Allow-Origin") != "https://dash.example.com" {
		t.Errorf("DELETE from the allowed origin with the token: %d, ACAO %q", status, h.Get("Access-Control-Allow-Origin"))
	}
	if status, _, _ := f.do(t, "DELETE", "/v3/kafka/local/consumer/grp", "", "Origin", "https://evil.example",
		"Authorization", "Bearer s3cret"); status != 403 {
		t.Errorf("DELETE from another origin, even with the token: %d", status)
	}
}
