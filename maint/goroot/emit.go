package goroot

import (
	"fmt"

	"github.com/gomaint/gomaint/maint/journal"
)

// Emit journals a verdict: a GOROOT_OK event, or the GOROOT_MISSING or
// GOROOT_INVALID event with the path, reason and fix.
func Emit(sink journal.Sink, res Result) {
	fields := map[string]string{"GOMAINT_GOROOT": res.Path}
	if res.OK {
		fields["GOMAINT_GO_VERSION"] = res.Version
		journal.Emit(sink, journal.Event{Type: journal.GorootOK, Priority: journal.Info,
			Message: fmt.Sprintf("GOROOT %s is usable (%s)", res.Path, res.Version), Fields: fields})
		return
	}
	fields["GOMAINT_FINDING"], fields["GOMAINT_REASON"], fields["GOMAINT_FIX"] = res.Code.String(), res.Reason, res.Fix
	journal.Emit(sink, journal.Event{Type: res.Code.Type(), Priority: journal.Err,
		Message: res.Code.String() + ": " + res.Reason, Fields: fields})
}
