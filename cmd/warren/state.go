package main

import (
	"errors"
	"iter"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"

	"github.com/warrenlag/warren/internal/collect"
	"github.com/warrenlag/warren/internal/config"
	"github.com/warrenlag/warren/internal/kafka"
	"github.com/warrenlag/warren/internal/notifier"
	"github.com/warrenlag/warren/internal/state"
	"github.com/warrenlag/warren/storage"
)

// stateFile is the state file component: nil-safe, so that a Warren without
// one (state-dir empty, the demo) has nothing to start or stop.
type stateFile struct {
	k *state.Keeper
}

// keepState restores what the state file of cfg holds into the subsystems,
// before any of them starts, and returns the component that writes it from
// then on. Sources are written in restore order.
func keepState(cfg *config.Config, log *zap.Logger, st *storage.Coordinator, nt *notifier.Coordinator, mods []kafka.Named) *stateFile {
	if cfg.General.StateDir == "" {
		log.Info("no state-dir: Warren keeps no state file and starts empty at every restart")
		return &stateFile{}
	}
	k := &state.Keeper{File: &state.File{Dir: cfg.General.StateDir}, Interval: cfg.General.StateInterval, Log: log,
		// The readers' positions before storage's commits: a position
		// restored is then never ahead of what storage holds.
		Sources: []state.Source{kafka.Positions(mods), st.Snapshot, nt.Snapshot}}
	k.Load(func(sections iter.Seq2[string, []byte]) error {
		var errs []error
		counts, err := st.Restore(sections)
		errs = append(errs, err)
		positions := kafka.Restore(mods, sections)
		incidents, err := nt.Restore(sections)
		errs = append(errs, err)
		log.Info("state restored", zap.String("path", k.File.Path()), zap.Any("storage", counts),
			zap.Any("positions", positions), zap.Int("groups_with_incidents", incidents))
		return errors.Join(errs...)
	})
	return &stateFile{k: k}
}

func (s *stateFile) start() error {
	if s.k == nil {
		return nil
	}
	return s.k.Start()
}

func (s *stateFile) stop() {
	if s.k != nil {
		s.k.Stop()
	}
}

func (s *stateFile) collector() prometheus.Collector {
	if s.k == nil {
		return collect.New()
	}
	return s.k.Collector()
}
