package main

import (
	"bufio"
	"io"
	"net"
	"testing"
	"time"

	coro "github.com/coroprof/coroprof/runtime"
)

// TestProxy passes a conversation through the spy proxy to an upper-casing server
// (package net, goroutines) and checks both directions and the half-close.
func TestProxy(t *testing.T) {
	up, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer up.Close()
	go func() {
		c, err := up.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		b, _ := io.ReadAll(c) // until the proxy passes on the client's half-close
		c.Write([]byte("got " + string(b)))
	}()
	ln, err := coro.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	coro.Spawn(func() { serve(ln, up.Addr().String()) })
	var reply string
	go func() {
		defer coro.Default().Exit()
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Error(err)
			return
		}
		defer c.Close()
		c.Write([]byte("hello proxy"))
		c.(*net.TCPConn).CloseWrite()
		reply, _ = bufio.NewReader(c).ReadString(0)
	}()
	watchdog := time.AfterFunc(20*time.Second, func() { coro.Default().Exit() })
	coro.EventLoop()
	watchdog.Stop()
	if reply != "got hello proxy" {
		t.Fatalf("through the proxy: %q", reply)
	}
}
