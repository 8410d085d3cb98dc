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
	// The client reads until what it waits for is on the screen, not for a fixed time:
	// on a loaded machine the loop can be starved for longer than any fixed read, and a
	// 'q' sent before the view's writer flushed the new worm count would end the session
	// with that count unsent. Each wait has a deadline far above the normal fraction of
	// a second; missing it leaves the screen short and the checks below fail.
	border := []byte("+" + string(bytes.Repeat([]byte("="), 40)) + "+")
	countRE := regexp.MustCompile(`worms: (\d+)`)
	moveRE := regexp.MustCompile(`\x1b\[(\d+);\d+H[ 0-9a-z]`)
	maxWorms := func(screen []byte) int {
		max := 0
		for _, m := range countRE.FindAllSubmatch(screen, -1) {
			if n, _ := strconv.Atoi(string(m[1])); n > max {
				max = n
			}
		}
		return max
	}
	// A crawl step draws a cell inside the arena: ESC [ row ; col H and one character.
	arenaMoves := func(screen []byte) int {
		moves := 0
		for _, m := range moveRE.FindAllSubmatch(screen, -1) {
			if row, _ := strconv.Atoi(string(m[1])); row >= 2 && row <= 13 {
				moves++
			}
		}
		return moves
	}
	lastWorms := func(screen []byte) int {
		m := countRE.FindAllSubmatch(screen, -1)
		if len(m) == 0 {
			return -1
		}
		n, _ := strconv.Atoi(string(m[len(m)-1][1]))
		return n
	}
	var screen []byte
	var eof bool
	// The worm count on the screen before 'nn' and the offset the answer starts at: a
	// worm boxed in dies, so the check is relative to the count just before (the two
	// spawns run in one read, with no worm moving in between).
	before, atNN := 0, 0
	go func() {
		defer coro.Default().Exit()
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Error(err)
			return
		}
		defer c.Close()
		// readUntil reads until done says so, the peer closes or d has passed.
		readUntil := func(done func() bool, d time.Duration) {
			c.SetReadDeadline(time.Now().Add(d))
			buf := make([]byte, 1<<16)
			for !done() {
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
		readUntil(func() bool { return bytes.Contains(screen, border) && arenaMoves(screen) >= 10 }, 15*time.Second)
		before, atNN = lastWorms(screen), len(screen)
		c.Write([]byte("nn"))
		readUntil(func() bool { return maxWorms(screen[atNN:]) >= before+2 }, 15*time.Second)
		c.Write([]byte("q"))
		readUntil(func() bool { return false }, 15*time.Second)
	}()
	watchdog := time.AfterFunc(60*time.Second, func() { coro.Default().Exit() })
	coro.EventLoop()
	watchdog.Stop()
	if !bytes.Contains(screen, border) {
		t.Error("no arena border on the screen")
	}
	if before < 0 {
		t.Error("no worm count on the screen before 'nn'")
	} else if max := maxWorms(screen[atNN:]); max < before+2 {
		t.Errorf("status line showed at most %d worms after %d + 'nn'", max, before)
	}
	if moves := arenaMoves(screen); moves < 10 {
		t.Errorf("only %d cells drawn in the arena: the worms are not crawling", moves)
	}
	if !eof {
		t.Error("'q' did not end the session")
	}
}
