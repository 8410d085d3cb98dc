package coro

import (
	"net"
	"time"
)

// Listener is a listening stream socket (TCP or unix) on the event loop; it implements
// net.Listener. Accept parks the calling coroutine until a connection arrives; the usual
// shape is one accepting coroutine that spawns a coroutine per connection. Concurrent
// Accepts queue and are served in turn. Like Conn, it may be used from any goroutine.
type Listener struct {
	fd *netFD
}

var _ net.Listener = (*Listener)(nil)

// Accept waits for the next connection and returns it as a net.Conn (a *Conn).
func (l *Listener) Accept() (net.Conn, error) {
	c, err := l.AcceptConn()
	if err != nil {
		return nil, err
	}
	return c, nil
}

// AcceptConn is Accept returning the concrete *Conn. When the process is out of
// descriptors (EMFILE) it backs off, waiting 5 ms, then doubling up to 1 s, on the
// listener (woken early by Close or a new connection) rather than spinning.
func (l *Listener) AcceptConn() (*Conn, error) {
	fd, err := l.fd.accept()
	if err != nil {
		return nil, l.fd.opError("accept", err)
	}
	return &Conn{fd: fd}, nil
}

// Close stops listening; a coroutine waiting in Accept wakes with net.ErrClosed. A unix
// listener removes its socket file.
func (l *Listener) Close() error { return l.fd.opError("close", l.fd.close()) }

// Addr returns the listening address, with the port the kernel chose for port 0.
func (l *Listener) Addr() net.Addr { return l.fd.laddr }

// SetDeadline sets the deadline for Accept; the zero time means none. It applies to an
// Accept already waiting.
func (l *Listener) SetDeadline(t time.Time) error {
	return l.fd.setDeadlines(true, false, t)
}
