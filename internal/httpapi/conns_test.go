package httpapi

import (
	"errors"
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/warrenlag/warren/internal/config"
)

// TestConnectionFlood: idle connections beyond max-connections wait outside
// Warren, every idle one is closed after the header-read timeout, and a real
// request gets through.
func TestConnectionFlood(t *testing.T) {
	const bound, flood = 8, 40
	cfg := &config.Config{HTTP: []config.HTTPServer{{Name: "default", Address: "127.0.0.1:0", Mutating: config.MutatingDisabled,
		MaxConnections: bound, ReadHeaderTimeout: 300 * time.Millisecond, IdleTimeout: time.Second}}}
	s := New(Options{Config: cfg, Host: "h"})
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Stop)
	addr := s.Addrs()["default"]
	stats := s.Connections()["default"]

	conns := make([]net.Conn, flood)
	for i := range conns {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		conns[i] = c
	}
	// A real request, sent while the flood holds every slot.
	got := make(chan error, 1)
	go func() {
		client := &http.Client{Timeout: 20 * time.Second}
		resp, err := client.Get("http://" + addr + "/burrow/admin")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode != 200 {
				err = errors.New(resp.Status)
			}
		}
		got <- err
	}()
	// Every flood connection is closed by the server: accepted in turn and
	// dropped once its header-read timeout passes. Never more than bound open.
	deadline := time.Now().Add(20 * time.Second)
	for i, c := range conns {
		c.SetReadDeadline(deadline)
		_, err := c.Read(make([]byte, 1))
		if !errors.Is(err, io.EOF) {
			t.Fatalf("flood connection %d: %v, want closed by the server", i, err)
		}
		if open := stats.Open.Load(); open > bound {
			t.Fatalf("%d connections open, bound %d", open, bound)
		}
	}
	if err := <-got; err != nil {
		t.Fatalf("real request during the flood: %v", err)
	}
	if stats.Waited.Load() == 0 {
		t.Error("the listener never had to wait: the flood did not reach the bound")
	}
	if a := stats.Accepted.Load(); a < flood+1 {
		t.Errorf("accepted %d connections, want at least %d", a, flood+1)
	}
}
