package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// build compiles the command once per test binary.
func build(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "warren")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// syncBuffer collects a command's output while the test reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// lines is what the command wrote on stdout, one log line each, safe to read
// while it runs.
type lines struct {
	mu  sync.Mutex
	all []string
}

func (l *lines) add(s string) { l.mu.Lock(); l.all = append(l.all, s); l.mu.Unlock() }

// matching returns the lines that contain every one of parts.
func (l *lines) matching(parts ...string) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
next:
	for _, s := range l.all {
		for _, p := range parts {
			if !strings.Contains(s, p) {
				continue next
			}
		}
		out = append(out, s)
	}
	return out
}

// started runs the command and returns it with the HTTP address it logged.
func started(t *testing.T, bin string, dir string, env []string, args ...string) (*exec.Cmd, string, *syncBuffer) {
	cmd, addr, stderr, _ := startedWithLog(t, bin, dir, env, args...)
	return cmd, addr, stderr
}

// startedWithLog is started, and also returns the command's log lines.
func startedWithLog(t *testing.T, bin string, dir string, env []string, args ...string) (*exec.Cmd, string, *syncBuffer, *lines) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	stdout, _ := cmd.StdoutPipe()
	var stderr syncBuffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	addr := make(chan string, 1)
	log := &lines{}
	go func() {
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			log.add(sc.Text())
			var line struct {
				Msg     string `json:"msg"`
				Address string `json:"address"`
			}
			if json.Unmarshal(sc.Bytes(), &line) == nil && line.Msg == "started listener" {
				addr <- line.Address
			}
		}
		io.Copy(io.Discard, stdout)
	}()
	select {
	case a := <-addr:
		return cmd, a, &stderr, log
	case <-time.After(30 * time.Second):
		t.Fatalf("no listener started; stderr:\n%s", stderr.String())
	}
	return nil, "", nil, nil
}

// waitFor polls url until check accepts the body, or fails after a deadline.
func waitFor(t *testing.T, url string, check func(status int, body string) bool) string {
	t.Helper()
	return poll(t, url, 45*time.Second, check)
}

// waitForLong is waitFor for what takes the demo minutes.
func waitForLong(t *testing.T, url string, check func(status int, body string) bool) string {
	t.Helper()
	return poll(t, url, 3*time.Minute, check)
}

func poll(t *testing.T, url string, within time.Duration, check func(status int, body string) bool) string {
	t.Helper()
	deadline := time.Now().Add(within)
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	var body string
	for time.Now().Before(deadline) {
		resp, err := http.Get(url)
		if err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			body = string(b)
			if check(resp.StatusCode, body) {
				return body
			}
		}
		<-tick.C
	}
	t.Fatalf("%s never passed its check; last body %s", url, body)
	return ""
}

// comparable is a /lag body without what moves with the clock (the reasons'
// seconds and the lag in time), for comparing two answers taken apart.
func comparable(t *testing.T, body []byte) string {
	t.Helper()
	var v struct {
		Status struct {
			Status     string `json:"status"`
			Complete   any    `json:"complete"`
			TotalLag   any    `json:"totallag"`
			Partitions []struct {
				Topic      string `json:"topic"`
				Partition  int    `json:"partition"`
				Status     string `json:"status"`
				Start      any    `json:"start"`
				End        any    `json:"end"`
				CurrentLag any    `json:"current_lag"`
			} `json:"partitions"`
		} `json:"status"`
	}
	if err := json.Unmarshal(body, &v); err != nil {
		t.Fatalf("%v: %s", err, body)
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// kafkaWithClient starts a kfake cluster of one broker with topic "orders" of
// the given partitions, and a client of it; both end with the test.
func kafkaWithClient(t *testing.T, partitions int32) (*kfake.Cluster, *kgo.Client, *kadm.Client) {
	t.Helper()
	kf, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(partitions, "orders"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(kf.Close)
	cl, err := kgo.NewClient(kgo.SeedBrokers(kf.ListenAddrs()...))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return kf, cl, kadm.NewClient(cl)
}

// waitTick paces a polling loop over something a separate process does.
func waitTick() { <-time.After(200 * time.Millisecond) }

func stop(t *testing.T, cmd *exec.Cmd, stderr *syncBuffer) {
	t.Helper()
	cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("exit: %v\n%s", err, stderr.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("did not stop within 30 s of SIGTERM")
	}
	if !strings.Contains(stderr.String(), "Stopped Warren at") {
		t.Errorf("stderr: %s", stderr.String())
	}
}

func TestCommand(t *testing.T) {
	t.Parallel() // beside TestDashboard, which waits minutes for the demo too
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin := build(t)

	t.Run("burrow config against kfake", func(t *testing.T) {
		kf, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(2, "orders"))
		if err != nil {
			t.Fatal(err)
		}
		defer kf.Close()
		// An offsets topic (kfake has none of its own) holding two records the
		// consumer module skips: one without a key version, and a commit of
		// Kafka's "no offset".
		if err := kf.CreateTopic("__consumer_offsets", 1, nil); err != nil {
			t.Fatal(err)
		}
		producer, err := kgo.NewClient(kgo.SeedBrokers(kf.ListenAddrs()...), kgo.DefaultProduceTopic("__consumer_offsets"))
		if err != nil {
			t.Fatal(err)
		}
		defer producer.Close()
		key := kmsg.NewOffsetCommitKey()
		key.Version, key.Group, key.Topic = 1, "g", "orders"
		value := kmsg.NewOffsetCommitValue()
		value.Version, value.Offset, value.CommitTimestamp = 3, -1, time.Now().UnixMilli()
		if err := producer.ProduceSync(context.Background(), &kgo.Record{Key: []byte{0xff}, Value: []byte("garbage")},
			&kgo.Record{Key: key.AppendTo(nil), Value: value.AppendTo(nil)}).FirstErr(); err != nil {
			t.Fatal(err)
		}
		dir := t.TempDir()
		conf := `[general]
pidfile = "warren.pid"
[zookeeper]
servers = ["zk:2181"]
[cluster.Local]
class-name = "kafka"
servers = ["` + kf.ListenAddrs()[0] + `"]
offset-refresh = 1
[consumer.local]
class-name = "kafka"
cluster = "Local"
servers = ["` + kf.ListenAddrs()[0] + `"]
[httpserver.default]
address = "127.0.0.1:0"
`
		if err := os.WriteFile(filepath.Join(dir, "burrow.toml"), []byte(conf), 0o600); err != nil {
			t.Fatal(err)
		}
		cmd, addr, stderr := started(t, bin, dir, nil, "--config-dir", dir)
		base := "http://" + addr
		waitFor(t, base+"/burrow/admin/ready", func(s int, b string) bool { return s == 200 && b == "READY" })
		waitFor(t, base+"/v3/kafka/local/topic", func(s int, b string) bool { return strings.Contains(b, `"topics":["__consumer_offsets","orders"]`) })
		waitFor(t, base+"/metrics", func(s int, b string) bool {
			return s == 200 && strings.Contains(b, `burrow_kafka_topic_partition_offset{cluster="local",partition="1",topic="orders"} 0`) &&
				strings.Contains(b, `warren_kafka_rounds_total{module="cluster.local"}`) &&
				strings.Contains(b, `warren_storage_requests_total{type="StorageSetBrokerOffset"}`) &&
				strings.Contains(b, `warren_http_connections{listener="default"}`) &&
				strings.Contains(b, "warren_evaluations_total") &&
				strings.Contains(b, `warren_kafka_skipped_records_total{module="consumer.local",reason="no_key_version"} 1`) &&
				strings.Contains(b, `warren_kafka_skipped_records_total{module="consumer.local",reason="negative_offset"} 1`) &&
				strings.Contains(b, `warren_kafka_offsets_source{module="consumer.local",source="topic"} 1`) &&
				strings.Contains(b, `warren_kafka_offsets_source{module="consumer.local",source="admin"} 0`) &&
				strings.Contains(b, `warren_kafka_source_switches_total{module="consumer.local"} 0`)
		})
		if _, err := os.Stat(filepath.Join(dir, "warren.pid")); err != nil {
			t.Errorf("no PID file: %v", err)
		}
		stop(t, cmd, stderr)
		if _, err := os.Stat(filepath.Join(dir, "warren.pid")); err == nil {
			t.Error("PID file left behind")
		}
	})

	t.Run("a second start leaves the first's files alone", func(t *testing.T) {
		dir := t.TempDir()
		// The PID file names a live process (this test), as a running
		// Warren's would; its stdout-logfile must not be moved aside.
		os.WriteFile(filepath.Join(dir, "warren.pid"), []byte(strconv.Itoa(os.Getpid())), 0o644)
		os.WriteFile(filepath.Join(dir, "warren.out"), []byte("the first instance's output\n"), 0o644)
		os.WriteFile(filepath.Join(dir, "burrow.toml"), []byte("[general]\npidfile = \"warren.pid\"\nstdout-logfile = \"warren.out\"\n"), 0o600)
		cmd := exec.Command(bin, "--config-dir", dir)
		cmd.Dir = dir
		out, _ := cmd.CombinedOutput()
		if cmd.ProcessState.ExitCode() != 1 || !strings.Contains(string(out), "Existing process running on PID") {
			t.Errorf("exit %d, output %s", cmd.ProcessState.ExitCode(), out)
		}
		if b, err := os.ReadFile(filepath.Join(dir, "warren.out")); err != nil || string(b) != "the first instance's output\n" {
			t.Errorf("the running instance's stdout-logfile was touched: %q, %v", b, err)
		}
		if moved, _ := filepath.Glob(filepath.Join(dir, "warren.out.*")); len(moved) != 0 {
			t.Errorf("moved aside: %v", moved)
		}
	})

	t.Run("state across restarts", func(t *testing.T) {
		kf, cl, adm := kafkaWithClient(t, 2)
		for i := range 40 { // log ends at 20 in each partition
			if err := cl.ProduceSync(context.Background(), &kgo.Record{Topic: "orders", Partition: int32(i % 2)}).FirstErr(); err != nil {
				t.Fatal(err)
			}
		}
		commit := func(group string, at int64) {
			t.Helper()
			o := kadm.Offsets{}
			o.Add(kadm.Offset{Topic: "orders", Partition: 0, At: at, LeaderEpoch: -1})
			o.Add(kadm.Offset{Topic: "orders", Partition: 1, At: at / 2, LeaderEpoch: -1})
			if _, err := adm.CommitOffsets(context.Background(), group, o); err != nil {
				t.Fatal(err)
			}
		}
		dir := t.TempDir()
		conf := `[general]
pidfile = "warren.pid"
state-interval = 1
[cluster.local]
class-name = "kafka"
servers = ["` + kf.ListenAddrs()[0] + `"]
offset-refresh = 3600 # one poll at start: nothing moves between the two answers compared
[consumer.local]
class-name = "kafka"
cluster = "local"
servers = ["` + kf.ListenAddrs()[0] + `"]
[httpserver.default]
address = "127.0.0.1:0"
`
		if err := os.WriteFile(filepath.Join(dir, "burrow.toml"), []byte(conf), 0o600); err != nil {
			t.Fatal(err)
		}
		for at := int64(1); at <= 12; at++ {
			commit("app", at)
			commit("batch", 2*at)
		}
		cmd, addr, stderr := started(t, bin, dir, nil, "--config-dir", dir)
		base := "http://" + addr
		waitFor(t, base+"/v3/kafka/local/consumer/batch/lag", func(s int, b string) bool {
			return s == 200 && strings.Contains(b, `"end":{"offset":24,`)
		})
		lags := func(base string) map[string]string {
			out := map[string]string{}
			for _, g := range []string{"app", "batch"} {
				resp, err := http.Get(base + "/v3/kafka/local/consumer/" + g + "/lag")
				if err != nil {
					t.Fatal(err)
				}
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				out[g] = comparable(t, b)
			}
			return out
		}
		// Each window holds one commit, judged against the clock in whole
		// seconds: STALL in the second it was made, STOP from the next on.
		// Compare once the status no longer moves with time.
		for _, g := range []string{"app", "batch"} {
			waitFor(t, base+"/v3/kafka/local/consumer/"+g+"/lag", func(s int, b string) bool {
				return s == 200 && strings.Contains(b, `"status":"STOP"`)
			})
		}
		waitFor(t, base+"/v3/kafka/local/consumer/app/lag", func(s int, b string) bool {
			return s == 200 && strings.Contains(b, `"end":{"offset":12,`)
		})
		before := lags(base)
		stop(t, cmd, stderr)
		if _, err := os.Stat(filepath.Join(dir, "warren-state", "warren.state")); err != nil {
			t.Fatalf("no state file after a stop: %v", err)
		}

		// Restarted: the first answers after READY are those before the stop.
		cmd, addr, stderr = started(t, bin, dir, nil, "--config-dir", dir)
		base = "http://" + addr
		waitFor(t, base+"/burrow/admin/ready", func(s int, b string) bool { return s == 200 })
		if after := lags(base); after["app"] != before["app"] || after["batch"] != before["batch"] {
			t.Errorf("after a restart:\n%v\nbefore:\n%v", after, before)
		}
		// kill -9 while commits come in; more commits while it is down: after
		// the next start, every one of them is visible.
		waitFor(t, base+"/metrics", func(s int, b string) bool {
			return strings.Contains(b, "warren_state_writes_total 1") ||
				strings.Contains(b, "warren_state_writes_total 2") || strings.Contains(b, "warren_state_writes_total 3")
		})
		commit("app", 15)
		cmd.Process.Kill()
		cmd.Wait()
		commit("app", 18)
		commit("batch", 30)
		cmd, addr, stderr = started(t, bin, dir, nil, "--config-dir", dir)
		base = "http://" + addr
		waitFor(t, base+"/v3/kafka/local/consumer/app/lag", func(s int, b string) bool {
			return s == 200 && strings.Contains(b, `"end":{"offset":18,`)
		})
		waitFor(t, base+"/v3/kafka/local/consumer/batch/lag", func(s int, b string) bool {
			return s == 200 && strings.Contains(b, `"end":{"offset":30,`)
		})
		stop(t, cmd, stderr)
	})

	t.Run("http notifier against kfake", func(t *testing.T) {
		kf, _, adm := kafkaWithClient(t, 1)
		got := make(chan string, 64)
		receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			b, _ := io.ReadAll(r.Body)
			got <- r.Method + " " + r.URL.Path + " " + r.Header.Get("Content-Type") + " " + string(b)
		}))
		defer receiver.Close()
		dir := t.TempDir()
		conf := `[cluster.local]
class-name = "kafka"
servers = ["` + kf.ListenAddrs()[0] + `"]
offset-refresh = 1
[consumer.local]
class-name = "kafka"
cluster = "local"
servers = ["` + kf.ListenAddrs()[0] + `"]
offsets-source = "admin"
[httpserver.default]
address = "127.0.0.1:0"
[notifier.hook]
class-name = "http"
interval = 1
threshold = 1
url-open = "` + receiver.URL + `/alert/{{.Group}}"
template-open = "builtin:event-open"
`
		if err := os.WriteFile(filepath.Join(dir, "burrow.toml"), []byte(conf), 0o600); err != nil {
			t.Fatal(err)
		}
		cmd, addr, stderr := started(t, bin, dir, nil, "--config-dir", dir)
		// A group commits while Warren watches: it is notified (threshold 1
		// notifies every status) through the receiver.
		committed := kadm.Offsets{}
		committed.Add(kadm.Offset{Topic: "orders", Partition: 0, At: 0, LeaderEpoch: -1})
		if _, err := adm.CommitOffsets(context.Background(), "payments", committed); err != nil {
			t.Fatal(err)
		}
		deadline := time.After(45 * time.Second)
		for found := false; !found; {
			select {
			case req := <-got:
				if !strings.HasPrefix(req, "POST /alert/payments application/json ") {
					t.Fatalf("receiver got %q", req)
				}
				var ev struct{ Event, Cluster, Group string }
				if err := json.Unmarshal([]byte(req[strings.Index(req, "{"):]), &ev); err != nil ||
					ev.Event != "open" || ev.Cluster != "local" || ev.Group != "payments" {
					t.Fatalf("body %q: %v", req, err)
				}
				found = true
			case <-deadline:
				t.Fatalf("no notification within 45 s; stderr:\n%s", stderr.String())
			}
		}
		waitFor(t, "http://"+addr+"/metrics", func(s int, b string) bool {
			return strings.Contains(b, `warren_notifications_total{kind="open",notifier="hook",result="sent"}`)
		})
		stop(t, cmd, stderr)
	})

	t.Run("demo", func(t *testing.T) {
		env := []string{"WARREN_DEMO_PORTS=0,0", "BURROW_HTTPSERVER_DEFAULT_ADDRESS=127.0.0.1:0",
			"BURROW_HTTPSERVER_DEFAULT_MUTATING_ROUTES=disabled"}
		begin := time.Now()
		cmd, addr, stderr, console := startedWithLog(t, bin, t.TempDir(), env)
		base := "http://" + addr
		// The environment wins over the demo's own settings.
		if strings.HasSuffix(addr, ":8000") {
			t.Errorf("listening on %s despite BURROW_HTTPSERVER_DEFAULT_ADDRESS=127.0.0.1:0", addr)
		}
		if req, _ := http.NewRequest("DELETE", base+"/v3/kafka/local/consumer/nosuch", nil); req != nil {
			if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusForbidden {
				t.Errorf("DELETE with mutating-routes disabled from the environment: %v %v", resp, err)
			} else {
				resp.Body.Close()
			}
		}
		waitFor(t, base+"/v3/kafka/local/consumer", func(s int, b string) bool {
			for _, g := range []string{"analytics", "audit", "billing", "search"} {
				if !strings.Contains(b, `"`+g+`"`) {
					return false
				}
			}
			return true
		})
		// Each group reaches the status an operator expects. The window takes a
		// minute or so to fill; audit stops after 30 s.
		expected := []struct{ group, status, partition string }{
			{"billing", `"status":"OK"`, ""},
			{"analytics", `"status":"WARN"`, `"status":"WARN"`},
			{"audit", `"status":"ERR"`, `"status":"STOP"`},
			{"search", `"status":"ERR"`, `"status":"STALL"`},
		}
		for _, tt := range expected {
			waitForLong(t, base+"/v3/kafka/local/consumer/"+tt.group+"/status", func(s int, b string) bool {
				return s == 200 && strings.Contains(b, `"group":"`+tt.group+`","status`) &&
					strings.Contains(b, tt.status) && strings.Contains(b, tt.partition)
			})
		}
		// The console shows an alert for each unhealthy group within two
		// minutes of the start, from the demo's log notifier, and none for
		// the healthy one.
		for _, g := range []string{"analytics", "audit", "search"} {
			for len(console.matching(`"level":"warn"`, `"kind":"open"`, `"group":"`+g+`"`)) == 0 {
				if time.Since(begin) > 2*time.Minute {
					t.Fatalf("no alert for %s on the console within two minutes", g)
				}
				waitTick()
			}
		}
		if l := console.matching(`"kind":"open"`, `"group":"billing"`); len(l) > 0 {
			t.Errorf("an alert for the healthy group: %s", l[0])
		}
		// And they keep them: an operator watching the demo sees no group flap,
		// through a topic refresh of the cluster module (every 60 s), whose late
		// round once let the falling-behind group look caught up.
		watch := time.NewTicker(time.Second)
		defer watch.Stop()
		for end := time.Now().Add(65 * time.Second); time.Now().Before(end); <-watch.C {
			for _, tt := range expected {
				resp, err := http.Get(base + "/v3/kafka/local/consumer/" + tt.group + "/status")
				if err != nil {
					t.Fatal(err)
				}
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if !strings.Contains(string(b), tt.status) || !strings.Contains(string(b), tt.partition) {
					t.Fatalf("%s left its status: %s", tt.group, b)
				}
			}
		}
		stop(t, cmd, stderr)
		out := stderr.String()
		if !strings.Contains(out, "/v3/kafka/local/consumer") {
			t.Errorf("the demo did not print its URLs: %s", out)
		}
		if l := console.matching(`"kind":"open"`, `"group":"billing"`); len(l) > 0 {
			t.Errorf("an alert for the healthy group: %s", l[0])
		}
	})

	t.Run("configuration errors", func(t *testing.T) {
		dir := t.TempDir()
		os.WriteFile(filepath.Join(dir, "burrow.toml"), []byte("[cluster.a]\nclass-name = \"kafka\"\n[storage.x]\nclass-name=\"nope\"\n"), 0o600)
		badNotifier := filepath.Join(t.TempDir(), "n.toml")
		os.WriteFile(badNotifier, []byte("[notifier.n]\nclass-name=\"http\"\ninterval=0\nsend-interval=-1\nurl-open=\"http://x/\"\ntemplate-open=\"builtin:event-open\"\n"), 0o600)
		bad := filepath.Join(t.TempDir(), "tls.toml")
		os.WriteFile(bad+".pem", []byte("garbage"), 0o600)
		os.WriteFile(bad, []byte("[httpserver.default]\naddress=\"127.0.0.1:0\"\ntls=\"t\"\n[tls.t]\ncertfile=\""+bad+".pem\"\nkeyfile=\""+bad+".pem\"\n"), 0o600)
		for _, tt := range []struct {
			args []string
			code int
			want string
		}{
			{[]string{"--config-dir", dir}, 2, "configuration error: cluster.a.servers: no Kafka brokers specified"},
			{[]string{"--config", filepath.Join(dir, "missing.toml")}, 2, "configuration error: cannot read configuration file"},
			{[]string{"--config-dir", dir, "--config", "x.toml"}, 2, "configuration error: give either"},
			{[]string{"--bogus"}, 2, "flag provided but not defined: -bogus"},
			{[]string{"--config", bad}, 2, "configuration error: httpserver.default.tls: cannot load the certificate"},
			{[]string{"--config", badNotifier}, 2, "configuration error: notifier.n.interval"},
			{[]string{"--config", badNotifier}, 2, "configuration error: notifier.n.send-interval"},
			{[]string{"-h"}, 0, "Usage: warren"},
		} {
			cmd := exec.Command(bin, tt.args...)
			out, _ := cmd.CombinedOutput()
			if cmd.ProcessState.ExitCode() != tt.code || !strings.Contains(string(out), tt.want) {
				t.Errorf("%v: exit %d, output %s", tt.args, cmd.ProcessState.ExitCode(), out)
			}
			if strings.Contains(string(out), "goroutine ") {
				t.Errorf("%v: a Go panic trace: %s", tt.args, out)
			}
		}
	})
}
