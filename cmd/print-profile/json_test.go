package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// checkGolden compares got with testdata/<dir>/<name>, or rewrites it under -update.
func checkGolden(t *testing.T, dir, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", dir, name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs (go test -update after a deliberate change):\n%s", path, diff(string(want), got))
	}
}

// mustRun runs print-profile and fails the test unless it exits 0 with a quiet stderr.
func mustRun(t *testing.T, args ...string) string {
	t.Helper()
	code, out, errs := runCmd(args...)
	if code != 0 || errs != "" {
		t.Fatalf("print-profile %q: exit %d, stderr %q", args, code, errs)
	}
	return out
}

// goldenProfiles are the testdata profiles with JSON and text goldens (medium is left
// out: its JSON is megabytes and tells nothing small ones do not).
var goldenProfiles = []string{"small", "multiloop", "ticksonly"}

// TestJSONGolden: -json output is stable, valid JSON with the keys docs/JSON.md fixes.
func TestJSONGolden(t *testing.T) {
	for _, name := range goldenProfiles {
		t.Run(name, func(t *testing.T) {
			out := mustRun(t, "-json", profilePath(name))
			checkGolden(t, "json", name+".json", out)
			var v struct {
				Schema string `json:"schema"`
				Clock  *struct {
					Source         string `json:"source"`
					TicksPerSecond uint64 `json:"ticks_per_second"`
					Invariant      *bool  `json:"invariant"`
				} `json:"clock"`
				Measured   []string         `json:"measured"`
				TotalTicks *uint64          `json:"total_ticks"`
				Main       map[string]any   `json:"main"`
				Wait       map[string]any   `json:"wait"`
				Coroutines []map[string]any `json:"coroutines"`
				Estimates  map[string]any   `json:"estimates"`
			}
			if err := json.Unmarshal([]byte(out), &v); err != nil {
				t.Fatal(err)
			}
			if v.Schema != "coroprof.report/1" || v.Clock == nil || v.Clock.Source == "" || v.Clock.TicksPerSecond == 0 ||
				v.Clock.Invariant == nil || len(v.Measured) == 0 || v.TotalTicks == nil || v.Main == nil || v.Wait == nil ||
				len(v.Coroutines) == 0 || v.Estimates == nil {
				t.Errorf("missing top-level keys: %+v", v)
			}
			for _, k := range []string{"ticks", "cpu", "utime", "stime"} {
				if _, ok := v.Main[k]; !ok {
					t.Errorf("main lacks %q", k)
				}
			}
			for _, k := range []string{"id", "name", "resumes", "ticks", "cpu", "utime", "stime"} {
				if _, ok := v.Coroutines[0][k]; !ok {
					t.Errorf("coroutine lacks %q", k)
				}
			}
			// ticks are integers in the JSON text, never 1.2e+09.
			if strings.Contains(out, `"ticks": `) && strings.Contains(out, "e+") {
				for _, line := range strings.Split(out, "\n") {
					if strings.Contains(line, `"ticks": `) && strings.Contains(line, "e+") {
						t.Errorf("ticks not an integer: %s", line)
						break
					}
				}
			}
		})
	}
}

// TestTextGolden: -text output is stable, for the default ranking and for another
// column with a top-N cut.
func TestTextGolden(t *testing.T) {
	for _, name := range goldenProfiles {
		t.Run(name, func(t *testing.T) {
			checkGolden(t, "text", name+".txt", mustRun(t, "-text", profilePath(name)))
		})
	}
	out := mustRun(t, "-text", "-top", "3", "-sort", "resumes", profilePath("medium"))
	checkGolden(t, "text", "medium-top3-resumes.txt", out)
	if !strings.Contains(out, "Coroutines: top 3 of 200 by resumes") {
		t.Errorf("-top 3 -sort resumes: no such title in\n%s", out)
	}
}

// jsonKeys collects every object key in v.
func jsonKeys(v any, into map[string]bool) {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			into[k] = true
			jsonKeys(e, into)
		}
	case []any:
		for _, e := range x {
			jsonKeys(e, into)
		}
	}
}

// TestJSONDocumented: every key -json prints (for a profile, a merge and a comparison)
// is named in docs/JSON.md, so a field added to the model without its documentation
// fails here.
func TestJSONDocumented(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "JSON.md"))
	if err != nil {
		t.Fatal(err)
	}
	keys := map[string]bool{}
	for _, args := range [][]string{
		{"-json", profilePath("small")},
		{"-json", profilePath("ticksonly")},
		{"-json", "-merge", profilePath("small"), profilePath("multiloop")},
		{"-json", profilePath("small"), profilePath("multiloop")},
	} {
		var v any
		if err := json.Unmarshal([]byte(mustRun(t, args...)), &v); err != nil {
			t.Fatal(err)
		}
		jsonKeys(v, keys)
	}
	for k := range keys {
		if !regexp.MustCompile("`([a-z_\\[\\]]+\\.)*" + regexp.QuoteMeta(k) + "(\\[\\])?`").Match(doc) {
			t.Errorf("docs/JSON.md does not document the key %q", k)
		}
	}
}
