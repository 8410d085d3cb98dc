//go:build !amd64

package coro

import "runtime"

// fpCallers is the portable version of the frame-pointer walk of
// fpcallers_amd64.s: the same result through runtime.Callers, which is slower.
func fpCallers(pcs []uintptr) int {
	return runtime.Callers(3, pcs) // skip runtime.Callers, fpCallers, and its caller
}
