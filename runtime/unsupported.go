//go:build !linux && !darwin && !dragonfly && !freebsd && !netbsd && !openbsd

package coro

// The runtime needs a Unix kernel's sockets and poll(2) or epoll (see README.md,
// Platforms). On any other GOOS the build stops here, with this identifier as its first
// error, rather than with a list of undefined names.
type poller = coro_runtime_needs_Linux_macOS_or_a_BSD_see_README_Platforms
