package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/google/pprof/profile"

	"github.com/coroprof/coroprof/format"
	"github.com/coroprof/coroprof/internal/render"
	"github.com/coroprof/coroprof/internal/report"
	"github.com/coroprof/coroprof/internal/synth"
	"github.com/coroprof/coroprof/internal/wire"
)

// writeTestPprof runs print-profile -pprof and parses the file back with pprof's parser.
func writeTestPprof(t *testing.T, args ...string) (string, *profile.Profile) {
	t.Helper()
	out := filepath.Join(t.TempDir(), "out.pb.gz")
	if stdout := mustRun(t, append([]string{"-pprof", out}, args...)...); stdout != "" {
		t.Errorf("-pprof alone wrote %d bytes to stdout", len(stdout))
	}
	f, err := os.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	p, err := profile.Parse(f)
	if err != nil {
		t.Fatalf("profile.Parse: %v", err)
	}
	if err := p.CheckValid(); err != nil {
		t.Fatal(err)
	}
	return out, p
}

// goTool runs `go tool pprof ARGS` and returns its output; it skips the test where no
// go command is installed (and fails it under CI, which has one).
func goTool(t *testing.T, args ...string) string {
	t.Helper()
	goCmd, err := exec.LookPath("go")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal(err)
		}
		t.Skip("no go command:", err)
	}
	cmd := exec.Command(goCmd, append([]string{"tool", "pprof"}, args...)...)
	cmd.Env = append(os.Environ(), "PPROF_TMPDIR="+t.TempDir())
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("go tool pprof %q: %v\n%s", args, err, out)
	}
	return string(out)
}

// topRow matches a -top line: flat flat% sum% cum cum% name.
var topRow = regexp.MustCompile(`^\s*(\S+)\s+\S+%\s+\S+%\s+(\S+)\s+\S+%\s+(.+)$`)

func topNames(out string) []string {
	var names []string
	for _, line := range strings.Split(out, "\n") {
		if m := topRow.FindStringSubmatch(line); m != nil && m[1] != "flat" {
			names = append(names, strings.TrimSpace(m[3]))
		}
	}
	return names
}

// TestGoToolPprof runs the real `go tool pprof` on print-profile's output: -top finds the
// functions the model ranks highest and the synthetic frames, -tags lists every
// coroutine name, and -tagfocus narrows to one coroutine.
func TestGoToolPprof(t *testing.T) {
	path, _ := writeTestPprof(t, profilePath("small"))
	p, err := format.ReadFile(profilePath("small"))
	if err != nil {
		t.Fatal(err)
	}
	m, err := report.Build(p)
	if err != nil {
		t.Fatal(err)
	}

	// Default sample type: cpu. The model's top sampled function by self CPU heads it.
	out := goTool(t, "-top", "-nodecount=100", path)
	if !strings.Contains(out, "Type: cpu") {
		t.Errorf("default sample type is not cpu:\n%s", out)
	}
	best := m.Functions[0]
	for _, f := range m.Functions {
		if f.Kind == report.KindSampled && f.Self.Value(wire.CPU) > best.Self.Value(wire.CPU) {
			best = f
		}
	}
	if names := topNames(out); len(names) == 0 || names[0] != best.Name {
		t.Errorf("-top heads with %q, the model's top function by self cpu is %q:\n%s", names, best.Name, out)
	}

	// Wall time shows where the loop was off the CPU: <wait> is a frame.
	out = goTool(t, "-top", "-sample_index=wall", "-nodecount=100", path)
	if names := topNames(out); !slices.Contains(names, render.FrameWait) || !slices.Contains(names, render.FrameMain) {
		t.Errorf("-sample_index=wall lacks <wait> or <main>: %q", names)
	}
	// Parked time by reason at the blocking call sites.
	out = goTool(t, "-top", "-sample_index=parked", "-nodefraction=0", "-nodecount=1000", path)
	for _, w := range p.WaitSites {
		frame := render.FrameParked(wire.WaitReasonNames[w.Reason])
		if !strings.Contains(out, frame) {
			t.Errorf("-sample_index=parked lacks %q:\n%s", frame, out)
		}
	}

	// -tags: every coroutine's name, and the pseudo buckets.
	out = goTool(t, "-tags", "-sample_index=ticks", path)
	for _, c := range p.Coroutines {
		if !strings.Contains(out, c.Name) {
			t.Errorf("-tags lacks coroutine %q", c.Name)
		}
	}
	for _, k := range []string{"coro_name:", "coro_id:", "spawn_site:", "loop:", "<main>", "<wait>"} {
		if !strings.Contains(out, k) {
			t.Errorf("-tags lacks %q:\n%s", k, out)
		}
	}

	// -tagfocus on one coroutine: the total is its exact ticks.
	c := &m.Coroutines[0]
	out = goTool(t, "-top", "-sample_index=ticks", "-tagfocus=coro_name="+regexp.QuoteMeta(c.Name), path)
	if want := fmt.Sprintf("Showing nodes accounting for %d,", c.Ticks()); !strings.Contains(out, want) {
		t.Errorf("-tagfocus=coro_name=%s: want %q in\n%s", c.Name, want, out)
	}
	out = goTool(t, "-top", "-sample_index=ticks", fmt.Sprintf("-tagfocus=coro_id=%d", c.ID), path)
	if want := fmt.Sprintf("Showing nodes accounting for %d,", c.Ticks()); !strings.Contains(out, want) {
		t.Errorf("-tagfocus=coro_id=%d: want %q in\n%s", c.ID, want, out)
	}
}

// TestGoToolPprofDiff: two runs measured alike can be diffed with -diff_base, and
// print-profile's own comparison pprof (NEW with OLD as base) gives the same top.
func TestGoToolPprofDiff(t *testing.T) {
	dir := t.TempDir()
	newBin, oldBin := filepath.Join(dir, "new.bin"), filepath.Join(dir, "old.bin")
	for path, seed := range map[string]int64{newBin: 41, oldBin: 42} {
		if err := format.WriteFile(path, synth.Profile(seed, synth.Options{Coroutines: 8, Samples: 40})); err != nil {
			t.Fatal(err)
		}
	}
	newPb, _ := writeTestPprof(t, newBin)
	oldPb, _ := writeTestPprof(t, oldBin)
	viaTool := goTool(t, "-top", "-sample_index=ticks", "-nodecount=500", "-diff_base="+oldPb, newPb)
	diffPb, _ := writeTestPprof(t, newBin, oldBin)
	ours := goTool(t, "-top", "-sample_index=ticks", "-nodecount=500", diffPb)
	rows := func(out string) []string {
		var r []string
		for _, line := range strings.Split(out, "\n") {
			if topRow.MatchString(line) {
				r = append(r, strings.Join(strings.Fields(line), " "))
			}
		}
		slices.Sort(r)
		return r
	}
	if a, b := rows(viaTool), rows(ours); len(a) < 3 || !slices.Equal(a, b) {
		t.Errorf("-diff_base and print-profile's comparison differ:\n%s\nvs\n%s", viaTool, ours)
	}
}

// TestPprofMergeSums: -merge -pprof holds the sum of the inputs' pprof values.
func TestPprofMergeSums(t *testing.T) {
	_, a := writeTestPprof(t, profilePath("small"))
	_, b := writeTestPprof(t, profilePath("multiloop"))
	_, m := writeTestPprof(t, "-merge", profilePath("small"), profilePath("multiloop"))
	sum := func(p *profile.Profile, typ string) int64 {
		for i, st := range p.SampleType {
			if st.Type == typ {
				var s int64
				for _, x := range p.Sample {
					s += x.Value[i]
				}
				return s
			}
		}
		t.Fatalf("no sample type %s", typ)
		return 0
	}
	for _, typ := range []string{"samples", "ticks", "cpu", "utime", "minflt", "nivcsw", "parks"} {
		if got, want := sum(m, typ), sum(a, typ)+sum(b, typ); got != want {
			t.Errorf("merged %s: %d, want %d + %d", typ, got, sum(a, typ), sum(b, typ))
		}
	}
}

// TestPprofWithOtherOutputs: -pprof beside -json writes both; an unwritable -pprof path
// is one line and exit 1, and leaves no temporary file.
func TestPprofWithOtherOutputs(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "cpu.pb.gz")
	js := mustRun(t, "-pprof", out, "-json", profilePath("small"))
	if !strings.HasPrefix(js, "{") {
		t.Errorf("-pprof -json: stdout starts %.20q", js)
	}
	if st, err := os.Stat(out); err != nil || st.Size() == 0 {
		t.Errorf("-pprof -json: no pprof file (%v)", err)
	}
	bad := filepath.Join(dir, "no", "such", "dir", "cpu.pb.gz")
	code, stdout, errs := runCmd("-pprof", bad, profilePath("small"))
	if code != 1 || stdout != "" || strings.Count(errs, "\n") != 1 || !strings.Contains(errs, "no/such/dir") {
		t.Errorf("unwritable -pprof: exit %d, stdout %q, stderr %q", code, stdout, errs)
	}
	code, _, errs = runCmd("-pprof", filepath.Join(dir, "x.pb.gz"), filepath.Join(dir, "missing.bin"))
	if code != 1 || !strings.Contains(errs, "missing.bin") {
		t.Errorf("missing input: exit %d, %q", code, errs)
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.Contains(e.Name(), ".tmp") {
			t.Errorf("temporary file left behind: %s", e.Name())
		}
	}
}

// TestPprofDiffTicksOnly: the comparison pprof of two runs without sampling (no
// period, in pprof's terms) is built, not a crash in pprof's Merge.
func TestPprofDiffTicksOnly(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a.bin"), filepath.Join(dir, "b.bin")
	for i, path := range []string{a, b} {
		if err := format.WriteFile(path, synth.Profile(int64(60+i), synth.Options{Coroutines: 4 + i, TicksOnly: true})); err != nil {
			t.Fatal(err)
		}
	}
	_, p := writeTestPprof(t, a, b)
	var base, plus bool
	for _, s := range p.Sample {
		if s.HasLabel("pprof::base", "true") {
			base = true
		} else {
			plus = true
		}
	}
	if !base || !plus {
		t.Errorf("difference profile: base samples %v, new samples %v", base, plus)
	}
}
