package corohttp

import (
	"bytes"
	"io"
	"net"
	"net/http/httptest"
	"regexp"
	"sync"
	"testing"
	"time"
)

var (
	fuzzOnce              sync.Once
	fuzzCoro, fuzzNetHTTP string
)

// fuzzServers starts, once per process, a corohttp server and a net/http server with
// diffHandler and the same limits. They live until the process ends (the fuzzing
// engine calls the target many times; a server per input would dominate).
func fuzzServers(t *testing.T) (string, string) {
	fuzzOnce.Do(func() {
		ref := httptest.NewUnstartedServer(diffHandler())
		ref.Config.ErrorLog = quietLog
		ref.Config.MaxHeaderBytes = 4096
		ref.Start()
		fuzzNetHTTP = ref.Listener.Addr().String()
		fuzzCoro = serveCoro(&testing.T{}, &Server{Handler: diffHandler(), ErrorLog: quietLog, MaxHeaderBytes: 4096})
	})
	if fuzzCoro == "" {
		t.Fatal("servers did not start")
	}
	return fuzzCoro, fuzzNetHTTP
}

var dateLine = regexp.MustCompile(`(?m)^Date: [^\r\n]*\r$`)

// exchange sends raw, half-closes (so the server sees the end of the input and every
// exchange ends), and returns everything the server wrote, Date lines blanked.
func exchange(t *testing.T, addr string, raw []byte) []byte {
	c, err := net.DialTimeout("tcp", addr, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(30 * time.Second))
	go func() {
		c.Write(raw)
		c.(*net.TCPConn).CloseWrite()
	}()
	var out bytes.Buffer
	_, err = io.Copy(&out, c)
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		t.Fatalf("no end of the response in 30s from %s", addr)
	}
	return dateLine.ReplaceAll(out.Bytes(), []byte("Date: -\r"))
}

// FuzzServe sends arbitrary bytes to corohttp and to net/http's server and requires
// the same bytes back (Date aside). The seeds are the differential test's cases
// (without the 2 MB one) and run in every go test.
func FuzzServe(f *testing.F) {
	for _, c := range diffCases {
		if len(c.raw) < 64<<10 {
			f.Add([]byte(c.raw))
		}
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		a, b := fuzzServers(t)
		got, want := exchange(t, a, raw), exchange(t, b, raw)
		if !bytes.Equal(got, want) {
			t.Errorf("input %q\ncorohttp:\n%q\nnet/http:\n%q", raw, got, want)
		}
	})
}
