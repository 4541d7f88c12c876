package storage

import (
	"errors"
	"fmt"
	"iter"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"

	"github.com/warrenlag/warren/internal/collect"
	"github.com/warrenlag/warren/internal/config"
	"github.com/warrenlag/warren/protocol"
)

// Coordinator (storage) manages the single storage module: it configures, starts
// and stops it, and forwards every request that arrives on App.StorageChannel to
// it. When no module is configured it runs an inmemory module named "default".
type Coordinator struct {
	// App is the application context; StorageChannel is the channel served.
	App *protocol.ApplicationContext

	// Log is the coordinator's logger. When nil, one is derived from App.Logger.
	Log *zap.Logger

	module  Module
	name    string
	mu      sync.Mutex // serialises Start and Stop
	running bool
	done    chan struct{}
}

// stopForwarding is sent on App.StorageChannel by Stop to end the forwarder after
// every request sent before it. It never reaches a module.
var stopForwarding = &protocol.StorageRequest{RequestType: -1}

// Configure reads the configuration map "storage" and configures its module. It
// panics when more than one module is configured, when a class-name is unknown,
// or when the module's configuration is invalid (the message names the key).
func (sc *Coordinator) Configure() {
	sc.Log = sc.logger()
	sc.Log.Info("configuring")

	v := sc.App.Config()
	sec, err := config.StorageSection(v)
	if err != nil {
		panic(err)
	}
	sc.name = sec.Name
	root := "storage." + sc.name
	base := sc.Log
	if sc.App.Logger != nil {
		base = sc.App.Logger
	}
	log := base.With(zap.String("type", "module"), zap.String("coordinator", "storage"),
		zap.String("class", sec.ClassName), zap.String("name", sc.name))
	sc.module = &InMemoryStorage{App: sc.App, Log: log}
	sc.module.Configure(sc.name, root)
}

func (sc *Coordinator) logger() *zap.Logger {
	if sc.Log != nil {
		return sc.Log
	}
	if sc.App != nil && sc.App.Logger != nil {
		return sc.App.Logger.With(zap.String("type", "coordinator"), zap.String("name", "storage"))
	}
	return zap.NewNop()
}

// Start starts the module, then forwards App.StorageChannel to it. A module that
// fails to start is returned as an error, and nothing is forwarded.
func (sc *Coordinator) Start() error {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	if sc.module == nil {
		return errors.New("storage: Start called before Configure")
	}
	if sc.running {
		return errors.New("storage: already started")
	}
	in := sc.App.StorageChannel
	if in == nil {
		return errors.New("storage: the application context has no StorageChannel")
	}
	sc.Log.Info("starting")
	if err := sc.module.Start(); err != nil {
		return fmt.Errorf("storage module %s: %w", sc.name, err)
	}

	forward := func(r *protocol.StorageRequest) { sc.module.GetCommunicationChannel() <- r }
	if h, ok := sc.module.(handler); ok {
		forward = h.handle
	}
	sc.done = make(chan struct{})
	go func() {
		defer close(sc.done)
		for r := range in {
			if r == stopForwarding {
				return
			}
			forward(r)
		}
	}()
	sc.running = true
	return nil
}

// Stop stops forwarding once every request sent before it has been forwarded,
// then stops the module, which applies or answers all of them. It returns nil.
func (sc *Coordinator) Stop() error {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	sc.logger().Info("stopping")
	if sc.running {
		select {
		case <-sc.done: // the forwarder ended: someone closed App.StorageChannel
		default:
			sc.sendStop()
			<-sc.done
		}
		sc.running = false
	}
	if sc.module != nil {
		if err := sc.module.Stop(); err != nil {
			sc.Log.Warn("storage module did not stop cleanly", zap.Error(err))
		}
	}
	return nil
}

// sendStop asks the forwarder to end after what was sent before; a channel
// closed meanwhile ends it too.
func (sc *Coordinator) sendStop() {
	defer func() { recover() }() // send on a channel closed by its owner
	sc.App.StorageChannel <- stopForwarding
}

// Snapshot is a Warren addition: it adds storage's state to a snapshot, one
// call of add per section (kinds "offsets.broker" and "offsets.groups"), while
// storage keeps serving. It has the type of a state.Source, for the state file.
// It may be called at any time; after Stop it adds what storage held.
func (sc *Coordinator) Snapshot(add func(kind string, data []byte) error) error {
	s, ok := sc.module.(snapshotter)
	if !ok {
		return nil
	}
	return s.Snapshot(add)
}

// Restore is a Warren addition: it fills storage from the sections of a
// snapshot, after Configure and before Start, skipping sections of other
// kinds, and returns what it restored and left out, by name.
func (sc *Coordinator) Restore(sections iter.Seq2[string, []byte]) (map[string]uint64, error) {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	if sc.running {
		return nil, errors.New("storage: Restore called after Start")
	}
	s, ok := sc.module.(snapshotter)
	if !ok {
		return nil, errors.New("storage: Restore called before Configure")
	}
	return s.Restore(sections)
}

// snapshotter is a module whose state goes into the state file.
type snapshotter interface {
	Snapshot(add func(kind string, data []byte) error) error
	Restore(sections iter.Seq2[string, []byte]) (map[string]uint64, error)
}

// Stats returns the requests the module took by type and dropped by reason,
// for metrics; nil maps for a module that does not count.
func (sc *Coordinator) Stats() (requests, drops map[string]uint64) {
	if m, ok := sc.module.(*InMemoryStorage); ok {
		return m.Requests(), m.Drops()
	}
	return nil, nil
}

// Collector exports the module's counts: warren_storage_requests_total by
// request type and warren_storage_drops_total by reason.
func (sc *Coordinator) Collector() prometheus.Collector {
	return collect.New(
		collect.Family{Name: "warren_storage_requests_total", Help: "Requests storage took, by type.", Labels: []string{"type"},
			Read: collect.Map(func() map[string]uint64 { r, _ := sc.Stats(); return r })},
		collect.Family{Name: "warren_storage_drops_total", Help: "Requests storage dropped, by reason.", Labels: []string{"reason"},
			Read: collect.Map(func() map[string]uint64 { _, d := sc.Stats(); return d })},
	)
}
