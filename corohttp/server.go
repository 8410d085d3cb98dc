package corohttp

import (
	"context"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	coro "github.com/coroprof/coroprof/runtime"
)

// Server serves HTTP/1.x on coroutines. Its fields mean what http.Server's fields of
// the same names mean; the zero value (with a Handler) is ready to use. A Server must
// not be copied after first use.
type Server struct {
	// Addr is the TCP address ListenAndServe listens on ("127.0.0.1:8080"); ":http"
	// when empty.
	Addr string
	// Handler serves the requests; http.DefaultServeMux when nil.
	Handler http.Handler

	// ReadHeaderTimeout bounds reading a request's header (ReadTimeout when zero).
	ReadHeaderTimeout time.Duration
	// ReadTimeout bounds reading a whole request, body included.
	ReadTimeout time.Duration
	// WriteTimeout bounds writing a response, from the end of the request's header.
	WriteTimeout time.Duration
	// IdleTimeout bounds the wait for the next request on a keep-alive connection
	// (ReadTimeout when zero; no bound when both are zero).
	IdleTimeout time.Duration
	// MaxHeaderBytes bounds a request line plus header (http.DefaultMaxHeaderBytes when
	// zero); as in net/http, 4096 bytes of slack are allowed for buffering, and a
	// request over the bound gets 431.
	MaxHeaderBytes int
	// ErrorLog receives the server's errors (handler panics, bad WriteHeader calls);
	// the log package's standard logger when nil.
	ErrorLog *log.Logger
	// DisableGeneralOptionsHandler passes "OPTIONS *" requests to Handler instead of
	// answering them with 200 and Content-Length: 0.
	DisableGeneralOptionsHandler bool
	// Route names the profiler region of a request (see the package doc, Profiling).
	// When nil: the ServeMux pattern that matches the request when Handler is a
	// *http.ServeMux, otherwise (or when none matches) the request's method.
	Route func(*http.Request) string

	mu         sync.Mutex // guards listeners, conns; taken for a few instructions at a time
	listeners  map[*net.Listener]struct{}
	conns      map[*conn]struct{}
	inShutdown atomic.Bool
	keepAlives atomic.Bool // set: keep-alives are disabled (SetKeepAlivesEnabled(false))
}

// ErrServerClosed is what Serve and ListenAndServe return after Shutdown or Close;
// it is http.ErrServerClosed, so code written for net/http checks it unchanged.
var ErrServerClosed = http.ErrServerClosed

// ErrNotCoroutine is returned at once by the functions of this package that must park
// (Serve, ListenAndServe, Transport.RoundTrip) when called from outside a coroutine.
var ErrNotCoroutine = errors.New("corohttp: must be called from a coroutine (coro.Spawn); the call parks the caller until the work is done")

// ListenAndServe listens on the TCP address addr and serves h on the calling
// coroutine's loop, a coroutine per connection. It returns only on error.
func ListenAndServe(addr string, h http.Handler) error {
	return (&Server{Addr: addr, Handler: h}).ListenAndServe()
}

// Serve accepts connections on l (a listener from coro.Listen) and serves h on them.
func Serve(l net.Listener, h http.Handler) error {
	return (&Server{Handler: h}).Serve(l)
}

// ListenAndServe listens on srv.Addr and calls Serve.
func (srv *Server) ListenAndServe() error {
	if coro.Current() == nil {
		return ErrNotCoroutine
	}
	if srv.shuttingDown() {
		return ErrServerClosed
	}
	addr := srv.Addr
	if addr == "" {
		addr = ":http"
	}
	ln, err := coro.Listen("tcp", addr)
	if err != nil {
		return err
	}
	return srv.Serve(ln)
}

// ListenAndServeReusePort listens on srv.Addr with SO_REUSEPORT and calls Serve. Call
// it from one coroutine on each of several loops (coro.NewScheduler) to serve one
// address with a loop per core: the kernel spreads the connections over the loops'
// sockets, and each connection is served wholly by the loop that accepted it. srv.Addr
// must name a port (not 0) so every loop binds the same one; ServeLoops handles port 0.
func (srv *Server) ListenAndServeReusePort() error {
	if coro.Current() == nil {
		return ErrNotCoroutine
	}
	if srv.shuttingDown() {
		return ErrServerClosed
	}
	ln, err := coro.ListenConfig{ReusePort: true}.Listen("tcp", srv.Addr)
	if err != nil {
		return err
	}
	return srv.Serve(ln)
}

// ServeLoops serves srv.Addr on the calling coroutine's loop and on each loop of
// others (coro.NewScheduler), every loop with its own SO_REUSEPORT socket on the same
// address (with port 0, the port the first socket got), so a server uses a loop per
// core; each connection is served wholly by the loop that accepted it, and the
// handler runs on several threads at once (give each loop its own state, or guard
// shared state with sync primitives held only briefly). It spawns a coroutine named
// "corohttp.serve" on each other loop, starts (on a goroutine of its own) each of them
// that is not running yet, and serves on the caller's loop itself, returning when that
// Serve returns; Close or Shutdown ends every loop's Serve. An error listening on
// another loop goes to ErrorLog. ready, when not nil, is called with the bound
// address once every loop listens.
func (srv *Server) ServeLoops(ready func(net.Addr), others ...*coro.Scheduler) error {
	if coro.Current() == nil {
		return ErrNotCoroutine
	}
	if srv.shuttingDown() {
		return ErrServerClosed
	}
	lc := coro.ListenConfig{ReusePort: true}
	ln, err := lc.Listen("tcp", srv.Addr)
	if err != nil {
		return err
	}
	addr := ln.Addr().String()
	own := coro.CurrentScheduler()
	var waiting coro.InvertedSemaphore
	waiting.Acquire(int64(len(others)))
	for _, s := range others {
		s.SpawnNamed("corohttp.serve", func() {
			l, err := lc.Listen("tcp", addr)
			done := false
			release := func() {
				if !done {
					done = true
					// The semaphore belongs to the caller's loop: hand the release
					// over through Call rather than touch it from this loop.
					coro.Call(own, func() (struct{}, error) { waiting.Release(1); return struct{}{}, nil })
				}
			}
			if err != nil {
				release()
				srv.logf("corohttp: listening on %s for another loop: %v", addr, err)
				return
			}
			release()
			if err := srv.Serve(l); err != nil && err != ErrServerClosed {
				srv.logf("corohttp: serving on another loop: %v", err)
			}
		})
	}
	for _, s := range others {
		if !s.Running() {
			go s.EventLoop()
		}
	}
	if err := waiting.WaitZero(); err != nil {
		ln.Close()
		return err
	}
	if ready != nil {
		ready(ln.Addr())
	}
	return srv.Serve(ln)
}

// Serve accepts connections on l and serves each on a coroutine of its own, named
// "http REMOTEADDR", running srv.Handler. l must be a listener whose Accept parks the
// coroutine rather than the thread (coro.Listen's); Serve must be called from a
// coroutine of l's loop. It returns ErrServerClosed after Shutdown or Close, or the
// error that ended Accept.
func (srv *Server) Serve(l net.Listener) error {
	if coro.Current() == nil {
		return ErrNotCoroutine
	}
	if !srv.trackListener(&l, true) {
		return ErrServerClosed
	}
	defer srv.trackListener(&l, false)
	base := context.Background()
	var delay time.Duration
	for {
		rw, err := l.Accept()
		if err != nil {
			if srv.shuttingDown() {
				return ErrServerClosed
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				// A deadline set on the listener: back off as net/http does on
				// temporary errors, then carry on.
				if delay == 0 {
					delay = 5 * time.Millisecond
				} else if delay *= 2; delay > time.Second {
					delay = time.Second
				}
				srv.logf("http: Accept error: %v; retrying in %v", err, delay)
				coro.Sleep(delay)
				continue
			}
			return err
		}
		delay = 0
		c := srv.newConn(rw)
		if !srv.trackConn(c, true) {
			rw.Close()
			return ErrServerClosed
		}
		coro.SpawnNamed("http "+c.remoteAddr, func() { c.serve(base) })
	}
}

// SetKeepAlivesEnabled controls whether connections are kept alive between requests
// (default on), like http.Server's.
func (srv *Server) SetKeepAlivesEnabled(v bool) {
	srv.keepAlives.Store(!v)
	if !v {
		srv.closeIdleConns()
	}
}

func (srv *Server) doKeepAlives() bool { return !srv.keepAlives.Load() && !srv.shuttingDown() }

func (srv *Server) shuttingDown() bool { return srv.inShutdown.Load() }

// Close closes every listener and every connection at once, like http.Server's
// Close; handlers still running see their writes fail. Safe from any goroutine.
func (srv *Server) Close() error {
	srv.inShutdown.Store(true)
	srv.mu.Lock()
	defer srv.mu.Unlock()
	err := srv.closeListenersLocked()
	for c := range srv.conns {
		c.rwc.Close()
		delete(srv.conns, c)
	}
	return err
}

// Shutdown stops the server gracefully, like http.Server's: it closes the listeners,
// then closes each connection as soon as it is idle (between requests; a connection
// in the middle of a request finishes it with "Connection: close"), and returns when
// none is left, or ctx's error when ctx ends first. From a coroutine it waits with
// coro.Sleep, so the loop keeps serving meanwhile; from any other goroutine it
// sleeps that goroutine.
func (srv *Server) Shutdown(ctx context.Context) error {
	srv.inShutdown.Store(true)
	srv.mu.Lock()
	lnerr := srv.closeListenersLocked()
	srv.mu.Unlock()

	sleep := time.Sleep
	if coro.Current() != nil {
		sleep = func(d time.Duration) { coro.Sleep(d) }
	}
	interval := time.Millisecond
	for {
		if srv.closeIdleConns() {
			return lnerr
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		default:
		}
		sleep(interval)
		if interval *= 2; interval > 500*time.Millisecond {
			interval = 500 * time.Millisecond
		}
	}
}

// closeIdleConns closes the connections waiting for a request and reports whether
// none is left.
func (srv *Server) closeIdleConns() bool {
	srv.mu.Lock()
	defer srv.mu.Unlock()
	quiescent := true
	for c := range srv.conns {
		// A new connection that has not sent a whole request for 5 seconds counts as
		// idle, as in net/http (its issue 22682).
		if c.state.CompareAndSwap(stateIdle, stateClosing) ||
			time.Since(c.created) > 5*time.Second && c.state.CompareAndSwap(stateNew, stateClosing) {
			c.rwc.Close()
			delete(srv.conns, c)
			continue
		}
		quiescent = false
	}
	return quiescent
}

func (srv *Server) closeListenersLocked() error {
	var err error
	for ln := range srv.listeners {
		if cerr := (*ln).Close(); cerr != nil && err == nil {
			err = cerr
		}
	}
	return err
}

func (srv *Server) trackListener(ln *net.Listener, add bool) bool {
	srv.mu.Lock()
	defer srv.mu.Unlock()
	if add {
		if srv.shuttingDown() {
			return false
		}
		if srv.listeners == nil {
			srv.listeners = make(map[*net.Listener]struct{})
		}
		srv.listeners[ln] = struct{}{}
	} else {
		delete(srv.listeners, ln)
	}
	return true
}

func (srv *Server) trackConn(c *conn, add bool) bool {
	srv.mu.Lock()
	defer srv.mu.Unlock()
	if add {
		if srv.shuttingDown() {
			return false
		}
		if srv.conns == nil {
			srv.conns = make(map[*conn]struct{})
		}
		srv.conns[c] = struct{}{}
	} else {
		delete(srv.conns, c)
	}
	return true
}

func (srv *Server) logf(format string, args ...any) {
	if srv.ErrorLog != nil {
		srv.ErrorLog.Printf(format, args...)
	} else {
		log.Printf(format, args...)
	}
}

func (srv *Server) maxHeaderBytes() int {
	if srv.MaxHeaderBytes > 0 {
		return srv.MaxHeaderBytes
	}
	return http.DefaultMaxHeaderBytes
}

// initialReadLimit is net/http's: the header bound plus 4096 bytes of bufio slack.
func (srv *Server) initialReadLimit() int64 { return int64(srv.maxHeaderBytes()) + 4096 }

func (srv *Server) readHeaderTimeout() time.Duration {
	if srv.ReadHeaderTimeout > 0 {
		return srv.ReadHeaderTimeout
	}
	return srv.ReadTimeout
}

func (srv *Server) idleTimeout() time.Duration {
	if srv.IdleTimeout > 0 {
		return srv.IdleTimeout
	}
	return srv.ReadTimeout
}

func (srv *Server) handler() http.Handler {
	if srv.Handler != nil {
		return srv.Handler
	}
	return http.DefaultServeMux
}

// globalOptions answers "OPTIONS *" as net/http's server does.
func globalOptions(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Length", "0")
	if r.ContentLength != 0 {
		mb := http.MaxBytesReader(w, r.Body, 4<<10)
		io.Copy(io.Discard, mb)
	}
}
