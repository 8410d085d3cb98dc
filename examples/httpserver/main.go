// Command httpserver is a small HTTP/1.1 server on coroutines: each connection is a
// coroutine that parses requests with net/http's ReadRequest over a bufio.Reader on a
// *coro.Conn and writes the responses itself, with keep-alive.
//
//	go run ./examples/httpserver
//	curl -v http://127.0.0.1:8080/hello
//
// Paths: / (a greeting), /coroutines (how many sessions are open), anything else 404.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"log"
	"net/http"
	"os"
	"strings"
	"time"

	coro "github.com/coroprof/coroprof/runtime"
)

var open int // sessions now open; only touched on the loop thread

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "address to listen on")
	flag.Parse()
	ln, err := coro.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Fprintf(os.Stderr, "http server on http://%s/\n", ln.Addr())
	coro.SpawnNamed("serve", func() {
		for {
			c, err := ln.AcceptConn()
			if err != nil {
				log.Print(err)
				return
			}
			coro.SpawnNamed("http "+c.RemoteAddr().String(), func() { session(c) })
		}
	})
	coro.EventLoop()
}

func session(c *coro.Conn) {
	open++
	defer func() { open--; c.Close() }()
	br := bufio.NewReader(c)
	bw := bufio.NewWriter(c)
	for {
		// An idle keep-alive connection is dropped after a while.
		c.SetReadDeadline(time.Now().Add(30 * time.Second))
		req, err := http.ReadRequest(br)
		if err != nil {
			if err != io.EOF {
				fmt.Fprintf(bw, "HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n")
				bw.Flush()
			}
			return
		}
		// Drain the body so the next request starts at the right byte.
		io.Copy(io.Discard, req.Body)
		req.Body.Close()
		status, body := route(req)
		keep := !req.Close && req.ProtoAtLeast(1, 1)
		fmt.Fprintf(bw, "HTTP/1.1 %d %s\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: %d\r\n",
			status, http.StatusText(status), len(body))
		if !keep {
			bw.WriteString("Connection: close\r\n")
		}
		bw.WriteString("\r\n")
		if req.Method != http.MethodHead {
			bw.WriteString(body)
		}
		if err := bw.Flush(); err != nil || !keep {
			return
		}
	}
}

func route(req *http.Request) (int, string) {
	switch req.URL.Path {
	case "/":
		return http.StatusOK, "hello from coroutine " + fmt.Sprint(coro.Current().ID()) + "\n"
	case "/coroutines":
		return http.StatusOK, fmt.Sprintf("%d sessions open\n", open)
	}
	if strings.HasPrefix(req.URL.Path, "/hello") {
		return http.StatusOK, "hello, " + strings.TrimPrefix(req.URL.Path, "/hello") + "\n"
	}
	return http.StatusNotFound, "not found\n"
}
