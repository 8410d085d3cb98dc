package profiler

import (
	"math"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	coro "github.com/coroprof/coroprof/runtime"
	"github.com/coroprof/coroprof/tsc"
)

// The experiment behind "Cheaper ways to keep CPU time exact" in doc.go: would
// reading the thread CPU clock only when getrusage shows the thread was switched out
// (nvcsw or nivcsw changed), and otherwise converting ticks to CPU time, be close
// enough? BenchmarkReconcile records every boundary of a 1:2:3 workload (with one
// coroutine that blocks its thread now and then, the case a profiler must catch) with
// all three clocks, then replays the boundaries through that cheaper scheme and
// reports how far its per-coroutine CPU figures land from the exact ones.

type boundary struct {
	bucket int // coroutine index, or -1 for everything between slices
	ticks  uint64
	cpu    uint64
	csw    uint64
}

func readBoundary(bucket int) boundary {
	var ts unix.Timespec
	var ru unix.Rusage
	t := tsc.Now()
	_ = unix.ClockGettime(clockThreadCPU, &ts)
	_ = unix.Getrusage(rusageThread, &ru)
	return boundary{bucket: bucket, ticks: t, cpu: uint64(ts.Nano()), csw: uint64(ru.Nvcsw + ru.Nivcsw)}
}

func BenchmarkReconcile(b *testing.B) {
	for i := 0; i < b.N; i++ {
		var trace []boundary
		body := func(k int) func() {
			return func() {
				for j := 0; j < 100; j++ {
					trace = append(trace, readBoundary(k))
					burnCPU(time.Duration(k+1) * 200 * time.Microsecond)
					if k == 0 && j%10 == 0 {
						time.Sleep(200 * time.Microsecond) // blocks the loop thread
					}
					trace = append(trace, readBoundary(-1))
					coro.Yield()
				}
			}
		}
		for k := 0; k < 3; k++ {
			coro.Spawn(body(k))
		}
		coro.EventLoop()
		exact, est, reads := replay(trace, 3)
		var sumE, sumR float64
		for k := 0; k < 3; k++ {
			sumE += exact[k]
			sumR += est[k]
		}
		var worstPts, worstRel float64
		for k := 0; k < 3; k++ {
			worstPts = math.Max(worstPts, 100*math.Abs(exact[k]/sumE-est[k]/sumR))
			worstRel = math.Max(worstRel, 100*math.Abs(est[k]-exact[k])/exact[k])
		}
		b.ReportMetric(worstPts, "worst-share-err-pts")
		b.ReportMetric(worstRel, "worst-cpu-err-%")
		b.ReportMetric(100*reads, "clock-reads-%")
	}
}

// replay charges each interval of trace to the bucket that opened it, exactly (the CPU
// clock at every boundary) and by the cheaper scheme: the clock read only at
// boundaries where the context-switch count moved (and at the end); the intervals in
// between without a switch get their ticks converted to nanoseconds, and the interval
// with the switch gets the rest of the clock's delta (if the rest is negative, the
// window's delta is split by ticks).
func replay(trace []boundary, n int) (exact, est []float64, readShare float64) {
	exact, est = make([]float64, n), make([]float64, n)
	nsPerTick := 1e9 / float64(tsc.Frequency())
	type iv struct {
		bucket int
		ticks  float64
	}
	var window []iv
	last := 0 // index of the last boundary whose clock was read
	reads := 1
	for i := 1; i < len(trace); i++ {
		p, c := trace[i-1], trace[i]
		if p.bucket >= 0 {
			exact[p.bucket] += float64(c.cpu - p.cpu)
		}
		window = append(window, iv{p.bucket, float64(c.ticks - p.ticks)})
		if c.csw == p.csw && i != len(trace)-1 {
			continue
		}
		reads++
		d := float64(c.cpu - trace[last].cpu)
		var assumed, allTicks float64
		for _, w := range window[:len(window)-1] {
			assumed += w.ticks * nsPerTick
		}
		for _, w := range window {
			allTicks += w.ticks
		}
		rest := d - assumed
		for j, w := range window {
			var v float64
			switch {
			case rest < 0:
				v = d * w.ticks / allTicks
			case j == len(window)-1:
				v = rest
			default:
				v = w.ticks * nsPerTick
			}
			if w.bucket >= 0 {
				est[w.bucket] += v
			}
		}
		window, last = window[:0], i
	}
	return exact, est, float64(reads) / float64(len(trace))
}
