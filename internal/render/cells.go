package render

import (
	"encoding/json"
	"math"
	"strconv"
	"unicode/utf8"
)

const hexDigits = "0123456789abcdef"

// appendJSONString quotes s as encoding/json does with HTML escaping: <, > and &
// become \u003c, \u003e, \u0026 (so no user string can close the <script> element
// the data sits in), U+2028 and U+2029 are escaped, invalid UTF-8 becomes U+FFFD.
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// appendValue encodes one table cell without reflection for the types tables hold,
// and through encoding/json for anything else.
func appendValue(b []byte, v interface{}) ([]byte, error) {
	switch x := v.(type) {
	case nil:
		return append(b, "null"...), nil
	case uint64:
		return strconv.AppendUint(b, x, 10), nil
	case int:
		return strconv.AppendInt(b, int64(x), 10), nil
	case int64:
		return strconv.AppendInt(b, x, 10), nil
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return append(b, "null"...), nil // JSON has no NaN; the page shows an empty cell
		}
		return strconv.AppendFloat(b, x, 'g', -1, 64), nil
	case string:
		return appendJSONString(b, x), nil
	case bool:
		return strconv.AppendBool(b, x), nil
	}
	j, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return append(b, j...), nil
}

// MarshalJSON encodes the table, writing its rows directly: a 100k-row table encodes
// in a fraction of the time reflection takes.
func (t *table) MarshalJSON() ([]byte, error) {
	type head struct {
		ID    string   `json:"id"`
		Cols  []column `json:"cols"`
		Sort  int      `json:"sort"`
		Name  int      `json:"name"`
		RowID string   `json:"rowid"`
		Link  string   `json:"link,omitempty"`
	}
	h, err := json.Marshal(head{t.ID, t.Cols, t.Sort, t.Name, t.RowID, t.Link})
	if err != nil {
		return nil, err
	}
	b := make([]byte, 0, len(h)+len(t.Rows)*(16+12*len(t.Cols)))
	b = append(b, h[:len(h)-1]...)
	b = append(b, `,"rows":[`...)
	for i, r := range t.Rows {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '[')
		for j, v := range r {
			if j > 0 {
				b = append(b, ',')
			}
			if b, err = appendValue(b, v); err != nil {
				return nil, err
			}
		}
		b = append(b, ']')
	}
	return append(b, "]}"...), nil
}
