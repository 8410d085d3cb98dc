package coro

import (
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// BenchmarkWakeLatency: a goroutine wakes a coroutine parked in Sleep (Interrupt from
// outside the loop: an inbox post and an eventfd write) while the loop is blocked in
// epoll_wait; measured from just before the post to the coroutine running again. Two
// baselines in the same run: the floor, a bare locked thread blocked in epoll_wait on
// an eventfd that the goroutine writes, and a goroutine parked on a channel.
func BenchmarkWakeLatency(b *testing.B) {
	const samples = 2000
	var t0, got atomic.Int64

	// the runtime
	lat := make([]time.Duration, 0, samples)
	s := NewScheduler()
	s.SetLatencyWarning(0)
	c := s.Spawn(func() {
		for i := 0; i < samples; i++ {
			Sleep(time.Hour)
			lat = append(lat, time.Duration(nanotime()-t0.Load()))
			got.Add(1)
		}
	})
	go wakeWriter(samples, &t0, &got, func() { c.Interrupt(nil) })
	s.EventLoop()

	// the floor
	got.Store(0)
	floor := make([]time.Duration, 0, samples)
	epfd, _ := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	efd, _ := unix.Eventfd(0, unix.EFD_NONBLOCK|unix.EFD_CLOEXEC)
	unix.EpollCtl(epfd, unix.EPOLL_CTL_ADD, efd, &unix.EpollEvent{Events: unix.EPOLLIN})
	done := make(chan struct{})
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		evs := make([]unix.EpollEvent, 1)
		var buf [8]byte
		for len(floor) < samples {
			if n, _ := unix.EpollWait(epfd, evs, -1); n == 1 {
				floor = append(floor, time.Duration(nanotime()-t0.Load()))
				unix.Read(efd, buf[:])
				got.Add(1)
			}
		}
		close(done)
	}()
	wakeWriter(samples, &t0, &got, func() { unix.Write(efd, []byte{1, 0, 0, 0, 0, 0, 0, 0}) })
	<-done
	unix.Close(efd)
	unix.Close(epfd)

	// goroutine on a channel
	got.Store(0)
	base := make([]time.Duration, 0, samples)
	ch := make(chan struct{})
	go func() {
		for range ch {
			base = append(base, time.Duration(nanotime()-t0.Load()))
			got.Add(1)
		}
	}()
	wakeWriter(samples, &t0, &got, func() { ch <- struct{}{} })
	close(ch)

	b.ReportMetric(pctl(lat, 0.5), "p50-µs")
	b.ReportMetric(pctl(lat, 0.9), "p90-µs")
	b.ReportMetric(pctl(lat, 0.99), "p99-µs")
	b.ReportMetric(pctl(floor, 0.5), "eventfd-p50-µs")
	b.ReportMetric(pctl(floor, 0.9), "eventfd-p90-µs")
	b.ReportMetric(pctl(base, 0.5), "chan-p50-µs")
	b.ReportMetric(0, "ns/op")
}
