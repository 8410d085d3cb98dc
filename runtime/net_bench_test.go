package coro

import (
	"io"
	"net"
	"syscall"
	"testing"
)

// netProcessCPU is the process's user+system CPU time in ns (all threads): a measure that
// a machine shared with other work disturbs far less than wall time.
func netProcessCPU() int64 {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return ru.Utime.Nano() + ru.Stime.Nano()
}

// Round trips of size bytes over one loopback TCP connection: a client coroutine
// writes, an echo coroutine reads and writes back, the client reads it all. The Go
// variant does the same with package net and two goroutines. Both run in this process,
// so ns/op includes both ends; the difference is what the runtimes add per round trip.

func benchRoundTripCoro(b *testing.B, size int) {
	b.ReportAllocs()
	Spawn(func() {
		cl, srv := netPair(&testing.T{})
		Spawn(func() {
			buf := make([]byte, 64<<10)
			for {
				n, err := srv.Read(buf)
				if err != nil {
					srv.Close()
					return
				}
				srv.Write(buf[:n])
			}
		})
		req := make([]byte, size)
		resp := make([]byte, size)
		b.ResetTimer()
		cpu0 := netProcessCPU()
		for i := 0; i < b.N; i++ {
			cl.Write(req)
			if _, err := io.ReadFull(cl, resp); err != nil {
				b.Error(err)
				break
			}
		}
		b.ReportMetric(float64(netProcessCPU()-cpu0)/float64(b.N), "cpu-ns/op")
		b.StopTimer()
		cl.Close()
	})
	EventLoop()
}

func benchRoundTripGo(b *testing.B, size int) {
	b.ReportAllocs()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		buf := make([]byte, 64<<10)
		for {
			n, err := c.Read(buf)
			if err != nil {
				c.Close()
				return
			}
			c.Write(buf[:n])
		}
	}()
	cl, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		b.Fatal(err)
	}
	defer cl.Close()
	req := make([]byte, size)
	resp := make([]byte, size)
	b.ResetTimer()
	cpu0 := netProcessCPU()
	for i := 0; i < b.N; i++ {
		cl.Write(req)
		if _, err := io.ReadFull(cl, resp); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(netProcessCPU()-cpu0)/float64(b.N), "cpu-ns/op")
}

func BenchmarkNetRoundTrip(b *testing.B) {
	for _, size := range []int{64, 1024, 16384} {
		b.Run("coro/"+netItoa(size), func(b *testing.B) { benchRoundTripCoro(b, size) })
		b.Run("go/"+netItoa(size), func(b *testing.B) { benchRoundTripGo(b, size) })
	}
}

func netItoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b []byte
	for ; n > 0; n /= 10 {
		b = append([]byte{byte('0' + n%10)}, b...)
	}
	return string(b)
}
