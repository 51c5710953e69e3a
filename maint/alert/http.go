package alert

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode"
)

const (
	// maxRedirects a webhook may take: a receiver that moved, not a loop.
	maxRedirects = 3
	// maxResponse is how much of a response is read (and dropped): a
	// receiver's answer is a status, not a download.
	maxResponse = 64 << 10
	// maxRetryAfter bounds a receiver's Retry-After, so that a bad header
	// cannot park an alert past its retry window.
	maxRetryAfter = time.Hour
)

// client posts alerts: the default transport (certificates verified, proxy
// from the environment), a bound on redirects, and no cookies. Each
// request's deadline is its route's timeout.
var client = &http.Client{
	CheckRedirect: func(_ *http.Request, via []*http.Request) error {
		if len(via) > maxRedirects {
			return fmt.Errorf("more than %d redirects (a redirect loop?)", maxRedirects)
		}
		return nil
	},
}

// post makes one attempt of a webhook route. The route's timeout covers
// the whole exchange: connecting, sending, the answer and reading its body.
func post(ctx context.Context, r *Route, a *Alert, version string, now time.Time) Attempt {
	target, body, err := request(r, a, now)
	if err != nil {
		return Attempt{Err: err, Permanent: true}
	}
	ctx, cancel := context.WithTimeout(ctx, timeout(r))
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return Attempt{Err: err, Permanent: true}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "gomaint/"+version)
	resp, err := client.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			err = fmt.Errorf("no answer within %s", timeout(r))
		}
		return Attempt{Err: err, Unanswered: true}
	}
	defer resp.Body.Close()
	// The body is read (so the connection can be reused) up to a bound;
	// a receiver that said yes has said it, whatever its body does after.
	head, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	io.Copy(io.Discard, io.LimitReader(resp.Body, maxResponse-512))
	at := Attempt{HTTPStatus: resp.StatusCode}
	switch code := resp.StatusCode; {
	case code >= 200 && code < 300:
		return at
	case code == http.StatusTooManyRequests || code == http.StatusServiceUnavailable:
		at.RetryAfter = retryAfter(resp.Header.Get("Retry-After"), time.Now())
	case code >= 400 && code < 500 && code != http.StatusRequestTimeout:
		at.Permanent = true
	}
	at.Err = fmt.Errorf("HTTP %d%s", resp.StatusCode, excerpt(head))
	return at
}

// retryAfter reads a Retry-After header: seconds, or an HTTP date; 0 when
// absent or unreadable, at most maxRetryAfter.
func retryAfter(h string, now time.Time) time.Duration {
	h = strings.TrimSpace(h)
	if h == "" {
		return 0
	}
	var d time.Duration
	if s, err := strconv.ParseInt(h, 10, 64); err == nil {
		d = time.Duration(min(max(s, 0), int64(maxRetryAfter/time.Second))) * time.Second
	} else if t, err := http.ParseTime(h); err == nil {
		d = t.Sub(now)
	}
	return min(max(d, 0), maxRetryAfter)
}

// excerpt is the start of a refusal's body, for the journal and `gomaint
// alert list` ("HTTP 400: invalid_blocks"): one line of printable text.
func excerpt(body []byte) string {
	s := strings.Map(func(r rune) rune {
		if unicode.IsPrint(r) {
			return r
		}
		return ' '
	}, string(body))
	s = strings.Join(strings.Fields(s), " ")
	if s == "" {
		return ""
	}
	return ": " + clip(s, 200)
}
