package main

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestCompareGolden: `print-profile NEW OLD` in -json and -text is stable.
func TestCompareGolden(t *testing.T) {
	newP, oldP := profilePath("small"), profilePath("multiloop")
	js := mustRun(t, "-json", newP, oldP)
	checkGolden(t, "compare", "small-vs-multiloop.json", js)
	checkGolden(t, "compare", "small-vs-multiloop.txt", mustRun(t, "-text", "-top", "8", newP, oldP))
	checkGolden(t, "compare", "small-vs-multiloop-cpu.txt", mustRun(t, "-text", "-top", "5", "-sort", "cpu", newP, oldP))

	var c struct {
		Kind  string `json:"kind"`
		Total struct {
			New, Old struct {
				Ticks uint64 `json:"ticks"`
			}
			Delta struct {
				Ticks int64 `json:"ticks"`
			}
		} `json:"total"`
		Coroutines []struct {
			Name   string `json:"name"`
			Status string `json:"status"`
			Ticks  int64  `json:"ticks"`
			New    struct {
				Ticks uint64 `json:"ticks"`
			} `json:"new"`
			Old struct {
				Ticks uint64 `json:"ticks"`
			} `json:"old"`
		} `json:"coroutines"`
	}
	if err := json.Unmarshal([]byte(js), &c); err != nil {
		t.Fatal(err)
	}
	if c.Kind != "comparison" || c.Total.Delta.Ticks != int64(c.Total.New.Ticks)-int64(c.Total.Old.Ticks) || c.Total.New.Ticks == 0 {
		t.Errorf("total: %+v", c.Total)
	}
	for _, d := range c.Coroutines {
		if d.Ticks != int64(d.New.Ticks)-int64(d.Old.Ticks) {
			t.Errorf("%s: Δ %d ≠ %d − %d", d.Name, d.Ticks, d.New.Ticks, d.Old.Ticks)
		}
		if (d.Status == "added") != (d.Old.Ticks == 0 && d.New.Ticks > 0) && d.Status != "both" {
			t.Errorf("%s: status %s with new %d old %d", d.Name, d.Status, d.New.Ticks, d.Old.Ticks)
		}
	}
}

func TestCompareHTML(t *testing.T) {
	page := mustRun(t, profilePath("small"), profilePath("multiloop"))
	for _, want := range []string{"<!DOCTYPE html>", "coroprof comparison", `data-table="self"`, `id="report-data"`} {
		if !strings.Contains(page, want) {
			t.Errorf("comparison page lacks %q", want)
		}
	}
	if strings.Contains(page, "<script>alert(1)</script>") {
		t.Error("a hostile coroutine name reached the comparison page unescaped")
	}
}

// TestCompareRefuses: runs profiled differently are refused with one clear line, exit 1.
func TestCompareRefuses(t *testing.T) {
	code, out, errs := runCmd("-text", profilePath("small"), profilePath("ticksonly"))
	if code != 1 || out != "" || strings.Count(errs, "\n") != 1 ||
		!strings.Contains(errs, "cannot compare") || !strings.Contains(errs, "ticks only") {
		t.Errorf("exit %d, stdout %q, stderr %q", code, out, errs)
	}
}
