// Command echobench compares the echo server on coroutines (package coro, one loop
// thread, or -loops N loops on N threads sharing the port through SO_REUSEPORT) with
// the same server written on Go's net package (a goroutine per connection) and, with
// -gnet, with a gnet echo server (examples/echobench/gnet, its own module), as
// requests per CPU-second of the server process.
//
//	go run ./examples/echobench                      # 1000 conns; 64 B, 1 KB, 16 KB; 3 rounds
//	go run ./examples/echobench -sizes 1024 -rounds 5 -time 4s
//	go run ./examples/echobench -loops 1,2,4         # coro servers with 1, 2 and 4 loops
//	(cd examples/echobench/gnet && go build -o /tmp/gnet-peer .)
//	go run ./examples/echobench -gnet /tmp/gnet-peer # gnet too, with as many loops as coro
//
// Each row also gives the server's user-space share of its CPU time (utime over
// utime+stime, from /proc/PID/stat). With -perf, the window is sampled by
// perf record instead (cpu-clock, the whole process), and the share is the samples
// outside [kernel.kallsyms]: the tick-based utime/stime split of /proc can charge a
// tick to the wrong side.
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
	loopsFlag := flag.String("loops", "1", "coro servers to run, by number of event loops (one OS thread each), comma separated")
	nloops := flag.Int("nloops", 1, "with -serve coro: event loops sharing the port through SO_REUSEPORT (tcp only)")
	gnetPeer := flag.String("gnet", "", "the gnet-peer binary (examples/echobench/gnet): compare gnet servers too, one per -loops count")
	perfFlag := flag.Bool("perf", false, "sample each server's window with perf record and report its user-space share from the samples")
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
		serveCoro(*network, *addr, *nloops)
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

	var loopCounts []int
	for _, f := range strings.Split(*loopsFlag, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n <= 0 || n > 256 {
			log.Fatalf("echobench: bad loop count %q in -loops (want 1..256)", f)
		}
		if n > 1 && *network != "tcp" {
			log.Fatalf("echobench: -loops %d needs -network tcp (SO_REUSEPORT)", n)
		}
		loopCounts = append(loopCounts, n)
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
	fmt.Printf("%-7s %-8s %12s %10s %14s %7s\n", "size", "srv", "req/s", "srv CPU s", "req/CPU-s", "user %")
	// The servers of one round: a coro server per loop count, a gnet server per loop
	// count (with -gnet), then Go's (the baseline, last in the list).
	type server struct {
		kind  string
		loops int
		label string
	}
	var servers []server
	kinds := []string{"coro"}
	if *gnetPeer != "" {
		kinds = append(kinds, "gnet")
	}
	for _, kind := range kinds {
		for _, n := range loopCounts {
			label := kind
			if len(loopCounts) > 1 || n > 1 {
				label = fmt.Sprintf("%s×%d", kind, n)
			}
			servers = append(servers, server{kind, n, label})
		}
	}
	servers = append(servers, server{"go", 0, "go"})
	// The comparisons printed per size: each server against Go's, and with -gnet
	// each coro server against the gnet server with as many loops.
	type pair struct{ a, b int }
	var pairs []pair
	g := len(servers) - 1
	for i := 0; i < g; i++ {
		pairs = append(pairs, pair{i, g})
	}
	if *gnetPeer != "" {
		for i := range loopCounts {
			pairs = append(pairs, pair{i, len(loopCounts) + i})
		}
	}
	for _, size := range sizes {
		ratios := make([][]float64, len(pairs))  // req/CPU-s, a÷b, per round
		through := make([][]float64, len(pairs)) // req/s, a÷b, per round
		users := make([][]float64, len(servers)) // user-space share, per round
		for r := 0; r < *rounds; r++ {
			perCPU := make([]float64, len(servers))
			perSec := make([]float64, len(servers))
			for i, sv := range servers {
				exe := os.Args[0]
				if sv.kind == "gnet" {
					exe = *gnetPeer
				}
				res, err := run(exe, sv.kind, sv.loops, *network, size, *conns, *warm, *window, *perfFlag)
				if err != nil {
					log.Fatalf("echobench: %s server, %d B: %v", sv.label, size, err)
				}
				perCPU[i] = float64(res.reqs) / res.cpu
				perSec[i] = float64(res.reqs) / window.Seconds()
				users[i] = append(users[i], 100*res.user)
				fmt.Printf("%-7d %-8s %12.0f %10.2f %14.0f %7.1f\n", size, sv.label, perSec[i], res.cpu, perCPU[i], 100*res.user)
			}
			for k, p := range pairs {
				ratios[k] = append(ratios[k], perCPU[p.a]/perCPU[p.b])
				through[k] = append(through[k], perSec[p.a]/perSec[p.b])
			}
		}
		for k, p := range pairs {
			sort.Float64s(ratios[k])
			sort.Float64s(through[k])
			fmt.Printf("%-7d ratio %s/%s in req per server CPU-second: median %.2f (rounds: %s); in req/s: median %.2f\n",
				size, servers[p.a].label, servers[p.b].label, ratios[k][len(ratios[k])/2], fmtRatios(ratios[k]), through[k][len(through[k])/2])
		}
		for i, sv := range servers {
			sort.Float64s(users[i])
			fmt.Printf("%-7d user-space share of %s's CPU: median %.1f %% (rounds: %s)\n",
				size, sv.label, users[i][len(users[i])/2], fmtRatios(users[i]))
		}
		fmt.Println()
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
	user float64 // user-space share of that CPU, 0..1
}

// run starts a server process of the given kind (the program exe), loads it, and
// measures one window; with usePerf the window is also sampled by perf record.
func run(exe, kind string, loops int, network string, size, conns int, warm, window time.Duration, usePerf bool) (result, error) {
	addr := "127.0.0.1:0"
	if network == "unix" {
		dir, err := os.MkdirTemp("", "echobench")
		if err != nil {
			return result{}, err
		}
		defer os.RemoveAll(dir)
		addr = dir + "/echo.sock"
	}
	cmd := exec.Command(exe, "-serve", kind, "-network", network, "-addr", addr, "-nloops", strconv.Itoa(max(loops, 1)))
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
	var perfDone chan perfResult
	if usePerf {
		perfDone = make(chan perfResult, 1)
		go func() { perfDone <- perfUserShare(cmd.Process.Pid, window) }()
	}
	u0, s0, err := processCPU(cmd.Process.Pid)
	if err != nil {
		return result{}, err
	}
	n0 := count.Load()
	time.Sleep(window)
	n1 := count.Load()
	u1, s1, err := processCPU(cmd.Process.Pid)
	if err != nil {
		return result{}, err
	}
	res := result{reqs: n1 - n0, cpu: u1 + s1 - u0 - s0}
	if res.cpu > 0 {
		res.user = (u1 - u0) / res.cpu
	}
	if usePerf {
		pr := <-perfDone
		if pr.err != nil {
			return result{}, pr.err
		}
		res.user = pr.user
	}
	stop.Store(true)
	wg.Wait()
	close(errs)
	for err := range errs {
		return result{}, err
	}
	return res, nil
}

type perfResult struct {
	user float64
	err  error
}

// perfUserShare samples process pid for d with perf record (the cpu-clock software
// event, which works in guests without hardware counters) and returns the share of
// samples outside the kernel.
func perfUserShare(pid int, d time.Duration) perfResult {
	f, err := os.CreateTemp("", "echobench-perf")
	if err != nil {
		return perfResult{err: err}
	}
	data := f.Name()
	f.Close()
	defer os.Remove(data)
	rec := exec.Command("perf", "record", "-q", "-e", "cpu-clock", "-F", "999", "-p", strconv.Itoa(pid),
		"-o", data, "--", "sleep", strconv.FormatFloat(d.Seconds(), 'f', 3, 64))
	if out, err := rec.CombinedOutput(); err != nil {
		return perfResult{err: fmt.Errorf("perf record: %v: %s", err, out)}
	}
	rep := exec.Command("perf", "report", "-i", data, "--stdio", "--sort", "dso", "--percent-limit", "0")
	out, err := rep.Output()
	if err != nil {
		return perfResult{err: fmt.Errorf("perf report: %v", err)}
	}
	kernel, total := 0.0, 0.0
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 || strings.HasPrefix(line, "#") || !strings.HasSuffix(f[0], "%") {
			continue
		}
		v, err := strconv.ParseFloat(strings.TrimSuffix(f[0], "%"), 64)
		if err != nil {
			continue
		}
		total += v
		if strings.HasPrefix(f[1], "[kernel") {
			kernel += v
		}
	}
	if total == 0 {
		return perfResult{err: errors.New("perf report: no samples")}
	}
	return perfResult{user: 1 - kernel/total}
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

// processCPU returns the user and system CPU seconds of process pid, all threads.
func processCPU(pid int) (user, sys float64, err error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, 0, err
	}
	// The command name (field 2) may hold spaces; fields after its ')' are fixed.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, 0, errors.New("unexpected /proc/PID/stat format")
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 13 {
		return 0, 0, errors.New("short /proc/PID/stat")
	}
	// f[0] is field 3 (state); utime and stime are fields 14 and 15.
	ut, err1 := strconv.ParseFloat(f[11], 64)
	st, err2 := strconv.ParseFloat(f[12], 64)
	if err1 != nil || err2 != nil {
		return 0, 0, errors.New("bad utime/stime in /proc/PID/stat")
	}
	const clkTck = 100 // USER_HZ on Linux
	return ut / clkTck, st / clkTck, nil
}

// The two servers: the same loop, on coroutines and on goroutines.

func serveCoro(network, addr string, nloops int) {
	if nloops <= 1 {
		ln, err := coro.Listen(network, addr)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(ln.Addr())
		coro.Spawn(func() { acceptEcho(ln) })
		coro.EventLoop()
		return
	}
	// nloops loops, one OS thread each, each with its own listening socket on the same
	// address: the kernel spreads the connections over them (SO_REUSEPORT), and each
	// connection is served by the loop that accepted it. The default loop's socket is
	// made first (before its EventLoop, which the default loop allows) so the others
	// can share the port it got.
	lc := coro.ListenConfig{ReusePort: true}
	ln, err := lc.Listen(network, addr)
	if err != nil {
		log.Fatal(err)
	}
	shared := ln.Addr().String()
	coro.Spawn(func() { acceptEcho(ln) })
	ready := make(chan error, nloops)
	for i := 1; i < nloops; i++ {
		s := coro.NewScheduler()
		s.Spawn(func() {
			// A coroutine of s listens, so the socket is on s's poller.
			l, err := lc.Listen(network, shared)
			ready <- err
			if err == nil {
				acceptEcho(l)
			}
		})
		go s.EventLoop() // ends with the process (SIGTERM makes every loop Exit)
	}
	for i := 1; i < nloops; i++ {
		if err := <-ready; err != nil {
			log.Fatal(err)
		}
	}
	fmt.Println(shared) // all sockets listen: the driver may connect
	coro.EventLoop()
}

// acceptEcho accepts connections on ln and serves each with an echo coroutine on the
// caller's loop.
func acceptEcho(ln *coro.Listener) {
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
