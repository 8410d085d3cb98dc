package coro

import (
	"errors"
	"math/rand"
	"runtime"
	"testing"
	"time"
)

// TestStress runs a random mix of every scheduling operation (spawn, yield, sleep,
// nested timeouts, interrupts, joins, offloads, panics, goroutine spawns) and checks
// that every coroutine finishes and the scheduler is empty afterwards: a lost wake-up
// hangs the loop (runLoop fails the test), a broken switch crashes it.
func TestStress(t *testing.T) {
	for seed := int64(1); seed <= 3; seed++ {
		s, panics := newTestSched(t)
		var rec *recorder
		if seed == 3 { // and once with the hooks contract checked throughout
			rec = newRecorder(t)
			s.setHooks(rec)
		}
		r := rand.New(rand.NewSource(seed))
		const n = 2000
		started, finished := 0, 0
		var all []*Coro
		var body func(depth int)
		body = func(depth int) {
			started++
			defer func() { finished++ }()
			for step := 0; step < 25; step++ {
				switch r.Intn(10) {
				case 0:
					Yield()
				case 1:
					Sleep(time.Duration(r.Intn(300)) * time.Microsecond)
				case 2:
					WithTimeout(time.Duration(r.Intn(500))*time.Microsecond, func() error {
						return WithTimeout(time.Duration(r.Intn(500))*time.Microsecond, func() error {
							return Sleep(time.Duration(r.Intn(1000)) * time.Microsecond)
						})
					})
				case 3:
					if len(all) > 0 {
						all[r.Intn(len(all))].Interrupt(errors.New("stress"))
					}
				case 4:
					if len(all) > 0 {
						target := all[r.Intn(len(all))]
						if target != Current() {
							WithTimeout(time.Millisecond, target.Join)
						}
					}
				case 5:
					Offload(func() error { return nil })
				case 6:
					if depth < 4 && len(all) < n {
						all = append(all, Spawn(func() { body(depth + 1) }))
					}
				case 7:
					if r.Intn(20) == 0 {
						panic("stress panic")
					}
				case 8:
					if r.Intn(10) == 0 {
						go func() { all := s.Spawn(func() { Yield() }); _ = all }()
					}
				default:
					current().park(WaitOther) // woken only by an interrupt or a timeout
				}
			}
		}
		// one coroutine interrupts everybody regularly so the raw parks end
		s.Spawn(func() {
			for finished < len(all) || len(all) == 0 {
				for _, c := range all {
					if st, _ := c.State(); st == StateWaiting {
						c.Interrupt(nil)
					}
				}
				Sleep(time.Millisecond)
			}
		})
		for i := 0; i < 300; i++ {
			all = append(all, s.Spawn(func() { body(0) }))
		}
		runLoop(t, s, 60*time.Second)
		if rec != nil {
			s.setHooks(nil)
			for i, v := range rec.violations {
				if i < 10 {
					t.Error(v)
				}
			}
			if rec.bucket != "main" || len(rec.parked) != 0 {
				t.Errorf("hooks: ended in bucket %s with %d parked", rec.bucket, len(rec.parked))
			}
		}
		if started != finished || finished != len(all) {
			t.Fatalf("seed %d: started %d, finished %d, spawned %d", seed, started, finished, len(all))
		}
		if s.live != 0 || s.timers.len() != 0 || s.runq.len() != 0 {
			t.Fatalf("seed %d: leftovers: %d live, %d timers, %d runnable", seed, s.live, s.timers.len(), s.runq.len())
		}
		t.Logf("seed %d: %d coroutines, %d panics", seed, len(all), len(*panics))
	}
}

// TestStressExit ends the loop with Exit in the middle of the same kind of mix, then
// runs the loop again on another thread: the unwinding must leave nothing behind.
func TestStressExit(t *testing.T) {
	s, _ := newTestSched(t)
	r := rand.New(rand.NewSource(7))
	unwound := 0
	for i := 0; i < 500; i++ {
		s.Spawn(func() {
			defer func() { unwound++ }()
			for {
				switch r.Intn(5) {
				case 0:
					Yield()
				case 1:
					Sleep(time.Duration(r.Intn(500)) * time.Microsecond)
				case 2:
					Offload(func() error { time.Sleep(100 * time.Microsecond); return nil })
				case 3:
					WithTimeout(time.Duration(r.Intn(300))*time.Microsecond, func() error {
						return current().park(WaitOther)
					})
				default:
					Spawn(func() { Sleep(time.Hour) })
				}
			}
		})
	}
	s.Spawn(func() { Sleep(30 * time.Millisecond); Exit() })
	runLoop(t, s, 60*time.Second)
	if unwound != 500 || s.live != 0 || s.timers.len() != 0 || s.nfree != 0 {
		t.Fatalf("after Exit: %d of 500 unwound, %d live, %d timers, %d idle workers", unwound, s.live, s.timers.len(), s.nfree)
	}
	ok := false
	s.Spawn(func() { Sleep(time.Millisecond); ok = true })
	done := make(chan struct{})
	go func() {
		runtime.LockOSThread() // see TestLoopOnAnotherThreadAfterPooling
		defer close(done)
		runLoop(t, s, 10*time.Second)
	}()
	<-done
	if !ok {
		t.Fatal("the loop did not run again")
	}
}
