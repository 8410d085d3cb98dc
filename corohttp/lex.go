package corohttp

import (
	"strings"
	"sync/atomic"
	"time"
)

// The checks net/http's server makes on a request after http.ReadRequest, written
// here because their home (golang.org/x/net/http/httpguts, vendored in the standard
// library) is not importable from it. Same rules, byte for byte.

// hasToken reports whether token is one of the comma- or space-separated elements of
// v, ASCII case-insensitively ("Connection: keep-alive, Upgrade").
func hasToken(v, token string) bool {
	if len(token) > len(v) || token == "" {
		return false
	}
	if v == token {
		return true
	}
	for sp := 0; sp <= len(v)-len(token); sp++ {
		if b := v[sp]; b != token[0] && b|0x20 != token[0] {
			continue
		}
		if sp > 0 && !isTokenBoundary(v[sp-1]) {
			continue
		}
		if end := sp + len(token); end != len(v) && !isTokenBoundary(v[end]) {
			continue
		}
		if strings.EqualFold(v[sp:sp+len(token)], token) {
			return true
		}
	}
	return false
}

func isTokenBoundary(b byte) bool { return b == ' ' || b == ',' || b == '\t' }

// validHost reports whether h holds only bytes that may appear in a host, a port or an
// IPv6 literal (httpguts.ValidHostHeader: lenient on purpose).
func validHost(h string) bool {
	for i := 0; i < len(h); i++ {
		if !validHostByte[h[i]] {
			return false
		}
	}
	return true
}

var validHostByte = func() (t [256]bool) {
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	for c := 'a'; c <= 'z'; c++ {
		t[c] = true
		t[c-'a'+'A'] = true
	}
	for _, c := range "!$%&()*+,-.:;=[']_~" {
		t[c] = true
	}
	return
}()

// validFieldName reports whether v is a token (RFC 7230 field-name).
func validFieldName(v string) bool {
	if v == "" {
		return false
	}
	for i := 0; i < len(v); i++ {
		if !tokenByte[v[i]] {
			return false
		}
	}
	return true
}

var tokenByte = func() (t [256]bool) {
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	for c := 'a'; c <= 'z'; c++ {
		t[c] = true
		t[c-'a'+'A'] = true
	}
	for _, c := range "!#$%&'*+-.^_`|~" {
		t[c] = true
	}
	return
}()

// validFieldValue reports whether v has no control byte other than space and tab.
func validFieldValue(v string) bool {
	for i := 0; i < len(v); i++ {
		if b := v[i]; (b < ' ' && b != '\t') || b == 0x7f {
			return false
		}
	}
	return true
}

// hostLines scans a raw request header (request line, header lines, blank line) for
// Host fields: how many there are and the first one's value. http.ReadRequest drops
// the Host field from the header it returns, and net/http's server needs to know
// whether one was sent (an HTTP/1.1 request without one is refused even when its URI
// is absolute) and whether it is well formed, so the server looks at the bytes when
// req.Host cannot tell.
func hostLines(raw []byte) (n int, first string) {
	line := 0
	for len(raw) > 0 {
		i := 0
		for i < len(raw) && raw[i] != '\n' {
			i++
		}
		l := raw[:i]
		if i < len(raw) {
			raw = raw[i+1:]
		} else {
			raw = nil
		}
		if len(l) > 0 && l[len(l)-1] == '\r' {
			l = l[:len(l)-1]
		}
		if line++; line == 1 {
			continue // the request line
		}
		if len(l) == 0 {
			break // end of the header
		}
		if len(l) >= 5 && (l[0]|0x20) == 'h' && (l[1]|0x20) == 'o' && (l[2]|0x20) == 's' && (l[3]|0x20) == 't' && l[4] == ':' {
			if n++; n == 1 {
				first = strings.Trim(string(l[5:]), " \t")
			}
		}
	}
	return n, first
}

// numLeadingCRorLF counts the CR and LF bytes that begin v.
func numLeadingCRorLF(v []byte) (n int) {
	for _, b := range v {
		if b == '\r' || b == '\n' {
			n++
			continue
		}
		break
	}
	return
}

// The Date header changes once a second: format it once a second, for every loop.
type dateStamp struct {
	sec int64
	b   []byte
}

var lastDate atomic.Pointer[dateStamp]

func appendDate(dst []byte) []byte {
	now := time.Now()
	sec := now.Unix()
	if d := lastDate.Load(); d != nil && d.sec == sec {
		return append(dst, d.b...)
	}
	d := &dateStamp{sec: sec, b: now.UTC().AppendFormat(nil, http1TimeFormat)}
	lastDate.Store(d)
	return append(dst, d.b...)
}

const http1TimeFormat = "Mon, 02 Jan 2006 15:04:05 GMT" // http.TimeFormat
