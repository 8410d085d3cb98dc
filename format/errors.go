package format

import (
	"errors"
	"fmt"
	"strings"
)

// Sentinel errors, for errors.Is. Every error Read returns is an *Error wrapping one
// of these (or a more specific message).
var (
	ErrNotProfile = errors.New("not a coroutine profile")     // wrong magic, or empty
	ErrVersion    = errors.New("unsupported profile version") // a version this reader does not know
	ErrTruncated  = errors.New("truncated")                   // the data ends early
	ErrChecksum   = errors.New("checksum mismatch")           // a section's CRC-32C is wrong
	ErrCorrupt    = errors.New("malformed")                   // bytes that cannot be decoded
	ErrInvalid    = errors.New("invalid")                     // decoded, but inconsistent
	ErrTooLarge   = errors.New("too large")                   // past MaxFileSize
)

// Error is a fault in a profile: what is wrong and where.
type Error struct {
	Section string // section name, e.g. "coroutines"; "" for the file header or the file as a whole
	Record  int    // index of the record within its section; -1 if not about one record
	Offset  int64  // byte offset in the file where the fault is; -1 if not known (Validate)
	Err     error
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("format:")
	if e.Section != "" {
		fmt.Fprintf(&b, " section %q", e.Section)
	}
	if e.Record >= 0 {
		fmt.Fprintf(&b, " record %d", e.Record)
	}
	if e.Offset >= 0 {
		fmt.Fprintf(&b, " at offset %d", e.Offset)
	}
	if b.Len() > len("format:") {
		b.WriteString(": ")
	} else {
		b.WriteString(" ") // nothing to locate: "format: no "meta" section", not "format:: …"
	}
	b.WriteString(e.Err.Error())
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// errorf makes the Err of an *Error: the message as given, and kind for errors.Is,
// so messages read naturally ("truncated varint") and still classify.
func errorf(kind error, format string, args ...any) error {
	return &fault{kind: kind, msg: fmt.Sprintf(format, args...)}
}

type fault struct {
	kind error
	msg  string
}

func (f *fault) Error() string { return f.msg }
func (f *fault) Unwrap() error { return f.kind }
