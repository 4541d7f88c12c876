package notifier

import (
	"context"

	"github.com/warrenlag/warren/internal/config"
)

func init() {
	register(config.NotifierNull, func(config.Notifier, Env) (Module, error) { return nullModule{}, nil })
}

// nullModule is class null (notifier.md §8): it accepts every group and sends
// nothing. The coordinator still counts its notifications as sent.
type nullModule struct{}

func (nullModule) Send(context.Context, Kind, *Notification) error { return nil }
func (nullModule) Close() error                                    { return nil }
