package coro

import "time"

// sliceStats counts a loop's run slices and remembers the longest, for the debug
// console's "stats". It rides on the latency check (latency.go), which already reads
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
		st.longest, st.longestID, st.longestName = d, c.id, c.Name()
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

// sliceSnapshot is what "stats" prints about slices.
type sliceSnapshot struct {
	counting    bool          // the latency check is on, so slices are counted
	count       uint64        // slices ended since the loop was created (while counting)
	longest     time.Duration // 0: none measured yet
	resolution  time.Duration // the coarse clock's tick for the current threshold
	longestID   uint64
	longestName string
}

func (s *Scheduler) sliceSnapshot() sliceSnapshot {
	st := &s.latency.slices
	snap := sliceSnapshot{
		counting: s.latency.threshold > 0, count: st.count, longest: time.Duration(st.longest),
		longestID: st.longestID, longestName: st.longestName,
	}
	if snap.counting {
		snap.resolution = coarseTickFor(s.latency.threshold)
	}
	return snap
}
