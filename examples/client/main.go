// Command client exercises the echo server (examples/echo) the way the tutorial's
// t2.py does: it spawns 100 client coroutines, each connecting, sending a line ten
// times and reading exactly the echo back, printing a dot per client. When the last
// client finishes, the event loop exits.
//
//	go run ./examples/echo &
//	go run ./examples/client
package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"

	coro "github.com/coroprof/coroprof/runtime"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:9000", "echo server address")
	n := flag.Int("n", 100, "number of clients")
	rounds := flag.Int("rounds", 10, "lines each client sends")
	flag.Parse()

	alive, failed := 0, 0
	for i := 0; i < *n; i++ {
		alive++
		coro.SpawnNamed(fmt.Sprintf("client %d", i), func() {
			defer func() {
				alive--
				if alive == 0 {
					fmt.Fprintf(os.Stderr, "\ndone (%d failed).\n", failed)
					coro.Exit()
				}
			}()
			if err := client(*addr, *rounds); err != nil {
				failed++
				fmt.Fprintf(os.Stderr, "\n%v\n", err)
				return
			}
			fmt.Fprint(os.Stderr, ".")
		})
	}
	coro.EventLoop()
	if failed > 0 {
		os.Exit(1)
	}
}

func client(addr string, rounds int) error {
	line := []byte("howdy there\r\n")
	c, err := coro.Dial("tcp", addr)
	if err != nil {
		return err
	}
	defer c.Close()
	for i := 0; i < rounds; i++ {
		if _, err := c.Write(line); err != nil {
			return err
		}
		got, err := c.ReadExactly(len(line))
		if err != nil {
			return fmt.Errorf("reading echo: %w (got %q)", err, got)
		}
		if !bytes.Equal(got, line) {
			return fmt.Errorf("echo mismatch: sent %q, got %q", line, got)
		}
	}
	return nil
}
