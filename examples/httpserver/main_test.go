package main

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	coro "github.com/coroprof/coroprof/runtime"
)

// TestHTTPServer sends keep-alive requests with net/http's client from a goroutine to
// the example server running on coroutines.
func TestHTTPServer(t *testing.T) {
	ln, err := coro.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	coro.Spawn(func() {
		for {
			c, err := ln.AcceptConn()
			if err != nil {
				return
			}
			coro.Spawn(func() { session(c) })
		}
	})
	base := "http://" + ln.Addr().String()
	type res struct {
		code int
		body string
	}
	var got []res
	go func() {
		defer coro.Default().Exit()
		cl := &http.Client{Timeout: 10 * time.Second}
		for _, p := range []string{"/", "/hello/gopher", "/coroutines", "/nope"} {
			r, err := cl.Get(base + p)
			if err != nil {
				t.Error(err)
				return
			}
			b, _ := io.ReadAll(r.Body)
			r.Body.Close()
			got = append(got, res{r.StatusCode, string(b)})
		}
	}()
	watchdog := time.AfterFunc(20*time.Second, func() { coro.Default().Exit() })
	coro.EventLoop()
	watchdog.Stop()
	if len(got) != 4 {
		t.Fatalf("got %d responses", len(got))
	}
	if got[0].code != 200 || !strings.HasPrefix(got[0].body, "hello from coroutine") ||
		got[1].body != "hello, /gopher\n" || got[2].body != "1 sessions open\n" || got[3].code != 404 {
		t.Fatalf("responses: %+v", got)
	}
}
