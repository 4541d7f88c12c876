// Package evaluator is Warren's evaluator subsystem: it gives a verdict on a
// consumer group (OK, WARN, ERR; per partition OK, WARN, STOP, STALL, REWIND)
// from the window of commits and broker offsets that storage keeps, with no lag
// threshold to tune. Its API is Burrow's: a Coordinator that runs one Module, by
// default the caching module CachingEvaluator, served over
// ApplicationContext.EvaluatorChannel.
package evaluator

import (
	"errors"
	"fmt"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"

	"github.com/warrenlag/warren/internal/collect"
	"github.com/warrenlag/warren/internal/config"
	"github.com/warrenlag/warren/protocol"
)

// Module is an evaluator module: a protocol.Module that also gives the channel
// on which it takes requests.
type Module interface {
	protocol.Module
	GetCommunicationChannel() chan *protocol.EvaluatorRequest
}

// Coordinator (evaluator) manages the single evaluator module and forwards every
// request that arrives on App.EvaluatorChannel to it. Without a configured module
// it runs a caching module named "default".
type Coordinator struct {
	// App is the application context.
	App *protocol.ApplicationContext
	// Log is the coordinator's logger; when nil one is derived from App.Logger.
	Log *zap.Logger

	module Module
	name   string
	quit   chan struct{}
	done   chan struct{}
	mu     sync.Mutex
}

// Configure reads the configuration map "evaluator" and configures its module.
// It panics when more than one module is configured, when a class-name is
// unknown, or when the module's configuration is invalid (naming the key).
func (ec *Coordinator) Configure() {
	if ec.Log == nil {
		ec.Log = zap.NewNop()
		if ec.App != nil && ec.App.Logger != nil {
			ec.Log = ec.App.Logger.With(zap.String("type", "coordinator"), zap.String("name", "evaluator"))
		}
	}
	ec.Log.Info("configuring")
	sec, err := config.EvaluatorSection(ec.App.Config())
	if err != nil {
		panic(err)
	}
	ec.name = sec.Name
	root := "evaluator." + ec.name
	base := ec.Log
	if ec.App.Logger != nil {
		base = ec.App.Logger
	}
	log := base.With(zap.String("type", "module"), zap.String("coordinator", "evaluator"),
		zap.String("class", sec.ClassName), zap.String("name", ec.name))
	ec.module = &CachingEvaluator{App: ec.App, Log: log}
	ec.module.Configure(ec.name, root)
}

// Start starts the module, then forwards App.EvaluatorChannel to it. A nil
// request is ignored.
func (ec *Coordinator) Start() error {
	ec.mu.Lock()
	defer ec.mu.Unlock()
	if ec.module == nil {
		return errors.New("evaluator: Start called before Configure")
	}
	if ec.done != nil {
		return errors.New("evaluator: already started")
	}
	in := ec.App.EvaluatorChannel
	if in == nil {
		return errors.New("evaluator: the application context has no EvaluatorChannel")
	}
	ec.Log.Info("starting")
	if err := ec.module.Start(); err != nil {
		return fmt.Errorf("evaluator module %s: %w", ec.name, err)
	}
	out := ec.module.GetCommunicationChannel()
	ec.quit, ec.done = make(chan struct{}), make(chan struct{})
	go func() {
		defer close(ec.done)
		for {
			select {
			case <-ec.quit:
				return
			case r := <-in:
				if r == nil {
					continue
				}
				// A request taken is a request accepted: it is handed over even
				// if Stop has begun (the module stops after the forwarder).
				out <- r
			}
		}
	}()
	return nil
}

// Stop stops forwarding, then stops the module. It returns nil.
func (ec *Coordinator) Stop() error {
	ec.mu.Lock()
	defer ec.mu.Unlock()
	if ec.Log != nil {
		ec.Log.Info("stopping")
	}
	if ec.done != nil {
		close(ec.quit)
		<-ec.done
		ec.done = nil
	}
	if ec.module != nil {
		if err := ec.module.Stop(); err != nil {
			ec.Log.Warn("evaluator module did not stop cleanly", zap.Error(err))
		}
	}
	return nil
}

// Stats returns the evaluations done (cache misses) and requests dropped by the
// module, for metrics.
func (ec *Coordinator) Stats() (evaluations, dropped uint64) {
	if m, ok := ec.module.(*CachingEvaluator); ok {
		return m.Evaluations.Load(), m.Dropped.Load()
	}
	return 0, 0
}

// Collector exports warren_evaluations_total (cache misses) and
// warren_evaluator_dropped_total (requests that could not be answered).
func (ec *Coordinator) Collector() prometheus.Collector {
	return collect.New(
		collect.Family{Name: "warren_evaluations_total", Help: "Group evaluations done (cache misses).",
			Read: collect.Value(func() uint64 { e, _ := ec.Stats(); return e })},
		collect.Family{Name: "warren_evaluator_dropped_total", Help: "Evaluator requests that could not be answered.",
			Read: collect.Value(func() uint64 { _, d := ec.Stats(); return d })},
	)
}
