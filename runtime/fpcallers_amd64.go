package coro

// fpCallers fills pcs with the return addresses of the calling function's callers,
// innermost first, by walking frame pointers (fpcallers_amd64.s), and returns how many
// it stored. The stack is only read, and nothing is called during the walk, so it
// cannot move under it.
//
//go:noescape
func fpCallers(pcs []uintptr) int
