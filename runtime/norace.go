//go:build !race

package coro

import "unsafe"

func raceRelease(unsafe.Pointer) {}
func raceAcquire(unsafe.Pointer) {}

// curGSlot holds the g of the goroutine running on the loop thread. It is written at
// every switch, so it is a plain word here (an atomic store is a locked instruction
// on x86). Readers off the loop thread may see a stale value; that is harmless because
// they only compare it with their own g, which it never was: a goroutine's g is only
// stored here while that goroutine runs on the loop thread.
type curGSlot struct{ v uintptr }

func (s *curGSlot) load() uintptr   { return s.v }
func (s *curGSlot) store(g uintptr) { s.v = g }

// runsHere reports whether the caller, whose local variable is at p, is s's running
// participant (a coroutine of s, or the loop itself), the test every primitive makes
// before touching its state (bridge.go). It reads s.cur and that coroutine's stack
// bounds (onStackOf) instead of calling getg: a call per operation measured +4-7% on a
// Channel round trip. Off the loop thread the read of s.cur races with the loop, as
// curG's does (above), and is as harmless: whatever coroutine it finds, running or
// not, its stack is not the caller's. A coroutine's gp is never nil (noStack until
// its goroutine has started), and s.cur is nil only while the loop does not run.
func (s *Scheduler) runsHere(p unsafe.Pointer) bool {
	c := s.cur
	return c != nil && onStackOf(c, p)
}
