// Package corohttp serves any http.Handler on coroutines (package coro, directory
// runtime/) with net/http's HTTP/1.x semantics, and has a client Transport whose
// connections are coroutine sockets.
package corohttp
