package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
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
)

// events counts what a webhook receiver was sent, by event and incident ID.
type events struct {
	mu  sync.Mutex
	all []string // "open ID" or "close ID"
}

func (e *events) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var ev struct{ Event, ID string }
	b, _ := io.ReadAll(r.Body)
	json.Unmarshal(b, &ev)
	e.mu.Lock()
	e.all = append(e.all, ev.Event+" "+ev.ID)
	e.mu.Unlock()
}

func (e *events) list() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]string(nil), e.all...)
}

// instance is one warren process of the HA test.
type instance struct {
	cmd    *exec.Cmd
	addr   string
	stderr *syncBuffer
	dead   bool
}

// leads asks an instance whether it leads; false when it does not answer.
func (in *instance) leads() bool {
	if in.dead {
		return false
	}
	c := http.Client{Timeout: 500 * time.Millisecond}
	resp, err := c.Get("http://" + in.addr + "/v3/admin/ha")
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	var v struct{ HA struct{ Leader bool } }
	json.NewDecoder(resp.Body).Decode(&v)
	return v.HA.Leader
}

// leaders returns the indexes of the instances that lead.
func leaders(ins []*instance) []int {
	var out []int
	for i, in := range ins {
		if in.leads() {
			out = append(out, i)
		}
	}
	return out
}

// TestHA is issue 14's test: three warren processes against one kfake
// cluster, which both is watched and coordinates, and a webhook receiver. A
// group goes ERR: exactly one instance sends the open. The leader is killed
// with SIGKILL during the incident: another takes over within the session
// timeout and a few seconds, sends no second open within send-interval, and
// sends the close with the original incident ID once the group recovers. The
// coordinating cluster is stopped and restarted: afterwards exactly one
// instance leads. SIGTERM of the leader hands over at once (it leaves the
// group).
func TestHA(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin := build(t)
	data := t.TempDir()
	port := freePort(t)
	opts := []kfake.Opt{kfake.NumBrokers(1), kfake.Ports(port), kfake.DataDir(data),
		kfake.GroupMinSessionTimeout(100 * time.Millisecond)}
	kf, err := kfake.NewCluster(append(opts, kfake.SeedTopics(1, "orders"))...)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { kf.Close() }()
	broker := kf.ListenAddrs()[0]
	cl, err := kgo.NewClient(kgo.SeedBrokers(broker), kgo.DefaultProduceTopic("orders"))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	for range 1000 {
		cl.Produce(context.Background(), &kgo.Record{Value: []byte("x")}, nil)
	}
	if err := cl.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	var ins []*instance
	commit := func(at int64) {
		t.Helper()
		o := kadm.Offsets{}
		o.Add(kadm.Offset{Topic: "orders", Partition: 0, At: at, LeaderEpoch: -1})
		if _, err := adm.CommitOffsets(context.Background(), "payments", o); err != nil {
			t.Fatal(err)
		}
		// Until an instance's admin poll (every second) has stored it.
		for _, in := range ins {
			if !in.dead {
				waitFor(t, "http://"+in.addr+"/v3/kafka/local/consumer/payments/lag", func(s int, b string) bool {
					return s == 200 && strings.Contains(b, fmt.Sprintf(`"end":{"offset":%d,`, at))
				})
				break
			}
		}
	}
	var got events
	receiver := httptest.NewServer(&got)
	defer receiver.Close()

	const session = 3 * time.Second
	conf := `[cluster.local]
class-name = "kafka"
servers = ["` + broker + `"]
offset-refresh = 1
[consumer.local]
class-name = "kafka"
cluster = "local"
servers = ["` + broker + `"]
offsets-source = "admin"
[storage.default]
class-name = "inmemory"
intervals = 3
min-distance = 0
[evaluator.default]
class-name = "caching"
expire-cache = 0
[httpserver.default]
address = "127.0.0.1:0"
[notifier.hook]
class-name = "http"
interval = 1
send-interval = 30
threshold = 3
send-close = true
url-open = "` + receiver.URL + `/open"
url-close = "` + receiver.URL + `/close"
template-open = "builtin:event-open"
template-close = "builtin:event-close"
[ha]
cluster = "local"
session-timeout = ` + strconv.Itoa(int(session/time.Second)) + `
heartbeat-interval = 0.5
rebalance-timeout = 3
`
	for range 3 {
		dir := t.TempDir()
		c := conf + fmt.Sprintf("[general]\npidfile = %q\n", filepath.Join(dir, "warren.pid"))
		if err := os.WriteFile(filepath.Join(dir, "burrow.toml"), []byte(c), 0o600); err != nil {
			t.Fatal(err)
		}
		cmd, addr, stderr := started(t, bin, dir, nil, "--config-dir", dir)
		ins = append(ins, &instance{cmd: cmd, addr: addr, stderr: stderr})
	}
	one := func(within time.Duration, what string) (int, time.Duration) {
		t.Helper()
		start := time.Now()
		for time.Since(start) < within {
			if l := leaders(ins); len(l) == 1 {
				return l[0], time.Since(start)
			} else if len(l) > 1 {
				t.Fatalf("%s: instances %v all lead", what, l)
			}
			waitTick()
		}
		t.Fatalf("%s: no leader within %v", what, within)
		return -1, 0
	}
	first, _ := one(20*time.Second, "election")

	// The group goes ERR (its commit rewinds): one open, from the leader.
	for _, at := range []int64{100, 200, 300, 150} {
		commit(at)
	}
	deadline := time.Now().Add(20 * time.Second)
	for len(got.list()) == 0 && time.Now().Before(deadline) {
		waitTick()
	}
	never(t, 2*time.Second, "a second open", func() bool { return len(got.list()) > 1 })
	opens := got.list()
	if len(opens) != 1 || opens[0][:5] != "open " {
		t.Fatalf("the receiver got %q, want one open", opens)
	}
	id := opens[0][5:]

	// kill -9 of the leader: another takes over within the bound.
	ins[first].cmd.Process.Signal(syscall.SIGKILL)
	ins[first].cmd.Wait()
	ins[first].dead = true
	second, took := one(session+5*time.Second, "after SIGKILL")
	t.Logf("failover after SIGKILL: %v (session timeout %v)", took, session)
	never(t, 2*time.Second, "an open from the new leader within send-interval", func() bool { return len(got.list()) > 1 })
	for _, at := range []int64{400, 500, 600} {
		commit(at)
	}
	deadline = time.Now().Add(20 * time.Second)
	for len(got.list()) < 2 && time.Now().Before(deadline) {
		waitTick()
	}
	if all := got.list(); len(all) != 2 || all[1] != "close "+id {
		t.Fatalf("the receiver got %q, want [open %s, close %s]", all, id, id)
	}

	// The coordinating cluster stopped and restarted: one leader after.
	// While it is gone, no instance leads: each one's lease runs out.
	kf.Close()
	for deadline := time.Now().Add(session + 5*time.Second); len(leaders(ins)) > 0; waitTick() {
		if time.Now().After(deadline) {
			t.Fatalf("instances %v still lead %v after the cluster went away", leaders(ins), session+5*time.Second)
		}
	}
	if kf, err = kfake.NewCluster(opts...); err != nil {
		t.Fatal(err)
	}
	third, took := one(3*session+10*time.Second, "after the cluster restarted")
	t.Logf("a leader %v after the restart", took)
	never(t, 2*time.Second, "two leaders after the restart", func() bool { return len(leaders(ins)) > 1 })

	// SIGTERM of the leader hands over at once.
	stop(t, ins[third].cmd, ins[third].stderr)
	ins[third].dead = true
	fourth, took := one(session, "after SIGTERM")
	t.Logf("hand-over after SIGTERM: %v", took)
	// The restarted cluster may change what the group looks like (a new
	// incident is then fair), but no incident is ever opened twice.
	seen := map[string]bool{}
	for _, e := range got.list() {
		if seen[e] {
			t.Errorf("sent twice: %s (all: %q)", e, got.list())
		}
		seen[e] = true
	}
	_, _ = second, fourth
}

// never watches the processes for a while and fails as soon as bad holds:
// the only way to see that something does not happen.
func never(t *testing.T, during time.Duration, what string, bad func() bool) {
	t.Helper()
	for end := time.Now().Add(during); time.Now().Before(end); waitTick() {
		if bad() {
			t.Fatalf("%s", what)
		}
	}
}

// freePort returns a TCP port free a moment ago.
func freePort(t *testing.T) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
