//go:build darwin || dragonfly || freebsd || netbsd || openbsd

package coro

// fionread asks how many bytes wait in a pipe (gaps_pipe_test.go): FIONREAD,
// _IOR('f', 127, int) in the BSDs' and darwin's sys/filio.h; x/sys/unix does not name it.
const fionread = 0x4004667f
