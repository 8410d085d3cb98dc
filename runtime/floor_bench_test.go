package coro

import (
	"iter"
	"testing"
	"time"
)

// BenchmarkSwitchFloor measures what a switch costs when the coroutine switched to is
// cache-cold, as in a server with many connections where each request resumes a
// coroutine that last ran a thousand switches ago (docs/PERFORMANCE.md, echo floor).
// Each variant runs in interleaved blocks and keeps its fastest block, like
// BenchmarkSwitchRatio:
//
//   - pull-hot: one iter.Pull coroutine, next + yield (two runtime switches, both hot);
//   - pull-cold: floorCoros iter.Pull coroutines, next on each in turn (a switch into a
//     cold goroutine and one back to the hot driver);
//   - yield-cold: floorCoros coroutines of this runtime, each Yielding in turn (one
//     switch per Yield, always into a cold coroutine: the echo server's pattern).
//
// The coroutines do no work of their own, so what is cold is only what the switch
// itself touches (the goroutine, its few stack lines, the scheduler's records).
const floorCoros = 1000

func BenchmarkSwitchFloor(b *testing.B) {
	rounds := max(b.N, 5)
	const perBlock = 20 // passes over all floorCoros per block
	var best [3]time.Duration
	for i := range best {
		best[i] = time.Hour
	}
	keep := func(i int, d time.Duration) { best[i] = min(best[i], d) }
	s := NewScheduler()
	s.SetLatencyWarning(0)
	s.Spawn(func() {
		hotNext, hotStop := iter.Pull(func(yield func(struct{}) bool) {
			for yield(struct{}{}) {
			}
		})
		defer hotStop()
		var nexts []func() (struct{}, bool)
		for i := 0; i < floorCoros; i++ {
			next, stop := iter.Pull(func(yield func(struct{}) bool) {
				for yield(struct{}{}) {
				}
			})
			defer stop()
			nexts = append(nexts, next)
		}
		stopYield := false
		for i := 0; i < floorCoros-1; i++ {
			Spawn(func() {
				for !stopYield {
					Yield()
				}
			})
		}
		Yield() // let them all start
		for r := 0; r < rounds; r++ {
			t0 := time.Now()
			for i := 0; i < perBlock*floorCoros; i++ {
				hotNext()
			}
			keep(0, time.Since(t0))
			t0 = time.Now()
			for p := 0; p < perBlock; p++ {
				for _, next := range nexts {
					next()
				}
			}
			keep(1, time.Since(t0))
			t0 = time.Now()
			for p := 0; p < perBlock; p++ {
				Yield() // one pass: floorCoros Yields, ours included
			}
			keep(2, time.Since(t0))
		}
		stopYield = true
	})
	b.ResetTimer()
	s.EventLoop()
	b.StopTimer()
	per := func(i int) float64 { return float64(best[i].Nanoseconds()) / (perBlock * floorCoros) }
	b.ReportMetric(per(0), "pull-hot-ns/rt")
	b.ReportMetric(per(1), "pull-cold-ns/rt")
	b.ReportMetric(per(2), "yield-cold-ns/switch")
	b.ReportMetric(0, "ns/op")
}
