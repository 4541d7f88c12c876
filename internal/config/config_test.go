package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func write(t *testing.T, dir, name, body string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// burrowSample is the shape of Burrow's sample configuration.
const burrowSample = `
[general]
pidfile="burrow.pid"
stdout-logfile="burrow.out"
access-control-allow-origin="mysite.example.com"

[logging]
filename="logs/burrow.log"
level="info"
maxsize=100
maxbackups=30
maxage=10
use-localtime=false
use-compression=true

[zookeeper]
servers=[ "zkhost01.example.com:2181", "zkhost02.example.com:2181" ]
timeout=6
root-path="/burrow"

[client-profile.test]
client-id="burrow-test"
kafka-version="0.10.0"

[cluster.Local]
class-name="kafka"
servers=[ "kafka01.example.com:10251", "kafka02.example.com:10251" ]
client-profile="test"
topic-refresh=120
offset-refresh=30
groups-reaper-refresh=0

[consumer.local]
class-name="kafka"
cluster="local"
servers=[ "kafka01.example.com:10251" ]
client-profile="test"
group-denylist="^(console-consumer-|python-kafka-consumer-|quick-).*$"
group-allowlist=""

[consumer.local_zk]
class-name="kafka_zk"
cluster="local"
servers=[ "zk01.example.com:2181" ]
zookeeper-path="/kafka-cluster"
zookeeper-timeout=30

[httpserver.default]
address=":8000"

[storage.default]
class-name="inmemory"
workers=20
intervals=15
expire-group=604800
min-distance=1

[evaluator.default]
class-name="caching"
expire-cache=10
`

func TestBurrowSample(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "burrow.toml", burrowSample)
	path, demo, err := Find(dir, "")
	if err != nil || demo {
		t.Fatal(path, demo, err)
	}
	v, err := Read(path)
	if err != nil {
		t.Fatal(err)
	}
	c, err := Parse(v)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Clusters) != 1 || c.Clusters[0].Name != "local" || c.Clusters[0].OffsetRefresh != 30*time.Second ||
		c.Clusters[0].Profile.ClientID != "burrow-test" || len(c.Clusters[0].Servers) != 2 {
		t.Errorf("clusters %+v", c.Clusters)
	}
	if len(c.Consumers) != 1 || c.Consumers[0].Cluster != "local" || c.Consumers[0].OffsetsSource != SourceAuto {
		t.Errorf("consumers %+v", c.Consumers)
	}
	if len(c.HTTP) != 1 || c.HTTP[0].Address != ":8000" || c.HTTP[0].Mutating != MutatingOpen {
		t.Errorf("http %+v", c.HTTP)
	}
	warned := strings.Join(c.Warnings, "\n")
	for _, want := range []string{"zookeeper", "kafka_zk"} {
		if !strings.Contains(warned, want) {
			t.Errorf("no warning about %s in %q", want, warned)
		}
	}
}

func TestIAMIsAWarning(t *testing.T) {
	dir := t.TempDir()
	v, err := Read(write(t, dir, "burrow.toml", `
[client-profile.msk]
iam = "aws"
tls = "t"
[tls.t]
[iam.aws]
region = "eu-west-1"
[cluster.msk]
class-name = "kafka"
servers = ["b-1.msk.amazonaws.com:9098"]
client-profile = "msk"
[cluster.plain]
class-name = "kafka"
servers = ["k:9092"]
`))
	if err != nil {
		t.Fatal(err)
	}
	c, err := Parse(v)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Clusters) != 1 || c.Clusters[0].Name != "plain" {
		t.Errorf("clusters %+v", c.Clusters)
	}
	if !strings.Contains(strings.Join(c.Warnings, "\n"), "IAM authentication is not supported") {
		t.Errorf("warnings %v", c.Warnings)
	}
}

func TestFind(t *testing.T) {
	dir := t.TempDir()
	if _, demo, err := Find("", ""); err != nil || !demo {
		// The test runs in the package directory, which has no burrow.* file.
		t.Errorf("no flags, no file: demo=%v err=%v", demo, err)
	}
	if _, _, err := Find(dir, ""); err == nil || !strings.Contains(err.Error(), "Not Found") {
		t.Errorf("empty dir: %v", err)
	}
	write(t, dir, "burrow.toml", "")
	write(t, dir, "burrow.json", "{}")
	if path, _, _ := Find(dir, ""); filepath.Base(path) != "burrow.json" {
		t.Errorf("json must win over toml, got %s", path)
	}
	if _, _, err := Find(dir, filepath.Join(dir, "burrow.toml")); err == nil {
		t.Error("both flags accepted")
	}
	if _, _, err := Find("", filepath.Join(dir, "missing.toml")); err == nil {
		t.Error("missing --config file accepted")
	}
	if _, err := Read(write(t, dir, "burrow.ini", "")); err == nil || !strings.Contains(err.Error(), "Unsupported Config Type") {
		t.Errorf("ini: %v", err)
	}
	if _, err := Read(write(t, dir, "bad.toml", "[cluster\n")); err == nil || !strings.Contains(err.Error(), "While parsing config") {
		t.Errorf("syntax error: %v", err)
	}
}

func TestEnvironment(t *testing.T) {
	dir := t.TempDir()
	path := write(t, dir, "burrow.toml", `
[general]
env-var-prefix = "wr"
[cluster.my-cluster]
class-name = "kafka"
servers = ["a:1"]
`)
	t.Setenv("WR_CLUSTER_MY_CLUSTER_SERVERS", "k1:9092 k2:9092")
	t.Setenv("WR_CLUSTER_MY_CLUSTER_OFFSET_REFRESH", "5")
	t.Setenv("WR_CLUSTER_MY_CLUSTER_TOPIC_REFRESH", "") // empty: unset
	t.Setenv("WR_CLUSTER_ENVONLY_CLASS_NAME", "kafka")  // cannot create a module
	v, err := Read(path)
	if err != nil {
		t.Fatal(err)
	}
	c, err := Parse(v)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Clusters) != 1 {
		t.Fatalf("clusters %+v", c.Clusters)
	}
	cl := c.Clusters[0]
	if strings.Join(cl.Servers, ",") != "k1:9092,k2:9092" || cl.OffsetRefresh != 5*time.Second || cl.TopicRefresh != time.Minute {
		t.Errorf("cluster %+v", cl)
	}
}

func TestErrors(t *testing.T) {
	dir := t.TempDir()
	path := write(t, dir, "burrow.toml", `
[cluster.a]
class-name = "kafka"
servers = ["bad host:x"]
offset-refresh = 0
client-profile = "nope"
[cluster.b]
class-name = "Kafka"
[consumer.c]
class-name = "kafka"
cluster = "zzz"
servers = []
group-whitelist = ""
group-allowlist = "("
offsets-source = "both"
[httpserver.h]
address = "localhost"
mutating-routes = "token"
max-connections = 0
allowed-origins = ["dash.example.com", "https://ok.example.com"]
[client-profile.p]
kafka-version = "2.8"
sasl = "missing"
[cluster.d]
class-name = "kafka"
servers = ["k:1"]
client-profile = "p"
topic-refresh = "soon"
[storage.x]
class-name = "inmemory"
[storage.y]
class-name = "inmemory"
`)
	v, err := Read(path)
	if err != nil {
		t.Fatal(err)
	}
	_, err = Parse(v)
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{
		"cluster.a.servers: cluster a has one or more improperly formatted servers",
		"cluster.a.offset-refresh: must be positive",
		"cluster.a.client-profile: unknown client-profile 'nope'",
		`cluster.b.class-name: unknown cluster className provided: "Kafka"`,
		"consumer.c.cluster: Consumer 'c' references an unknown cluster 'zzz'",
		"consumer.c.servers: no Kafka brokers specified for consumer c",
		"consumer.c.group-whitelist: please change configurations to allowlist and denylist",
		"consumer.c.group-allowlist: failed to compile",
		"consumer.c.offsets-source",
		"httpserver.h.address: invalid HTTP server listener address",
		"httpserver.h.mutating-token: required",
		"httpserver.h.max-connections: must be at least 1",
		`httpserver.h.allowed-origins: "dash.example.com": must start with http:// or https://`,
		"client-profile.p.kafka-version: Unknown Kafka Version: 2.8",
		`client-profile.p.sasl: unknown sasl profile "missing"`,
		"cluster.d.topic-refresh: not an integer: soon",
		"storage: only one storage module may be configured",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("missing error %q", want)
		}
	}
}

func TestHostPort(t *testing.T) {
	for hp, ok := range map[string]bool{
		"kafka01.example.com:9092": true, "10.0.0.1:9092": true, "[::1]:9092": true, "svc_kafka:9092": true,
		"localhost:0": true, ":8000": false, "host:port": false, "-bad:1": false, "a_b_c:1": false, "x": false,
	} {
		if err := checkHostPort(hp, false); (err == nil) != ok {
			t.Errorf("%s: %v", hp, err)
		}
	}
	if err := checkHostPort(":8000", true); err != nil {
		t.Error(err)
	}
	for _, v := range []string{"0.10.2.1", "3.7.0", "4.0.0", "0.8", "0.11.0", ""} {
		if err := checkKafkaVersion(v); err != nil {
			t.Error(err)
		}
	}
	for _, v := range []string{"2.8", "0.12", "v3.0.0", "0.10.2"} {
		if v == "0.10.2" {
			continue
		}
		if err := checkKafkaVersion(v); err == nil {
			t.Errorf("%s accepted", v)
		}
	}
}

// TestStartWarnings: a configuration that watches nothing, and a notifier
// table that sends nothing (class null), are said at start, once each.
func TestStartWarnings(t *testing.T) {
	dir := t.TempDir()
	v, err := Read(write(t, dir, "empty.toml", ""))
	if err != nil {
		t.Fatal(err)
	}
	c, err := Parse(v)
	if err != nil {
		t.Fatal(err)
	}
	if !contains(c.Warnings, "no cluster is configured") {
		t.Errorf("no warning for an empty configuration: %q", c.Warnings)
	}
	v, _ = Read(write(t, dir, "n.toml", `
[cluster.a]
class-name = "kafka"
servers = ["k:9092"]
[notifier.hook]
class-name = "http"
url-open = "http://alerts.example.com/"
template-open = "builtin:event-open"
[notifier.quiet]
class-name = "null"
template-open = "builtin:event-open"
`))
	c, err = Parse(v)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, w := range c.Warnings {
		if strings.Contains(w, "sends nothing") {
			n++
		}
		if strings.Contains(w, "no cluster") {
			t.Errorf("warning with a cluster configured: %q", w)
		}
	}
	if n != 1 || !contains(c.Warnings, "notifier.quiet: class null sends nothing") {
		t.Errorf("%d notifier warnings, want one for the null table: %q", n, c.Warnings)
	}
}

// TestBadServerCertificate: a certificate that cannot be loaded is a
// configuration error, not a failure at start.
func TestBadServerCertificate(t *testing.T) {
	dir := t.TempDir()
	cert := write(t, dir, "cert.pem", "garbage")
	key := write(t, dir, "key.pem", "garbage")
	v, _ := Read(write(t, dir, "b.toml", `
[httpserver.default]
address = ":0"
tls = "srv"
[tls.srv]
certfile = "`+cert+`"
keyfile = "`+key+`"
`))
	_, err := Parse(v)
	if err == nil || !strings.Contains(err.Error(), "httpserver.default.tls: cannot load the certificate and key of tls.srv") {
		t.Errorf("error %v", err)
	}
}

func contains(list []string, part string) bool {
	for _, s := range list {
		if strings.Contains(s, part) {
			return true
		}
	}
	return false
}

func TestStateDir(t *testing.T) {
	for _, tt := range []struct{ conf, want string }{
		{"", DefaultStateDirName},
		{"[general]\npidfile = \"/var/run/warren/w.pid\"\n", "/var/run/warren/" + DefaultStateDirName},
		{"[general]\nstate-dir = \"/data/state\"\n", "/data/state"},
		{"[general]\nstate-dir = \"\"\n", ""},
	} {
		v, err := Read(write(t, t.TempDir(), "s.toml", tt.conf))
		if err != nil {
			t.Fatal(err)
		}
		c, err := Parse(v)
		if err != nil {
			t.Fatal(err)
		}
		if c.General.StateDir != tt.want || c.General.StateInterval != time.Minute {
			t.Errorf("%q: state-dir %q every %v, want %q every minute", tt.conf, c.General.StateDir, c.General.StateInterval, tt.want)
		}
	}
}

func TestMemoryKeys(t *testing.T) {
	cases := []struct {
		body      string
		gcPercent int
		limit     int64
		err       string
	}{
		{body: ``, gcPercent: DefaultGCPercent, limit: MemoryLimitAuto},
		{body: `gc-percent = 100`, gcPercent: 100, limit: MemoryLimitAuto},
		{body: `gc-percent = "50"
memory-limit = "off"`, gcPercent: 50, limit: 0},
		{body: `memory-limit = " Auto "`, gcPercent: DefaultGCPercent, limit: MemoryLimitAuto},
		{body: `memory-limit = 2048`, gcPercent: DefaultGCPercent, limit: 2048 << 20},
		{body: `memory-limit = "512"`, gcPercent: DefaultGCPercent, limit: 512 << 20},
		{body: `gc-percent = 0`, err: "general.gc-percent: must be positive"},
		{body: `memory-limit = 0`, err: "general.memory-limit: not \"auto\""},
		{body: `memory-limit = "2GB"`, err: "general.memory-limit: not \"auto\""},
	}
	for _, c := range cases {
		path := write(t, t.TempDir(), "burrow.toml", "[general]\n"+c.body+"\n")
		v, err := Read(path)
		if err != nil {
			t.Fatal(err)
		}
		cfg, err := Parse(v)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%q: error %v, want %q", c.body, err, c.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", c.body, err)
			continue
		}
		if cfg.General.GCPercent != c.gcPercent || cfg.General.MemoryLimit != c.limit {
			t.Errorf("%q: gc-percent %d, memory-limit %d; want %d, %d", c.body, cfg.General.GCPercent,
				cfg.General.MemoryLimit, c.gcPercent, c.limit)
		}
	}
}
