package storage

import (
	"fmt"
	"strings"
	"testing"

	"github.com/spf13/viper"
	"go.uber.org/zap"

	"github.com/warrenlag/warren/protocol"
)

// newApp returns an application context with its own viper instance holding
// cluster "c" and the given storage keys.
func newApp(keys map[string]any) *protocol.ApplicationContext {
	v := viper.New()
	v.Set("cluster.c.class-name", "kafka")
	for k, val := range keys {
		v.Set(k, val)
	}
	return &protocol.ApplicationContext{
		Logger:         zap.NewNop(),
		StorageChannel: make(chan *protocol.StorageRequest),
		Viper:          v,
	}
}

// start configures and starts a coordinator, stopping it at the end of the test.
func start(t *testing.T, app *protocol.ApplicationContext) *Coordinator {
	t.Helper()
	sc := &Coordinator{App: app}
	sc.Configure()
	if err := sc.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sc.Stop() })
	return sc
}

func TestConfigureDefaultModule(t *testing.T) {
	app := newApp(nil)
	sc := start(t, app)
	if sc.name != "default" || app.Viper.GetString("storage.default.class-name") != "inmemory" {
		t.Errorf("module %q, class %q", sc.name, app.Viper.GetString("storage.default.class-name"))
	}
	m := sc.module.(*InMemoryStorage)
	if m.cfg.Intervals != 10 || m.cfg.Workers != 20 || m.cfg.ExpireGroup.Seconds() != 604800 ||
		m.cfg.MinDistance != 0 || cap(m.requests) != 1 {
		t.Errorf("defaults: %+v, queue depth %d", m.cfg, cap(m.requests))
	}
}

func TestConfigureKeys(t *testing.T) {
	app := newApp(map[string]any{
		"storage.mine.class-name":      "inmemory",
		"storage.mine.intervals":       "5", // quoted numbers are accepted
		"storage.mine.expire-group":    3600,
		"storage.mine.workers":         3,
		"storage.mine.queue-depth":     7,
		"storage.mine.min-distance":    2,
		"storage.mine.group-allowlist": "^a",
		"storage.mine.group-denylist":  "b$",
	})
	sc := start(t, app)
	m := sc.module.(*InMemoryStorage)
	c := m.cfg
	if sc.name != "mine" || c.Intervals != 5 || c.ExpireGroup.Seconds() != 3600 || c.Workers != 3 ||
		cap(m.requests) != 7 || c.MinDistance.Seconds() != 2 || c.GroupAllowlist != "^a" || c.GroupDenylist != "b$" {
		t.Errorf("config %+v", c)
	}
}

func TestConfigurePanics(t *testing.T) {
	tests := []struct {
		name string
		keys map[string]any
		want string
	}{
		{"two modules", map[string]any{"storage.a.class-name": "inmemory", "storage.b.class-name": "inmemory"},
			"only one storage module may be configured"},
		{"unknown class", map[string]any{"storage.a.class-name": "redis"}, `unknown storage className provided: "redis"`},
		{"empty class", map[string]any{"storage.a.intervals": 3}, `storage.a.class-name`},
		{"whitelist even empty", map[string]any{"storage.a.class-name": "inmemory", "storage.a.group-whitelist": ""},
			"group-whitelist: no longer supported; please change configurations to allowlist and denylist"},
		{"blacklist", map[string]any{"storage.a.class-name": "inmemory", "storage.a.group-blacklist": "x"},
			"group-blacklist"},
		{"bad allowlist", map[string]any{"storage.a.class-name": "inmemory", "storage.a.group-allowlist": "("},
			"group-allowlist: failed to compile"},
		{"bad denylist", map[string]any{"storage.a.class-name": "inmemory", "storage.a.group-denylist": "*"},
			"group-denylist: failed to compile"},
		{"not a number", map[string]any{"storage.a.class-name": "inmemory", "storage.a.intervals": "ten"},
			"intervals: not an integer"},
		{"zero intervals", map[string]any{"storage.a.class-name": "inmemory", "storage.a.intervals": 0},
			"intervals: must be positive"},
		{"zero workers", map[string]any{"storage.a.class-name": "inmemory", "storage.a.workers": 0},
			"workers: must be positive"},
		{"negative expiry", map[string]any{"storage.a.class-name": "inmemory", "storage.a.expire-group": -1},
			"expire-group: must not be negative"},
		{"huge expiry", map[string]any{"storage.a.class-name": "inmemory", "storage.a.expire-group": int64(1) << 60},
			"expire-group: 1152921504606846976 seconds is out of range"},
		{"negative queue depth", map[string]any{"storage.a.class-name": "inmemory", "storage.a.queue-depth": -1},
			"queue-depth: must not be negative"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			msg := func() (msg string) {
				defer func() { msg = fmt.Sprint(recover()) }()
				sc := &Coordinator{App: newApp(tt.keys)}
				sc.Configure()
				return ""
			}()
			if !strings.Contains(msg, tt.want) {
				t.Errorf("panic %q, want it to contain %q", msg, tt.want)
			}
		})
	}
}

func TestStartErrors(t *testing.T) {
	if err := (&Coordinator{App: newApp(nil)}).Start(); err == nil {
		t.Error("Start before Configure succeeded")
	}
	app := newApp(nil)
	app.StorageChannel = nil
	sc := &Coordinator{App: app}
	sc.Configure()
	if err := sc.Start(); err == nil {
		t.Error("Start without a StorageChannel succeeded")
	}
	// Stop is safe in any state.
	if err := sc.Stop(); err != nil {
		t.Error(err)
	}
	if err := (&Coordinator{}).Stop(); err != nil {
		t.Error(err)
	}
}

// TestGlobalViperAndMinimalContext: a context with only Logger and
// StorageChannel reads the global viper instance.
func TestGlobalViperAndMinimalContext(t *testing.T) {
	viper.Reset()
	t.Cleanup(viper.Reset)
	viper.Set("cluster.global.class-name", "kafka")
	viper.Set("storage.g.class-name", "inmemory")
	viper.Set("storage.g.intervals", 3)
	app := &protocol.ApplicationContext{Logger: zap.NewNop(), StorageChannel: make(chan *protocol.StorageRequest)}
	sc := start(t, app)
	if got := clusters(t, app.StorageChannel); len(got) != 1 || got[0] != "global" {
		t.Errorf("clusters %v", got)
	}
	if sc.module.(*InMemoryStorage).cfg.Intervals != 3 {
		t.Error("global viper not read")
	}
}

func clusters(t *testing.T, ch chan *protocol.StorageRequest) []string {
	t.Helper()
	reply := make(chan any)
	ch <- &protocol.StorageRequest{RequestType: protocol.StorageFetchClusters, Reply: reply}
	v, ok := <-reply
	if !ok {
		t.Fatal("no clusters")
	}
	return v.([]string)
}

// TestStopAfterClose: a caller that closed App.StorageChannel does not make Stop
// panic, and Stop may be called from two goroutines at once.
func TestStopAfterClose(t *testing.T) {
	app := newApp(nil)
	sc := &Coordinator{App: app}
	sc.Configure()
	if err := sc.Start(); err != nil {
		t.Fatal(err)
	}
	close(app.StorageChannel)
	done := make(chan struct{})
	go func() { sc.Stop(); close(done) }()
	if err := sc.Stop(); err != nil {
		t.Error(err)
	}
	<-done
}

// TestWhitelistWithoutValue: an old key given with no value (YAML) is rejected
// too.
func TestWhitelistWithoutValue(t *testing.T) {
	v := viper.New()
	v.SetConfigType("yaml")
	if err := v.ReadConfig(strings.NewReader("storage:\n  s:\n    class-name: inmemory\n    group-whitelist:\n")); err != nil {
		t.Fatal(err)
	}
	msg := func() (msg string) {
		defer func() { msg = fmt.Sprint(recover()) }()
		(&Coordinator{App: &protocol.ApplicationContext{Logger: zap.NewNop(), Viper: v,
			StorageChannel: make(chan *protocol.StorageRequest)}}).Configure()
		return ""
	}()
	if !strings.Contains(msg, "group-whitelist") {
		t.Errorf("panic %q", msg)
	}
}
