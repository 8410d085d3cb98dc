package corohttp

import (
	"io"
	"log"
	"net"
	"sync"
	"testing"
	"time"

	coro "github.com/coroprof/coroprof/runtime"
)

// startLoop runs a loop of its own for the test on a goroutine and ends it (Exit, then
// wait for EventLoop to return) when the test ends. setup runs as the loop's first
// coroutine.
func startLoop(t testing.TB, setup func()) *coro.Scheduler {
	t.Helper()
	s := coro.NewScheduler()
	s.SpawnNamed("test setup", setup)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); s.EventLoop() }()
	t.Cleanup(func() {
		s.Exit()
		wg.Wait()
	})
	return s
}

// serveCoro starts srv on a loop of its own, listening on a loopback port, and
// returns the address. The server is closed when the test ends.
func serveCoro(t testing.TB, srv *Server) string {
	t.Helper()
	addrc := make(chan string, 1)
	errc := make(chan error, 1)
	startLoop(t, func() {
		ln, err := coro.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			errc <- err
			return
		}
		addrc <- ln.Addr().String()
		if err := srv.Serve(ln); err != nil && err != ErrServerClosed {
			t.Errorf("Serve: %v", err)
		}
	})
	t.Cleanup(func() { srv.Close() })
	select {
	case a := <-addrc:
		return a
	case err := <-errc:
		t.Fatal(err)
	case <-time.After(30 * time.Second):
		t.Fatal("the loop did not start listening in 30s")
	}
	return ""
}

// quietLog is an ErrorLog for servers whose complaints a test provokes.
var quietLog = log.New(io.Discard, "", 0)

// dial connects from the test goroutine (the peer side runs on ordinary goroutines).
func dial(t testing.TB, addr string) net.Conn {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}
