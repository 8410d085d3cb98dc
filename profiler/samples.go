package profiler

import (
	"bytes"
	"fmt"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"

	"github.com/google/pprof/profile"

	"github.com/coroprof/coroprof/format"
	"github.com/coroprof/coroprof/internal/wire"
)

// The pprof labels each coroutine sets on its own goroutine at its first Resume of a
// session (CPU samples taken while it runs carry them) are wire.LabelCoroID and
// wire.LabelCoroName.

// startSampling starts runtime/pprof's CPU profile into a buffer. A profile already
// running elsewhere in the program (StartCPUProfile fails) is not fatal: the exact
// ledger does not need it, and the profile says why it has no samples.
//
// Rates above 100 Hz: runtime/pprof has no rate parameter (golang/go #42502), so the
// rate is set with runtime.SetCPUProfileRate just before StartCPUProfile. That works,
// but StartCPUProfile's own SetCPUProfileRate(100) then finds profiling on and the
// runtime prints "runtime: cannot set cpu profile rate until previous profile has
// finished." to standard error (golang/go #79900). We accept that line rather than
// hide it (redirecting fd 2 would swallow the program's own output); the profile's
// notes record the rate, and sample weights come from the period the runtime wrote
// into the profile, so they stay right at any rate.
func (s *session) startSampling() {
	hz := s.opts.sampleRate
	if hz <= 0 {
		return
	}
	if hz > DefaultSampleRate {
		runtime.SetCPUProfileRate(hz)
	}
	if err := pprof.StartCPUProfile(&s.cpuBuf); err != nil {
		// (Our SetCPUProfileRate call, if any, found the other profile running and
		// changed nothing: nothing to undo.)
		s.meta.Notes = append(s.meta.Notes, fmt.Sprintf(
			"no CPU samples: a CPU profile was already running in this program (%v); the exact ledger is complete", err))
		return
	}
	s.sampling = true
	s.sampleRate = hz
	if hz > DefaultSampleRate {
		s.meta.Notes = append(s.meta.Notes, fmt.Sprintf(
			"CPU samples at %d Hz, set with runtime.SetCPUProfileRate (the Go runtime printed a warning about it)", hz))
	}
}

// stopSampling stops the CPU profile and turns it into symbolised, aggregated samples.
func (s *session) stopSampling(sym *symtab, p *format.Profile) {
	if !s.sampling {
		return
	}
	pprof.StopCPUProfile()
	s.sampling = false
	if err := s.addSamples(sym, p, s.cpuBuf.Bytes()); err != nil {
		s.meta.Notes = append(s.meta.Notes, "CPU samples lost: "+err.Error())
	}
	s.cpuBuf = bytes.Buffer{}
}

// addSamples parses a runtime/pprof CPU profile and aggregates its samples by
// (coroutine, stack). Samples without a coro_id label ran outside any coroutine (the
// scheduler goroutine, or other goroutines of the program) and get CoroID 0.
func (s *session) addSamples(sym *symtab, p *format.Profile, data []byte) error {
	if len(data) == 0 {
		return nil
	}
	prof, err := profile.Parse(bytes.NewReader(data))
	if err != nil {
		return fmt.Errorf("parsing the CPU profile: %w", err)
	}
	countIdx, nanosIdx := -1, -1
	for i, st := range prof.SampleType {
		switch {
		case st.Type == "samples" && st.Unit == "count":
			countIdx = i
		case st.Type == "cpu" && st.Unit == "nanoseconds":
			nanosIdx = i
		}
	}
	if countIdx < 0 {
		return fmt.Errorf("the CPU profile has no samples/count value (types %v)", prof.SampleType)
	}
	// Locations expand to one LocID per line: a pprof Location with inlined calls
	// lists them leaf first, which is the order format.Sample.Stack wants.
	locIDs := make(map[uint64][]format.LocID, len(prof.Location))
	for _, l := range prof.Location {
		ids := make([]format.LocID, 0, len(l.Line))
		for _, ln := range l.Line {
			if ln.Function == nil {
				continue
			}
			ids = append(ids, sym.loc(ln.Function.Name, ln.Function.Filename, ln.Function.StartLine, ln.Line))
		}
		if len(ids) == 0 { // unsymbolised: keep the address as the name
			ids = append(ids, sym.loc(fmt.Sprintf("0x%x", l.Address), "", 0, 0))
		}
		locIDs[l.ID] = ids
	}
	type key struct {
		coro  uint64
		stack string
	}
	agg := make(map[key]int)
	var sb strings.Builder
	for _, smp := range prof.Sample {
		var coroID uint64
		if v := smp.Label[wire.LabelCoroID]; len(v) > 0 {
			coroID, _ = strconv.ParseUint(v[0], 10, 64)
		}
		var stack []format.LocID
		for _, l := range smp.Location {
			stack = append(stack, locIDs[l.ID]...)
		}
		sb.Reset()
		for _, id := range stack {
			sb.WriteString(strconv.FormatUint(uint64(id), 36))
			sb.WriteByte(',')
		}
		k := key{coroID, sb.String()}
		count := uint64(smp.Value[countIdx])
		var nanos uint64
		if nanosIdx >= 0 {
			nanos = uint64(smp.Value[nanosIdx])
		} else {
			nanos = count * uint64(prof.Period)
		}
		if i, ok := agg[k]; ok {
			p.Samples[i].Count += count
			p.Samples[i].Nanos += nanos
			continue
		}
		agg[k] = len(p.Samples)
		p.Samples = append(p.Samples, format.Sample{CoroID: coroID, Stack: stack, Count: count, Nanos: nanos})
	}
	return nil
}
