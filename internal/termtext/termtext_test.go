package termtext

import (
	"strconv"
	"testing"
	"unicode/utf8"
)

func TestEscape(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"main.serve", "main.serve"},
		{"héllo, 世界 ≈ ✓", "héllo, 世界 ≈ ✓"},
		{"\x1b[2J\x1b]0;pwned\x07", `\x1b[2J\x1b]0;pwned\x07`},
		{"a\nb\r\tc", `a\nb\r\tc`},
		{"nul\x00del\x7f", `nul\x00del\x7f`},
		{"c1 \u0085 \u009b", `c1 \u0085 \u009b`},
		{"user\u202efdp.exe", `user\u202efdp.exe`},
		{"\u2066\u2069\u200e\u200f\u061c\u2028", `\u2066\u2069\u200e\u200f\u061c\u2028`},
		{"bad \xff\xfe utf8", `bad \xff\xfe utf8`},
		{"real \ufffd kept", "real \ufffd kept"},
		{`back\slash`, `back\\slash`},
		{"", ""},
	} {
		if got := Escape(c.in); got != c.want {
			t.Errorf("Escape(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

// TestEscapeProperties: for every byte string, the result is valid UTF-8 with no
// control or bidirectional character, and reads back to the input (the escapes are
// Go's, so strconv.Unquote undoes them).
func TestEscapeProperties(t *testing.T) {
	check := func(s string) {
		e := Escape(s)
		if !utf8.ValidString(e) {
			t.Fatalf("Escape(%q) = %q: invalid UTF-8", s, e)
		}
		for i, r := range e {
			if needsEscape(r, utf8.RuneLen(r)) && r != '\\' {
				t.Fatalf("Escape(%q) = %q: %U left at %d", s, e, r, i)
			}
		}
		back, err := strconv.Unquote(`"` + stringsReplaceQuote(e) + `"`)
		if err != nil || back != s {
			t.Fatalf("Escape(%q) = %q does not read back (%q, %v)", s, e, back, err)
		}
	}
	for b := range 256 {
		check(string([]byte{byte(b)}))
		check("x" + string([]byte{byte(b)}) + "y")
	}
	for _, r := range []rune{0x80, 0x9f, 0xa0, 0x202e, 0x2069, 0xfeff, 0x10ffff} {
		check(string(r))
	}
}

// stringsReplaceQuote escapes the double quotes Escape leaves alone, for Unquote.
func stringsReplaceQuote(s string) string {
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if s[i] == '"' {
			out = append(out, '\\')
		}
		out = append(out, s[i])
	}
	return string(out)
}

func FuzzEscape(f *testing.F) {
	f.Add("\x1b]0;x\x07\u202e\xff")
	f.Fuzz(func(t *testing.T, s string) {
		e := Escape(s)
		if !utf8.ValidString(e) {
			t.Fatalf("invalid UTF-8 out of %q", s)
		}
		back, err := strconv.Unquote(`"` + stringsReplaceQuote(e) + `"`)
		if err != nil || back != s {
			t.Fatalf("Escape(%q) = %q does not read back", s, e)
		}
	})
}
