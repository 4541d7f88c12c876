// Package protocol holds the types that Warren's subsystems share: the requests
// they send each other over channels, the results those requests return, and the
// interfaces of modules and coordinators. They are those of LinkedIn Burrow's
// protocol package, less its ZooKeeper declarations and plus a few of Warren's,
// so that client code that does not touch ZooKeeper moves over with only its
// import paths changed; docs/compatibility.md lists every difference. The package
// has no logic beyond (un)marshalling.
package protocol

import (
	"time"

	"github.com/spf13/viper"
	"go.uber.org/zap"
)

// ApplicationContext is handed to every coordinator and module. It carries the
// logger and the channels over which the subsystems talk to each other.
//
// Only Logger and StorageChannel must be set; every other field may be left at its
// zero value.
type ApplicationContext struct {
	// Logger is the root logger; coordinators derive their own loggers from it.
	Logger *zap.Logger

	// LogLevel, when set, is the level of Logger that can be changed at run time.
	LogLevel *zap.AtomicLevel

	// StorageChannel is the channel on which the storage coordinator receives
	// requests from every other subsystem.
	StorageChannel chan *StorageRequest

	// EvaluatorChannel is the channel on which the evaluator coordinator receives
	// requests.
	EvaluatorChannel chan *EvaluatorRequest

	// AppReady is set once every subsystem has started.
	AppReady bool

	// ConfigurationValid is set once the configuration has been read and checked.
	ConfigurationValid bool

	// Viper is the configuration the coordinators read. When nil, they read the
	// global viper instance, as the original does.
	Viper *viper.Viper

	// Clock is the wall clock that modules read for "now". When nil, time.Now is
	// used. Tests set it to control expiry and evaluation without waiting.
	Clock func() time.Time
}

// Config returns the viper instance to read configuration from: App.Viper when set,
// else the global instance.
func (app *ApplicationContext) Config() *viper.Viper {
	if app == nil || app.Viper == nil {
		return viper.GetViper()
	}
	return app.Viper
}

// Now returns the current time from App.Clock, or time.Now when no clock is set.
func (app *ApplicationContext) Now() time.Time {
	if app == nil || app.Clock == nil {
		return time.Now()
	}
	return app.Clock()
}

// Module is implemented by every module of every subsystem.
//
// Configure validates the module's configuration under configRoot and prepares it;
// it connects to nothing and panics on a configuration error, naming the key.
// Start begins the module's work and returns. Stop returns once the module has
// completely stopped.
type Module interface {
	Configure(name string, configRoot string)
	Start() error
	Stop() error
}

// Coordinator is implemented by the coordinator of every subsystem. It configures,
// starts and stops the subsystem's modules.
type Coordinator interface {
	Configure()
	Start() error
	Stop() error
}
