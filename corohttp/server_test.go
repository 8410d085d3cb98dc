package corohttp

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"log"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	coro "github.com/coroprof/coroprof/runtime"
)

// waitFor polls cond from a coroutine (coro.Sleep, so the loop runs meanwhile) until it
// holds, or fails after a minute.
func waitFor(t *testing.T, what string, cond func() bool) bool {
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); {
		if cond() {
			return true
		}
		coro.Sleep(time.Millisecond)
	}
	t.Errorf("waited a minute for %s", what)
	return false
}

// TestContextCancelledWhenClientLeaves: a handler that watches r.Context() sees it
// cancelled once the client closes its connection mid-request.
func TestContextCancelledWhenClientLeaves(t *testing.T) {
	started := make(chan struct{}, 1)
	result := make(chan error, 1)
	srv := &Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		started <- struct{}{}
		waitFor(t, "the context to end", func() bool { return ctx.Err() != nil })
		result <- ctx.Err()
	}), ErrorLog: quietLog}
	addr := serveCoro(t, srv)
	c := dial(t, addr)
	io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	<-started
	c.Close()
	select {
	case err := <-result:
		if err != context.Canceled {
			t.Fatalf("context error %v, want context.Canceled", err)
		}
	case <-time.After(2 * time.Minute):
		t.Fatal("no result")
	}
}

// TestContextPipelined: a handler watching its context while the client has already
// sent the next request: the context stays live (the background read keeps the next
// request's first byte), and both requests are answered in order.
func TestContextPipelined(t *testing.T) {
	srv := &Server{ErrorLog: quietLog}
	srv.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		_ = ctx.Done() // start watching
		if r.URL.Path == "/first" {
			coro.Sleep(20 * time.Millisecond) // the watcher reads the next request's first byte
			if ctx.Err() != nil {
				t.Errorf("first request's context ended: %v", ctx.Err())
			}
		}
		io.WriteString(w, r.URL.Path)
	})
	addr := serveCoro(t, srv)
	c := dial(t, addr)
	io.WriteString(c, "GET /first HTTP/1.1\r\nHost: x\r\n\r\nGET /second HTTP/1.1\r\nHost: x\r\n\r\n")
	br := bufio.NewReader(c)
	for _, want := range []string{"/first", "/second"} {
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		if string(b) != want {
			t.Fatalf("body %q, want %q", b, want)
		}
	}
}

// TestHijack: the handler takes the connection over, with the bytes the client sent
// after the request still readable from the returned bufio.Reader.
func TestHijack(t *testing.T) {
	srv := &Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.Context().Done() // a background read runs: Hijack must stop it first
		conn, rw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			t.Error(err)
			return
		}
		defer conn.Close()
		rw.WriteString("HTTP/1.1 101 Switching Protocols\r\nUpgrade: echo\r\nConnection: Upgrade\r\n\r\n")
		rw.Flush()
		for {
			line, err := rw.ReadString('\n')
			if err != nil {
				return
			}
			rw.WriteString("echo: " + line)
			rw.Flush()
		}
	}), ErrorLog: quietLog}
	addr := serveCoro(t, srv)
	c := dial(t, addr)
	io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: echo\r\nConnection: Upgrade\r\n\r\nearly\n")
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, nil)
	if err != nil || resp.StatusCode != 101 {
		t.Fatalf("%v %v", resp, err)
	}
	line, err := br.ReadString('\n')
	if err != nil || line != "echo: early\n" {
		t.Fatalf("%q %v", line, err)
	}
	io.WriteString(c, "later\n")
	line, err = br.ReadString('\n')
	if err != nil || line != "echo: later\n" {
		t.Fatalf("%q %v", line, err)
	}
}

// TestTimeouts: ReadHeaderTimeout closes a connection whose header never ends;
// IdleTimeout closes a kept-alive connection with no next request. Both close
// without a response.
func TestTimeouts(t *testing.T) {
	srv := &Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "ok")
	}), ReadHeaderTimeout: 50 * time.Millisecond, IdleTimeout: 50 * time.Millisecond, ErrorLog: quietLog}
	addr := serveCoro(t, srv)

	c := dial(t, addr)
	c.SetDeadline(time.Now().Add(time.Minute))
	io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\n") // no blank line: the header never ends
	if b, err := io.ReadAll(c); err != nil || len(b) != 0 {
		t.Errorf("slow header: read %q, %v; want EOF with nothing", b, err)
	}

	c = dial(t, addr)
	c.SetDeadline(time.Now().Add(time.Minute))
	io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, nil)
	if err != nil || resp.StatusCode != 200 || resp.Close {
		t.Fatalf("%v %v", resp, err)
	}
	io.Copy(io.Discard, resp.Body)
	if b, err := io.ReadAll(br); err != nil || len(b) != 0 {
		t.Errorf("idle: read %q, %v; want EOF with nothing", b, err)
	}
}

// TestShutdown: Shutdown closes the listener and an idle connection at once, lets a
// request in progress finish with Connection: close, then returns; Serve returns
// ErrServerClosed.
func TestShutdown(t *testing.T) {
	var inHandler, release coro.Event
	srv := &Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" {
			inHandler.Set()
			release.Wait()
		}
		io.WriteString(w, "done "+r.URL.Path)
	}), ErrorLog: quietLog}
	var serveErr, shutErr error
	var slowResp string
	onLoop(t, func() {
		ln, err := coro.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Error(err)
			return
		}
		served := coro.Spawn(func() { serveErr = srv.Serve(ln) })
		idle, err := coro.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Error(err)
			return
		}
		io.WriteString(idle, "GET /fast HTTP/1.1\r\nHost: x\r\n\r\n")
		ibr := bufio.NewReader(idle)
		if resp, err := http.ReadResponse(ibr, nil); err != nil || resp.StatusCode != 200 {
			t.Errorf("fast: %v %v", resp, err)
			return
		} else {
			io.Copy(io.Discard, resp.Body)
		}
		busy, err := coro.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Error(err)
			return
		}
		io.WriteString(busy, "GET /slow HTTP/1.1\r\nHost: x\r\n\r\n")
		inHandler.Wait()
		shut := coro.Spawn(func() { shutErr = srv.Shutdown(context.Background()) })
		// The idle connection is closed under Shutdown: EOF.
		if b, err := io.ReadAll(ibr); err != nil || len(b) != 0 {
			t.Errorf("idle connection under Shutdown: %q %v", b, err)
		}
		release.Set()
		b, _ := io.ReadAll(busy)
		slowResp = string(b)
		shut.Join()
		served.Join()
	})
	if serveErr != ErrServerClosed || shutErr != nil {
		t.Errorf("Serve: %v, Shutdown: %v", serveErr, shutErr)
	}
	if !strings.Contains(slowResp, "done /slow") || !strings.Contains(slowResp, "Connection: close\r\n") {
		t.Errorf("request in progress during Shutdown got %q", slowResp)
	}
}

// TestPanicLogged: a handler's panic is logged to ErrorLog with the connection's
// address and the panic value, the connection closes, and the server goes on; an
// ErrAbortHandler panic is not logged.
func TestPanicLogged(t *testing.T) {
	var mu sync.Mutex
	var buf bytes.Buffer
	srv := &Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/abort" {
			panic(http.ErrAbortHandler)
		}
		panic("boom")
	}), ErrorLog: log.New(lockedWriter{&mu, &buf}, "", 0)}
	addr := serveCoro(t, srv)
	for _, path := range []string{"/abort", "/boom"} {
		c := dial(t, addr)
		io.WriteString(c, "GET "+path+" HTTP/1.1\r\nHost: x\r\n\r\n")
		if b, _ := io.ReadAll(c); len(b) != 0 {
			t.Errorf("%s: got %q, want the connection closed without a response", path, b)
		}
	}
	mu.Lock()
	out := buf.String()
	mu.Unlock()
	if !strings.Contains(out, "http: panic serving 127.0.0.1:") || !strings.Contains(out, ": boom\n") || strings.Count(out, "http: panic serving") != 1 {
		t.Errorf("ErrorLog got %q", out)
	}
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// TestResponseController: deadlines, flushing and full duplex through
// http.NewResponseController, as handlers written for net/http use them.
func TestResponseController(t *testing.T) {
	srv := &Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rc := http.NewResponseController(w)
		for _, err := range []error{
			rc.SetReadDeadline(time.Now().Add(time.Minute)),
			rc.SetWriteDeadline(time.Now().Add(time.Minute)),
			rc.EnableFullDuplex(),
		} {
			if err != nil {
				t.Error(err)
			}
		}
		io.WriteString(w, "a")
		if err := rc.Flush(); err != nil {
			t.Error(err)
		}
		b, _ := io.ReadAll(r.Body) // read after the response began: full duplex
		io.WriteString(w, string(b))
	}), ErrorLog: quietLog}
	addr := serveCoro(t, srv)
	resp, err := http.Post("http://"+addr+"/", "text/plain", strings.NewReader("bc"))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(b) != "abc" || len(resp.TransferEncoding) != 1 {
		t.Fatalf("body %q, transfer encoding %v", b, resp.TransferEncoding)
	}
}

// TestWriteAndReadTimeout: WriteTimeout ends a response the client does not read (the
// handler's write fails with a timeout); ReadTimeout ends a request body that never
// comes (the handler's read fails with a timeout).
func TestWriteAndReadTimeout(t *testing.T) {
	werr := make(chan error, 1)
	rerr := make(chan error, 1)
	srv := &Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/read" {
			_, err := io.ReadAll(r.Body)
			rerr <- err
			return
		}
		chunk := bytes.Repeat([]byte("x"), 1<<20)
		for i := 0; i < 256; i++ { // far more than the socket buffers hold
			if _, err := w.Write(chunk); err != nil {
				werr <- err
				return
			}
		}
		werr <- nil
	}), WriteTimeout: 100 * time.Millisecond, ReadTimeout: 100 * time.Millisecond, ErrorLog: quietLog}
	addr := serveCoro(t, srv)
	c := dial(t, addr)
	io.WriteString(c, "GET /write HTTP/1.1\r\nHost: x\r\n\r\n") // and never read
	c2 := dial(t, addr)
	io.WriteString(c2, "POST /read HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc") // 7 bytes short
	for name, ch := range map[string]chan error{"write": werr, "read": rerr} {
		select {
		case err := <-ch:
			var ne interface{ Timeout() bool }
			if err == nil || !errors.As(err, &ne) || !ne.Timeout() {
				t.Errorf("%s: handler got %v, want a timeout", name, err)
			}
		case <-time.After(2 * time.Minute):
			t.Fatalf("%s: the handler did not finish", name)
		}
	}
}

// TestLoopExitUnwinds: when the loop exits while a handler is parked, the connection's
// coroutine unwinds (its recover passes the runtime's unwinding on), the connection is
// closed and forgotten by the server, and the loop ends.
func TestLoopExitUnwinds(t *testing.T) {
	started := make(chan struct{}, 1)
	srv := &Server{ErrorLog: quietLog, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		started <- struct{}{}
		coro.Sleep(time.Hour)
		t.Error("the handler's sleep returned")
	})}
	s := coro.NewScheduler()
	addrc := make(chan string, 1)
	s.Spawn(func() {
		ln, err := coro.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Error(err)
			close(addrc)
			return
		}
		addrc <- ln.Addr().String()
		srv.Serve(ln)
	})
	ended := make(chan struct{})
	go func() { defer close(ended); s.EventLoop() }()
	c := dial(t, <-addrc)
	io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	<-started
	s.Exit()
	select {
	case <-ended:
	case <-time.After(time.Minute):
		t.Fatal("the loop did not end")
	}
	if b, _ := io.ReadAll(c); len(b) != 0 {
		t.Errorf("got %q, want the connection closed without a response", b)
	}
	srv.mu.Lock()
	n := len(srv.conns)
	srv.mu.Unlock()
	if n != 0 {
		t.Errorf("the server still tracks %d connections", n)
	}
}
