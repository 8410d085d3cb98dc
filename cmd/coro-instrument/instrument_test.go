package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/coroprof/coroprof/format"
	"github.com/coroprof/coroprof/internal/wire"
)

// repoRoot is the module root, two directories up from this package.
func repoRoot(t *testing.T) string {
	t.Helper()
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Dir(filepath.Dir(wd))
}

// buildTool builds coro-instrument into dir.
func buildTool(t *testing.T, dir string) string {
	t.Helper()
	tool := filepath.Join(dir, "coro-instrument")
	out, err := exec.Command("go", "build", "-o", tool, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("building coro-instrument: %v\n%s", err, out)
	}
	return tool
}

// userModule lays out a module of a user's, example.com/behave, whose main package is
// testdata/behave/main.go.txt and which requires this repository through a replace
// directive (so the default selection must leave the profiler's packages alone
// although their source is on the local disk).
func userModule(t *testing.T, dir string) {
	t.Helper()
	root := repoRoot(t)
	src, err := os.ReadFile("testdata/behave/main.go.txt")
	if err != nil {
		t.Fatal(err)
	}
	sum, err := os.ReadFile(filepath.Join(root, "go.sum"))
	if err != nil {
		t.Fatal(err)
	}
	mod := "module example.com/behave\n\ngo 1.26.0\n\nrequire github.com/coroprof/coroprof v0.0.0\n\nreplace github.com/coroprof/coroprof => " + root + "\n"
	cgo, err := os.ReadFile("testdata/behave/cgopkg.go.txt")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, "cgopkg"), 0o755); err != nil {
		t.Fatal(err)
	}
	for name, data := range map[string][]byte{"main.go": src, "go.mod": []byte(mod), "go.sum": sum, "cgopkg/c.go": cgo} {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func goBuild(t *testing.T, dir string, args ...string) {
	t.Helper()
	cmd := exec.Command("go", append([]string{"build"}, args...)...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// markers maps each "// LINE:name" comment of the behaviour program to its line.
func markers(t *testing.T) map[string]int {
	t.Helper()
	f, err := os.Open("testdata/behave/main.go.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	m := map[string]int{}
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		if i := strings.Index(sc.Text(), "// LINE:"); i >= 0 {
			m[strings.TrimSpace(sc.Text()[i+len("// LINE:"):])] = n
		}
	}
	return m
}

// TestBehaviourUnchanged builds the behaviour program plainly and with the tool: both
// print the same (positions from runtime.Caller included, each the line the source
// marks), an uncaught panic's trace names the original file and line, and only the
// instrumented binary calls the profiler's entry points.
func TestBehaviourUnchanged(t *testing.T) {
	if testing.Short() {
		t.Skip("builds two programs")
	}
	dir := t.TempDir()
	tool := buildTool(t, dir)
	mod := filepath.Join(dir, "behave")
	if err := os.Mkdir(mod, 0o755); err != nil {
		t.Fatal(err)
	}
	userModule(t, mod)
	goBuild(t, mod, "-o", filepath.Join(dir, "plain"), ".")
	goBuild(t, mod, "-toolexec", tool, "-o", filepath.Join(dir, "inst"), ".")
	// -pkgs names a main package by its import path (the compiler sees it as "main").
	goBuild(t, mod, "-toolexec", tool+" -pkgs example.com/behave", "-o", filepath.Join(dir, "selected"), ".")

	run := func(bin string, args ...string) (string, string, error) {
		cmd := exec.Command(filepath.Join(dir, bin), args...)
		cmd.Env = append(os.Environ(), "PROFILE="+filepath.Join(dir, bin+".bin"))
		var stdout, stderr strings.Builder
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		return stdout.String(), stderr.String(), err
	}
	plainOut, plainErr, err := run("plain")
	if err != nil {
		t.Fatalf("plain: %v\n%s", err, plainErr)
	}
	instOut, instErr, err := run("inst")
	if err != nil {
		t.Fatalf("instrumented: %v\n%s", err, instErr)
	}
	if plainOut != instOut {
		t.Errorf("outputs differ\nplain:\n%s\ninstrumented:\n%s", plainOut, instOut)
	}
	want := map[string]string{
		"recover":    "recovered: boom",
		"named":      "42",
		"optedOut":   "7",
		"goroutines": "10",
		"goexit":     "deferred ran",
		"map":        "1,4,9",
		"profile":    "<nil>",
		"cgo":        "42",
	}
	for name, line := range markers(t) {
		if name != "panic" {
			want[name] = "main.go:" + itoa(line)
		}
	}
	got := map[string]string{}
	for _, l := range strings.Split(strings.TrimSpace(instOut), "\n") {
		k, v, _ := strings.Cut(l, " ")
		got[k] = v
	}
	for k, v := range want {
		if !strings.HasPrefix(got[k], v) {
			t.Errorf("%s: got %q, want %q", k, got[k], v)
		}
	}

	// An uncaught panic: the same trace position both ways.
	line := markers(t)["panic"]
	for _, bin := range []string{"plain", "inst"} {
		_, stderr, err := run(bin, "panic")
		if err == nil {
			t.Fatalf("%s panic: exited 0", bin)
		}
		re := regexp.MustCompile(`main\.panics\([^)]*\)\n\t\S*/main\.go:` + itoa(line) + `\b`)
		if !re.MatchString(stderr) {
			t.Errorf("%s: panic trace does not name main.go:%d in main.panics:\n%s", bin, line, stderr)
		}
	}

	// Only the instrumented binary reaches the profiler's entry points.
	for bin, wantSym := range map[string]bool{"plain": false, "inst": true, "selected": true} {
		out, err := exec.Command("go", "tool", "nm", filepath.Join(dir, bin)).CombinedOutput()
		if err != nil {
			t.Fatalf("go tool nm: %v\n%s", err, out)
		}
		if has := strings.Contains(string(out), "profiler.instrEnter"); has != wantSym {
			t.Errorf("%s: profiler.instrEnter present = %v, want %v", bin, has, wantSym)
		}
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

// TestCompileErrorPositions: a compile error in an instrumented file is reported at
// the original file, line and column, exactly as without the tool (the column after
// an inserted statement on a brace's line included).
func TestCompileErrorPositions(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the compiler")
	}
	dir := t.TempDir()
	tool := buildTool(t, dir)
	mod := filepath.Join(dir, "bad")
	if err := os.Mkdir(mod, 0o755); err != nil {
		t.Fatal(err)
	}
	src := "package main\n\nfunc f() int { return \"x\" }\n\nfunc main() { f(); var unused int }\n"
	for name, data := range map[string]string{"main.go": src, "go.mod": "module example.com/bad\n\ngo 1.26.0\n"} {
		if err := os.WriteFile(filepath.Join(mod, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	build := func(args ...string) string {
		cmd := exec.Command("go", append([]string{"build", "-o", os.DevNull}, args...)...)
		cmd.Dir = mod
		out, err := cmd.CombinedOutput()
		if err == nil {
			t.Fatalf("go build %v succeeded on a broken file", args)
		}
		return string(out)
	}
	plain := build(".")
	inst := build("-toolexec", tool, ".")
	if !strings.Contains(plain, "main.go:3:23") || !strings.Contains(plain, "main.go:5:24") {
		t.Fatalf("plain build's errors are not where this test expects:\n%s", plain)
	}
	if plain != inst {
		t.Errorf("errors differ\nplain:\n%s\ninstrumented:\n%s", plain, inst)
	}
}

// TestExampleExact builds examples/instrumented with the tool, runs it under the
// profiler and reads the profile: every function of the example is a function of kind
// exact with its exact call count (n rounds: light, medium and heavy n times each,
// unit and spin 6n, fib 1973 for fib(15)), edges count exact calls, and the cumulative
// CPU of light, medium and heavy is 1:2:3. CPU shares are measured, so a run whose
// shares miss (a preemption can land in a frame's stamps) is measured again, up to
// three times; counts must be exact every time.
func TestExampleExact(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the example")
	}
	dir := t.TempDir()
	tool := buildTool(t, dir)
	bin := filepath.Join(dir, "instrumented")
	cmd := exec.Command("go", "build", "-toolexec", tool, "-o", bin, "./examples/instrumented")
	cmd.Dir = repoRoot(t)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build -toolexec: %v\n%s", err, out)
	}
	const n = 100
	var miss string
	for attempt := 1; attempt <= 3; attempt++ {
		path := filepath.Join(dir, fmt.Sprintf("p%d.bin", attempt))
		if out, err := exec.Command(bin, "-o", path, "-n", strconv.Itoa(n), "-rounds", "20000").CombinedOutput(); err != nil {
			t.Fatalf("running the example: %v\n%s", err, out)
		}
		p, err := format.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		byName := map[string]*format.Region{}
		index := map[string]int32{}
		for i := range p.Regions {
			r := &p.Regions[i]
			if !r.Func {
				t.Errorf("region %q is not an instrumented function", r.Name)
			}
			if !strings.HasSuffix(r.File, "examples/instrumented/main.go") || r.Line <= 0 {
				t.Errorf("%s: declared at %s:%d", r.Name, r.File, r.Line)
			}
			byName[r.Name], index[r.Name] = r, int32(i)
		}
		for name, calls := range map[string]uint64{
			"main.light": n, "main.medium": n, "main.heavy": n, "main.unit": 6 * n, "main.spin": 6 * n,
			"main.fib": 1973, "main.main.func1": 3, "main.main.func2": 1,
		} {
			if r := byName[name]; r == nil || r.Calls != calls {
				t.Fatalf("%s: %+v, want %d calls", name, r, calls)
			}
		}
		edges := map[[2]string]uint64{}
		for _, e := range p.RegionEdges {
			caller := "-"
			if e.Caller >= 0 {
				caller = p.Regions[e.Caller].Name
			}
			edges[[2]string{caller, p.Regions[e.Callee].Name}] = e.Calls
		}
		for k, calls := range map[[2]string]uint64{
			{"main.main.func1", "main.light"}: n, {"main.heavy", "main.unit"}: 3 * n,
			{"main.unit", "main.spin"}: 6 * n, {"main.fib", "main.fib"}: 1972, {"main.main.func2", "main.fib"}: 1,
		} {
			if edges[k] != calls {
				t.Errorf("edge %s -> %s: %d calls, want %d", k[0], k[1], edges[k], calls)
			}
		}
		if t.Failed() {
			return
		}
		l, m, h := byName["main.light"].Cumulative[wire.CPU], byName["main.medium"].Cumulative[wire.CPU], byName["main.heavy"].Cumulative[wire.CPU]
		total := float64(l + m + h)
		shares := [3]float64{float64(l) / total, float64(m) / total, float64(h) / total}
		miss = ""
		for i, want := range [3]float64{1.0 / 6, 2.0 / 6, 3.0 / 6} {
			if d := shares[i] - want; d > 0.03 || d < -0.03 {
				miss = fmt.Sprintf("CPU shares %.3f, want 1:2:3 (0.167 0.333 0.500) within 0.03", shares)
			}
		}
		if miss == "" {
			checkPprofCalls(t, path, n)
			checkJSONPerCoroutine(t, path, n)
			return
		}
		t.Logf("attempt %d: %s", attempt, miss)
	}
	t.Error(miss)
}

// checkPprofCalls: print-profile -pprof carries the exact calls, which go tool pprof
// lists with -sample_index=calls.
func checkPprofCalls(t *testing.T, profilePath string, n int) {
	t.Helper()
	pb := profilePath + ".pb.gz"
	cmd := exec.Command("go", "run", "./cmd/print-profile", "-pprof", pb, profilePath)
	cmd.Dir = repoRoot(t)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("print-profile -pprof: %v\n%s", err, out)
	}
	out, err := exec.Command("go", "tool", "pprof", "-sample_index=calls", "-top", pb).CombinedOutput()
	if err != nil {
		t.Fatalf("go tool pprof: %v\n%s", err, out)
	}
	for name, calls := range map[string]int{"main.spin": 6 * n, "main.heavy": n, "main.fib": 1973} {
		re := regexp.MustCompile(`(?m)^\s*` + strconv.Itoa(calls) + `\s.*\s` + regexp.QuoteMeta(name) + `$`)
		if !re.Match(out) {
			t.Errorf("go tool pprof -sample_index=calls does not list %s with %d calls:\n%s", name, calls, out)
		}
	}
}

// checkJSONPerCoroutine: print-profile -json gives each coroutine its share of the
// exact functions: the coroutine "heavy" called main.heavy n times and main.unit 3n
// times, and no other coroutine called main.heavy.
func checkJSONPerCoroutine(t *testing.T, profilePath string, n int) {
	t.Helper()
	cmd := exec.Command("go", "run", "./cmd/print-profile", "-json", profilePath)
	cmd.Dir = repoRoot(t)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("print-profile -json: %v", err)
	}
	var m struct {
		Coroutines []struct {
			Name  string
			Exact []struct {
				Name  string
				Kind  string
				Calls uint64
			}
		}
	}
	if err := json.Unmarshal(out, &m); err != nil {
		t.Fatal(err)
	}
	got := map[[2]string]uint64{}
	for _, c := range m.Coroutines {
		for _, e := range c.Exact {
			if e.Kind != "exact" {
				t.Errorf("%s in %s: kind %q", e.Name, c.Name, e.Kind)
			}
			got[[2]string{c.Name, e.Name}] = e.Calls
		}
	}
	for k, calls := range map[[2]string]uint64{
		{"heavy", "main.heavy"}: uint64(n), {"heavy", "main.unit"}: uint64(3 * n), {"light", "main.light"}: uint64(n),
		{"light", "main.heavy"}: 0, {"fib", "main.fib"}: 1973,
	} {
		if got[k] != calls {
			t.Errorf("coroutine %s: %s called %d times, want %d", k[0], k[1], got[k], calls)
		}
	}
}
