// Command gnet-peer is the gnet (github.com/panjf2000/gnet/v2) echo server that
// examples/echobench compares the coro server with: the peer a Go user would pick for
// an event-loop server. It lives in its own module so that the project's module does
// not depend on gnet.
//
//	cd examples/echobench/gnet && go build -o /tmp/gnet-peer .
//	go run ./examples/echobench -gnet /tmp/gnet-peer
//
// The driver starts it as it starts its own servers (-network, -addr, -nloops), reads
// the listening address from its first line of output and ends it with SIGTERM. With
// -nloops N it runs N gnet event loops, each with its own listening socket on the
// same port (SO_REUSEPORT), as the coro server with N loops does; with one loop there
// is one event loop and no separate acceptor.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"net"
	"os"
	"os/signal"
	"syscall"

	"github.com/panjf2000/gnet/v2"
	"github.com/panjf2000/gnet/v2/pkg/logging"
)

type echo struct {
	gnet.BuiltinEventEngine
	addr string
	eng  chan gnet.Engine
}

func (e *echo) OnBoot(eng gnet.Engine) gnet.Action {
	fmt.Println(e.addr) // the driver connects once it reads this line
	e.eng <- eng
	return gnet.None
}

// OnTraffic echoes what arrived. Next(-1) hands out the whole inbound buffer without
// copying; Write copies it to the socket (or to the outbound buffer when the socket
// is full), so the buffer may be reused after the call.
func (e *echo) OnTraffic(c gnet.Conn) gnet.Action {
	buf, err := c.Next(-1)
	if err != nil {
		return gnet.Close
	}
	if _, err := c.Write(buf); err != nil {
		return gnet.Close
	}
	return gnet.None
}

// quietLogger sends gnet's warnings and errors to stderr and drops the rest: gnet's
// default logger writes to stdout, where the driver reads the address.
type quietLogger struct{}

func (quietLogger) Debugf(string, ...any)     {}
func (quietLogger) Infof(string, ...any)      {}
func (quietLogger) Warnf(f string, a ...any)  { log.Printf("gnet: "+f, a...) }
func (quietLogger) Errorf(f string, a ...any) { log.Printf("gnet: "+f, a...) }
func (quietLogger) Fatalf(f string, a ...any) { log.Fatalf("gnet: "+f, a...) }

func main() {
	logging.SetDefaultLoggerAndFlusher(quietLogger{}, func() error { return nil })
	network := flag.String("network", "tcp", "tcp or unix")
	addr := flag.String("addr", "127.0.0.1:0", "listen address")
	nloops := flag.Int("nloops", 1, "gnet event loops")
	serve := flag.String("serve", "gnet", "accepted for the driver's command line; must be gnet")
	flag.Parse()
	if *serve != "gnet" {
		log.Fatalf("gnet-peer: -serve %q: only gnet", *serve)
	}
	if *nloops < 1 {
		log.Fatalf("gnet-peer: -nloops %d: want at least 1", *nloops)
	}
	if *network == "tcp" {
		// gnet does not report a port it was given as 0: take a free one first.
		ln, err := net.Listen("tcp", *addr)
		if err != nil {
			log.Fatalf("gnet-peer: %v", err)
		}
		*addr = ln.Addr().String()
		ln.Close()
	}
	e := &echo{addr: *addr, eng: make(chan gnet.Engine, 1)}
	go func() {
		sig := make(chan os.Signal, 1)
		signal.Notify(sig, syscall.SIGTERM, os.Interrupt)
		<-sig
		eng := <-e.eng
		eng.Stop(context.Background())
	}()
	err := gnet.Run(e, *network+"://"+*addr,
		gnet.WithMulticore(*nloops > 1),
		gnet.WithNumEventLoop(*nloops),
		gnet.WithReusePort(true),
		gnet.WithLogger(quietLogger{}))
	if err != nil {
		log.Fatalf("gnet-peer: %v", err)
	}
}
