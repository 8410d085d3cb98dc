// Command proxy is the tutorial's spy proxy: it listens on the server's port + 9000,
// connects each client to the server, and prints every block that passes, in each
// direction, so you can watch a protocol being spoken.
//
//	go run ./examples/proxy example.com 80
//	curl -H 'Host: example.com' http://localhost:9080/
//
// Each session is two coroutines, one per direction: the one-reader-one-writer idiom,
// so no two coroutines ever wait on the same socket in the same direction.
package main

import (
	"flag"
	"fmt"
	"log"
	"net"
	"os"
	"strconv"

	coro "github.com/coroprof/coroprof/runtime"
)

func main() {
	listen := flag.String("listen", "", "address to listen on (default 127.0.0.1:<server port + 9000>)")
	flag.Usage = func() {
		fmt.Fprintf(os.Stderr, "usage: %s [-listen ADDR] <server-host> <server-port>\n", os.Args[0])
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() != 2 {
		flag.Usage()
		os.Exit(2)
	}
	port, err := strconv.Atoi(flag.Arg(1))
	if err != nil || port <= 0 || port > 65535-9000 {
		fmt.Fprintf(os.Stderr, "proxy: bad server port %q (want 1..%d)\n", flag.Arg(1), 65535-9000)
		os.Exit(2)
	}
	server := net.JoinHostPort(flag.Arg(0), flag.Arg(1))
	if *listen == "" {
		*listen = "127.0.0.1:" + strconv.Itoa(port+9000)
	}
	ln, err := coro.Listen("tcp", *listen)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Fprintf(os.Stderr, "proxy %s -> %s\n", ln.Addr(), server)
	coro.SpawnNamed("serve", func() { serve(ln, server) })
	coro.EventLoop()
}

func serve(ln *coro.Listener, server string) {
	id := 0
	for {
		conn, err := ln.AcceptConn()
		if err != nil {
			log.Print(err)
			return
		}
		id++
		sid := id
		coro.SpawnNamed(fmt.Sprintf("session %d", sid), func() { session(sid, conn, server) })
	}
}

func session(id int, conn *coro.Conn, server string) {
	up, err := coro.Dial("tcp", server)
	if err != nil {
		fmt.Fprintf(os.Stderr, "%d: %v\n", id, err)
		conn.Close()
		return
	}
	done := coro.SpawnNamed(fmt.Sprintf("feed %d ==>", id), func() { feed(id, "==>", up, conn) })
	feed(id, "<==", conn, up)
	done.Join()
	conn.Close()
	up.Close()
}

// feed copies from → to, printing each block, and half-closes to at end of stream so
// the other direction can still finish.
func feed(id int, dir string, from, to *coro.Conn) {
	buf := make([]byte, 1000)
	for {
		n, err := from.Read(buf)
		fmt.Fprintf(os.Stderr, "%s %d %q\n", dir, id, buf[:n])
		if n > 0 {
			if _, werr := to.Write(buf[:n]); werr != nil {
				fmt.Fprintf(os.Stderr, "%s %d %v\n", dir, id, werr)
				return
			}
		}
		if err != nil {
			to.CloseWrite()
			return
		}
	}
}
