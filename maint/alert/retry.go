package alert

import (
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/gomaint/gomaint/maint/config"
)

// Retries: the first within a minute (a receiver restarting is back by
// then), doubling up to half an hour, each shortened by a random fifth so
// that alerts spooled together do not come back together.
const (
	firstRetry = 30 * time.Second
	maxBackoff = 30 * time.Minute
)

// backoff is the wait after the failed'th failed attempt.
func backoff(failed int) time.Duration {
	d := firstRetry
	for i := 1; i < failed && d < maxBackoff; i++ {
		d *= 2
	}
	d = min(d, maxBackoff)
	return d - rand.N(d/5)
}

// retryFor is how long after it was spooled an entry of r is retried.
func retryFor(r *Route) time.Duration {
	if r.RetryFor <= 0 {
		return 24 * time.Hour
	}
	return r.RetryFor
}

// settle decides what becomes of e after attempt at, made at now:
// delivered; dropped (a refusal for good, or the route's retry_for has
// passed since e was spooled); or failed, with e's attempts, error and
// next attempt updated. Every entry is tried at least once, however late
// the sender ran; the last retry is made when retry_for ends, unless the
// receiver asked for a later one (Retry-After).
func settle(e *Entry, r *Route, at *Attempt, now time.Time) (outcome, reason string) {
	if at.Outcome == Delivered {
		return Delivered, ""
	}
	e.Attempts++
	e.LastError = at.Err.Error()
	end := e.Spooled.Add(retryFor(r))
	switch {
	case at.Permanent:
		return Dropped, "the receiver refused it for good: " + e.LastError
	case !now.Before(end):
		return Dropped, fmt.Sprintf("retry_for (%s) has passed since it was spooled; last: %s", config.FormatDuration(retryFor(r)), e.LastError)
	case at.RetryAfter > 0:
		e.Next = now.Add(at.RetryAfter)
	default:
		e.Next = now.Add(backoff(e.Attempts))
		if e.Next.After(end) {
			e.Next = end
		}
	}
	return Failed, e.LastError
}
