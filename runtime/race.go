//go:build race

package coro

import (
	"runtime"
	"sync/atomic"
	"unsafe"
)

// Under the race detector the coroutine switch must be announced as a
// synchronisation, as iter.Pull does: the detector does not know that coroswitch
// orders the two goroutines, and would report every scheduler field as racing.

func raceRelease(p unsafe.Pointer) { runtime.RaceRelease(p) }
func raceAcquire(p unsafe.Pointer) { runtime.RaceAcquire(p) }

// curG is read by goroutines outside the loop (Spawn, Current) to learn that they are
// not the running coroutine; under the race detector it is an atomic so that this
// benign race is not reported.
type curGSlot struct{ v atomic.Uintptr }

func (s *curGSlot) load() uintptr   { return s.v.Load() }
func (s *curGSlot) store(g uintptr) { s.v.Store(g) }

// runsHere is norace.go's test made the race detector's way: s.cur is written at
// every switch and is not read off the loop here.
func (s *Scheduler) runsHere(unsafe.Pointer) bool { return s.curG.load() == getg() }
