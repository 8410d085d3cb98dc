package coro

import (
	"io"
	"net"
	"time"

	"golang.org/x/sys/unix"
)

// Conn is a connected socket (TCP, unix stream, or connected UDP) on the event loop. It
// implements net.Conn, so bufio, crypto/tls and net/http's request parsing work on it
// from coroutines.
//
// Read, Write and ReadExactly park the calling coroutine while the socket is not
// ready. As package net promises, every method may be called from any goroutine, and
// from several at once: concurrent Reads queue and run one after another in arrival
// order, and so do concurrent Writes (each Write is written whole, never interleaved
// with another); a Read and a Write proceed independently. From a coroutine of the
// loop the Conn belongs to, a call runs in place; from anywhere else (a goroutine, an
// Offload) it is run on that loop and the caller blocks until it is done (doc.go,
// "Calling in from other goroutines"). Read, Write and ReadExactly from a coroutine of
// another loop fail with ErrWrongLoop. Close wakes every waiting call, wherever it was
// made, with net.ErrClosed; from off the loop it hands the teardown to the loop and
// returns without waiting for it (a later call by the same caller is run after it).
//
// Library code that guards a Conn with a sync.Mutex blocks the whole loop if a second
// coroutine waits on that mutex while the first is parked in Read or Write. The case
// to know: crypto/tls runs the handshake under such a mutex, implicitly on the first
// Read or Write, so call (*tls.Conn).Handshake before splitting a TLS connection
// between a reader and a writer coroutine. After the handshake, tls.Conn's Read and
// Write use separate locks and the one-reader-one-writer idiom works.
//
// Errors are *net.OpError values as package net returns them: errors.Is(err,
// net.ErrClosed) after Close, errors.Is(err, os.ErrDeadlineExceeded) (and Timeout()
// true) after a deadline; io.EOF at the end of the stream.
type Conn struct {
	fd *netFD
}

var _ net.Conn = (*Conn)(nil)

// Read reads up to len(p) bytes, waiting until at least one is available.
func (c *Conn) Read(p []byte) (int, error) {
	n, err := c.fd.read(p)
	return n, c.fd.opError("read", err)
}

// Write writes all of p, waiting whenever the socket's send buffer is full. It returns
// len(p), or the count written before an error.
func (c *Conn) Write(p []byte) (int, error) {
	n, err := c.fd.write(p)
	return n, c.fd.opError("write", err)
}

// ReadExactly reads exactly n bytes. If the stream ends first it returns the bytes that
// did arrive with io.ErrUnexpectedEOF (io.EOF when none did), like Shrapnel's
// recv_exact; on any other error, the bytes read so far and that error.
func (c *Conn) ReadExactly(n int) ([]byte, error) {
	buf := make([]byte, n)
	got, err := io.ReadFull(c, buf)
	return buf[:got], err
}

// Close closes the connection; coroutines waiting on it wake with net.ErrClosed.
func (c *Conn) Close() error { return c.fd.opError("close", c.fd.close()) }

// CloseWrite shuts down the sending side (the peer reads EOF), keeping the receiving
// side open.
func (c *Conn) CloseWrite() error { return c.fd.opError("close", c.fd.shutdown(unix.SHUT_WR)) }

// CloseRead shuts down the receiving side.
func (c *Conn) CloseRead() error { return c.fd.opError("close", c.fd.shutdown(unix.SHUT_RD)) }

// LocalAddr returns the local address (*net.TCPAddr, *net.UnixAddr or *net.UDPAddr).
func (c *Conn) LocalAddr() net.Addr { return c.fd.laddr }

// RemoteAddr returns the peer's address.
func (c *Conn) RemoteAddr() net.Addr { return c.fd.raddr }

// SetDeadline sets the read and write deadlines.
func (c *Conn) SetDeadline(t time.Time) error {
	return c.fd.setDeadlines(true, true, t)
}

// SetReadDeadline sets the deadline for Read (and ReadExactly): when it passes, a
// waiting Read returns an error that is errors.Is os.ErrDeadlineExceeded, and so do
// later ones until the deadline is moved. The zero time means none. It applies to a
// Read already waiting, and to Reads queued behind it.
func (c *Conn) SetReadDeadline(t time.Time) error {
	return c.fd.setDeadlines(true, false, t)
}

// SetWriteDeadline sets the deadline for Write; see SetReadDeadline. A Write stopped by
// its deadline reports how much it wrote.
func (c *Conn) SetWriteDeadline(t time.Time) error {
	return c.fd.setDeadlines(false, true, t)
}

// SetNoDelay controls Nagle's algorithm on a TCP connection; like package net, new
// connections have it off (no delay).
func (c *Conn) SetNoDelay(noDelay bool) error {
	if c.fd.family == unix.AF_UNIX {
		return nil
	}
	v := 0
	if noDelay {
		v = 1
	}
	fd := c.fd
	set := func() error {
		if fd.closed {
			return net.ErrClosed
		}
		return setsockoptInt(fd.fd, unix.IPPROTO_TCP, unix.TCP_NODELAY, v, "TCP_NODELAY")
	}
	if fd.pd.s.curG.load() != getg() {
		// On the loop, so that the descriptor cannot be closed (and reused) meanwhile.
		return fd.opError("set", fd.foreignErr(set))
	}
	return fd.opError("set", set())
}
