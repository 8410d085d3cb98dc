package coro

import (
	"iter"
	"runtime"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// BenchmarkSpawnRunExit: one op = Spawn of an empty function, its first (and only)
// slice, and its exit, from a coroutine; batches of 256 are spawned then run.
func BenchmarkSpawnRunExit(b *testing.B) {
	s := NewScheduler()
	s.SetLatencyWarning(0)
	b.ReportAllocs()
	s.Spawn(func() {
		b.ResetTimer()
		for i := 0; i < b.N; {
			for j := 0; j < 256 && i < b.N; j, i = j+1, i+1 {
				Spawn(func() {})
			}
			Yield() // every spawned coroutine runs and exits before we run again
		}
		b.StopTimer()
	})
	s.EventLoop()
}

// BenchmarkSpawnGoroutine is the baseline: go f() and its exit, 256 at a time.
func BenchmarkSpawnGoroutine(b *testing.B) {
	b.ReportAllocs()
	var wg sync.WaitGroup
	for i := 0; i < b.N; {
		for j := 0; j < 256 && i < b.N; j, i = j+1, i+1 {
			wg.Add(1)
			go func() { wg.Done() }()
		}
		wg.Wait()
	}
}

// BenchmarkSpawnIterPull is the other baseline: an iter.Pull coroutine created, run
// to its end and released.
func BenchmarkSpawnIterPull(b *testing.B) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		next, stop := iter.Pull(func(func(struct{}) bool) {})
		next()
		stop()
	}
}

// memPerIdle returns the memory (heap in use plus goroutine stacks) per idle unit
// after start(n) has created n of them.
func memPerIdle(n int, start func(n int), stop func()) float64 {
	var m0, m1 runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&m0)
	start(n)
	runtime.GC()
	runtime.ReadMemStats(&m1)
	stop()
	used := (m1.HeapInuse + m1.StackInuse) - (m0.HeapInuse + m0.StackInuse)
	return float64(used) / float64(n)
}

// BenchmarkMemoryPerIdleCoroutine reports bytes per coroutine parked in a Sleep, and
// per goroutine blocked on a channel as the baseline.
func BenchmarkMemoryPerIdleCoroutine(b *testing.B) {
	const n = 20_000
	var coroBytes, goBytes float64
	s := NewScheduler()
	s.SetLatencyWarning(0)
	s.Spawn(func() {
		var kids []*Coro
		coroBytes = memPerIdle(n, func(n int) {
			for i := 0; i < n; i++ {
				kids = append(kids, Spawn(func() { Sleep(time.Hour) }))
			}
			Yield() // all of them run and park
		}, func() {
			for _, k := range kids {
				k.Interrupt(nil)
			}
		})
	})
	s.EventLoop()
	block := make(chan struct{})
	var wg sync.WaitGroup
	goBytes = memPerIdle(n, func(n int) {
		for i := 0; i < n; i++ {
			wg.Add(1)
			go func() { <-block; wg.Done() }()
		}
	}, func() { close(block); wg.Wait() })
	b.ReportMetric(coroBytes, "B/coroutine")
	b.ReportMetric(goBytes, "B/goroutine")
	b.ReportMetric(0, "ns/op")
}

// wakeWriter is the waking side of the wake-latency measurements: it sleeps 50µs (so
// the woken side is blocked in the kernel), stamps t0 and wakes it, then spins until
// the sample is in, the same way for every variant (a waker that sleeps instead of
// spinning lets its P go idle, which adds 10-20µs of Go-scheduler hand-off to every
// variant on this machine).
func wakeWriter(samples int, t0, got *atomic.Int64, wake func()) {
	for i := 0; i < samples; i++ {
		time.Sleep(50 * time.Microsecond)
		t0.Store(nanotime())
		wake()
		for got.Load() == int64(i) {
			runtime.Gosched()
		}
	}
}

func pctl(d []time.Duration, p float64) float64 {
	sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
	return float64(d[int(float64(len(d)-1)*p)].Nanoseconds()) / 1000
}
