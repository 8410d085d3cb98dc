package coro

// Unwinding reports whether v, a value recovered from a panic on a coroutine, is the
// runtime unwinding that coroutine because its loop is ending after Exit (doc.go,
// Coroutines). Code that recovers panics on coroutines, such as an HTTP server
// recovering a handler's panic (corohttp), must panic again with v when this is true,
// so the coroutine unwinds to its end as the loop expects.
func Unwinding(v any) bool { return v == any(unwindSentinel) }
