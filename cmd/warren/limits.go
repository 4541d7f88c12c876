package main

import (
	"fmt"
	"syscall"

	"github.com/warrenlag/warren/internal/config"
)

// kafkaReserve is how many file descriptors are kept for everything but the
// HTTP listeners: log files, and the Kafka clients' connections (a few per
// broker for each cluster and consumer module).
func kafkaReserve(cfg *config.Config) uint64 {
	n := uint64(64)
	for _, c := range cfg.Clusters {
		n += 4 * uint64(len(c.Servers)+1)
	}
	for _, c := range cfg.Consumers {
		n += 4 * uint64(len(c.Servers)+1)
	}
	return max(n, 256)
}

// raiseFileLimit raises the soft limit on open files to the hard limit, as a
// server that holds many connections should, and returns both soft limits.
func raiseFileLimit() (before, after uint64, err error) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return 0, 0, fmt.Errorf("cannot read the open-file limit: %w", err)
	}
	before = lim.Cur
	if lim.Cur >= lim.Max {
		return before, before, nil
	}
	lim.Cur = lim.Max
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return before, before, fmt.Errorf("cannot raise the open-file limit from %d to %d: %w", before, lim.Max, err)
	}
	return before, lim.Max, nil
}

// fitConnections lowers the listeners' max-connections so that, with limit
// open files, reserve descriptors stay free for the rest of Warren. It
// returns the new bound of each listener when it had to lower any, else 0.
func fitConnections(servers []config.HTTPServer, limit, reserve uint64) int {
	if len(servers) == 0 {
		return 0
	}
	var want uint64
	for _, s := range servers {
		want += uint64(s.MaxConnections)
	}
	if want+reserve <= limit {
		return 0
	}
	each := 8
	if limit > reserve {
		each = max(each, int((limit-reserve)/uint64(len(servers))))
	}
	lowered := 0
	for i := range servers {
		if servers[i].MaxConnections > each {
			servers[i].MaxConnections = each
			lowered = each
		}
	}
	return lowered
}
