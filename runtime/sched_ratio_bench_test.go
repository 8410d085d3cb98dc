package coro

import (
	"iter"
	"sync"
	"testing"
	"time"
)

// The machine these benchmarks run on is shared, so wall-clock ns/op swings by 2-3x
// from run to run. BenchmarkSwitchRatio therefore measures the scheduler and its
// baselines in interleaved blocks inside one run and reports, for each, the fastest
// block (the one least disturbed by other processes), and their ratios.

const ratioBlock = 20_000 // round trips per block

// blockPull times ratioBlock next/yield round trips of a raw iter.Pull coroutine.
func blockPull() time.Duration {
	next, stop := iter.Pull(func(yield func(struct{}) bool) {
		for yield(struct{}{}) {
		}
	})
	defer stop()
	next()
	t0 := time.Now()
	for i := 0; i < ratioBlock; i++ {
		next()
	}
	return time.Since(t0)
}

// blockYield times ratioBlock round trips A -> B -> A through the scheduler: each is
// two Yields. The partner yields until told to stop.
func blockYield() time.Duration {
	stop := false
	partner := Spawn(func() {
		for !stop {
			Yield()
		}
	})
	Yield()
	t0 := time.Now()
	for i := 0; i < ratioBlock; i++ {
		Yield()
	}
	d := time.Since(t0)
	stop = true
	partner.Join()
	return d
}

// blockChan times ratioBlock round trips between two goroutines on unbuffered
// channels; it runs through Offload so that it does not block the loop thread.
func blockChan() time.Duration {
	var d time.Duration
	Offload(func() error {
		ping, pong := make(chan struct{}), make(chan struct{})
		go func() {
			for range ping {
				pong <- struct{}{}
			}
		}()
		ping <- struct{}{}
		<-pong
		t0 := time.Now()
		for i := 0; i < ratioBlock; i++ {
			ping <- struct{}{}
			<-pong
		}
		d = time.Since(t0)
		close(ping)
		return nil
	})
	return d
}

func BenchmarkSwitchRatio(b *testing.B) {
	rounds := 10
	if b.N > rounds {
		rounds = b.N
	}
	var best [5]time.Duration
	for i := range best {
		best[i] = time.Hour
	}
	keep := func(i int, d time.Duration) {
		if d < best[i] {
			best[i] = d
		}
	}
	s := NewScheduler()
	s.SetLatencyWarning(0)
	s.Spawn(func() {
		for r := 0; r < rounds; r++ {
			keep(0, blockPull())
			s.SetLatencyWarning(0)
			keep(1, blockYield())
			s.SetLatencyWarning(200 * time.Millisecond)
			keep(2, blockYield())
			s.SetLatencyWarning(0)
			keep(3, blockChan())
			s.setHooks(nopHooks{})
			keep(4, blockYield())
			s.setHooks(nil)
		}
	})
	b.ResetTimer()
	s.EventLoop()
	b.StopTimer()
	per := func(i int) float64 { return float64(best[i].Nanoseconds()) / ratioBlock }
	b.ReportMetric(per(0), "pull-ns/rt")
	b.ReportMetric(per(1), "yield-ns/rt")
	b.ReportMetric(per(2), "yield+latency-ns/rt")
	b.ReportMetric(per(3), "chan-ns/rt")
	b.ReportMetric(per(4), "yield+nophooks-ns/rt")
	b.ReportMetric(per(1)/per(0), "yield/pull")
	b.ReportMetric(per(2)/per(0), "yield+latency/pull")
	b.ReportMetric(per(3)/per(1), "chan/yield")
	b.ReportMetric(0, "ns/op")
}

const spawnBlock = 8192 // spawns per block, in batches of 256

// blockSpawn times spawnBlock Spawn+run+exit of empty coroutines from a coroutine.
func blockSpawn() time.Duration {
	t0 := time.Now()
	for i := 0; i < spawnBlock; i += 256 {
		for j := 0; j < 256; j++ {
			Spawn(func() {})
		}
		Yield()
	}
	return time.Since(t0)
}

// blockSpawnPull times spawnBlock iter.Pull coroutines created, run and released.
func blockSpawnPull() time.Duration {
	t0 := time.Now()
	for i := 0; i < spawnBlock; i++ {
		next, stop := iter.Pull(func(func(struct{}) bool) {})
		next()
		stop()
	}
	return time.Since(t0)
}

// blockSpawnGo times spawnBlock goroutines started and finished, 256 at a time, on a
// goroutine (through Offload).
func blockSpawnGo() time.Duration {
	var d time.Duration
	Offload(func() error {
		var wg sync.WaitGroup
		t0 := time.Now()
		for i := 0; i < spawnBlock; i += 256 {
			for j := 0; j < 256; j++ {
				wg.Add(1)
				go wg.Done()
			}
			wg.Wait()
		}
		d = time.Since(t0)
		return nil
	})
	return d
}

func BenchmarkSpawnRatio(b *testing.B) {
	rounds := 10
	if b.N > rounds {
		rounds = b.N
	}
	best := [3]time.Duration{time.Hour, time.Hour, time.Hour}
	s := NewScheduler()
	s.SetLatencyWarning(0)
	s.Spawn(func() {
		for r := 0; r < rounds; r++ {
			for i, f := range []func() time.Duration{blockSpawn, blockSpawnPull, blockSpawnGo} {
				if d := f(); d < best[i] {
					best[i] = d
				}
			}
		}
	})
	b.ResetTimer()
	s.EventLoop()
	per := func(i int) float64 { return float64(best[i].Nanoseconds()) / spawnBlock }
	b.ReportMetric(per(0), "spawn-ns")
	b.ReportMetric(per(1), "pull-ns")
	b.ReportMetric(per(2), "go-ns")
	b.ReportMetric(per(0)/per(1), "spawn/pull")
	b.ReportMetric(0, "ns/op")
}

// nopHooks is the cheapest possible Hooks: what attaching costs the runtime itself
// (call site pcs included), before any profiler work.
type nopHooks struct{}

func (nopHooks) Spawn(c, parent *Coro)                            {}
func (nopHooks) Resume(c *Coro)                                   {}
func (nopHooks) Yield(c *Coro, state State, pc uintptr)           {}
func (nopHooks) Exit(c *Coro, panicked bool)                      {}
func (nopHooks) WaitBegin(c *Coro, reason WaitReason, pc uintptr) {}
func (nopHooks) WaitEnd(c *Coro)                                  {}
func (nopHooks) BeforePoll()                                      {}
func (nopHooks) AfterPoll()                                       {}
