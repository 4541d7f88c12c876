package httpapi

import (
	"net"
	"sync"
	"sync/atomic"
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
