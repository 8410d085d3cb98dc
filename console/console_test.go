package console

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	coro "github.com/coroprof/coroprof/runtime"
)

// newTestSched returns a fresh loop with the latency check off and panics recorded.
func newTestSched(t testing.TB) (*coro.Scheduler, *[]*coro.PanicInfo) {
	s := coro.NewScheduler()
	s.SetLatencyWarning(0)
	var panics []*coro.PanicInfo
	s.SetPanicNotifier(func(p *coro.PanicInfo) { panics = append(panics, p) })
	return s, &panics
}

// runLoop runs s's loop and fails the test if it does not return within d.
func runLoop(t testing.TB, s *coro.Scheduler, d time.Duration) {
	t.Helper()
	done := make(chan struct{})
	timer := time.AfterFunc(d, func() {
		select {
		case <-done:
		default:
			buf := make([]byte, 64<<20)
			n := runtime.Stack(buf, true)
			panic(fmt.Sprintf("event loop did not return within %v\n%s", d, buf[:n]))
		}
	})
	defer timer.Stop()
	s.EventLoop()
	close(done)
}

// The console tests drive Serve like a user: a client on a plain goroutine
// with package net, sending lines and reading reply blocks, while the loop runs on the
// test goroutine.

// consoleClient is one console connection from outside the loop.
type consoleClient struct {
	t    *testing.T
	conn net.Conn
	r    *bufio.Reader
	err  error // first failure; later calls do nothing
}

func dialConsole(t *testing.T, network, addr string) *consoleClient {
	conn, err := net.DialTimeout(network, addr, 10*time.Second)
	cl := &consoleClient{t: t, conn: conn, err: err}
	if err == nil {
		cl.r = bufio.NewReaderSize(conn, 1<<16)
	}
	return cl
}

// send writes raw bytes.
func (cl *consoleClient) send(b []byte) {
	if cl.err != nil {
		return
	}
	cl.conn.SetWriteDeadline(time.Now().Add(20 * time.Second))
	_, cl.err = cl.conn.Write(b)
}

// block reads one reply block: the lines up to the empty line that ends it.
func (cl *consoleClient) block() []string {
	if cl.err != nil {
		return nil
	}
	cl.conn.SetReadDeadline(time.Now().Add(30 * time.Second))
	var lines []string
	for {
		l, err := cl.r.ReadString('\n')
		if err != nil {
			cl.err = fmt.Errorf("reading a reply after %q: %w", lines, err)
			return nil
		}
		l = strings.TrimSuffix(l, "\n")
		if l == "" {
			return lines
		}
		lines = append(lines, l)
	}
}

// cmd sends one line and returns its reply block.
func (cl *consoleClient) cmd(line string) []string {
	cl.send([]byte(line + "\n"))
	return cl.block()
}

func (cl *consoleClient) close() {
	if cl.conn != nil {
		cl.conn.Close()
	}
}

// consoleTest runs a loop on a fresh scheduler with the console on a unix socket in
// a temporary directory, and client(path) on a goroutine. setup runs first, as a
// coroutine of the loop. The loop must end (the client says exit) within a minute.
func consoleTest(t *testing.T, setup func(s *coro.Scheduler), client func(path string) error) *coro.Scheduler {
	t.Helper()
	s, _ := newTestSched(t)
	path := filepath.Join(t.TempDir(), "console.sock")
	clientErr := make(chan error, 1)
	s.SpawnNamed("setup", func() {
		if setup != nil {
			setup(s)
		}
		con, err := serve("unix", path)
		if err != nil {
			clientErr <- fmt.Errorf("Serve: %w", err)
			coro.Exit()
			return
		}
		testConsole = con
		go func() {
			err := client(path)
			if err != nil {
				s.Exit() // the client gave up: end the loop now, not at the watchdog
			}
			clientErr <- err
		}()
	})
	runLoop(t, s, time.Minute)
	if err := <-clientErr; err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(path); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("socket file still there after the loop ended (Lstat: %v)", err)
	}
	return s
}

// testConsole is the console consoleTest started; read it on the loop only.
var testConsole *console

// find returns the first line of block that matches re (a regexp), or "".
func find(block []string, re string) string {
	rx := regexp.MustCompile(re)
	for _, l := range block {
		if rx.MatchString(l) {
			return l
		}
	}
	return ""
}

func TestConsoleCommands(t *testing.T) {
	var sleeperID uint64
	var listOK atomic.Bool
	s := consoleTest(t, func(s *coro.Scheduler) {
		s.SetLatencyWarning(time.Hour) // counts slices without warning on a slow machine
		for i := 0; i < 3; i++ {
			c := coro.SpawnNamed(fmt.Sprintf("console-sleeper-%d", i), func() { coro.Sleep(time.Hour) })
			if i == 0 {
				sleeperID = c.ID()
			}
		}
	}, func(path string) error {
		cl := dialConsole(t, "unix", path)
		defer cl.close()

		help := cl.cmd("help")
		for _, c := range []string{"help", "ps", "stack ID", "stats", "profile start [-f] FILE | stop", "latency", "exit", "quit"} {
			if find(help, `^  `+regexp.QuoteMeta(c)+` `) == "" {
				return fmt.Errorf("help does not list %q: %q", c, help)
			}
		}

		ps := cl.cmd("ps")
		if len(ps) < 2 || ps[0] != "5 coroutines: 1 running, 0 runnable, 4 waiting" {
			return fmt.Errorf("ps summary: %q", ps)
		}
		row := find(ps, `^\s*`+strconv.FormatUint(sleeperID, 10)+`\s+console-sleeper-0\s+waiting\s+sleep\s+console_test\.go:\d+ `)
		if row == "" {
			return fmt.Errorf("ps does not list the sleeper %d as waiting in sleep at its call site: %q", sleeperID, ps)
		}
		if find(ps, `coro\.console\s+waiting\s+read\s+console\.go:\d+ console\.\(\*console\)\.serve$`) == "" {
			return fmt.Errorf("ps does not show the console waiting in its accept: %q", ps)
		}
		if find(ps, `coro\.console session 1\s+running`) == "" {
			return fmt.Errorf("ps does not show this session running: %q", ps)
		}
		listOK.Store(true)

		st := cl.cmd("stack " + strconv.FormatUint(sleeperID, 10))
		want := []string{
			fmt.Sprintf(`^coroutine %d \(console-sleeper-0\): waiting \(sleep\)$`, sleeperID),
			`^spawned at: console_test\.go:\d+ console\.TestConsoleCommands`,
			`^where: console_test\.go:\d+ console\.TestConsoleCommands`,
			`^github\.com/.*/runtime\.Sleep\(`, // the real goroutine stack, parked in Sleep
		}
		for _, re := range want {
			if find(st, re) == "" {
				return fmt.Errorf("stack: no line matching %s in %q", re, st)
			}
		}

		stats := cl.cmd("stats")
		for _, re := range []string{
			`^loop: \d+$`,
			`^coroutines: 5 \(1 running, 0 runnable, 4 waiting\)$`,
			`^waiting: sleep 3, read 1$`,
			`^run queue: 0$`,
			`^timers: 3$`,
			`^fds: 2 `, // the listener and this session
			`^slices: [1-9]\d*$`,
			`^longest slice: `,
			`^latency warning: 1h0m0s$`,
			`^console sessions: 1$`,
		} {
			if find(stats, re) == "" {
				return fmt.Errorf("stats: no line matching %s in %q", re, stats)
			}
		}
		if bye := cl.cmd("exit"); len(bye) != 1 || !strings.HasPrefix(bye[0], "exiting") {
			return fmt.Errorf("exit: %q", bye)
		}
		return cl.err
	})
	if !listOK.Load() {
		t.Error("ps checks did not run")
	}
	if live := s.Coroutines(); len(live) != 0 {
		t.Errorf("%d coroutines live after exit", len(live))
	}
}

// TestConsoleGarbage feeds a session every kind of bad line: each gets exactly one
// error line, and the session goes on answering.
func TestConsoleGarbage(t *testing.T) {
	consoleTest(t, nil, func(path string) error {
		cl := dialConsole(t, "unix", path)
		defer cl.close()
		cases := []struct {
			in   string
			want string // regexp for the one error line
		}{
			{"\x00\x01\x02binary\xff\xfe\n", `^error: line 1 is not text: control byte 0x00 at byte 1$`},
			{"ps \xc3\x28\n", `^error: line 2 is not text: invalid UTF-8 at byte 4$`},
			{strings.Repeat("A", 3*maxLine) + "\n", `^error: line 3 is longer than 4096 bytes \(dropped\)$`},
			{"\n", `^error: empty line`},
			{"   \t \r\n", `^error: empty line`},
			{"frobnicate --now\n", `^error: unknown command "frobnicate": type help`},
			{"PS\n", `^error: unknown command "PS"`},
			{strings.Repeat("x", 100) + "\n", `^error: unknown command "x{40}\.\.\."`},
			{"stack\n", `^error: usage: stack ID`},
			{"stack abc\n", `^error: stack: "abc" is not a coroutine ID`},
			{"stack -1\n", `^error: stack: "-1" is not a coroutine ID`},
			{"stack 1 2\n", `^error: usage: stack ID`},
			{"stack 99999999\n", `^error: stack: no live coroutine with ID 99999999 on this loop$`},
			{"ps all\n", `^error: ps takes no argument \(got "all"\)$`},
			{"stats now\n", `^error: stats takes no argument`},
			{"latency banana\n", `^error: latency: "banana" is not a duration`},
			{"latency -5ms\n", `^error: latency: "-5ms" is not a duration`},
			{"latency 0.000001ns\n", `^error: latency: "0.000001ns" is below 1µs: give 1µs or more, or 0 or off`},
			{"latency 999ns\n", `^error: latency: "999ns" is below 1µs`},
			{"profile\n", `^error: usage: profile start \[-f\] FILE \| profile stop$`},
			{"profile begin x\n", `^error: usage: profile start \[-f\] FILE \| profile stop$`},
			{"profile start\n", `^error: usage: profile start \[-f\] FILE$`},
			{"profile start -f\n", `^error: usage: profile start \[-f\] FILE$`},
			{"profile stop now\n", `^error: usage: profile stop`},
			{"profile stop\n", `^error: profile stop: profiler: no profiling session is running$`},
			{"exit please\n", `^error: exit takes no argument`},
		}
		for _, c := range cases {
			cl.send([]byte(c.in))
			b := cl.block()
			if cl.err != nil {
				return fmt.Errorf("after %q: %w", clip(c.in, 50), cl.err)
			}
			if len(b) != 1 || !regexp.MustCompile(c.want).MatchString(b[0]) {
				return fmt.Errorf("input %q: reply %q, want one line matching %s", clip(c.in, 50), b, c.want)
			}
		}
		// A line split across writes, and two lines in one write, are still lines.
		cl.send([]byte("pin"))
		time.Sleep(10 * time.Millisecond)
		cl.send([]byte("g\nquit\n"))
		if b := cl.block(); len(b) != 1 || b[0] != `error: unknown command "ping": type help for the commands` {
			return fmt.Errorf("split line: %q (%v)", b, cl.err)
		}
		if b := cl.block(); len(b) != 1 || b[0] != "bye" {
			return fmt.Errorf("quit: %q (%v)", b, cl.err)
		}
		if _, err := cl.r.ReadByte(); err != io.EOF {
			return fmt.Errorf("after quit the session should close: read %v", err)
		}
		// The console still serves: a new session, a last line without newline at EOF.
		cl2 := dialConsole(t, "unix", path)
		defer cl2.close()
		cl2.send([]byte("latency"))
		cl2.conn.(*net.UnixConn).CloseWrite()
		if b := cl2.block(); len(b) != 1 || b[0] != "latency warning threshold: off" {
			return fmt.Errorf("last line without newline: %q (%v)", b, cl2.err)
		}
		cl3 := dialConsole(t, "unix", path)
		defer cl3.close()
		cl3.cmd("exit")
		return cl3.err
	})
}

// TestConsoleAbandonedSession: a client asks for big listings and never reads them.
// Its session parks in Write; the loop goes on (a ticker keeps ticking), and the
// session is closed when its write deadline passes.
func TestConsoleAbandonedSession(t *testing.T) {
	defer func(d time.Duration) { writeTimeout = d }(writeTimeout)
	writeTimeout = 500 * time.Millisecond
	var ticks atomic.Int64
	var blockedTicks, blockedSeen atomic.Int64
	var cl *consoleClient
	consoleTest(t, func(s *coro.Scheduler) {
		// 4000 coroutines with long names make a ps reply of about 500 KB, more than
		// a unix socket buffers.
		for i := 0; i < 4000; i++ {
			coro.SpawnNamed(fmt.Sprintf("idle-coroutine-with-a-rather-long-name-%06d", i), func() { coro.Sleep(time.Hour) })
		}
		coro.SpawnNamed("ticker", func() {
			for {
				coro.Sleep(time.Millisecond)
				ticks.Add(1)
			}
		})
		coro.SpawnNamed("watcher", func() {
			// While the session is parked in a write, count the ticker's ticks.
			sawSession := false
			for {
				coro.Sleep(2 * time.Millisecond)
				var sess *coro.Coro
				for _, ss := range testConsole.sessions {
					sess = ss.c
				}
				var state coro.State
				var reason coro.WaitReason
				if sess != nil {
					state, reason = sess.State()
				}
				switch {
				case sess != nil && state == coro.StateWaiting && reason == coro.WaitWrite:
					sawSession = true
					if blockedSeen.Add(1) == 1 {
						blockedTicks.Store(-ticks.Load())
					}
				case sess == nil && sawSession:
					blockedTicks.Add(ticks.Load()) // ticks while it was blocked
					coro.Exit()
					return
				}
			}
		})
	}, func(path string) error {
		// Ask for listings, never read them, and keep the connection open (closed
		// when the test ends). The watcher ends the loop once the session is gone.
		cl = dialConsole(t, "unix", path)
		cl.send([]byte(strings.Repeat("ps\n", 20)))
		return cl.err
	})
	cl.close()
	if blockedSeen.Load() == 0 {
		t.Fatal("the session was never seen parked in a write")
	}
	if n := blockedTicks.Load(); n < 3 {
		t.Errorf("the ticker ticked %d times while the session was stuck: the loop was held up", n)
	}
}

// TestConsoleReplyCap: a listing longer than the cap is cut with a note, not sent whole.
func TestConsoleReplyCap(t *testing.T) {
	defer func(n int) { maxReply = n }(maxReply)
	maxReply = 4000
	consoleTest(t, func(s *coro.Scheduler) {
		for i := 0; i < 200; i++ {
			coro.SpawnNamed(fmt.Sprintf("capped-%d", i), func() { coro.Sleep(time.Hour) })
		}
	}, func(path string) error {
		cl := dialConsole(t, "unix", path)
		defer cl.close()
		ps := cl.cmd("ps")
		size := 0
		for _, l := range ps {
			size += len(l) + 1
		}
		last := ""
		if len(ps) > 0 {
			last = ps[len(ps)-1]
		}
		m := regexp.MustCompile(`^\.\.\. (\d+) more lines not shown \(a reply is capped at 4000 bytes\)$`).FindStringSubmatch(last)
		if m == nil {
			return fmt.Errorf("no truncation note at the end of ps: %q", last)
		}
		shown := len(ps) - 1
		dropped, _ := strconv.Atoi(m[1])
		if total := 2 + 200 + 2; shown+dropped != total { // summary, header, rows
			return fmt.Errorf("%d lines shown + %d dropped, want %d", shown, dropped, total)
		}
		if size-len(last)-1 > 4000 {
			return fmt.Errorf("reply body %d bytes over the 4000 cap", size)
		}
		cl.cmd("exit")
		return cl.err
	})
}

// TestConsoleLatency: the latency command changes what the loop reports.
func TestConsoleLatency(t *testing.T) {
	var burns, warns atomic.Int64
	var warnedName atomic.Value
	consoleTest(t, func(s *coro.Scheduler) {
		s.SetLatencyNotifier(func(c *coro.Coro, d time.Duration) {
			warns.Add(1)
			warnedName.Store(c.Name())
		})
		coro.SpawnNamed("burner", func() {
			for {
				for start := time.Now(); time.Since(start) < 20*time.Millisecond; {
				}
				burns.Add(1)
				coro.Sleep(time.Millisecond)
			}
		})
	}, func(path string) error {
		cl := dialConsole(t, "unix", path)
		defer cl.close()
		waitBurns := func(n int64) {
			for b := burns.Load(); burns.Load() < b+n; {
				time.Sleep(5 * time.Millisecond)
			}
		}
		if b := cl.cmd("latency 1h"); len(b) != 1 || b[0] != "latency warning threshold: 1h0m0s (was off)" {
			return fmt.Errorf("latency 1h: %q (%v)", b, cl.err)
		}
		before := warns.Load()
		waitBurns(3)
		if n := warns.Load() - before; n != 0 {
			return fmt.Errorf("%d latency warnings under a 1h threshold", n)
		}
		if b := cl.cmd("latency 5ms"); len(b) != 1 || b[0] != "latency warning threshold: 5ms (was 1h0m0s)" {
			return fmt.Errorf("latency 5ms: %q (%v)", b, cl.err)
		}
		waitBurns(3)
		if warns.Load() == before {
			return errors.New("no latency warning for 20ms slices under a 5ms threshold")
		}
		if name, _ := warnedName.Load().(string); name != "burner" {
			return fmt.Errorf("warning names %q, want burner", name)
		}
		if b := cl.cmd("stats"); find(b, `^longest slice: \d+(\.\d+)?ms by coroutine \d+ \(burner\), to within `) == "" {
			return fmt.Errorf("stats does not name the burner's slice as the longest: %q", b)
		}
		if b := cl.cmd("latency"); len(b) != 1 || b[0] != "latency warning threshold: 5ms" {
			return fmt.Errorf("latency: %q", b)
		}
		if b := cl.cmd("latency off"); len(b) != 1 || b[0] != "latency warning threshold: off (was 5ms)" {
			return fmt.Errorf("latency off: %q", b)
		}
		after := warns.Load()
		waitBurns(3)
		if n := warns.Load() - after; n != 0 {
			return fmt.Errorf("%d latency warnings with the check off", n)
		}
		cl.cmd("exit")
		return cl.err
	})
}

// TestConsoleSocket: the socket file's mode, stale and live sockets at the path, and
// the addresses refused.
func TestConsoleSocket(t *testing.T) {
	dir := t.TempDir()
	old := syscall.Umask(0) // the mode must not depend on the umask
	defer syscall.Umask(old)

	path := filepath.Join(dir, "c.sock")
	// A stale socket: bound, then its listener closed without removing the file.
	stale, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	stale.(*net.UnixListener).SetUnlinkOnClose(false)
	stale.Close()

	regular := filepath.Join(dir, "regular")
	if err := os.WriteFile(regular, []byte("keep me"), 0o644); err != nil {
		t.Fatal(err)
	}
	live := filepath.Join(dir, "live.sock")
	other, err := net.Listen("unix", live)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()

	s, _ := newTestSched(t)
	var errs []string
	s.Spawn(func() {
		defer coro.Exit()
		fail := func(network, addr, want string) {
			err := Serve(network, addr)
			if err == nil || !strings.Contains(err.Error(), want) {
				errs = append(errs, fmt.Sprintf("Serve(%s, %q) = %v, want an error containing %q", network, addr, err, want))
			}
		}
		fail("unix", regular, "exists and is not a socket")
		fail("unix", live, "a process is listening on this socket already")
		fail("unix", "@abstract", "abstract socket addresses have no permissions")
		fail("unix", "", "path is empty")
		fail("tcp", "0.0.0.0:0", "loopback only")
		fail("tcp", ":0", "loopback only")
		fail("tcp", "example.com:80", "loopback only")
		fail("tcp", "127.0.0.1", "missing port")
		fail("udp", "127.0.0.1:0", `network "udp"`)

		if err := Serve("unix", path); err != nil {
			errs = append(errs, fmt.Sprintf("over a stale socket: %v", err))
			return
		}
		fi, err := os.Lstat(path)
		switch {
		case err != nil:
			errs = append(errs, err.Error())
		case fi.Mode().Type() != fs.ModeSocket || fi.Mode().Perm() != 0o600:
			errs = append(errs, fmt.Sprintf("socket file mode %v, want a socket with 0600", fi.Mode()))
		}
		// A second console on the same path is refused: someone listens there.
		if err := Serve("unix", path); err == nil || !strings.Contains(err.Error(), "listening") {
			errs = append(errs, fmt.Sprintf("second console on the same path: %v", err))
		}
		// Loopback TCP works, with a client that speaks the same protocol.
		con, err := serve("tcp", "localhost:0")
		if err != nil {
			errs = append(errs, fmt.Sprintf("loopback TCP: %v", err))
			return
		}
		ln := con.ln
		if a := ln.Addr().(*net.TCPAddr); !a.IP.IsLoopback() {
			errs = append(errs, fmt.Sprintf("TCP console on %v", a))
		}
		c, err := coro.Dial("tcp", ln.Addr().String())
		if err != nil {
			errs = append(errs, err.Error())
			return
		}
		defer c.Close()
		c.Write([]byte("latency 7ms\n"))
		want := "latency warning threshold: 7ms (was off)\n\n"
		got, err := c.ReadExactly(len(want))
		if string(got) != want {
			errs = append(errs, fmt.Sprintf("TCP session: %q, %v; want %q", got, err, want))
		}
	})
	runLoop(t, s, time.Minute)
	for _, e := range errs {
		t.Error(e)
	}
	if b, err := os.ReadFile(regular); err != nil || string(b) != "keep me" {
		t.Errorf("the regular file was touched: %q, %v", b, err)
	}
	if _, err := os.Lstat(live); err != nil {
		t.Errorf("the live socket was removed: %v", err)
	}
	if _, err := os.Lstat(path); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the console socket file is still there after the loop ended: %v", err)
	}
}

// TestConsoleSessionCap: past maxSessions, the session idle the longest is
// closed to make room.
func TestConsoleSessionCap(t *testing.T) {
	consoleTest(t, nil, func(path string) error {
		var cls []*consoleClient
		defer func() {
			for _, cl := range cls {
				cl.close()
			}
		}()
		for i := 0; i < maxSessions; i++ {
			cl := dialConsole(t, "unix", path)
			cls = append(cls, cl)
			// one command each, so every session is known to the console, in order
			if b := cl.cmd("latency"); len(b) != 1 || cl.err != nil {
				return fmt.Errorf("session %d: %q %v", i, b, cl.err)
			}
		}
		cls[0].cmd("latency") // the first is now the most recently active
		extra := dialConsole(t, "unix", path)
		cls = append(cls, extra)
		if b := extra.cmd("stats"); find(b, fmt.Sprintf(`^console sessions: %d$`, maxSessions)) == "" {
			return fmt.Errorf("stats with one session evicted: %q (%v)", b, extra.err)
		}
		// The second one was idle the longest: its connection is closed.
		cls[1].conn.SetReadDeadline(time.Now().Add(10 * time.Second))
		if _, err := cls[1].r.ReadByte(); err != io.EOF {
			return fmt.Errorf("the idlest session was not closed: read %v", err)
		}
		if b := cls[0].cmd("latency"); len(b) != 1 {
			return fmt.Errorf("the active session was closed: %q %v", b, cls[0].err)
		}
		extra.cmd("exit")
		return extra.err
	})
}

// BenchmarkConsolePs: one op is a "ps" round trip through the console socket, with n
// sleeping coroutines; coroutines is the baseline, the same listing made by
// coro.Coroutines from a coroutine (no socket, no reply).
func BenchmarkConsolePs(b *testing.B) {
	for _, n := range []int{100, 1000, 10000} {
		b.Run(fmt.Sprintf("console/n=%d", n), func(b *testing.B) {
			s, _ := newTestSched(b)
			path := filepath.Join(b.TempDir(), "c.sock")
			var maxGap time.Duration // the loop's longest stall, seen by a ticker
			var cpu0, cpu1 int64     // process CPU time around the timed ops
			s.Spawn(func() {
				for i := 0; i < n; i++ {
					coro.SpawnNamed(fmt.Sprintf("bench-sleeper-%d", i), func() { coro.Sleep(time.Hour) })
				}
				coro.SpawnNamed("ticker", func() {
					for last := time.Now(); ; {
						coro.Sleep(time.Millisecond)
						now := time.Now()
						maxGap = max(maxGap, now.Sub(last))
						last = now
					}
				})
				if err := Serve("unix", path); err != nil {
					b.Error(err)
					coro.Exit()
					return
				}
				go func() {
					defer s.Exit()
					conn, err := net.Dial("unix", path)
					if err != nil {
						b.Error(err)
						return
					}
					defer conn.Close()
					r := bufio.NewReaderSize(conn, 1<<20)
					b.ResetTimer()
					cpu0 = processCPU()
					for i := 0; i < b.N; i++ {
						conn.Write([]byte("ps\n"))
						for {
							l, err := r.ReadSlice('\n')
							if err != nil {
								b.Error(err)
								return
							}
							if len(l) == 1 {
								break
							}
						}
					}
					b.StopTimer()
					cpu1 = processCPU()
				}()
			})
			s.EventLoop()
			b.ReportMetric(float64(maxGap)/1e6, "max-loop-gap-ms")
			b.ReportMetric(float64(cpu1-cpu0)/float64(b.N), "cpu-ns/op")
		})
		b.Run(fmt.Sprintf("coroutines/n=%d", n), func(b *testing.B) {
			s, _ := newTestSched(b)
			s.Spawn(func() {
				for i := 0; i < n; i++ {
					coro.SpawnNamed(fmt.Sprintf("bench-sleeper-%d", i), func() { coro.Sleep(time.Hour) })
				}
				coro.Yield()
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					_ = coro.Coroutines()
				}
				b.StopTimer()
				coro.Exit()
			})
			s.EventLoop()
		})
	}
}

// TestConsoleHostileName: a coroutine name with newlines, control bytes and a
// right-to-left override cannot break a reply block (an empty line would end it
// early) or act on the terminal: each shows as its escape.
func TestConsoleHostileName(t *testing.T) {
	var id uint64
	consoleTest(t, func(s *coro.Scheduler) {
		id = coro.SpawnNamed("evil\nname\n\n\x1b[2Jx\u202eexe.txt\a", func() { coro.Sleep(time.Hour) }).ID()
	}, func(path string) error {
		cl := dialConsole(t, "unix", path)
		defer cl.close()
		ps := cl.cmd("ps")
		if find(ps, `^\s*\d+\s+evil\\nname\\n\\n\\x1b\[2Jx\\u202eexe\.txt\\x07\s+waiting\s+sleep\s`) == "" {
			return fmt.Errorf("ps row of the oddly named coroutine: %q", ps)
		}
		st := cl.cmd(fmt.Sprintf("stack %d", id))
		if len(st) == 0 || st[0] != fmt.Sprintf(`coroutine %d (evil\nname\n\n\x1b[2Jx\u202eexe.txt\x07): waiting (sleep)`, id) {
			return fmt.Errorf("stack header: %q", st)
		}
		// The block ended where it should: the next command's reply is its own.
		if b := cl.cmd("latency"); len(b) != 1 || b[0] != "latency warning threshold: off" {
			return fmt.Errorf("reply after the listing: %q", b)
		}
		cl.cmd("exit")
		return cl.err
	})
}

// FuzzConsoleLines sends arbitrary input to a console session: every line gets exactly
// one reply block and nothing panics. (Lines that would end the loop, the session or
// start the profiler are skipped.) Run the seeds with go test; fuzz with
// go test -fuzz FuzzConsoleLines ./console/.
func FuzzConsoleLines(f *testing.F) {
	for _, seed := range []string{
		"help", "ps", "stats", "stack 1", "stack", "stack x y", "latency 5ms", "latency",
		"\x00\xff", "\r", "", "  ", "ps\nps\n", strings.Repeat("a", maxLine+10),
		strings.Repeat("b", maxLine), "\xc3\x28", "stack 18446744073709551616",
	} {
		f.Add(seed)
	}
	s, _ := newTestSched(f)
	var panics atomic.Int64
	s.SetPanicNotifier(func(p *coro.PanicInfo) { panics.Add(1); f.Log(p) })
	path := filepath.Join(f.TempDir(), "fuzz.sock")
	ready := make(chan error, 1)
	s.SpawnNamed("setup", func() { ready <- Serve("unix", path) })
	loopDone := make(chan struct{})
	go func() { s.EventLoop(); close(loopDone) }()
	if err := <-ready; err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { s.Exit(); <-loopDone })

	f.Fuzz(func(t *testing.T, in string) {
		lines := strings.Split(strings.TrimSuffix(in, "\n"), "\n")
		for _, l := range lines {
			name, _, _ := strings.Cut(strings.TrimSpace(strings.TrimSuffix(l, "\r")), " ")
			if name == "exit" || name == "quit" || name == "profile" {
				t.Skip("would end the loop or the session, or write a file")
			}
		}
		cl := dialConsole(t, "unix", path)
		defer cl.close()
		cl.send([]byte(strings.Join(lines, "\n") + "\nhelp\n"))
		for i, l := range lines {
			b := cl.block()
			if cl.err != nil {
				t.Fatalf("reply to line %d (%q): %v", i, clip(l, 60), cl.err)
			}
			if len(b) == 0 {
				t.Fatalf("empty reply block for line %d (%q)", i, clip(l, 60))
			}
		}
		if b := cl.block(); len(b) == 0 || !strings.HasPrefix(b[0], "commands") {
			t.Fatalf("the blocks are out of step: help answered %q (%v)", b, cl.err)
		}
		if n := panics.Load(); n > 0 {
			t.Fatalf("%d panics in the console", n)
		}
	})
}

// TestConsoleExitWithStuckSession: one session is stuck writing to a client that does
// not read (with no deadline in sight); another session's ps shows it waiting in a
// write, and its exit ends the loop at once, unwinding the stuck one.
func TestConsoleExitWithStuckSession(t *testing.T) {
	defer func(d time.Duration) { writeTimeout = d }(writeTimeout)
	writeTimeout = time.Hour
	var stuck *consoleClient
	consoleTest(t, func(s *coro.Scheduler) {
		for i := 0; i < 4000; i++ {
			coro.SpawnNamed(fmt.Sprintf("idle-coroutine-with-a-rather-long-name-%06d", i), func() { coro.Sleep(time.Hour) })
		}
	}, func(path string) error {
		stuck = dialConsole(t, "unix", path)
		stuck.send([]byte("ps\nps\nps\n"))
		cl := dialConsole(t, "unix", path)
		defer cl.close()
		for i := 0; ; i++ {
			ps := cl.cmd("ps")
			if cl.err != nil {
				return cl.err
			}
			if find(ps, `coro\.console session 1\s+waiting\s+write\s+`) != "" {
				break
			}
			if i == 100 {
				return fmt.Errorf("the stuck session never showed as waiting in a write: %q", ps[:3])
			}
			time.Sleep(10 * time.Millisecond)
		}
		cl.cmd("exit")
		return cl.err
	})
	stuck.close() // consoleTest's runLoop fails the test if the loop did not end
}

// TestServeFromGoroutine: Serve from a plain goroutine while the loop runs cannot
// make the loop's socket from off its thread; it fails at once with an error naming
// the rule, and leaves no socket file.
func TestServeFromGoroutine(t *testing.T) {
	s := coro.Default()
	path := filepath.Join(t.TempDir(), "c.sock")
	ready := make(chan struct{})
	s.SpawnNamed("keeper", func() {
		close(ready)
		coro.Sleep(time.Hour)
	})
	errc := make(chan error, 1)
	go func() {
		<-ready
		errc <- Serve("unix", path)
		s.Exit()
	}()
	runLoop(t, s, time.Minute)
	err := <-errc
	if err == nil || !strings.Contains(err.Error(), "create it from a coroutine") || strings.Contains(err.Error(), "\n") {
		t.Errorf("Serve from a goroutine while the loop runs: %v", err)
	}
	if _, err := os.Lstat(path); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("socket file left behind: %v", err)
	}
}

// processCPU is the process's CPU time in ns (CLOCK_PROCESS_CPUTIME_ID): on a loaded
// machine wall time swings with every preemption, the CPU time much less.
func processCPU() int64 {
	var ts unix.Timespec
	_ = unix.ClockGettime(unix.CLOCK_PROCESS_CPUTIME_ID, &ts)
	return ts.Nano()
}
