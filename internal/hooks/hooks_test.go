package hooks_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/coroprof/coroprof/internal/hooks"
	coro "github.com/coroprof/coroprof/runtime"
)

// TestTable: package coro registers a complete table at init, and asking for it
// with the wrong types fails at once with a message naming both.
func TestTable(t *testing.T) {
	rt := hooks.Get[*coro.Scheduler, *coro.Coro]()
	v := reflect.ValueOf(rt).Elem()
	for i := 0; i < v.NumField(); i++ {
		if v.Field(i).IsNil() {
			t.Errorf("the runtime left %s empty", v.Type().Field(i).Name)
		}
	}
	if n := rt.RunsEnded(coro.NewScheduler()); n != 0 {
		t.Errorf("a new loop has ended %d runs", n)
	}
	defer func() {
		msg, _ := recover().(string)
		if !strings.Contains(msg, "hooks.Runtime[int,string]") || !strings.Contains(msg, "runtime.Scheduler") {
			t.Errorf("Get with the wrong types: panic %q", msg)
		}
	}()
	hooks.Get[int, string]()
}
