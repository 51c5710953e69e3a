package alert

import (
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gomaint/gomaint/maint/journal"
)

// TestReceiverComesBack: the receiver is down (nothing listens), then up
// but failing (503), then well: every alert is delivered, each accepted
// exactly once, and the spool is empty.
func TestReceiverComesBack(t *testing.T) {
	addr := deadAddr(t)
	var ids []string
	for i := range 8 {
		ids = append(ids, fmt.Sprintf("alert-%d", i))
	}
	sp := spoolOf(t, "hook", ids...)
	r := sendRoute("hook", "json", "http://"+addr+"/hook")
	mem, c := &journal.Memory{}, newClock()

	// Down: one attempt fails unanswered; the others wait for its retry.
	res := flush(t, sp, c, mem, r)
	if res.Failed != 1 || res.Deferred != 7 || res.Pending != 8 {
		t.Fatalf("receiver down: %+v; want 1 failed, 7 deferred", res)
	}
	c.Add(time.Minute)
	if res = flush(t, sp, c, mem, r); res.Failed != 1 || res.Pending != 8 {
		t.Fatalf("receiver still down: %+v", res)
	}

	// Up, failing the first three requests: a 503 is an answer, so each
	// alert is tried, and those refused are retried.
	l, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	rc := &receiver{}
	rc.reply = func(w http.ResponseWriter, _ *http.Request, n int) bool {
		if n < 3 {
			http.Error(w, "starting", http.StatusServiceUnavailable)
			return true
		}
		return false
	}
	rc.Server = &httptest.Server{Listener: l, Config: &http.Server{Handler: http.HandlerFunc(rc.serve)}}
	rc.Start()
	t.Cleanup(rc.Close)
	c.Add(time.Minute)
	res = flush(t, sp, c, mem, r)
	if res.Failed != 3 || res.Delivered+res.Failed != 8 {
		t.Fatalf("receiver starting: %+v; want 3 refused, the rest delivered", res)
	}
	for range 3 {
		c.Add(10 * time.Minute)
		flush(t, sp, c, mem, r)
	}
	if es := entries(t, sp); len(es) != 0 {
		t.Fatalf("left in the spool: %d", len(es))
	}
	got := rc.acceptedIDs(t)
	for _, id := range ids {
		if got[id] != 1 {
			t.Errorf("alert %s accepted %d times; want once", id, got[id])
		}
	}
	if len(got) != len(ids) {
		t.Errorf("accepted %v", got)
	}
	counts, err := ReadCounts(sp.Dir, []Route{r})
	if err != nil || counts["hook"][Delivered] != 8 || counts["hook"][Failed] != 5 || counts["hook"][Dropped] != 0 {
		t.Errorf("counts %v, %v; want 8 delivered, 5 failed", counts, err)
	}
}

// TestFlushWait: with Wait, a run retries in the same run what comes due
// within it, and returns once the spool is empty.
func TestFlushWait(t *testing.T) {
	rc := newReceiver(t)
	rc.reply = func(w http.ResponseWriter, _ *http.Request, n int) bool {
		if n == 0 {
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusTooManyRequests)
			return true
		}
		return false
	}
	sp := spoolOf(t, "hook", "a1")
	spooledNow(t, sp) // this test runs on the real clock: retry_for counts from now
	start := time.Now()
	res, err := Flush(t.Context(), sp, []Route{sendRoute("hook", "json", rc.URL)}, FlushOptions{Wait: time.Minute})
	if err != nil || res.Failed != 1 || res.Delivered != 1 || res.Pending != 0 {
		t.Fatalf("flush %+v, %v; want the retry delivered in the same run", res, err)
	}
	if took := time.Since(start); took > 30*time.Second {
		t.Errorf("flush took %v: it should return once the spool is empty", took)
	}
	// Nothing due within Wait: the run returns without waiting for it.
	addEntries(t, sp, "hook", "later")
	es := entries(t, sp)
	es[0].Next = time.Now().Add(time.Hour)
	sp.Put(es[0])
	start = time.Now()
	if res, err := Flush(t.Context(), sp, []Route{sendRoute("hook", "json", rc.URL)}, FlushOptions{Wait: time.Minute}); err != nil || res.Pending != 1 || res.Delivered != 0 {
		t.Fatalf("flush %+v, %v", res, err)
	}
	if took := time.Since(start); took > 30*time.Second {
		t.Errorf("flush took %v waiting for an alert due after Wait", took)
	}
}

// spooledNow dates every entry of sp now, for a test on the real clock.
func spooledNow(t *testing.T, sp Spool) {
	t.Helper()
	for _, e := range entries(t, sp) {
		e.Spooled = time.Now()
		if err := sp.Put(e); err != nil {
			t.Fatal(err)
		}
	}
}

// TestFlushAll: by hand (All), every alert is tried at once, due or not.
func TestFlushAll(t *testing.T) {
	rc := newReceiver(t)
	sp := spoolOf(t, "hook", "a1", "a2")
	es := entries(t, sp)
	for _, e := range es {
		e.Next, e.Attempts = clockStart.Add(20*time.Minute), 3
		sp.Put(e)
	}
	r := sendRoute("hook", "json", rc.URL)
	if res := flush(t, sp, newClock(), nil, r); res.Delivered != 0 || res.Pending != 2 {
		t.Fatalf("not due: %+v", res)
	}
	res, err := Flush(t.Context(), sp, []Route{r}, FlushOptions{All: true, Now: newClock().Now})
	if err != nil || res.Delivered != 2 || res.Pending != 0 {
		t.Fatalf("all: %+v, %v", res, err)
	}
}

// TestFlushDrops: an alert whose route is gone, and one whose retry_for
// has passed when an attempt fails, are dropped and journaled; one that
// was never tried is tried however late.
func TestFlushDrops(t *testing.T) {
	rc := newReceiver(t)
	sp := spoolOf(t, "gone", "g1")
	addEntries(t, sp, "hook", "late")
	mem, c := &journal.Memory{}, newClock()
	c.Add(3 * time.Hour) // retry_for (1h) passed before the first attempt
	rc.reply = func(w http.ResponseWriter, _ *http.Request, _ int) bool {
		http.Error(w, "down", http.StatusBadGateway)
		return true
	}
	res := flush(t, sp, c, mem, sendRoute("hook", "json", rc.URL))
	if res.Dropped != 2 || res.Pending != 0 || len(rc.got()) != 1 {
		t.Fatalf("flush %+v, %d requests; want both dropped, the late one tried once", res, len(rc.got()))
	}
	ev := events(mem, journal.AlertDropped)
	reasons := ""
	for _, e := range ev {
		reasons += e.Fields["GOMAINT_ROUTE"] + ": " + e.Fields["GOMAINT_REASON"] + "\n"
	}
	if len(ev) != 2 || !strings.Contains(reasons, "gone: its route is no longer configured") || !strings.Contains(reasons, "hook: retry_for (1h) has passed") {
		t.Errorf("drop events:\n%s", reasons)
	}
	counts, _ := ReadCounts(sp.Dir, []Route{sendRoute("hook", "json", rc.URL)})
	if counts["hook"][Dropped] != 1 || len(counts) != 1 {
		t.Errorf("counts %v; want hook's one drop, no count for a route not configured", counts)
	}
}

// TestRetryWindow: retries back off from half a minute to half an hour,
// and the last one falls at the end of retry_for.
func TestRetryWindow(t *testing.T) {
	r := sendRoute("hook", "json", "http://x")
	r.RetryFor = 2 * time.Hour
	e := &Entry{Spooled: clockStart}
	now := clockStart
	var waits []time.Duration
	for {
		at := Attempt{Outcome: Failed, Err: fmt.Errorf("HTTP 500")}
		outcome, _ := settle(e, &r, &at, now)
		if outcome == Dropped {
			break
		}
		waits = append(waits, e.Next.Sub(now))
		now = e.Next
	}
	if waits[0] < 24*time.Second || waits[0] > 30*time.Second || waits[1] < 48*time.Second || waits[1] > time.Minute {
		t.Errorf("first waits %v; want 24-30s, then 48-60s", waits[:2])
	}
	for _, w := range waits {
		if w > maxBackoff {
			t.Errorf("a wait of %v; at most %v", w, maxBackoff)
		}
	}
	if !now.Equal(clockStart.Add(r.RetryFor)) {
		t.Errorf("dropped after an attempt at %v; want the last at the end of retry_for, %v", now, clockStart.Add(r.RetryFor))
	}
}

// TestConcurrentFlushes: two senders at once on one spool (the service
// and a person's flush) deliver each alert once between them.
func TestConcurrentFlushes(t *testing.T) {
	rc := newReceiver(t)
	rc.reply = func(http.ResponseWriter, *http.Request, int) bool { time.Sleep(20 * time.Millisecond); return false }
	var ids []string
	for i := range 30 {
		ids = append(ids, fmt.Sprintf("alert-%02d", i))
	}
	sp := spoolOf(t, "hook", ids...)
	addEntries(t, sp, "other", "o1", "o2", "o3")
	spooledNow(t, sp)
	routes := []Route{sendRoute("hook", "json", rc.URL), sendRoute("other", "json", rc.URL)}
	var wg sync.WaitGroup
	results := make([]FlushResult, 4)
	for i := range results {
		wg.Go(func() {
			res, err := Flush(t.Context(), sp, routes, FlushOptions{All: i%2 == 0})
			if err != nil {
				t.Error(err)
			}
			results[i] = res
		})
	}
	wg.Wait()
	delivered := 0
	for _, r := range results {
		delivered += r.Delivered
	}
	got := rc.acceptedIDs(t)
	if delivered != 33 || len(got) != 33 || len(rc.got()) != 33 {
		t.Errorf("%d delivered, %d requests, %d ids; want 33 each: %v", delivered, len(rc.got()), len(got), results)
	}
	for id, n := range got {
		if n != 1 {
			t.Errorf("alert %s delivered %d times", id, n)
		}
	}
	counts, _ := ReadCounts(sp.Dir, routes)
	if counts["hook"][Delivered] != 30 || counts["other"][Delivered] != 3 {
		t.Errorf("counts %v: concurrent senders lost a count", counts)
	}
}

// TestClaim: an entry another sender holds is busy; one replaced (by a
// rename) after it was opened is gone, so a stale copy is never attempted.
func TestClaim(t *testing.T) {
	sp := spoolOf(t, "hook", "a1")
	dfd := openDir(t, sp.Dir)
	name := entries(t, sp)[0].fileName()
	_, release, err := claim(dfd, name)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := claim(dfd, name); err != errBusy {
		t.Errorf("second claim: %v; want busy", err)
	}
	e := entries(t, sp)[0]
	e.Attempts = 1
	sp.Put(e) // as the holder does after a failed attempt
	release()
	if e, release, err := claim(dfd, name); err != nil || e.Attempts != 1 {
		t.Errorf("claim after the rewrite: %+v, %v", e, err)
	} else {
		release()
	}
	sp.Remove(e)
	if _, _, err := claim(dfd, name); err != errGone {
		t.Errorf("claim of a removed entry: %v; want gone", err)
	}
}

// TestReadCounts: the daemon reads only configured routes and known
// outcomes from the file the sender wrote, and refuses a link or a file
// too large.
func TestReadCounts(t *testing.T) {
	dir := t.TempDir()
	routes := []Route{{Name: "chat"}, {Name: "pager"}}
	write := func(s string) {
		os.Remove(filepath.Join(dir, CountsFile))
		if err := os.WriteFile(filepath.Join(dir, CountsFile), []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(`{"chat":{"delivered":5,"failed":2,"evil\"} 1\n":9},"other":{"delivered":1}}`)
	c, err := ReadCounts(dir, routes)
	if err != nil || len(c) != 2 || len(c["chat"]) != 3 || c["chat"][Delivered] != 5 || c["chat"][Failed] != 2 || c["pager"][Delivered] != 0 {
		t.Errorf("counts %v, %v", c, err)
	}
	write(strings.Repeat(" ", maxCounts+1))
	if c, err := ReadCounts(dir, routes); err == nil || c["chat"][Delivered] != 0 {
		t.Errorf("a huge file: %v, %v; want an error and zeros", c, err)
	}
	os.Remove(filepath.Join(dir, CountsFile))
	os.Symlink("/etc/passwd", filepath.Join(dir, CountsFile))
	if _, err := ReadCounts(dir, routes); err == nil {
		t.Error("a link: read; want refused")
	}
	if c, err := ReadCounts(filepath.Join(dir, "none"), routes); err != nil || c["pager"][Dropped] != 0 {
		t.Errorf("no spool: %v, %v; want zeros", c, err)
	}
}
