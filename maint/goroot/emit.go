package goroot

import (
	"fmt"
	"strconv"

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

// EmitModified journals a GOROOT_MODIFIED finding with its counts; a
// verified GOROOT adds nothing to the GOROOT_OK event.
func EmitModified(sink journal.Sink, v Verification) {
	if v.Code.IsZero() {
		return
	}
	journal.Emit(sink, journal.Event{Type: v.Code.Type(), Priority: journal.Err, Message: v.Code.String() + ": " + v.Reason,
		Fields: map[string]string{
			"GOMAINT_GOROOT": v.Path, "GOMAINT_FINDING": v.Code.String(), "GOMAINT_REASON": v.Reason, "GOMAINT_FIX": v.Fix,
			"GOMAINT_BASELINE": v.Baseline, "GOMAINT_CHANGED": strconv.Itoa(len(v.Changed)),
			"GOMAINT_ADDED": strconv.Itoa(len(v.Added)), "GOMAINT_REMOVED": strconv.Itoa(len(v.Removed)),
		}})
}
