package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

type mergeJSON struct {
	TotalTicks uint64 `json:"total_ticks"`
	Main       struct {
		Ticks  uint64  `json:"ticks"`
		CPU    float64 `json:"cpu"`
		Minflt uint64  `json:"minflt"`
	} `json:"main"`
	Wait struct {
		Ticks uint64 `json:"ticks"`
	} `json:"wait"`
	Loops      []struct{} `json:"loops"`
	Coroutines []struct {
		ID    uint64 `json:"id"`
		Ticks uint64 `json:"ticks"`
	} `json:"coroutines"`
	TotalSamples uint64 `json:"total_samples"`
	Closure      []struct {
		Diff int64 `json:"diff"`
	} `json:"closure"`
	Meta struct {
		Notes []string `json:"notes"`
	} `json:"meta"`
}

func decodeModel(t *testing.T, js string) *mergeJSON {
	t.Helper()
	var m mergeJSON
	if err := json.Unmarshal([]byte(js), &m); err != nil {
		t.Fatal(err)
	}
	return &m
}

// TestMergeCLI: -merge sums the inputs: elapsed ticks, buckets, coroutines, samples,
// loops; conservation still closes exactly; the output is stable.
func TestMergeCLI(t *testing.T) {
	a, b := profilePath("small"), profilePath("multiloop")
	js := mustRun(t, "-merge", "-json", a, b)
	checkGolden(t, "merge", "small+multiloop.json", js)
	checkGolden(t, "merge", "small+multiloop.txt", mustRun(t, "-merge", "-text", "-top", "10", a, b))
	ma, mb, mm := decodeModel(t, mustRun(t, "-json", a)), decodeModel(t, mustRun(t, "-json", b)), decodeModel(t, js)
	if mm.TotalTicks != ma.TotalTicks+mb.TotalTicks || mm.Main.Ticks != ma.Main.Ticks+mb.Main.Ticks ||
		mm.Wait.Ticks != ma.Wait.Ticks+mb.Wait.Ticks || mm.Main.Minflt != ma.Main.Minflt+mb.Main.Minflt {
		t.Errorf("merged buckets %+v, inputs %+v and %+v", mm, ma, mb)
	}
	if len(mm.Coroutines) != len(ma.Coroutines)+len(mb.Coroutines) || len(mm.Loops) != len(ma.Loops)+len(mb.Loops) ||
		mm.TotalSamples != ma.TotalSamples+mb.TotalSamples {
		t.Errorf("merged %d coroutines, %d loops, %d samples", len(mm.Coroutines), len(mm.Loops), mm.TotalSamples)
	}
	ids := map[uint64]bool{}
	var sum, want uint64
	for _, c := range mm.Coroutines {
		if ids[c.ID] {
			t.Errorf("coroutine ID %d twice", c.ID)
		}
		ids[c.ID] = true
		sum += c.Ticks
	}
	for _, m := range []*mergeJSON{ma, mb} {
		for _, c := range m.Coroutines {
			want += c.Ticks
		}
	}
	if sum != want {
		t.Errorf("Σ coroutine ticks %d, want %d", sum, want)
	}
	for _, c := range mm.Closure {
		if c.Diff != 0 {
			t.Errorf("closure broken: %+v", c)
		}
	}
	if len(mm.Meta.Notes) == 0 || !strings.Contains(mm.Meta.Notes[0], "merged 2 profiles") {
		t.Errorf("notes %q", mm.Meta.Notes)
	}
	// The page's header says how many profiles it sums (where one run shows its pid).
	if page := mustRun(t, "-merge", a, b); !strings.Contains(page, "merged 2 profiles, pids in the note below") {
		t.Error("the merged page's header does not say it sums 2 profiles")
	}
}

func TestMergeRefuses(t *testing.T) {
	code, out, errs := runCmd("-merge", "-json", profilePath("small"), profilePath("ticksonly"))
	if code != 1 || out != "" || strings.Count(errs, "\n") != 1 || !strings.Contains(errs, "cannot merge") {
		t.Errorf("exit %d, stdout %q, stderr %q", code, out, errs)
	}
	code, _, errs = runCmd("-merge", "-json", profilePath("small"), "nosuch.bin")
	if code != 1 || !strings.Contains(errs, "nosuch.bin") {
		t.Errorf("missing input: exit %d, %q", code, errs)
	}
}

// TestViewsBadInput: every view answers an unreadable input with one line naming the
// file and exit status 1, never a panic.
func TestViewsBadInput(t *testing.T) {
	dir := t.TempDir()
	good, err := os.ReadFile(profilePath("small"))
	if err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(dir, "truncated.bin")
	if err := os.WriteFile(bad, good[:len(good)/2], 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "x.pb.gz")
	for _, args := range [][]string{
		{"-json", bad},
		{"-text", bad},
		{"-pprof", out, bad},
		{"-json", profilePath("small"), bad},
		{"-text", bad, profilePath("small")},
		{"-merge", "-json", profilePath("small"), bad},
		{"-merge", "-pprof", out, bad, profilePath("small")},
	} {
		code, stdout, errs := runCmd(args...)
		if code != 1 || stdout != "" || strings.Count(errs, "\n") != 1 || !strings.Contains(errs, "truncated.bin") {
			t.Errorf("print-profile %q: exit %d, stdout %d bytes, stderr %q", args, code, len(stdout), errs)
		}
	}
	if _, err := os.Stat(out); err == nil {
		t.Error("a pprof file was written from bad input")
	}
}
