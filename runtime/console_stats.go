package coro

import (
	"time"

	"github.com/coroprof/coroprof/internal/hooks"
)

// sliceStats counts a loop's run slices and remembers the longest, for the debug
// console's "stats" (package console, through loopStats). It rides on the latency check (latency.go), which already reads
// the coarse clock at every switch: counting costs one increment, and the longest
// slice costs no extra comparison, because the switch path compares a slice with mark
// instead of the threshold, and mark is the smaller of the two. So both are only
// known while the latency check is on, and the longest slice is measured to within
// the coarse clock's tick (coarseTickFor).
type sliceStats struct {
	count       uint64 // slices ended while the latency check was on
	mark        int64  // noteSlice is called for a slice longer than this: min(longest, threshold)
	longest     int64  // ns, on the coarse clock
	longestID   uint64 // the coroutine that ran it
	longestName string
}

// noteSlice is the switch path's rare branch: c ran for d ns, more than the mark. It
// records a new longest slice and prints the latency warning when d is above the
// threshold. Out of line, so the switch path stays small.
//
//go:noinline
func (s *Scheduler) noteSlice(c *Coro, d int64) {
	st := &s.latency.slices
	if d > st.longest {
		st.longest, st.longestID, st.longestName = d, c.id, c.loopName()
	}
	if d > s.latency.threshold && s.latency.threshold > 0 {
		s.warnLatency(c, d)
	}
	st.setMark(s.latency.threshold)
}

// setMark recomputes the mark after the longest slice or the threshold changed.
func (st *sliceStats) setMark(threshold int64) {
	st.mark = min(st.longest, threshold)
}

// loopStats reads s's counters for the debug console's "stats" (internal/hooks,
// Runtime.LoopStats); safe from any goroutine, through onLoop.
func (s *Scheduler) loopStats() (hooks.LoopStats, error) {
	var st hooks.LoopStats
	if !s.onLoop(func() {
		st.Loop = s.loopID
		st.Coroutines = s.live
		for c := s.liveList.head; c != nil; c = c.nextLive {
			if int(c.state) < len(st.States) {
				st.States[c.state]++
			}
			if c.state == StateWaiting && c.reason < NumWaitReasons {
				st.Waiting[c.reason]++
			}
		}
		st.RunQueue = s.runq.len()
		st.Timers = s.timers.len()
		st.FDs = s.poll.nfds
		sl := &s.latency.slices
		st.SliceCounting = s.latency.threshold > 0
		st.Slices = sl.count
		st.LongestSlice = time.Duration(sl.longest)
		st.LongestID, st.LongestName = sl.longestID, sl.longestName
		if st.SliceCounting {
			st.SliceResolution = coarseTickFor(s.latency.threshold)
			st.LatencyWarning = time.Duration(s.latency.threshold)
		}
	}) {
		return hooks.LoopStats{}, ErrInterrupted
	}
	return st, nil
}
