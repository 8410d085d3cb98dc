package coro

// RunningLoops returns the loops whose EventLoop is running now: the default loop first
// if it runs, then the others in the order they started. Safe from any goroutine; a
// loop may start or end right after the call. (For tools that act on every loop, like
// the profiler's AllLoops.)
func RunningLoops() []*Scheduler {
	var out []*Scheduler
	if defaultSched.running.Load() {
		out = append(out, defaultSched)
	}
	if p := extraLoops.Load(); p != nil {
		out = append(out, (*p)...)
	}
	return out
}
