// Command echo is the tutorial's echo server: one coroutine per connection, each
// sending back whatever it reads.
//
//	go run ./examples/echo                 # listens on 127.0.0.1:9000
//	telnet localhost 9000                  # type lines; "quit" ends the server
//	go run ./examples/client               # 100 clients at once
//
// A session that stays silent for -idle is closed (the tutorial's exercise with
// with_timeout, done here with a read deadline). Ctrl-C ends the event loop cleanly;
// with -profile FILE the loop runs under the profiler, as in the tutorial's
// coro.profiler.go(coro.event_loop), and Ctrl-C writes the profile:
//
//	go run ./examples/echo -profile echo.bin    # load it with examples/client, then Ctrl-C
//	go run ./cmd/print-profile -o echo.html echo.bin
//
// With -console PATH the server also serves the debug console on a unix socket
// (docs/console.md): list its coroutines, profile it live, end it.
//
//	go run ./examples/echo -console /tmp/echo.sock
//	nc -U /tmp/echo.sock                        # then: help, ps, profile start echo.bin, ...
package main

import (
	"bytes"
	"flag"
	"fmt"
	"log"
	"net"
	"os"
	"time"

	"github.com/coroprof/coroprof/profiler"
	coro "github.com/coroprof/coroprof/runtime"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:9000", "address to listen on")
	idle := flag.Duration("idle", 60*time.Second, "close a session after this long without input (0: never)")
	profile := flag.String("profile", "", "run the loop under the profiler and write the profile to this file")
	console := flag.String("console", "", "serve the debug console on this unix socket path (off when empty)")
	flag.Parse()

	ln, err := coro.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Fprintf(os.Stderr, "echo server on %s\n", ln.Addr())
	coro.SpawnNamed("serve", func() { serve(ln, *idle) })
	if *console != "" {
		if err := coro.ServeConsole("unix", *console); err != nil {
			log.Fatal(err)
		}
		fmt.Fprintf(os.Stderr, "debug console on %s (nc -U %s, then help)\n", *console, *console)
	}
	if *profile != "" {
		if err := profiler.Go(coro.EventLoop, profiler.File(*profile)); err != nil {
			log.Fatal(err)
		}
		fmt.Fprintln(os.Stderr, "event loop ended; profile written to", *profile)
		return
	}
	coro.EventLoop()
	fmt.Fprintln(os.Stderr, "event loop ended")
}

func serve(ln *coro.Listener, idle time.Duration) {
	defer ln.Close()
	for {
		conn, err := ln.AcceptConn()
		if err != nil {
			log.Print(err)
			return
		}
		coro.SpawnNamed("session "+conn.RemoteAddr().String(), func() { session(conn, idle) })
	}
}

func session(conn *coro.Conn, idle time.Duration) {
	defer conn.Close()
	buf := make([]byte, 1000)
	for {
		if idle > 0 {
			conn.SetReadDeadline(time.Now().Add(idle))
		}
		n, err := conn.Read(buf)
		if n > 0 {
			if bytes.Equal(bytes.TrimSpace(buf[:n]), []byte("quit")) {
				fmt.Fprintln(os.Stderr, "quit received from", conn.RemoteAddr())
				coro.Exit()
				return
			}
			if _, err := conn.Write(buf[:n]); err != nil {
				return
			}
		}
		if err != nil {
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				conn.Write([]byte("idle for too long, bye\r\n"))
			}
			return
		}
	}
}
