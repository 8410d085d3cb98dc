// Command demo is the built-in demonstration behind `make demo`: it runs a small
// line-protocol server on loopback under the profiler, drives it with client
// coroutines in the same event loop, and writes the profile file that print-profile
// turns into report.html.
//
//	go run ./examples/demo -o coro_profile.bin
//	go run ./cmd/print-profile -o report.html coro_profile.bin
//
// The workload is chosen so that every part of the report has something to show:
//
//   - sessions parse requests and compute replies inside profiler.Region marks
//     (exact regions: calls, self and cumulative ticks, the region call graph);
//   - "sort" requests burn CPU in proportion to their size (CPU samples, flame graph);
//   - a compactor allocates and touches fresh memory (minor page faults);
//   - a journal writes to a file through coro.Offload (waits by reason "offload");
//   - a ticker sleeps (waits by reason "sleep") and the clients read (reason "read");
//   - one "careless" coroutine calls time.Sleep on the loop thread once, blocking
//     every other coroutine: the latency warning names it and the report's longest
//     slices diagnose it as blocked in a system call.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/coroprof/coroprof/profiler"
	coro "github.com/coroprof/coroprof/runtime"
)

func main() {
	out := flag.String("o", "coro_profile.bin", "profile file to write")
	clients := flag.Int("clients", 50, "client coroutines")
	requests := flag.Int("requests", 200, "requests per client")
	rate := flag.Int("rate", 100, "CPU sampling rate in Hz (0: off)")
	flag.Parse()
	log.SetFlags(0)
	log.SetPrefix("demo: ")

	ln, err := coro.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	addr := ln.Addr().String()

	coro.SpawnNamed("server", func() { serve(ln) })
	coro.SpawnNamed("compactor", compactor)
	coro.SpawnNamed("ticker", ticker)
	coro.SpawnNamed("careless", func() {
		coro.Sleep(300 * time.Millisecond)
		time.Sleep(250 * time.Millisecond) // blocks the whole loop: the report shows it
	})
	journal := &coro.Fifo[string]{}
	coro.SpawnNamed("journal", func() { writeJournal(journal) })
	coro.SpawnNamed("load", func() {
		var done coro.InvertedSemaphore
		for i := 0; i < *clients; i++ {
			done.Acquire(1)
			coro.SpawnNamed(fmt.Sprintf("client-%02d", i), func() {
				defer done.Release(1)
				client(addr, i, *requests, journal)
			})
		}
		done.WaitZero()
		journal.Push("") // tells the journal to finish
		ln.Close()
		coro.Exit()
	})

	start := time.Now()
	if err := profiler.Go(coro.EventLoop, profiler.File(*out), profiler.SampleRate(*rate)); err != nil {
		log.Fatal(err)
	}
	fmt.Fprintf(os.Stderr, "demo: %d clients x %d requests in %v; profile written to %s\n",
		*clients, *requests, time.Since(start).Round(time.Millisecond), *out)
}

// serve accepts connections and runs one session coroutine per connection.
func serve(ln *coro.Listener) {
	for {
		conn, err := ln.AcceptConn()
		if err != nil {
			return // closed by the load coroutine when the clients are done
		}
		coro.SpawnNamed("session", func() { session(conn) })
	}
}

// session answers one request per line: "sort N" sorts N pseudo-random numbers and
// replies with the median, "echo TEXT" replies TEXT.
func session(conn *coro.Conn) {
	defer conn.Close()
	r := bufio.NewReader(conn)
	w := bufio.NewWriter(conn)
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		cmd, arg := parse(line)
		reply := compute(cmd, arg)
		end := profiler.Region("reply")
		w.WriteString(reply)
		w.WriteByte('\n')
		err = w.Flush()
		end()
		if err != nil {
			return
		}
	}
}

func parse(line string) (string, string) {
	defer profiler.Region("parse")()
	cmd, arg, _ := strings.Cut(strings.TrimSpace(line), " ")
	return cmd, arg
}

func compute(cmd, arg string) string {
	defer profiler.Region("compute")()
	switch cmd {
	case "sort":
		n, err := strconv.Atoi(arg)
		if err != nil || n < 0 || n > 1<<20 {
			return "error: bad size"
		}
		return strconv.Itoa(sortMedian(n))
	case "echo":
		return arg
	}
	return "error: unknown command"
}

// sortMedian burns CPU in proportion to n log n.
func sortMedian(n int) int {
	defer profiler.Region("sort")()
	xs := make([]int, n)
	x := uint32(n)*2654435761 + 1
	for i := range xs {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		xs[i] = int(x % 100000)
	}
	slices.Sort(xs)
	if n == 0 {
		return 0
	}
	return xs[n/2]
}

// client sends requests, a mix of cheap echoes and costly sorts, and logs every
// hundredth reply to the journal.
func client(addr string, id, requests int, journal *coro.Fifo[string]) {
	conn, err := coro.Dial("tcp", addr)
	if err != nil {
		log.Print(err)
		return
	}
	defer conn.Close()
	r := bufio.NewReader(conn)
	for i := 0; i < requests; i++ {
		req := "echo hello from " + strconv.Itoa(id) + "\n"
		if i%4 == 0 {
			req = "sort " + strconv.Itoa(2000+(id%5)*3000) + "\n"
		}
		if _, err := conn.Write([]byte(req)); err != nil {
			log.Print(err)
			return
		}
		reply, err := r.ReadString('\n')
		if err != nil {
			log.Print(err)
			return
		}
		if i%100 == 0 {
			journal.Push(fmt.Sprintf("client %d request %d: %s", id, i, reply))
		}
	}
}

// compactor allocates and touches fresh memory now and then: minor page faults.
func compactor() {
	for i := 0; i < 40; i++ {
		if coro.Sleep(20*time.Millisecond) != nil {
			return
		}
		end := profiler.Region("compact")
		buf := make([]byte, 4<<20)
		for j := 0; j < len(buf); j += 4096 {
			buf[j] = byte(j)
		}
		end()
	}
}

// ticker wakes up every few milliseconds and does almost nothing.
func ticker() {
	for i := 0; i < 200; i++ {
		if coro.Sleep(5*time.Millisecond) != nil {
			return
		}
	}
}

// writeJournal appends lines to a file through Offload, so the disk write never
// stalls the loop. An empty line ends it.
func writeJournal(lines *coro.Fifo[string]) {
	path := filepath.Join(os.TempDir(), fmt.Sprintf("coro-demo-journal-%d.log", os.Getpid()))
	defer os.Remove(path)
	f, err := os.Create(path)
	if err != nil {
		log.Print(err)
		return
	}
	defer f.Close()
	for {
		line, err := lines.Pop()
		if err != nil || line == "" {
			return
		}
		if err := coro.Offload(func() error {
			if _, err := f.WriteString(line); err != nil {
				return err
			}
			return f.Sync()
		}); err != nil {
			log.Print(err)
			return
		}
	}
}
