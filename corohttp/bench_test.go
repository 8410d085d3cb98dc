package corohttp

import (
	"bufio"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
)

// benchHandler is the small response of the wrk benchmark (examples/httpbench).
func benchHandler() http.Handler {
	mux := http.NewServeMux()
	body := []byte("hello, world\n")
	mux.HandleFunc("GET /", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Write(body)
	})
	return mux
}

// benchKeepAlive sends b.N requests one after another on one keep-alive connection
// and reads each response. Allocations and time include the client's (the same for
// both servers): compare BenchmarkServe/corohttp with BenchmarkServe/net-http from
// one run. examples/httpbench is the wrk benchmark that counts server CPU alone.
func benchKeepAlive(b *testing.B, addr string) {
	c := dial(b, addr)
	br := bufio.NewReader(c)
	req := []byte("GET / HTTP/1.1\r\nHost: bench\r\n\r\n")
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := c.Write(req); err != nil {
			b.Fatal(err)
		}
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			b.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
	}
}

func BenchmarkServe(b *testing.B) {
	b.Run("corohttp", func(b *testing.B) {
		benchKeepAlive(b, serveCoro(b, &Server{Handler: benchHandler(), ErrorLog: quietLog}))
	})
	b.Run("net-http", func(b *testing.B) {
		ts := httptest.NewServer(benchHandler())
		defer ts.Close()
		benchKeepAlive(b, ts.Listener.Addr().String())
	})
}
