package coro_test

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	coro "github.com/coroprof/coroprof/runtime"
)

// An echo server and a client on one event loop: a coroutine per connection, plain
// blocking-style code, bufio on the Conn.
func ExampleListen() {
	ln, err := coro.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Println(err)
		return
	}
	coro.SpawnNamed("server", func() {
		for {
			c, err := ln.AcceptConn()
			if err != nil {
				return // the listener was closed
			}
			coro.SpawnNamed("session", func() {
				defer c.Close()
				io.Copy(c, c) // Read and Write park this coroutine only
			})
		}
	})
	coro.SpawnNamed("client", func() {
		defer ln.Close()
		c, err := coro.Dial("tcp", ln.Addr().String())
		if err != nil {
			fmt.Println(err)
			return
		}
		defer c.Close()
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		fmt.Fprintf(c, "howdy there\n")
		line, err := bufio.NewReader(c).ReadString('\n')
		fmt.Printf("%q %v\n", line, err)
		c.CloseWrite()
	})
	coro.EventLoop() // returns when every coroutine has finished
	// Output: "howdy there\n" <nil>
}

// ReadExactly returns what did arrive when the stream ends early.
func ExampleConn_ReadExactly() {
	dir, _ := os.MkdirTemp("", "coro-example")
	defer os.RemoveAll(dir)
	ln, err := coro.Listen("unix", filepath.Join(dir, "s.sock"))
	if err != nil {
		fmt.Println(err)
		return
	}
	coro.Spawn(func() {
		c, _ := ln.AcceptConn()
		c.Write([]byte("hello"))
		c.Close()
		ln.Close()
	})
	coro.Spawn(func() {
		c, err := coro.Dial("unix", ln.Addr().String())
		if err != nil {
			fmt.Println(err)
			return
		}
		defer c.Close()
		b, err := c.ReadExactly(10)
		fmt.Printf("%q %v\n", b, err)
	})
	coro.EventLoop()
	// Output: "hello" unexpected EOF
}
