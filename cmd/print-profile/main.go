// Command print-profile renders a coroutine profile (coro_profile.bin, written by the
// profiler package) as a self-contained HTML report.
//
//	print-profile [flags] PROFILE [BASELINE] > report.html
//
// Exit status: 0 on success, 1 when the input cannot be read or is invalid (one line
// naming the fault), 2 on bad usage. The logic lives in run, which takes its arguments
// and writers so tests drive it without a subprocess.
package main

import "os"

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}
