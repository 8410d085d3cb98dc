//go:build !linux

package coro

// Without a thread CPU clock another thread can read, the latency warning gives the
// slice's wall time only.
func threadCPUClock() (int32, bool)    { return 0, false }
func readCPUClock(int32) (int64, bool) { return 0, false }
func ownCPU() (int64, bool)            { return 0, false }
