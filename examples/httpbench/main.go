// Command httpbench measures corohttp against net/http's server with wrk: the same
// handler, keep-alive, 100 connections, a small response, each server a child process
// whose CPU time (utime+stime from /proc/PID/stat) is read around each wrk run, so the
// figure that matters is requests per server CPU-second. Servers alternate (A B A B)
// in one sitting and the medians and their ratios are printed.
//
//	go run ./examples/httpbench                  # 1 loop vs GOMAXPROCS=1, N loops vs default
//	go run ./examples/httpbench -rounds 5 -d 5s -c 100 -loops 2
//
// It needs wrk (Debian package wrk). The child modes (-serve coro|net) are how the
// parent starts the servers; they print their address and serve until killed.
package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"regexp"
	"runtime"
	"runtime/pprof"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/coroprof/coroprof/corohttp"
	coro "github.com/coroprof/coroprof/runtime"
)

func main() {
	serve := flag.String("serve", "", "child mode: serve with coro or net and print the address")
	loops := flag.Int("loops", 0, "coro loops for the multi-core comparison (0: GOMAXPROCS)")
	rounds := flag.Int("rounds", 4, "rounds; each runs every server once, alternating")
	dur := flag.Duration("d", 5*time.Second, "wrk duration per run")
	conns := flag.Int("c", 100, "wrk connections")
	threads := flag.Int("t", 2, "wrk threads")
	only := flag.String("only", "", "run only the one-core (1) or the multi-core (n) comparison")
	raw := flag.Bool("raw", false, "add, at one core, a minimal HTTP loop on coroutines (ReadRequest and a fixed response: none of net/http's server semantics) as a reference")
	cpuprofile := flag.String("cpuprofile", "", "child mode: write a CPU profile here until SIGTERM")
	flag.Parse()
	if *serve != "" {
		if *cpuprofile != "" {
			f, err := os.Create(*cpuprofile)
			if err != nil {
				log.Fatal(err)
			}
			pprof.StartCPUProfile(f)
			sig := make(chan os.Signal, 1)
			signal.Notify(sig, syscall.SIGTERM)
			go func() { <-sig; pprof.StopCPUProfile(); f.Close(); os.Exit(0) }()
			stopProfile = func() { pprof.StopCPUProfile(); f.Close() }
		}
		child(*serve, *loops)
		return
	}
	if _, err := exec.LookPath("wrk"); err != nil {
		log.Fatal("httpbench: wrk not found (apt-get install wrk)")
	}
	n := *loops
	if n <= 0 {
		n = runtime.NumCPU()
	}
	type config struct {
		title   string
		servers []server // the last one is the baseline of the ratios
	}
	var configs []config
	if *only != "n" {
		// Every server of the one-core comparison gets GOMAXPROCS=1: with a second P
		// idle beside the loop's thread, the Go runtime runs idle-priority GC mark
		// workers on it, CPU time that is charged to the server but buys nothing.
		ss := []server{{"corohttp 1 loop", "coro", 1, 1}}
		if *raw {
			ss = append(ss, server{"raw ReadRequest loop", "raw", 1, 1})
		}
		configs = append(configs, config{"one core: corohttp 1 loop vs net/http, all GOMAXPROCS=1",
			append(ss, server{"net/http GOMAXPROCS=1", "net", 0, 1})})
	}
	if *only != "1" {
		configs = append(configs, config{fmt.Sprintf("all cores: corohttp %d loops vs net/http GOMAXPROCS=%d", n, runtime.NumCPU()),
			[]server{{fmt.Sprintf("corohttp %d loops", n), "coro", n, 0}, {"net/http default", "net", 0, 0}}})
	}
	fmt.Printf("wrk -t%d -c%d -d%v (keep-alive), %d rounds, servers alternating; %d CPUs\n\n", *threads, *conns, *dur, *rounds, runtime.NumCPU())
	for _, cfg := range configs {
		fmt.Println(cfg.title)
		res := make([][]result, len(cfg.servers))
		for r := 0; r < *rounds; r++ {
			for i := range cfg.servers {
				k := i
				if r%2 == 1 {
					k = len(cfg.servers) - 1 - i // forwards, then backwards: nobody always goes first
				}
				s := cfg.servers[k]
				x, err := s.measure(*dur, *conns, *threads)
				if err != nil {
					log.Fatalf("httpbench: %s: %v", s.name, err)
				}
				res[k] = append(res[k], x)
				fmt.Printf("  round %d  %-24s %9.0f req/s  %6.2f CPU-s  %9.0f req/CPU-s\n", r+1, s.name, x.rps, x.cpu, x.perCPU)
			}
		}
		meds := make([]result, len(res))
		for i := range res {
			meds[i] = medians(res[i])
			fmt.Printf("  median   %-24s %9.0f req/s  %9.0f req/CPU-s\n", cfg.servers[i].name, meds[i].rps, meds[i].perCPU)
		}
		base := meds[len(meds)-1]
		last := len(meds) - 1
		for i := 0; i < last; i++ {
			// Also the median of the per-round ratios: each round runs the servers
			// back to back, so a change in the machine's load between rounds cancels.
			var rr []result
			for r := range res[i] {
				rr = append(rr, result{rps: res[i][r].rps / res[last][r].rps, perCPU: res[i][r].perCPU / res[last][r].perCPU})
			}
			m := medians(rr)
			fmt.Printf("  ratio    %s / %s: of medians %.2fx req/s, %.2fx req/CPU-s; median of per-round ratios %.2fx req/s, %.2fx req/CPU-s\n",
				cfg.servers[i].name, cfg.servers[last].name, meds[i].rps/base.rps, meds[i].perCPU/base.perCPU, m.rps, m.perCPU)
		}
		fmt.Println()
	}
}

type server struct {
	name  string
	kind  string // coro or net
	loops int    // coro: loops
	procs int    // GOMAXPROCS (0: default)
}

type result struct{ rps, cpu, perCPU float64 }

func medians(rs []result) result {
	med := func(f func(result) float64) float64 {
		v := make([]float64, len(rs))
		for i, r := range rs {
			v[i] = f(r)
		}
		sort.Float64s(v)
		if len(v)%2 == 1 {
			return v[len(v)/2]
		}
		return (v[len(v)/2-1] + v[len(v)/2]) / 2
	}
	return result{med(func(r result) float64 { return r.rps }), med(func(r result) float64 { return r.cpu }), med(func(r result) float64 { return r.perCPU })}
}

// measure starts the server as a child, warms it up, and runs wrk against it, reading
// the child's CPU time before and after.
func (s server) measure(d time.Duration, conns, threads int) (result, error) {
	exe, err := os.Executable()
	if err != nil {
		return result{}, err
	}
	cmd := exec.Command(exe, "-serve", s.kind, "-loops", strconv.Itoa(s.loops))
	cmd.Env = os.Environ()
	if s.procs > 0 {
		cmd.Env = append(cmd.Env, "GOMAXPROCS="+strconv.Itoa(s.procs))
	}
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return result{}, err
	}
	if err := cmd.Start(); err != nil {
		return result{}, err
	}
	defer func() {
		cmd.Process.Signal(syscall.SIGKILL)
		cmd.Wait()
	}()
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		return result{}, fmt.Errorf("reading the child's address: %v", err)
	}
	url := "http://" + strings.TrimSpace(line) + "/"
	if _, err := wrk(url, time.Second, conns, threads); err != nil { // warm-up
		return result{}, err
	}
	cpu0, err := cpuSeconds(cmd.Process.Pid)
	if err != nil {
		return result{}, err
	}
	reqs, err := wrk(url, d, conns, threads)
	if err != nil {
		return result{}, err
	}
	cpu1, err := cpuSeconds(cmd.Process.Pid)
	if err != nil {
		return result{}, err
	}
	cpu := cpu1 - cpu0
	return result{rps: float64(reqs) / d.Seconds(), cpu: cpu, perCPU: float64(reqs) / cpu}, nil
}

var reqsRe = regexp.MustCompile(`(\d+) requests in`)

// wrk runs wrk and returns how many requests completed; a non-2xx response or a
// socket error is an error.
func wrk(url string, d time.Duration, conns, threads int) (int, error) {
	out, err := exec.Command("wrk", "-t"+strconv.Itoa(threads), "-c"+strconv.Itoa(conns), "-d"+strconv.Itoa(int(d.Seconds()))+"s", url).CombinedOutput()
	if err != nil {
		return 0, fmt.Errorf("wrk: %v: %s", err, out)
	}
	if strings.Contains(string(out), "Non-2xx") || strings.Contains(string(out), "Socket errors") {
		return 0, fmt.Errorf("wrk reported errors:\n%s", out)
	}
	m := reqsRe.FindSubmatch(out)
	if m == nil {
		return 0, fmt.Errorf("wrk output not understood:\n%s", out)
	}
	return strconv.Atoi(string(m[1]))
}

// cpuSeconds is the process's user+system CPU time (fields 14 and 15 of
// /proc/PID/stat, in clock ticks of 1/100 s on Linux).
func cpuSeconds(pid int) (float64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')') // the command name may hold spaces
	if i < 0 {
		return 0, errors.New("unexpected /proc/PID/stat")
	}
	f := strings.Fields(s[i+2:])
	if len(f) < 13 {
		return 0, errors.New("unexpected /proc/PID/stat")
	}
	ut, err1 := strconv.ParseUint(f[11], 10, 64)
	st, err2 := strconv.ParseUint(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, errors.New("unexpected /proc/PID/stat")
	}
	return float64(ut+st) / 100, nil
}

// handler is what both servers serve: a small fixed response.
func handler() http.Handler {
	mux := http.NewServeMux()
	body := []byte("hello, world\n")
	mux.HandleFunc("GET /", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Write(body)
	})
	return mux
}

// stopProfile ends the child's CPU profile, if one is being written.
var stopProfile = func() {}

func child(kind string, loops int) {
	switch kind {
	case "net":
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(ln.Addr())
		srv := &http.Server{Handler: handler(), ErrorLog: log.New(io.Discard, "", 0)}
		log.Fatal(srv.Serve(ln))
	case "coro":
		if loops < 1 {
			loops = 1
		}
		srv := &corohttp.Server{Addr: "127.0.0.1:0", Handler: handler(), ErrorLog: log.New(io.Discard, "", 0)}
		var others []*coro.Scheduler
		for i := 1; i < loops; i++ {
			s := coro.NewScheduler()
			others = append(others, s)
		}
		coro.SetLatencyWarning(0)
		coro.Spawn(func() {
			err := srv.ServeLoops(func(a net.Addr) { fmt.Println(a) }, others...)
			log.Fatal(err)
		})
		coro.EventLoop() // SIGTERM ends it (coro.OnSignal's default)
		stopProfile()
	case "raw":
		ln, err := coro.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(ln.Addr())
		coro.SetLatencyWarning(0)
		coro.Spawn(func() {
			for {
				c, err := ln.AcceptConn()
				if err != nil {
					log.Fatal(err)
				}
				coro.Spawn(func() { rawSession(c) })
			}
		})
		coro.EventLoop()
		stopProfile()
	default:
		log.Fatalf("httpbench: -serve %q: want coro, raw or net", kind)
	}
}

// rawSession is the reference without semantics: read a request with
// http.ReadRequest, answer with a fixed keep-alive response (what examples/httpserver
// did before corohttp).
func rawSession(c *coro.Conn) {
	defer c.Close()
	br := bufio.NewReader(c)
	bw := bufio.NewWriter(c)
	for {
		req, err := http.ReadRequest(br)
		if err != nil {
			return
		}
		io.Copy(io.Discard, req.Body)
		bw.WriteString("HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 13\r\n\r\nhello, world\n")
		if bw.Flush() != nil {
			return
		}
	}
}
