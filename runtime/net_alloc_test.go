package coro

import (
	"testing"
)

// TestSocketPathNoAlloc: a Write and a Read on the loop thread allocate nothing (the
// off-loop path's closure once moved its captured results to the heap on every call).
func TestSocketPathNoAlloc(t *testing.T) {
	s := NewScheduler()
	var perOp float64
	s.Spawn(func() {
		ln, err := Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Error(err)
			return
		}
		defer ln.Close()
		var srv *Conn
		accepted := s.Spawn(func() { srv, _ = ln.AcceptConn() })
		c, err := Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Error(err)
			return
		}
		defer c.Close()
		accepted.Join()
		if srv == nil {
			t.Error("no connection accepted")
			return
		}
		defer srv.Close()
		msg, buf := []byte("ping"), make([]byte, 16)
		op := func() {
			if _, err := c.Write(msg); err != nil {
				t.Error(err)
			}
			if _, err := srv.Read(buf); err != nil {
				t.Error(err)
			}
		}
		op()
		perOp = testing.AllocsPerRun(1000, op)
	})
	s.EventLoop()
	if perOp >= 0.5 {
		t.Errorf("%.2f allocations per Write+Read on the loop, want 0", perOp)
	}
}
