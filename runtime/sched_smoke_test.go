package coro

import (
	"testing"
	"time"
)

func TestSmoke(t *testing.T) {
	var order []int
	a := Spawn(func() {
		for i := 0; i < 3; i++ {
			order = append(order, 1)
			Yield()
		}
	})
	Spawn(func() {
		for i := 0; i < 3; i++ {
			order = append(order, 2)
			Yield()
		}
		if err := a.Join(); err != nil {
			t.Error(err)
		}
		if err := Sleep(10 * time.Millisecond); err != nil {
			t.Error(err)
		}
		order = append(order, 3)
	})
	EventLoop()
	t.Log(order)
}
