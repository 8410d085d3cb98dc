// Command worms is the tutorial's worms demo: every worm is a coroutine crawling about
// a shared arena, and every telnet session gets its own live view of it.
//
//	go run ./examples/worms
//	telnet 127.0.0.1 9001     # a terminal with ANSI escapes, at least 80x36
//
// Keys in a session: [q]uit [r]edraw [n]ew worm [c]ull (kill half) [l]engthen [h]offa
// (a worm vanishes). Each session has a reader coroutine for keys and a writer
// coroutine that flushes the session's pending screen updates once per frame: worms
// never write to sockets themselves, so a slow viewer never slows a worm, and no two
// coroutines ever wait to write the same socket.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"log"
	"math/rand/v2"
	"os"
	"time"

	coro "github.com/coroprof/coroprof/runtime"
)

type pos struct{ x, y int }

var dirs = [4]pos{{1, 0}, {0, 1}, {-1, 0}, {0, -1}}

type arena struct {
	w, h  int
	cells [][]byte
	worms []*worm
	views map[*view]bool
	next  int // name of the next worm
}

func newArena(w, h int) *arena {
	a := &arena{w: w, h: h, views: map[*view]bool{}}
	a.cells = make([][]byte, h)
	for y := range a.cells {
		a.cells[y] = bytes.Repeat([]byte{' '}, w)
	}
	return a
}

func (a *arena) free(p pos) bool {
	return p.x >= 0 && p.y >= 0 && p.x < a.w && p.y < a.h && a.cells[p.y][p.x] == ' '
}

// set changes one cell and tells every view.
func (a *arena) set(p pos, ch byte) {
	a.cells[p.y][p.x] = ch
	for v := range a.views {
		v.draw(p, ch)
	}
}

func (a *arena) status() {
	line := fmt.Sprintf("worms: %-4d viewers: %-4d   keys: [q]uit [r]edraw [n]ew [c]ull [l]engthen [h]offa", len(a.worms), len(a.views))
	for v := range a.views {
		fmt.Fprintf(&v.pending, "\x1b[%d;1H%s\x1b[K", a.h+3, line)
	}
}

type worm struct {
	a      *arena
	name   byte
	body   []pos // head last
	dir    int
	length int
	speed  time.Duration
	exit   bool
}

func (a *arena) spawnWorm() {
	for tries := 0; tries < 100; tries++ {
		p := pos{rand.IntN(a.w), rand.IntN(a.h)}
		if !a.free(p) {
			continue
		}
		names := "0123456789abcdefghijklmnopqrstuvwxyz"
		w := &worm{a: a, name: names[a.next%len(names)], dir: rand.IntN(4), length: 10 + rand.IntN(10),
			speed: time.Duration(20+rand.IntN(200)) * time.Millisecond}
		a.next++
		w.body = []pos{p}
		a.set(p, w.name)
		a.worms = append(a.worms, w)
		coro.SpawnNamed(fmt.Sprintf("worm %c", w.name), w.run)
		a.status()
		return
	}
}

// run is the worm's coroutine: sleep, maybe turn, crawl; die when boxed in.
func (w *worm) run() {
	defer w.die()
	for !w.exit {
		if coro.Sleep(w.speed) != nil {
			return
		}
		if w.exit {
			return
		}
		if rand.IntN(20) == 10 && !w.turn() {
			return
		}
		next := w.ahead()
		for !w.a.free(next) {
			if !w.turn() {
				return
			}
			next = w.ahead()
		}
		w.move(next)
	}
}

func (w *worm) ahead() pos {
	h := w.body[len(w.body)-1]
	d := dirs[w.dir]
	return pos{h.x + d.x, h.y + d.y}
}

// turn picks a new free direction; false if there is none.
func (w *worm) turn() bool {
	start := rand.IntN(4)
	for i := 0; i < 4; i++ {
		w.dir = (start + i) % 4
		if w.a.free(w.ahead()) {
			return true
		}
	}
	return false
}

func (w *worm) move(p pos) {
	w.body = append(w.body, p)
	w.a.set(p, w.name)
	for len(w.body) > w.length {
		w.a.set(w.body[0], ' ')
		w.body = w.body[1:]
	}
}

func (w *worm) die() {
	for _, p := range w.body {
		w.a.set(p, ' ')
	}
	w.body = nil
	for i, o := range w.a.worms {
		if o == w {
			w.a.worms = append(w.a.worms[:i], w.a.worms[i+1:]...)
			break
		}
	}
	w.a.status()
}

// view is one telnet session's screen.
type view struct {
	a       *arena
	conn    *coro.Conn
	pending bytes.Buffer // escape sequences not yet sent
	closed  bool
}

func (v *view) draw(p pos, ch byte) {
	fmt.Fprintf(&v.pending, "\x1b[%d;%dH%c", p.y+2, p.x+2, ch)
}

func (v *view) redraw() {
	a := v.a
	v.pending.Reset()
	v.pending.WriteString("\x1b[2J\x1b[H+" + string(bytes.Repeat([]byte{'='}, a.w)) + "+\r\n")
	for _, row := range a.cells {
		v.pending.WriteString("|")
		v.pending.Write(row)
		v.pending.WriteString("|\r\n")
	}
	v.pending.WriteString("+" + string(bytes.Repeat([]byte{'='}, a.w)) + "+\r\n")
	a.status()
}

// writer flushes pending output once per frame.
func (v *view) writer() {
	for !v.closed {
		if v.pending.Len() > 0 {
			out := bytes.Clone(v.pending.Bytes())
			v.pending.Reset()
			if _, err := v.conn.Write(out); err != nil {
				v.close()
				return
			}
		}
		coro.Sleep(40 * time.Millisecond)
	}
}

func (v *view) close() {
	if v.closed {
		return
	}
	v.closed = true
	delete(v.a.views, v)
	v.conn.Close()
	v.a.status()
}

// Telnet negotiation: the server will echo (so the client stops echoing) and
// suppress go-ahead, which puts the client in character-at-a-time mode.
var telnetCharMode = []byte{255, 251, 1, 255, 251, 3}

func (v *view) reader() {
	defer v.close()
	a := v.a
	buf := make([]byte, 64)
	skip := 0 // bytes left of a telnet command
	for {
		n, err := v.conn.Read(buf)
		for _, b := range buf[:n] {
			switch {
			case skip > 0:
				skip--
				continue
			case b == 255: // IAC: a 3-byte command follows (or IAC IAC)
				skip = 2
				continue
			}
			switch b {
			case 'q':
				return
			case 'r':
				v.redraw()
			case 'n':
				a.spawnWorm()
			case 'c':
				for i, w := range a.worms {
					if i%2 == 0 {
						w.exit = true
					}
				}
			case 'l':
				for _, w := range a.worms {
					w.length += 5
				}
			case 'h':
				if len(a.worms) > 0 {
					a.worms[rand.IntN(len(a.worms))].exit = true
				}
			}
		}
		if err != nil {
			return
		}
	}
}

func main() {
	addr := flag.String("addr", "127.0.0.1:9001", "address to listen on")
	n := flag.Int("worms", 10, "worms at start")
	w := flag.Int("width", 72, "arena width")
	h := flag.Int("height", 30, "arena height")
	flag.Parse()
	if *w < 4 || *h < 4 || *w > 500 || *h > 500 {
		fmt.Fprintln(os.Stderr, "worms: width and height must be in 4..500")
		os.Exit(2)
	}
	ln, err := coro.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	a := newArena(*w, *h)
	fmt.Fprintf(os.Stderr, "worms arena on %s: telnet %s\n", ln.Addr(), ln.Addr())
	coro.SpawnNamed("arena", func() {
		for i := 0; i < *n; i++ {
			a.spawnWorm()
		}
	})
	coro.SpawnNamed("serve", func() { serve(ln, a) })
	coro.EventLoop()
}

// serve gives each telnet session a view of the arena: a writer coroutine that sends
// the screen updates and a reader coroutine for the keys.
func serve(ln *coro.Listener, a *arena) {
	for {
		c, err := ln.AcceptConn()
		if err != nil {
			log.Print(err)
			return
		}
		v := &view{a: a, conn: c}
		a.views[v] = true
		v.redraw()
		v.pending.Write(telnetCharMode)
		coro.SpawnNamed("view writer "+c.RemoteAddr().String(), v.writer)
		coro.SpawnNamed("view reader "+c.RemoteAddr().String(), v.reader)
	}
}
