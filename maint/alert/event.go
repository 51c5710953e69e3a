package alert

import (
	"fmt"
	"strconv"
	"time"

	"github.com/gomaint/gomaint/maint/journal"
)

// emit journals what became of entry e on its route r (nil: a route no
// longer configured) at now: every attempt, and every drop. It names the
// receiver only as Route.Redacted does.
func emit(sink journal.Sink, r *Route, e *Entry, at *Attempt, outcome, reason string, now time.Time) {
	if sink == nil {
		return
	}
	a := &e.Alert
	what := a.Status + " alert " + a.Code
	if a.Target != "" {
		what += " on " + a.Target
	}
	routeName, receiver := e.Route, ""
	if r != nil {
		receiver = r.Redacted()
	}
	f := map[string]string{"GOMAINT_ROUTE": routeName, "GOMAINT_FINDING": a.Code, "GOMAINT_ALERT_ID": a.ID,
		"GOMAINT_ALERT_STATUS": a.Status, "GOMAINT_OUTCOME": outcome, "GOMAINT_TARGET": a.Target,
		"GOMAINT_SEVERITY": a.Severity, "GOMAINT_ATTEMPTS": strconv.Itoa(attempts(e, outcome))}
	if receiver != "" {
		f["GOMAINT_RECEIVER"] = receiver
	}
	if reason != "" {
		f["GOMAINT_REASON"] = reason
	}
	var result string
	if at != nil && r != nil {
		if len(r.Exec) > 0 {
			f["GOMAINT_EXIT_STATUS"] = strconv.Itoa(at.ExitStatus)
			result = fmt.Sprintf(": exit status %d", at.ExitStatus)
		} else {
			f["GOMAINT_HTTP_STATUS"] = strconv.Itoa(at.HTTPStatus)
			result = fmt.Sprintf(": HTTP %d", at.HTTPStatus)
		}
		f["GOMAINT_DURATION_MS"] = strconv.FormatInt(at.Duration.Milliseconds(), 10)
	}
	ev := journal.Event{Fields: f}
	switch outcome {
	case Delivered:
		ev.Type, ev.Priority = journal.AlertDelivered, journal.Info
		ev.Message = fmt.Sprintf("%s delivered to route %s (%s)%s", what, routeName, receiver, result)
	case Failed:
		ev.Type, ev.Priority = journal.AlertFailed, journal.Warning
		retry := "not retried" // a test alert
		if !e.Next.IsZero() {
			f["GOMAINT_RETRY_IN_SEC"] = strconv.FormatInt(int64(e.Next.Sub(now).Round(time.Second)/time.Second), 10)
			retry = "retried at " + e.Next.UTC().Format(time.RFC3339)
		}
		ev.Message = fmt.Sprintf("%s to route %s (%s) failed, attempt %d, %s: %s", what, routeName, receiver, e.Attempts, retry, reason)
	default:
		ev.Type, ev.Priority = journal.AlertDropped, journal.Err
		ev.Message = fmt.Sprintf("%s to route %s dropped after %d attempts: %s", what, routeName, e.Attempts, reason)
	}
	journal.Emit(sink, ev)
}

// attempts is how many attempts e has had, the one journaled included: a
// delivery does not count itself in the entry, which it removes.
func attempts(e *Entry, outcome string) int {
	if outcome == Delivered {
		return e.Attempts + 1
	}
	return e.Attempts
}
