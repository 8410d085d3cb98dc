package render

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/coroprof/coroprof/internal/report"
	"github.com/coroprof/coroprof/internal/wire"
)

// JSONSchema names the layout of -json's output (docs/JSON.md). It changes only when a
// key changes meaning or disappears; new keys are added without changing it.
const JSONSchema = "coroprof.report/1"

// jsonReport is the model plus the keys that say how to read it. The model is embedded
// so its keys (clock, measured, total_ticks, main, wait, coroutines, functions, …) stay
// at the top level where docs/JSON.md (Stability) fixes them.
type jsonReport struct {
	Schema string `json:"schema"`
	*report.Model
	Estimates jsonEstimates `json:"estimates"`
}

// jsonEstimates says which figures are estimates, so a script need not know the
// accounting rules to weigh a number.
type jsonEstimates struct {
	// Quantities that are estimates wherever they appear (coroutines, main, wait,
	// loops, regions): utime and stime split the exact CPU time in getrusage's ratio.
	Always []string `json:"always"`
	// Functions with "estimate": true carry these quantities as estimates scaled from
	// samples; their "samples" counts are exact.
	SampledFunctions []string `json:"sampled_functions"`
	// Functions of kind "unlabelled" (samples outside any coroutine) carry only these
	// quantities, as pprof's sampled estimates; their other quantities are zero because
	// nothing measured them, and their samples counts are exact.
	UnlabelledFunctions []string `json:"unlabelled_functions"`
	Note                string   `json:"note"`
}

func (m model) estimates() jsonEstimates {
	e := jsonEstimates{Always: []string{}, SampledFunctions: []string{}, UnlabelledFunctions: []string{},
		Note: "coroutines, main, wait and regions are exact except the quantities in always; a function of kind sampled has every quantity but samples scaled from its share of each coroutine's samples; " +
			"a function of kind unlabelled comes from samples outside any coroutine (off the loop, or the scheduler between coroutines) and carries only pprof's sampled cpu, which is in no bucket; closure entries with estimate=true (utime, stime) need not close"}
	if m.Has(wire.Utime) {
		e.Always = append(e.Always, "utime", "stime")
	}
	if m.Has(wire.CPU) {
		e.UnlabelledFunctions = append(e.UnlabelledFunctions, "cpu")
	}
	for q := wire.Ticks; q < wire.NumCounters; q++ {
		if m.Has(q) {
			e.SampledFunctions = append(e.SampledFunctions, wire.CounterNames[q])
		}
	}
	return e
}

// writeJSON writes the whole model as indented JSON (documented in docs/JSON.md).
func writeJSON(w io.Writer, rm *report.Model) error {
	m := model{rm}
	return encodeJSON(w, jsonReport{Schema: JSONSchema, Model: rm, Estimates: m.estimates()})
}

func encodeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false) // for scripts and terminals, not for embedding in a page
	if err := enc.Encode(v); err != nil {
		return fmt.Errorf("writing JSON: %w", err)
	}
	return nil
}

// writeCompareJSON writes the comparison as indented JSON (docs/JSON.md, "Comparison").
func writeCompareJSON(w io.Writer, c *report.Comparison) error {
	return encodeJSON(w, struct {
		Schema string `json:"schema"`
		Kind   string `json:"kind"`
		*report.Comparison
	}{JSONSchema, "comparison", c})
}
