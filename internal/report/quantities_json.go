package report

import (
	"bytes"
	"encoding/json"
	"math"
	"reflect"
	"strconv"
	"sync"

	"github.com/coroprof/coroprof/internal/wire"
)

// The JSON of Quantities and Delta: one key per counter, named by wire.CounterNames, in
// counter order; times as numbers of seconds, ticks and counts as integers (unsigned in
// Quantities, signed in Delta). A struct that embeds one of them gets its keys in the
// embedding's place, as encoding/json flattens an embedded struct (marshalFlat), so a
// counter added to internal/wire appears in every JSON view with no edit here.

var (
	quantitiesType = reflect.TypeFor[Quantities]()
	deltaType      = reflect.TypeFor[Delta]()
)

// counterField is the generated struct field of counter c in an array of type t.
func counterField(t reflect.Type, c wire.Counter) reflect.StructField {
	ft := reflect.TypeFor[float64]()
	if c.Unit() != wire.UnitNanos {
		ft = reflect.TypeFor[uint64]()
		if t == deltaType {
			ft = reflect.TypeFor[int64]()
		}
	}
	return reflect.StructField{Name: "Counter" + strconv.Itoa(int(c)), Type: ft,
		Tag: reflect.StructTag(`json:"` + wire.CounterNames[c] + `"`)}
}

// setCounter stores x (counter c in output units) in generated field f.
func setCounter(f reflect.Value, x float64) {
	switch f.Kind() {
	case reflect.Uint64:
		f.SetUint(round(x))
	case reflect.Int64:
		f.SetInt(whole(x))
	default:
		f.SetFloat(x)
	}
}

// whole rounds a signed count, saturating at ±MaxInt64 as sub does.
func whole(f float64) int64 {
	switch {
	case math.IsNaN(f):
		return 0
	case f >= math.MaxInt64:
		return math.MaxInt64
	case f <= -math.MaxInt64:
		return -math.MaxInt64
	}
	return int64(math.Round(f))
}

// flatType is the generated twin of a struct type: its exported fields as they are,
// each embedded Quantities or Delta replaced by one field per counter.
type flatType struct {
	typ reflect.Type
	src []int // per source field: -1 skipped, -2 counters, else copied
}

var flatTypes sync.Map // reflect.Type -> *flatType

func flatOf(t reflect.Type) *flatType {
	if ft, ok := flatTypes.Load(t); ok {
		return ft.(*flatType)
	}
	ft := &flatType{}
	var fields []reflect.StructField
	for i := range numFields(t) {
		f := t.Field(i)
		switch {
		case f.Anonymous && (f.Type == quantitiesType || f.Type == deltaType):
			for c := range wire.NumCounters {
				fields = append(fields, counterField(f.Type, c))
			}
			ft.src = append(ft.src, -2)
		case !f.IsExported():
			ft.src = append(ft.src, -1)
		default:
			fields = append(fields, reflect.StructField{Name: f.Name, Type: f.Type, Tag: f.Tag})
			ft.src = append(ft.src, i)
		}
	}
	if t.Kind() != reflect.Struct {
		for c := range wire.NumCounters {
			fields = append(fields, counterField(t, c))
		}
	}
	ft.typ = reflect.StructOf(fields)
	v, _ := flatTypes.LoadOrStore(t, ft)
	return v.(*flatType)
}

func numFields(t reflect.Type) int {
	if t.Kind() != reflect.Struct {
		return 0
	}
	return t.NumField()
}

// marshalFlat encodes v, a struct or a Quantities or Delta, as described above.
func marshalFlat(v any) ([]byte, error) {
	sv := reflect.ValueOf(v)
	ft := flatOf(sv.Type())
	out := reflect.New(ft.typ).Elem()
	k := 0
	counters := func(a reflect.Value) {
		for c := range wire.NumCounters {
			setCounter(out.Field(k), a.Index(int(c)).Float())
			k++
		}
	}
	if sv.Kind() != reflect.Struct {
		counters(sv)
	}
	for i, s := range ft.src {
		switch s {
		case -1:
		case -2:
			counters(sv.Field(i))
		default:
			out.Field(k).Set(sv.Field(i))
			k++
		}
	}
	// Unescaped here: the encoder that called us escapes for HTML, or not, as it was
	// told when it compacts what we return.
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(out.Interface()); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

// MarshalJSON implements json.Marshaler (see above).
func (q Quantities) MarshalJSON() ([]byte, error) { return marshalFlat(q) }

// MarshalJSON implements json.Marshaler (see above).
func (d Delta) MarshalJSON() ([]byte, error) { return marshalFlat(d) }

// The types that embed Quantities or Delta: each needs its own MarshalJSON, or the
// embedded one's would be promoted and write the counters alone.

// MarshalJSON implements json.Marshaler, the counters in the embedding's place.
func (c Coroutine) MarshalJSON() ([]byte, error) { return marshalFlat(c) }

// MarshalJSON implements json.Marshaler, the counters in the embedding's place.
func (c Cost) MarshalJSON() ([]byte, error) { return marshalFlat(c) }

// MarshalJSON implements json.Marshaler, the counters in the embedding's place.
func (s LongSlice) MarshalJSON() ([]byte, error) { return marshalFlat(s) }

// MarshalJSON implements json.Marshaler, the counters in the embedding's place.
func (s CoroSide) MarshalJSON() ([]byte, error) { return marshalFlat(s) }

// MarshalJSON implements json.Marshaler, the counters in the embedding's place.
func (d CoroDiff) MarshalJSON() ([]byte, error) { return marshalFlat(d) }

// MarshalJSON implements json.Marshaler, the counters in the embedding's place.
func (d CostDiff) MarshalJSON() ([]byte, error) { return marshalFlat(d) }
