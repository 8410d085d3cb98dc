package render

import (
	"bytes"
	"strings"
	"testing"

	"github.com/coroprof/coroprof/format"
	"github.com/coroprof/coroprof/internal/report"
	"github.com/coroprof/coroprof/internal/synth"
	"github.com/coroprof/coroprof/internal/wire"
)

// TestWriteHTMLEscapes: hostile names in every place the page shows them (header,
// tables' JSON, call graph, longest slices, flame graph) never appear as markup.
func TestWriteHTMLEscapes(t *testing.T) {
	const evil = "<script>alert(1)</script>"
	p := synth.Hand()
	p.Meta.Program = evil
	p.Meta.Args = []string{evil, "</script><!--"}
	p.Meta.Notes = []string{evil}
	p.Coroutines[1].Name = evil // coroutine a: has samples and a long slice
	p.Funcs[1].Name = evil      // f: sampled, in the call graph and the flame graph
	p.Regions[0].Name = evil
	var b bytes.Buffer
	if err := writeHTML(&b, mustBuild(t, p).Model, HTMLOptions{Echarts: "/* echarts stub */"}); err != nil {
		t.Fatal(err)
	}
	page := b.String()
	if n := strings.Count(page, "<script"); n != 3 {
		t.Errorf("%d <script elements, want the page's own 3", n)
	}
	if strings.Contains(page, "alert(1)</script>") || strings.Contains(page, "</script><!--") {
		t.Error("a user string reached the page unescaped")
	}
	for _, want := range []string{
		"&lt;script&gt;alert(1)&lt;/script&gt;",             // html/template in the header, call graph, slices
		`\u003cscript\u003ealert(1)\u003c/script\u003e`,     // JSON for the script
		"/* echarts stub */",                                // the runtime given
		`<div class="cg" id="cg-`,                           // a call graph
		`<b class="diag">`,                                  // diagnosed slices
		`<script type="application/json" id="report-data">`, // the data
	} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
}

// TestTablesHideZeroColumns: a column that is zero in every row is not sent at all,
// and one that is not zero stays.
func TestTablesHideZeroColumns(t *testing.T) {
	m := mustBuild(t, synth.Hand())
	keys := func(tb *table) string {
		var k []string
		for _, c := range tb.Cols {
			k = append(k, c.Key)
		}
		return " " + strings.Join(k, " ") + " "
	}
	co := keys(m.coroutineTable())
	for _, gone := range []string{" majflt ", " inblock ", " oublock ", " waits ", " runnable "} {
		if strings.Contains(co, gone) {
			t.Errorf("coroutine table keeps all-zero column%s: %s", gone, co)
		}
	}
	for _, kept := range []string{" ticks ", " cpu ", " minflt ", " nvcsw ", " nivcsw ", " samples ", " name "} {
		if !strings.Contains(co, kept) {
			t.Errorf("coroutine table lost column%s: %s", kept, co)
		}
	}
	in := make([]bool, len(m.Functions))
	self := m.functionTable("self", false, in)
	if k := keys(self); !strings.Contains(k, " calls ") || !strings.Contains(k, " samples ") || !strings.Contains(k, " ticks/call ") {
		t.Errorf("self table columns %s: want calls (regions), samples and ticks/call", k)
	}
	// <wait> first, without percentages; <main> second.
	if self.Rows[0][2] != "<wait>" || self.Rows[0][1].(int)&rowNoPct == 0 || self.Rows[1][2] != "<main>" {
		t.Errorf("bucket rows %v / %v", self.Rows[0], self.Rows[1])
	}
}

// TestWriteHTMLEmpty: a profile with one loop and nothing else still makes a page that
// says what is missing.
func TestWriteHTMLEmpty(t *testing.T) {
	p := synth.Hand()
	p.Coroutines, p.Samples, p.Regions, p.RegionEdges, p.Slices, p.LongSlices, p.WaitSites = nil, nil, nil, nil, nil, nil, nil
	p.Measured = 0
	p.Clock.TicksPerSecond = 0
	var b bytes.Buffer
	if err := writeHTML(&b, mustBuild(t, p).Model, HTMLOptions{Echarts: "/**/"}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"No call graph", "No flame graph", "No timeline", "no long slices"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("empty profile's page lacks %q", want)
		}
	}
}

// TestEstimateMarks: every figure in the function tables is exact or marked as an
// estimate: utime and stime (and their /call columns) in the heading, everything a
// sampled row scales in its cells; unlabelled rows carry pprof's CPU alone, marked and
// without a percentage; and the header's closure error ignores the utime/stime split.
func TestEstimateMarks(t *testing.T) {
	p := synth.Hand()
	p.Regions[0].Self[wire.Utime], p.Regions[0].Self[wire.Stime] = 50, 30 // keep the /call columns
	p.Regions[0].Cumulative[wire.Utime], p.Regions[0].Cumulative[wire.Stime] = 50, 30
	p.Coroutines[0].Counters[wire.Utime] += 3 // utime/stime drift; every exact quantity closes
	p.Coroutines[0].Counters[wire.Stime] -= 3
	m := mustBuild(t, p)
	in := make([]bool, len(m.Functions))
	self := m.functionTable("self", false, in)
	col := map[string]column{}
	for _, c := range self.Cols {
		col[c.Key] = c
	}
	for _, k := range []string{"utime", "stime", "utime/call", "stime/call"} {
		c, ok := col[k]
		if !ok || !strings.Contains(c.Label, "≈") || !c.Est {
			t.Errorf("column %s %+v: always an estimate, want ≈ in its heading", k, c)
		}
	}
	for _, k := range []string{"ticks", "secs", "cpu", "minflt", "nvcsw"} {
		if !col[k].Est {
			t.Errorf("column %s: sampled rows' figures are estimates, want Est", k)
		}
	}
	for _, k := range []string{"calls", "samples", "ticks/call"} {
		if col[k].Est || strings.Contains(col[k].Label, "≈") {
			t.Errorf("column %s is an exact count, marked as an estimate", k)
		}
	}
	found := false
	for _, r := range self.Rows {
		if r[3] != report.KindUnlabelled {
			continue
		}
		found = true
		if f := r[1].(int); f&rowEstimate == 0 || f&rowNoPct == 0 {
			t.Errorf("unlabelled row flags %b: want estimate and no percentage", f)
		}
		for i, c := range self.Cols {
			v := r[2+i]
			switch c.Key {
			case "name", "kind", "samples":
			case "cpu":
				if v != 0.01 {
					t.Errorf("unlabelled row cpu %v, want pprof's 0.01 s", v)
				}
			default:
				if v != nil {
					t.Errorf("unlabelled row has %s = %v: nothing measured it", c.Key, v)
				}
			}
		}
	}
	if !found {
		t.Error("no unlabelled row in the self table")
	}
	var b bytes.Buffer
	if err := writeHTML(&b, m.Model, HTMLOptions{Echarts: "/**/"}); err != nil {
		t.Fatal(err)
	}
	page := b.String()
	if !strings.Contains(page, `<dd id="closure" class="ok">0: every exact quantity closes exactly`) {
		t.Errorf("closure error is not the exact quantities' 0:\n%s", page[strings.Index(page, `id="closure"`)-20:][:300])
	}
	if !strings.Contains(page, `<dd id="closure-est" class="est">≈ estimates`) {
		t.Error("page lacks the utime/stime closure marked as an estimate")
	}
}

// TestIntroSaysWhatWasMeasured: the intro names CPU time, rusage and the utime/stime
// estimates only when the profile measured them, and the unlabelled paragraph only
// when it holds samples.
func TestIntroSaysWhatWasMeasured(t *testing.T) {
	intro := func(p *format.Profile) string {
		var b bytes.Buffer
		if err := writeHTML(&b, mustBuild(t, p).Model, HTMLOptions{Echarts: "/* stub */"}); err != nil {
			t.Fatal(err)
		}
		page := b.String()
		i := strings.Index(page, `<p class="legend" id="intro">`)
		if i < 0 {
			t.Fatal("page has no intro")
		}
		return page[i : i+strings.Index(page[i:], "</p>")]
	}
	full := intro(synth.Hand())
	for _, want := range []string{"tick, CPU nanosecond and rusage event", "utime and stime", "unlabelled"} {
		if !strings.Contains(full, want) {
			t.Errorf("full profile's intro lacks %q:\n%s", want, full)
		}
	}
	p := synth.Hand()
	p.Measured = format.MeasTicks | format.MeasSamples
	if withSamples := intro(p); !strings.Contains(withSamples, "only their sample counts") || strings.Contains(withSamples, "pprof") ||
		strings.Contains(withSamples, "nanosecond") || strings.Contains(withSamples, "utime") {
		t.Errorf("ticks and samples intro:\n%s", withSamples)
	}
	p.Measured = format.MeasTicks | format.MeasRegions
	ticks := intro(p)
	if !strings.Contains(ticks, "Every tick between Start and Stop") {
		t.Errorf("ticks-only intro:\n%s", ticks)
	}
	for _, bad := range []string{"CPU", "nanosecond", "rusage", "utime", "stime", "unlabelled"} { // no samples either
		if strings.Contains(ticks, bad) {
			t.Errorf("ticks-only intro mentions %q:\n%s", bad, ticks)
		}
	}
}

// TestSelfTableDropsEmptyRows: a function with neither self samples nor calls has
// no Non-Aggregate row but keeps its Aggregate row, and its call-graph entry links
// back to the Aggregate table.
func TestSelfTableDropsEmptyRows(t *testing.T) {
	m := mustBuild(t, synth.Hand())
	graph, inGraph, _ := m.callGraph(1000)
	self, cum := m.functionTable("self", false, inGraph), m.functionTable("cumulative", true, inGraph)
	rowsOf := func(tb *table) map[int]bool {
		r := map[int]bool{}
		for _, row := range tb.Rows {
			if i := row[0].(int); i >= 0 {
				r[i] = true
			}
		}
		return r
	}
	inSelf, inCum := rowsOf(self), rowsOf(cum)
	dropped := 0
	for i := range m.Functions {
		f := &m.Functions[i]
		empty := f.Self.Calls == 0 && f.Self.Samples == 0
		if inSelf[i] == empty {
			t.Errorf("%s (self calls %d, samples %d): in self table %v", f.Name, f.Self.Calls, f.Self.Samples, inSelf[i])
		}
		if !inCum[i] {
			t.Errorf("%s missing from the cumulative table", f.Name)
		}
		if empty {
			dropped++
		}
	}
	if dropped == 0 {
		t.Fatal("hand profile has no function without self cost: the test checks nothing")
	}
	for _, e := range graph {
		if want := map[bool]string{true: "self", false: "cumulative"}[inSelf[e.Index]]; e.Back != want {
			t.Errorf("call graph entry %s links back to %q, want %q", e.Name, e.Back, want)
		}
	}
}

// TestHeaderMergedFromData: the header's process says a page sums several profiles
// from Meta.Merged, which the merge sets, and never from a note's text: a single
// run whose note happens to read "merged 3 profiles" keeps its pid.
func TestHeaderMergedFromData(t *testing.T) {
	p := synth.Hand()
	p.Meta.PID = 4242
	p.Meta.Notes = []string{"merged 3 profiles: a user's own note"}
	m := mustBuild(t, p)
	if got, want := m.processText(), "pid 4242"; got != want {
		t.Errorf("one run: process %q, want %q", got, want)
	}
	p.Meta.PID = 0
	if got, want := mustBuild(t, p).processText(), "pid not recorded"; got != want {
		t.Errorf("one run without a pid: process %q, want %q", got, want)
	}
	m.Meta.PID, m.Meta.Merged = 0, 2
	if got, want := m.processText(), "merged 2 profiles, pids in the note below"; got != want {
		t.Errorf("merged: process %q, want %q", got, want)
	}
}
