package coro

import (
	"errors"
	"math"
	"time"
)

// ErrTimeout is returned by WithTimeout when its deadline passed, and (wrapped in a
// value that is errors.Is ErrTimeout) by the blocking call that the deadline
// interrupted.
var ErrTimeout = errors.New("coro: timeout")

// Sleep parks the running coroutine for d. It returns nil, or the error that
// interrupted it (an Interrupt, or the deadline of an enclosing WithTimeout).
func Sleep(d time.Duration) error {
	c := current()
	s := c.s
	t := &c.sleep
	t.fire = fireSleep
	t.c = c
	s.addTimer(t, deadline(d))
	err := c.park(WaitSleep)
	s.delTimer(t) // still scheduled if the wait ended otherwise (interrupt, stray ready)
	return err
}

func fireSleep(t *timer) { t.c.ready() }

// deadline returns the nanotime d from now, saturating instead of overflowing for
// durations like math.MaxInt64 ("forever").
func deadline(d time.Duration) int64 {
	now := nanotime()
	if d > 0 && now+int64(d) < now {
		return math.MaxInt64
	}
	return now + int64(d)
}

// timeoutFrame is one active WithTimeout. Its own pointer is the error the deadline
// delivers, so WithTimeout can tell its own deadline from an enclosing one's as the
// error comes back up through fn, wrapped or not.
type timeoutFrame struct {
	t     timer
	depth int
}

func (f *timeoutFrame) Error() string        { return ErrTimeout.Error() }
func (f *timeoutFrame) Is(target error) bool { return target == ErrTimeout }

func fireTimeout(t *timer) {
	f := t.arg.(*timeoutFrame)
	t.c.interrupt(f, f.depth)
}

// WithTimeout runs fn in the running coroutine with a deadline d from now. When the
// deadline passes, the blocking call fn is in (or its next one, if it is running)
// returns an error that is errors.Is ErrTimeout; fn should return it (wrapped or not),
// and WithTimeout then returns ErrTimeout. If fn returns first, its result is returned
// and the deadline is cancelled.
//
// Timeouts nest: the deadline of an enclosing WithTimeout passes through an inner one
// untouched (it is not the inner one's), so it reaches its own WithTimeout.
func WithTimeout(d time.Duration, fn func() error) error {
	c := current()
	s := c.s
	c.timeouts++
	f := &timeoutFrame{depth: c.timeouts}
	f.t.fire = fireTimeout
	f.t.c = c
	f.t.arg = f
	s.addTimer(&f.t, deadline(d))
	defer func() {
		s.delTimer(&f.t)
		c.timeouts--
		if c.pending == error(f) {
			c.pending = nil // fired while fn was running and fn returned before blocking
		}
	}()
	err := fn()
	if err != nil && errors.Is(err, f) {
		return ErrTimeout
	}
	return err
}
