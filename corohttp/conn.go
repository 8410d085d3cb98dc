package corohttp

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coroprof/coroprof/profiler"
	coro "github.com/coroprof/coroprof/runtime"
)

// A connection's state, for Shutdown: only an idle connection (waiting for its next
// request) or a new one that has sent nothing for 5 seconds is closed under it.
const (
	stateNew int32 = iota
	stateActive
	stateIdle
	stateClosing
)

// conn is one client connection, served by one coroutine: the requests are read,
// handled and answered in order on it.
type conn struct {
	server     *Server
	rwc        net.Conn
	sched      *coro.Scheduler
	remoteAddr string
	created    time.Time
	state      atomic.Int32

	r    connReader
	bufr *bufio.Reader
	bufw *bufio.Writer // 4 KiB, over connWriter
	resw *bufio.Writer // the response's 2 KiB buffer before chunking, reused

	ctx        context.Context // the connection's: the base context with the local address
	werr       error           // the first write error
	hijacked   bool
	lastMethod string
	rdl        bool      // a read deadline is set
	cur        *response // the request being served
	spare      *response // the last response, for the next request
	hdr        http.Header

	// A shallow snapshot of the handler's header taken at WriteHeader (net/http clones
	// the map there): kept without allocating while the header has few fields, and
	// turned into a map only if the handler changed its header afterwards.
	// It is the connection's because one response at a time is between WriteHeader
	// and the header's write.
	snap  [4]headerKV
	nsnap int

	// Scratch space for writing a response header.
	statusBuf [3]byte
	clenBuf   [20]byte
	dateBuf   [len(http1TimeFormat)]byte
}

func (srv *Server) newConn(rwc net.Conn) *conn {
	c := &conn{server: srv, rwc: rwc, created: time.Now()}
	if ra := rwc.RemoteAddr(); ra != nil {
		c.remoteAddr = ra.String()
	}
	return c
}

var errTooLarge = errors.New("http: request too large")

// statusError is a request refused with a status and a plain-text reason.
type statusError struct {
	code int
	text string
}

func (e statusError) Error() string { return http.StatusText(e.code) + ": " + e.text }

func badRequest(text string) error { return statusError{http.StatusBadRequest, text} }

// serve runs the connection: read a request, run the handler, finish the response,
// until the connection is not to be reused.
func (c *conn) serve(base context.Context) {
	c.sched = coro.CurrentScheduler()
	c.ctx = context.WithValue(base, http.LocalAddrContextKey, c.rwc.LocalAddr())
	var inFlight *response
	defer func() {
		if p := recover(); p != nil {
			if coro.Unwinding(p) {
				c.rwc.Close()
				c.server.trackConn(c, false)
				panic(p) // the loop is ending: let the coroutine unwind
			}
			if p != http.ErrAbortHandler {
				buf := make([]byte, 64<<10)
				buf = buf[:runtime.Stack(buf, false)]
				c.server.logf("http: panic serving %v: %v\n%s", c.remoteAddr, p, buf)
			}
		}
		if inFlight != nil {
			inFlight.ctx.cancel(context.Canceled)
			inFlight.canWriteContinue = false
		}
		if !c.hijacked {
			if inFlight != nil {
				c.abortWatch()
				if inFlight.body != nil {
					inFlight.body.closed = true
				}
			}
			c.close()
			c.server.trackConn(c, false)
		}
	}()

	c.r.c = c
	c.r.rwc = c.rwc
	c.bufr = bufio.NewReaderSize(&c.r, 4<<10)
	c.bufw = bufio.NewWriterSize(connWriter{c}, 4<<10)
	c.resw = bufio.NewWriterSize(nil, bufferBeforeChunking)

	if d := c.server.readHeaderTimeout(); d > 0 {
		c.setReadDeadline(time.Now().Add(d))
	}
	for {
		w, err := c.readRequest()
		if !c.state.CompareAndSwap(stateNew, stateActive) && !c.state.CompareAndSwap(stateIdle, stateActive) {
			return // Shutdown closed it
		}
		if c.server.shuttingDown() {
			return
		}
		if err != nil {
			c.replyError(err)
			return
		}
		req := w.req
		if expect := hget(req.Header, "Expect"); hasToken(expect, "100-continue") {
			if req.ProtoAtLeast(1, 1) && req.ContentLength != 0 {
				w.body.expect = true
				w.canWriteContinue = true
			}
		} else if expect != "" {
			w.sendExpectationFailed()
			return
		}

		inFlight = w
		c.cur = w
		h := c.server.handler()
		if !c.server.DisableGeneralOptionsHandler && req.RequestURI == "*" && req.Method == "OPTIONS" {
			h = http.HandlerFunc(globalOptions)
		}
		var end func()
		if profiler.Active() {
			end = profiler.Region(c.server.routeName(h, req))
		}
		h.ServeHTTP(w, req)
		inFlight = nil
		w.ctx.cancel(context.Canceled)
		if c.hijacked {
			if end != nil {
				end()
			}
			return
		}
		w.finishRequest()
		c.cur = nil
		c.spare, c.hdr = w, w.handlerHeader
		if end != nil {
			end()
		}
		if c.server.WriteTimeout > 0 {
			c.rwc.SetWriteDeadline(time.Time{})
		}
		if !w.shouldReuseConnection() {
			if w.requestBodyLimitHit || (w.body != nil && w.body.earlyClose) {
				c.closeWriteAndWait()
			}
			return
		}
		if !c.state.CompareAndSwap(stateActive, stateIdle) || !c.server.doKeepAlives() {
			return
		}
		if d := c.server.idleTimeout(); d > 0 {
			c.setReadDeadline(time.Now().Add(d))
		} else {
			c.setReadDeadline(time.Time{})
		}
		// Wait for the next request's first bytes before its header timeout starts.
		if _, err := c.bufr.Peek(4); err != nil {
			return
		}
		if d := c.server.readHeaderTimeout(); d > 0 {
			c.setReadDeadline(time.Now().Add(d))
		} else {
			c.setReadDeadline(time.Time{})
		}
	}
}

// setReadDeadline sets the read deadline, skipping the call that would clear a
// deadline that is not set (the common case: no timeouts configured).
func (c *conn) setReadDeadline(t time.Time) {
	if t.IsZero() && !c.rdl {
		return
	}
	c.rdl = !t.IsZero()
	c.rwc.SetReadDeadline(t)
}

// readRequest reads the next request and checks it as net/http's server does.
func (c *conn) readRequest() (*response, error) {
	srv := c.server
	var wholeReqDeadline time.Time
	if d := srv.ReadTimeout; d > 0 {
		wholeReqDeadline = time.Now().Add(d)
	}
	if d := srv.WriteTimeout; d > 0 {
		defer func() { c.rwc.SetWriteDeadline(time.Now().Add(d)) }()
	}
	c.r.remain = srv.initialReadLimit()
	if c.lastMethod == "POST" {
		// RFC 7230 section 3: tolerate the CRLF old clients send after a POST body.
		peek, _ := c.bufr.Peek(4)
		c.bufr.Discard(numLeadingCRorLF(peek))
	}
	c.r.record(c.bufr)
	req, err := http.ReadRequest(c.bufr)
	raw := c.r.stopRecording()
	if err != nil {
		if c.r.remain <= 0 {
			return nil, errTooLarge
		}
		return nil, err
	}
	if !supportedProto(req) {
		return nil, statusError{http.StatusHTTPVersionNotSupported, "unsupported protocol version"}
	}
	c.lastMethod = req.Method
	c.r.remain = math.MaxInt64

	// The Host field: present, and well formed. http.ReadRequest removed it from the
	// header; req.Host holds it unless the URI is absolute or the field is empty.
	hosts, host := 1, req.Host
	if req.URL.Host != "" || req.Host == "" {
		hosts, host = hostLines(raw)
	}
	isH2Upgrade := req.Method == "PRI" && req.ProtoMajor == 2
	if req.ProtoAtLeast(1, 1) && hosts == 0 && !isH2Upgrade && req.Method != "CONNECT" {
		return nil, badRequest("missing required Host header")
	}
	if hosts == 1 && !validHost(host) {
		return nil, badRequest("malformed Host header")
	}
	for k, vv := range req.Header {
		if !validFieldName(k) {
			return nil, badRequest("invalid header name")
		}
		for _, v := range vv {
			if !validFieldValue(v) {
				return nil, badRequest("invalid header value")
			}
		}
	}

	// The response object and the handler's header map are the connection's, reused
	// from one request to the next (a ResponseWriter must not be used after its
	// handler returned); the context and the body wrapper are the request's, which
	// code may keep.
	w := c.spare
	if w == nil {
		w = new(response)
	}
	h := c.hdr
	if h == nil {
		h = make(http.Header)
	} else {
		clear(h)
	}
	c.spare, c.hdr = nil, nil
	*w = response{
		conn:             c,
		handlerHeader:    h,
		contentLength:    -1,
		wants10KeepAlive: req.ProtoMajor == 1 && req.ProtoMinor == 0 && hasToken(hget(req.Header, "Connection"), "keep-alive"),
		wantsClose:       req.Close || hasToken(hget(req.Header, "Connection"), "close"),
		ctx:              &reqContext{parent: c.ctx, c: c},
	}
	if isH2Upgrade {
		w.closeAfterReply = true
	}
	req = req.WithContext(w.ctx)
	req.RemoteAddr = c.remoteAddr
	if req.Body != nil && req.Body != http.NoBody {
		w.body = &body{rc: req.Body, w: w}
		req.Body = w.body
	}
	w.req = req
	w.cw.res = w
	c.resw.Reset(&w.cw)
	w.w = c.resw

	if !wholeReqDeadline.IsZero() {
		c.setReadDeadline(wholeReqDeadline)
	} else {
		c.setReadDeadline(time.Time{})
	}
	return w, nil
}

// supportedProto is net/http's http1ServerSupportsRequest: HTTP/1.x, and "PRI *
// HTTP/2.0" for handlers that take over HTTP/2 themselves.
func supportedProto(req *http.Request) bool {
	if req.ProtoMajor == 1 {
		return true
	}
	return req.ProtoMajor == 2 && req.ProtoMinor == 0 && req.Method == "PRI" && req.RequestURI == "*"
}

// replyError answers a request that could not be read, as net/http's server does,
// and the connection ends.
func (c *conn) replyError(err error) {
	const errorHeaders = "\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n"
	switch {
	case err == errTooLarge:
		const publicErr = "431 Request Header Fields Too Large"
		io.WriteString(c.rwc, "HTTP/1.1 "+publicErr+errorHeaders+publicErr)
		c.closeWriteAndWait()
	case strings.Contains(err.Error(), "unsupported transfer encoding"):
		// RFC 7230 section 3.3.1: a transfer coding the server does not understand.
		// (net/http's error type for it is unexported; its text is the only handle.)
		code := http.StatusNotImplemented
		fmt.Fprintf(c.rwc, "HTTP/1.1 %d %s%sUnsupported transfer encoding", code, http.StatusText(code), errorHeaders)
	case isCommonNetReadError(err):
		// The client went away or timed out: nothing to say.
	default:
		if v, ok := err.(statusError); ok {
			fmt.Fprintf(c.rwc, "HTTP/1.1 %d %s: %s%s%d %s: %s", v.code, http.StatusText(v.code), v.text, errorHeaders, v.code, http.StatusText(v.code), v.text)
			return
		}
		const publicErr = "400 Bad Request"
		io.WriteString(c.rwc, "HTTP/1.1 "+publicErr+errorHeaders+publicErr)
	}
}

func isCommonNetReadError(err error) bool {
	if err == io.EOF {
		return true
	}
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		return true
	}
	if oe, ok := err.(*net.OpError); ok && oe.Op == "read" {
		return true
	}
	return false
}

// close flushes what is buffered and closes the connection.
func (c *conn) close() {
	c.bufw.Flush()
	c.rwc.Close()
}

// rstAvoidanceDelay is net/http's: after a response the client may not have read
// the end of (it is still sending a request we refused), half-close and linger so the
// client reads the response before the close resets the connection.
var rstAvoidanceDelay = 500 * time.Millisecond

func (c *conn) closeWriteAndWait() {
	c.bufw.Flush()
	if cw, ok := c.rwc.(interface{ CloseWrite() error }); ok {
		cw.CloseWrite()
	}
	coro.Sleep(rstAvoidanceDelay)
}

// routeName names a request's profiler region (package doc, Profiling).
func (srv *Server) routeName(h http.Handler, r *http.Request) string {
	if srv.Route != nil {
		return srv.Route(r)
	}
	if mux, ok := h.(*http.ServeMux); ok {
		if _, pattern := mux.Handler(r); pattern != "" {
			return pattern
		}
	}
	return r.Method
}

// connWriter notes the connection's first write error, which cancels the request's
// context (the client went away).
type connWriter struct{ c *conn }

func (w connWriter) Write(p []byte) (int, error) {
	n, err := w.c.rwc.Write(p)
	if err != nil && w.c.werr == nil {
		w.c.werr = err
		w.c.clientGone()
	}
	return n, err
}

// connReader is what the connection's bufio.Reader reads: the socket, bounded while
// a header is read (so an oversized header ends in 431), with the byte a background
// read may have taken, and recording a header's raw bytes for readRequest's Host
// checks.
type connReader struct {
	c       *conn
	rwc     net.Conn
	remain  int64 // bytes the current phase may still read
	hasByte bool
	byteBuf [1]byte

	recording bool
	rec       []byte

	// The background read (package doc, Client disconnects): a coroutine reading one
	// byte while the handler runs, started when the handler first asks its context
	// whether it is done.
	watcher *coro.Coro
	aborted bool
}

func (cr *connReader) Read(p []byte) (int, error) {
	if cr.watcher != nil {
		panic("corohttp: the request body or the hijacked connection read while the server's background read runs")
	}
	if cr.remain <= 0 {
		return 0, io.EOF
	}
	if len(p) == 0 {
		return 0, nil
	}
	if int64(len(p)) > cr.remain {
		p = p[:cr.remain]
	}
	if cr.hasByte {
		p[0] = cr.byteBuf[0]
		cr.hasByte = false
		cr.remain--
		if cr.recording {
			cr.rec = append(cr.rec, p[0])
		}
		return 1, nil
	}
	n, err := cr.rwc.Read(p)
	if cr.recording {
		cr.rec = append(cr.rec, p[:n]...)
	}
	if err != nil && cr.c != nil && !cr.c.hijacked {
		cr.c.clientGone()
	}
	cr.remain -= int64(n)
	return n, err
}

// record starts recording a request's raw bytes, from those br already holds.
func (cr *connReader) record(br *bufio.Reader) {
	cr.rec = cr.rec[:0]
	if n := br.Buffered(); n > 0 {
		b, _ := br.Peek(n)
		cr.rec = append(cr.rec, b...)
	}
	cr.recording = true
}

func (cr *connReader) stopRecording() []byte {
	cr.recording = false
	rec := cr.rec
	if cap(cr.rec) > 64<<10 {
		cr.rec = nil // do not keep a large header's buffer for the connection's life
	}
	return rec
}

// errAbortRead interrupts the background read when the handler is done with the
// request (or hijacks the connection).
var errAbortRead = errors.New("corohttp: background read aborted")

// startWatch starts the background read for the request of w, if it still runs and
// its body has been read to the end (a byte read before that would be the body's).
func (c *conn) startWatch(w *response) {
	cr := &c.r
	if w.handlerDone || c.hijacked || cr.watcher != nil || cr.hasByte {
		return
	}
	if w.body != nil && !w.body.sawEOF && !w.body.closed {
		w.watchAtEOF = true
		return
	}
	c.setReadDeadline(time.Time{})
	cr.watcher = coro.SpawnNamed("http watch "+c.remoteAddr, func() {
		n, err := cr.rwc.Read(cr.byteBuf[:])
		if n == 1 {
			// The next pipelined request's first byte: keep it for the next read;
			// the client is still there (net/http stops watching here too).
			cr.hasByte = true
		}
		if err != nil && !cr.aborted {
			c.clientGone()
		}
		cr.aborted = false
		cr.watcher = nil
	})
}

// abortWatch stops the background read and waits until it has.
func (c *conn) abortWatch() {
	cr := &c.r
	w := cr.watcher
	if w == nil {
		return
	}
	cr.aborted = true
	w.Interrupt(errAbortRead)
	w.Join()
	cr.watcher = nil
	cr.aborted = false
}

// clientGone cancels the context of the request being served: a read or a write on
// the connection failed (net/http cancels the connection's context there).
func (c *conn) clientGone() {
	if w := c.cur; w != nil {
		w.ctx.cancel(context.Canceled)
	}
}

// reqContext is a request's context, cancelled when the handler returns or the client
// goes away. It is its own canceller rather than a context.WithCancel (one allocation
// and a parent's bookkeeping less per request), and it implements AfterFunc, so
// contexts derived from it attach to it without a goroutine of their own.
//
// The background read that notices a client going away costs a coroutine and a read
// per request, so it starts only when someone first asks whether the context is done:
// Done, Err, AfterFunc (and so any context derived from this one).
type reqContext struct {
	parent   context.Context // values and deadline: the connection's base context
	c        *conn
	watching atomic.Bool

	mu     sync.Mutex // the context may be watched from any goroutine
	done   chan struct{}
	err    error
	afters map[*afterFunc]struct{}
}

type afterFunc struct{ f func() }

var closedChan = func() chan struct{} { c := make(chan struct{}); close(c); return c }()

func (x *reqContext) watch() {
	if x.watching.Load() || !x.watching.CompareAndSwap(false, true) {
		return
	}
	if coro.CurrentScheduler() == x.c.sched {
		if w := x.c.curResponse(); w != nil && w.ctx == x {
			x.c.startWatch(w)
		}
		return
	}
	// Asked from another goroutine (an Offload, a goroutine the handler started):
	// the connection's state belongs to its loop, so the loop starts the read.
	x.c.sched.SpawnNamed("http watch start", func() {
		if w := x.c.curResponse(); w != nil && w.ctx == x {
			x.c.startWatch(w)
		}
	})
}

func (x *reqContext) Deadline() (time.Time, bool) { return x.parent.Deadline() }
func (x *reqContext) Value(key any) any           { return x.parent.Value(key) }
func (x *reqContext) String() string              { return "corohttp request context" }

func (x *reqContext) Done() <-chan struct{} {
	x.watch()
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.done == nil {
		if x.err != nil {
			x.done = closedChan
		} else {
			x.done = make(chan struct{})
		}
	}
	return x.done
}

func (x *reqContext) Err() error {
	x.watch()
	x.mu.Lock()
	defer x.mu.Unlock()
	return x.err
}

// AfterFunc arranges for f to run on a goroutine of its own once the context is
// cancelled, as context.AfterFunc does; the context package uses it for contexts
// derived from this one.
func (x *reqContext) AfterFunc(f func()) (stop func() bool) {
	x.watch()
	a := &afterFunc{f}
	x.mu.Lock()
	if x.err != nil {
		x.mu.Unlock()
		go f()
		return func() bool { return false }
	}
	if x.afters == nil {
		x.afters = make(map[*afterFunc]struct{})
	}
	x.afters[a] = struct{}{}
	x.mu.Unlock()
	return func() bool {
		x.mu.Lock()
		defer x.mu.Unlock()
		if _, ok := x.afters[a]; !ok {
			return false
		}
		delete(x.afters, a)
		return true
	}
}

func (x *reqContext) cancel(err error) {
	x.mu.Lock()
	if x.err != nil {
		x.mu.Unlock()
		return
	}
	x.err = err
	if x.done != nil {
		close(x.done)
	}
	afters := x.afters
	x.afters = nil
	x.mu.Unlock()
	for a := range afters {
		go a.f()
	}
}

// curResponse returns the response whose handler runs, or nil.
func (c *conn) curResponse() *response {
	if c.cur != nil && !c.cur.handlerDone {
		return c.cur
	}
	return nil
}
