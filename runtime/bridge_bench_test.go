package coro

import (
	"slices"
	"sync"
	"testing"
	"time"
)

// Benchmarks of calls across the border (bridge.go) against the same exchange between
// two goroutines over Go channels, measured in the same run; docs/PERFORMANCE.md has
// the figures and the command.

// BenchmarkBridgeHandOff: a goroutine Sends b.N values on a Channel that a coroutine
// Receives. ns/op is per value: the throughput of the border.
func BenchmarkBridgeHandOff(b *testing.B) {
	var ch Channel[int]
	var wg sync.WaitGroup
	benchLoop(b, func() {
		ch.Balance() // bind it to this loop
		b.ResetTimer()
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range b.N {
				ch.Send(i)
			}
		}()
		for range b.N {
			ch.Receive()
		}
	})
	wg.Wait()
}

// BenchmarkGoChanOneWay is the baseline: one goroutine sends b.N values on an
// unbuffered Go channel that another receives.
func BenchmarkGoChanOneWay(b *testing.B) {
	b.ReportAllocs()
	defer cpuPerOp(b)()
	ch := make(chan int)
	go func() {
		for i := range b.N {
			ch <- i
		}
	}()
	for range b.N {
		<-ch
	}
}

// reportLatency reports the median and 99th percentile of lat as p50-ns and p99-ns.
func reportLatency(b *testing.B, lat []time.Duration) {
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Nanoseconds()), "p50-ns")
	b.ReportMetric(float64(lat[len(lat)*99/100].Nanoseconds()), "p99-ns")
}

// BenchmarkBridgeRoundTripLatency: a goroutine sends a value to a coroutine, which sends
// it back (two hand-offs across the border, each way once); each round trip is timed.
func BenchmarkBridgeRoundTripLatency(b *testing.B) {
	var ping, pong Channel[int]
	lat := make([]time.Duration, b.N)
	var wg sync.WaitGroup
	benchLoop(b, func() {
		ping.Balance()
		pong.Balance()
		b.ResetTimer()
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range b.N {
				t := time.Now()
				ping.Send(i)
				pong.Receive()
				lat[i] = time.Since(t)
			}
		}()
		for range b.N {
			v, _ := ping.Receive()
			pong.Send(v)
		}
	})
	wg.Wait()
	b.StopTimer()
	reportLatency(b, lat)
}

// BenchmarkGoChanRoundTripLatency is its baseline: the same timed round trip over
// unbuffered Go channels between two goroutines.
func BenchmarkGoChanRoundTripLatency(b *testing.B) {
	b.ReportAllocs()
	defer cpuPerOp(b)()
	ping, pong := make(chan int), make(chan int)
	lat := make([]time.Duration, b.N)
	go func() {
		for v := range ping {
			pong <- v
		}
	}()
	for i := range b.N {
		t := time.Now()
		ping <- i
		<-pong
		lat[i] = time.Since(t)
	}
	close(ping)
	b.StopTimer()
	reportLatency(b, lat)
}

// BenchmarkBridgeFifoPush: a goroutine Pushes b.N values on a Fifo that a coroutine
// Pops. Push never waits, so from a goroutine it is posted without a round trip and a
// burst of pushes costs one eventfd write: the cheap way to stream values in.
func BenchmarkBridgeFifoPush(b *testing.B) {
	var f Fifo[int]
	benchLoop(b, func() {
		f.Len() // bind it to this loop
		b.ResetTimer()
		go func() {
			for i := range b.N {
				f.Push(i)
			}
		}()
		for range b.N {
			f.Pop()
		}
	})
}
