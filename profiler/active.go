package profiler

// Active reports whether a profiling session runs, at the cost of one atomic load,
// for code that pays to name a Region (corohttp routes a request once more to learn
// its pattern) and should pay only while profiled. Safe from any goroutine.
func Active() bool { return active.Load() != nil }
