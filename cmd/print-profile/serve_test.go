package main

import (
	"bytes"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/coroprof/coroprof/web"
)

// startServer runs serveHTTP on addr in the background and returns its base URL; the
// server stops when the test ends.
func startServer(t *testing.T, addr string, args ...string) (string, *bytes.Buffer) {
	t.Helper()
	// pprof saves profiles it believes were fetched from a remote host under
	// $PPROF_TMPDIR: point it at a directory that must stay empty.
	tmp := t.TempDir()
	t.Setenv("PPROF_TMPDIR", tmp)
	t.Cleanup(func() {
		if entries, _ := os.ReadDir(tmp); len(entries) > 0 {
			t.Errorf("the pprof driver saved %s: the UI must not write files", entries[0].Name())
		}
	})
	c, err := parseArgs(append([]string{"-http", addr}, args...), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	l, err := load(c, newProgress(io.Discard))
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	ready := make(chan string, 1)
	stop := make(chan struct{})
	done := make(chan error, 1)
	go func() { done <- serveHTTP(c.http, l, &stderr, func(u string) { ready <- u }, stop) }()
	var base string
	select {
	case base = <-ready:
	case err := <-done:
		t.Fatalf("serveHTTP returned before serving: %v (stderr %q)", err, stderr.String())
	case <-time.After(30 * time.Second):
		t.Fatal("server not ready after 30 s")
	}
	t.Cleanup(func() {
		close(stop)
		if err := <-done; err != nil {
			t.Errorf("serveHTTP: %v", err)
		}
	})
	return base, &stderr
}

// waitRow is the <wait> frame's row in the top table pprof's page embeds as JSON.
const waitRow = `"Name":"\u003cwait\u003e"`

func get(t *testing.T, u string) (int, string) {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

// TestServe: -http serves pprof's UI (through its driver) and the report, on a loopback
// address when ADDR names no host.
func TestServe(t *testing.T) {
	base, stderr := startServer(t, ":0", profilePath("small"))
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	if ip := net.ParseIP(u.Hostname()); ip == nil || !ip.IsLoopback() {
		t.Errorf("-http :0 bound %s, want a loopback address", u.Host)
	}
	if !strings.Contains(stderr.String(), "serving on "+base) {
		t.Errorf("stderr %q does not announce %s", stderr.String(), base)
	}
	code, body := get(t, base)
	if code != 200 || !strings.Contains(body, `href="ui/"`) || !strings.Contains(body, `href="report"`) {
		t.Errorf("index: %d %q", code, body)
	}
	// pprof's top view of the wall time: the synthetic frames and a coroutine's function.
	code, body = get(t, base+"ui/top?si=wall")
	if code != 200 || !strings.Contains(body, waitRow) || !strings.Contains(body, `"Name":"main.serve"`) {
		t.Errorf("ui/top?si=wall: %d, <wait> or main.serve missing (%d bytes)", code, len(body))
	}
	// A tag filter on one coroutine leaves out the other buckets.
	code, body = get(t, base+"ui/top?si=wall&tf=coro_name%3Dmain.serve")
	if code != 200 || strings.Contains(body, waitRow) || !strings.Contains(body, `"Name":"main.`) {
		t.Errorf("ui/top with tagfocus on main.serve: %d, <wait> still there or no function (%d bytes)", code, len(body))
	}
	// The flame graph, where / redirects.
	code, body = get(t, base+"ui/")
	if code != 200 || !strings.Contains(body, "main.serve") {
		t.Errorf("ui/ flame graph: %d (%d bytes)", code, len(body))
	}
	code, body = get(t, base+"ui/download")
	if code != 200 || len(body) < 2 || body[0] != 0x1f || body[1] != 0x8b {
		t.Errorf("ui/download: %d, not a gzipped profile", code)
	}
	code, body = get(t, base+"report")
	if _, err := echartsOK(); err != nil {
		if code != http.StatusInternalServerError {
			t.Errorf("report without the echarts runtime: %d", code)
		}
	} else if code != 200 || !strings.HasPrefix(body, "<!DOCTYPE html>") || !strings.Contains(body, "echo-server") {
		t.Errorf("report: %d, %d bytes", code, len(body))
	}
	if code, _ := get(t, base+"nosuchpage"); code != 404 {
		t.Errorf("unknown path: %d, want 404", code)
	}
}

// TestServeCompare: with a BASELINE the UI shows NEW against OLD (pprof's diff_base)
// and /report is the comparison page, which needs no charts runtime.
func TestServeCompare(t *testing.T) {
	base, _ := startServer(t, "127.0.0.1:0", profilePath("small"), profilePath("multiloop"))
	code, body := get(t, base+"ui/top?si=ticks")
	if code != 200 || !strings.Contains(body, waitRow) || !strings.Contains(body, "Flat\":-") {
		t.Errorf("ui/top of the difference: %d, no <wait> row or no negative value (%d bytes)", code, len(body))
	}
	code, body = get(t, base+"report")
	if code != 200 || !strings.Contains(body, "coroprof comparison") {
		t.Errorf("comparison report: %d (%d bytes)", code, len(body))
	}
}

// echartsOK says whether this build embeds the charts runtime the report needs.
func echartsOK() (string, error) { return web.Echarts() }

// TestServeBadAddress: an address that cannot be listened on is one line, exit 1.
func TestServeBadAddress(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	t.Setenv("PPROF_TMPDIR", t.TempDir())
	code, out, errs := runCmd("-http", ln.Addr().String(), profilePath("small"))
	if code != 1 || out != "" || strings.Count(errs, "\n") != 1 || !strings.Contains(errs, "-http") {
		t.Errorf("busy address: exit %d, stdout %q, stderr %q", code, out, errs)
	}
}

// TestServeMerge: -merge with -http serves the merged profile: the second input's
// loops are there, renumbered after the first's.
func TestServeMerge(t *testing.T) {
	base, _ := startServer(t, "127.0.0.1:0", "-merge", profilePath("small"), profilePath("multiloop"))
	// small has one loop and multiloop three: the merged loops are 1 to 4, each with its
	// own <wait>.
	code, body := get(t, base+"ui/top?si=ticks&tf=loop%3D4")
	if code != 200 || !strings.Contains(body, waitRow) {
		t.Errorf("ui/top focused on loop 4: %d, no <wait> row (%d bytes)", code, len(body))
	}
}
