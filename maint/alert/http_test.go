package alert

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gomaint/gomaint/maint/journal"
)

// badReceiver runs one flush of one alert against a receiver answering
// with reply, and returns the flush, the entry left (nil: gone), the
// journal and how many requests the receiver saw.
func badReceiver(t *testing.T, reply func(w http.ResponseWriter, r *http.Request, n int) bool) (FlushResult, *Entry, *journal.Memory, int, *clock) {
	t.Helper()
	rc := newReceiver(t)
	rc.reply = reply
	sp := spoolOf(t, "hook", "a1")
	mem, c := &journal.Memory{}, newClock()
	res := flush(t, sp, c, mem, sendRoute("hook", "json", rc.URL+"/T000/SECRET-TOKEN"))
	noSecret(t, mem, "SECRET-TOKEN")
	var left *Entry
	if es := entries(t, sp); len(es) == 1 {
		left = es[0]
		if strings.Contains(left.LastError, "SECRET-TOKEN") {
			t.Errorf("last error %q holds the URL's secret", left.LastError)
		}
	}
	return res, left, mem, len(rc.got()), c
}

// retried checks that the alert failed once, stays in the spool with its
// next attempt within the first minute, and was journaled as a warning
// with the HTTP status.
func retried(t *testing.T, res FlushResult, left *Entry, mem *journal.Memory, c *clock, status string) {
	t.Helper()
	if res.Failed != 1 || res.Delivered != 0 || res.Dropped != 0 || left == nil || left.Attempts != 1 {
		t.Fatalf("flush %+v, left %+v; want one failure, the alert kept", res, left)
	}
	if d := left.Next.Sub(c.Now()); d < 24*time.Second || d > 30*time.Second {
		t.Errorf("next attempt in %v; want the first retry within 24-30s", d)
	}
	ev := events(mem, journal.AlertFailed)
	if len(ev) != 1 || ev[0].Priority != journal.Warning || ev[0].Fields["GOMAINT_HTTP_STATUS"] != status ||
		ev[0].Fields["GOMAINT_OUTCOME"] != Failed || ev[0].Fields["GOMAINT_ROUTE"] != "hook" || ev[0].Fields["GOMAINT_ALERT_ID"] != "a1" ||
		ev[0].Fields["GOMAINT_FINDING"] != "ALERT_TEST_WARN" || ev[0].Fields["GOMAINT_TARGET"] != "build" {
		t.Errorf("events %+v; want one AlertFailed with HTTP status %s", mem.Snapshot(), status)
	}
}

func TestReceiverUnreachable(t *testing.T) {
	sp := spoolOf(t, "hook", "a1")
	mem, c := &journal.Memory{}, newClock()
	res := flush(t, sp, c, mem, sendRoute("hook", "json", "http://"+deadAddr(t)+"/T000/SECRET-TOKEN"))
	es := entries(t, sp)
	retried(t, res, es[0], mem, c, "0")
	if !strings.Contains(es[0].LastError, "connection refused") {
		t.Errorf("last error %q", es[0].LastError)
	}
	noSecret(t, mem, "SECRET-TOKEN")
}

func TestReceiver500(t *testing.T) {
	res, left, mem, n, c := badReceiver(t, func(w http.ResponseWriter, _ *http.Request, _ int) bool {
		http.Error(w, "database \x1b[2J on fire", http.StatusInternalServerError)
		return true
	})
	retried(t, res, left, mem, c, "500")
	if n != 1 || left.LastError != "HTTP 500: database [2J on fire" {
		t.Errorf("%d requests, last error %q: the body's start, printable", n, left.LastError)
	}
}

// TestReceiverRedirectLoop: a receiver that redirects to itself gets the
// first request and three redirects, then the attempt fails.
func TestReceiverRedirectLoop(t *testing.T) {
	res, left, mem, n, c := badReceiver(t, func(w http.ResponseWriter, r *http.Request, _ int) bool {
		http.Redirect(w, r, r.URL.Path, http.StatusTemporaryRedirect)
		return true
	})
	retried(t, res, left, mem, c, "0")
	if n != 1+maxRedirects || !strings.Contains(left.LastError, "redirects") {
		t.Errorf("%d requests, last error %q; want %d and a redirect loop", n, left.LastError, 1+maxRedirects)
	}
}

// TestReceiverHugeResponse: a receiver that says 200 and then streams
// without end: delivered, reading a bounded amount.
func TestReceiverHugeResponse(t *testing.T) {
	res, left, mem, _, _ := badReceiver(t, func(w http.ResponseWriter, r *http.Request, _ int) bool {
		w.WriteHeader(http.StatusOK)
		chunk := make([]byte, 64<<10)
		for r.Context().Err() == nil {
			if _, err := w.Write(chunk); err != nil {
				break
			}
		}
		return true
	})
	if res.Delivered != 1 || left != nil {
		t.Fatalf("flush %+v, left %+v; want delivered", res, left)
	}
	if ev := events(mem, journal.AlertDelivered); len(ev) != 1 || ev[0].Priority != journal.Info || ev[0].Fields["GOMAINT_HTTP_STATUS"] != "200" {
		t.Errorf("events %+v", mem.Snapshot())
	}
}

// TestReceiver404: a refusal for good is not retried: dropped at once,
// journaled as an error.
func TestReceiver404(t *testing.T) {
	res, left, mem, n, _ := badReceiver(t, func(w http.ResponseWriter, _ *http.Request, _ int) bool {
		http.Error(w, "no_service", http.StatusNotFound)
		return true
	})
	if res.Dropped != 1 || res.Failed != 0 || left != nil || n != 1 {
		t.Fatalf("flush %+v, left %+v, %d requests; want dropped after one", res, left, n)
	}
	ev := events(mem, journal.AlertDropped)
	if len(ev) != 1 || ev[0].Priority != journal.Err || ev[0].Fields["GOMAINT_HTTP_STATUS"] != "404" || ev[0].Fields["GOMAINT_OUTCOME"] != Dropped ||
		!strings.Contains(ev[0].Fields["GOMAINT_REASON"], "HTTP 404: no_service") {
		t.Errorf("events %+v", mem.Snapshot())
	}
}

// TestReceiver429: Retry-After, in seconds or as a date, sets the next
// attempt; an absurd one is bounded.
func TestReceiver429(t *testing.T) {
	for _, c := range []struct {
		header string
		want   time.Duration
	}{{"120", 2 * time.Minute}, {"99999999", maxRetryAfter}, {"date", 10 * time.Minute}} {
		res, left, _, _, clk := badReceiver(t, func(w http.ResponseWriter, _ *http.Request, _ int) bool {
			h := c.header
			if h == "date" {
				h = time.Now().Add(10 * time.Minute).UTC().Format(http.TimeFormat)
			}
			w.Header().Set("Retry-After", h)
			w.WriteHeader(http.StatusTooManyRequests)
			return true
		})
		if res.Failed != 1 || left == nil {
			t.Fatalf("Retry-After %s: flush %+v; want a retry", c.header, res)
		}
		if d := left.Next.Sub(clk.Now()); d > c.want || d < c.want-2*time.Second {
			t.Errorf("Retry-After %s: next attempt in %v, want %v", c.header, d, c.want)
		}
	}
}

// TestReceiverHangs: a receiver that never answers costs its route one
// timeout (its other alert waits for the retry), while another route's
// alerts are all delivered meanwhile.
func TestReceiverHangs(t *testing.T) {
	slow := newReceiver(t)
	release := make(chan struct{})
	defer close(release)
	slow.reply = func(_ http.ResponseWriter, r *http.Request, _ int) bool {
		select {
		case <-r.Context().Done():
		case <-release:
		case <-time.After(5 * time.Minute):
		}
		return true
	}
	fast := newReceiver(t)
	sp := spoolOf(t, "slow", "s1", "s2")
	addEntries(t, sp, "fast", "f1", "f2", "f3")
	hang := sendRoute("slow", "json", slow.URL)
	hang.Timeout = time.Second
	mem, c := &journal.Memory{}, newClock()
	start := time.Now()
	res, err := Flush(context.Background(), sp, []Route{hang, sendRoute("fast", "json", fast.URL)}, FlushOptions{Sink: mem, Now: c.Now})
	took := time.Since(start)
	if err != nil {
		t.Fatal(err)
	}
	if res.Delivered != 3 || res.Failed != 1 || res.Deferred != 1 || res.Pending != 2 {
		t.Errorf("flush %+v; want 3 delivered, 1 failed, 1 deferred, 2 left", res)
	}
	if took > 4*time.Second {
		t.Errorf("flush took %v with a 1s timeout", took)
	}
	if ids := fast.acceptedIDs(t); len(ids) != 3 {
		t.Errorf("the other route got %v", ids)
	}
	if n := len(slow.got()); n != 1 {
		t.Errorf("the hanging receiver got %d requests; want 1", n)
	}
	ev := events(mem, journal.AlertFailed)
	if len(ev) != 1 || !strings.Contains(ev[0].Fields["GOMAINT_REASON"], "no answer within 1s") {
		t.Errorf("events %+v", ev)
	}
}

// TestReceiverTLS: a certificate no root vouches for fails the attempt:
// TLS is verified, and nothing turns that off.
func TestReceiverTLS(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {}))
	defer srv.Close()
	r := sendRoute("hook", "json", srv.URL)
	at := Send(t.Context(), &r, &Alert{ID: "x"}, "test")
	if at.Outcome != Failed || !strings.Contains(at.Err.Error(), "certificate") {
		t.Errorf("attempt %+v; want a certificate error", at)
	}
}
