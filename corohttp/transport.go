package corohttp

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"syscall"
	"time"

	coro "github.com/coroprof/coroprof/runtime"
)

// DefaultMaxIdleConnsPerHost is the idle connections kept per host and loop when
// Transport.MaxIdleConnsPerHost is zero (net/http's value).
const DefaultMaxIdleConnsPerHost = 2

// Transport is an http.RoundTripper whose connections are coroutine sockets
// (coro.Dial), kept alive in a pool, so a handler (or any coroutine) can call other
// HTTP servers without blocking its loop:
//
//	client := &http.Client{Transport: &corohttp.Transport{}}
//	resp, err := client.Get("http://backend:8080/x") // from a coroutine
//
// RoundTrip must be called from a coroutine (it parks the coroutine while it dials,
// writes and waits), and the response body read from a coroutine of the same loop.
// A connection belongs to the loop that dialled it (coro: sockets are per loop), so
// the pool is kept per loop. It speaks HTTP/1.1, over TLS for https URLs. What it
// leaves out of net/http's Transport: proxies, HTTP/2, transparent gzip, and the
// 100-continue wait (a request with Expect: 100-continue is sent whole).
//
// The request's context ends the request: its deadline becomes the connection's
// deadline, and its cancellation closes the connection (the wait then returns
// the context's error). A cancellation during the dial takes effect once the dial
// returns; bound dials with DialTimeout or a context deadline.
type Transport struct {
	// DialTimeout bounds connecting (and the TLS handshake); none when zero.
	DialTimeout time.Duration
	// ResponseHeaderTimeout bounds the wait for the response's header after the
	// request was written; none when zero.
	ResponseHeaderTimeout time.Duration
	// IdleConnTimeout is how long an idle connection is kept; no limit when zero.
	IdleConnTimeout time.Duration
	// MaxIdleConnsPerHost bounds the idle connections kept per host and loop
	// (DefaultMaxIdleConnsPerHost when zero; negative: none kept).
	MaxIdleConnsPerHost int
	// DisableKeepAlives sends "Connection: close" and uses each connection once.
	DisableKeepAlives bool
	// TLSClientConfig configures TLS for https URLs (ServerName defaults to the host).
	TLSClientConfig *tls.Config

	mu   sync.Mutex // guards idle; held for a few instructions at a time
	idle map[connKey][]*persistConn
}

type connKey struct {
	loop   *coro.Scheduler
	scheme string
	addr   string
}

// persistConn is one connection to a server, used by one request at a time.
type persistConn struct {
	t      *Transport
	key    connKey
	conn   net.Conn
	br     *bufio.Reader
	bw     *bufio.Writer
	idleAt time.Time
	reused bool
}

// RoundTrip sends req and returns its response, as http.RoundTripper requires.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	if coro.Current() == nil {
		closeBody(req)
		return nil, ErrNotCoroutine
	}
	if req.URL == nil {
		closeBody(req)
		return nil, errors.New("corohttp: nil Request.URL")
	}
	if req.Header == nil {
		closeBody(req)
		return nil, errors.New("corohttp: nil Request.Header")
	}
	scheme := req.URL.Scheme
	if scheme != "http" && scheme != "https" {
		closeBody(req)
		return nil, fmt.Errorf("corohttp: unsupported protocol scheme %q", scheme)
	}
	if req.URL.Host == "" {
		closeBody(req)
		return nil, errors.New("corohttp: no Host in request URL")
	}
	ctx := req.Context()
	if err := ctx.Err(); err != nil {
		closeBody(req)
		return nil, err
	}
	key := connKey{loop: coro.CurrentScheduler(), scheme: scheme, addr: canonicalAddr(req.URL.Host, scheme)}
	for attempt := 0; ; attempt++ {
		pc, err := t.getConn(ctx, key, attempt > 0)
		if err != nil {
			closeBody(req)
			return nil, err
		}
		resp, err := pc.roundTrip(ctx, req)
		if err == nil {
			return resp, nil
		}
		var retry *retryableError
		if errors.As(err, &retry) && attempt == 0 {
			// A kept-alive connection the server had closed: send again on a new one,
			// when the request can be sent again.
			if req.Body == nil || req.Body == http.NoBody {
				continue
			}
			if req.GetBody != nil {
				b, gerr := req.GetBody()
				if gerr == nil {
					r2 := *req
					r2.Body = b
					req = &r2
					continue
				}
			}
		}
		if retry != nil {
			err = retry.err
		}
		return nil, err
	}
}

// retryableError is a failure on a reused connection before any byte of the response
// came: the server closed the idle connection as the request went out.
type retryableError struct{ err error }

func (e *retryableError) Error() string { return e.err.Error() }
func (e *retryableError) Unwrap() error { return e.err }

func closeBody(req *http.Request) {
	if req.Body != nil {
		req.Body.Close()
	}
}

func canonicalAddr(host, scheme string) string {
	if _, _, err := net.SplitHostPort(host); err == nil {
		return host
	}
	port := "80"
	if scheme == "https" {
		port = "443"
	}
	h := strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	return net.JoinHostPort(h, port)
}

// getConn takes an idle connection of the caller's loop to key's server, or dials one.
func (t *Transport) getConn(ctx context.Context, key connKey, fresh bool) (*persistConn, error) {
	if !fresh {
		if pc := t.takeIdle(key); pc != nil {
			return pc, nil
		}
	}
	var conn net.Conn
	dial := func() error {
		c, err := coro.Dial("tcp", key.addr)
		if err != nil {
			return err
		}
		conn = c
		if key.scheme == "https" {
			cfg := t.TLSClientConfig.Clone()
			if cfg == nil {
				cfg = &tls.Config{}
			}
			if cfg.ServerName == "" {
				host, _, _ := net.SplitHostPort(key.addr)
				cfg.ServerName = host
			}
			tc := tls.Client(c, cfg)
			if err := tc.Handshake(); err != nil {
				c.Close()
				return err
			}
			conn = tc
		}
		return nil
	}
	d := t.DialTimeout
	if dl, ok := ctx.Deadline(); ok {
		if until := time.Until(dl); d == 0 || until < d {
			d = until
		}
	}
	var err error
	if d > 0 {
		err = coro.WithTimeout(d, dial)
	} else {
		err = dial()
	}
	if err != nil {
		if errors.Is(err, coro.ErrTimeout) && ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, &net.OpError{Op: "dial", Net: "tcp", Err: err}
	}
	if err := ctx.Err(); err != nil {
		conn.Close()
		return nil, err
	}
	return &persistConn{t: t, key: key, conn: conn, br: bufio.NewReader(conn), bw: bufio.NewWriter(conn)}, nil
}

func (t *Transport) takeIdle(key connKey) *persistConn {
	t.mu.Lock()
	defer t.mu.Unlock()
	list := t.idle[key]
	for len(list) > 0 {
		pc := list[len(list)-1]
		list = list[:len(list)-1]
		if t.IdleConnTimeout > 0 && time.Since(pc.idleAt) > t.IdleConnTimeout {
			pc.conn.Close()
			continue
		}
		t.idle[key] = list
		pc.reused = true
		return pc
	}
	delete(t.idle, key)
	return nil
}

func (t *Transport) putIdle(pc *persistConn) {
	max := t.MaxIdleConnsPerHost
	if max == 0 {
		max = DefaultMaxIdleConnsPerHost
	}
	t.mu.Lock()
	if t.DisableKeepAlives || max < 0 || len(t.idle[pc.key]) >= max {
		t.mu.Unlock()
		pc.conn.Close()
		return
	}
	if t.idle == nil {
		t.idle = make(map[connKey][]*persistConn)
	}
	pc.idleAt = time.Now()
	t.idle[pc.key] = append(t.idle[pc.key], pc)
	t.mu.Unlock()
}

// CloseIdleConnections closes the idle connections of every loop. Safe from any
// goroutine.
func (t *Transport) CloseIdleConnections() {
	t.mu.Lock()
	idle := t.idle
	t.idle = nil
	t.mu.Unlock()
	for _, list := range idle {
		for _, pc := range list {
			pc.conn.Close()
		}
	}
}

// roundTrip writes req on pc and reads the response header; the body is read later,
// through bodyEOF, which returns pc to the pool at its end.
func (pc *persistConn) roundTrip(ctx context.Context, req *http.Request) (*http.Response, error) {
	stop := context.AfterFunc(ctx, func() { pc.conn.Close() })
	fail := func(err error, beforeResponse bool) (*http.Response, error) {
		stop()
		pc.conn.Close()
		if cerr := ctxErr(ctx, err); cerr != nil {
			return nil, cerr
		}
		if beforeResponse && pc.reused && isConnGone(err) {
			return nil, &retryableError{err}
		}
		return nil, err
	}
	if dl, ok := ctx.Deadline(); ok {
		pc.conn.SetDeadline(dl)
	}
	w := req
	if pc.t.DisableKeepAlives && !req.Close {
		r2 := *req
		r2.Close = true
		w = &r2
	}
	if err := w.Write(pc.bw); err != nil {
		return fail(err, true)
	}
	if err := pc.bw.Flush(); err != nil {
		return fail(err, true)
	}
	if d := pc.t.ResponseHeaderTimeout; d > 0 {
		dl := time.Now().Add(d)
		if cdl, ok := ctx.Deadline(); !ok || dl.Before(cdl) {
			pc.conn.SetReadDeadline(dl)
		}
	}
	var resp *http.Response
	for {
		var err error
		resp, err = http.ReadResponse(pc.br, req)
		if err != nil {
			return fail(err, true)
		}
		if resp.StatusCode >= 200 || resp.StatusCode == http.StatusSwitchingProtocols {
			break
		}
		// An informational response (100 Continue, 103 Early Hints): the final one follows.
	}
	if pc.t.ResponseHeaderTimeout > 0 {
		dl, _ := ctx.Deadline()
		pc.conn.SetReadDeadline(dl)
	}
	keep := !resp.Close && !req.Close && !pc.t.DisableKeepAlives && resp.StatusCode != http.StatusSwitchingProtocols
	b := &bodyEOF{pc: pc, rc: resp.Body, ctx: ctx, stop: stop, keep: keep}
	if req.Method == "HEAD" || resp.ContentLength == 0 && len(resp.TransferEncoding) == 0 {
		// No body to read: the connection is free now.
		b.finish(true)
		resp.Body = http.NoBody
		return resp, nil
	}
	resp.Body = b
	return resp, nil
}

// ctxErr is the context's error when ctx explains err: it was cancelled (which closed
// the connection), or err is the connection's deadline, which is ctx's (the deadline
// may pass on the socket a moment before ctx's own timer marks ctx done).
func ctxErr(ctx context.Context, err error) error {
	if cerr := ctx.Err(); cerr != nil {
		return cerr
	}
	var ne net.Error
	if dl, ok := ctx.Deadline(); ok && errors.As(err, &ne) && ne.Timeout() && !time.Now().Before(dl) {
		return context.DeadlineExceeded
	}
	return nil
}

// isConnGone reports whether err says the server closed the connection (EOF, reset,
// broken pipe) rather than that it answered wrongly.
func isConnGone(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}

// bodyEOF is a response body: at its end the connection goes back to the pool (when
// it may be reused); closed before its end, the connection is closed.
type bodyEOF struct {
	pc   *persistConn
	rc   io.ReadCloser
	ctx  context.Context
	stop func() bool
	keep bool
	done bool
}

func (b *bodyEOF) Read(p []byte) (int, error) {
	if b.done {
		return 0, http.ErrBodyReadAfterClose
	}
	n, err := b.rc.Read(p)
	if err == io.EOF {
		b.finish(true)
		return n, io.EOF
	}
	if err != nil {
		b.finish(false)
		if cerr := ctxErr(b.ctx, err); cerr != nil {
			err = cerr
		}
	}
	return n, err
}

func (b *bodyEOF) Close() error {
	if !b.done {
		b.finish(false)
	}
	return nil
}

// finish releases the connection: to the pool when the body was read to its end and
// the connection may be reused (and was not closed by a cancellation), else closed.
func (b *bodyEOF) finish(atEOF bool) {
	b.done = true
	notCancelled := b.stop()
	pc := b.pc
	if atEOF && b.keep && notCancelled {
		pc.conn.SetDeadline(time.Time{})
		pc.t.putIdle(pc)
		return
	}
	pc.conn.Close()
}
