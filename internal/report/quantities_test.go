package report

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"

	"github.com/coroprof/coroprof/internal/wire"
)

// TestQuantitiesFollowCounters holds the report's JSON structs to the counters' one
// definition (internal/wire/counters.go): a field per counter, in its order, keyed by
// its name, and each conversion puts counter i's value under counter i's key (times in
// seconds). A counter added there fails here until the report shows it.
func TestQuantitiesFollowCounters(t *testing.T) {
	for name, x := range map[string]any{"Quantities": Quantities{}, "Delta": Delta{}} {
		b, err := json.Marshal(x)
		if err != nil {
			t.Fatal(err)
		}
		var keys []string
		dec := json.NewDecoder(bytes.NewReader(b))
		for tok, err := dec.Token(); err == nil; tok, err = dec.Token() {
			if k, ok := tok.(string); ok {
				keys = append(keys, k)
			}
		}
		if !reflect.DeepEqual(keys, wire.CounterNames[:]) {
			t.Errorf("%s JSON keys %q, want the counters %q", name, keys, wire.CounterNames)
		}
	}
	for c := range wire.NumCounters {
		var v Vec
		v[c] = 3e9
		want := 3e9
		if c.Unit() == wire.UnitNanos {
			want = 3
		}
		q := v.Quantities()
		var old Quantities
		for name, x := range map[string]any{"Quantities": q, "Delta": deltaOf(q, old)} {
			b, err := json.Marshal(x)
			if err != nil {
				t.Fatal(err)
			}
			var got map[string]float64
			if err := json.Unmarshal(b, &got); err != nil {
				t.Fatal(err)
			}
			for k, x := range got {
				if (k == c.String()) != (x == want) || (k != c.String() && x != 0) {
					t.Errorf("%s of counter %s: %s = %v", name, c, k, x)
				}
			}
		}
		if back := q.Vec(); back != v {
			t.Errorf("counter %s: Vec(Quantities(v)) = %v, want %v", c, back, v)
		}
		if d := deltaOf(q, Quantities{}); d.Value(c) != want {
			t.Errorf("Delta.Value(%s) = %v, want %v", c, d.Value(c), want)
		}
	}
}
