//go:build amd64 && gc && !purego

package tsc

import (
	"runtime"
	"testing"
	"time"
)

// Both instruction sequences are tested on every machine, whichever one Now takes here.
func TestRDTSCPMonotonic(t *testing.T) {
	if !hasRDTSCP {
		t.Skip("CPU lacks RDTSCP (CPUID 0x80000001 EDX bit 27)")
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	checkMonotonic(t, rdtscp, 1_000_000)
}

func TestFencedRDTSCMonotonic(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	checkMonotonic(t, rdtscFenced, 1_000_000)
}

// TestPathsReadOneCounter interleaves the two sequences: they must read the same counter,
// so the merged series never goes backwards either.
func TestPathsReadOneCounter(t *testing.T) {
	if !hasRDTSCP {
		t.Skip("CPU lacks RDTSCP")
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	i := 0
	checkMonotonic(t, func() uint64 {
		i++
		if i%2 == 0 {
			return rdtscp()
		}
		return rdtscFenced()
	}, 100_000)
}

// TestCPUIDFlags re-derives Source and Invariant from the raw CPUID bits.
func TestCPUIDFlags(t *testing.T) {
	maxExt, _, _, _ := cpuid(0x80000000, 0)
	if maxExt < 0x80000000 {
		t.Fatalf("CPUID 0x80000000 reports max extended leaf %#x: every amd64 CPU has extended leaves", maxExt)
	}
	var rdtscpBit, invariantBit bool
	if maxExt >= 0x80000001 {
		_, _, _, edx := cpuid(0x80000001, 0)
		rdtscpBit = edx&(1<<27) != 0
	}
	if maxExt >= 0x80000007 {
		_, _, _, edx := cpuid(0x80000007, 0)
		invariantBit = edx&(1<<8) != 0
	}
	wantSource := map[bool]string{true: "rdtscp", false: "rdtsc"}[rdtscpBit]
	if Source() != wantSource || Invariant() != invariantBit {
		t.Errorf("Source %q Invariant %v; CPUID says RDTSCP %v, invariant %v", Source(), Invariant(), rdtscpBit, invariantBit)
	}
	hz, by, exact := reported()
	t.Logf("max extended leaf %#x, RDTSCP %v, invariant %v, stated rate %d by %q (exact %v)", maxExt, rdtscpBit, invariantBit, hz, by, exact)
	if hz != 0 && (hz < 1e8 || hz > 1e11) {
		t.Errorf("CPUID %s states %d Hz, outside any TSC's range", by, hz)
	}
}

func BenchmarkRDTSCP(b *testing.B) {
	if !hasRDTSCP {
		b.Skip("CPU lacks RDTSCP")
	}
	var s uint64
	for b.Loop() {
		s += rdtscp()
	}
	sink = s
}

func BenchmarkFencedRDTSC(b *testing.B) {
	var s uint64
	for b.Loop() {
		s += rdtscFenced()
	}
	sink = s
}

func BenchmarkRDTSCUnordered(b *testing.B) {
	var s uint64
	for b.Loop() {
		s += NowUnordered()
	}
	sink = s
}

// BenchmarkOrdering compares the instruction sequences the way BenchmarkNowVsTime
// compares clocks: the fastest of many interleaved blocks, in ns per read and as ratios
// to the unordered RDTSC.
func BenchmarkOrdering(b *testing.B) {
	if !hasRDTSCP {
		b.Skip("CPU lacks RDTSCP")
	}
	const block = 512
	var best [3]time.Duration
	keep := func(i int, d time.Duration) {
		if best[i] == 0 || d < best[i] {
			best[i] = d
		}
	}
	var s uint64
	for b.Loop() {
		t := time.Now()
		for range block {
			s += NowUnordered()
		}
		keep(0, time.Since(t))

		t = time.Now()
		for range block {
			s += rdtscp()
		}
		keep(1, time.Since(t))

		t = time.Now()
		for range block {
			s += rdtscFenced()
		}
		keep(2, time.Since(t))
	}
	sink = s
	per := func(i int) float64 { return float64(best[i]) / block }
	b.ReportMetric(per(0), "ns/rdtsc")
	b.ReportMetric(per(1), "ns/rdtscp")
	b.ReportMetric(per(2), "ns/mfence+lfence+rdtsc")
	b.ReportMetric(per(1)/per(0), "rdtscp/rdtsc")
	b.ReportMetric(per(2)/per(0), "fenced/rdtsc")
}
