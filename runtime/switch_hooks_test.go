package coro

import (
	"fmt"
	"testing"
	"time"
)

// switchRecorder is the recorder (sched_hooks_test.go) with a Switch method: it takes
// a direct switch as one event, except every third one, which it declines, so the
// scheduler must fall back to Yield now and Resume when the next coroutine runs. The
// recorder's bucket checks then catch a Resume after an accepted Switch (Resume while
// in a coroutine's bucket) and a declined Switch that lost its Yield or Resume.
type switchRecorder struct {
	*recorder
	offers, accepted int
}

func (r *switchRecorder) Switch(from *Coro, state State, pc uintptr, to *Coro) bool {
	r.offers++
	if r.offers%3 == 0 {
		r.events = append(r.events, fmt.Sprintf("declined%d>%d", from.ID(), to.ID()))
		return false
	}
	r.accepted++
	r.events = append(r.events, fmt.Sprintf("switch%d/%v>%d", from.ID(), state, to.ID()))
	r.onOwnGoroutine(from, "Switch")
	if r.bucket != fmt.Sprintf("c%d", from.ID()) {
		r.bad("Switch(%d) while in bucket %s", from.ID(), r.bucket)
	}
	if state == StateWaiting {
		if r.waitBegun != from {
			r.bad("Switch(%d, waiting) without WaitBegin just before", from.ID())
		}
		r.parked[from] = true
	} else if r.waitBegun != nil {
		r.bad("WaitBegin not followed by Switch(waiting)")
	}
	r.waitBegun = nil
	r.yieldPCs = append(r.yieldPCs, pc)
	if r.parked[to] {
		r.bad("Switch to %d, parked without WaitEnd", to.ID())
	}
	if st, _ := to.State(); st != StateRunnable && to != from {
		r.bad("Switch to %d in state %v", to.ID(), st)
	}
	r.bucket = fmt.Sprintf("c%d", to.ID())
	r.resumes[to.ID()]++
	return true
}

// TestSwitchHook: with hooks that implement Switcher, direct switches (Yield and park
// with the next coroutine at the head of the run queue, nothing to poll) arrive as one
// Switch and no Resume; a declined one as Yield and Resume; the bucket boundaries stay
// contiguous throughout, through parks, polls, first slices and the unwinding at Exit.
func TestSwitchHook(t *testing.T) {
	s, _ := newTestSched(t)
	r := &switchRecorder{recorder: newRecorder(t)}
	s.setHooks(r)
	var ping, pong Channel[int]
	s.Spawn(func() {
		for i := 0; i < 100; i++ {
			ping.Send(i)
			pong.Receive()
		}
		ping.Close()
	})
	s.Spawn(func() {
		for {
			v, err := ping.Receive()
			if err != nil {
				break
			}
			pong.Send(v)
		}
		for i := 0; i < 20; i++ {
			Spawn(func() { Yield(); Yield() }) // first slices reached by a Switch
		}
		Sleep(time.Millisecond) // a blocking poll between
		for i := 0; i < 10; i++ {
			Spawn(func() { Sleep(time.Hour) })
			Spawn(func() {
				for {
					Yield()
				}
			})
		}
		Yield()
		Exit() // unwinds parked and runnable coroutines
	})
	runLoop(t, s, 10*time.Second)
	s.setHooks(nil)
	for _, v := range r.violations {
		t.Error(v)
	}
	if len(r.parked) != 0 || r.bucket != "main" {
		t.Errorf("parked %d, bucket %s at the end", len(r.parked), r.bucket)
	}
	if r.accepted < 100 || r.offers-r.accepted < 50 {
		t.Errorf("%d direct switches offered, %d accepted: want hundreds of each kind", r.offers, r.accepted)
	}
	for id, n := range r.resumes {
		if n == 0 {
			t.Errorf("coroutine %d never resumed", id)
		}
	}
}

// TestSwitchHookDetached: hooks detached right after a Switch that announced the next
// coroutine leave no trace: hooks attached again later see that coroutine's Resume.
func TestSwitchHookDetached(t *testing.T) {
	s, _ := newTestSched(t)
	r := &switchRecorder{recorder: newRecorder(t)}
	var b *Coro
	s.Spawn(func() {
		r.bucket = fmt.Sprintf("c%d", Current().ID())
		s.setHooks(r)
		Yield() // Switch to b, accepted
	})
	b = s.Spawn(func() {
		s.setHooks(nil) // b was announced; now nobody listens
		Yield()
		r2 := newRecorder(t)
		r2.bucket = fmt.Sprintf("c%d", Current().ID())
		s.setHooks(r2)
		Sleep(time.Millisecond) // Yield(waiting), poll, Resume(b)
		s.setHooks(nil)
		if r2.resumes[b.ID()] != 1 {
			t.Errorf("b resumed %d times after re-attaching, want 1: %v", r2.resumes[b.ID()], r2.events)
		}
		for _, v := range r2.violations {
			t.Error(v)
		}
	})
	runLoop(t, s, 10*time.Second)
	if r.accepted != 1 {
		t.Errorf("%d switches accepted, want 1: %v", r.accepted, r.events)
	}
}
