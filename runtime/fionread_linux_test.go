package coro

import "golang.org/x/sys/unix"

// fionread asks how many bytes wait in a pipe (gaps_pipe_test.go): TIOCINQ is Linux's
// FIONREAD.
const fionread = unix.TIOCINQ
