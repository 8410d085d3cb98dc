package coro

import (
	"bufio"
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"io"
	"math/big"
	mrand "math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// netLoop runs fn as a coroutine on the default loop and fails the test if the loop
// has not ended within limit (it is then told to Exit, so the test does not hang).
func netLoop(t *testing.T, limit time.Duration, fn func()) {
	t.Helper()
	var timedOut atomic.Bool
	watchdog := time.AfterFunc(limit, func() {
		timedOut.Store(true)
		Default().Exit()
	})
	SpawnNamed(t.Name(), fn)
	EventLoop()
	watchdog.Stop()
	if timedOut.Load() {
		t.Fatalf("event loop still running after %v", limit)
	}
}

// netEchoServer listens on network/address and echoes every connection until the
// listener is closed. It must be called from a coroutine.
func netEchoServer(t *testing.T, network, address string) *Listener {
	t.Helper()
	ln, err := Listen(network, address)
	if err != nil {
		t.Fatalf("Listen(%s, %s): %v", network, address, err)
	}
	SpawnNamed("echo accept", func() {
		for {
			c, err := ln.AcceptConn()
			if err != nil {
				if !errors.Is(err, net.ErrClosed) {
					t.Errorf("accept: %v", err)
				}
				return
			}
			SpawnNamed("echo session", func() {
				defer c.Close()
				buf := make([]byte, 64<<10)
				for {
					n, err := c.Read(buf)
					if n > 0 {
						if _, err := c.Write(buf[:n]); err != nil {
							return
						}
					}
					if err != nil {
						return
					}
				}
			})
		}
	})
	return ln
}

// netPair returns the two ends of a loopback TCP connection. Coroutine only.
func netPair(t *testing.T) (client, server *Conn) {
	t.Helper()
	ln, err := Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var acc *Conn
	var accErr error
	a := Spawn(func() { acc, accErr = ln.AcceptConn() })
	cl, err := Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	a.Join()
	if accErr != nil {
		t.Fatal(accErr)
	}
	return cl, acc
}

// netWaitParked yields until c is parked for reason.
func netWaitParked(c *Coro, reason WaitReason) bool {
	for i := 0; i < 10000; i++ {
		if st, r := c.State(); st == StateWaiting && r == reason {
			return true
		}
		Yield()
	}
	return false
}

func TestEchoThousandClients(t *testing.T) {
	const clients, rounds = 1000, 5
	var ok atomic.Int32
	netLoop(t, 60*time.Second, func() {
		ln := netEchoServer(t, "tcp", "127.0.0.1:0")
		addr := ln.Addr().String()
		left := clients
		for i := 0; i < clients; i++ {
			Spawn(func() {
				defer func() {
					if left--; left == 0 {
						ln.Close()
					}
				}()
				r := mrand.New(mrand.NewPCG(uint64(i), 7))
				c, err := Dial("tcp", addr)
				if err != nil {
					t.Errorf("client %d: dial: %v", i, err)
					return
				}
				defer c.Close()
				for j := 0; j < rounds; j++ {
					msg := make([]byte, 1+r.IntN(4000))
					for k := range msg {
						msg[k] = byte(r.Uint32())
					}
					if _, err := c.Write(msg); err != nil {
						t.Errorf("client %d: write: %v", i, err)
						return
					}
					got, err := c.ReadExactly(len(msg))
					if err != nil || !bytes.Equal(got, msg) {
						t.Errorf("client %d round %d: echo of %d bytes: got %d bytes, err %v", i, j, len(msg), len(got), err)
						return
					}
				}
				ok.Add(1)
			})
		}
	})
	if n := ok.Load(); n != clients {
		t.Fatalf("%d of %d clients echoed every byte", n, clients)
	}
}

func TestLargePayloadPartialWrites(t *testing.T) {
	for _, network := range []string{"tcp", "unix"} {
		t.Run(network, func(t *testing.T) {
			addr := "127.0.0.1:0"
			if network == "unix" {
				addr = filepath.Join(t.TempDir(), "echo.sock")
			}
			payload := make([]byte, 16<<20)
			rand.Read(payload)
			var got []byte
			var wrote int
			netLoop(t, 60*time.Second, func() {
				ln := netEchoServer(t, network, addr)
				defer ln.Close()
				c, err := Dial(network, ln.Addr().String())
				if err != nil {
					t.Error(err)
					return
				}
				defer c.Close()
				// One writer and one reader coroutine: the echo comes back while
				// the write is still going, and neither side fits in the kernel's
				// buffers, so the single Write is made of many partial writes.
				w := Spawn(func() {
					n, err := c.Write(payload)
					wrote = n
					if err != nil {
						t.Errorf("write: %v", err)
					}
					c.CloseWrite()
				})
				got, err = c.ReadExactly(len(payload))
				if err != nil {
					t.Errorf("ReadExactly: %v after %d bytes", err, len(got))
				}
				if n, err := c.Read(make([]byte, 1)); n != 0 || err != io.EOF {
					t.Errorf("after the echo: Read = %d, %v; want 0, io.EOF", n, err)
				}
				w.Join()
			})
			if wrote != len(payload) {
				t.Fatalf("Write wrote %d of %d bytes", wrote, len(payload))
			}
			if !bytes.Equal(got, payload) {
				t.Fatalf("16 MiB echo differs (got %d bytes)", len(got))
			}
		})
	}
}

func TestCloseWakesParkedCoroutines(t *testing.T) {
	netLoop(t, 20*time.Second, func() {
		cl, srv := netPair(t)
		defer srv.Close()

		var readErr, writeErr error
		r := SpawnNamed("reader", func() { _, readErr = cl.Read(make([]byte, 10)) })
		// The writer fills the socket (the peer does not read) and parks.
		w := SpawnNamed("writer", func() { _, writeErr = cl.Write(make([]byte, 64<<20)) })
		if !netWaitParked(r, WaitRead) || !netWaitParked(w, WaitWrite) {
			t.Error("reader and writer never parked")
			return
		}
		if err := cl.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
		r.Join()
		w.Join()
		for name, err := range map[string]error{"Read": readErr, "Write": writeErr} {
			if !errors.Is(err, net.ErrClosed) {
				t.Errorf("%s after Close: %v, want net.ErrClosed", name, err)
			}
		}
		if err := cl.Close(); !errors.Is(err, net.ErrClosed) {
			t.Errorf("second Close: %v, want net.ErrClosed", err)
		}
		if _, err := cl.Read(make([]byte, 1)); !errors.Is(err, net.ErrClosed) {
			t.Errorf("Read after Close: %v", err)
		}

		// A listener closed under a parked Accept.
		ln, err := Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Error(err)
			return
		}
		var accErr error
		a := Spawn(func() { _, accErr = ln.Accept() })
		netWaitParked(a, WaitRead)
		ln.Close()
		a.Join()
		if !errors.Is(accErr, net.ErrClosed) {
			t.Errorf("Accept after Close: %v, want net.ErrClosed", accErr)
		}
	})
}

func TestCloseFromAnotherGoroutine(t *testing.T) {
	netLoop(t, 20*time.Second, func() {
		cl, srv := netPair(t)
		defer srv.Close()
		r := Spawn(func() {
			if _, err := cl.Read(make([]byte, 10)); !errors.Is(err, net.ErrClosed) {
				t.Errorf("Read after a goroutine's Close: %v", err)
			}
		})
		netWaitParked(r, WaitRead)
		go cl.Close() // net.Conn allows Close from anywhere
		r.Join()
	})
}

// TestConcurrentCallsQueue: a second reader (writer) of a socket queues behind the
// first instead of failing, each call runs whole, in arrival order, and the two
// directions stay independent.
func TestConcurrentCallsQueue(t *testing.T) {
	netLoop(t, 20*time.Second, func() {
		cl, srv := netPair(t)
		defer cl.Close()
		defer srv.Close()
		var first, second []byte
		a := SpawnNamed("first reader", func() {
			b, err := cl.ReadExactly(5)
			if err != nil {
				t.Errorf("first reader: %v", err)
			}
			first = b
		})
		netWaitParked(a, WaitRead)
		b := SpawnNamed("second reader", func() {
			b, err := cl.ReadExactly(5)
			if err != nil {
				t.Errorf("second reader: %v", err)
			}
			second = b
		})
		netWaitParked(b, WaitRead)
		srv.Write([]byte("hel"))
		Yield()
		srv.Write([]byte("loworld"))
		a.Join()
		b.Join()
		if string(first) != "hello" || string(second) != "world" {
			t.Errorf("readers got %q and %q, want hello and world", first, second)
		}

		// Two writers whose writes outgrow the socket buffers: neither interleaves
		// with the other.
		const size = 8 << 20
		w1 := Spawn(func() { cl.Write(bytes.Repeat([]byte{'a'}, size)) })
		w2 := Spawn(func() { cl.Write(bytes.Repeat([]byte{'b'}, size)) })
		netWaitParked(w1, WaitWrite)
		got, err := srv.ReadExactly(2 * size)
		if err != nil {
			t.Error(err)
			return
		}
		w1.Join()
		w2.Join()
		if i := bytes.IndexByte(got, 'b'); i != size || bytes.IndexByte(got[size:], 'a') >= 0 {
			t.Errorf("two concurrent Writes interleaved: first 'b' at %d, want %d", i, size)
		}
	})
}

func TestDeadlines(t *testing.T) {
	netLoop(t, 20*time.Second, func() {
		cl, srv := netPair(t)
		defer cl.Close()
		defer srv.Close()
		buf := make([]byte, 10)

		checkTimeout := func(what string, err error) {
			t.Helper()
			var ne net.Error
			if !errors.Is(err, os.ErrDeadlineExceeded) || !errors.As(err, &ne) || !ne.Timeout() {
				t.Errorf("%s: %v, want a timeout that is os.ErrDeadlineExceeded", what, err)
			}
		}

		// A read waiting for data that never comes.
		start := time.Now()
		cl.SetReadDeadline(time.Now().Add(30 * time.Millisecond))
		_, err := cl.Read(buf)
		checkTimeout("Read past its deadline", err)
		if d := time.Since(start); d < 30*time.Millisecond {
			t.Errorf("Read returned after %v, before its 30ms deadline", d)
		}
		// Expired: fails at once, even with data waiting.
		srv.Write([]byte("data"))
		_, err = cl.Read(buf)
		checkTimeout("Read with an expired deadline", err)
		// Cleared: the data is there.
		cl.SetReadDeadline(time.Time{})
		if n, err := cl.Read(buf); err != nil || string(buf[:n]) != "data" {
			t.Errorf("Read after clearing the deadline: %q, %v", buf[:n], err)
		}

		// A deadline far in the future (time.Until saturates) is no deadline yet.
		cl.SetReadDeadline(time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC))
		srv.Write([]byte("far"))
		if n, err := cl.Read(buf); err != nil || string(buf[:n]) != "far" {
			t.Errorf("Read with a deadline in year 9999: %q, %v", buf[:n], err)
		}
		cl.SetReadDeadline(time.Time{})

		// A deadline moved while the reader is parked applies to that read.
		var parkedErr error
		r := Spawn(func() {
			cl.SetReadDeadline(time.Now().Add(time.Hour))
			_, parkedErr = cl.Read(buf)
		})
		netWaitParked(r, WaitRead)
		cl.SetReadDeadline(time.Now().Add(10 * time.Millisecond))
		if err := r.Join(); err != nil {
			t.Error(err)
		}
		checkTimeout("Read whose deadline was moved closer", parkedErr)
		cl.SetReadDeadline(time.Time{})

		// A write blocked by a peer that does not read reports its progress.
		big := make([]byte, 64<<20) // allocated first: zeroing 64 MiB takes a while
		cl.SetWriteDeadline(time.Now().Add(200 * time.Millisecond))
		n, err := cl.Write(big)
		checkTimeout("Write past its deadline", err)
		if n <= 0 || n >= 64<<20 {
			t.Errorf("Write past its deadline wrote %d bytes, want some but not all", n)
		}

		// Accept.
		ln, err := Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Error(err)
			return
		}
		defer ln.Close()
		ln.SetDeadline(time.Now().Add(20 * time.Millisecond))
		_, err = ln.Accept()
		checkTimeout("Accept past its deadline", err)
	})
}

func TestReadExactlyAtEOF(t *testing.T) {
	netLoop(t, 20*time.Second, func() {
		cl, srv := netPair(t)
		defer cl.Close()
		srv.Write([]byte("hello"))
		srv.Close()
		got, err := cl.ReadExactly(10)
		if string(got) != "hello" || err != io.ErrUnexpectedEOF {
			t.Errorf("ReadExactly(10) of 5 bytes then EOF = %q, %v; want \"hello\", io.ErrUnexpectedEOF", got, err)
		}
		got, err = cl.ReadExactly(3)
		if len(got) != 0 || err != io.EOF {
			t.Errorf("ReadExactly at EOF = %q, %v; want nothing, io.EOF", got, err)
		}
	})
}

func TestBufio(t *testing.T) {
	const lines = 5000
	netLoop(t, 20*time.Second, func() {
		cl, srv := netPair(t)
		defer cl.Close()
		Spawn(func() {
			defer srv.Close()
			w := bufio.NewWriter(srv)
			for i := 0; i < lines; i++ {
				fmt.Fprintf(w, "line %d\n", i)
			}
			if err := w.Flush(); err != nil {
				t.Errorf("flush: %v", err)
			}
		})
		sc := bufio.NewScanner(cl)
		i := 0
		for sc.Scan() {
			if want := fmt.Sprintf("line %d", i); sc.Text() != want {
				t.Errorf("line %d: %q, want %q", i, sc.Text(), want)
				return
			}
			i++
		}
		if sc.Err() != nil || i != lines {
			t.Errorf("scanned %d lines, err %v; want %d", i, sc.Err(), lines)
		}
	})
}

// netSelfSignedCert makes a certificate for "localhost" and 127.0.0.1.
func netSelfSignedCert(t *testing.T) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "localhost"},
		DNSNames:              []string{"localhost"},
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool
}

func TestTLSHandshakeOnCoroutines(t *testing.T) {
	cert, pool := netSelfSignedCert(t)
	var reply string
	var state tls.ConnectionState
	netLoop(t, 30*time.Second, func() {
		ln, err := Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Error(err)
			return
		}
		defer ln.Close()
		Spawn(func() {
			c, err := ln.Accept()
			if err != nil {
				t.Error(err)
				return
			}
			s := tls.Server(c, &tls.Config{Certificates: []tls.Certificate{cert}})
			defer s.Close()
			if err := s.Handshake(); err != nil {
				t.Errorf("server handshake: %v", err)
				return
			}
			line, err := bufio.NewReader(s).ReadString('\n')
			if err != nil {
				t.Errorf("server read: %v", err)
				return
			}
			fmt.Fprintf(s, "you said %s", line)
		})
		c, err := Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Error(err)
			return
		}
		cl := tls.Client(c, &tls.Config{RootCAs: pool, ServerName: "localhost"})
		defer cl.Close()
		if err := cl.Handshake(); err != nil {
			t.Errorf("client handshake: %v", err)
			return
		}
		state = cl.ConnectionState()
		io.WriteString(cl, "hi over TLS\n")
		reply, _ = bufio.NewReader(cl).ReadString('\n')
	})
	if !state.HandshakeComplete || len(state.PeerCertificates) == 0 {
		t.Fatalf("handshake incomplete: %+v", state)
	}
	if reply != "you said hi over TLS\n" {
		t.Fatalf("reply over TLS: %q", reply)
	}
}

func TestNetworks(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "s.sock")
	cases := []struct{ network, addr string }{
		{"tcp", "127.0.0.1:0"},
		{"tcp4", "127.0.0.1:0"},
		{"tcp6", "[::1]:0"},
		{"tcp", ":0"},
		{"tcp", "[::]:0"},
		{"unix", sock},
	}
	for _, tc := range cases {
		t.Run(tc.network+" "+tc.addr, func(t *testing.T) {
			netLoop(t, 20*time.Second, func() {
				ln, err := Listen(tc.network, tc.addr)
				if err != nil {
					if tc.network == "tcp6" {
						t.Skipf("no IPv6 loopback: %v", err)
					}
					t.Error(err)
					return
				}
				ln.Close()
				ln = netEchoServer(t, tc.network, tc.addr)
				addr := ln.Addr()
				if tc.network == "unix" {
					if ua, ok := addr.(*net.UnixAddr); !ok || ua.Name != sock {
						t.Errorf("unix listener address %#v", addr)
					}
				} else if ta, ok := addr.(*net.TCPAddr); !ok || ta.Port == 0 {
					t.Errorf("tcp listener address %#v", addr)
				}
				c, err := Dial(tc.network, addr.String())
				if err != nil {
					t.Error(err)
					ln.Close()
					return
				}
				c.Write([]byte("ping"))
				got, err := c.ReadExactly(4)
				if string(got) != "ping" || err != nil {
					t.Errorf("echo: %q, %v", got, err)
				}
				if c.RemoteAddr() == nil || c.LocalAddr() == nil || c.RemoteAddr().Network() != addr.Network() {
					t.Errorf("conn addresses: local %v remote %v", c.LocalAddr(), c.RemoteAddr())
				}
				c.Close()
				if tc.addr == ":0" || tc.addr == "[::]:0" {
					// Every local address, IPv4 included (dual-stack).
					port := addr.(*net.TCPAddr).Port
					c4, err := Dial("tcp4", fmt.Sprintf("127.0.0.1:%d", port))
					if err != nil {
						t.Errorf("IPv4 dial to a %q listener: %v", tc.addr, err)
					} else {
						c4.Write([]byte("v4"))
						if got, err := c4.ReadExactly(2); string(got) != "v4" || err != nil {
							t.Errorf("IPv4 echo: %q, %v", got, err)
						}
						c4.Close()
					}
				}
				ln.Close()
			})
			if tc.network == "unix" {
				if _, err := os.Stat(sock); !os.IsNotExist(err) {
					t.Errorf("unix socket file left after Close: %v", err)
				}
			}
		})
	}
}

func TestDialErrors(t *testing.T) {
	netLoop(t, 20*time.Second, func() {
		// A port nobody listens on: the refusal comes back through SO_ERROR.
		ln, _ := Listen("tcp", "127.0.0.1:0")
		addr := ln.Addr().String()
		ln.Close()
		_, err := Dial("tcp", addr)
		var oe *net.OpError
		if !errors.Is(err, syscall.ECONNREFUSED) || !errors.As(err, &oe) || oe.Op != "dial" {
			t.Errorf("Dial to a closed port: %v, want a dial *net.OpError with ECONNREFUSED", err)
		}
		if _, err := Dial("sctp", addr); err == nil {
			t.Error("Dial on an unknown network succeeded")
		}
		if _, err := Listen("udp", "127.0.0.1:0"); err == nil {
			t.Error("Listen(udp) succeeded; want an error pointing to ListenPacket")
		}
		if _, err := Dial("tcp", "127.0.0.1"); err == nil {
			t.Error("Dial to an address without a port succeeded")
		}
	})
}

func TestDialHostName(t *testing.T) {
	netLoop(t, 20*time.Second, func() {
		ln := netEchoServer(t, "tcp", "127.0.0.1:0")
		defer ln.Close()
		port := ln.Addr().(*net.TCPAddr).Port
		// "localhost" is resolved off the loop; if it yields ::1 first, that address
		// is refused and the next one is tried.
		c, err := Dial("tcp4", fmt.Sprintf("localhost:%d", port))
		if err != nil {
			t.Errorf("Dial localhost: %v", err)
			return
		}
		defer c.Close()
		c.Write([]byte("x"))
		if b, err := c.ReadExactly(1); err != nil || string(b) != "x" {
			t.Errorf("echo through localhost: %q %v", b, err)
		}
		addrs, err := LookupHost("localhost")
		if err != nil || len(addrs) == 0 {
			t.Errorf("LookupHost(localhost) = %v, %v", addrs, err)
		}
	})
}

func TestUDP(t *testing.T) {
	netLoop(t, 20*time.Second, func() {
		a, err := ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Error(err)
			return
		}
		defer a.Close()
		b, err := ListenPacket("udp4", "127.0.0.1:0")
		if err != nil {
			t.Error(err)
			return
		}
		defer b.Close()
		var got string
		var from net.Addr
		r := Spawn(func() {
			buf := make([]byte, 100)
			n, addr, err := b.ReadFrom(buf)
			if err != nil {
				t.Error(err)
			}
			got, from = string(buf[:n]), addr
		})
		netWaitParked(r, WaitRead)
		if n, err := a.WriteTo([]byte("datagram"), b.LocalAddr()); n != 8 || err != nil {
			t.Errorf("WriteTo = %d, %v", n, err)
		}
		r.Join()
		if got != "datagram" || from.String() != a.LocalAddr().String() {
			t.Errorf("ReadFrom = %q from %v; want \"datagram\" from %v", got, from, a.LocalAddr())
		}
		b.SetReadDeadline(time.Now().Add(20 * time.Millisecond))
		if _, _, err := b.ReadFrom(make([]byte, 10)); !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Errorf("ReadFrom past its deadline: %v", err)
		}
		// A connected UDP socket from Dial.
		c, err := Dial("udp", a.LocalAddr().String())
		if err != nil {
			t.Error(err)
			return
		}
		defer c.Close()
		c.Write([]byte("connected"))
		buf := make([]byte, 100)
		n, addr, err := a.ReadFrom(buf)
		if err != nil || string(buf[:n]) != "connected" || addr.String() != c.LocalAddr().String() {
			t.Errorf("datagram from a dialed UDP conn: %q from %v, %v", buf[:n], addr, err)
		}
	})
}

// TestSelfishness checks that a coroutine whose reads never block still lets the
// others run, every limit reads, and does not when the limit is off.
func TestSelfishness(t *testing.T) {
	for _, limit := range []int{4, 0} {
		t.Run(fmt.Sprint("limit=", limit), func(t *testing.T) {
			prev := SetSelfishness(limit)
			defer SetSelfishness(prev)
			const reads = 400
			var ticksDuring int
			netLoop(t, 20*time.Second, func() {
				cl, srv := netPair(t)
				defer cl.Close()
				defer srv.Close()
				srv.Write(make([]byte, reads)) // on loopback, queued before Write returns
				Sleep(10 * time.Millisecond)
				ticks := 0
				stop := false
				Spawn(func() {
					for !stop {
						ticks++
						Yield()
					}
				})
				Yield() // the ticker starts and is in the run queue
				before := ticks
				buf := make([]byte, 1)
				for i := 0; i < reads; i++ {
					if _, err := cl.Read(buf); err != nil {
						t.Error(err)
						break
					}
				}
				ticksDuring = ticks - before
				stop = true
			})
			if limit > 0 {
				if want := reads/limit - 1; ticksDuring < want {
					t.Fatalf("another coroutine ran %d times during %d non-blocking reads; want at least %d", ticksDuring, reads, want)
				}
			} else if ticksDuring != 0 {
				t.Fatalf("with selfishness off, another coroutine ran %d times during the reads", ticksDuring)
			}
		})
	}
}

func TestSignalEndsLoop(t *testing.T) {
	unwound := false
	start := time.Now()
	netLoop(t, 20*time.Second, func() {
		Spawn(func() {
			defer func() { unwound = true }()
			Sleep(time.Hour)
		})
		Sleep(10 * time.Millisecond)
		syscall.Kill(os.Getpid(), syscall.SIGINT)
		Sleep(time.Hour)
	})
	if !unwound {
		t.Error("the sleeping coroutine was not unwound when SIGINT ended the loop")
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("loop took %v to end after SIGINT", d)
	}

	// A handler of one's own, run as a coroutine on the loop.
	var got os.Signal
	var onLoop bool
	OnSignal(func(s os.Signal) { got, onLoop = s, Current() != nil; Exit() }, syscall.SIGUSR1)
	defer OnSignal(nil, syscall.SIGUSR1)
	netLoop(t, 20*time.Second, func() {
		Sleep(10 * time.Millisecond)
		syscall.Kill(os.Getpid(), syscall.SIGUSR1)
		Sleep(time.Hour)
	})
	if got != syscall.SIGUSR1 || !onLoop {
		t.Errorf("handler got %v (on a coroutine: %v), want SIGUSR1 on a coroutine", got, onLoop)
	}
}

// TestPeerReset checks that a reset from the peer (EPOLLERR/EPOLLHUP) reaches a parked
// reader as an error, and that writing to a closed peer fails instead of hanging.
func TestPeerReset(t *testing.T) {
	netLoop(t, 20*time.Second, func() {
		cl, srv := netPair(t)
		defer cl.Close()
		var readErr error
		r := Spawn(func() { _, readErr = cl.Read(make([]byte, 10)) })
		netWaitParked(r, WaitRead)
		// SO_LINGER with a zero timeout makes close send RST instead of FIN.
		if err := syscall.SetsockoptLinger(srv.fd.fd, syscall.SOL_SOCKET, syscall.SO_LINGER, &syscall.Linger{Onoff: 1, Linger: 0}); err != nil {
			t.Error(err)
		}
		srv.Close()
		r.Join()
		if !errors.Is(readErr, syscall.ECONNRESET) {
			t.Errorf("parked Read after the peer's reset: %v, want ECONNRESET", readErr)
		}
		if _, err := cl.Write([]byte("x")); err == nil {
			t.Error("Write after the peer's reset succeeded")
		}

		c2, s2 := netPair(t)
		defer c2.Close()
		s2.Close()
		var err error
		for i := 0; i < 100 && err == nil; i++ { // the first writes may still be accepted
			_, err = c2.Write(make([]byte, 1<<16))
		}
		if !errors.Is(err, syscall.EPIPE) && !errors.Is(err, syscall.ECONNRESET) {
			t.Errorf("writing to a closed peer: %v, want EPIPE or ECONNRESET", err)
		}
	})
}

// TestLoopExitUnwindsParkedReader runs a loop that exits while a coroutine is parked
// in Read, then uses the same socket from the next loop: the unwound reader must not
// be taken for a waiter still there.
func TestLoopExitUnwindsParkedReader(t *testing.T) {
	var cl, srv *Conn
	netLoop(t, 20*time.Second, func() {
		cl, srv = netPair(t)
		cl.SetReadDeadline(time.Now().Add(time.Hour))
		r := Spawn(func() { cl.Read(make([]byte, 1)) })
		netWaitParked(r, WaitRead)
		Exit()
	})
	netLoop(t, 20*time.Second, func() {
		defer cl.Close()
		defer srv.Close()
		Spawn(func() { // after the Read below has found nothing and waits
			Sleep(5 * time.Millisecond)
			srv.Write([]byte("z"))
		})
		b, err := cl.ReadExactly(1)
		if err != nil || string(b) != "z" {
			t.Errorf("Read in the next loop: %q, %v", b, err)
		}
	})
}

// TestTimeoutAndInterruptWhileParked checks that WithTimeout and Interrupt reach a
// coroutine parked on a socket, and leave the socket usable (no stale waiter, no timer).
func TestTimeoutAndInterruptWhileParked(t *testing.T) {
	netLoop(t, 20*time.Second, func() {
		cl, srv := netPair(t)
		defer cl.Close()
		defer srv.Close()
		cl.SetReadDeadline(time.Now().Add(time.Hour)) // a deadline timer is armed too
		err := WithTimeout(20*time.Millisecond, func() error {
			_, err := cl.Read(make([]byte, 1))
			return err
		})
		if !errors.Is(err, ErrTimeout) {
			t.Errorf("Read under WithTimeout: %v, want ErrTimeout", err)
		}
		myErr := errors.New("stop reading")
		var readErr error
		r := Spawn(func() { _, readErr = cl.Read(make([]byte, 1)) })
		netWaitParked(r, WaitRead)
		r.Interrupt(myErr)
		r.Join()
		if !errors.Is(readErr, myErr) {
			t.Errorf("interrupted Read: %v, want the interrupt's error", readErr)
		}
		// Usable afterwards, by another coroutine.
		Spawn(func() { Sleep(5 * time.Millisecond); srv.Write([]byte("k")) })
		if b, err := cl.ReadExactly(1); err != nil || string(b) != "k" {
			t.Errorf("Read after timeout and interrupt: %q, %v", b, err)
		}
	})
}

// reasonRecorder is a Hooks that records the wait reasons it sees.
type reasonRecorder struct{ reasons map[WaitReason]int }

func (r *reasonRecorder) Spawn(c, parent *Coro)                       {}
func (r *reasonRecorder) Resume(c *Coro)                              {}
func (r *reasonRecorder) Yield(c *Coro, state State, pc uintptr)      {}
func (r *reasonRecorder) Exit(c *Coro, panicked bool)                 {}
func (r *reasonRecorder) WaitEnd(c *Coro)                             {}
func (r *reasonRecorder) BeforePoll()                                 {}
func (r *reasonRecorder) AfterPoll()                                  {}
func (r *reasonRecorder) WaitBegin(c *Coro, w WaitReason, pc uintptr) { r.reasons[w]++ }

// TestResolutionIsOffloaded checks that a host name is looked up through Offload (the
// coroutine parks with reason offload; the loop is free meanwhile), while an address
// literal is not looked up at all.
func TestResolutionIsOffloaded(t *testing.T) {
	rec := &reasonRecorder{reasons: map[WaitReason]int{}}
	var literal, named int
	netLoop(t, 20*time.Second, func() {
		ln := netEchoServer(t, "tcp", "127.0.0.1:0")
		defer ln.Close()
		port := ln.Addr().(*net.TCPAddr).Port
		prev := setHooks(rec)
		defer setHooks(prev)
		c, err := Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		if err != nil {
			t.Error(err)
			return
		}
		c.Close()
		literal = rec.reasons[WaitOffload]
		c, err = Dial("tcp4", fmt.Sprintf("localhost:%d", port))
		if err != nil {
			t.Error(err)
			return
		}
		c.Close()
		named = rec.reasons[WaitOffload] - literal
	})
	if literal != 0 || named == 0 {
		t.Fatalf("offloaded waits: %d dialing an IP literal (want 0), %d dialing localhost (want > 0)", literal, named)
	}
}

// TestOnSignalWhileRunning adds a handler while the loop runs: it catches its signal
// on the loop, once per arrival.
func TestOnSignalWhileRunning(t *testing.T) {
	var got []os.Signal
	netLoop(t, 20*time.Second, func() {
		OnSignal(func(s os.Signal) { got = append(got, s) }, syscall.SIGUSR2)
		defer OnSignal(nil, syscall.SIGUSR2)
		syscall.Kill(os.Getpid(), syscall.SIGUSR2)
		for i := 0; i < 100 && len(got) == 0; i++ {
			Sleep(5 * time.Millisecond)
		}
		Sleep(20 * time.Millisecond)
	})
	if len(got) != 1 || got[0] != syscall.SIGUSR2 {
		t.Fatalf("handler saw %v, want exactly [SIGUSR2]", got)
	}
}

// TestTLSFullDuplex streams 4 MiB each way at once over one TLS connection, with a
// reader and a writer coroutine at each end: crypto/tls holds its internal locks while
// our Write parks, and the other direction must go on meanwhile.
func TestTLSFullDuplex(t *testing.T) {
	cert, pool := netSelfSignedCert(t)
	const size = 4 << 20
	payload := make([]byte, size)
	rand.Read(payload)
	var okEnds int
	netLoop(t, 60*time.Second, func() {
		ln, err := Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Error(err)
			return
		}
		defer ln.Close()
		duplex := func(c *tls.Conn) {
			// Handshake first: tls.Conn guards its handshake with a sync.Mutex, so a
			// writer that started the implicit handshake while the reader holds it
			// would block the loop thread (see Conn's documentation).
			if err := c.Handshake(); err != nil {
				t.Errorf("handshake: %v", err)
				return
			}
			w := Spawn(func() {
				if _, err := c.Write(payload); err != nil {
					t.Errorf("tls write: %v", err)
				}
			})
			got := make([]byte, size)
			if _, err := io.ReadFull(c, got); err != nil || !bytes.Equal(got, payload) {
				t.Errorf("tls read: %v (equal: %v)", err, bytes.Equal(got, payload))
			} else {
				okEnds++
			}
			w.Join()
		}
		s := Spawn(func() {
			c, err := ln.Accept()
			if err != nil {
				t.Error(err)
				return
			}
			sc := tls.Server(c, &tls.Config{Certificates: []tls.Certificate{cert}})
			defer sc.Close()
			duplex(sc)
		})
		c, err := Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Error(err)
			return
		}
		cc := tls.Client(c, &tls.Config{RootCAs: pool, ServerName: "localhost"})
		defer cc.Close()
		duplex(cc)
		s.Join()
	})
	if okEnds != 2 {
		t.Fatalf("%d of 2 ends received the other's 4 MiB intact", okEnds)
	}
}

// TestNotCoroutine calls a Read that would have to wait from outside any coroutine
// (the loop is not running): it fails at once with ErrNotCoroutine instead of hanging.
func TestNotCoroutine(t *testing.T) {
	var cl, srv *Conn
	netLoop(t, 20*time.Second, func() { cl, srv = netPair(t) })
	defer cl.Close()
	defer srv.Close()
	if _, err := cl.Read(make([]byte, 1)); !errors.Is(err, ErrNotCoroutine) {
		t.Fatalf("Read outside a coroutine: %v, want ErrNotCoroutine", err)
	}
	// Without waiting it works anywhere: the data is already there.
	srv.Write([]byte("q"))
	if b, err := cl.ReadExactly(1); err != nil || string(b) != "q" {
		t.Fatalf("ready Read outside a coroutine: %q, %v", b, err)
	}
}
