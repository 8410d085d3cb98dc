package profiler

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coroprof/coroprof/format"
	"github.com/coroprof/coroprof/internal/wire"
	coro "github.com/coroprof/coroprof/runtime"
)

// TestMeasuredFollowsPlatform takes per-thread clocks away as darwin (no per-thread
// rusage) and NetBSD (no thread CPU clock either) lack them, on this machine: the
// profile must say it measured only what it did, carry a note naming the OS's gap,
// hold zeros for the rest, and still close exactly.
func TestMeasuredFollowsPlatform(t *testing.T) {
	saved := threadClocks
	t.Cleanup(func() { threadClocks = saved })
	for _, tc := range []struct {
		name     string
		caps     clockCaps
		opts     []Option
		measured format.Measured // of MeasCPU|MeasRusage
		note     string
	}{
		{"darwin", clockCaps{cpu: true}, nil, format.MeasCPU, "no per-thread getrusage"},
		{"darwin-reconciled", clockCaps{cpu: true}, []Option{ReconciledCPU()}, format.MeasCPU, "ReconciledCPU needs per-thread rusage: ignored"},
		{"netbsd", clockCaps{}, nil, 0, "no per-thread CPU clock"},
		{"linux", clockCaps{cpu: true, rusage: true}, nil, format.MeasCPU | format.MeasRusage, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			threadClocks = tc.caps
			p := runProfiled(t, append([]Option{SampleRate(0)}, tc.opts...), func() {
				burnCPU(2 * time.Millisecond)
				coro.Sleep(time.Millisecond)
			})
			checkConservation(t, p)
			if got := p.Measured & (format.MeasCPU | format.MeasRusage); got != tc.measured {
				t.Errorf("measured %#x of cpu|rusage, want %#x", got, tc.measured)
			}
			hasNote := slices.ContainsFunc(p.Meta.Notes, func(n string) bool { return tc.note != "" && strings.Contains(n, tc.note) })
			if tc.note != "" && !hasNote {
				t.Errorf("notes %q lack %q", p.Meta.Notes, tc.note)
			}
			// Besides the note of how the CPU clock was read (perfpage_linux.go,
			// TestCPUClockNote), nothing is missing, so nothing is noted.
			others := slices.DeleteFunc(slices.Clone(p.Meta.Notes), func(n string) bool { return strings.HasPrefix(n, "thread CPU clock:") })
			if tc.note == "" && len(others) != 0 {
				t.Errorf("full clocks, yet notes %q", others)
			}
			tot := p.Loops[0].Total
			if tc.measured&format.MeasCPU == 0 && tot[wire.CPU] != 0 {
				t.Errorf("CPU not measured, yet total CPU %d", tot[wire.CPU])
			}
			if tc.measured&format.MeasCPU != 0 && tot[wire.CPU] < uint64(2*time.Millisecond) {
				t.Errorf("CPU measured, total CPU %v, want at least the 2ms burnt", time.Duration(tot[wire.CPU]))
			}
			if tc.measured&format.MeasRusage == 0 {
				for _, q := range []wire.Counter{wire.Minflt, wire.Majflt, wire.Inblock, wire.Oublock, wire.Nvcsw, wire.Nivcsw} {
					if tot[q] != 0 {
						t.Errorf("rusage not measured, yet total %s %d", wire.CounterNames[q], tot[q])
					}
				}
			}
		})
	}
}
