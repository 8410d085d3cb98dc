//go:build coro_poll || darwin || dragonfly || freebsd || netbsd || openbsd

package coro

import (
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// wakeWrites counts the wake-up bytes waiting in s's self-pipe (FIONREAD, which does not
// consume them): the writes made since the loop last drained it, for tests of the
// inbox's one write per batch on either poller.
func wakeWrites(s *Scheduler) (uint64, error) {
	n, err := unix.IoctlGetInt(int(s.poll.fds[0].Fd), fionread)
	return uint64(n), err
}

// TestInboxOneWritePerBatch is gaps_eventfd_test.go's test for the portable poller: a
// burst of posts from another goroutine while the loop cannot drain costs one byte in
// the self-pipe (counted with FIONREAD, which does not consume it), not one per post.
func TestInboxOneWritePerBatch(t *testing.T) {
	const n = 1000
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
	var before, after int
	var err1, err2 error
	s.Spawn(func() {
		// A coroutine blocked on a Go channel: the loop makes no scheduling decision,
		// so it cannot drain, and every post of the burst joins one batch.
		rd := int(s.poll.fds[0].Fd)
		before, err1 = unix.IoctlGetInt(rd, fionread)
		close(start)
		<-burstDone
		after, err2 = unix.IoctlGetInt(rd, fionread)
	})
	runLoop(t, s, 20*time.Second)
	if err1 != nil || err2 != nil {
		t.Fatalf("FIONREAD on the wake-up pipe: %v, %v", err1, err2)
	}
	if w := after - before; w != 1 {
		t.Errorf("%d spawns posted while the loop could not drain wrote %d bytes to the wake-up pipe, want 1", n, w)
	}
	if ran != n || len(*panics) != 0 {
		t.Errorf("%d of %d spawned coroutines ran, %d panics", ran, n, len(*panics))
	}
}
