package coro

import (
	"errors"
	"net"
	"sync"
	"testing"
	"time"

	"golang.org/x/net/nettest"
)

// TestNetConnConformance runs golang.org/x/net/nettest's TestConn, the net.Conn
// conformance suite package net's own connections pass, on coroutine Conns driven
// entirely from plain goroutines: basic I/O, ping-pong, racy reads and writes, read
// and write timeouts, past, present, future and concurrent deadlines, Close during
// pending calls, and every method called concurrently. The Conns belong to a loop
// running on its own goroutine; every call is run on that loop (bridge.go).
func TestNetConnConformance(t *testing.T) {
	for _, network := range []string{"tcp", "unix"} {
		t.Run(network, func(t *testing.T) {
			s, _ := newTestSched(t)
			s.SpawnNamed("keeper", func() { Sleep(time.Hour) })
			var wg sync.WaitGroup
			wg.Add(1)
			go func() { defer wg.Done(); s.EventLoop() }()
			defer wg.Wait()
			defer s.Exit()
			for !s.running.Load() {
				time.Sleep(time.Millisecond)
			}
			addr := "127.0.0.1:0"
			if network == "unix" {
				addr = t.TempDir() + "/s"
			}
			ln, err := Call(s, func() (*Listener, error) { return Listen(network, addr) })
			if err != nil {
				t.Fatal(err)
			}
			defer ln.Close()
			nettest.TestConn(t, func() (c1, c2 net.Conn, stop func(), err error) {
				// Accept from this goroutine, Dial on the loop: both calls cross the
				// border.
				type result struct {
					c   net.Conn
					err error
				}
				acc := make(chan result, 1)
				go func() {
					c, err := ln.Accept()
					acc <- result{c, err}
				}()
				d, err := Call(s, func() (*Conn, error) { return Dial(network, ln.Addr().String()) })
				if err != nil {
					return nil, nil, nil, err
				}
				a := <-acc
				if a.err != nil {
					d.Close()
					return nil, nil, nil, a.err
				}
				stop = func() {
					d.Close()
					a.c.Close()
				}
				return d, a.c, stop, nil
			})
		})
	}
}

// TestGoroutineIOLoopExit: goroutines blocked in Read and Accept when the socket's loop
// ends are released with ErrLoopExited.
func TestGoroutineIOLoopExit(t *testing.T) {
	s, _ := newTestSched(t)
	s.SpawnNamed("keeper", func() { Sleep(time.Hour) })
	done := make(chan struct{})
	go func() { defer close(done); s.EventLoop() }()
	for !s.running.Load() {
		time.Sleep(time.Millisecond)
	}
	type pair struct{ cl, srv *Conn }
	ln, err := Call(s, func() (*Listener, error) { return Listen("tcp", "127.0.0.1:0") })
	if err != nil {
		t.Fatal(err)
	}
	p, err := Call(s, func() (pair, error) {
		cl, err := Dial("tcp", ln.Addr().String())
		if err != nil {
			return pair{}, err
		}
		srv, err := ln.AcceptConn()
		return pair{cl, srv}, err
	})
	if err != nil {
		t.Fatal(err)
	}
	errs := make(chan error, 3)
	go func() { _, err := p.cl.Read(make([]byte, 1)); errs <- err }()
	go func() { _, err := p.cl.Read(make([]byte, 1)); errs <- err }() // queued behind the first
	go func() { _, err := ln.Accept(); errs <- err }()
	// Wait until all three are parked on the loop: the readers hold and queue on
	// the read lock, the acceptor parks in the poller.
	for {
		n, _ := Call(s, func() (int, error) {
			n := p.cl.fd.rlk.q.len
			if p.cl.fd.pd.rg != nil {
				n++
			}
			if ln.fd.pd.rg != nil {
				n++
			}
			return n, nil
		})
		if n == 3 {
			break
		}
		time.Sleep(time.Millisecond)
	}
	s.Exit()
	<-done
	for i := 0; i < 3; i++ {
		if err := <-errs; !errors.Is(err, ErrLoopExited) {
			t.Errorf("goroutine's call when the loop ended: %v, want ErrLoopExited", err)
		}
	}
	// The loop is not running now: a call that would wait fails at once.
	if _, err := p.cl.Read(make([]byte, 1)); !errors.Is(err, ErrNotCoroutine) {
		t.Errorf("Read with the loop stopped: %v, want ErrNotCoroutine", err)
	}
	if err := p.cl.Close(); err != nil {
		t.Errorf("Close with the loop stopped: %v", err)
	}
	if err := p.cl.Close(); !errors.Is(err, net.ErrClosed) {
		t.Errorf("second Close with the loop stopped: %v", err)
	}
	p.srv.Close()
	ln.Close()
}
