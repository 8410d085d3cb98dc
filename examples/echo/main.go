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
// With -loops N the server runs N event loops, one OS thread each, all listening on
// the address through SO_REUSEPORT: the kernel spreads the connections, each session
// stays on the loop that accepted it, "quit" ends every loop, and -profile records
// every loop (the report shows them apart and together):
//
//	go run ./examples/echo -loops 2 -profile echo.bin
//
// With -console PATH the server also serves the debug console on a unix socket
// (docs/console.md): list its coroutines, profile it live, end it. The server adds
// its own console command, "echo", with its session and byte counts.
//
//	go run ./examples/echo -console /tmp/echo.sock
//	nc -U /tmp/echo.sock                        # then: help, ps, echo, profile start echo.bin, ...
package main

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coroprof/coroprof/console"
	"github.com/coroprof/coroprof/profiler"
	coro "github.com/coroprof/coroprof/runtime"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:9000", "address to listen on")
	idle := flag.Duration("idle", 60*time.Second, "close a session after this long without input (0: never)")
	profile := flag.String("profile", "", "run the loop under the profiler and write the profile to this file")
	consolePath := flag.String("console", "", "serve the debug console on this unix socket path (off when empty)")
	nloops := flag.Int("loops", 1, "event loops (one OS thread each) sharing the address through SO_REUSEPORT")
	flag.Parse()
	if *nloops < 1 || *nloops > 1024 {
		log.Fatalf("echo: -loops %d: want 1 to 1024", *nloops)
	}

	var lc coro.ListenConfig
	lc.ReusePort = *nloops > 1
	ln, err := lc.Listen("tcp", *addr) // on the default loop, before it runs
	if err != nil {
		log.Fatal(err)
	}
	fmt.Fprintf(os.Stderr, "echo server on %s\n", ln.Addr())
	coro.SpawnNamed("serve", func() { serve(ln, *idle) })
	// The other loops: each listens on the same address from one of its coroutines,
	// so its socket is on its own poller.
	loops = []*coro.Scheduler{coro.Default()}
	for i := 1; i < *nloops; i++ {
		s := coro.NewScheduler()
		shared := ln.Addr().String()
		s.SpawnNamed("serve", func() {
			l, err := lc.Listen("tcp", shared)
			if err != nil {
				log.Print(err)
				exitAll()
				return
			}
			serve(l, *idle)
		})
		loops = append(loops, s)
	}
	run := func() { // every loop, the default one on this thread
		var wg sync.WaitGroup
		for _, s := range loops[1:] {
			wg.Add(1)
			go func() { defer wg.Done(); s.EventLoop() }()
		}
		coro.EventLoop()
		exitAll() // the default loop ended (quit, Ctrl-C): end the others too
		wg.Wait()
	}
	if *consolePath != "" {
		if err := handleConsole(); err != nil {
			log.Fatal(err)
		}
		if err := console.Serve("unix", *consolePath); err != nil {
			log.Fatal(err)
		}
		fmt.Fprintf(os.Stderr, "debug console on %s (nc -U %s, then help)\n", *consolePath, *consolePath)
	}
	if *profile != "" {
		if err := profiler.Go(run, profiler.File(*profile), profiler.Loops(loops[1:]...)); err != nil {
			log.Fatal(err)
		}
		fmt.Fprintln(os.Stderr, "event loop ended; profile written to", *profile)
		return
	}
	run()
	fmt.Fprintln(os.Stderr, "event loop ended")
}

// handleConsole adds the server's own console command, "echo".
func handleConsole() error {
	return console.Handle("echo", "this server's sessions now and bytes echoed so far", func(w io.Writer, args []string) error {
		if len(args) > 0 {
			return fmt.Errorf("takes no argument (got %q)", args[0])
		}
		_, err := fmt.Fprintf(w, "sessions: %d\nbytes echoed: %d\n", stats.sessions.Load(), stats.bytes.Load())
		return err
	})
}

// stats are the counts the console's "echo" command shows; atomic, since the
// sessions run on every loop.
var stats struct {
	sessions atomic.Int64 // open now
	bytes    atomic.Int64 // echoed since the start
}

// loops are the server's event loops, the default one first; set up by main before
// any runs.
var loops = []*coro.Scheduler{coro.Default()}

// exitAll ends every loop of the server (Exit is safe from any loop or goroutine).
// The caller's own loop goes last: Exit from a coroutine of that loop does not return.
func exitAll() {
	own := coro.CurrentScheduler()
	for _, s := range loops {
		if s != own {
			s.Exit()
		}
	}
	if own != nil {
		own.Exit()
	}
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
	stats.sessions.Add(1)
	defer stats.sessions.Add(-1)
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
				exitAll()
				return
			}
			if _, err := conn.Write(buf[:n]); err != nil {
				return
			}
			stats.bytes.Add(int64(n))
		}
		if err != nil {
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				conn.Write([]byte("idle for too long, bye\r\n"))
			}
			return
		}
	}
}
