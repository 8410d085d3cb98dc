// Package report turns a *format.Profile into the model every view of print-profile
// renders: the HTML page, and later -json, -text, -pprof, compare and merge.
//
// # The model
//
// Build reads a profile once and returns a Model of plain exported structs whose JSON
// tags are the keys DESIGN.md §2 fixes (clock, measured, total_ticks, main, wait,
// coroutines, functions with self and cumulative). Every quantity is carried in one
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
// holds it, recursion counted once). Such rows carry Estimate=true and no call count,
// because none was counted. Samples taken outside any coroutine (CoroID 0) scale
// <main>, the scheduler's own bucket.
//
// # Conservation
//
// For every loop and every measured quantity, Σ coroutines + <main> + <wait> must equal
// the loop's own total. Build computes each difference (Model.Closure); the report
// prints the worst one in its header so a reader sees how far the books close.
//
// # Views
//
// WriteHTML renders the self-contained page from web's embedded templates: tables are
// drawn by the page's script from embedded JSON (so 100k rows stay responsive: the first
// rows render, "show all" renders the rest), the call graph and the longest slices are
// rendered by html/template, charts are go-echarts options drawn by the embedded echarts
// runtime, and the flame graph is a small div renderer of its own.
package report
