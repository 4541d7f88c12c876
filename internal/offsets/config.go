// Package offsets is Warren's in-memory offset store: broker offset histories and
// consumer group commit windows, kept in value-typed fixed-size rings and served
// by a dispatcher and a set of workers that own their groups outright.
//
// The storage package wraps it in the compatible InMemoryStorage module; nothing
// in this package reads global configuration.
package offsets

import (
	"errors"
	"fmt"
	"regexp"
	"time"
)

// Defaults of Config, the same as the original module's.
const (
	DefaultIntervals     = 10
	DefaultExpireGroup   = 7 * 24 * time.Hour
	DefaultWorkers       = 20
	DefaultMaxPartitions = 1 << 16
	// MaxIntervals is the largest window length: positions are 16-bit.
	MaxIntervals = 1<<16 - 1
	// MaxWorkers bounds the worker count to something a machine can run.
	MaxWorkers = 4096
)

// Config is the typed configuration of a Store. The zero value of every field but
// Clusters means its default; build one with defaults applied by SetDefaults.
type Config struct {
	// Intervals is the length of every offset history, consumer and broker.
	Intervals int
	// ExpireGroup drops commits older than this and purges groups whose newest
	// commit is older, at fetch time.
	ExpireGroup time.Duration
	// Workers is the number of goroutines that own the groups; a group is always
	// served by the same worker.
	Workers int
	// MinDistance merges a commit into the previous one when it comes less than
	// this after it.
	MinDistance time.Duration
	// GroupAllowlist, when set, is an unanchored regular expression that a group
	// must match to be stored.
	GroupAllowlist string
	// GroupDenylist, when set, is an unanchored regular expression: matching
	// groups are never stored.
	GroupDenylist string
	// MaxPartitions bounds the partition count of a topic; broker offsets for
	// partitions beyond it are dropped.
	MaxPartitions int
	// Clusters names the clusters the store knows. Requests for others are
	// dropped.
	Clusters []string
	// Now is the clock; nil means time.Now.
	Now func() time.Time

	// expireSet tells an ExpireGroup of zero that was given from one left out.
	expireSet bool
}

// SetExpireGroup sets ExpireGroup, including to zero (which drops every commit
// that is not in the future), which the zero value of the field cannot express.
func (c *Config) SetExpireGroup(d time.Duration) {
	c.ExpireGroup = d
	c.expireSet = true
}

// SetDefaults fills every field left at its zero value with its default.
func (c *Config) SetDefaults() {
	if c.Intervals == 0 {
		c.Intervals = DefaultIntervals
	}
	if c.ExpireGroup == 0 && !c.expireSet {
		c.ExpireGroup = DefaultExpireGroup
	}
	if c.Workers == 0 {
		c.Workers = DefaultWorkers
	}
	if c.MaxPartitions == 0 {
		c.MaxPartitions = DefaultMaxPartitions
	}
	if c.Now == nil {
		c.Now = time.Now
	}
}

// Validate reports every value that is out of range, naming its configuration
// key. It expects SetDefaults to have run.
func (c *Config) Validate() error {
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", key, fmt.Sprintf(format, args...)))
	}
	if c.Intervals < 1 || c.Intervals > MaxIntervals {
		bad("intervals", "must be between 1 and %d, got %d", MaxIntervals, c.Intervals)
	}
	if c.ExpireGroup < 0 {
		bad("expire-group", "must not be negative, got %v", c.ExpireGroup.Seconds())
	}
	if c.Workers < 1 || c.Workers > MaxWorkers {
		bad("workers", "must be between 1 and %d, got %d", MaxWorkers, c.Workers)
	}
	if c.MinDistance < 0 {
		bad("min-distance", "must not be negative, got %v", c.MinDistance.Seconds())
	}
	if c.MaxPartitions < 1 {
		bad("max-partitions", "must be positive, got %d", c.MaxPartitions)
	}
	if _, err := regexp.Compile(c.GroupAllowlist); err != nil {
		bad("group-allowlist", "failed to compile group allowlist: %v", err)
	}
	if _, err := regexp.Compile(c.GroupDenylist); err != nil {
		bad("group-denylist", "failed to compile group denylist: %v", err)
	}
	seen := make(map[string]bool, len(c.Clusters))
	for _, name := range c.Clusters {
		if seen[name] {
			bad("cluster", "cluster %q is named twice", name)
		}
		seen[name] = true
	}
	return errors.Join(errs...)
}
