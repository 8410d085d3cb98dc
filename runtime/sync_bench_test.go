package coro

import (
	"runtime"
	"sync"
	"testing"

	"golang.org/x/sys/unix"
)

// Benchmarks of the synchronisation primitives against their Go counterparts between
// goroutines, measured in the same run (see docs/PERFORMANCE.md for results and the
// command). The coroutine side runs a fresh event loop per benchmark call.

// benchLoop runs body as a coroutine in an event loop and returns when the loop ends.
func benchLoop(b *testing.B, body func()) {
	b.Helper()
	b.ReportAllocs()
	// An uncontended benchmark loop never yields: that is the point, not a latency bug.
	defer SetLatencyWarning(SetLatencyWarning(0))
	defer cpuPerOp(b)()
	Spawn(body)
	EventLoop()
}

// cpuPerOp reports the process CPU time per op (cpu-ns/op) when the returned func is
// called. On a shared, loaded machine wall time per op swings with how often the
// benchmark's threads are descheduled; CPU time counts only the work done, so it is
// the steadier figure for comparing the two sides. (It counts every thread: both
// goroutines of a baseline, and the loop thread plus any runtime work for coroutines.)
func cpuPerOp(b *testing.B) func() {
	start := processCPU(b)
	return func() {
		b.ReportMetric(float64(processCPU(b)-start)/float64(b.N), "cpu-ns/op")
	}
}

func processCPU(b *testing.B) int64 {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_PROCESS_CPUTIME_ID, &ts); err != nil {
		b.Fatalf("clock_gettime(CLOCK_PROCESS_CPUTIME_ID): %v", err)
	}
	return ts.Nano()
}

// Uncontended Lock+Unlock by one coroutine.
func BenchmarkMutexUncontended(b *testing.B) {
	benchLoop(b, func() {
		var m Mutex
		b.ResetTimer()
		for range b.N {
			m.Lock()
			m.Unlock()
		}
	})
}

// Baseline: uncontended sync.Mutex on one goroutine.
func BenchmarkGoMutexUncontended(b *testing.B) {
	b.ReportAllocs()
	defer cpuPerOp(b)()
	var m sync.Mutex
	for range b.N {
		m.Lock()
		m.Unlock()
	}
}

// Contended: two coroutines each loop Lock, Yield, Unlock. The Yield inside the
// critical section lets the other coroutine run into Lock and park, so every Unlock
// hands the mutex over and every Lock waits: per op one hand-off, one park and the
// switches. ns/op is per critical section.
func BenchmarkMutexContended(b *testing.B) {
	benchLoop(b, func() {
		var m Mutex
		n := b.N / 2
		other := Spawn(func() {
			for range n {
				m.Lock()
				Yield()
				m.Unlock()
			}
		})
		b.ResetTimer()
		for range b.N - n {
			m.Lock()
			Yield()
			m.Unlock()
		}
		other.Join()
	})
}

// Baseline: two goroutines each loop Lock, Gosched, Unlock on a sync.Mutex.
func BenchmarkGoMutexContended(b *testing.B) {
	b.ReportAllocs()
	defer cpuPerOp(b)()
	var m sync.Mutex
	var wg sync.WaitGroup
	n := b.N / 2
	wg.Go(func() {
		for range n {
			m.Lock()
			runtime.Gosched()
			m.Unlock()
		}
	})
	for range b.N - n {
		m.Lock()
		runtime.Gosched()
		m.Unlock()
	}
	wg.Wait()
}

// Baseline: strict alternation between two goroutines, the Go equivalent of a hand-off:
// a token passed over unbuffered channels. ns/op is per pass.
func BenchmarkGoChanHandOff(b *testing.B) {
	b.ReportAllocs()
	defer cpuPerOp(b)()
	a, c := make(chan struct{}), make(chan struct{})
	n := b.N / 2
	done := make(chan struct{})
	go func() {
		for range n {
			<-a
			c <- struct{}{}
		}
		close(done)
	}()
	for range n {
		a <- struct{}{}
		<-c
	}
	<-done
}

// Channel round trip: ping on one channel, pong on another, between two coroutines.
// ns/op is per round trip (two exchanges, two switches).
func BenchmarkChannelRoundTrip(b *testing.B) {
	benchLoop(b, func() {
		var ping, pong Channel[int]
		echo := Spawn(func() {
			for {
				v, err := ping.Receive()
				if err != nil {
					return
				}
				pong.Send(v)
			}
		})
		b.ResetTimer()
		for i := range b.N {
			ping.Send(i)
			pong.Receive()
		}
		b.StopTimer()
		ping.Close()
		echo.Join()
	})
}

// Baseline: the same round trip over unbuffered Go channels between two goroutines.
func BenchmarkGoChanRoundTrip(b *testing.B) {
	b.ReportAllocs()
	defer cpuPerOp(b)()
	ping, pong := make(chan int), make(chan int)
	go func() {
		for v := range ping {
			pong <- v
		}
	}()
	for i := range b.N {
		ping <- i
		<-pong
	}
	close(ping)
}

// Fifo round trip between two coroutines (Push wakes the waiting Pop).
func BenchmarkFifoRoundTrip(b *testing.B) {
	benchLoop(b, func() {
		var req, resp Fifo[int]
		echo := Spawn(func() {
			for {
				v, err := req.Pop()
				if err != nil || v < 0 {
					return
				}
				resp.Push(v)
			}
		})
		b.ResetTimer()
		for i := range b.N {
			req.Push(i)
			resp.Pop()
		}
		b.StopTimer()
		req.Push(-1)
		echo.Join()
	})
}

// Reference point for the round trips: two Yields between two coroutines, the raw
// cost of the two switches a round trip needs.
func BenchmarkYieldPair(b *testing.B) {
	benchLoop(b, func() {
		stop := false
		other := Spawn(func() {
			for !stop {
				Yield()
			}
		})
		b.ResetTimer()
		for range b.N {
			Yield()
		}
		b.StopTimer()
		stop = true
		other.Join()
	})
}
