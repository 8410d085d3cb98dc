package corohttp

import (
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/coroprof/coroprof/format"
	"github.com/coroprof/coroprof/internal/wire"
	"github.com/coroprof/coroprof/profiler"
	coro "github.com/coroprof/coroprof/runtime"
)

// TestProfiledRoutes serves a ServeMux under the profiler and checks that every request
// is one exact region named by its route, with the handler's own region nested in it,
// and that each connection's coroutine is named after the connection.
func TestProfiledRoutes(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /items/{id}", func(w http.ResponseWriter, r *http.Request) {
		defer profiler.Region("lookup")()
		io.WriteString(w, "item "+r.PathValue("id"))
	})
	mux.HandleFunc("POST /items", func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.WriteHeader(http.StatusCreated)
	})
	srv := &Server{Handler: mux, ErrorLog: quietLog}
	file := filepath.Join(t.TempDir(), "http.bin")
	s := coro.NewScheduler()
	addrc := make(chan string, 1)
	s.SpawnNamed("serve", func() {
		ln, err := coro.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Error(err)
			addrc <- ""
			return
		}
		addrc <- ln.Addr().String()
		srv.Serve(ln)
	})
	type result struct {
		err error
	}
	done := make(chan result, 1)
	go func() {
		addr := <-addrc
		defer s.Exit()
		if addr == "" {
			done <- result{}
			return
		}
		var res result
		tr := &http.Transport{DisableKeepAlives: true}
		cl := &http.Client{Transport: tr, Timeout: 30 * time.Second}
		do := func(method, path string, want int) {
			req, _ := http.NewRequest(method, "http://"+addr+path, strings.NewReader("x"))
			resp, err := cl.Do(req)
			if err != nil {
				res.err = err
				return
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != want {
				t.Errorf("%s %s: %d, want %d", method, path, resp.StatusCode, want)
			}
		}
		for i := 0; i < 5; i++ {
			do("GET", "/items/7", 200)
		}
		for i := 0; i < 3; i++ {
			do("POST", "/items", 201)
		}
		for i := 0; i < 2; i++ {
			do("GET", "/nope", 404)
		}
		do("DELETE", "/nope", 404)
		srv.Close()
		done <- res
	}()
	if err := profiler.Go(s.EventLoop, profiler.Loop(s), profiler.File(file), profiler.SampleRate(0)); err != nil {
		t.Fatal(err)
	}
	res := <-done
	if res.err != nil {
		t.Fatal(res.err)
	}
	if profiler.Active() {
		t.Error("profiler.Active after the session ended")
	}
	p, err := format.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	calls := map[string]uint64{}
	idx := map[string]int32{}
	for i, r := range p.Regions {
		calls[r.Name] = r.Calls
		idx[r.Name] = int32(i)
	}
	want := map[string]uint64{"GET /items/{id}": 5, "POST /items": 3, "GET": 2, "DELETE": 1, "lookup": 5}
	for name, n := range want {
		if calls[name] != n {
			t.Errorf("region %q: %d calls, want %d", name, calls[name], n)
		}
	}
	if len(calls) != len(want) {
		t.Errorf("regions %v, want %v", calls, want)
	}
	var nested uint64
	for _, e := range p.RegionEdges {
		if e.Caller == idx["GET /items/{id}"] && e.Callee == idx["lookup"] {
			nested = e.Calls
		}
	}
	if nested != 5 {
		t.Errorf("GET /items/{id} -> lookup: %d calls, want 5", nested)
	}
	r := p.Regions[idx["GET /items/{id}"]]
	if r.Cumulative[wire.Ticks] == 0 || r.Cumulative[wire.Ticks] < p.Regions[idx["lookup"]].Cumulative[wire.Ticks] {
		t.Errorf("route region ticks %d, lookup %d", r.Cumulative[wire.Ticks], p.Regions[idx["lookup"]].Cumulative[wire.Ticks])
	}
	conns := 0
	for _, c := range p.Coroutines {
		if strings.HasPrefix(c.Name, "http 127.0.0.1:") {
			conns++
		}
	}
	if conns != 11 {
		t.Errorf("%d coroutines named after their connection, want 11 (one per request: keep-alives off)", conns)
	}
}
