package coro

import (
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// socketpair returns a connected pair of non-blocking stream sockets.
func socketpair(t *testing.T) (int, int) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM, 0) // no SOCK_NONBLOCK on darwin
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(fds[0]); unix.Close(fds[1]) })
	for _, fd := range fds {
		if err := unix.SetNonblock(fd, true); err != nil {
			t.Fatal(err)
		}
	}
	return fds[0], fds[1]
}

// readAll reads from fd through pd until n bytes arrived, parking on EAGAIN.
func readAll(pd *pollDesc, n int) ([]byte, error) {
	var got []byte
	buf := make([]byte, 4096)
	for len(got) < n {
		k, err := unix.Read(pd.fd, buf)
		if err == unix.EAGAIN {
			if err := pd.wait(modeRead); err != nil {
				return got, err
			}
			continue
		}
		if err != nil {
			return got, err
		}
		if k == 0 {
			return got, errors.New("EOF")
		}
		got = append(got, buf[:k]...)
	}
	return got, nil
}

func TestPollReadWrite(t *testing.T) {
	s, _ := newTestSched(t)
	a, b := socketpair(t)
	const total = 4 << 20 // several times the socket buffer: the writer parks too
	var got []byte
	var rerr, werr error
	var sawWriteWait bool
	s.Spawn(func() {
		pa, err := s.pollOpen(a)
		if err != nil {
			t.Error(err)
			return
		}
		pb, err := s.pollOpen(b)
		if err != nil {
			t.Error(err)
			return
		}
		r := Spawn(func() { got, rerr = readAll(pa, total) })
		w := Spawn(func() {
			data := make([]byte, total)
			for i := range data {
				data[i] = byte(i * 7)
			}
			for off := 0; off < total; {
				k, err := unix.Write(pb.fd, data[off:])
				if err == unix.EAGAIN {
					sawWriteWait = true
					if werr = pb.wait(modeWrite); werr != nil {
						return
					}
					continue
				}
				if err != nil {
					werr = err
					return
				}
				off += k
			}
		})
		r.Join()
		w.Join()
		pa.close()
		pb.close()
	})
	runLoop(t, s, 30*time.Second)
	if rerr != nil || werr != nil || len(got) != total {
		t.Fatalf("read %d bytes (%v), write %v", len(got), rerr, werr)
	}
	for i := range got {
		if got[i] != byte(i*7) {
			t.Fatalf("byte %d corrupted", i)
		}
	}
	if !sawWriteWait {
		t.Error("the writer never had to wait: the test did not exercise EPOLLOUT")
	}
	if s.poll.nfds != 0 {
		t.Errorf("%d descriptors still registered", s.poll.nfds)
	}
}

func TestPollCloseWakesWaiters(t *testing.T) {
	s, _ := newTestSched(t)
	a, _ := socketpair(t)
	var rerr, second error
	s.Spawn(func() {
		pd, err := s.pollOpen(a)
		if err != nil {
			t.Error(err)
			return
		}
		r := Spawn(func() { rerr = pd.wait(modeRead) })
		Yield() // r parks
		if pd.waiter(modeRead) != r {
			t.Error("reader not registered")
		}
		second = pd.wait(modeRead) // a second reader on the same descriptor
		pd.close()
		r.Join()
		if err := pd.wait(modeRead); !errors.Is(err, net.ErrClosed) {
			t.Errorf("wait after close: %v", err)
		}
	})
	runLoop(t, s, 10*time.Second)
	if !errors.Is(rerr, net.ErrClosed) {
		t.Errorf("parked reader got %v, want net.ErrClosed", rerr)
	}
	if second != errPollBusy {
		t.Errorf("second reader got %v", second)
	}
}

func TestPollWaitTimeout(t *testing.T) {
	s, _ := newTestSched(t)
	a, b := socketpair(t)
	var err error
	var got []byte
	s.Spawn(func() {
		pd, _ := s.pollOpen(a)
		err = WithTimeout(5*time.Millisecond, func() error { return pd.wait(modeRead) })
		if pd.waiter(modeRead) != nil {
			t.Error("timed-out reader left in its slot")
		}
		// an edge that arrives while nobody waits is kept for the next wait
		unix.Write(b, []byte("hi"))
		Sleep(5 * time.Millisecond)
		got, _ = readAll(pd, 2)
		pd.close()
	})
	runLoop(t, s, 10*time.Second)
	if err != ErrTimeout || string(got) != "hi" {
		t.Errorf("err %v got %q", err, got)
	}
}

func TestPollHangup(t *testing.T) {
	s, _ := newTestSched(t)
	a, b := socketpair(t)
	var err error
	var n int
	s.Spawn(func() {
		pd, _ := s.pollOpen(a)
		Spawn(func() { Sleep(2 * time.Millisecond); unix.Shutdown(b, unix.SHUT_RDWR) })
		err = pd.wait(modeRead)
		n, _ = unix.Read(a, make([]byte, 10)) // EOF is what the retried call reports
		pd.close()
	})
	runLoop(t, s, 10*time.Second)
	if err != nil || n != 0 {
		t.Errorf("wait %v, read %d", err, n)
	}
}

func TestPollHooksOrder(t *testing.T) {
	// A reader woken by epoll: its WaitEnd is scheduler work, after AfterPoll.
	s, _ := newTestSched(t)
	r := newRecorder(t)
	s.setHooks(r)
	a, b := socketpair(t)
	var got []byte
	s.Spawn(func() {
		pd, _ := s.pollOpen(a)
		go func() { // from outside: the loop is blocked in epoll_wait when it lands
			time.Sleep(5 * time.Millisecond)
			unix.Write(b, []byte("x"))
		}()
		got, _ = readAll(pd, 1)
		pd.close()
	})
	runLoop(t, s, 10*time.Second)
	s.setHooks(nil)
	for _, v := range r.violations {
		t.Error(v)
	}
	if string(got) != "x" {
		t.Errorf("got %q", got)
	}
	joined := fmt.Sprint(r.events)
	if !strings.Contains(joined, "/read") || !strings.Contains(joined, "beforepoll afterpoll waitend") {
		t.Errorf("no read wait recorded: %s", joined)
	}
}
