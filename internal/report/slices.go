package report

import (
	"fmt"
	"sort"

	"github.com/coroprof/coroprof/internal/wire"
)

// Diagnoses, the first word of LongSlice.Diagnosis.
const (
	DiagCPU       = "CPU-bound"
	DiagKernelCPU = "CPU-bound in the kernel"
	DiagFaults    = "page faults"
	DiagSyscall   = "blocked in a system call"
	DiagPreempted = "preempted"
	DiagDisk      = "waiting on disk"
	DiagOffCPU    = "off CPU"
	DiagUnknown   = "unknown"
)

// A minor fault costs roughly a microsecond of kernel time; when faults explain at least
// a tenth of a CPU-bound slice, they are the story worth telling.
const minorFaultSeconds = 1e-6

// Diagnose explains a run slice (or any bucket) of the given wall length from its
// counters: a diagnosis and the evidence that supports it. A slice that ran on the CPU
// for most of its wall time is CPU-bound; otherwise the thread was off the CPU, and the
// rusage counters say why: major faults or block input mean disk, voluntary switches
// mean it slept in a system call, involuntary ones that the kernel preempted it.
func (m *Model) Diagnose(q Quantities, wall float64) (string, []string) {
	hasCPU, hasRU := m.Has(wire.CPU), m.Has(wire.Minflt)
	if !hasCPU && !hasRU {
		return DiagUnknown, []string{"ticks only: neither CPU time nor rusage was measured"}
	}
	var ev []string
	cpuFrac := -1.0
	if hasCPU && wall > 0 {
		cpuFrac = q[wire.CPU] / wall
		ev = append(ev, fmt.Sprintf("on CPU %.0f%% of the slice", 100*min(cpuFrac, 1)))
	}
	if hasRU {
		if q[wire.Utime]+q[wire.Stime] > 0 {
			ev = append(ev, fmt.Sprintf("user ≈%s, system ≈%s (estimates)", fmtSeconds(q[wire.Utime]), fmtSeconds(q[wire.Stime])))
		}
		add := func(n uint64, what string) {
			if n > 0 {
				ev = append(ev, fmt.Sprintf("%d %s", n, what))
			}
		}
		add(q.Count(wire.Majflt), "major page faults")
		add(q.Count(wire.Inblock), "block reads")
		add(q.Count(wire.Oublock), "block writes")
		add(q.Count(wire.Nvcsw), "voluntary context switches")
		add(q.Count(wire.Nivcsw), "involuntary context switches")
		add(q.Count(wire.Minflt), "minor page faults")
	}
	offCPU := func() string {
		switch {
		case q.Count(wire.Majflt) > 0 || q.Count(wire.Inblock) > 0:
			return DiagDisk
		case q.Count(wire.Nvcsw) > 0:
			return DiagSyscall
		case q.Count(wire.Nivcsw) > 0:
			return DiagPreempted
		case hasRU && wall > 0 && float64(q.Count(wire.Minflt))*minorFaultSeconds >= 0.1*wall:
			return DiagFaults
		}
		return ""
	}
	if cpuFrac >= 0.8 || (cpuFrac < 0 && offCPU() == "") {
		switch {
		case hasRU && q.Count(wire.Majflt) > 0:
			return DiagDisk, ev // major faults stall even a busy thread
		case hasRU && wall > 0 && float64(q.Count(wire.Minflt))*minorFaultSeconds >= 0.1*wall:
			return DiagFaults, ev
		case hasRU && q[wire.Stime] > q[wire.Utime]:
			return DiagKernelCPU, ev
		}
		return DiagCPU, ev
	}
	if d := offCPU(); d != "" {
		return d, ev
	}
	return DiagOffCPU, append(ev, "no fault, block or switch was counted")
}

func fmtSeconds(s float64) string {
	switch {
	case s == 0:
		return "0 s"
	case s < 1e-3:
		return fmt.Sprintf("%.1f µs", s*1e6)
	case s < 1:
		return fmt.Sprintf("%.2f ms", s*1e3)
	}
	return fmt.Sprintf("%.3f s", s)
}

// Ended says how a slice ended, from its coro.State and wait reason (wire.StateNames:
// a slice ends runnable when it yielded, waiting when it parked, or exited).
func Ended(state, reason uint8) string {
	switch state {
	case 0:
		return "yielded"
	case 2:
		if int(reason) < len(wire.WaitReasonNames) {
			return "waiting: " + wire.WaitReasonNames[reason]
		}
		return fmt.Sprintf("waiting: reason %d", reason)
	}
	if int(state) < len(wire.StateNames) {
		return wire.StateNames[state]
	}
	return fmt.Sprintf("state %d", state)
}

func (m *Model) sinceStart(tick uint64) float64 {
	return m.Seconds(float64(int64(tick - m.startTick)))
}

// CoroName names a coroutine by id ("coroutine ID" when the ledger lacks it).
func (m *Model) CoroName(id uint64) string {
	if c, ok := m.Coroutine(id); ok {
		return c.Name
	}
	return fmt.Sprintf("coroutine %d", id)
}

func (m *Model) buildSlices() {
	p := m.profile
	if len(p.Slices) > 0 {
		m.Slices = make([]Slice, len(p.Slices))
		for i, s := range p.Slices {
			var ticks uint64
			if s.End > s.Start {
				ticks = s.End - s.Start
			}
			m.Slices[i] = Slice{Coro: s.CoroID, Loop: s.Loop, Start: m.sinceStart(s.Start),
				End: m.sinceStart(s.Start) + m.Seconds(float64(ticks)), Ended: Ended(s.State, s.Reason),
				Site: m.Site(s.Site), Ticks: ticks, StartTick: s.Start}
		}
	}
	for _, s := range p.LongSlices {
		q := vecOf(s.Counters).Quantities()
		ls := LongSlice{Coro: s.CoroID, Name: m.CoroName(s.CoroID), Loop: s.Loop, Start: m.sinceStart(s.Start),
			Quantities: q, Seconds: m.Seconds(float64(s.Counters[wire.Ticks])), Ended: Ended(s.State, s.Reason), Site: m.Site(s.Site)}
		ls.Diagnosis, ls.Evidence = m.Diagnose(q, ls.Seconds)
		m.LongSlices = append(m.LongSlices, ls)
	}
	sort.SliceStable(m.LongSlices, func(i, j int) bool { return m.LongSlices[i].Ticks() > m.LongSlices[j].Ticks() })
}
