package profiler

import (
	"github.com/coroprof/coroprof/internal/hooks"
	coro "github.com/coroprof/coroprof/runtime"
)

// rt is the runtime's internal table (internal/hooks): attaching the session to a
// loop, the loop's run count, each coroutine's hook slot and spawn site.
var rt = hooks.Get[*coro.Scheduler, *coro.Coro]()

// coroHooks is the scheduler's hook interface, which a session implements.
type coroHooks = hooks.Hooks[*coro.Coro]
