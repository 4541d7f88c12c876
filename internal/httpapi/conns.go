package httpapi

import (
	"net"
	"sync"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/warrenlag/warren/internal/collect"
)

// limitListener holds at most cap(slots) connections open at once. At the
// bound it stops accepting: new connections wait in the kernel's accept
// queue, where they cost Warren no file descriptor, until one closes. The
// header-read and idle timeouts make sure one does.
type limitListener struct {
	net.Listener
	slots chan struct{}
	stats *ConnStats
	done  chan struct{}
	once  sync.Once
}

// ConnStats are a listener's connection counts, safe for concurrent use.
type ConnStats struct {
	// Open is the number of connections open now.
	Open atomic.Int64
	// Accepted counts every connection accepted.
	Accepted atomic.Uint64
	// Waited counts the times the listener was full and had to wait for a
	// connection to close before accepting the next.
	Waited atomic.Uint64
}

func newLimitListener(ln net.Listener, n int, stats *ConnStats) *limitListener {
	return &limitListener{Listener: ln, slots: make(chan struct{}, n), stats: stats, done: make(chan struct{})}
}

func (l *limitListener) Accept() (net.Conn, error) {
	select {
	case l.slots <- struct{}{}:
	default:
		l.stats.Waited.Add(1)
		select {
		case l.slots <- struct{}{}:
		case <-l.done:
			return nil, net.ErrClosed
		}
	}
	c, err := l.Listener.Accept()
	if err != nil {
		<-l.slots
		return nil, err
	}
	l.stats.Open.Add(1)
	l.stats.Accepted.Add(1)
	return &limitConn{Conn: c, l: l}, nil
}

func (l *limitListener) Close() error {
	l.once.Do(func() { close(l.done) })
	return l.Listener.Close()
}

// limitConn gives its slot back once, when it is first closed.
type limitConn struct {
	net.Conn
	l    *limitListener
	once sync.Once
}

func (c *limitConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(func() {
		c.l.stats.Open.Add(-1)
		<-c.l.slots
	})
	return err
}

// Collector exports every listener's connections: warren_http_connections
// open now, warren_http_connections_total accepted, and
// warren_http_connection_waits_total (times the listener was full).
func (s *Server) Collector() prometheus.Collector {
	each := func(f func(*ConnStats) float64) func(emit func(float64, ...string)) {
		return func(emit func(float64, ...string)) {
			for _, l := range s.listeners {
				emit(f(&l.stats), l.cfg.Name)
			}
		}
	}
	listener := []string{"listener"}
	return collect.New(
		collect.Family{Name: "warren_http_connections", Help: "Open HTTP connections, by listener.", Labels: listener, Gauge: true,
			Read: each(func(c *ConnStats) float64 { return float64(c.Open.Load()) })},
		collect.Family{Name: "warren_http_connections_total", Help: "HTTP connections accepted, by listener.", Labels: listener,
			Read: each(func(c *ConnStats) float64 { return float64(c.Accepted.Load()) })},
		collect.Family{Name: "warren_http_connection_waits_total", Help: "Times a listener had max-connections open and let new connections wait.", Labels: listener,
			Read: each(func(c *ConnStats) float64 { return float64(c.Waited.Load()) })},
	)
}
