package coro

import (
	"flag"
	"math/rand/v2"
	"testing"
	"time"
)

// -sync.seed=N adds N to every stress test's fixed seed, to explore other
// interleavings: go test -run Stress -count 50 -sync.seed $RANDOM ./runtime/
var syncSeed = flag.Uint64("sync.seed", 0, "offset added to the sync stress tests' seeds")

// Randomised tests: many coroutines use one primitive while a chaos coroutine
// interrupts them at random and their waits carry random, short timeouts, so wake-ups
// race with interrupts and timeouts in every order. Each checks the primitive's safety
// property while running, and at the end that every coroutine finished (a lost
// wake-up would leave one parked: the watchdog in syncRun fails the test) and that the
// primitive is back in its idle state. Seeds are fixed (shifted by -sync.seed), so a
// failure reproduces as far as timer firing allows.

// chaos interrupts random coroutines of cs until *stop is set.
func chaos(rng *rand.Rand, cs []*Coro, stop *bool) *Coro {
	return Spawn(func() {
		for !*stop {
			cs[rng.IntN(len(cs))].Interrupt(errSyncStop)
			for range rng.IntN(4) {
				Yield()
			}
		}
	})
}

// maybeTimeout runs op plainly or under a random timeout of up to 300 µs.
func maybeTimeout(rng *rand.Rand, op func() error) error {
	if rng.IntN(2) == 0 {
		return op()
	}
	return WithTimeout(time.Duration(rng.IntN(300))*time.Microsecond, op)
}

// hold keeps a lock across a few switches, sometimes a real sleep, so others queue.
func hold(rng *rand.Rand) {
	switch rng.IntN(4) {
	case 0:
		Sleep(time.Duration(rng.IntN(100)) * time.Microsecond) // an interrupt may cut it short
	default:
		for range rng.IntN(3) {
			Yield()
		}
	}
}

func stressRun(t *testing.T, seed uint64, workers int, worker func(rng *rand.Rand, i int)) {
	seed += *syncSeed
	rng := rand.New(rand.NewPCG(seed, 1))
	var cs []*Coro
	for i := range workers {
		wrng := rand.New(rand.NewPCG(seed, uint64(i)+2))
		cs = append(cs, Spawn(func() { worker(wrng, i) }))
	}
	stop := false
	ch := chaos(rng, cs, &stop)
	joinAll(t, cs)
	stop = true
	ch.Join()
}

func TestStressMutex(t *testing.T) {
	syncRun(t, func() {
		var m Mutex
		var holder *Coro
		acquired := 0
		stressRun(t, 1, 12, func(rng *rand.Rand, _ int) {
			for range 60 {
				if maybeTimeout(rng, m.Lock) != nil {
					continue
				}
				if holder != nil {
					t.Errorf("two owners: %v and %v", holder, Current())
				}
				holder = Current()
				acquired++
				hold(rng)
				holder = nil
				m.Unlock()
			}
		})
		t.Logf("acquired %d", acquired)
		if m.Locked() || m.Waiters() != 0 || acquired == 0 {
			t.Errorf("end: locked=%v waiters=%d acquired=%d", m.Locked(), m.Waiters(), acquired)
		}
	})
}

func TestStressRWMutex(t *testing.T) {
	syncRun(t, func() {
		var rw RWMutex
		readers, writers := 0, 0
		stressRun(t, 2, 12, func(rng *rand.Rand, i int) {
			for range 60 {
				if i%3 == 0 { // a third are writers
					if maybeTimeout(rng, rw.Lock) != nil {
						continue
					}
					if readers != 0 || writers != 0 {
						t.Errorf("writer admitted with %d readers, %d writers", readers, writers)
					}
					writers++
					hold(rng)
					writers--
					rw.Unlock()
					continue
				}
				if maybeTimeout(rng, rw.RLock) != nil {
					continue
				}
				if writers != 0 {
					t.Error("reader admitted while a writer holds the lock")
				}
				readers++
				hold(rng)
				readers--
				rw.RUnlock()
			}
		})
		if rw.Readers() != 0 || rw.Writer() != nil || rw.Waiters() != 0 {
			t.Errorf("end: readers=%d writer=%v waiters=%d", rw.Readers(), rw.Writer(), rw.Waiters())
		}
	})
}

func TestStressSemaphore(t *testing.T) {
	syncRun(t, func() {
		const permits = 4
		s := NewSemaphore(permits)
		inUse := int64(0)
		stressRun(t, 3, 12, func(rng *rand.Rand, _ int) {
			for range 60 {
				n := int64(1 + rng.IntN(permits))
				if maybeTimeout(rng, func() error { return s.Acquire(n) }) != nil {
					continue
				}
				inUse += n
				if inUse > permits {
					t.Errorf("%d permits in use of %d", inUse, permits)
				}
				hold(rng)
				inUse -= n
				s.Release(n)
			}
		})
		if s.Available() != permits || s.Waiters() != 0 {
			t.Errorf("end: available=%d waiters=%d", s.Available(), s.Waiters())
		}
	})
}

// Every WakeOne that reports a wake-up is received by exactly one Wait returning nil.
func TestStressCond(t *testing.T) {
	syncRun(t, func() {
		var cv Cond
		given, received := 0, 0
		done := 0
		stressRun(t, 4, 10, func(rng *rand.Rand, i int) {
			defer func() { done++ }()
			if i < 2 { // wakers
				for range 200 {
					if cv.WakeOne() {
						given++
					}
					hold(rng)
				}
				return
			}
			for range 60 {
				if maybeTimeout(rng, cv.Wait) == nil {
					received++
				}
			}
		})
		t.Logf("given %d", given)
		if given != received || cv.Waiters() != 0 {
			t.Errorf("wake-ups given %d, received %d; waiters %d", given, received, cv.Waiters())
		}
	})
}

// Every value whose Send succeeded is received exactly once; no other value is.
func TestStressChannel(t *testing.T) {
	syncRun(t, func() {
		var ch Channel[int]
		sent := map[int]bool{}
		got := map[int]int{}
		stressRun(t, 5, 12, func(rng *rand.Rand, i int) {
			for k := range 60 {
				if i%2 == 0 {
					v := i*1000 + k
					if maybeTimeout(rng, func() error { return ch.Send(v) }) == nil {
						sent[v] = true
					}
				} else {
					var v int
					if maybeTimeout(rng, func() (err error) { v, err = ch.Receive(); return }) == nil {
						got[v]++
					}
				}
				hold(rng)
			}
		})
		for v, n := range got {
			if n != 1 || !sent[v] {
				t.Errorf("value %d received %d times, sent=%v", v, n, sent[v])
			}
		}
		t.Logf("sent %d", len(sent))
		if len(got) != len(sent) {
			t.Errorf("%d values sent, %d received", len(sent), len(got))
		}
		if ch.Balance() != 0 {
			t.Errorf("end balance %d", ch.Balance())
		}
	})
}

// Every pushed value is popped exactly once or still queued; none is lost to a Pop
// that failed.
func TestStressFifo(t *testing.T) {
	syncRun(t, func() {
		var f Fifo[int]
		pushed := 0
		got := map[int]int{}
		stressRun(t, 6, 12, func(rng *rand.Rand, i int) {
			for k := range 60 {
				switch {
				case i%3 == 0:
					v := i*1000 + k
					if rng.IntN(2) == 0 {
						f.Push(v)
					} else {
						f.PushFront(v)
					}
					pushed++
				case i%3 == 1:
					var v int
					if maybeTimeout(rng, func() (err error) { v, err = f.Pop(); return }) == nil {
						got[v]++
					}
				default:
					var vs []int
					if maybeTimeout(rng, func() (err error) { vs, err = f.PopAll(); return }) == nil {
						for _, v := range vs {
							got[v]++
						}
					}
				}
				hold(rng)
			}
		})
		for v, ok := f.TryPop(); ok; v, ok = f.TryPop() {
			got[v]++
		}
		total := 0
		for v, n := range got {
			if n != 1 {
				t.Errorf("value %d popped %d times", v, n)
			}
			total += n
		}
		if total != pushed || f.Waiters() != 0 {
			t.Errorf("pushed %d, popped %d; waiters %d", pushed, total, f.Waiters())
		}
	})
}
