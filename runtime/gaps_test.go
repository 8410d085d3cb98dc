package coro

import (
	"fmt"
	"io"
	"os"
	"regexp"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// Tests for promises made in the docs and comments that no other test checked: socket
// flags, SIGTERM, the default panic line; the inbox's one wake-up write per batch is in
// gaps_eventfd_test.go (epoll) and gaps_pipe_test.go (poll(2)).

// checkSocketFlags fails unless fd is non-blocking (the poller's EAGAIN protocol
// depends on it) and close-on-exec (a child must not inherit the loop's sockets).
func checkSocketFlags(t *testing.T, what string, fd int) {
	t.Helper()
	fl, err := unix.FcntlInt(uintptr(fd), unix.F_GETFL, 0)
	if err != nil {
		t.Errorf("%s: F_GETFL on fd %d: %v", what, fd, err)
	} else if fl&unix.O_NONBLOCK == 0 {
		t.Errorf("%s: fd %d is blocking (flags %#o)", what, fd, fl)
	}
	fdfl, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0)
	if err != nil {
		t.Errorf("%s: F_GETFD on fd %d: %v", what, fd, err)
	} else if fdfl&unix.FD_CLOEXEC == 0 {
		t.Errorf("%s: fd %d is not close-on-exec", what, fd)
	}
}

// TestSocketFlags checks listening, dialled and accepted sockets, TCP and unix: the
// accepted ones come from accept4, which does not inherit the listener's flags, so
// each kind needs its own check.
func TestSocketFlags(t *testing.T) {
	dir := t.TempDir()
	netLoop(t, 20*time.Second, func() {
		for _, na := range [][2]string{{"tcp", "127.0.0.1:0"}, {"unix", dir + "/s"}} {
			network := na[0]
			ln, err := Listen(network, na[1])
			if err != nil {
				t.Errorf("Listen(%s): %v", network, err)
				continue
			}
			var acc *Conn
			var accErr error
			a := Spawn(func() { acc, accErr = ln.AcceptConn() })
			cl, err := Dial(network, ln.Addr().String())
			if err != nil {
				t.Errorf("Dial(%s): %v", network, err)
				ln.Close()
				continue
			}
			a.Join()
			if accErr != nil {
				t.Errorf("accept (%s): %v", network, accErr)
				cl.Close()
				ln.Close()
				continue
			}
			checkSocketFlags(t, network+" listener", ln.fd.fd)
			checkSocketFlags(t, network+" dialled conn", cl.fd.fd)
			checkSocketFlags(t, network+" accepted conn", acc.fd.fd)
			// The descriptors are live sockets of this pair, not stale numbers.
			cl.Write([]byte("k"))
			if b, err := acc.ReadExactly(1); err != nil || string(b) != "k" {
				t.Errorf("%s pair: read %q %v", network, b, err)
			}
			acc.Close()
			cl.Close()
			ln.Close()
		}
	})
}

// TestSIGTERMEndsLoop is TestSignalEndsLoop for the other default signal: SIGTERM (what
// kill, systemd and container runtimes send) ends the loop cleanly, unwinding the
// coroutines left, so deferred calls run and EventLoop returns.
func TestSIGTERMEndsLoop(t *testing.T) {
	sigs.mu.Lock()
	fn := sigs.handlers[syscall.SIGTERM]
	sigs.mu.Unlock()
	if fn == nil {
		// Sending it now would kill the test binary instead of failing the test.
		t.Fatal("no SIGTERM handler installed: the default (Exit) is missing")
	}
	unwound := false
	after := false
	start := time.Now()
	netLoop(t, 20*time.Second, func() {
		Spawn(func() {
			defer func() { unwound = true }()
			Sleep(time.Hour)
		})
		Sleep(10 * time.Millisecond)
		syscall.Kill(os.Getpid(), syscall.SIGTERM)
		Sleep(time.Hour)
		after = true // unwinding does not return from Sleep into the code after it
	})
	if !unwound {
		t.Error("the sleeping coroutine was not unwound when SIGTERM ended the loop")
	}
	if after {
		t.Error("the coroutine sending SIGTERM went on past its Sleep: the loop did not end")
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("loop took %v to end after SIGTERM", d)
	}
}

type gapsPanicValue struct{ what string }

func (v gapsPanicValue) String() string { return "gaps value: " + v.what }

// TestDefaultPanicNotifierLine captures what the default notifier prints to stderr
// and checks that it is one line holding the time, the coroutine's id and name, the
// panic value and a compact traceback (user frames only, innermost first).
func TestDefaultPanicNotifierLine(t *testing.T) {
	s := NewScheduler()
	s.SetLatencyWarning(0)
	s.SetPanicNotifier(nil)

	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var panicLine, callLine int
	// The helper is a closure of the test, not a function of its own: a package-level
	// helper of package coro would be taken for the scheduler's own code and skipped.
	panicDeep := func() {
		_, _, l, _ := runtime.Caller(0)
		panicLine = l + 2 // the panic is two lines below the Caller
		panic(gapsPanicValue{"deep down"})
	}
	c := s.SpawnNamed("gaps panicker", func() {
		_, _, l, _ := runtime.Caller(0)
		callLine = l + 2
		panicDeep()
	})
	before := time.Now()
	old := os.Stderr
	os.Stderr = w // the default notifier writes to os.Stderr on the loop thread: this goroutine
	func() {
		defer func() { os.Stderr = old }()
		runLoop(t, s, 10*time.Second)
	}()
	after := time.Now()
	w.Close()
	out, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	text := string(out)
	if strings.Count(text, "\n") != 1 || !strings.HasSuffix(text, "\n") {
		t.Fatalf("default notifier printed %q, want exactly one line", text)
	}
	re := regexp.MustCompile(`^(\S+) coro: coroutine (\d+) \(([^)]*)\) panicked: (.*) \[(.*)\]\n$`)
	m := re.FindStringSubmatch(text)
	if m == nil {
		t.Fatalf("line %q does not match %v", text, re)
	}
	ts, id, name, value, trace := m[1], m[2], m[3], m[4], m[5]

	// The time: RFC 3339 with sub-second digits, between the loop's start and end.
	if !regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+(Z|[+-]\d\d:\d\d)$`).MatchString(ts) {
		t.Errorf("time %q is not RFC 3339 with fractional seconds", ts)
	}
	when, err := time.Parse(time.RFC3339Nano, ts)
	if err != nil {
		t.Errorf("time %q: %v", ts, err)
	} else if when.Before(before.Truncate(time.Second)) || when.After(after) {
		t.Errorf("time %v is outside the loop's run [%v, %v]", when, before, after)
	}

	if id != fmt.Sprint(c.ID()) {
		t.Errorf("coroutine id %s, want %d", id, c.ID())
	}
	if name != "gaps panicker" {
		t.Errorf("coroutine name %q, want %q", name, "gaps panicker")
	}
	if value != "gaps value: deep down" {
		t.Errorf("panic value %q, want the value's String()", value)
	}

	// The traceback: the panic site first, then the coroutine's function; no frames of
	// the Go runtime or of the scheduler, and not more than 8 frames.
	frames := strings.Split(trace, " <- ")
	if len(frames) < 2 || len(frames) > 9 {
		t.Fatalf("traceback %q has %d frames, want 2 to 8 (and maybe \"...\")", trace, len(frames))
	}
	// Function names are the last element of the import path, here "runtime".
	want0 := fmt.Sprintf("gaps_test.go:%d runtime.TestDefaultPanicNotifierLine.func", panicLine)
	want1 := fmt.Sprintf("gaps_test.go:%d runtime.TestDefaultPanicNotifierLine.func", callLine)
	if !strings.HasPrefix(frames[0], want0) {
		t.Errorf("first frame %q, want %q...", frames[0], want0)
	}
	if !strings.HasPrefix(frames[1], want1) {
		t.Errorf("second frame %q, want %q...", frames[1], want1)
	}
	for _, f := range frames {
		// Every user frame is in this file: the worker, iter.Pull and the Go
		// runtime below the coroutine's function are left out.
		if !strings.HasPrefix(f, "gaps_test.go:") || strings.Contains(f, "/") {
			t.Errorf("traceback frame %q is not compact user code (in %q)", f, trace)
		}
	}
}
