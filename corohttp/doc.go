// Package corohttp serves any http.Handler on coroutines (package coro, directory
// runtime/) with the HTTP/1.x semantics of net/http's server, and has a client
// Transport whose connections are coroutine sockets.
//
//	mux := http.NewServeMux()
//	mux.HandleFunc("GET /hello/{name}", hello)
//	coro.Spawn(func() { log.Fatal(corohttp.ListenAndServe("127.0.0.1:8080", mux)) })
//	profiler.Go(coro.EventLoop) // each request a region named by its route
//
// # Serving
//
// Serve accepts on a coro listener and runs each connection on a coroutine of its own,
// named "http REMOTEADDR". The coroutine reads a request with http.ReadRequest (over a
// bufio.Reader on the connection, as net/http's server does), runs the handler on
// itself, finishes the response, and reads the next request: pipelined requests are
// answered in order. The handler runs on the loop's thread, so the rules of package
// coro hold in it: block only in the runtime's own calls (sockets, Sleep, Mutex, …;
// Transport for outgoing HTTP) and Offload the rest. In exchange a handler needs no
// locks for state it shares with other handlers of its loop.
//
// What net/http's server does around ReadRequest is done here the same way, the code
// following src/net/http/server.go: 505 for versions other than HTTP/1.x ("PRI *
// HTTP/2.0" passes to the handler), 400 "missing required Host header" for HTTP/1.1
// without a Host field (absolute URIs included; CONNECT exempt), 400 for a malformed
// Host field, invalid field names or values, 431 when the request line and header
// exceed MaxHeaderBytes (plus net/http's 4096 bytes of slack), 501 for an unknown
// transfer coding, 417 for an Expect other than 100-continue, 400 for the rest of
// what ReadRequest refuses (conflicting Content-Lengths, bad chunking, garbage). The
// response writer is net/http's chunkWriter logic: a handler that writes less than
// 2 KiB and returns gets a Content-Length, otherwise (and after a Flush) HTTP/1.1
// gets chunked encoding and HTTP/1.0 a close; Content-Type is sniffed from the first
// 512 bytes when unset; Date is added; HEAD, 1xx, 204 and 304 get no body; trailers
// (Trailer and http.TrailerPrefix) are sent; an unread request body up to 256 KiB is
// drained to keep the connection, a longer one closes it; keep-alive follows HTTP/1.1
// and HTTP/1.0's "Connection: keep-alive" with the same Connection headers; "Expect:
// 100-continue" sends "100 Continue" when the handler first reads the body; a panic in
// the handler is logged to ErrorLog ("http: panic serving ADDR: VALUE" and the stack;
// http.ErrAbortHandler silently) and closes the connection. The ResponseWriter is an
// http.Flusher and http.Hijacker, and http.NewResponseController works on it
// (FlushError, Hijack, SetReadDeadline, SetWriteDeadline, EnableFullDuplex).
// ReadHeaderTimeout, ReadTimeout, WriteTimeout and IdleTimeout set the connection's
// deadlines where net/http sets them; Shutdown and Close behave as net/http's.
//
// TestDifferential holds this to net/http's server: the same raw bytes go to both
// over loopback TCP, serving the same handler, and the status lines, the headers that
// matter (Content-Length, Transfer-Encoding, Connection, Content-Type), the bodies and
// whether the connection stays usable must agree. Its cases: GET on 1.1 and 1.0, 1.0
// keep-alive (short and long bodies), Connection: close, three pipelined requests,
// HEAD then GET pipelined, a request after Connection: close, missing Host on 1.1 and
// 1.0, empty Host, absolute URI with and without Host and with a bad Host, malformed
// Host, two Hosts, CONNECT without Host, HTTP/9.9, HTTP/2.0, HTTP/1.2, a request
// without a version, a lower-case version, request-line garbage, a TLS ClientHello, a
// bad method, a bad URI, a 2 MB header, headers just under and over the limit, 2000
// header fields, Content-Length with chunked, two differing and two equal
// Content-Lengths, negative and signed Content-Length, an unknown transfer coding,
// "chunked, chunked", chunked bodies (with a trailer, followed by a pipelined GET,
// unread by the handler), a bad chunk size, an overflowing chunk size, a chunk
// without its CRLF, an oversized chunk extension, bare LF line ends, a bare CR in a
// field, a control byte in a value, a space in a field name and before the colon,
// obs-fold, a line without a colon, HEAD (small, large, 1.0), Expect: 100-continue
// (read, unread, on 1.0), another Expect, a 1.0 keep-alive POST, a POST followed by a
// stray CRLF, unread small and large bodies, a body closed early by the handler, GET
// with a body, sniffed HTML, explicit Content-Type and Content-Length, a handler
// writing less than its Content-Length, large bodies on 1.1 and 1.0, Flush, trailers,
// headers changed after WriteHeader, odd handler fields (order, CR/LF in values, an
// invalid name), 204, 304, a handler's Connection: close, a panic,
// ErrAbortHandler, OPTIONS *, ServeMux 404 and redirects, upper-case Keep-Alive,
// "keep-alive, close", the HTTP/2 preface, and an empty line before a request.
// FuzzServe compares the two servers on arbitrary bytes.
//
// # Client disconnects
//
// r.Context() is cancelled when the handler returns, and when the client goes away
// while the handler runs. net/http notices the latter with a read in the background
// (connReader.backgroundRead) once the request body has been read. Here that read is a
// second coroutine, "http watch ADDR", reading one byte; since it costs a coroutine and
// a read per request, it starts only when something first asks the context whether it
// is done (Done, Err, AfterFunc, or deriving a context from it), which is the only way
// the cancellation can be observed. A byte it reads is the next pipelined request's
// and is kept for it, as net/http does. The handler must not block on
// r.Context().Done() (a Go channel: it would block the loop); poll ctx.Err() between
// runtime calls, or pass the context to calls that take one (Transport does).
//
// # Profiling
//
// While the profiler records (profiler.Active), each request is an exact region
// (profiler.Region) from the end of its header to the end of its response, named by
// its route: Server.Route when set; else the pattern of the *http.ServeMux that is the
// Server's Handler which matches the request (looked up with mux.Handler before the
// mux serves it, so only while profiling); else the request's method. So the report's
// regions table gives calls, ticks and CPU per route, and regions the handler opens
// nest inside its route's. Each connection's coroutine is named after the connection.
//
// # Several loops
//
// ServeLoops serves one address on several loops (one OS thread each), each loop
// accepting on its own SO_REUSEPORT socket; ListenAndServeReusePort is the building
// block. See docs/loops.md for loops in general.
//
// # The client
//
// Transport is an http.RoundTripper on coro.Dial connections with a keep-alive pool
// per loop; see its documentation.
//
// # Where it differs from net/http
//
//   - HTTP/1.x only: no HTTP/2, no ServeTLS (a tls.NewListener over a coro listener
//     works, but Request.TLS is not set), no ConnState, BaseContext or ConnContext hooks,
//     and the request context has no http.ServerContextKey value.
//   - http.MaxBytesReader cannot tell this server to close the connection when its
//     limit is hit (net/http's hook is an unexported interface): the usual rule for an
//     unread body applies instead (drained up to 256 KiB, else closed).
//   - A handler that closes an "Expect: 100-continue" body it never read gets its
//     connection closed after the response (net/http waits for the body the client may
//     never send).
//   - The deprecated http.CloseNotifier is not implemented, nor io.ReaderFrom on the
//     ResponseWriter (io.Copy to it works, through a buffer).
//   - Contexts derived from r.Context() are cancelled a moment after it, from a
//     goroutine (its AfterFunc), rather than synchronously.
//   - "Unsupported transfer encoding" is recognised by http.ReadRequest's error text
//     (its error type is unexported).
package corohttp
