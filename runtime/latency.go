package coro

import (
	"fmt"
	"os"
	"time"
)

// defaultLatencyThreshold is the slice length above which a coroutine is reported as
// having held the loop too long (Shrapnel's default).
const defaultLatencyThreshold = int64(200 * time.Millisecond)

// latencyState measures run slices with one monotonic clock read per switch: the
// stamp that ends one slice starts the next (the scheduler's own work between them is
// charged to the next slice; it is tiny), and a blocking poll restarts the clock.
type latencyState struct {
	threshold int64 // ns; 0 turns the check off
	stamp     int64
	notify    func(c *Coro, d time.Duration)
}

// start is called when the loop starts, polled after a blocking poll.
func (l *latencyState) start() {
	if l.threshold > 0 {
		l.stamp = nanotime()
	}
}

func (l *latencyState) polled() {
	if l.threshold > 0 {
		l.stamp = nanotime()
	}
}

// sliceEnd is called when c gives up control (yield, park, exit).
func (s *Scheduler) sliceEnd(c *Coro) {
	l := &s.latency
	if l.threshold <= 0 {
		return
	}
	now := nanotime()
	d := now - l.stamp
	l.stamp = now
	if d > l.threshold {
		s.warnLatency(c, time.Duration(d))
	}
}

func (s *Scheduler) warnLatency(c *Coro, d time.Duration) {
	if f := s.latency.notify; f != nil {
		f(c, d)
		return
	}
	fmt.Fprintf(os.Stderr, "%s coro: latency: coroutine %d (%s) ran %v without yielding (threshold %v)\n",
		time.Now().Format("2006-01-02T15:04:05.000000Z07:00"), c.ID(), c.Name(), d.Round(time.Microsecond),
		time.Duration(s.latency.threshold))
}

// SetLatencyWarning sets the default loop's slice-length threshold (0 turns the
// warning off) and returns the previous one.
func SetLatencyWarning(d time.Duration) time.Duration { return defaultSched.SetLatencyWarning(d) }

// SetLatencyWarning sets the threshold above which a coroutine's run slice is
// reported (default 200ms; 0 turns the check off) and returns the previous one.
func (s *Scheduler) SetLatencyWarning(d time.Duration) time.Duration {
	prev := time.Duration(s.latency.threshold)
	s.latency.threshold = int64(d)
	if d > 0 {
		s.latency.stamp = nanotime()
	}
	return prev
}

// SetLatencyNotifier replaces the warning line of the default loop with f (nil
// restores the line on stderr).
func SetLatencyNotifier(f func(c *Coro, d time.Duration)) { defaultSched.SetLatencyNotifier(f) }

// SetLatencyNotifier replaces the warning line with f (nil restores it).
func (s *Scheduler) SetLatencyNotifier(f func(c *Coro, d time.Duration)) { s.latency.notify = f }
