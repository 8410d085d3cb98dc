package main

import (
	"bufio"
	"net"
	"strings"
	"testing"
	"time"

	coro "github.com/coroprof/coroprof/runtime"
)

// TestEchoServer drives the example's server from ordinary goroutines with package net
// while the server runs on the event loop: lines come back, "quit" ends the loop.
func TestEchoServer(t *testing.T) {
	ln, err := coro.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	coro.Spawn(func() { serve(ln, 5*time.Second) })
	errc := make(chan error, 1)
	go func() {
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			errc <- err
			return
		}
		defer c.Close()
		r := bufio.NewReader(c)
		for _, line := range []string{"hello\r\n", "again\r\n"} {
			c.Write([]byte(line))
			got, err := r.ReadString('\n')
			if err != nil || got != line {
				errc <- err
				t.Errorf("echo of %q: %q, %v", line, got, err)
				return
			}
		}
		c.Write([]byte("quit\r\n"))
		errc <- nil
	}()
	done := make(chan struct{})
	go func() { // the loop must end on "quit"; if it does not, end it and fail
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			t.Error("event loop did not end on quit")
			coro.Default().Exit()
		}
	}()
	coro.EventLoop()
	close(done)
	if err := <-errc; err != nil && !strings.Contains(err.Error(), "EOF") {
		t.Fatal(err)
	}
}

// TestQuitEndsEveryLoop: with several loops, "quit" received by a session of one loop
// ends every loop, its own last.
func TestQuitEndsEveryLoop(t *testing.T) {
	other := coro.NewScheduler()
	loops = []*coro.Scheduler{coro.Default(), other}
	defer func() { loops = []*coro.Scheduler{coro.Default()} }()
	coro.Spawn(func() { coro.Sleep(time.Hour) }) // the default loop idles until told
	addr := make(chan string, 1)
	other.Spawn(func() {
		ln, err := coro.ListenConfig{ReusePort: true}.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Error(err)
			addr <- ""
			return
		}
		addr <- ln.Addr().String()
		serve(ln, 5*time.Second)
	})
	otherDone := make(chan struct{})
	go func() { other.EventLoop(); close(otherDone) }()
	go func() {
		a := <-addr
		if a == "" {
			exitAll()
			return
		}
		c, err := net.Dial("tcp", a)
		if err != nil {
			t.Error(err)
			exitAll()
			return
		}
		defer c.Close()
		c.Write([]byte("quit\r\n"))
	}()
	watchdog := time.AfterFunc(20*time.Second, func() { t.Error("the loops did not end on quit"); exitAll() })
	coro.EventLoop()
	<-otherDone
	watchdog.Stop()
}
