package render

import (
	"encoding/json"
	"math"
	"reflect"
	"testing"
)

// TestAppendJSONString: the hand-written string encoder matches encoding/json (with its
// HTML escaping) byte for byte, hostile and broken strings included.
func TestAppendJSONString(t *testing.T) {
	for _, s := range []string{"", "plain", "<script>alert(1)</script>", `quote " back \ slash`, "a&b", "tab\tnl\ncr\r",
		"\x00\x01\x1f\x7f", "червь", "line\u2028para\u2029", "bad \xff utf8 \xc3", "emoji 🐛", "</script><!--"} {
		want, _ := json.Marshal(s)
		if got := appendJSONString(nil, s); string(got) != string(want) {
			t.Errorf("appendJSONString(%q) = %s, want %s", s, got, want)
		}
	}
}

// TestTableJSON: a table encodes to the same JSON value encoding/json would produce.
func TestTableJSON(t *testing.T) {
	tb := &table{ID: "t", Cols: []column{{Key: "a", Label: "a", Type: "int"}}, Sort: 0, Name: 0, RowID: "t-", Link: "cg-",
		Rows: [][]interface{}{
			{1, 0, uint64(math.MaxUint64), int64(-5), 0.25, 1e-9, 3e22, "<b>", nil, true},
			{-1, 8, math.NaN(), []int{1, 2}},
		}}
	got, err := json.Marshal(tb)
	if err != nil {
		t.Fatal(err)
	}
	var v map[string]interface{}
	if err := json.Unmarshal(got, &v); err != nil {
		t.Fatalf("table JSON %s does not parse: %v", got, err)
	}
	type plain table // without the MarshalJSON method
	p := plain(*tb)
	p.Rows = [][]interface{}{tb.Rows[0], {-1, 8, nil, []int{1, 2}}} // encoding/json rejects NaN
	want, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	var w map[string]interface{}
	json.Unmarshal(want, &w)
	if !reflect.DeepEqual(v, w) {
		t.Errorf("table JSON\n got %s\nwant %s", got, want)
	}
}
