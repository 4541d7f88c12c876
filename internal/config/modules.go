package config

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/spf13/viper"

	"github.com/warrenlag/warren/internal/offsets"
)

// Storage is the one [storage.NAME] module: "default" of class inmemory when
// none is configured.
type Storage struct {
	Name           string
	ClassName      string
	Intervals      int
	ExpireGroup    time.Duration
	Workers        int
	QueueDepth     int
	MinDistance    time.Duration
	GroupAllowlist string
	GroupDenylist  string
	MaxPartitions  int
}

// Offsets returns the store's configuration (without its clusters and clock).
func (s Storage) Offsets() offsets.Config {
	c := offsets.Config{Intervals: s.Intervals, Workers: s.Workers, MinDistance: s.MinDistance,
		GroupAllowlist: s.GroupAllowlist, GroupDenylist: s.GroupDenylist, MaxPartitions: s.MaxPartitions}
	c.SetExpireGroup(s.ExpireGroup)
	c.SetDefaults()
	return c
}

// Evaluator is the one [evaluator.NAME] module: "default" of class caching
// when none is configured.
type Evaluator struct {
	Name      string
	ClassName string
	// ExpireCache is how long a group's status is reused; 0 turns the cache off.
	ExpireCache time.Duration
	// MinimumComplete is the fraction of a window that must be filled (0 to 1).
	MinimumComplete float64
	// AllowedLag is the lag a partition may have without a WARN.
	AllowedLag uint64
}

// StorageSection returns the storage module of v. As the original, it sets
// the default module's class in v when none is configured, so that /v3/config
// shows it.
func StorageSection(v *viper.Viper) (Storage, error) {
	name, names, ok := SingleModule(v, "storage", "inmemory")
	if !ok {
		return Storage{}, fmt.Errorf("storage: only one storage module may be configured, found %d: %v", len(names), names)
	}
	s, err := StorageModule(v, name)
	if s.ClassName != "inmemory" {
		err = errors.Join(fmt.Errorf("storage.%s.class-name: unknown storage className provided: %q", name, s.ClassName), err)
	}
	return s, err
}

// StorageModule reads and checks the keys of [storage.NAME], whatever its
// class (the caller picks the module by class).
func StorageModule(v *viper.Viper, name string) (Storage, error) {
	p := &parser{v: v}
	root := "storage." + name
	s := Storage{Name: name, ClassName: p.str(root+".class-name", "")}
	given := v.GetStringMap(root) // holds keys given without a value too
	for _, old := range []string{"group-whitelist", "group-blacklist"} {
		if _, ok := given[old]; ok || v.IsSet(root+"."+old) {
			p.fail(root+"."+old, "no longer supported; please change configurations to allowlist and denylist (group-allowlist, group-denylist)")
		}
	}
	s.Intervals = p.positive(root+".intervals", offsets.DefaultIntervals)
	s.ExpireGroup = p.seconds(root+".expire-group", int(offsets.DefaultExpireGroup/time.Second))
	s.Workers = p.positive(root+".workers", offsets.DefaultWorkers)
	s.QueueDepth = p.integer(root+".queue-depth", 1)
	s.MinDistance = p.seconds(root+".min-distance", 0)
	s.GroupAllowlist = p.str(root+".group-allowlist", "")
	s.GroupDenylist = p.str(root+".group-denylist", "")
	s.MaxPartitions = p.positive(root+".max-partitions", offsets.DefaultMaxPartitions)
	if s.QueueDepth < 0 {
		p.fail(root+".queue-depth", "must not be negative, got %d", s.QueueDepth)
		s.QueueDepth = 1
	}
	if len(p.errs) == 0 {
		c := s.Offsets()
		if err := c.Validate(); err != nil {
			for _, line := range strings.Split(err.Error(), "\n") {
				p.errs = append(p.errs, fmt.Errorf("%s.%s", root, line))
			}
		}
	}
	return s, errors.Join(p.errs...)
}

// EvaluatorSection returns the evaluator module of v, setting the default
// module's class in v when none is configured.
func EvaluatorSection(v *viper.Viper) (Evaluator, error) {
	name, names, ok := SingleModule(v, "evaluator", "caching")
	if !ok {
		return Evaluator{}, fmt.Errorf("evaluator: Only one evaluator module must be configured, found %d: %v", len(names), names)
	}
	e, err := EvaluatorModule(v, name)
	if e.ClassName != "caching" {
		err = errors.Join(fmt.Errorf("evaluator.%s.class-name: unknown evaluator className provided: %q", name, e.ClassName), err)
	}
	return e, err
}

// EvaluatorModule reads and checks the keys of [evaluator.NAME], whatever its
// class. Seconds and
// messages are whole, as the original reads them (1.5 is 1).
func EvaluatorModule(v *viper.Viper, name string) (Evaluator, error) {
	p := &parser{v: v}
	root := "evaluator." + name
	e := Evaluator{Name: name, ClassName: p.str(root+".class-name", "")}
	expire := math.Trunc(p.number(root+".expire-cache", 10))
	if !(expire >= 0) || math.IsInf(expire, 0) {
		p.fail(root+".expire-cache", "must not be negative, got %v", expire)
		expire = 10
	}
	expire = min(expire, 100*365*24*3600) // a longer cache is the same as forever
	e.ExpireCache = time.Duration(expire * float64(time.Second))
	e.MinimumComplete = p.number(root+".minimum-complete", 0)
	if !(e.MinimumComplete >= 0 && e.MinimumComplete <= 1) {
		p.fail(root+".minimum-complete", "must be between 0 and 1, got %v", e.MinimumComplete)
	}
	allowed := math.Trunc(p.number(root+".allowed-lag", 0))
	if !(allowed >= 0) || allowed >= math.MaxUint64 {
		p.fail(root+".allowed-lag", "must not be negative, got %v", allowed)
		allowed = 0
	}
	e.AllowedLag = uint64(allowed)
	return e, errors.Join(p.errs...)
}
