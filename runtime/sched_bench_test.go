package coro

import (
	"iter"
	"runtime"
	"testing"
)

// BenchmarkPingPongYield: two coroutines alternate with Yield; one op is a round trip
// (A -> B -> A), i.e. two Yields.
func BenchmarkPingPongYield(b *testing.B) {
	n := b.N
	s := NewScheduler()
	s.SetLatencyWarning(0)
	s.Spawn(func() {
		for i := 0; i < n; i++ {
			Yield()
		}
	})
	s.Spawn(func() {
		for i := 0; i < n; i++ {
			Yield()
		}
	})
	b.ResetTimer()
	s.EventLoop()
}

// BenchmarkPingPongYieldLatency is PingPongYield with the latency check on (the default).
func BenchmarkPingPongYieldLatency(b *testing.B) {
	n := b.N
	s := NewScheduler()
	for j := 0; j < 2; j++ {
		s.Spawn(func() {
			for i := 0; i < n; i++ {
				Yield()
			}
		})
	}
	b.ResetTimer()
	s.EventLoop()
}

// BenchmarkPingPongIterPull: the raw runtime switch, one op = next + yield, on a
// locked thread like the scheduler's.
func BenchmarkPingPongIterPull(b *testing.B) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	next, stop := iter.Pull(func(yield func(struct{}) bool) {
		for yield(struct{}{}) {
		}
	})
	defer stop()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		next()
	}
}

// BenchmarkPingPongChan: two goroutines on unbuffered channels, one op = a round trip.
func BenchmarkPingPongChan(b *testing.B) {
	ping, pong := make(chan struct{}), make(chan struct{})
	go func() {
		for range ping {
			pong <- struct{}{}
		}
	}()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		ping <- struct{}{}
		<-pong
	}
	close(ping)
}
