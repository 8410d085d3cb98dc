// Command echobench compares the echo server on coroutines (package coro, one loop
// thread) with the same server written on Go's net package (a goroutine per
// connection), as requests per CPU-second of the server process.
//
//	go run ./examples/echobench                      # 1000 conns; 64 B, 1 KB, 16 KB; 3 rounds
//	go run ./examples/echobench -sizes 1024 -rounds 5 -time 4s
//
// Each server runs in its own process (this binary with -serve coro|go); the client is
// this process, the same for both: 1000 connections, each a goroutine sending a request
// of -size bytes and reading the echo in lockstep. After a warm-up, the driver reads the
// server's CPU time (utime+stime of /proc/PID/stat, all its threads) and the request
// count at the start and end of a fixed window. Servers alternate round by round, so
// both see the same machine conditions; the report gives each round and the median.
package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"runtime/pprof"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	coro "github.com/coroprof/coroprof/runtime"
)

func main() {
	serve := flag.String("serve", "", "run a server: coro or go (used by the driver)")
	addr := flag.String("addr", "127.0.0.1:0", "server listen address (with -serve)")
	network := flag.String("network", "tcp", "tcp or unix (unix: a socket in a temporary directory)")
	conns := flag.Int("conns", 1000, "client connections")
	sizesFlag := flag.String("sizes", "64,1024,16384", "request sizes in bytes, comma separated")
	rounds := flag.Int("rounds", 3, "rounds per size (each runs both servers)")
	window := flag.Duration("time", 3*time.Second, "measured window per run")
	warm := flag.Duration("warm", 500*time.Millisecond, "warm-up before each window")
	target := flag.String("target", "", "only load the echo server at this address for -time (no comparison)")
	cpuprofile := flag.String("cpuprofile", "", "with -serve: write the server's CPU profile here (ends on SIGTERM)")
	flag.Parse()

	if *cpuprofile != "" && *serve != "" {
		f, err := os.Create(*cpuprofile)
		if err != nil {
			log.Fatal(err)
		}
		pprof.StartCPUProfile(f)
		defer pprof.StopCPUProfile()
	}

	if *network != "tcp" && *network != "unix" {
		log.Fatalf("echobench: -network %q: want tcp or unix", *network)
	}
	switch *serve {
	case "coro":
		serveCoro(*network, *addr)
		return
	case "go":
		go serveGo(*network, *addr)
		sig := make(chan os.Signal, 1)
		signal.Notify(sig, syscall.SIGTERM, os.Interrupt)
		<-sig
		return
	case "":
	default:
		log.Fatalf("echobench: -serve %q: want coro or go", *serve)
	}

	if *target != "" {
		n, err := load(*network, *target, 1024, *conns, *window)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("%.0f req/s\n", float64(n)/window.Seconds())
		return
	}

	var sizes []int
	for _, f := range strings.Split(*sizesFlag, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n <= 0 || n > 1<<20 {
			log.Fatalf("echobench: bad size %q in -sizes (want 1..1048576)", f)
		}
		sizes = append(sizes, n)
	}
	fmt.Printf("echo over %s, %d connections, lockstep request/response, %v window after %v warm-up, %d rounds\n",
		*network, *conns, *window, *warm, *rounds)
	fmt.Printf("%-7s %-5s %12s %10s %14s\n", "size", "srv", "req/s", "srv CPU s", "req/CPU-s")
	for _, size := range sizes {
		var ratios []float64
		for r := 0; r < *rounds; r++ {
			var perCPU [2]float64
			for i, kind := range []string{"coro", "go"} {
				res, err := run(kind, *network, size, *conns, *warm, *window)
				if err != nil {
					log.Fatalf("echobench: %s server, %d B: %v", kind, size, err)
				}
				perCPU[i] = float64(res.reqs) / res.cpu
				fmt.Printf("%-7d %-5s %12.0f %10.2f %14.0f\n", size, kind, float64(res.reqs)/window.Seconds(), res.cpu, perCPU[i])
			}
			ratios = append(ratios, perCPU[0]/perCPU[1])
		}
		sort.Float64s(ratios)
		fmt.Printf("%-7d ratio coro/go in req per server CPU-second: median %.2f (rounds: %s)\n\n",
			size, ratios[len(ratios)/2], fmtRatios(ratios))
	}
}

func fmtRatios(r []float64) string {
	s := make([]string, len(r))
	for i, v := range r {
		s[i] = fmt.Sprintf("%.2f", v)
	}
	return strings.Join(s, " ")
}

type result struct {
	reqs int64
	cpu  float64 // server CPU seconds in the window
}

// run starts a server process of the given kind, loads it, and measures one window.
func run(kind, network string, size, conns int, warm, window time.Duration) (result, error) {
	addr := "127.0.0.1:0"
	if network == "unix" {
		dir, err := os.MkdirTemp("", "echobench")
		if err != nil {
			return result{}, err
		}
		defer os.RemoveAll(dir)
		addr = dir + "/echo.sock"
	}
	cmd := exec.Command(os.Args[0], "-serve", kind, "-network", network, "-addr", addr)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return result{}, err
	}
	if err := cmd.Start(); err != nil {
		return result{}, err
	}
	defer func() {
		cmd.Process.Signal(syscall.SIGTERM) // both servers end cleanly on SIGTERM
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	}()
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		return result{}, fmt.Errorf("server did not report its address: %v", err)
	}
	addr = strings.TrimSpace(line)

	var count atomic.Int64
	var stop atomic.Bool
	var wg sync.WaitGroup
	errs := make(chan error, conns)
	for i := 0; i < conns; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := client(network, addr, size, &count, &stop); err != nil {
				errs <- err
			}
		}()
	}
	time.Sleep(warm)
	c0, err := processCPU(cmd.Process.Pid)
	if err != nil {
		return result{}, err
	}
	n0 := count.Load()
	time.Sleep(window)
	n1 := count.Load()
	c1, err := processCPU(cmd.Process.Pid)
	if err != nil {
		return result{}, err
	}
	stop.Store(true)
	wg.Wait()
	close(errs)
	for err := range errs {
		return result{}, err
	}
	return result{reqs: n1 - n0, cpu: c1 - c0}, nil
}

func client(network, addr string, size int, count *atomic.Int64, stop *atomic.Bool) error {
	var c net.Conn
	var err error
	for tries := 0; ; tries++ { // the listen backlog may overflow in the first burst
		if c, err = net.Dial(network, addr); err == nil || tries == 50 {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		return err
	}
	defer c.Close()
	req := make([]byte, size)
	resp := make([]byte, size)
	for !stop.Load() {
		if _, err := c.Write(req); err != nil {
			return err
		}
		if _, err := io.ReadFull(c, resp); err != nil {
			return err
		}
		count.Add(1)
	}
	return nil
}

// load runs the client alone against addr for d and returns the requests done.
func load(network, addr string, size, conns int, d time.Duration) (int64, error) {
	var count atomic.Int64
	var stop atomic.Bool
	var wg sync.WaitGroup
	var firstErr atomic.Value
	for i := 0; i < conns; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := client(network, addr, size, &count, &stop); err != nil {
				firstErr.CompareAndSwap(nil, err)
			}
		}()
	}
	time.Sleep(d)
	stop.Store(true)
	wg.Wait()
	if err, _ := firstErr.Load().(error); err != nil {
		return 0, err
	}
	return count.Load(), nil
}

// processCPU returns the user+system CPU seconds of process pid, all threads.
func processCPU(pid int) (float64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The command name (field 2) may hold spaces; fields after its ')' are fixed.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, errors.New("unexpected /proc/PID/stat format")
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 13 {
		return 0, errors.New("short /proc/PID/stat")
	}
	// f[0] is field 3 (state); utime and stime are fields 14 and 15.
	ut, err1 := strconv.ParseFloat(f[11], 64)
	st, err2 := strconv.ParseFloat(f[12], 64)
	if err1 != nil || err2 != nil {
		return 0, errors.New("bad utime/stime in /proc/PID/stat")
	}
	const clkTck = 100 // USER_HZ on Linux
	return (ut + st) / clkTck, nil
}

// The two servers: the same loop, on coroutines and on goroutines.

func serveCoro(network, addr string) {
	ln, err := coro.Listen(network, addr)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(ln.Addr())
	coro.Spawn(func() {
		for {
			c, err := ln.AcceptConn()
			if err != nil {
				log.Print(err)
				return
			}
			coro.Spawn(func() {
				defer c.Close()
				buf := make([]byte, 32<<10)
				for {
					n, err := c.Read(buf)
					if err != nil {
						return
					}
					if _, err := c.Write(buf[:n]); err != nil {
						return
					}
				}
			})
		}
	})
	coro.EventLoop()
}

func serveGo(network, addr string) {
	ln, err := net.Listen(network, addr)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(ln.Addr())
	for {
		c, err := ln.Accept()
		if err != nil {
			log.Print(err)
			return
		}
		go func() {
			defer c.Close()
			buf := make([]byte, 32<<10)
			for {
				n, err := c.Read(buf)
				if err != nil {
					return
				}
				if _, err := c.Write(buf[:n]); err != nil {
					return
				}
			}
		}()
	}
}
