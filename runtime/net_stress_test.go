package coro

import (
	"errors"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"net"
	"os"
	"testing"
	"time"
)

// TestSocketChurn runs many connections through a random mix of what can happen to a
// socket at once: short read deadlines moved while parked, writers pausing, Close of
// either end, Interrupt and WithTimeout of the reader. Every stream must arrive in
// order (a prefix of what was sent), every coroutine must end, and the only errors are
// the ones the chaos explains.
func TestSocketChurn(t *testing.T) {
	const pairs = 200
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	var done, corrupt, unexpected int
	netLoop(t, 60*time.Second, func() {
		ln, err := Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Error(err)
			return
		}
		defer ln.Close()
		for i := 0; i < pairs; i++ {
			r := mrand.New(mrand.NewPCG(seed, uint64(i)))
			var srv *Conn
			a := Spawn(func() { srv, _ = ln.AcceptConn() })
			cl, err := Dial("tcp", ln.Addr().String())
			if err != nil {
				t.Error(err)
				return
			}
			a.Join()
			if srv == nil {
				t.Error("accept failed")
				return
			}
			total := 1000 + r.IntN(200000)
			// writer: a numbered byte stream in random chunks with random pauses
			w := Spawn(func() {
				defer srv.CloseWrite()
				buf := make([]byte, 0, 8192)
				for sent := 0; sent < total; {
					n := min(1+r.IntN(8192), total-sent)
					buf = buf[:n]
					for k := range buf {
						buf[k] = byte(sent + k)
					}
					if _, err := srv.Write(buf); err != nil {
						return
					}
					sent += n
					if r.IntN(4) == 0 {
						Sleep(time.Duration(r.IntN(3)) * time.Millisecond)
					}
				}
			})
			// reader: checks the sequence; retries after timeouts
			var rd *Coro
			rd = Spawn(func() {
				defer func() { done++ }()
				buf := make([]byte, 1+r.IntN(16384))
				got := 0
				for {
					if r.IntN(3) == 0 {
						cl.SetReadDeadline(time.Now().Add(time.Duration(r.IntN(5000)) * time.Microsecond))
					} else {
						cl.SetReadDeadline(time.Time{})
					}
					var n int
					var err error
					if r.IntN(5) == 0 {
						err = WithTimeout(time.Duration(1+r.IntN(3))*time.Millisecond, func() error {
							var e error
							n, e = cl.Read(buf)
							return e
						})
					} else {
						n, err = cl.Read(buf)
					}
					for k := 0; k < n; k++ {
						if buf[k] != byte(got+k) {
							corrupt++
							return
						}
					}
					got += n
					switch {
					case err == nil:
					case errors.Is(err, os.ErrDeadlineExceeded), errors.Is(err, ErrTimeout):
					case errors.Is(err, errChurn), errors.Is(err, net.ErrClosed):
						return
					case err == io.EOF:
						if got != total && !srvClosed(srv) {
							unexpected++
							t.Errorf("pair %d: EOF after %d of %d bytes", i, got, total)
						}
						return
					default:
						if !srvClosed(srv) {
							unexpected++
							t.Errorf("pair %d: %v", i, err)
						}
						return
					}
				}
			})
			// chaos: maybe close or interrupt at a random moment
			Spawn(func() {
				Sleep(time.Duration(r.IntN(30)) * time.Millisecond)
				switch r.IntN(5) {
				case 0:
					cl.Close()
				case 1:
					srv.Close()
				case 2:
					rd.Interrupt(errChurn)
				}
				rd.Join()
				w.Interrupt(errChurn) // a writer blocked on a reader that left
				w.Join()
				cl.Close()
				srv.Close()
			})
		}
	})
	if done != pairs || corrupt != 0 || unexpected != 0 {
		t.Fatalf("%d of %d readers finished, %d saw corrupt data, %d unexpected errors", done, pairs, corrupt, unexpected)
	}
}

var errChurn = fmt.Errorf("churn")

// srvClosed reports whether the test closed this end itself (so resets are expected).
func srvClosed(c *Conn) bool { return c.fd.closed }
