package alert

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"time"
)

// Outcomes of an attempt, as journaled (GOMAINT_OUTCOME) and counted
// (gomaint_alerts_sent_total{outcome}): delivered; failed and to be
// retried; dropped, given up for good.
const (
	Delivered = "delivered"
	Failed    = "failed"
	Dropped   = "dropped"
)

// Outcomes lists the outcomes, in the order metrics show them.
var Outcomes = []string{Delivered, Failed, Dropped}

// Attempt is what one delivery attempt of one alert to one route did.
type Attempt struct {
	Outcome string // Delivered or Failed; Flush makes a failure Dropped
	// HTTPStatus is the receiver's status (0: no answer, or an exec
	// route); ExitStatus the command's (-1: killed, or it did not start).
	HTTPStatus int
	ExitStatus int
	// RetryAfter is how long the receiver asked to wait (429, 503 with
	// Retry-After), 0 when it did not say.
	RetryAfter time.Duration
	// Permanent is a refusal that no retry changes: a 4xx other than 408
	// and 429.
	Permanent bool
	// Unanswered is a failure without an answer (no connection, a
	// timeout, a hook killed): the receiver itself is in trouble, so the
	// route's other alerts wait for the next retry rather than each wait
	// out its own timeout.
	Unanswered bool
	Err        error // why it failed; it never holds the route's URL
	Duration   time.Duration
}

// Send makes one attempt to deliver a to route r, bounded by r.Timeout.
// version is gomaint's, for the HTTP User-Agent.
func Send(ctx context.Context, r *Route, a *Alert, version string) Attempt {
	start := time.Now()
	var at Attempt
	if len(r.Exec) > 0 {
		at = runHook(ctx, r, a)
	} else {
		at = post(ctx, r, a, version, start)
	}
	at.Duration = time.Since(start)
	if at.Err == nil {
		at.Outcome = Delivered
	} else {
		at.Outcome = Failed
		at.Err = scrub(at.Err, r.URL)
	}
	return at
}

// timeout is r's bound on an attempt; a route made in code without one
// gets the configuration's default.
func timeout(r *Route) time.Duration {
	if r.Timeout <= 0 {
		return 10 * time.Second
	}
	return r.Timeout
}

// scrub is err without the route's URL in it: net/http names the URL it
// failed on (url.Error), and a webhook URL is a credential; its path and
// query, where tokens are, are cut out of whatever else is left.
func scrub(err error, raw string) error {
	if ue := (*url.Error)(nil); errors.As(err, &ue) {
		err = ue.Err
	}
	u, perr := url.Parse(strings.TrimSpace(raw))
	if raw == "" || perr != nil {
		return err
	}
	msg := err.Error()
	for _, secret := range []string{strings.TrimSpace(raw), u.RequestURI(), u.EscapedPath()} {
		if len(secret) > 1 {
			msg = strings.ReplaceAll(msg, secret, "/…")
		}
	}
	if msg == err.Error() {
		return err
	}
	return errors.New(msg)
}
