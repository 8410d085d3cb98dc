package wire

// The pprof label keys. The profiler sets LabelCoroID and LabelCoroName on each
// coroutine's goroutine, so the CPU samples taken while it runs name it; the runtime
// sets LabelOffload (the caller's id) on work run through coro.Offload; the report
// sets all but LabelOffload on the samples of the pprof profiles it writes.
const (
	LabelCoroID     = "coro_id"      // numeric in the report's pprof output
	LabelCoroName   = "coro_name"    // also "<main>" and "<wait>" in the report's pprof output
	LabelOffload    = "coro_offload" // id of the coroutine that offloaded the work
	LabelLoop       = "loop"         // numeric: the event loop's id
	LabelSpawnSite  = "spawn_site"   // function:line of the Spawn call
	LabelWaitReason = "wait_reason"  // WaitReasonNames of a parked sample
)
