// Package wire holds the facts that both sides of a profile file share: what the
// runtime (package coro) and the profiler write, and what package format, the report
// model and print-profile read back. Each fact is defined here once, as Go's
// internal/trace/tracev2 is shared by the runtime that emits a trace and the parser
// that reads it.
//
//   - Wait reasons (WaitReason, NumWaitReasons, their names): why a coroutine is
//     parked. The values are written into profile files (wait sites, slices, the
//     per-coroutine wait table) and never change; a new reason is appended.
//   - Coroutine states (State, NumStates, their names): written into slices as how a
//     slice ended.
//   - The counters charged to every bucket (Counter, NumCounters, CounterNames, each
//     one's Unit and whether it is an Estimate; Counters, one value per counter, with
//     the arithmetic of a stamp): written in this order wherever a record holds
//     counters; the report's columns and JSON keys are their names.
//   - pprof label keys: the labels the profiler sets on each coroutine's goroutine
//     (LabelCoroID, LabelCoroName), the runtime on offloaded work (LabelOffload), and
//     the report on the pprof profiles it writes (LabelLoop, LabelSpawnSite,
//     LabelWaitReason).
//
// Package coro re-exports the states and wait reasons under its own names
// (coro.WaitSleep, coro.StateWaiting, ...), so users never import this package; package
// format re-exports the counts and names for programs that read profile files.
//
// The package imports nothing but the standard library and holds no state: it is a
// leaf every other package of the module may import.
package wire
