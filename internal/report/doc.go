// Package report turns a *format.Profile into the model every view of print-profile
// renders (package internal/render: the HTML page, -json, -text, -pprof), and two
// models into a Comparison.
//
// # The model
//
// Build reads a profile once and returns a Model of plain exported structs whose JSON
// tags are the keys docs/JSON.md (Stability) fixes (clock, measured, total_ticks, main,
// wait, coroutines, functions with self and cumulative). Every quantity is carried in one
// Quantities value: ticks and event counters as integers, CPU, user and system time in
// seconds. Views only format; they never recompute accounting.
//
// # Exact and estimated figures
//
// Coroutines, <main> and <wait> are exact: the profiler charged every tick and rusage
// event to one of them. utime and stime are always estimates (they split the exact CPU
// time in getrusage's tick-sampled ratio; see format.Counters).
//
// Functions come from two sources. Regions (profiler.Region) are counted exactly, calls
// included. Sampled functions have sample counts only: a function's cost is estimated
// by scaling each coroutine's exact totals by the function's share of that coroutine's
// samples (self: samples whose leaf is the function; cumulative: samples whose stack
// holds it, recursion counted once). Such rows (KindSampled) carry Estimate=true and no
// call count, because none was counted.
//
// Samples taken outside any coroutine (CoroID 0: no coroutine label) scale nothing.
// They may be the scheduler's own work between coroutines, but as well any other
// goroutine of the process: GC workers, Offload workers, the profiler building and
// writing its file after the ledger closed; the samples cannot tell these apart, and
// most of them never ran on the loop. Spreading <main>'s exact ledger over them would
// charge the scheduler's time to, say, the profiler's build, which did not run during
// it. So they make rows of their own, KindUnlabelled ("off-loop / unlabelled"), one
// per function, with their exact sample counts and the CPU time pprof credits them
// (format.Sample.Nanos: an estimate, in no bucket, so the views give it no percentage
// of the loops' totals) and no ticks or rusage figures, which nothing measured for
// them. This is what a Go engineer reading `go tool pprof` expects of such a
// function: its samples and their CPU time, not a share of someone else's clock.
// <main> keeps its exact figures in its bucket rows. A function seen both inside
// coroutines and outside has one row of each kind; the flame graph hangs the
// unlabelled stacks under a root frame of their own, UnlabelledFrame.
//
// # Deep stacks
//
// A sample keeps its leaf-most MaxStackDepth (512) frames, as the Go runtime's
// profiler keeps a stack's leaf end: runaway recursion or a crafted file could
// otherwise make every view cost time and memory in proportion to one stack's depth
// (a 400,000-frame sample took seconds and a gigabyte), and nest the flame graph past
// what encoding/json and the page's script accept. Counts stay exact and self figures
// are untouched; the frames cut off count in no cumulative figure and no edge, and the
// flame graph shows them as one frame, TruncatedFrame ("<truncated N frames>"), at the
// root end of the stack. The pprof view writes the stacks whole.
//
// # Conservation
//
// For every loop and every measured quantity, Σ coroutines + <main> + <wait> must equal
// the loop's own total. Build computes each difference (Model.Closure). Ticks, CPU time
// and the rusage event counters are exact, so they must close; the report's header
// prints the worst of them (Model.WorstClosure) so a reader sees how far the books
// close. utime and stime are estimates that split each bucket's exact CPU time in
// getrusage's ratio, so their sums cannot close by construction: their closure is kept
// apart (Closure.Estimate, Model.WorstEstimateClosure) and shown separately, marked ≈,
// never as the closure error.
//
// # Views
//
// The model holds figures, not presentation: package internal/render writes its
// views (HTML, text, JSON, pprof) and those of a Comparison. Operations on whole
// profiles (merging several, converting a clock) are package internal/profops's.
package report
