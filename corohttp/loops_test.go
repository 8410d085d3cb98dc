package corohttp

import (
	"io"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"

	coro "github.com/coroprof/coroprof/runtime"
)

// TestServeLoops: one address served by two loops through SO_REUSEPORT; connections
// from many client ports land on both, each request served on the loop of the
// connection that carried it.
func TestServeLoops(t *testing.T) {
	var mu sync.Mutex
	byLoop := map[*coro.Scheduler]int{}
	srv := &Server{Addr: "127.0.0.1:0", ErrorLog: quietLog, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := coro.CurrentScheduler()
		mu.Lock()
		byLoop[s]++
		mu.Unlock()
		io.WriteString(w, "ok")
	})}
	other := coro.NewScheduler()
	addrc := make(chan string, 1)
	errc := make(chan error, 1)
	startLoop(t, func() {
		errc <- srv.ServeLoops(func(a net.Addr) { addrc <- a.String() }, other)
	})
	var addr string
	select {
	case addr = <-addrc:
	case err := <-errc:
		t.Fatal(err)
	case <-time.After(time.Minute):
		t.Fatal("not listening after a minute")
	}
	cl := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: time.Minute}
	const n = 64
	for i := 0; i < n; i++ {
		resp, err := cl.Get("http://" + addr + "/")
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	srv.Close()
	if err := <-errc; err != ErrServerClosed {
		t.Errorf("ServeLoops returned %v, want ErrServerClosed", err)
	}
	mu.Lock()
	defer mu.Unlock()
	total := 0
	for _, k := range byLoop {
		total += k
	}
	if len(byLoop) != 2 || byLoop[other] == 0 || total != n {
		t.Errorf("requests per loop %v (other loop %p), want %d over both loops", byLoop, other, n)
	}
}
