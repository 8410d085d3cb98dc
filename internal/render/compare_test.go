package render

import (
	"bytes"
	"encoding/json"
	"math"
	"strings"
	"testing"

	"github.com/coroprof/coroprof/format"
	"github.com/coroprof/coroprof/internal/report"
	"github.com/coroprof/coroprof/internal/synth"
	"github.com/coroprof/coroprof/internal/wire"
)

func coroDiff(t *testing.T, c *report.Comparison, name string) *report.CoroDiff {
	t.Helper()
	for i := range c.Coroutines {
		if c.Coroutines[i].Name == name {
			return &c.Coroutines[i]
		}
	}
	t.Fatalf("no coroutine %q in the comparison", name)
	return nil
}

func funcDiff(t *testing.T, c *report.Comparison, name, kind string) *report.FuncDiff {
	t.Helper()
	for i := range c.Functions {
		if c.Functions[i].Name == name && c.Functions[i].Kind == kind {
			return &c.Functions[i]
		}
	}
	t.Fatalf("no %s function %q in the comparison", kind, name)
	return nil
}

// TestCompareHand: differences worked out by hand.
func TestCompareHand(t *testing.T) {
	newP, oldP := synth.Hand(), synth.Hand()
	oldP.Coroutines[0].Name = "b-old"              // b (2000 ticks) only in NEW, b-old only in OLD
	oldP.Coroutines[1].Counters[wire.Ticks] = 5000 // a: 6000 in NEW, 5000 in OLD
	oldP.Coroutines[1].Counters[wire.CPU] = 4000   // a: 3000 ns in NEW
	oldP.Regions[0].Self[wire.Ticks] = 100         // outer: 300 in NEW
	oldP.Regions = append(oldP.Regions, format.Region{Name: "legacy", Calls: 7})
	oldP.Loops[0].Main[wire.Ticks] = 1500 // <main>: 1000 in NEW
	c, err := report.CompareProfiles("new.bin", newP, "old.bin", oldP)
	if err != nil {
		t.Fatal(err)
	}
	if a := coroDiff(t, c, "a"); a.Status != report.StatusBoth || a.Ticks() != 1000 || math.Abs(a.Value(wire.CPU)+1000e-9) > 1e-15 || a.New.Count != 1 {
		t.Errorf("a: %+v", a)
	}
	if b := coroDiff(t, c, "b"); b.Status != report.StatusAdded || b.Ticks() != 2000 || b.DeltaCount != 1 || b.Old.Ticks() != 0 {
		t.Errorf("b: %+v", b)
	}
	if b := coroDiff(t, c, "b-old"); b.Status != report.StatusRemoved || b.Ticks() != -2000 || b.DeltaResumes != -5 {
		t.Errorf("b-old: %+v", b)
	}
	if o := funcDiff(t, c, "outer", report.KindRegion); o.Status != report.StatusBoth || o.Self.Ticks() != 200 || o.Cumulative.Ticks() != 0 {
		t.Errorf("outer: %+v", o)
	}
	if l := funcDiff(t, c, "legacy", report.KindRegion); l.Status != report.StatusRemoved || l.Self.DeltaCalls != -7 {
		t.Errorf("legacy: %+v", l)
	}
	if c.Main.Delta.Ticks() != -500 {
		t.Errorf("<main> Δ ticks %d, want -500", c.Main.Delta.Ticks())
	}
	// Sorted by |Δ ticks|: b and b-old (2000) before a (1000).
	if c.Coroutines[2].Name != "a" {
		t.Errorf("coroutine order %q", []string{c.Coroutines[0].Name, c.Coroutines[1].Name, c.Coroutines[2].Name})
	}
}

// TestCompareByName: coroutines of one name are summed per side; a run compared with
// itself differs in nothing.
func TestCompareByName(t *testing.T) {
	p := synth.Profile(8, synth.Options{Coroutines: 30, Samples: 100, Regions: 3})
	c, err := report.CompareProfiles("x", p, "x", p)
	if err != nil {
		t.Fatal(err)
	}
	counts := map[string]int{}
	sums := map[string]uint64{}
	for _, co := range p.Coroutines {
		counts[co.Name]++
		sums[co.Name] += co.Counters[wire.Ticks]
	}
	if len(c.Coroutines) != len(counts) {
		t.Errorf("%d coroutine rows, want %d names", len(c.Coroutines), len(counts))
	}
	for _, d := range c.Coroutines {
		if d.Status != report.StatusBoth || d.Delta != (report.Delta{}) || d.New.Count != counts[d.Name] || d.New.Ticks() != sums[d.Name] {
			t.Errorf("%q: %+v, want %d coroutines, %d ticks, no difference", d.Name, d, counts[d.Name], sums[d.Name])
		}
	}
	for _, f := range c.Functions {
		if f.Status != report.StatusBoth || f.Self.Delta != (report.Delta{}) || f.Cumulative.Delta != (report.Delta{}) {
			t.Errorf("%s: %+v", f.Name, f)
		}
	}
}

func TestCompareRefuses(t *testing.T) {
	full := synth.Profile(1, synth.Options{Coroutines: 3, Samples: 5})
	for _, tc := range []struct {
		old  *format.Profile
		want string
	}{
		{synth.Profile(2, synth.Options{Coroutines: 3, Samples: 5, TicksOnly: true}), "old.bin (measured ticks only, with CPU samples)"},
		{synth.Profile(2, synth.Options{Coroutines: 3}), "without CPU samples"},
	} {
		_, err := report.CompareProfiles("new.bin", full, "old.bin", tc.old)
		if err == nil || !strings.Contains(err.Error(), "cannot compare new.bin") || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("got %v, want a refusal naming %q", err, tc.want)
		}
	}
	// Regions and slices in one run only are differences worth seeing, not a refusal.
	withRegions := synth.Profile(3, synth.Options{Coroutines: 3, Samples: 5, Regions: 2, Slices: 4})
	if _, err := report.CompareProfiles("a", full, "b", withRegions); err != nil {
		t.Error(err)
	}
}

// TestCompareClocks: OLD on a clock twice as fast has its ticks halved first.
func TestCompareClocks(t *testing.T) {
	newP, oldP := synth.Hand(), synth.Hand()
	oldP.Clock.TicksPerSecond = 2000
	c, err := report.CompareProfiles("n", newP, "o", oldP)
	if err != nil {
		t.Fatal(err)
	}
	if a := coroDiff(t, c, "a"); a.Old.Ticks() != 3000 || a.Ticks() != 3000 || a.Value(wire.CPU) != 0 {
		t.Errorf("a: %+v", a)
	}
	if !strings.Contains(strings.Join(c.Old.Notes, "|"), "ticks converted from 2000 to 1000") {
		t.Errorf("old notes %q", c.Old.Notes)
	}
}

func TestCompareOutputs(t *testing.T) {
	newP := synth.Profile(31, synth.Options{Coroutines: 12, Samples: 60, Regions: 2})
	oldP := synth.Profile(32, synth.Options{Coroutines: 9, Samples: 40, Regions: 3})
	c, err := report.CompareProfiles("new.bin", newP, "old.bin", oldP)
	if err != nil {
		t.Fatal(err)
	}
	var js bytes.Buffer
	if err := writeCompareJSON(&js, c); err != nil {
		t.Fatal(err)
	}
	var v map[string]any
	if err := json.Unmarshal(js.Bytes(), &v); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"schema", "kind", "new", "old", "measured", "total", "main", "wait", "coroutines", "functions"} {
		if _, ok := v[k]; !ok {
			t.Errorf("comparison JSON lacks %q", k)
		}
	}
	var txt bytes.Buffer
	if err := writeCompareText(&txt, c, TextOptions{Top: 5, Sort: "cpu"}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"NEW  new.bin", "Where the time went: cpu", "Coroutines by name: top 5 of", "|Δ cpu|", "Functions, cumulative"} {
		if !strings.Contains(txt.String(), want) {
			t.Errorf("text lacks %q:\n%s", want, txt.String())
		}
	}
	var page bytes.Buffer
	if err := writeCompareHTML(&page, c); err != nil {
		t.Fatal(err)
	}
	h := page.String()
	if strings.Contains(h, "<script>alert(1)</script>") {
		t.Error("a hostile coroutine name reached the page unescaped")
	}
	for _, want := range []string{`data-table="coroutines"`, `"id":"cumulative"`, `id="report-data"`, "new.bin"} {
		if !strings.Contains(h, want) {
			t.Errorf("page lacks %q", want)
		}
	}
}

// TestCompareEstimateMarks: utime and stime are estimates in a comparison too: their
// Δ columns and the text view's heading say so.
func TestCompareEstimateMarks(t *testing.T) {
	c, err := report.CompareProfiles("new.bin", synth.Hand(), "old.bin", synth.Hand())
	if err != nil {
		t.Fatal(err)
	}
	for _, col := range (comparison{c}).diffCols() {
		est := strings.Contains(col.Key, "utime") || strings.Contains(col.Key, "stime")
		if est != strings.Contains(col.Label, "≈") {
			t.Errorf("comparison column %q labelled %q", col.Key, col.Label)
		}
	}
	var txt bytes.Buffer
	if err := writeCompareText(&txt, c, TextOptions{Sort: "stime"}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(txt.String(), "Where the time went: stime≈") {
		t.Errorf("text heading does not mark stime as an estimate:\n%s", txt.String())
	}
}
