package storage

import (
	"errors"
	"fmt"
	"math"
	"sort"
	"sync"
	"time"

	"github.com/spf13/cast"
	"github.com/spf13/viper"
	"go.uber.org/zap"

	"github.com/warrenlag/warren/internal/offsets"
	"github.com/warrenlag/warren/protocol"
)

// InMemoryStorage is the storage module that keeps everything in memory. Its
// configurable number of workers own the consumer groups: a group is hashed, with
// its cluster, to one worker, so its requests are applied in order.
type InMemoryStorage struct {
	// App is the application context.
	App *protocol.ApplicationContext

	// Log is the module's logger. When nil, one is derived from App.Logger.
	Log *zap.Logger

	name     string
	cfg      offsets.Config
	requests chan *protocol.StorageRequest
	store    *offsets.Store
	done     chan struct{}

	mu      sync.Mutex
	stopped bool
}

// Configure reads the module's keys under configRoot (defaults: intervals 10,
// expire-group 604800 s, workers 20, queue-depth 1, min-distance 0) and creates
// the channel it takes requests on. It panics with a message naming the key when
// a value is invalid, as configuration errors cannot be recovered from.
func (module *InMemoryStorage) Configure(name string, configRoot string) {
	if module.Log == nil {
		module.Log = zap.NewNop()
		if module.App != nil && module.App.Logger != nil {
			module.Log = module.App.Logger
		}
	}
	module.Log.Info("configuring")
	module.name = name

	cfg, depth, err := readConfig(module.App.Config(), configRoot)
	if err != nil {
		panic(fmt.Errorf("%s: %w", configRoot, err))
	}
	if module.App.Clock != nil {
		cfg.Now = module.App.Clock
	}
	module.cfg = cfg
	module.requests = make(chan *protocol.StorageRequest, depth)
}

// readConfig converts the module's keys to a validated offsets.Config and the
// depth of the request channel. Values are converted leniently ("30" is 30), but a
// value that is not a number is an error naming its key.
func readConfig(v *viper.Viper, root string) (offsets.Config, int, error) {
	var errs []error
	given := v.GetStringMap(root) // holds keys given without a value too
	for _, old := range []string{"group-whitelist", "group-blacklist"} {
		if _, ok := given[old]; ok || v.IsSet(root+"."+old) {
			errs = append(errs, fmt.Errorf("%s: no longer supported; please change configurations to allowlist and denylist (group-allowlist, group-denylist)", old))
		}
	}
	integer := func(key string, def int64) int64 {
		raw := v.Get(root + "." + key)
		if raw == nil {
			return def
		}
		n, err := cast.ToInt64E(raw)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: not an integer: %v", key, raw))
			return def
		}
		return n
	}
	seconds := func(key string, def int64) time.Duration {
		n := integer(key, def)
		if n > math.MaxInt64/int64(time.Second) || n < math.MinInt64/int64(time.Second) {
			errs = append(errs, fmt.Errorf("%s: %d seconds is out of range", key, n))
			return 0
		}
		return time.Duration(n) * time.Second
	}
	text := func(key string) string {
		raw := v.Get(root + "." + key)
		if raw == nil {
			return ""
		}
		s, err := cast.ToStringE(raw)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: not a string: %v", key, raw))
		}
		return s
	}
	small := func(key string, def int64) int {
		n := integer(key, def)
		if n > math.MaxInt32 || n < math.MinInt32 {
			errs = append(errs, fmt.Errorf("%s: %d is out of range", key, n))
			return int(def)
		}
		return int(n)
	}

	positive := func(key string, def int64) int {
		n := small(key, def)
		if n < 1 {
			errs = append(errs, fmt.Errorf("%s: must be positive, got %d", key, n))
			return int(def)
		}
		return n
	}

	var cfg offsets.Config
	cfg.Intervals = positive("intervals", offsets.DefaultIntervals)
	cfg.SetExpireGroup(seconds("expire-group", int64(offsets.DefaultExpireGroup/time.Second)))
	cfg.Workers = positive("workers", offsets.DefaultWorkers)
	cfg.MinDistance = seconds("min-distance", 0)
	cfg.MaxPartitions = positive("max-partitions", offsets.DefaultMaxPartitions)
	cfg.GroupAllowlist = text("group-allowlist")
	cfg.GroupDenylist = text("group-denylist")
	depth := small("queue-depth", 1)
	if depth < 0 {
		errs = append(errs, fmt.Errorf("queue-depth: must not be negative, got %d", depth))
		depth = 1
	}

	cfg.SetDefaults()
	if err := cfg.Validate(); err != nil {
		errs = append(errs, err)
	}
	return cfg, depth, errors.Join(errs...)
}

// GetCommunicationChannel returns the channel the module takes requests on.
func (module *InMemoryStorage) GetCommunicationChannel() chan *protocol.StorageRequest {
	return module.requests
}

// Start creates the storage for every cluster configured under "cluster", starts
// the workers, and starts the loop that serves the module's channel.
func (module *InMemoryStorage) Start() error {
	module.Log.Info("starting")
	if module.requests == nil {
		return errors.New("inmemory storage: Start called before Configure")
	}
	cfg := module.cfg
	for name := range module.App.Config().GetStringMap("cluster") {
		cfg.Clusters = append(cfg.Clusters, name)
	}
	sort.Strings(cfg.Clusters)

	store, err := offsets.New(cfg, module.Log)
	if err != nil {
		return err
	}
	if err := store.Start(); err != nil {
		return err
	}
	module.store = store
	module.done = make(chan struct{})
	go func() {
		defer close(module.done)
		for r := range module.requests {
			store.Handle(r)
		}
	}()
	return nil
}

// handle takes a request directly from the coordinator's forwarder.
func (module *InMemoryStorage) handle(r *protocol.StorageRequest) {
	module.store.Handle(r)
}

// Stop closes the module's channel, waits until every request received has been
// applied or answered, and stops the workers.
func (module *InMemoryStorage) Stop() error {
	module.Log.Info("stopping")
	module.mu.Lock()
	defer module.mu.Unlock()
	if module.stopped || module.store == nil {
		return nil
	}
	module.stopped = true
	close(module.requests)
	<-module.done
	module.store.Stop()
	return nil
}

// Drops returns how many requests the module dropped, by reason (for metrics).
func (module *InMemoryStorage) Drops() map[string]uint64 {
	if module.store == nil {
		return nil
	}
	return module.store.Drops()
}

// Requests returns how many requests the module took, by type (for metrics).
func (module *InMemoryStorage) Requests() map[string]uint64 {
	if module.store == nil {
		return nil
	}
	return module.store.Requests()
}
