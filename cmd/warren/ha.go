package main

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"

	"github.com/warrenlag/warren/internal/collect"
	"github.com/warrenlag/warren/internal/config"
	"github.com/warrenlag/warren/internal/ha"
	"github.com/warrenlag/warren/internal/notifier"
)

// haComponent is the election component: nil-safe, so that a Warren without
// [ha] (one instance, the demo) has nothing to start or stop.
type haComponent struct {
	c *ha.Coordinator
}

// newHA builds the election of [ha] and the notifier options it needs
// (passive until elected, publishing its changes); without [ha], nothing.
func newHA(cfg *config.Config, log *zap.Logger) (*haComponent, []notifier.Option, error) {
	if !cfg.HA.Enabled {
		return &haComponent{}, nil, nil
	}
	c, err := ha.New(cfg.HA, log)
	if err != nil {
		return nil, nil, err
	}
	return &haComponent{c: c}, []notifier.Option{notifier.WithPassive(), notifier.WithPublish(c.Publish)}, nil
}

func (h *haComponent) setNotifier(nt *notifier.Coordinator) {
	if h.c != nil {
		h.c.SetNotifier(nt)
	}
}

func (h *haComponent) start() error {
	if h.c == nil {
		return nil
	}
	return h.c.Start()
}

func (h *haComponent) stop() {
	if h.c != nil {
		h.c.Stop()
	}
}

func (h *haComponent) collector() prometheus.Collector {
	if h.c == nil {
		return collect.New()
	}
	return h.c.Collector()
}

func (h *haComponent) handler() http.Handler {
	if h.c == nil {
		return nil
	}
	return h.c.Handler()
}
