package render

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/coroprof/coroprof/format"
	"github.com/coroprof/coroprof/internal/report"
	"github.com/coroprof/coroprof/internal/synth"
)

// deepProfile is a valid profile whose samples have stacks of the given depths (the
// first in coroutine 1 of the synthetic ledger, the second unlabelled, the rest in
// coroutine 1 again), each frame cycling over the symbol table so the stacks hold
// many distinct edges, and counts 3, 2, 1, ….
func deepProfile(t *testing.T, depths ...int) *format.Profile {
	t.Helper()
	p := synth.Profile(3, synth.Options{Coroutines: 3, Samples: 1})
	n := len(p.Locations)
	p.Samples = nil
	for i, d := range depths {
		st := make([]format.LocID, d)
		for j := range st {
			st[j] = format.LocID(1 + (j*7+i)%n)
		}
		coro := p.Coroutines[0].ID
		if i == 1 {
			coro = 0
		}
		p.Samples = append(p.Samples, format.Sample{CoroID: coro, Stack: st, Count: uint64(3 - i + 10), Nanos: 1e6})
	}
	var b bytes.Buffer // the file a crafted input would be: it must read back whole
	if err := format.Write(&b, p); err != nil {
		t.Fatal(err)
	}
	q, err := format.Read(&b)
	if err != nil {
		t.Fatal(err)
	}
	return q
}

// flameDepth is the depth of the deepest frame under n (n itself is depth 1), and
// the names found at every depth.
func flameDepth(n *report.FlameNode, names map[string]int) int {
	type at struct {
		n *report.FlameNode
		d int
	}
	deepest := 0
	for todo := []at{{n, 1}}; len(todo) > 0; {
		x := todo[len(todo)-1]
		todo = todo[:len(todo)-1]
		deepest = max(deepest, x.d)
		names[x.n.Name] += int(x.n.Value)
		for _, c := range x.n.Children {
			todo = append(todo, at{c, x.d + 1})
		}
	}
	return deepest
}

// TestDeepStacks: a sample 400,000 frames deep keeps its leaf-most MaxStackDepth
// frames, under one <truncated N frames> frame; sample counts and self figures stay
// exact; the JSON view is valid JSON and the page renders.
func TestDeepStacks(t *testing.T) {
	const deep = 400_000
	p := deepProfile(t, deep, report.MaxStackDepth+40, report.MaxStackDepth, 10)
	m := mustBuild(t, p)

	var want uint64
	for _, s := range p.Samples {
		want += s.Count
	}
	if m.TotalSamples != want {
		t.Errorf("total samples %d, the file holds %d", m.TotalSamples, want)
	}
	names := map[string]int{}
	// all → <truncated> → 512 frames; all → <unlabelled> → <truncated> → 512 frames.
	if d := flameDepth(m.Flame, names); d > report.MaxStackDepth+3 {
		t.Errorf("flame graph %d frames deep, want at most %d", d, report.MaxStackDepth+3)
	}
	wantTrunc := map[string]int{}
	for _, s := range p.Samples { // Write puts samples in its own order
		if len(s.Stack) > report.MaxStackDepth {
			wantTrunc[report.TruncatedFrame(len(s.Stack)-report.MaxStackDepth)] += int(s.Count)
		}
	}
	if len(wantTrunc) != 2 {
		t.Fatalf("the profile read back has stacks deeper than the cap: %v", wantTrunc)
	}
	for name, n := range wantTrunc {
		if names[name] != n {
			t.Errorf("flame frame %q holds %d samples, want %d", name, names[name], n)
		}
	}
	for name := range names {
		if strings.HasPrefix(name, "<truncated") && name != report.TruncatedFrame(deep-report.MaxStackDepth) && name != report.TruncatedFrame(40) {
			t.Errorf("unexpected frame %q: a stack of at most %d frames was truncated", name, report.MaxStackDepth)
		}
	}
	// Self samples are exact: each sample's leaf function has it.
	var self, cumMax uint64
	for _, f := range m.Functions {
		self += f.Self.Samples
		cumMax = max(cumMax, f.Cumulative.Samples)
		if strings.HasPrefix(f.Name, "<truncated") {
			t.Errorf("the synthetic frame %q became a function row", f.Name)
		}
	}
	if self != want || cumMax > want {
		t.Errorf("Σ self samples %d (want %d), largest cumulative %d (at most %d)", self, want, cumMax, want)
	}

	var js bytes.Buffer
	if err := writeJSON(&js, m.Model); err != nil {
		t.Fatal(err)
	}
	if !json.Valid(js.Bytes()) {
		t.Fatal("WriteJSON wrote invalid JSON")
	}
	var back struct{ Flame *report.FlameNode }
	if err := json.Unmarshal(js.Bytes(), &back); err != nil || back.Flame == nil {
		t.Fatalf("decoding the flame graph back: %v", err)
	}
	var page bytes.Buffer
	if err := writeHTML(&page, m.Model, HTMLOptions{Echarts: "/**/"}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(page.String(), strings.Trim(report.TruncatedFrame(deep-report.MaxStackDepth), "<>")) { // < is escaped in the page
		t.Error("the page's flame graph has no truncated frame")
	}
	if page.Len() > 4<<20 {
		t.Errorf("the page of one deep sample is %d bytes", page.Len())
	}
}
