// Package termtext makes a string from a user (a coroutine's name, a program's
// arguments, a note) safe to print to a terminal as one line of plain text: the one
// escaping function behind the debug console's replies and print-profile -text.
//
// A terminal acts on control characters: ESC starts sequences that move the cursor,
// recolour, retitle the window (OSC) or, in some terminals, write files; BEL rings;
// CR and newline break a table row; NUL and DEL may be dropped or acted on; C1
// controls (U+0080 to U+009F) are 8-bit forms of ESC sequences; bidirectional controls
// (RLO U+202E and the rest) reorder what follows on the line, so a name can display as
// something else. Escape replaces each with a visible Go-style escape (\x1b, \n, \t,
// \u202e), and each byte of invalid UTF-8 with \xNN, so what is shown says what is
// there. A backslash is doubled, so the escaped form reads back unambiguously.
// Everything else, printable Unicode included, is kept.
package termtext

import (
	"strings"
	"unicode/utf8"
)

const hex = "0123456789abcdef"

// Escape returns s with every control character, bidirectional control, invalid
// UTF-8 byte and backslash escaped; s itself when there is nothing to escape.
func Escape(s string) string {
	i := 0
	for i < len(s) {
		r, size := utf8.DecodeRuneInString(s[i:])
		if needsEscape(r, size) {
			break
		}
		i += size
	}
	if i == len(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	b.WriteString(s[:i])
	for i < len(s) {
		r, size := utf8.DecodeRuneInString(s[i:])
		if !needsEscape(r, size) {
			b.WriteString(s[i : i+size])
			i += size
			continue
		}
		switch {
		case r == utf8.RuneError && size == 1:
			b.WriteString(`\x`)
			b.WriteByte(hex[s[i]>>4])
			b.WriteByte(hex[s[i]&15])
		case r == '\\':
			b.WriteString(`\\`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x80:
			b.WriteString(`\x`)
			b.WriteByte(hex[r>>4])
			b.WriteByte(hex[r&15])
		default:
			b.WriteString(`\u`)
			for shift := 12; shift >= 0; shift -= 4 {
				b.WriteByte(hex[(r>>shift)&15])
			}
		}
		i += size
	}
	return b.String()
}

func needsEscape(r rune, size int) bool {
	switch {
	case r == utf8.RuneError && size == 1:
		return true // invalid UTF-8 (a real U+FFFD is 3 bytes and kept)
	case r < 0x20, r == 0x7f, r == '\\':
		return true
	case r < 0x80:
		return false
	case r < 0xa0:
		return true // C1 controls
	}
	return isBidi(r)
}

// isBidi reports the bidirectional formatting characters (Unicode's Bidi_Control,
// and the line and paragraph separators, which end a line in some terminals).
func isBidi(r rune) bool {
	switch {
	case r == 0x061c, r == 0x200e, r == 0x200f: // ALM, LRM, RLM
		return true
	case r >= 0x202a && r <= 0x202e: // LRE RLE PDF LRO RLO
		return true
	case r >= 0x2066 && r <= 0x2069: // LRI RLI FSI PDI
		return true
	case r == 0x2028, r == 0x2029: // LINE and PARAGRAPH SEPARATOR
		return true
	}
	return false
}
