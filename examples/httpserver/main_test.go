package main

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coroprof/coroprof/corohttp"
	coro "github.com/coroprof/coroprof/runtime"
)

// TestHTTPServer serves the example's mux with corohttp on a loop and sends it
// keep-alive requests with net/http's client from a goroutine.
func TestHTTPServer(t *testing.T) {
	s := coro.NewScheduler()
	srv := &corohttp.Server{Handler: newMux()}
	addrc := make(chan string, 1)
	s.SpawnNamed("serve", func() {
		ln, err := coro.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Error(err)
			close(addrc)
			return
		}
		addrc <- ln.Addr().String()
		srv.Serve(ln)
	})
	type res struct {
		code int
		body string
	}
	var got []res
	go func() {
		defer srv.Close() // the serving coroutine returns and the loop ends
		base := "http://" + <-addrc
		cl := &http.Client{Timeout: 30 * time.Second}
		for _, p := range []string{"/", "/hello/gopher", "/coroutines", "/slow?ms=1", "/nope", "POST /echo"} {
			var r *http.Response
			var err error
			if m, ok := strings.CutPrefix(p, "POST "); ok {
				r, err = cl.Post(base+m, "text/plain", strings.NewReader("echoed"))
			} else {
				r, err = cl.Get(base + p)
			}
			if err != nil {
				t.Error(err)
				return
			}
			b, _ := io.ReadAll(r.Body)
			r.Body.Close()
			got = append(got, res{r.StatusCode, string(b)})
		}
	}()
	s.EventLoop()
	if len(got) != 6 {
		t.Fatalf("got %d responses: %+v", len(got), got)
	}
	if got[0].code != 200 || !strings.HasPrefix(got[0].body, "hello from coroutine") ||
		got[1].body != "hello, gopher\n" ||
		!strings.Contains(got[2].body, "coroutines on this loop") || !strings.Contains(got[2].body, "serve") ||
		got[3].body != "slept 1ms\n" || got[4].code != 404 || got[5].body != "echoed" {
		t.Fatalf("responses: %+v", got)
	}
}
