//go:build linux && !coro_poll

package coro

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// eventfdCount reads an eventfd's counter without changing it, from /proc/self/fdinfo.
// The loop never reads its eventfd (it is edge-triggered), and each post writes 1, so
// the counter is the number of wake-up writes made since the loop started.
func eventfdCount(fd int) (uint64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/self/fdinfo/%d", fd))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "eventfd-count:"); ok {
			return strconv.ParseUint(strings.TrimSpace(v), 16, 64)
		}
	}
	return 0, fmt.Errorf("fd %d: no eventfd-count in fdinfo %q", fd, b)
}

// wakeWrites counts the wake-up writes made to s's loop so far (the eventfd's counter),
// for tests of the inbox's one write per batch on either poller.
func wakeWrites(s *Scheduler) (uint64, error) { return eventfdCount(s.poll.efd) }

// inEpollWait reports whether thread tid of this process is now in epoll_wait (on
// amd64 x/sys calls epoll_wait; elsewhere epoll_pwait).
func inEpollWait(tid int) (bool, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/self/task/%d/syscall", tid))
	if err != nil {
		return false, err
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return false, nil
	}
	nr, err := strconv.Atoi(f[0])
	if err != nil {
		return false, nil // "running"
	}
	return nr == unix.SYS_EPOLL_PWAIT || (runtime.GOARCH == "amd64" && nr == 232), nil
}

// TestInboxOneWritePerBatch checks the inbox's promise that a burst of posts from
// another goroutine costs one eventfd write, not one per post.
func TestInboxOneWritePerBatch(t *testing.T) {
	const n = 1000

	// While the loop thread is busy (a coroutine blocked on a Go channel, so the loop
	// makes no scheduling decision and cannot drain), every post of the burst joins
	// the same batch: exactly one write.
	t.Run("LoopBusy", func(t *testing.T) {
		s, panics := newTestSched(t)
		start, burstDone := make(chan struct{}), make(chan struct{})
		ran := 0
		go func() {
			<-start
			for i := 0; i < n; i++ {
				s.Spawn(func() { ran++ })
			}
			close(burstDone)
		}()
		var before, after uint64
		var err1, err2 error
		s.Spawn(func() {
			efd := s.poll.efd
			before, err1 = eventfdCount(efd)
			close(start)
			<-burstDone
			after, err2 = eventfdCount(efd)
		})
		runLoop(t, s, 20*time.Second)
		if err1 != nil || err2 != nil {
			t.Fatalf("reading the eventfd counter: %v, %v", err1, err2)
		}
		if w := after - before; w != 1 {
			t.Errorf("%d spawns posted while the loop could not drain made %d eventfd writes, want 1", n, w)
		}
		if ran != n || len(*panics) != 0 {
			t.Errorf("%d of %d spawned coroutines ran, %d panics", ran, n, len(*panics))
		}
	})

	// While the loop sleeps in epoll_wait, the first post wakes it; the loop may
	// drain a batch before the burst ends, and a later post then writes again, but a
	// burst must not cost a write per post.
	t.Run("LoopInEpollWait", func(t *testing.T) {
		s, panics := newTestSched(t)
		type loopInfo struct{ tid, efd int }
		info := make(chan loopInfo, 1)
		ran := 0
		var sleeper *Coro
		sleeper = s.Spawn(func() {
			info <- loopInfo{unix.Gettid(), s.poll.efd}
			Sleep(time.Hour) // interrupted by the last spawned coroutine
		})
		type result struct {
			writes uint64
			err    error
		}
		res := make(chan result, 1)
		go func() {
			li := <-info
			deadline := time.Now().Add(10 * time.Second)
			for {
				in, err := inEpollWait(li.tid)
				if err != nil {
					res <- result{err: err}
					s.Spawn(func() { sleeper.Interrupt(nil) })
					return
				}
				if in {
					break
				}
				if time.Now().After(deadline) {
					res <- result{err: errors.New("the loop thread never blocked in epoll_wait")}
					s.Spawn(func() { sleeper.Interrupt(nil) })
					return
				}
				time.Sleep(time.Millisecond)
			}
			before, err := eventfdCount(li.efd)
			if err != nil {
				res <- result{err: err}
				s.Spawn(func() { sleeper.Interrupt(nil) })
				return
			}
			for i := 0; i < n; i++ {
				s.Spawn(func() {
					if ran++; ran == n {
						sleeper.Interrupt(nil)
					}
				})
			}
			// Every write of the burst was made by s.Spawn, on this goroutine.
			after, err := eventfdCount(li.efd)
			res <- result{after - before, err}
		}()
		runLoop(t, s, 20*time.Second)
		r := <-res
		if r.err != nil {
			t.Fatal(r.err)
		}
		t.Logf("%d spawns from a goroutine while the loop was in epoll_wait: %d eventfd writes", n, r.writes)
		if r.writes < 1 || r.writes >= n {
			t.Errorf("%d spawns made %d eventfd writes; want at least 1 (to wake the loop) and fewer than one per spawn", n, r.writes)
		}
		if ran != n || len(*panics) != 0 {
			t.Errorf("%d of %d spawned coroutines ran, %d panics", ran, n, len(*panics))
		}
	})
}

// gapsPanicValue is a panic value with a String method, which the line must use.
