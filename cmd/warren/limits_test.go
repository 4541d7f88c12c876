package main

import (
	"syscall"
	"testing"

	"github.com/warrenlag/warren/internal/config"
)

func TestRaiseFileLimit(t *testing.T) {
	before, after, err := raiseFileLimit()
	if err != nil {
		t.Fatal(err)
	}
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatal(err)
	}
	if after < before || lim.Cur != after || lim.Cur != lim.Max {
		t.Errorf("before %d after %d, now soft %d hard %d: want the soft limit at the hard one", before, after, lim.Cur, lim.Max)
	}
}

func TestFitConnections(t *testing.T) {
	for _, tt := range []struct {
		name           string
		conns          []int
		limit, reserve uint64
		lowered        int
		want           []int
	}{
		{"room for all", []int{512, 512}, 1 << 20, 256, 0, []int{512, 512}},
		{"1024 files, one listener", []int{512}, 1024, 256, 0, []int{512}},
		{"1024 files, two listeners", []int{512, 512}, 1024, 256, 384, []int{384, 384}},
		{"a small one stays", []int{100, 2000}, 1024, 256, 384, []int{100, 384}},
		{"almost no files", []int{512}, 200, 256, 8, []int{8}},
	} {
		servers := make([]config.HTTPServer, len(tt.conns))
		for i, n := range tt.conns {
			servers[i].MaxConnections = n
		}
		lowered := fitConnections(servers, tt.limit, tt.reserve)
		for i := range servers {
			if servers[i].MaxConnections != tt.want[i] {
				t.Errorf("%s: listener %d bound %d, want %d", tt.name, i, servers[i].MaxConnections, tt.want[i])
			}
		}
		if lowered != tt.lowered {
			t.Errorf("%s: lowered to %d, want %d", tt.name, lowered, tt.lowered)
		}
	}
}
