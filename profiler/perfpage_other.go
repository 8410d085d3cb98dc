//go:build !linux

package profiler

// cpuClockNote says, for the profile's notes, how the thread CPU clock was read: only
// Linux has the perf_event page to probe (perfpage_linux.go), so nothing is noted here.
func cpuClockNote() string { return "" }
