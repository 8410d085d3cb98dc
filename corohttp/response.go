package corohttp

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/textproto"
	"path"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// bufferBeforeChunking is net/http's: a response up to this size written by a handler
// that then returns gets a Content-Length; a longer one (or a flushed one) is chunked.
// It is at least 512, the bytes http.DetectContentType looks at.
const bufferBeforeChunking = 2048

// maxPostHandlerReadBytes is net/http's: the most of an unread request body the
// server reads (and drops) after the handler to keep the connection; a longer
// remainder closes it.
const maxPostHandlerReadBytes = 256 << 10

// response is the http.ResponseWriter of one request. Its writes go through w (a
// 2 KiB buffer) to cw, which settles the header on its first write (Content-Length
// or chunking, Content-Type, Date, Connection) and frames the body, into the
// connection's 4 KiB buffer: the same layering as net/http's server.
type response struct {
	conn *conn
	req  *http.Request
	body *body // nil when the request has none
	w    *bufio.Writer
	cw   chunkWriter

	handlerHeader http.Header
	calledHeader  bool
	wroteHeader   bool // a final status was (logically) written
	status        int
	contentLength int64 // from the handler's Content-Length, or -1
	written       int64

	wants10KeepAlive    bool
	wantsClose          bool
	closeAfterReply     bool
	requestBodyLimitHit bool
	handlerDone         bool
	canWriteContinue    bool
	fullDuplex          bool
	watchAtEOF          bool // start the background read when the body reaches EOF
	trailers            []string

	// snapped: the handler's header was snapshotted at WriteHeader, into conn.snap.
	snapped bool

	ctx *reqContext // the request's context
}

// chunkWriter sits between the response's buffer and the connection's.
type chunkWriter struct {
	res         *response
	header      http.Header // a snapshot of the handler's header at WriteHeader, if it was read before
	wroteHeader bool        // the header is on its way to the connection
	chunking    bool
}

var crlf = []byte("\r\n")

func (cw *chunkWriter) Write(p []byte) (n int, err error) {
	if !cw.wroteHeader {
		cw.writeHeader(p)
	}
	w := cw.res
	if w.req.Method == "HEAD" {
		return len(p), nil // a HEAD response has no body
	}
	bw := w.conn.bufw
	if cw.chunking {
		var hex [16]byte
		bw.Write(strconv.AppendInt(hex[:0], int64(len(p)), 16))
		bw.Write(crlf)
	}
	n, err = bw.Write(p)
	if cw.chunking && err == nil {
		_, err = bw.Write(crlf)
	}
	if err != nil {
		w.conn.rwc.Close()
	}
	return n, err
}

func (cw *chunkWriter) flush() error {
	if !cw.wroteHeader {
		cw.writeHeader(nil)
	}
	return cw.res.conn.bufw.Flush()
}

func (cw *chunkWriter) close() {
	if !cw.wroteHeader {
		cw.writeHeader(nil)
	}
	if cw.chunking {
		bw := cw.res.conn.bufw
		bw.WriteString("0\r\n")
		if t := cw.res.finalTrailers(); t != nil {
			t.Write(bw)
		}
		bw.WriteString("\r\n")
	}
}

// writeHeader settles and writes the response header. p is the first part of the
// body (not written here): it is sniffed for a Content-Type when none is set, and
// when the handler has returned it is the whole body, whose length becomes the
// Content-Length. The rules are net/http's chunkWriter.writeHeader's, in its order.
func (cw *chunkWriter) writeHeader(p []byte) {
	if cw.wroteHeader {
		return
	}
	cw.wroteHeader = true
	w := cw.res
	keepAlives := w.conn.server.doKeepAlives()
	isHEAD := w.req.Method == "HEAD"

	w.resolveSnapshot()
	header := cw.header
	owned := header != nil
	if !owned {
		header = w.handlerHeader
	}
	var exclude map[string]bool
	del := func(key string) {
		if owned {
			header.Del(key)
			return
		}
		if _, ok := header[key]; !ok {
			return
		}
		if exclude == nil {
			exclude = make(map[string]bool)
		}
		exclude[key] = true
	}
	var extra struct {
		contentType, connection, transferEncoding string
		date, contentLength                       []byte
	}

	trailers := false
	for k := range header {
		if strings.HasPrefix(k, http.TrailerPrefix) {
			if exclude == nil {
				exclude = make(map[string]bool)
			}
			exclude[k] = true
			trailers = true
		}
	}
	for _, v := range header["Trailer"] {
		trailers = true
		for _, f := range strings.Split(v, ",") {
			if f = strings.TrimSpace(f); f != "" {
				w.declareTrailer(f)
			}
		}
	}

	te := hget(header, "Transfer-Encoding")
	hasTE := te != ""

	// The handler is done and this is its only write: its length is the
	// Content-Length, even zero (so HTTP/1.0 keep-alive clients keep the connection).
	// Not for 1xx/204/304, a HEAD with no body written, or a Transfer-Encoding set.
	if w.handlerDone && !trailers && !hasTE && bodyAllowedForStatus(w.status) && !hhas(header, "Content-Length") && (!isHEAD || len(p) > 0) {
		w.contentLength = int64(len(p))
		extra.contentLength = strconv.AppendInt(w.conn.clenBuf[:0], int64(len(p)), 10)
	}

	// An HTTP/1.0 keep-alive request whose response has a length may stay open.
	if w.wants10KeepAlive && keepAlives {
		if hget(header, "Content-Length") != "" && hget(header, "Connection") == "keep-alive" {
			w.closeAfterReply = false
		}
	}
	hasCL := w.contentLength != -1
	if w.wants10KeepAlive && (isHEAD || hasCL || !bodyAllowedForStatus(w.status)) {
		if _, set := header["Connection"]; !set {
			extra.connection = "keep-alive"
		}
	} else if !w.req.ProtoAtLeast(1, 1) || w.wantsClose {
		w.closeAfterReply = true
	}
	if hget(header, "Connection") == "close" || !keepAlives {
		w.closeAfterReply = true
	}

	// Expect: 100-continue that was never answered (the body was not read to its
	// end): the client may or may not send the body now, so do not reuse.
	if w.body != nil && w.body.expect && !w.body.sawEOF {
		w.closeAfterReply = true
	}

	// Read (and drop) what is left of the request body before answering, for clients
	// that send the whole request before reading the response; close instead when too
	// much is left.
	if w.req.ContentLength != 0 && !w.closeAfterReply && !w.fullDuplex && w.body != nil {
		var discard, tooBig bool
		b := w.body
		switch {
		case w.req.Body == b && b.expect:
			// Only here when the body was read to its end (above).
		case w.req.Body == b && b.closed:
			if !b.sawEOF {
				w.closeAfterReply = true
			}
		case w.req.Body == b && b.unread() >= maxPostHandlerReadBytes:
			tooBig = true
		default:
			discard = true
		}
		if discard {
			_, err := io.CopyN(io.Discard, rawBody{b}, maxPostHandlerReadBytes+1)
			switch err {
			case nil:
				tooBig = true // more than that left
			case http.ErrBodyReadAfterClose:
				if !b.closed {
					// net/http's body closed itself after a broken trailer: what
					// follows on the wire is not a request (its issue 12027).
					w.closeAfterReply = true
				}
			case io.EOF:
				if b.Close() != nil {
					w.closeAfterReply = true
				}
			default:
				// A read timeout, a broken chunk: what is left on the wire must not
				// be taken for the next request.
				w.closeAfterReply = true
			}
		}
		if tooBig {
			w.requestTooLarge()
			del("Connection")
			extra.connection = "close"
		}
	}

	code := w.status
	if bodyAllowedForStatus(code) {
		_, haveType := header["Content-Type"]
		if hget(header, "Content-Encoding") == "" && !haveType && !hasTE && len(p) > 0 {
			extra.contentType = http.DetectContentType(p)
		}
	} else {
		for _, k := range suppressedHeaders(code) {
			del(k)
		}
	}
	if _, ok := header["Date"]; !ok {
		extra.date = appendDate(w.conn.dateBuf[:0])
	}

	if hasCL && hasTE && te != "identity" {
		w.conn.server.logf("http: WriteHeader called with both Transfer-Encoding of %q and a Content-Length of %d", te, w.contentLength)
		del("Content-Length")
		hasCL = false
	}

	switch {
	case w.req.Method == "HEAD" || !bodyAllowedForStatus(code) || code == http.StatusNoContent:
		del("Transfer-Encoding")
	case hasCL:
		del("Transfer-Encoding")
	case w.req.ProtoAtLeast(1, 1):
		if hasTE && te == "identity" {
			// The body ends when the connection does (Server-Sent Events' setup).
			cw.chunking = false
			w.closeAfterReply = true
			del("Transfer-Encoding")
		} else {
			cw.chunking = true
			extra.transferEncoding = "chunked"
			if hasTE && te == "chunked" {
				del("Transfer-Encoding") // written below
			}
		}
	default:
		// HTTP/1.0 without a length: the body ends when the connection does.
		w.closeAfterReply = true
		del("Transfer-Encoding")
	}
	if cw.chunking {
		del("Content-Length")
	}
	if !w.req.ProtoAtLeast(1, 0) {
		return
	}
	if w.closeAfterReply && (!keepAlives || !hasToken(hget(header, "Connection"), "close")) && !isProtocolSwitch(w.status, header) {
		del("Connection")
		if w.req.ProtoAtLeast(1, 1) {
			extra.connection = "close"
		}
	}

	bw := w.conn.bufw
	writeStatusLine(bw, w.req.ProtoAtLeast(1, 1), code, w.conn.statusBuf[:])
	writeFields(bw, header, exclude)
	if extra.date != nil {
		bw.WriteString("Date: ")
		bw.Write(extra.date)
		bw.Write(crlf)
	}
	if extra.contentLength != nil {
		bw.WriteString("Content-Length: ")
		bw.Write(extra.contentLength)
		bw.Write(crlf)
	}
	for i, v := range [...]string{extra.contentType, extra.connection, extra.transferEncoding} {
		if v != "" {
			bw.WriteString([...]string{"Content-Type: ", "Connection: ", "Transfer-Encoding: "}[i])
			bw.WriteString(v)
			bw.Write(crlf)
		}
	}
	bw.Write(crlf)
}

func bodyAllowedForStatus(status int) bool {
	switch {
	case status >= 100 && status <= 199, status == 204, status == 304:
		return false
	}
	return true
}

func suppressedHeaders(status int) []string {
	switch {
	case status == 304:
		return []string{"Content-Type", "Content-Length", "Transfer-Encoding"}
	case !bodyAllowedForStatus(status):
		return []string{"Content-Length", "Transfer-Encoding"}
	}
	return nil
}

func isProtocolSwitch(code int, h http.Header) bool {
	if code != http.StatusSwitchingProtocols || hget(h, "Upgrade") == "" {
		return false
	}
	for _, v := range h["Connection"] {
		if hasToken(v, "upgrade") {
			return true
		}
	}
	return false
}

// writeFields is header.WriteSubset(bw, exclude) (sorted keys, invalid names
// dropped, CR and LF in values turned to spaces, values trimmed), without its sort
// and pool for the usual few fields.
func writeFields(bw *bufio.Writer, header http.Header, exclude map[string]bool) {
	if len(header) > 8 {
		header.WriteSubset(bw, exclude)
		return
	}
	var keys [8]string
	n := 0
	for k := range header {
		if !exclude[k] {
			keys[n] = k
			n++
		}
	}
	for i := 1; i < n; i++ { // insertion sort: a handful of keys
		for j := i; j > 0 && keys[j] < keys[j-1]; j-- {
			keys[j], keys[j-1] = keys[j-1], keys[j]
		}
	}
	for _, k := range keys[:n] {
		if !validFieldName(k) {
			continue
		}
		for _, v := range header[k] {
			if strings.ContainsAny(v, "\r\n") {
				v = newlineToSpace.Replace(v)
			}
			v = textproto.TrimString(v)
			bw.WriteString(k)
			bw.WriteString(": ")
			bw.WriteString(v)
			bw.WriteString("\r\n")
		}
	}
}

var newlineToSpace = strings.NewReplacer("\n", " ", "\r", " ")

// hget is Header.Get for a canonical key, without canonicalizing it again (net/http's
// Header.get).
func hget(h http.Header, key string) string {
	if v := h[key]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// hhas reports whether the canonical key is present, even with no value.
func hhas(h http.Header, key string) bool {
	_, ok := h[key]
	return ok
}

func writeStatusLine(bw *bufio.Writer, is11 bool, code int, scratch []byte) {
	if code >= 100 && code < len(statusLines[0]) {
		if l := statusLines[b2i(is11)][code]; l != "" {
			bw.WriteString(l)
			return
		}
	}
	if is11 {
		bw.WriteString("HTTP/1.1 ")
	} else {
		bw.WriteString("HTTP/1.0 ")
	}
	fmt.Fprintf(bw, "%03d status code %d\r\n", code, code)
}

// statusLines holds the status line of every code http.StatusText knows, for
// HTTP/1.0 ([0]) and HTTP/1.1 ([1]).
var statusLines = func() (t [2][600]string) {
	for code := 100; code < 600; code++ {
		if text := http.StatusText(code); text != "" {
			t[0][code] = "HTTP/1.0 " + strconv.Itoa(code) + " " + text + "\r\n"
			t[1][code] = "HTTP/1.1 " + strconv.Itoa(code) + " " + text + "\r\n"
		}
	}
	return
}()

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// Header returns the header the handler fills.
func (w *response) Header() http.Header {
	if w.cw.header == nil && !w.snapped && w.wroteHeader && !w.cw.wroteHeader {
		// Read between the logical and the physical write of the header: later
		// changes must not reach the wire, so keep a snapshot.
		w.snapshotHeader()
	}
	w.calledHeader = true
	return w.handlerHeader
}

// WriteHeader sends (logically) the status; see http.ResponseWriter.
func (w *response) WriteHeader(code int) {
	if w.conn.hijacked {
		w.conn.server.logf("http: response.WriteHeader on hijacked connection from %s", relevantCaller())
		return
	}
	if w.wroteHeader {
		w.conn.server.logf("http: superfluous response.WriteHeader call from %s", relevantCaller())
		return
	}
	if code < 100 || code > 999 {
		panic(fmt.Sprintf("invalid WriteHeader code %v", code))
	}
	if code < 101 || code > 199 {
		w.canWriteContinue = false
	}
	if code >= 100 && code <= 199 && code != http.StatusSwitchingProtocols {
		// An informational response goes out at once; the header map stays.
		bw := w.conn.bufw
		writeStatusLine(bw, w.req.ProtoAtLeast(1, 1), code, w.conn.statusBuf[:])
		w.handlerHeader.WriteSubset(bw, map[string]bool{"Content-Length": true, "Transfer-Encoding": true})
		bw.Write(crlf)
		bw.Flush()
		return
	}
	w.wroteHeader = true
	w.status = code
	if w.calledHeader && w.cw.header == nil && !w.snapped {
		w.snapshotHeader()
	}
	if cl := hget(w.handlerHeader, "Content-Length"); cl != "" {
		v, err := strconv.ParseInt(cl, 10, 64)
		if err == nil && v >= 0 {
			w.contentLength = v
		} else {
			w.conn.server.logf("http: invalid Content-Length of %q", cl)
			w.handlerHeader.Del("Content-Length")
		}
	}
}

type headerKV struct {
	key    string
	values []string
}

// snapshotHeader records the handler's header as it is now (the status was written).
func (w *response) snapshotHeader() {
	if len(w.handlerHeader) > len(w.conn.snap) {
		w.cw.header = w.handlerHeader.Clone()
		return
	}
	n := 0
	for k, v := range w.handlerHeader {
		w.conn.snap[n] = headerKV{k, v}
		n++
	}
	w.conn.nsnap = n
	w.snapped = true
}

// resolveSnapshot settles the header to write: the handler's own map when it still
// holds exactly the snapshot (the common case), else a map made from the snapshot.
func (w *response) resolveSnapshot() {
	if !w.snapped {
		return
	}
	w.snapped = false
	h := w.handlerHeader
	same := len(h) == w.conn.nsnap
	for i := 0; same && i < w.conn.nsnap; i++ {
		kv := &w.conn.snap[i]
		v, ok := h[kv.key]
		if !ok || len(v) != len(kv.values) {
			same = false
			break
		}
		for j := range v {
			if v[j] != kv.values[j] {
				same = false
				break
			}
		}
	}
	if same {
		return
	}
	owned := make(http.Header, w.conn.nsnap)
	for i := 0; i < w.conn.nsnap; i++ {
		owned[w.conn.snap[i].key] = append([]string(nil), w.conn.snap[i].values...)
	}
	w.cw.header = owned
}

// relevantCaller names the first caller outside net/http and this package, for the
// log lines about misused ResponseWriters.
func relevantCaller() string {
	pc := make([]uintptr, 16)
	n := runtime.Callers(2, pc)
	frames := runtime.CallersFrames(pc[:n])
	for {
		f, more := frames.Next()
		if !strings.HasPrefix(f.Function, "net/http.") && !strings.Contains(f.Function, "/corohttp.") {
			return fmt.Sprintf("%s (%s:%d)", f.Function, path.Base(f.File), f.Line)
		}
		if !more {
			return "unknown"
		}
	}
}

func (w *response) Write(p []byte) (int, error) { return w.write(len(p), p, "") }

func (w *response) WriteString(s string) (int, error) { return w.write(len(s), nil, s) }

func (w *response) write(n int, b []byte, s string) (int, error) {
	if w.conn.hijacked {
		if n > 0 {
			w.conn.server.logf("http: response.Write on hijacked connection from %s", relevantCaller())
		}
		return 0, http.ErrHijacked
	}
	w.canWriteContinue = false
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	if n == 0 {
		return 0, nil
	}
	if !bodyAllowedForStatus(w.status) {
		return 0, http.ErrBodyNotAllowed
	}
	w.written += int64(n)
	if w.contentLength != -1 && w.written > w.contentLength {
		return 0, http.ErrContentLength
	}
	if b != nil {
		return w.w.Write(b)
	}
	return w.w.WriteString(s)
}

// finishRequest completes the response once the handler has returned.
func (w *response) finishRequest() {
	w.handlerDone = true
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	w.w.Flush()
	w.w.Reset(nil)
	w.cw.close()
	w.conn.bufw.Flush()
	w.conn.abortWatch()
	if w.body != nil {
		w.body.Close()
	}
	if w.req.MultipartForm != nil {
		w.req.MultipartForm.RemoveAll()
	}
}

// shouldReuseConnection reports whether the connection may serve another request.
func (w *response) shouldReuseConnection() bool {
	if w.closeAfterReply {
		return false
	}
	if w.req.Method != "HEAD" && w.contentLength != -1 && bodyAllowedForStatus(w.status) && w.contentLength != w.written {
		return false // did not write what it announced: the stream is out of step
	}
	if w.conn.werr != nil {
		return false
	}
	return w.body == nil || !w.body.earlyClose
}

func (w *response) requestTooLarge() {
	w.closeAfterReply = true
	w.requestBodyLimitHit = true
	if !w.wroteHeader {
		w.Header().Set("Connection", "close")
	}
}

func (w *response) sendExpectationFailed() {
	w.Header().Set("Connection", "close")
	w.WriteHeader(http.StatusExpectationFailed)
	w.finishRequest()
}

func (w *response) declareTrailer(k string) {
	k = http.CanonicalHeaderKey(k)
	switch k {
	case "Transfer-Encoding", "Content-Length", "Trailer":
		return // forbidden as trailers (RFC 7230 section 4.1.2)
	}
	w.trailers = append(w.trailers, k)
}

func (w *response) finalTrailers() http.Header {
	var t http.Header
	for k, vv := range w.handlerHeader {
		if kk, found := strings.CutPrefix(k, http.TrailerPrefix); found {
			if t == nil {
				t = make(http.Header)
			}
			t[kk] = vv
		}
	}
	for _, k := range w.trailers {
		if t == nil {
			t = make(http.Header)
		}
		for _, v := range w.handlerHeader[k] {
			t.Add(k, v)
		}
	}
	return t
}

// Flush sends what is buffered (http.Flusher).
func (w *response) Flush() { w.FlushError() }

// FlushError is Flush returning the write error (http.ResponseController).
func (w *response) FlushError() error {
	if w.conn.hijacked {
		return http.ErrHijacked
	}
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	err := w.w.Flush()
	if e2 := w.cw.flush(); err == nil {
		err = e2
	}
	return err
}

// Hijack hands the connection over to the handler (http.Hijacker). The returned
// net.Conn is the coroutine socket: use it from this loop's coroutines. The
// bufio.Reader may hold bytes the client sent after the request.
func (w *response) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	if w.handlerDone {
		panic("corohttp: Hijack called after ServeHTTP finished")
	}
	w.canWriteContinue = false
	if w.wroteHeader {
		w.cw.flush()
	}
	c := w.conn
	if c.hijacked {
		return nil, nil, http.ErrHijacked
	}
	c.abortWatch()
	c.hijacked = true
	c.rwc.SetDeadline(time.Time{})
	c.rdl = false
	if c.r.hasByte {
		if _, err := c.bufr.Peek(c.bufr.Buffered() + 1); err != nil {
			return nil, nil, fmt.Errorf("corohttp: reading the buffered byte: %v", err)
		}
	}
	c.bufw.Reset(c.rwc)
	c.server.trackConn(c, false)
	return c.rwc, bufio.NewReadWriter(c.bufr, c.bufw), nil
}

// SetReadDeadline sets the connection's read deadline (http.ResponseController).
func (w *response) SetReadDeadline(t time.Time) error {
	w.conn.rdl = !t.IsZero()
	return w.conn.rwc.SetReadDeadline(t)
}

// SetWriteDeadline sets the connection's write deadline (http.ResponseController).
func (w *response) SetWriteDeadline(t time.Time) error {
	return w.conn.rwc.SetWriteDeadline(t)
}

// EnableFullDuplex lets the handler read the request body after it began writing
// the response (http.ResponseController).
func (w *response) EnableFullDuplex() error {
	w.fullDuplex = true
	return nil
}

// body is a request's Body as the handler sees it: net/http's body reader, plus
// the 100 Continue sent at the first read, the background read started at its end,
// and net/http's rules for a body closed before its end.
type body struct {
	rc         io.ReadCloser // from http.ReadRequest
	w          *response
	read       int64
	sawEOF     bool
	closed     bool
	earlyClose bool // closed with too much left to read: the connection is not reused
	expect     bool // the request has Expect: 100-continue
}

func (b *body) Read(p []byte) (int, error) {
	if b.closed {
		return 0, http.ErrBodyReadAfterClose
	}
	if w := b.w; w.canWriteContinue {
		w.canWriteContinue = false
		bw := w.conn.bufw
		bw.WriteString("HTTP/1.1 100 Continue\r\n\r\n")
		bw.Flush()
	}
	return b.readRaw(p)
}

func (b *body) readRaw(p []byte) (int, error) {
	if b.closed {
		return 0, http.ErrBodyReadAfterClose
	}
	n, err := b.rc.Read(p)
	b.read += int64(n)
	// net/http's body counts a Content-Length body cut short as seen to its end too
	// (it reports io.ErrUnexpectedEOF); the server's rules depend on that.
	if (err == io.EOF || err == io.ErrUnexpectedEOF && b.w.req.ContentLength > 0) && !b.sawEOF {
		b.sawEOF = true
		if w := b.w; w.watchAtEOF && !w.handlerDone {
			w.watchAtEOF = false
			w.conn.startWatch(w)
		}
	}
	return n, err
}

// unread is how much of a Content-Length body is left (-1 for a chunked one).
func (b *body) unread() int64 {
	if cl := b.w.req.ContentLength; cl > 0 {
		return cl - b.read
	}
	return -1
}

// Close ends the body: what is left is read and dropped when it is small, otherwise
// the connection will not be reused (net/http's doEarlyClose).
func (b *body) Close() error {
	if b.closed {
		return nil
	}
	var err error
	switch {
	case b.sawEOF:
	case b.unread() > maxPostHandlerReadBytes:
		b.earlyClose = true
	default:
		if b.w.canWriteContinue {
			// The client waits for 100 Continue before it sends the body: nothing
			// to drop, and the connection will not be reused.
			b.earlyClose = true
			break
		}
		var n int64
		n, err = io.CopyN(io.Discard, rawBody{b}, maxPostHandlerReadBytes)
		if err == io.EOF {
			err = nil
		}
		if n == maxPostHandlerReadBytes {
			b.earlyClose = true
		}
	}
	b.closed = true
	return err
}

// rawBody reads a body without sending 100 Continue.
type rawBody struct{ b *body }

func (r rawBody) Read(p []byte) (int, error) { return r.b.readRaw(p) }
