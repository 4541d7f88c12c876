package storage

import (
	"errors"
	"iter"
	"sort"
	"strings"
	"sync"

	"go.uber.org/zap"

	"github.com/warrenlag/warren/internal/config"
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

	sec, err := config.StorageModule(module.App.Config(), strings.TrimPrefix(configRoot, "storage."))
	if err != nil {
		panic(err)
	}
	cfg := sec.Offsets()
	if module.App.Clock != nil {
		cfg.Now = module.App.Clock
	}
	module.cfg = cfg
	module.requests = make(chan *protocol.StorageRequest, sec.QueueDepth)
}

// GetCommunicationChannel returns the channel the module takes requests on.
func (module *InMemoryStorage) GetCommunicationChannel() chan *protocol.StorageRequest {
	return module.requests
}

// Start creates the storage for every cluster configured under "cluster"
// (unless Restore created it), starts the workers, and starts the loop that
// serves the module's channel.
func (module *InMemoryStorage) Start() error {
	module.Log.Info("starting")
	module.mu.Lock()
	err := module.build()
	store := module.store
	module.mu.Unlock()
	if err != nil {
		return err
	}
	if err := store.Start(); err != nil {
		return err
	}
	module.done = make(chan struct{})
	go func() {
		defer close(module.done)
		for r := range module.requests {
			store.Handle(r)
		}
	}()
	return nil
}

// build creates the store, for the clusters configured under "cluster", unless
// it exists.
func (module *InMemoryStorage) build() error {
	if module.requests == nil {
		return errors.New("inmemory storage: Start called before Configure")
	}
	if module.store != nil {
		return nil
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
	module.store = store
	return nil
}

// Snapshot is a Warren addition: it adds the module's state to a snapshot (see
// offsets.Store.Snapshot), calling add once per section. Ingest goes on
// meanwhile; no worker stops serving for more than about a millisecond. Before
// Restore or Start there is nothing to add; after Stop the state is still there.
func (module *InMemoryStorage) Snapshot(add func(kind string, data []byte) error) error {
	module.mu.Lock()
	store := module.store
	module.mu.Unlock()
	if store == nil {
		return nil
	}
	st, err := store.Snapshot(add)
	if ce := module.Log.Check(zap.DebugLevel, "snapshot taken"); ce != nil {
		ce.Write(zap.Int("groups", st.Groups), zap.Int("partitions", st.Partitions),
			zap.Int64("bytes", st.Bytes), zap.Duration("longest_slice", st.LongestSlice))
	}
	return err
}

// Restore is a Warren addition: it fills the module from the sections of a
// snapshot, after Configure and before Start, and returns what it restored and
// left out, by name (see offsets.RestoreStats). Sections of other kinds are
// skipped.
func (module *InMemoryStorage) Restore(sections iter.Seq2[string, []byte]) (map[string]uint64, error) {
	module.mu.Lock()
	defer module.mu.Unlock()
	if err := module.build(); err != nil {
		return nil, err
	}
	st, err := module.store.Restore(sections)
	if err != nil {
		return nil, err
	}
	return map[string]uint64{
		"groups": uint64(st.Groups), "partitions": uint64(st.Partitions), "commits": uint64(st.Commits),
		"broker_topics": uint64(st.BrokerTopics), "broker_partitions": uint64(st.BrokerPartitions),
		"expired": uint64(st.Expired), "unknown_cluster": uint64(st.UnknownCluster),
		"rejected": uint64(st.Rejected), "over_limit": uint64(st.OverLimit),
		"malformed": uint64(st.Malformed), "other_sections": uint64(st.OtherSections),
	}, nil
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
