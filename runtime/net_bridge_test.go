package coro

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"testing"
	"time"
)

// TestDeadlineSetWhileParked: a deadline set while a Read, Write or Accept is already
// parked, on a socket that had no deadline when it parked, wakes that call with
// os.ErrDeadlineExceeded (issue 12: it never fired, the timer was only armed for a
// deadline present at park time).
func TestDeadlineSetWhileParked(t *testing.T) {
	netLoop(t, 10*time.Second, func() {
		cl, srv := netPair(t)
		defer cl.Close()
		defer srv.Close()
		ln, err := Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Error(err)
			return
		}
		defer ln.Close()

		big := make([]byte, 64<<20)
		calls := []struct {
			name   string
			reason WaitReason
			call   func() error
			set    func(time.Time) error
		}{
			{"Read", WaitRead, func() error { _, err := cl.Read(make([]byte, 10)); return err }, cl.SetReadDeadline},
			{"Write", WaitWrite, func() error { _, err := cl.Write(big); return err }, cl.SetWriteDeadline},
			{"Accept", WaitRead, func() error { _, err := ln.Accept(); return err }, ln.SetDeadline},
			{"Read, SetDeadline", WaitRead, func() error { _, err := cl.Read(make([]byte, 10)); return err }, cl.SetDeadline},
		}
		for _, k := range calls {
			var callErr error
			r := SpawnNamed(k.name, func() { callErr = k.call() })
			if !netWaitParked(r, k.reason) {
				t.Errorf("%s did not park", k.name)
				continue
			}
			k.set(time.Now().Add(5 * time.Millisecond))
			r.Join()
			if !errors.Is(callErr, os.ErrDeadlineExceeded) {
				t.Errorf("%s parked with no deadline, then given one: %v, want os.ErrDeadlineExceeded", k.name, callErr)
			}
			k.set(time.Time{})
		}
	})
}

// TestCloseTwiceFromGoroutine: Close from a plain goroutine returns nil once and then
// an error wrapping net.ErrClosed, as package net's does (issue 12: it handed the close
// to the loop and returned nil every time).
func TestCloseTwiceFromGoroutine(t *testing.T) {
	netLoop(t, 10*time.Second, func() {
		cl, srv := netPair(t)
		defer srv.Close()
		ln, err := Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Error(err)
			return
		}
		for _, c := range []interface{ Close() error }{cl, ln} {
			errs := make(chan error, 2)
			go func() {
				errs <- c.Close()
				errs <- c.Close()
			}()
			for len(errs) < 2 {
				Sleep(time.Millisecond) // the goroutine's Closes are run by this loop
			}
			first, second := <-errs, <-errs
			if first != nil {
				t.Errorf("%T: first Close from a goroutine: %v", c, first)
			}
			if !errors.Is(second, net.ErrClosed) {
				t.Errorf("%T: second Close from a goroutine: %v, want net.ErrClosed", c, second)
			}
		}
	})
}

// TestSocketsMadeFromGoroutine: with the default loop running, a plain goroutine
// listens, dials, accepts and echoes; the sockets are the default loop's (they used to
// fail: "socket created outside the running event loop").
func TestSocketsMadeFromGoroutine(t *testing.T) {
	result := make(chan error, 1)
	netLoop(t, 20*time.Second, func() {
		go func() {
			result <- func() error {
				ln, err := Listen("tcp", "127.0.0.1:0")
				if err != nil {
					return err
				}
				defer ln.Close()
				acc := make(chan net.Conn, 1)
				go func() {
					c, err := ln.Accept()
					if err != nil {
						t.Errorf("Accept: %v", err)
					}
					acc <- c
				}()
				cl, err := Dial("tcp", ln.Addr().String())
				if err != nil {
					return err
				}
				defer cl.Close()
				srv := <-acc
				if srv == nil {
					return errors.New("no connection accepted")
				}
				defer srv.Close()
				if _, err := cl.Write([]byte("ping")); err != nil {
					return err
				}
				buf := make([]byte, 4)
				if _, err := io.ReadFull(srv, buf); err != nil || string(buf) != "ping" {
					return fmt.Errorf("read %q, %v", buf, err)
				}
				u, err := ListenPacket("udp", "127.0.0.1:0")
				if err != nil {
					return err
				}
				return u.Close()
			}()
		}()
		for len(result) == 0 {
			Sleep(time.Millisecond)
		}
	})
	if err := <-result; err != nil {
		t.Fatal(err)
	}
}
