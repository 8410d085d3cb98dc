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
