package coro

import (
	"runtime"
	"sync/atomic"
	"testing"
)

func BenchmarkClockNanotime(b *testing.B) {
	var x int64
	for i := 0; i < b.N; i++ {
		x += nanotime()
	}
	sink = x
}

var sink int64

func BenchmarkAtomicStore(b *testing.B) {
	var v atomic.Uint64
	for i := 0; i < b.N; i++ {
		v.Store(uint64(i))
	}
}

// BenchmarkCallers1 is the cost of recording one caller pc, as recording the wait
// site at every park would.
func BenchmarkCallers1(b *testing.B) {
	var pc [1]uintptr
	for i := 0; i < b.N; i++ {
		runtime.Callers(3, pc[:])
	}
}
