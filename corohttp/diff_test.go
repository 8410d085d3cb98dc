package corohttp

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// diffHandler is served by both servers in the differential test. Every path answers
// deterministically (no time, no addresses), so whole responses can be compared.
func diffHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "hello\n")
	})
	mux.HandleFunc("/echo", func(w http.ResponseWriter, r *http.Request) {
		b, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, "bad body", http.StatusBadRequest)
			return
		}
		fmt.Fprintf(w, "%s %s %d: %s", r.Method, r.Proto, len(b), b)
	})
	mux.HandleFunc("/noread", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "did not read\n")
	})
	mux.HandleFunc("/big", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, strings.Repeat("0123456789", 500))
	})
	mux.HandleFunc("/html", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "<!DOCTYPE html><html><body>hi</body></html>")
	})
	mux.HandleFunc("/flush", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "part one\n")
		w.(http.Flusher).Flush()
		io.WriteString(w, "part two\n")
	})
	mux.HandleFunc("/cl", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "5")
		io.WriteString(w, "exact")
	})
	mux.HandleFunc("/short", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "10")
		io.WriteString(w, "short") // fewer bytes than announced: the connection must close
	})
	mux.HandleFunc("/204", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("/304", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		w.WriteHeader(http.StatusNotModified)
	})
	mux.HandleFunc("/close", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Connection", "close")
		io.WriteString(w, "bye\n")
	})
	mux.HandleFunc("/panic", func(w http.ResponseWriter, r *http.Request) {
		panic("handler panic (expected by the test)")
	})
	mux.HandleFunc("/abort", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "partial")
		panic(http.ErrAbortHandler)
	})
	mux.HandleFunc("/trailer", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Trailer", "X-Sum")
		io.WriteString(w, "body")
		w.Header().Set("X-Sum", "42")
	})
	mux.HandleFunc("/typed", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"a":1}`)
	})
	mux.HandleFunc("/late", func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Late", "before")
		w.WriteHeader(http.StatusOK)
		h.Set("X-Late", "after") // after WriteHeader: not sent
		h.Set("X-New", "1")
		io.WriteString(w, "late")
	})
	mux.HandleFunc("/late-unchanged", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Late", "kept")
		w.WriteHeader(http.StatusOK)
		io.WriteString(w, "late")
	})
	mux.HandleFunc("/late-header-call", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusOK)
		w.Header().Set("X-New", "1") // Header() after WriteHeader: not sent
		io.WriteString(w, "late")
	})
	mux.HandleFunc("/fields", func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h["X-Late"] = []string{"  spaced\r\nvalue\t", "second"}
		h["Bad Name"] = []string{"dropped"}
		h["a-lower"] = []string{"kept as is"}
		for _, k := range []string{"Zeta", "Alpha", "Mid", "Beta"} {
			h.Set("X-"+k, k)
		}
		io.WriteString(w, "fields")
	})
	mux.HandleFunc("/early", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusAccepted)
		r.Body.Close()
	})
	return mux
}

// diffCase is one raw byte sequence sent to both servers.
type diffCase struct {
	name string
	raw  string
	// finals is how many final (non-1xx) responses to read at most; methods[i] is the
	// method of the i-th request (HEAD responses have no body), GET when missing.
	finals  int
	methods []string
}

const h11 = "Host: example.com\r\n"

func post(path, proto, extra, body string) string {
	return fmt.Sprintf("POST %s %s\r\n%sContent-Length: %d\r\n%s\r\n%s", path, proto, h11, len(body), extra, body)
}

// diffCases: well-formed, pipelined, malformed and hostile requests. The package doc
// lists them too.
var diffCases = []diffCase{
	{name: "get 1.1", raw: "GET / HTTP/1.1\r\n" + h11 + "\r\n", finals: 1},
	{name: "get 1.0", raw: "GET / HTTP/1.0\r\n\r\n", finals: 1},
	{name: "get 1.0 keep-alive", raw: "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", finals: 1},
	{name: "get 1.0 keep-alive chunked-size body", raw: "GET /big HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", finals: 1},
	{name: "get 1.1 connection close", raw: "GET / HTTP/1.1\r\n" + h11 + "Connection: close\r\n\r\n", finals: 1},
	{name: "pipelined three", raw: "GET / HTTP/1.1\r\n" + h11 + "\r\n" + "GET /big HTTP/1.1\r\n" + h11 + "\r\n" + post("/echo", "HTTP/1.1", "", "abc"), finals: 3},
	{name: "pipelined head then get", raw: "HEAD / HTTP/1.1\r\n" + h11 + "\r\nGET /cl HTTP/1.1\r\n" + h11 + "\r\n", finals: 2, methods: []string{"HEAD", "GET"}},
	{name: "pipelined after close", raw: "GET / HTTP/1.1\r\n" + h11 + "Connection: close\r\n\r\nGET / HTTP/1.1\r\n" + h11 + "\r\n", finals: 2},
	{name: "missing host 1.1", raw: "GET / HTTP/1.1\r\n\r\n", finals: 1},
	{name: "missing host 1.0", raw: "GET / HTTP/1.0\r\n\r\n", finals: 1},
	{name: "empty host", raw: "GET / HTTP/1.1\r\nHost:\r\n\r\n", finals: 1},
	{name: "absolute uri without host", raw: "GET http://example.com/ HTTP/1.1\r\n\r\n", finals: 1},
	{name: "absolute uri with host", raw: "GET http://example.com/ HTTP/1.1\r\nHost: other\r\n\r\n", finals: 1},
	{name: "absolute uri bad host field", raw: "GET http://example.com/ HTTP/1.1\r\nHost: a<b\r\n\r\n", finals: 1},
	{name: "malformed host", raw: "GET / HTTP/1.1\r\nHost: a b\r\n\r\n", finals: 1},
	{name: "two hosts", raw: "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", finals: 1},
	{name: "connect without host", raw: "CONNECT example.com:443 HTTP/1.1\r\n\r\n", finals: 1},
	{name: "http 9.9", raw: "GET / HTTP/9.9\r\n" + h11 + "\r\n", finals: 1},
	{name: "http 2.0", raw: "GET / HTTP/2.0\r\n" + h11 + "\r\n", finals: 1},
	{name: "http 0.9 style", raw: "GET /\r\n\r\n", finals: 1},
	{name: "http 1.2", raw: "GET / HTTP/1.2\r\n" + h11 + "\r\n", finals: 1},
	{name: "lowercase version", raw: "GET / http/1.1\r\n" + h11 + "\r\n", finals: 1},
	{name: "request line garbage", raw: "HELLO\r\n\r\n", finals: 1},
	{name: "binary garbage", raw: "\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03\r\n\r\n", finals: 1},
	{name: "bad method", raw: "G(T / HTTP/1.1\r\n" + h11 + "\r\n", finals: 1},
	{name: "bad uri", raw: "GET %zz HTTP/1.1\r\n" + h11 + "\r\n", finals: 1},
	{name: "header too large 2MB", raw: "GET / HTTP/1.1\r\n" + h11 + "X-Big: " + strings.Repeat("a", 2<<20) + "\r\n\r\n", finals: 1},
	{name: "header just under limit", raw: "GET / HTTP/1.1\r\n" + h11 + "X-Big: " + strings.Repeat("a", 4000) + "\r\n\r\n", finals: 1},
	{name: "header over limit", raw: "GET / HTTP/1.1\r\n" + h11 + "X-Big: " + strings.Repeat("a", 9000) + "\r\n\r\n", finals: 1},
	{name: "many headers", raw: "GET / HTTP/1.1\r\n" + h11 + strings.Repeat("X-A: b\r\n", 2000) + "\r\n", finals: 1},
	{name: "content-length and chunked", raw: "POST /echo HTTP/1.1\r\n" + h11 + "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n", finals: 1},
	{name: "two content-lengths differ", raw: "POST /echo HTTP/1.1\r\n" + h11 + "Content-Length: 3\r\nContent-Length: 4\r\n\r\nabcd", finals: 1},
	{name: "two content-lengths same", raw: "POST /echo HTTP/1.1\r\n" + h11 + "Content-Length: 3\r\nContent-Length: 3\r\n\r\nabc", finals: 1},
	{name: "negative content-length", raw: "POST /echo HTTP/1.1\r\n" + h11 + "Content-Length: -1\r\n\r\n", finals: 1},
	{name: "plus content-length", raw: "POST /echo HTTP/1.1\r\n" + h11 + "Content-Length: +3\r\n\r\nabc", finals: 1},
	{name: "unsupported transfer-encoding", raw: "POST /echo HTTP/1.1\r\n" + h11 + "Transfer-Encoding: gzip\r\n\r\n", finals: 1},
	{name: "chunked twice", raw: "POST /echo HTTP/1.1\r\n" + h11 + "Transfer-Encoding: chunked, chunked\r\n\r\n0\r\n\r\n", finals: 1},
	{name: "chunked body", raw: "POST /echo HTTP/1.1\r\n" + h11 + "Transfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n4\r\ndefg\r\n0\r\n\r\n", finals: 1},
	{name: "chunked body with trailer", raw: "POST /echo HTTP/1.1\r\n" + h11 + "Transfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\nX-T: 1\r\n\r\n", finals: 1},
	{name: "chunked body then pipelined get", raw: "POST /echo HTTP/1.1\r\n" + h11 + "Transfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\nGET / HTTP/1.1\r\n" + h11 + "\r\n", finals: 2},
	{name: "bad chunk size", raw: "POST /echo HTTP/1.1\r\n" + h11 + "Transfer-Encoding: chunked\r\n\r\n5x\r\nhello\r\n0\r\n\r\n", finals: 1},
	{name: "huge chunk size", raw: "POST /echo HTTP/1.1\r\n" + h11 + "Transfer-Encoding: chunked\r\n\r\nffffffffffffffffff\r\nhello\r\n0\r\n\r\n", finals: 1},
	{name: "chunk size missing crlf", raw: "POST /echo HTTP/1.1\r\n" + h11 + "Transfer-Encoding: chunked\r\n\r\n3\r\nabcX\r\n0\r\n\r\n", finals: 1},
	{name: "oversized chunk extension", raw: "POST /echo HTTP/1.1\r\n" + h11 + "Transfer-Encoding: chunked\r\n\r\n3;" + strings.Repeat("e", 5000) + "\r\nabc\r\n0\r\n\r\n", finals: 1},
	{name: "chunked body unread by handler", raw: "POST /noread HTTP/1.1\r\n" + h11 + "Transfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n", finals: 1},
	{name: "bare lf", raw: "GET / HTTP/1.1\n" + h11[:len(h11)-2] + "\n\n", finals: 1},
	{name: "bare cr in header", raw: "GET / HTTP/1.1\r\n" + h11 + "X-A: b\rc\r\n\r\n", finals: 1},
	{name: "control byte in header value", raw: "GET / HTTP/1.1\r\n" + h11 + "X-A: b\x01c\r\n\r\n", finals: 1},
	{name: "space in header name", raw: "GET / HTTP/1.1\r\n" + h11 + "Bad Name: x\r\n\r\n", finals: 1},
	{name: "space before colon", raw: "GET / HTTP/1.1\r\n" + h11 + "X-A : x\r\n\r\n", finals: 1},
	{name: "obs-fold", raw: "GET / HTTP/1.1\r\n" + h11 + "X-A: b\r\n c\r\n\r\n", finals: 1},
	{name: "header without colon", raw: "GET / HTTP/1.1\r\n" + h11 + "NoColon\r\n\r\n", finals: 1},
	{name: "head", raw: "HEAD / HTTP/1.1\r\n" + h11 + "\r\n", finals: 1, methods: []string{"HEAD"}},
	{name: "head big", raw: "HEAD /big HTTP/1.1\r\n" + h11 + "\r\n", finals: 1, methods: []string{"HEAD"}},
	{name: "head 1.0", raw: "HEAD / HTTP/1.0\r\n\r\n", finals: 1, methods: []string{"HEAD"}},
	{name: "expect 100-continue read", raw: "POST /echo HTTP/1.1\r\n" + h11 + "Expect: 100-continue\r\nContent-Length: 5\r\n\r\nhello", finals: 1},
	{name: "expect 100-continue unread", raw: "POST /noread HTTP/1.1\r\n" + h11 + "Expect: 100-continue\r\nContent-Length: 5\r\n\r\nhello", finals: 1},
	{name: "expect 100-continue 1.0", raw: "POST /echo HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\nhello", finals: 1},
	{name: "expect other", raw: "POST /echo HTTP/1.1\r\n" + h11 + "Expect: teapot\r\nContent-Length: 5\r\n\r\nhello", finals: 1},
	{name: "post 1.0 keep-alive", raw: post("/echo", "HTTP/1.0", "Connection: keep-alive\r\n", "abc"), finals: 1},
	{name: "post then crlf then get", raw: post("/echo", "HTTP/1.1", "", "abc") + "\r\nGET / HTTP/1.1\r\n" + h11 + "\r\n", finals: 2},
	{name: "post unread small", raw: post("/noread", "HTTP/1.1", "", "abc"), finals: 1},
	{name: "post unread large", raw: post("/noread", "HTTP/1.1", "", strings.Repeat("x", 300<<10)), finals: 1},
	{name: "post closed early", raw: post("/early", "HTTP/1.1", "", "abc"), finals: 1},
	{name: "get with body", raw: "GET /echo HTTP/1.1\r\n" + h11 + "Content-Length: 3\r\n\r\nabc", finals: 1},
	{name: "sniffed html", raw: "GET /html HTTP/1.1\r\n" + h11 + "\r\n", finals: 1},
	{name: "explicit content-type", raw: "GET /typed HTTP/1.1\r\n" + h11 + "\r\n", finals: 1},
	{name: "explicit content-length", raw: "GET /cl HTTP/1.1\r\n" + h11 + "\r\n", finals: 1},
	{name: "short content-length", raw: "GET /short HTTP/1.1\r\n" + h11 + "\r\n", finals: 1},
	{name: "large body chunked", raw: "GET /big HTTP/1.1\r\n" + h11 + "\r\n", finals: 1},
	{name: "large body 1.0", raw: "GET /big HTTP/1.0\r\n\r\n", finals: 1},
	{name: "flush chunked", raw: "GET /flush HTTP/1.1\r\n" + h11 + "\r\n", finals: 1},
	{name: "trailer", raw: "GET /trailer HTTP/1.1\r\n" + h11 + "\r\n", finals: 1},
	{name: "header changed after WriteHeader", raw: "GET /late HTTP/1.1\r\n" + h11 + "\r\n", finals: 1},
	{name: "header unchanged after WriteHeader", raw: "GET /late-unchanged HTTP/1.1\r\n" + h11 + "\r\n", finals: 1},
	{name: "header obtained after WriteHeader", raw: "GET /late-header-call HTTP/1.1\r\n" + h11 + "\r\n", finals: 1},
	{name: "handler header fields", raw: "GET /fields HTTP/1.1\r\n" + h11 + "\r\n", finals: 1},
	{name: "204", raw: "GET /204 HTTP/1.1\r\n" + h11 + "\r\n", finals: 1},
	{name: "304", raw: "GET /304 HTTP/1.1\r\n" + h11 + "\r\n", finals: 1},
	{name: "handler connection close", raw: "GET /close HTTP/1.1\r\n" + h11 + "\r\n", finals: 1},
	{name: "panic", raw: "GET /panic HTTP/1.1\r\n" + h11 + "\r\n", finals: 1},
	{name: "abort handler", raw: "GET /abort HTTP/1.1\r\n" + h11 + "\r\n", finals: 1},
	{name: "options star", raw: "OPTIONS * HTTP/1.1\r\n" + h11 + "\r\n", finals: 1},
	{name: "not found", raw: "GET /nope/../../x HTTP/1.1\r\n" + h11 + "\r\n", finals: 1},
	{name: "redirect cleaned path", raw: "GET /a/../echo HTTP/1.1\r\n" + h11 + "\r\n", finals: 1},
	{name: "connection keep-alive upper case", raw: "GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", finals: 1},
	{name: "1.1 connection keep-alive, close", raw: "GET / HTTP/1.1\r\n" + h11 + "Connection: keep-alive, close\r\n\r\n", finals: 1},
	{name: "pri without http2", raw: "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", finals: 1},
	{name: "empty line then request", raw: "\r\nGET / HTTP/1.1\r\n" + h11 + "\r\n", finals: 1},
}

// outcome is what a client sees of one case: each response in order, reduced to the
// parts that matter, and whether the connection stayed usable afterwards.
func runCase(t *testing.T, addr string, c diffCase) []string {
	conn := dial(t, addr)
	conn.SetDeadline(time.Now().Add(60 * time.Second))
	go func() { // written concurrently: a server may stop reading (431) while we send
		io.WriteString(conn, c.raw)
	}()
	br := bufio.NewReader(conn)
	var out []string
	finals := 0
	closed := false
	for finals < c.finals {
		method := "GET"
		if finals < len(c.methods) {
			method = c.methods[finals]
		}
		resp, err := http.ReadResponse(br, &http.Request{Method: method})
		if err != nil {
			out = append(out, "read: "+readErr(err))
			closed = true
			break
		}
		out = append(out, describe(resp))
		if resp.StatusCode >= 200 {
			finals++
		}
	}
	if !closed {
		// The connection's fate: a well-formed request gets an answer on an open
		// connection, EOF (or a reset) on one the server closed. No timing involved.
		io.WriteString(conn, "GET /probe HTTP/1.1\r\n"+h11+"\r\n")
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			out = append(out, "closed")
		} else {
			io.Copy(io.Discard, resp.Body)
			out = append(out, "open")
		}
	}
	return out
}

func readErr(err error) string {
	switch {
	case err == io.EOF, err == io.ErrUnexpectedEOF:
		return "EOF"
	case strings.Contains(err.Error(), "reset"):
		return "EOF" // closed with unread input: the kernel resets
	}
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		return "timeout"
	}
	return err.Error()
}

func describe(resp *http.Response) string {
	b, err := io.ReadAll(resp.Body)
	body := string(b)
	if err != nil {
		body += " (body error: " + readErr(err) + ")"
	}
	if len(body) > 64 {
		body = fmt.Sprintf("%d bytes %q...", len(body), body[:32])
	}
	return fmt.Sprintf("%s %s | CL=%q TE=%q Connection=%q CT=%q close=%v trailer=%q late=%q new=%q | %q",
		resp.Proto, resp.Status, resp.Header.Get("Content-Length"), strings.Join(resp.TransferEncoding, ","),
		resp.Header.Get("Connection"), resp.Header.Get("Content-Type"), resp.Close, resp.Trailer.Get("X-Sum"),
		resp.Header.Values("X-Late"), resp.Header.Get("X-New"), body)
}

// TestDifferential sends the same bytes over loopback TCP to corohttp and to net/http's
// server, both serving diffHandler with the same limits, and requires the same
// responses (status line, Content-Length, Transfer-Encoding, Connection, Content-Type,
// body) and the same connection fate.
func TestDifferential(t *testing.T) {
	h := diffHandler()
	ref := httptest.NewUnstartedServer(h)
	ref.Config.ErrorLog = quietLog
	ref.Config.MaxHeaderBytes = 4096
	ref.Start()
	t.Cleanup(ref.Close)
	refAddr := ref.Listener.Addr().String()

	coroAddr := serveCoro(t, &Server{Handler: h, ErrorLog: quietLog, MaxHeaderBytes: 4096})

	for _, c := range diffCases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			want := runCase(t, refAddr, c)
			got := runCase(t, coroAddr, c)
			if strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Errorf("corohttp:\n\t%s\nnet/http:\n\t%s", strings.Join(got, "\n\t"), strings.Join(want, "\n\t"))
			} else if testing.Verbose() {
				t.Logf("both:\n\t%s", strings.Join(got, "\n\t"))
			}
		})
	}
}
