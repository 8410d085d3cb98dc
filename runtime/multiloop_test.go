package coro

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// runLoops starts n new loops, each on its own goroutine (and so its own locked OS
// thread), kept alive by a sleeping coroutine until stop, which Exits them all and
// waits for every EventLoop to return.
func runLoops(t *testing.T, n int) (loops []*Scheduler, stop func()) {
	t.Helper()
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		s := NewScheduler()
		s.SpawnNamed("keeper", func() { Sleep(time.Hour) })
		loops = append(loops, s)
		wg.Add(1)
		go func() { defer wg.Done(); s.EventLoop() }()
	}
	var once sync.Once
	stop = func() {
		once.Do(func() {
			for _, s := range loops {
				s.Exit()
			}
			wg.Wait()
		})
	}
	t.Cleanup(stop)
	return loops, stop
}

// N loops on N threads each listen on one address with SO_REUSEPORT; the kernel
// spreads connections over them, each connection is served by a coroutine of the loop
// that accepted it, and coroutines spawned by a loop's coroutine stay on that loop.
func TestReusePortSpreadsConnectionsOverLoops(t *testing.T) {
	const nLoops, nConns = 3, 96
	loops, stop := runLoops(t, nLoops)

	lc := ListenConfig{ReusePort: true}
	addr := "127.0.0.1:0"
	type tally struct {
		accepted int // written by the loop's own coroutines only
		wrong    []string
	}
	tallies := make([]tally, nLoops)
	var listeners []*Listener
	for i, s := range loops {
		// The listener is made by a coroutine of s, so it belongs to s's poller.
		l, err := Call(s, func() (*Listener, error) { return lc.Listen("tcp", addr) })
		if err != nil {
			t.Fatalf("loop %d: listen on %s with ReusePort: %v", s.LoopID(), addr, err)
		}
		addr = l.Addr().String() // the others share the port the first one got
		listeners = append(listeners, l)
		tl := &tallies[i]
		s.SpawnNamed("acceptor", func() {
			for {
				c, err := l.AcceptConn()
				if err != nil {
					return
				}
				tl.accepted++
				acceptLoop := CurrentScheduler()
				Spawn(func() { // from a coroutine of s: must start on s
					defer c.Close()
					if got := CurrentScheduler(); got != acceptLoop {
						tl.wrong = append(tl.wrong, fmt.Sprintf("handler on loop %v, acceptor on %d", got, acceptLoop.LoopID()))
					}
					r := bufio.NewReader(c)
					line, err := r.ReadString('\n')
					if err != nil {
						return
					}
					fmt.Fprintf(c, "%d %s", CurrentScheduler().LoopID(), line)
				})
			}
		})
	}

	// Bounded loopback traffic from ordinary goroutines through package net.
	perLoop := make(map[int]int)
	var mu sync.Mutex
	var wg sync.WaitGroup
	errs := make(chan error, nConns)
	for i := 0; i < nConns; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := net.DialTimeout("tcp", addr, 5*time.Second)
			if err != nil {
				errs <- err
				return
			}
			defer c.Close()
			c.SetDeadline(time.Now().Add(10 * time.Second))
			fmt.Fprintf(c, "hello %d\n", i)
			line, err := bufio.NewReader(c).ReadString('\n')
			if err != nil {
				errs <- fmt.Errorf("conn %d: %w", i, err)
				return
			}
			var loop int
			var rest string
			if _, err := fmt.Sscanf(line, "%d %s", &loop, &rest); err != nil || !strings.HasSuffix(line, fmt.Sprintf("hello %d\n", i)) {
				errs <- fmt.Errorf("conn %d: reply %q", i, line)
				return
			}
			mu.Lock()
			perLoop[loop]++
			mu.Unlock()
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	for i, s := range loops {
		l := listeners[i]
		if _, err := Call(s, func() (struct{}, error) { return struct{}{}, l.Close() }); err != nil {
			t.Errorf("loop %d: close listener: %v", s.LoopID(), err)
		}
	}
	stop()

	total := 0
	for i, s := range loops {
		id := s.LoopID()
		t.Logf("loop %d accepted %d, answered %d", id, tallies[i].accepted, perLoop[id])
		if tallies[i].accepted != perLoop[id] {
			t.Errorf("loop %d accepted %d connections but answered %d", id, tallies[i].accepted, perLoop[id])
		}
		// With 96 connections hashed over 3 sockets, a socket left with none has
		// probability 3*(2/3)^96, about 1e-17: zero means the kernel did not share.
		if tallies[i].accepted == 0 {
			t.Errorf("loop %d accepted no connection: SO_REUSEPORT did not spread them", id)
		}
		for _, w := range tallies[i].wrong {
			t.Errorf("loop %d: %s", id, w)
		}
		total += tallies[i].accepted
	}
	if total != nConns {
		t.Errorf("loops accepted %d connections in all, want %d", total, nConns)
	}
}

// Two sockets may share a port only when both ask for it.
func TestReusePortNeededOnBothSockets(t *testing.T) {
	loops, _ := runLoops(t, 1)
	s := loops[0]
	_, err := Call(s, func() (struct{}, error) {
		l, err := ListenConfig{ReusePort: true}.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return struct{}{}, err
		}
		defer l.Close()
		if l2, err := Listen("tcp", l.Addr().String()); err == nil {
			l2.Close()
			return struct{}{}, errors.New("a plain Listen shared a ReusePort listener's port")
		}
		l3, err := ListenConfig{ReusePort: true}.Listen("tcp", l.Addr().String())
		if err != nil {
			return struct{}{}, fmt.Errorf("second ReusePort listener: %w", err)
		}
		l3.Close()
		if _, err := (ListenConfig{ReusePort: true}).Listen("unix", t.TempDir()+"/s"); err == nil || !strings.Contains(err.Error(), "ReusePort") {
			return struct{}{}, fmt.Errorf("ReusePort on unix: got %v, want an error naming ReusePort", err)
		}
		return struct{}{}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// Call hands work to another loop and parks the caller (its loop keeps running) until
// the result comes back through the caller's inbox.
func TestCallAcrossLoops(t *testing.T) {
	loops, stop := runLoops(t, 2)
	a, b := loops[0], loops[1]
	type result struct {
		val      int
		err      error
		ranOn    *Scheduler
		ticks    int // a's other coroutine ran while the caller waited
		inline   *Scheduler
		panicErr error
	}
	done := make(chan result, 1)
	a.SpawnNamed("caller", func() {
		var r result
		ticking := true
		ticker := Spawn(func() {
			for ticking {
				r.ticks++
				Sleep(time.Millisecond)
			}
		})
		r.val, r.err = Call(b, func() (int, error) {
			r.ranOn = CurrentScheduler() // b's coroutine writes; a reads after the hand-back
			if err := Sleep(30 * time.Millisecond); err != nil {
				return 0, err
			}
			return 42, nil
		})
		ticking = false
		ticker.Join()
		_, r.panicErr = Call(b, func() (int, error) { panic("boom") })
		Call(a, func() (int, error) { r.inline = CurrentScheduler(); return 0, nil })
		done <- r
	})
	var r result
	select {
	case r = <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Call did not return")
	}
	stop()
	if r.err != nil || r.val != 42 {
		t.Errorf("Call = %d, %v; want 42, nil", r.val, r.err)
	}
	if r.ranOn != b {
		t.Errorf("fn ran on loop %v, want loop %d", r.ranOn, b.LoopID())
	}
	if r.ticks < 5 {
		t.Errorf("the caller's loop ran its other coroutine %d times during a 30ms Call: it was blocked", r.ticks)
	}
	if r.panicErr == nil || !strings.Contains(r.panicErr.Error(), "boom") {
		t.Errorf("Call of a panicking fn: %v, want an error with the panic value", r.panicErr)
	}
	if r.inline != a {
		t.Errorf("Call to the caller's own loop ran on %v, want it inline on loop %d", r.inline, a.LoopID())
	}
}

// A Call cut short by WithTimeout returns ErrTimeout at once; the result that arrives
// later is dropped and does not wake the caller from its next wait.
func TestCallTimeoutDropsLateResult(t *testing.T) {
	loops, stop := runLoops(t, 2)
	a, b := loops[0], loops[1]
	// The deadlines are far apart (10ms, a 300ms call, a 1s sleep) and "at once" is judged
	// against when the call actually finished, as loop b saw it, not against a fixed
	// time: with 10/40/100ms a loop starved for 30ms on a loaded machine could see the
	// result before its own deadline.
	base := time.Now()
	var finished atomic.Int64 // when fn on b returned, since base; 0 until then
	type result struct {
		err      error
		callDone bool // fn on b had returned when WithTimeout did
		t1, t2   time.Duration
		serr     error
	}
	done := make(chan result, 1)
	a.Spawn(func() {
		var r result
		r.err = WithTimeout(10*time.Millisecond, func() error {
			_, err := Call(b, func() (int, error) {
				err := Sleep(300 * time.Millisecond)
				finished.Store(int64(time.Since(base)))
				return 1, err
			})
			return err
		})
		r.callDone = finished.Load() != 0
		r.t1 = time.Since(base)
		r.serr = Sleep(time.Second) // the late result lands during this
		r.t2 = time.Since(base)
		done <- r
	})
	var r result
	select {
	case r = <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Call did not return")
	}
	stop()
	if !errors.Is(r.err, ErrTimeout) {
		t.Errorf("WithTimeout around a slow Call = %v, want ErrTimeout", r.err)
	}
	if r.callDone {
		t.Errorf("the timed-out Call returned only after fn had finished on the other loop, not at its 10ms deadline")
	}
	if r.serr != nil || r.t2-r.t1 < time.Second {
		t.Errorf("the next Sleep(1s) returned %v after %v: the late result woke it", r.serr, r.t2-r.t1)
	}
	if f := time.Duration(finished.Load()); f < r.t1 || f > r.t2 {
		t.Errorf("fn finished at %v, outside the caller's sleep (%v to %v): the late result was not tested", f, r.t1, r.t2)
	}
}

// Call from a plain goroutine blocks it until fn has run on the loop.
func TestCallFromGoroutine(t *testing.T) {
	loops, _ := runLoops(t, 1)
	s := loops[0]
	got, err := Call(s, func() (string, error) {
		if CurrentScheduler() != s || Current() == nil {
			return "", errors.New("fn is not a coroutine of the target loop")
		}
		return Current().Name(), nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(got, "TestCallFromGoroutine") {
		t.Errorf("the Call coroutine is named %q, want fn's name", got)
	}
	if _, err := Call[int](nil, func() (int, error) { return 0, nil }); err == nil {
		t.Error("Call with a nil scheduler: no error")
	}
	if _, err := Call[int](s, nil); err == nil {
		t.Error("Call with a nil function: no error")
	}
}

// A socket is pinned to its loop: used from a coroutine of another loop, Read, Write
// and Accept return ErrWrongLoop without touching it; its own loop still uses it.
func TestSocketUsedFromOtherLoopIsRefused(t *testing.T) {
	loops, stop := runLoops(t, 2)
	a, b := loops[0], loops[1]
	type result struct{ rerr, werr, aerr, own error }
	done := make(chan result, 1)
	a.Spawn(func() {
		var r result
		l, err := Listen("tcp", "127.0.0.1:0")
		if err != nil {
			r.own = err
			done <- r
			return
		}
		defer l.Close()
		c, err := Dial("tcp", l.Addr().String())
		if err != nil {
			r.own = err
			done <- r
			return
		}
		defer c.Close()
		srv, err := l.AcceptConn()
		if err != nil {
			r.own = err
			done <- r
			return
		}
		defer srv.Close()
		Call(b, func() (int, error) {
			_, r.werr = c.Write([]byte("x"))
			_, r.rerr = srv.Read(make([]byte, 1))
			_, r.aerr = l.Accept()
			return 0, nil
		})
		// Still fine on its own loop.
		if _, err := c.Write([]byte("y")); err != nil {
			r.own = err
		} else if buf, err := srv.ReadExactly(1); err != nil || string(buf) != "y" {
			r.own = fmt.Errorf("read %q, %v", buf, err)
		}
		done <- r
	})
	var r result
	select {
	case r = <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("test coroutine did not finish")
	}
	stop()
	if r.own != nil {
		t.Fatalf("on its own loop: %v", r.own)
	}
	for name, err := range map[string]error{"Write": r.werr, "Read": r.rerr, "Accept": r.aerr} {
		if !errors.Is(err, ErrWrongLoop) {
			t.Errorf("%s from another loop: %v, want ErrWrongLoop", name, err)
		}
	}
}

// RunningLoops lists the loops that run, and only while they run.
func TestRunningLoops(t *testing.T) {
	loops, stop := runLoops(t, 2)
	for _, s := range loops {
		for !s.Running() {
			time.Sleep(time.Millisecond)
		}
	}
	// A loop is listed once its thread is set up: wait for both.
	has := func(s *Scheduler) bool {
		for _, l := range RunningLoops() {
			if l == s {
				return true
			}
		}
		return false
	}
	deadline := time.Now().Add(5 * time.Second)
	for !(has(loops[0]) && has(loops[1])) && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if !has(loops[0]) || !has(loops[1]) {
		t.Fatalf("RunningLoops = %v while both loops run", RunningLoops())
	}
	if has(Default()) != Default().Running() {
		t.Errorf("RunningLoops lists the default loop: %v, it runs: %v", has(Default()), Default().Running())
	}
	stop()
	if has(loops[0]) || has(loops[1]) {
		t.Errorf("RunningLoops = %v after both loops ended", RunningLoops())
	}
}
