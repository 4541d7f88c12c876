package notifier

import (
	"context"
	"strings"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/warrenlag/warren/internal/config"
)

func init() {
	register(config.NotifierLog, func(_ config.Notifier, env Env) (Module, error) {
		return &logModule{log: env.Log, templates: env.Templates}, nil
	})
}

// logModule is class log (notifier.md §12 item 14): it renders the template
// and writes it as one log line, at warn level for an open notification and
// info for a close, with the cluster, group and incident ID as fields. The
// message is the rendered text without its final line feed.
type logModule struct {
	log       *zap.Logger
	templates *Templates
}

func (m *logModule) Send(_ context.Context, kind Kind, n *Notification) error {
	level := zapcore.WarnLevel
	if kind == Close {
		level = zapcore.InfoLevel
	}
	body, err := m.templates.Render(kind, n) // even when not logged, so that a broken template is seen
	if err != nil {
		return err
	}
	ce := m.log.Check(level, "")
	if ce == nil {
		return nil
	}
	ce.Message = strings.TrimSuffix(string(body), "\n")
	ce.Write(zap.String("kind", kind.String()), zap.String("cluster", n.Cluster), zap.String("group", n.Group),
		zap.String("id", n.ID), zap.Stringer("status", n.Result.Status))
	return nil
}

func (m *logModule) Close() error { return nil }
