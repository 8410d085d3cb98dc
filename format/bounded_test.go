package format

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// budgetReader serves head, then zeros (or, with tail, tail over and over) without
// end, and fails once it has served budget bytes: a reader that reads an endless
// input whole fails with errBudget instead of eating all memory.
type budgetReader struct {
	head, tail []byte
	served     int64
	budget     int64
}

var errBudget = errors.New("the test's reader was read past its budget: the reader does not stop where the framing ends")

func (b *budgetReader) Read(p []byte) (int, error) {
	if b.served >= b.budget {
		return 0, errBudget
	}
	p = p[:min(int64(len(p)), b.budget-b.served)]
	n := 0
	for n < len(p) {
		if pos := b.served + int64(n); pos < int64(len(b.head)) {
			n += copy(p[n:], b.head[pos:])
		} else if len(b.tail) == 0 {
			clear(p[n:])
			n = len(p)
		} else {
			n += copy(p[n:], b.tail[(pos-int64(len(b.head)))%int64(len(b.tail)):])
		}
	}
	b.served += int64(n)
	return n, nil
}

// frameSection frames payload as a section of kind k with flags.
func frameSection(k Kind, flags uint16, payload []byte) []byte {
	b := binary.LittleEndian.AppendUint16(nil, uint16(k))
	b = binary.LittleEndian.AppendUint16(b, flags)
	b = binary.LittleEndian.AppendUint64(b, uint64(len(payload)))
	b = append(b, payload...)
	return binary.LittleEndian.AppendUint32(b, crc32.Checksum(b, castagnoli))
}

func header() []byte {
	return binary.LittleEndian.AppendUint32([]byte(Magic), Version)
}

// TestEndlessInputs: Read stops where the bytes stop being a profile or where its
// framing ends, whatever follows, and refuses a declared length past MaxFileSize
// before reading it. Each case fails with an *Error of the right kind, having read
// little more than the bytes that matter.
func TestEndlessInputs(t *testing.T) {
	good := mustWrite(t, Synthetic(1, smallOpts))
	huge := append(header(), frameSection(KindStrings, 0, nil)[:sectionHeaderSize]...)
	binary.LittleEndian.PutUint64(huge[headerSize+4:], 1<<62)
	const budget = 64 << 20
	for _, c := range []struct {
		name     string
		r        *budgetReader
		kind     error
		contains string
		maxRead  int
	}{
		{"zeros (/dev/zero)", &budgetReader{budget: budget}, ErrNotProfile, "not a coroutine profile", headerSize},
		{"a header, then zeros", &budgetReader{head: header(), budget: budget}, ErrChecksum, "checksum mismatch", 2 * headerSize},
		{"a section of 2^62 bytes", &budgetReader{head: huge, budget: budget}, ErrTooLarge, "limit of 1073741824", len(huge)},
		{"a profile, then zeros", &budgetReader{head: good, budget: budget}, ErrCorrupt, "trailing data after the end section", len(good) + 1},
		{"a profile, then itself again and again", &budgetReader{head: good, tail: good, budget: budget}, ErrCorrupt, "trailing data", len(good) + 1},
	} {
		_, err := Read(c.r)
		var fe *Error
		if !errors.As(err, &fe) || !errors.Is(err, c.kind) || !strings.Contains(err.Error(), c.contains) {
			t.Errorf("%s: %v; want an *Error of kind %v mentioning %q", c.name, err, c.kind, c.contains)
		}
		if c.r.served > int64(c.maxRead)+64<<10 { // io.CopyN reads ahead at most its buffer
			t.Errorf("%s: read %d bytes, want about %d", c.name, c.r.served, c.maxRead)
		}
	}
}

// TestMaxFileSize: an endless stream of valid sections (optional ones of an unknown
// kind, which a reader skips) is refused once it would pass the limit, lowered here
// to 1 MiB; an input whose size is known and over the limit is refused unread.
func TestMaxFileSize(t *testing.T) {
	defer func(old int64) { maxFileSize = old }(maxFileSize)
	maxFileSize = 1 << 20
	sec := frameSection(numKinds+5, FlagOptional, make([]byte, 1000))
	r := &budgetReader{head: header(), tail: sec, budget: 64 << 20}
	_, err := Read(r)
	if !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), "limit of 1048576 bytes") {
		t.Errorf("endless sections: %v", err)
	}
	if r.served > 1<<20+64<<10 {
		t.Errorf("read %d bytes past a limit of 1 MiB", r.served)
	}
	big := bytes.Repeat([]byte{1}, 1<<20+1)
	if _, err := Read(bytes.NewReader(big)); !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), "the input is 1048577 bytes") {
		t.Errorf("a 1 MiB + 1 input: %v", err)
	}
	maxFileSize = MaxFileSize
	if _, err := Read(bytes.NewReader(mustWrite(t, Synthetic(1, mediumOpts)))); err != nil {
		t.Errorf("a valid profile under the real limit: %v", err)
	}
}

// TestDeclaredLengthNotAllocated: a section declaring 500 MB in a file of a few
// bytes costs no 500 MB: the buffer grows with the bytes that arrive.
func TestDeclaredLengthNotAllocated(t *testing.T) {
	data := append(header(), frameSection(KindStrings, 0, nil)[:sectionHeaderSize]...)
	binary.LittleEndian.PutUint64(data[headerSize+4:], 500<<20)
	data = append(data, "only a few bytes"...)
	for name, r := range map[string]func() io.Reader{
		"stream":       func() io.Reader { return io.MultiReader(bytes.NewReader(data)) },
		"bytes.Reader": func() io.Reader { return bytes.NewReader(data) },
	} {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		_, err := Read(r())
		runtime.ReadMemStats(&after)
		if !errors.Is(err, ErrTruncated) {
			t.Errorf("%s: %v, want truncated", name, err)
		}
		if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 1<<20 {
			t.Errorf("%s: allocated %d bytes for a %d-byte input", name, alloc, len(data))
		}
	}
}

// TestReadFileSpecial: ReadFile on inputs that are not regular profile files answers
// with one error naming the file: /dev/zero (endless), a directory; a FIFO (no size
// to trust) is read as a stream.
func TestReadFileSpecial(t *testing.T) {
	_, err := ReadFile("/dev/zero")
	if err == nil || !strings.HasPrefix(err.Error(), "/dev/zero: ") || !errors.Is(err, ErrNotProfile) {
		t.Errorf("/dev/zero: %v", err)
	}
	dir := t.TempDir()
	if _, err := ReadFile(dir); err == nil || err.Error() != "read "+dir+": is a directory" {
		t.Errorf("a directory: %v", err)
	}
	fifo := filepath.Join(dir, "fifo")
	if err := unix.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	p := Synthetic(1, smallOpts)
	data := mustWrite(t, p)
	go func() {
		f, err := os.OpenFile(fifo, os.O_WRONLY, 0)
		if err != nil {
			return
		}
		f.Write(data)
		f.Close()
	}()
	q, err := ReadFile(fifo)
	if err != nil || !reflect.DeepEqual(p, q) {
		t.Errorf("a FIFO: %v", err)
	}
}

// FuzzRead feeds Read the bytes through a reader that does not know its length,
// followed by an endless run of zeros: Read must never panic, must stop by itself
// within the limit, and must agree with Decode on the bytes up to the end of the
// framing.
func FuzzRead(f *testing.F) {
	for _, seed := range fuzzSeeds(f) {
		f.Add(seed.data)
	}
	defer func(old int64) { maxFileSize = old }(maxFileSize)
	f.Fuzz(func(t *testing.T, data []byte) {
		// An endless input may make Read read up to the limit (a declared length
		// under it is read as far as the input backs it): lower it to keep runs fast.
		maxFileSize = int64(len(data)) + 1<<16
		r := &budgetReader{head: data, budget: maxFileSize + 1<<16}
		p, err := Read(r)
		if errors.Is(err, errBudget) {
			t.Fatalf("Read did not stop: %v", err)
		}
		if err != nil {
			if p != nil {
				t.Fatalf("Read returned a profile and the error %v", err)
			}
			var fe *Error
			if !errors.As(err, &fe) {
				t.Fatalf("error %v (%T) is not an *Error", err, err)
			}
			return
		}
		q, err := Decode(data[:min(len(data), int(r.served))])
		if err != nil || !reflect.DeepEqual(p, q) {
			t.Fatalf("Read accepted what Decode of the same bytes says is %v", err)
		}
	})
}

// TestErrorWithoutPlace: an error about the file as a whole (no section, record or
// offset) reads "format: no …", not "format:: no …".
func TestErrorWithoutPlace(t *testing.T) {
	e := &Error{Record: -1, Offset: -1, Err: errorf(ErrCorrupt, `no "meta" section`)}
	if got := e.Error(); got != `format: no "meta" section` {
		t.Errorf("%q", got)
	}
	e = &Error{Record: -1, Offset: 0, Err: errorf(ErrNotProfile, "empty file")}
	if got := e.Error(); got != "format: at offset 0: empty file" {
		t.Errorf("%q", got)
	}
}
