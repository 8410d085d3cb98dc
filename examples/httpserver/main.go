// Command httpserver serves an http.ServeMux on coroutines with package corohttp:
// net/http's semantics, a coroutine per connection, one loop per core with -loops,
// and, with -profile, every request an exact profiler region named by its route.
//
//	go run ./examples/httpserver -profile http.bin   # Ctrl-C writes the profile
//	curl http://127.0.0.1:8080/hello/gopher
//	go run ./cmd/print-profile http.bin > report.html
//
// Routes: GET / (a greeting naming the serving coroutine), GET /hello/{name},
// GET /coroutines (the live coroutines of the serving loop), GET /slow?ms=N (a
// coroutine sleep: the loop serves the others meanwhile), POST /echo.
package main

import (
	"flag"
	"fmt"
	"html"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/coroprof/coroprof/corohttp"
	"github.com/coroprof/coroprof/profiler"
	coro "github.com/coroprof/coroprof/runtime"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "address to listen on")
	nloops := flag.Int("loops", 1, "event loops (one OS thread each) sharing the address through SO_REUSEPORT")
	profile := flag.String("profile", "", "run under the profiler and write the profile to this file at Ctrl-C")
	flag.Parse()
	if *nloops < 1 || *nloops > 1024 {
		log.Fatalf("httpserver: -loops %d: want 1 to 1024", *nloops)
	}
	srv := &corohttp.Server{Addr: *addr, Handler: newMux(), ReadHeaderTimeout: 10 * time.Second, IdleTimeout: time.Minute}
	var others []*coro.Scheduler
	for i := 1; i < *nloops; i++ {
		others = append(others, coro.NewScheduler())
	}
	coro.SpawnNamed("serve", func() {
		err := srv.ServeLoops(func(a net.Addr) { fmt.Fprintf(os.Stderr, "http server on http://%s/ (%d loops)\n", a, *nloops) }, others...)
		if err != corohttp.ErrServerClosed {
			log.Print(err)
		}
		for _, s := range others {
			s.Exit()
		}
		coro.Exit()
	})
	// Ctrl-C: close the server, which ends every loop.
	coro.OnSignal(func(os.Signal) { srv.Close() }, os.Interrupt)
	run := func() {
		var wg sync.WaitGroup
		coro.EventLoop()
		for _, s := range others {
			wg.Add(1)
			go func() { defer wg.Done(); waitStopped(s) }()
		}
		wg.Wait()
	}
	if *profile != "" {
		if err := profiler.Go(run, profiler.File(*profile), profiler.Loops(others...)); err != nil {
			log.Fatal(err)
		}
		fmt.Fprintln(os.Stderr, "profile written to", *profile)
		return
	}
	run()
}

// waitStopped waits until loop s has ended.
func waitStopped(s *coro.Scheduler) {
	for s.Running() {
		time.Sleep(time.Millisecond)
	}
}

func newMux() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "hello from coroutine %d\n", coro.Current().ID())
	})
	mux.HandleFunc("GET /hello/{name}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		io.WriteString(w, "hello, "+r.PathValue("name")+"\n")
	})
	mux.HandleFunc("GET /coroutines", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		list := coro.Coroutines()
		fmt.Fprintf(w, "%d coroutines on this loop\n", len(list))
		for _, c := range list {
			fmt.Fprintf(w, "%d %s %s\n", c.ID, html.EscapeString(c.Name), c.State)
		}
	})
	mux.HandleFunc("GET /slow", func(w http.ResponseWriter, r *http.Request) {
		ms, _ := strconv.Atoi(r.URL.Query().Get("ms"))
		if ms <= 0 || ms > 10000 {
			ms = 100
		}
		coro.Sleep(time.Duration(ms) * time.Millisecond)
		fmt.Fprintf(w, "slept %dms\n", ms)
	})
	mux.HandleFunc("POST /echo", func(w http.ResponseWriter, r *http.Request) {
		io.Copy(w, r.Body)
	})
	return mux
}
