package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

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

// started runs the command and returns it with the HTTP address it logged.
func started(t *testing.T, bin string, dir string, env []string, args ...string) (*exec.Cmd, string, *strings.Builder) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	stdout, _ := cmd.StdoutPipe()
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
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
		return cmd, a, &stderr
	case <-time.After(30 * time.Second):
		t.Fatalf("no listener started; stderr:\n%s", stderr.String())
	}
	return nil, "", nil
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

func stop(t *testing.T, cmd *exec.Cmd, stderr *strings.Builder) {
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

	t.Run("demo", func(t *testing.T) {
		env := []string{"WARREN_DEMO_PORTS=0,0", "BURROW_HTTPSERVER_DEFAULT_ADDRESS=127.0.0.1:0", "WARREN_DEMO_SUMMARY=2s"}
		cmd, addr, stderr := started(t, bin, t.TempDir(), env)
		base := "http://" + addr
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
		if !strings.Contains(out, "billing OK") {
			t.Errorf("no status summary on the console: %s", out)
		}
	})

	t.Run("configuration errors", func(t *testing.T) {
		dir := t.TempDir()
		os.WriteFile(filepath.Join(dir, "burrow.toml"), []byte("[cluster.a]\nclass-name = \"kafka\"\n[storage.x]\nclass-name=\"nope\"\n"), 0o600)
		for _, tt := range []struct {
			args []string
			code int
			want string
		}{
			{[]string{"--config-dir", dir}, 2, "configuration error: cluster.a.servers: no Kafka brokers specified"},
			{[]string{"--config", filepath.Join(dir, "missing.toml")}, 2, "configuration error: cannot read configuration file"},
			{[]string{"--config-dir", dir, "--config", "x.toml"}, 2, "configuration error: give either"},
			{[]string{"--bogus"}, 2, "flag provided but not defined: -bogus"},
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
