package main

import (
	"bufio"
	"fmt"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coroprof/coroprof/console"
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

var (
	handleOnce sync.Once
	handleErr  error
)

// TestConsoleCommand: the server's "echo" console command, over the console's unix
// socket, counts a live session and the bytes it echoed.
func TestConsoleCommand(t *testing.T) {
	handleOnce.Do(func() { handleErr = handleConsole() }) // once per process (-count)
	if handleErr != nil {
		t.Fatal(handleErr)
	}
	sock := filepath.Join(t.TempDir(), "echo.sock")
	ln, err := coro.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	coro.Spawn(func() { serve(ln, 5*time.Second) })
	if err := console.Serve("unix", sock); err != nil {
		t.Fatal(err)
	}
	before := stats.bytes.Load() // earlier tests of this package echoed too
	errc := make(chan error, 1)
	go func() {
		defer coro.Default().Exit()
		errc <- func() error {
			c, err := net.Dial("tcp", ln.Addr().String())
			if err != nil {
				return err
			}
			defer c.Close()
			r := bufio.NewReader(c)
			c.Write([]byte("hello\n"))
			if got, err := r.ReadString('\n'); got != "hello\n" {
				return fmt.Errorf("echo: %q, %v", got, err)
			}
			cc, err := net.Dial("unix", sock)
			if err != nil {
				return err
			}
			defer cc.Close()
			cc.SetDeadline(time.Now().Add(20 * time.Second))
			cr := bufio.NewReader(cc)
			cc.Write([]byte("echo\n"))
			var reply []string
			for {
				l, err := cr.ReadString('\n')
				if err != nil {
					return fmt.Errorf("console reply %q: %v", reply, err)
				}
				if l == "\n" {
					break
				}
				reply = append(reply, strings.TrimSuffix(l, "\n"))
			}
			want := []string{"sessions: 1", fmt.Sprintf("bytes echoed: %d", before+6)}
			if strings.Join(reply, "|") != strings.Join(want, "|") {
				return fmt.Errorf("console echo: %q, want %q", reply, want)
			}
			return nil
		}()
	}()
	coro.EventLoop()
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
}
