package coro

import (
	"errors"
	"testing"
)

// TestUnwinding: the value a parked coroutine recovers when its loop exits is the
// unwinding one, and an ordinary panic value is not.
func TestUnwinding(t *testing.T) {
	s := NewScheduler()
	var got []bool
	s.Spawn(func() {
		defer func() {
			p := recover()
			got = append(got, Unwinding(p))
			if Unwinding(p) {
				panic(p)
			}
		}()
		func() {
			defer func() { got = append(got, Unwinding(recover())) }()
			panic(errors.New("ordinary"))
		}()
		Sleep(1 << 40)
	})
	s.Spawn(func() { Yield(); Exit() })
	s.EventLoop()
	if len(got) != 2 || got[0] || !got[1] {
		t.Fatalf("Unwinding results %v, want [false true]", got)
	}
}
