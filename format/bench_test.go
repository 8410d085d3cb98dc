//go:build unix

package format

import (
	"bytes"
	"encoding/gob"
	"io"
	"math/rand/v2"
	"slices"
	"sync"
	"syscall"
	"testing"
	"time"
)

// The large profile of docs/PERFORMANCE.md: 100k coroutines and 1M aggregated sample
// stacks, plus the other lists at sizes a long profiling run reaches.
var largeOpts = SynthOptions{Coroutines: 100_000, Samples: 1_000_000, Slices: 100_000, LongSlices: 100, Regions: 50, Funcs: 2000}

var large = sync.OnceValue(func() *Profile { return Synthetic(42, largeOpts) })

func largeFile(b *testing.B) []byte {
	b.Helper()
	return mustWrite(b, large())
}

func BenchmarkWrite(b *testing.B) {
	p := large()
	n := len(largeFile(b))
	b.SetBytes(int64(n))
	b.ReportAllocs()
	b.ResetTimer()
	defer reportCPU(b, processCPU())
	for b.Loop() {
		if err := Write(io.Discard, p); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n)/1e6, "file-MB")
}

// BenchmarkWriteUnsorted is Write of the same profile with its lists shuffled, as a
// profiler that fills them from maps hands them over: the price of the canonical sort.
func BenchmarkWriteUnsorted(b *testing.B) {
	q := *large()
	r := rand.New(rand.NewPCG(1, 2))
	q.Coroutines = slices.Clone(q.Coroutines)
	q.Samples = slices.Clone(q.Samples)
	q.WaitSites = slices.Clone(q.WaitSites)
	shuffle(r, q.Coroutines)
	shuffle(r, q.Samples)
	shuffle(r, q.WaitSites)
	b.SetBytes(int64(len(largeFile(b))))
	b.ReportAllocs()
	b.ResetTimer()
	defer reportCPU(b, processCPU())
	for b.Loop() {
		if err := Write(io.Discard, &q); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkRead(b *testing.B) {
	data := largeFile(b)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	b.ResetTimer()
	defer reportCPU(b, processCPU())
	for b.Loop() {
		if _, err := Read(bytes.NewReader(data)); err != nil {
			b.Fatal(err)
		}
	}
}

// The baselines: encoding/gob of the same Profile, the obvious alternative to a
// hand-written format, measured in the same run so the ratios survive a noisy machine.
func BenchmarkGobEncode(b *testing.B) {
	p := large()
	var buf bytes.Buffer
	if err := gob.NewEncoder(&buf).Encode(p); err != nil {
		b.Fatal(err)
	}
	n := buf.Len()
	b.SetBytes(int64(len(largeFile(b)))) // MB/s of the format's file, so the columns compare time
	b.ReportAllocs()
	b.ResetTimer()
	defer reportCPU(b, processCPU())
	for b.Loop() {
		buf.Reset()
		if err := gob.NewEncoder(&buf).Encode(p); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n)/1e6, "file-MB")
}

func BenchmarkGobDecode(b *testing.B) {
	var buf bytes.Buffer
	if err := gob.NewEncoder(&buf).Encode(large()); err != nil {
		b.Fatal(err)
	}
	data := buf.Bytes()
	b.SetBytes(int64(len(largeFile(b))))
	b.ReportAllocs()
	b.ResetTimer()
	defer reportCPU(b, processCPU())
	for b.Loop() {
		var p Profile
		if err := gob.NewDecoder(bytes.NewReader(data)).Decode(&p); err != nil {
			b.Fatal(err)
		}
	}
}

// processCPU is the CPU time the process has used (all threads, GC included). The
// machine these benchmarks run on is shared, so wall time per op swings with other
// load; CPU time per op is what the code costs and varies much less.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func reportCPU(b *testing.B, start time.Duration) {
	b.ReportMetric(float64(processCPU()-start)/1e6/float64(b.N), "cpu-ms/op")
}
