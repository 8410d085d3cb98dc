package main

import (
	"bytes"
	"io"
	"net"
	"regexp"
	"strconv"
	"testing"
	"time"

	coro "github.com/coroprof/coroprof/runtime"
)

// TestWorms watches the arena through a telnet-like client: the screen is drawn, worms
// move, 'n' adds a worm, 'q' ends the session.
func TestWorms(t *testing.T) {
	ln, err := coro.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	a := newArena(40, 12)
	coro.Spawn(func() {
		for i := 0; i < 3; i++ {
			a.spawnWorm()
		}
	})
	coro.Spawn(func() { serve(ln, a) })
	var screen []byte
	var eof bool
	go func() {
		defer coro.Default().Exit()
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Error(err)
			return
		}
		defer c.Close()
		read := func(d time.Duration) {
			c.SetReadDeadline(time.Now().Add(d))
			buf := make([]byte, 1<<16)
			for {
				n, err := c.Read(buf)
				screen = append(screen, buf[:n]...)
				if err == io.EOF {
					eof = true
				}
				if err != nil {
					return
				}
			}
		}
		read(300 * time.Millisecond)
		c.Write([]byte("nn"))
		read(300 * time.Millisecond)
		c.Write([]byte("q"))
		read(2 * time.Second)
	}()
	watchdog := time.AfterFunc(20*time.Second, func() { coro.Default().Exit() })
	coro.EventLoop()
	watchdog.Stop()
	if !bytes.Contains(screen, []byte("+"+string(bytes.Repeat([]byte("="), 40))+"+")) {
		t.Error("no arena border on the screen")
	}
	counts := regexp.MustCompile(`worms: (\d+)`).FindAllSubmatch(screen, -1)
	max := 0
	for _, m := range counts {
		n, _ := strconv.Atoi(string(m[1]))
		if n > max {
			max = n
		}
	}
	if max < 5 {
		t.Errorf("status line showed at most %d worms after 3 + 'nn'", max)
	}
	// A crawl step draws a cell inside the arena: ESC [ row ; col H and one character.
	moves := 0
	for _, m := range regexp.MustCompile(`\x1b\[(\d+);\d+H[ 0-9a-z]`).FindAllSubmatch(screen, -1) {
		if row, _ := strconv.Atoi(string(m[1])); row >= 2 && row <= 13 {
			moves++
		}
	}
	if moves < 10 {
		t.Errorf("only %d cells drawn in the arena: the worms are not crawling", moves)
	}
	if !eof {
		t.Error("'q' did not end the session")
	}
}
