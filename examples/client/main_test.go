package main

import (
	"io"
	"net"
	"testing"
	"time"

	coro "github.com/coroprof/coroprof/runtime"
)

// TestClient runs the example's client coroutines against an echo server written
// with package net on ordinary goroutines, and against one that answers wrongly.
func TestClient(t *testing.T) {
	good := netEcho(t, func(c net.Conn) { io.Copy(c, c) })
	bad := netEcho(t, func(c net.Conn) {
		buf := make([]byte, 13)
		io.ReadFull(c, buf)
		c.Write([]byte("howdy THERE\r\n"))
	})
	var errs [4]error
	for i := range errs {
		addr := good
		if i == 3 {
			addr = bad
		}
		coro.Spawn(func() { errs[i] = client(addr, 10) })
	}
	watchdog := time.AfterFunc(20*time.Second, func() { coro.Default().Exit() })
	coro.EventLoop()
	watchdog.Stop()
	for i := 0; i < 3; i++ {
		if errs[i] != nil {
			t.Errorf("client %d: %v", i, errs[i])
		}
	}
	if errs[3] == nil {
		t.Error("a wrong echo went unnoticed")
	}
}

func netEcho(t *testing.T, session func(net.Conn)) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { defer c.Close(); session(c) }()
		}
	}()
	return ln.Addr().String()
}
