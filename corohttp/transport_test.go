package corohttp

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	coro "github.com/coroprof/coroprof/runtime"
)

// onLoop runs fn as a coroutine of a loop of its own and waits for it (from the test
// goroutine, which is not a coroutine).
func onLoop(t *testing.T, fn func()) {
	t.Helper()
	done := make(chan struct{})
	startLoop(t, func() {
		defer close(done)
		fn()
	})
	select {
	case <-done:
	case <-time.After(60 * time.Second):
		t.Fatal("the coroutine did not finish in 60s")
	}
}

func get(cl *http.Client, url string) (int, string, error) {
	resp, err := cl.Get(url)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), err
}

// TestTransportAgainstNetHTTP: the Transport from a coroutine against net/http's
// server: GET, POST with a body, chunked responses, HEAD, keep-alive reuse (one
// connection for sequential requests), and a request on a connection the server closed
// while it was idle (sent again on a new one).
func TestTransportAgainstNetHTTP(t *testing.T) {
	var mu sync.Mutex
	newConns := 0
	ts := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/big":
			io.WriteString(w, strings.Repeat("b", 10000))
		case "/echo":
			b, _ := io.ReadAll(r.Body)
			fmt.Fprintf(w, "%s %s", r.Method, b)
		default:
			io.WriteString(w, "hi "+r.Host)
		}
	}))
	ts.Config.ConnState = func(c net.Conn, s http.ConnState) {
		if s == http.StateNew {
			mu.Lock()
			newConns++
			mu.Unlock()
		}
	}
	ts.Start()
	defer ts.Close()
	conns := func() int { mu.Lock(); defer mu.Unlock(); return newConns }

	tr := &Transport{}
	cl := &http.Client{Transport: tr}
	onLoop(t, func() {
		for i := 0; i < 5; i++ {
			code, body, err := get(cl, ts.URL+"/")
			if err != nil || code != 200 || !strings.HasPrefix(body, "hi 127.0.0.1:") {
				t.Errorf("GET /: %d %q %v", code, body, err)
				return
			}
		}
		if n := conns(); n != 1 {
			t.Errorf("5 sequential GETs used %d connections, want 1", n)
		}
		code, body, err := get(cl, ts.URL+"/big")
		if err != nil || code != 200 || len(body) != 10000 {
			t.Errorf("GET /big: %d %d bytes %v", code, len(body), err)
		}
		resp, err := cl.Post(ts.URL+"/echo", "text/plain", strings.NewReader("payload"))
		if err != nil {
			t.Error(err)
			return
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if string(b) != "POST payload" {
			t.Errorf("POST /echo: %q", b)
		}
		resp, err = cl.Head(ts.URL + "/")
		if err != nil || resp.StatusCode != 200 {
			t.Errorf("HEAD: %v %v", resp, err)
		}
		if n := conns(); n != 1 {
			t.Errorf("%d connections after GET, POST, HEAD in sequence, want 1", n)
		}
		// The server drops the idle connection; the next request finds it dead and
		// goes out again on a new one.
		ts.CloseClientConnections()
		code, body, err = get(cl, ts.URL+"/")
		if err != nil || code != 200 {
			t.Errorf("GET after the server closed the idle connection: %d %q %v", code, body, err)
		}
		if n := conns(); n != 2 {
			t.Errorf("%d connections, want 2", n)
		}
	})
	tr.CloseIdleConnections()
}

// TestTransportAgainstCorohttp: a corohttp handler calls another corohttp server
// through the Transport, all on one loop: the loop never blocks, so both sides run.
func TestTransportAgainstCorohttp(t *testing.T) {
	backend := &Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		fmt.Fprintf(w, "backend %s %s %s", r.Method, r.URL.Path, b)
	}), ErrorLog: quietLog}
	tr := &Transport{}
	front := &Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		req, _ := http.NewRequestWithContext(r.Context(), "POST", "http://"+r.Host+"/b"+r.URL.Path, strings.NewReader("from front"))
		resp, err := (&http.Client{Transport: tr}).Do(req)
		if err != nil {
			http.Error(w, err.Error(), 502)
			return
		}
		defer resp.Body.Close()
		io.WriteString(w, "front got: ")
		io.Copy(w, resp.Body)
	}), ErrorLog: quietLog}
	var out []string
	onLoop(t, func() {
		bl, err := coro.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Error(err)
			return
		}
		fl, err := coro.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Error(err)
			return
		}
		coro.Spawn(func() { backend.Serve(bl) })
		coro.Spawn(func() { front.Serve(fl) })
		cl := &http.Client{Transport: tr}
		for i := 0; i < 3; i++ {
			// The front handler sends its request to r.Host: point Host at the backend.
			req, _ := http.NewRequest("GET", "http://"+fl.Addr().String()+fmt.Sprintf("/x%d", i), nil)
			req.Host = bl.Addr().String()
			resp, err := cl.Do(req)
			if err != nil {
				t.Error(err)
				break
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			out = append(out, string(b))
		}
		backend.Close()
		front.Close()
	})
	want := []string{
		"front got: backend POST /b/x0 from front",
		"front got: backend POST /b/x1 from front",
		"front got: backend POST /b/x2 from front",
	}
	if strings.Join(out, "\n") != strings.Join(want, "\n") {
		t.Errorf("got %q, want %q", out, want)
	}
}

// TestTransportContext: a request's deadline and its cancellation end the wait for a
// server that never answers, with the context's error.
func TestTransportContext(t *testing.T) {
	arrived := make(chan struct{}, 10)
	release := make(chan struct{})
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		arrived <- struct{}{}
		<-release
	}))
	defer ts.Close()
	defer close(release)
	tr := &Transport{}
	cl := &http.Client{Transport: tr}
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		<-arrived // the first request reached the handler: cancel it from a goroutine
		cancel()
	}()
	onLoop(t, func() {
		req, _ := http.NewRequestWithContext(ctx, "GET", ts.URL, nil)
		_, err := cl.Do(req)
		if !errors.Is(err, context.Canceled) {
			t.Errorf("cancelled request: %v, want context.Canceled", err)
		}
		dctx, dcancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer dcancel()
		req, _ = http.NewRequestWithContext(dctx, "GET", ts.URL, nil)
		_, err = cl.Do(req)
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("request past its deadline: %v, want context.DeadlineExceeded", err)
		}
	})
}

// TestTransportNotCoroutine: from a plain goroutine RoundTrip fails at once, naming the
// rule.
func TestTransportNotCoroutine(t *testing.T) {
	req, _ := http.NewRequest("GET", "http://127.0.0.1:1/", nil)
	_, err := (&Transport{}).RoundTrip(req)
	if err != ErrNotCoroutine || !strings.Contains(err.Error(), "coroutine") {
		t.Fatalf("RoundTrip from a goroutine: %v", err)
	}
	if err := (&Server{}).Serve(nil); err != ErrNotCoroutine {
		t.Fatalf("Serve from a goroutine: %v", err)
	}
	if err := ListenAndServe("127.0.0.1:0", nil); err != ErrNotCoroutine {
		t.Fatalf("ListenAndServe from a goroutine: %v", err)
	}
}

// TestTransportTLS: an https URL goes over TLS on the coroutine socket, with the
// configured roots, and the connection is kept alive for the next request.
func TestTransportTLS(t *testing.T) {
	var mu sync.Mutex
	newConns := 0
	ts := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "tls "+r.Proto)
	}))
	ts.Config.ConnState = func(c net.Conn, s http.ConnState) {
		if s == http.StateNew {
			mu.Lock()
			newConns++
			mu.Unlock()
		}
	}
	ts.Config.ErrorLog = quietLog // the refused handshake below is logged otherwise
	ts.StartTLS()
	defer ts.Close()
	tr := &Transport{TLSClientConfig: ts.Client().Transport.(*http.Transport).TLSClientConfig}
	cl := &http.Client{Transport: tr}
	onLoop(t, func() {
		for i := 0; i < 3; i++ {
			code, body, err := get(cl, ts.URL+"/")
			if err != nil || code != 200 || body != "tls HTTP/1.1" {
				t.Errorf("GET over TLS: %d %q %v", code, body, err)
				return
			}
		}
		// Without the test server's roots the certificate is refused.
		_, _, err := get(&http.Client{Transport: &Transport{}}, ts.URL+"/")
		if err == nil || !strings.Contains(err.Error(), "certificate") {
			t.Errorf("GET with the default roots: %v, want a certificate error", err)
		}
	})
	tr.CloseIdleConnections()
	mu.Lock()
	defer mu.Unlock()
	if newConns != 2 { // one kept alive for the three requests, one refused
		t.Errorf("%d connections, want 2", newConns)
	}
}
