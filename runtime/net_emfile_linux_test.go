package coro

import (
	"os"
	"syscall"
	"testing"
	"time"
)

// Linux only: it counts the process's descriptors in /proc/self/fd, and the rlimit's
// field types differ between the BSDs.

// TestAcceptBackoffOnEMFILE runs the process out of descriptors while a connection is
// waiting to be accepted: Accept must back off (a handful of attempts, not a spin) and
// accept the connection once descriptors are free again.
func TestAcceptBackoffOnEMFILE(t *testing.T) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Skip(err)
	}
	defer syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim)
	netLoop(t, 30*time.Second, func() {
		ln, err := Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Error(err)
			return
		}
		defer ln.Close()
		c, err := Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Error(err)
			return
		}
		defer c.Close()
		// Fill every descriptor below a lowered limit.
		entries, _ := os.ReadDir("/proc/self/fd")
		low := lim
		low.Cur = uint64(len(entries) + 64)
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &low); err != nil {
			t.Skip(err)
		}
		var dups []int
		for {
			fd, err := syscall.Dup(0)
			if err != nil {
				break
			}
			dups = append(dups, fd)
		}
		var acc *Conn
		var accErr error
		a := Spawn(func() { acc, accErr = ln.AcceptConn() })
		Sleep(300 * time.Millisecond)
		backoffs := ln.fd.backoffs
		for _, fd := range dups {
			syscall.Close(fd)
		}
		syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim)
		a.Join()
		if backoffs < 1 || backoffs > 12 {
			t.Errorf("accept backed off %d times in 300ms out of descriptors; want a few (5ms doubling), not 0 or a spin", backoffs)
		}
		if accErr != nil {
			t.Errorf("accept once descriptors were free: %v", accErr)
			return
		}
		defer acc.Close()
		c.Write([]byte("ok"))
		if b, err := acc.ReadExactly(2); err != nil || string(b) != "ok" {
			t.Errorf("accepted conn: %q %v", b, err)
		}
	})
}
